/**
 * Pure functions from StatefulSets, DaemonSets and their ControllerRevisions (as the API sends
 * them) to the small facts Hermod keeps (issue 11); Deployments and the rest are in ./trim.ts.
 * Every field is read null-safely, with the API's defaults where it has them.
 */
import type { V1ControllerRevision, V1DaemonSet, V1ObjectMeta, V1PodTemplateSpec, V1StatefulSet } from '@kubernetes/client-node';
import { DEFAULT_ANNOTATIONS, PROGRESS_DEADLINE_ANNOTATION, type AnnotationNames } from '../../machines/annotations.js';
import type { ControllerRevisionFacts, DaemonSetFacts, GitFacts, StatefulSetFacts } from '../../machines/facts.js';
import { ROLLING_UPDATE } from '../../machines/workloadRollout.js';
import { annotation, controllerUid, DEFAULT_REPLICAS, int, str, timeMs, workloadAnnotations } from './trim.js';
import { CHANGE_CAUSE_ANNOTATION, trimTemplate } from './trimTemplate.js';

/**
 * The label with the template hash on a DaemonSet's ControllerRevision (the daemonset controller
 * uses the pods' label name, `controller-revision-hash`); a StatefulSet's revisions carry
 * `controller.kubernetes.io/hash` instead, but its pods name the revision itself.
 */
export const DAEMONSET_REVISION_HASH_LABEL = 'controller-revision-hash';

interface Common {
  uid: string;
  namespace: string;
  name: string;
  generation: number;
  revision: null;
  git: GitFacts;
  alert?: string;
  channel?: string;
  mention?: string;
  progressDeadlineAnnotation?: string;
}

function common(meta: V1ObjectMeta | null | undefined, names: AnnotationNames): Common {
  const facts: Common = {
    uid: str(meta?.uid),
    namespace: str(meta?.namespace),
    name: str(meta?.name),
    generation: int(meta?.generation, 0),
    // Filled in from the ControllerRevisions when an observation is assembled (./setIndex.ts).
    revision: null,
    git: {},
  };
  // The same annotations as a Deployment's, and Hermod's own deadline.
  Object.assign(facts, workloadAnnotations(meta, names));
  const deadline = annotation(meta, PROGRESS_DEADLINE_ANNOTATION);
  if (deadline !== undefined) facts.progressDeadlineAnnotation = deadline;
  return facts;
}

/** `{ [key]: value }` for an IntOrString that is a finite number or a non-empty string, else nothing. */
function intOrPercent<K extends string>(key: K, value: unknown): Partial<Record<K, number | string>> {
  if ((typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value !== '')) return { [key]: value } as Record<K, number | string>;
  return {};
}

/** A StatefulSet's facts. */
export function trimStatefulSet(s: V1StatefulSet | null | undefined, names: AnnotationNames = DEFAULT_ANNOTATIONS): StatefulSetFacts {
  const strategy = s?.spec?.updateStrategy;
  const rollingUpdate = strategy?.rollingUpdate ?? null;
  const status = s?.status;
  return {
    ...common(s?.metadata, names),
    kind: 'StatefulSet',
    spec: {
      replicas: int(s?.spec?.replicas, DEFAULT_REPLICAS),
      // The API defaults the strategy to RollingUpdate.
      updateStrategy: str(strategy?.type) || ROLLING_UPDATE,
      rollingUpdate: rollingUpdate !== null,
      partition: typeof rollingUpdate?.partition === 'number' && Number.isFinite(rollingUpdate.partition) ? rollingUpdate.partition : null,
      // What the rolling update may wait on (machines/setRollingUpdate.ts), only when set.
      ...(typeof s?.spec?.podManagementPolicy === 'string' && s.spec.podManagementPolicy !== '' ? { podManagementPolicy: s.spec.podManagementPolicy } : {}),
      ...intOrPercent('maxUnavailable', rollingUpdate?.maxUnavailable),
    },
    status: {
      observedGeneration: int(status?.observedGeneration, 0),
      replicas: int(status?.replicas, 0),
      readyReplicas: int(status?.readyReplicas, 0),
      currentReplicas: int(status?.currentReplicas, 0),
      updatedReplicas: int(status?.updatedReplicas, 0),
      availableReplicas: int(status?.availableReplicas, 0),
      currentRevision: str(status?.currentRevision),
      updateRevision: str(status?.updateRevision),
    },
  };
}

/** A DaemonSet's facts. */
export function trimDaemonSet(d: V1DaemonSet | null | undefined, names: AnnotationNames = DEFAULT_ANNOTATIONS): DaemonSetFacts {
  const status = d?.status;
  return {
    ...common(d?.metadata, names),
    kind: 'DaemonSet',
    spec: {
      updateStrategy: str(d?.spec?.updateStrategy?.type) || ROLLING_UPDATE,
      ...intOrPercent('maxUnavailable', d?.spec?.updateStrategy?.rollingUpdate?.maxUnavailable),
      ...intOrPercent('maxSurge', d?.spec?.updateStrategy?.rollingUpdate?.maxSurge),
    },
    status: {
      observedGeneration: int(status?.observedGeneration, 0),
      desiredNumberScheduled: int(status?.desiredNumberScheduled, 0),
      currentNumberScheduled: int(status?.currentNumberScheduled, 0),
      updatedNumberScheduled: int(status?.updatedNumberScheduled, 0),
      numberReady: int(status?.numberReady, 0),
      numberAvailable: int(status?.numberAvailable, 0),
    },
  };
}

/** The kind of a ControllerRevision's controlling owner, when it is one Hermod tracks. */
export function revisionOwner(meta: V1ObjectMeta | null | undefined): { kind: 'StatefulSet' | 'DaemonSet'; uid: string } | undefined {
  const sts = controllerUid(meta, 'StatefulSet');
  if (sts !== undefined) return { kind: 'StatefulSet', uid: sts };
  const ds = controllerUid(meta, 'DaemonSet');
  return ds === undefined ? undefined : { kind: 'DaemonSet', uid: ds };
}

/**
 * A ControllerRevision's facts: its number, the hash its pods carry, when it was created and
 * last written (the start of the rollout to it, issue 11), and the pod template it holds
 * (`data.spec.template`), reduced like a ReplicaSet's for "what changed".
 */
export function trimControllerRevision(cr: V1ControllerRevision | null | undefined): ControllerRevisionFacts {
  const meta = cr?.metadata;
  const owner = revisionOwner(meta);
  const name = str(meta?.name);
  // A StatefulSet's pods carry the revision's name; a DaemonSet's its hash label.
  const podHash = owner?.kind === 'DaemonSet' ? str(meta?.labels?.[DAEMONSET_REVISION_HASH_LABEL]) : name;
  const facts: ControllerRevisionFacts = {
    uid: str(meta?.uid),
    namespace: str(meta?.namespace),
    name,
    revision: int(cr?.revision, 0),
    revisionHistory: [],
    podHash,
  };
  if (owner !== undefined) facts.ownerUid = owner.uid;
  const created = timeMs(meta?.creationTimestamp);
  if (created !== undefined) facts.created = created;
  // The newest write (a rollback's renumbering shows only here).
  let written: number | undefined;
  for (const entry of meta?.managedFields ?? []) {
    const at = timeMs(entry?.time);
    if (at !== undefined && (written === undefined || at > written)) written = at;
  }
  if (written !== undefined) facts.written = written;
  const data = cr?.data as { spec?: { template?: V1PodTemplateSpec } } | null | undefined;
  const template = data?.spec?.template;
  if (template != null && typeof template === 'object') facts.template = trimTemplate(template, annotation(meta, CHANGE_CAUSE_ANNOTATION));
  return facts;
}
