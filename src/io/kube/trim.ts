/**
 * Pure functions from Kubernetes objects (client-node's model types, but as the API sends
 * them: plain JSON, timestamps as RFC 3339 strings) to the small facts Hermod keeps.
 *
 * Every field is read null-safely: a Deployment without status, with empty conditions or
 * without annotations is normal (the original crashed on empty conditions). Timestamps may
 * be strings (raw JSON) or Date objects (client-node's deserialised models); both are read.
 */
import type {
  CoreV1Event,
  V1ContainerState,
  V1ContainerStatus,
  V1Deployment,
  V1Namespace,
  V1ObjectMeta,
  V1Pod,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import type {
  ConditionFacts,
  ContainerFacts,
  ContainerStateFacts,
  DeploymentFacts,
  EventFacts,
  PodFacts,
  ReplicaSetFacts,
} from '../../machines/facts.js';
import { CHANGE_CAUSE_ANNOTATION, trimTemplate } from './trimTemplate.js';
import {
  ALERT_ANNOTATION,
  DEFAULT_ANNOTATIONS,
  MENTION_ANNOTATION,
  PROGRESS_DEADLINE_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  SLACK_ANNOTATION,
  type AnnotationNames,
} from '../../machines/annotations.js';

/** The API's default for spec.replicas. */
export const DEFAULT_REPLICAS = 1;
/** The API's default for spec.progressDeadlineSeconds. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/** What Hermod keeps about a Namespace: whether and where to notify. */
export interface NamespaceFacts {
  uid: string;
  name: string;
  /** `hermod.uswitch.com/slack`, trimmed; absent when missing or blank (= not tracked). */
  channel?: string;
  /** `hermod.uswitch.com/alert`, trimmed; absent when missing or blank. */
  alert?: string;
  /** `hermod.uswitch.com/mention`, trimmed; absent when missing or blank. */
  mention?: string;
  /** `hermod.uswitch.com/progress-deadline-seconds`, trimmed (raw; parsed where it is used). */
  progressDeadline?: string;
}

// A condition as any of the three kinds sends it; every field optional on purpose.
interface RawCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: unknown;
  lastTransitionTime?: unknown;
}

/** A Namespace's tracking facts. */
export function trimNamespace(ns: V1Namespace | null | undefined): NamespaceFacts {
  const meta = ns?.metadata;
  const facts: NamespaceFacts = { uid: str(meta?.uid), name: str(meta?.name) };
  const channel = annotation(meta, SLACK_ANNOTATION);
  if (channel !== undefined) facts.channel = channel;
  const alert = annotation(meta, ALERT_ANNOTATION);
  if (alert !== undefined) facts.alert = alert;
  const mention = annotation(meta, MENTION_ANNOTATION);
  if (mention !== undefined) facts.mention = mention;
  const deadline = annotation(meta, PROGRESS_DEADLINE_ANNOTATION);
  if (deadline !== undefined) facts.progressDeadline = deadline;
  return facts;
}

/** True when the namespace carries a non-blank `hermod.uswitch.com/slack` annotation. */
export function isTrackedNamespace(ns: V1Namespace | null | undefined): boolean {
  return annotation(ns?.metadata, SLACK_ANNOTATION) !== undefined;
}

/** A Deployment's facts; git annotation names are configurable. */
export function trimDeployment(
  d: V1Deployment | null | undefined,
  names: AnnotationNames = DEFAULT_ANNOTATIONS,
): DeploymentFacts {
  const meta = d?.metadata;
  const spec = d?.spec;
  const status = d?.status;
  const facts: DeploymentFacts = {
    uid: str(meta?.uid),
    namespace: str(meta?.namespace),
    name: str(meta?.name),
    generation: int(meta?.generation, 0),
    revision: revisionOf(meta),
    git: {},
    spec: {
      replicas: int(spec?.replicas, DEFAULT_REPLICAS),
      paused: spec?.paused === true,
      progressDeadlineSeconds: int(spec?.progressDeadlineSeconds, DEFAULT_PROGRESS_DEADLINE_SECONDS),
    },
    status: {
      observedGeneration: int(status?.observedGeneration, 0),
      replicas: int(status?.replicas, 0),
      updatedReplicas: int(status?.updatedReplicas, 0),
      readyReplicas: int(status?.readyReplicas, 0),
      availableReplicas: int(status?.availableReplicas, 0),
      unavailableReplicas: int(status?.unavailableReplicas, 0),
      conditions: conditions(status?.conditions),
    },
  };
  return Object.assign(facts, workloadAnnotations(meta, names));
}

/**
 * The annotations Hermod reads on a workload of any kind (its own alert, channel and mentions
 * win over its namespace's; the git annotations as configured). Absent ones stay absent.
 */
export function workloadAnnotations(meta: V1ObjectMeta | null | undefined, names: AnnotationNames): Pick<DeploymentFacts, 'git' | 'alert' | 'channel' | 'mention'> {
  const out: Pick<DeploymentFacts, 'git' | 'alert' | 'channel' | 'mention'> = { git: {} };
  const alert = annotation(meta, ALERT_ANNOTATION);
  if (alert !== undefined) out.alert = alert;
  const channel = annotation(meta, SLACK_ANNOTATION);
  if (channel !== undefined) out.channel = channel;
  const mention = annotation(meta, MENTION_ANNOTATION);
  if (mention !== undefined) out.mention = mention;
  const sha = annotation(meta, names.commitSha);
  if (sha !== undefined) out.git.sha = sha;
  const repo = annotation(meta, names.repoUrl);
  if (repo !== undefined) out.git.repo = repo;
  return out;
}

/** A ReplicaSet's facts; ownerUid is the controlling Deployment's uid. */
export function trimReplicaSet(rs: V1ReplicaSet | null | undefined): ReplicaSetFacts {
  const meta = rs?.metadata;
  const status = rs?.status;
  const facts: ReplicaSetFacts = {
    uid: str(meta?.uid),
    namespace: str(meta?.namespace),
    name: str(meta?.name),
    revision: revisionOf(meta),
    revisionHistory: revisionHistory(meta),
    replicas: int(rs?.spec?.replicas, DEFAULT_REPLICAS),
    status: {
      replicas: int(status?.replicas, 0),
      readyReplicas: int(status?.readyReplicas, 0),
      availableReplicas: int(status?.availableReplicas, 0),
      conditions: conditions(status?.conditions),
    },
  };
  const owner = controllerUid(meta, 'Deployment');
  if (owner !== undefined) facts.ownerUid = owner;
  if (rs?.spec?.template != null) facts.template = trimTemplate(rs.spec.template, annotation(meta, CHANGE_CAUSE_ANNOTATION));
  return facts;
}

/** A Pod's facts: phase, conditions, and each (init) container's state. */
export function trimPod(pod: V1Pod | null | undefined): PodFacts {
  const meta = pod?.metadata;
  const status = pod?.status;
  const facts: PodFacts = {
    uid: str(meta?.uid),
    namespace: str(meta?.namespace),
    name: str(meta?.name),
    // A Pod the API has just accepted may not carry a phase yet: it is pending.
    phase: str(status?.phase) || 'Pending',
    deleting: meta?.deletionTimestamp != null,
    containers: [
      ...containers(status?.initContainerStatuses, true),
      ...containers(status?.containerStatuses, false),
    ],
    conditions: conditions(status?.conditions),
  };
  // A ReplicaSet's pods (Deployments), or a StatefulSet's or DaemonSet's, with the revision they were made from.
  const owner = controllerUid(meta, 'ReplicaSet') ?? controllerUid(meta, 'StatefulSet') ?? controllerUid(meta, 'DaemonSet');
  if (owner !== undefined) facts.ownerUid = owner;
  const hash = meta?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  if (typeof hash === 'string' && hash !== '') facts.revisionHash = hash;
  const node = pod?.spec?.nodeName;
  if (typeof node === 'string' && node !== '') facts.node = node;
  return facts;
}

/** The label the StatefulSet and DaemonSet controllers put on each pod: which ControllerRevision made it. */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

/** A (Warning) Event's facts. lastSeen falls back through the event's several timestamps. */
export function trimEvent(ev: CoreV1Event | null | undefined): EventFacts {
  const involved = ev?.involvedObject;
  const facts: EventFacts = {
    namespace: str(ev?.metadata?.namespace) || str(involved?.namespace),
    involvedKind: str(involved?.kind),
    involvedName: str(involved?.name),
    reason: str(ev?.reason),
    message: str(ev?.message),
    // events.k8s.io-style series carry the real count; core `count` otherwise; 1 at least.
    count: Math.max(1, int(ev?.series?.count, int(ev?.count, 1))),
    lastSeen: eventLastSeen(ev),
  };
  const uid = str(involved?.uid);
  if (uid) facts.involvedUid = uid;
  return facts;
}

/** ms since the epoch of the newest timestamp an Event carries; 0 when it carries none. */
export function eventLastSeen(ev: CoreV1Event | null | undefined): number {
  const candidates: unknown[] = [
    ev?.series?.lastObservedTime,
    ev?.lastTimestamp,
    ev?.eventTime,
    ev?.firstTimestamp,
    ev?.metadata?.creationTimestamp,
  ];
  for (const c of candidates) {
    const ms = timeMs(c);
    if (ms !== undefined) return ms;
  }
  return 0;
}

/** uid of the controlling owner of the given kind (ownerReferences with controller=true). */
export function controllerUid(meta: V1ObjectMeta | null | undefined, kind: string): string | undefined {
  const refs = meta?.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  for (const ref of refs) {
    if (ref?.controller === true && ref.kind === kind && typeof ref.uid === 'string' && ref.uid) return ref.uid;
  }
  return undefined;
}

/** `deployment.kubernetes.io/revision` as a number; null when absent or not a number. */
export function revisionOf(meta: V1ObjectMeta | null | undefined): number | null {
  const raw = meta?.annotations?.[REVISION_ANNOTATION];
  return parseRevision(raw);
}

function revisionHistory(meta: V1ObjectMeta | null | undefined): number[] {
  const raw = meta?.annotations?.[REVISION_HISTORY_ANNOTATION];
  if (typeof raw !== 'string' || raw.trim() === '') return [];
  const out: number[] = [];
  for (const part of raw.split(',')) {
    const n = parseRevision(part);
    if (n !== null) out.push(n);
  }
  return out;
}

function parseRevision(raw: unknown): number | null {
  if (typeof raw !== 'string') return null;
  const s = raw.trim();
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

function conditions(list: readonly RawCondition[] | null | undefined): ConditionFacts[] {
  if (!Array.isArray(list)) return [];
  const out: ConditionFacts[] = [];
  for (const c of list as readonly (RawCondition | null | undefined)[]) {
    if (c == null) continue;
    const facts: ConditionFacts = { type: str(c.type), status: str(c.status) || 'Unknown' };
    if (c.reason) facts.reason = String(c.reason);
    if (c.message) facts.message = String(c.message);
    const when = timeIso(c.lastUpdateTime) ?? timeIso(c.lastTransitionTime);
    if (when !== undefined) facts.lastUpdateTime = when;
    out.push(facts);
  }
  return out;
}

function containers(list: readonly V1ContainerStatus[] | null | undefined, init: boolean): ContainerFacts[] {
  if (!Array.isArray(list)) return [];
  const out: ContainerFacts[] = [];
  for (const c of list as readonly (V1ContainerStatus | null | undefined)[]) {
    if (c == null) continue;
    const facts: ContainerFacts = {
      name: str(c.name),
      init,
      ready: c.ready === true,
      restartCount: int(c.restartCount, 0),
    };
    if (c.image) facts.image = String(c.image);
    const waiting = stateFacts(c.state, 'waiting');
    if (waiting) facts.waiting = waiting;
    const terminated = stateFacts(c.state, 'terminated');
    if (terminated) facts.terminated = terminated;
    const last = stateFacts(c.lastState, 'terminated');
    if (last) facts.lastTerminated = last;
    out.push(facts);
  }
  return out;
}

function stateFacts(
  state: V1ContainerState | null | undefined,
  which: 'waiting' | 'terminated',
): ContainerStateFacts | undefined {
  const s = state?.[which] as { reason?: string; message?: string; exitCode?: number } | null | undefined;
  if (s == null) return undefined;
  const facts: ContainerStateFacts = {};
  if (s.reason) facts.reason = String(s.reason);
  if (s.message) facts.message = String(s.message);
  if (typeof s.exitCode === 'number' && Number.isFinite(s.exitCode)) facts.exitCode = s.exitCode;
  return facts;
}

/** A non-blank annotation value, trimmed; undefined otherwise. */
export function annotation(meta: V1ObjectMeta | null | undefined, name: string): string | undefined {
  const v = meta?.annotations?.[name];
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function int(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

export function timeMs(v: unknown): number | undefined {
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof v === 'string' && v !== '') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function timeIso(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  const ms = timeMs(v);
  // Deserialised Dates: print them the way the API does (seconds, Z), so facts compare equal.
  return ms === undefined ? undefined : new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}
