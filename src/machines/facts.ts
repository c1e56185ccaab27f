/**
 * The facts Hermod keeps about Kubernetes objects: small, plain, serialisable shapes trimmed
 * from the watch caches in src/io/kube. Only the fields Hermod's decisions and messages read
 * are kept, so memory follows what Hermod needs rather than the size of a Pod spec.
 *
 * Nothing here imports a Kubernetes client type: src/machines stays pure.
 */

/** A status condition (Deployment, ReplicaSet or Pod), trimmed. */
export interface ConditionFacts {
  type: string;
  /** "True" | "False" | "Unknown" as the API reports it. */
  status: string;
  reason?: string;
  message?: string;
  /** RFC 3339 timestamp as the API reports it (lastUpdateTime, else lastTransitionTime). */
  lastUpdateTime?: string;
}

/** The git annotations of a Deployment, read with the configurable annotation names. */
export interface GitFacts {
  sha?: string;
  repo?: string;
}

/** The workload kinds Hermod tracks; one statechart serves all three (./deploymentMachine.ts). */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** What every tracked workload kind has in common: identity and the annotations Hermod reads on it. */
interface WorkloadIdentity {
  uid: string;
  namespace: string;
  name: string;
  /** metadata.generation (0 when absent). */
  generation: number;
  /** `hermod.uswitch.com/alert` on the workload, if present (wins over the namespace's). */
  alert?: string;
  /** `hermod.uswitch.com/slack` on the workload, if present: its own channel (wins over the namespace's). */
  channel?: string;
  /** `hermod.uswitch.com/mention` on the workload, as written (wins over the namespace's); see ./mentions.ts. */
  mention?: string;
  git: GitFacts;
}

export interface DeploymentFacts extends WorkloadIdentity {
  /** Absent in facts written before Hermod tracked other kinds: a Deployment. */
  kind?: 'Deployment';
  /** `deployment.kubernetes.io/revision`, null before the controller has set it. */
  revision: number | null;
  spec: {
    /** spec.replicas; the API defaults it to 1 when absent. */
    replicas: number;
    paused: boolean;
    /** spec.progressDeadlineSeconds; the API defaults it to 600. */
    progressDeadlineSeconds: number;
  };
  status: {
    observedGeneration: number;
    replicas: number;
    updatedReplicas: number;
    readyReplicas: number;
    availableReplicas: number;
    unavailableReplicas: number;
    conditions: ConditionFacts[];
  };
}

/** What StatefulSets and DaemonSets have in common. */
interface WorkloadMeta extends WorkloadIdentity {
  /**
   * The `revision` number of the ControllerRevision the rollout goes to (StatefulSet: the one named
   * `status.updateRevision`; DaemonSet: the newest), filled in by the watch layer from its cache;
   * null until that ControllerRevision is known.
   */
  revision: number | null;
  /** `hermod.uswitch.com/progress-deadline-seconds` on the workload, raw, if present. */
  progressDeadlineAnnotation?: string;
}

/** A StatefulSet, trimmed: what `kubectl rollout status statefulset/NAME` reads, and its revisions. */
export interface StatefulSetFacts extends WorkloadMeta {
  kind: 'StatefulSet';
  spec: {
    /** spec.replicas; the API defaults it to 1. */
    replicas: number;
    /** spec.updateStrategy.type: `RollingUpdate` (the default) or `OnDelete`. */
    updateStrategy: string;
    /** spec.updateStrategy.rollingUpdate is set (the API sets it, with partition 0, for RollingUpdate). */
    rollingUpdate: boolean;
    /** spec.updateStrategy.rollingUpdate.partition, null when absent. */
    partition: number | null;
    /** spec.podManagementPolicy when set: `OrderedReady` (the API's default) or `Parallel`. */
    podManagementPolicy?: string;
    /** spec.updateStrategy.rollingUpdate.maxUnavailable when set: a count or a percentage (`25%`); the controller's default is 1. */
    maxUnavailable?: number | string;
  };
  status: {
    observedGeneration: number;
    replicas: number;
    readyReplicas: number;
    currentReplicas: number;
    updatedReplicas: number;
    availableReplicas: number;
    /** ControllerRevision names (`<name>-<hash>`), '' when absent. */
    currentRevision: string;
    updateRevision: string;
  };
}

/** A DaemonSet, trimmed: what `kubectl rollout status daemonset/NAME` reads. */
export interface DaemonSetFacts extends WorkloadMeta {
  kind: 'DaemonSet';
  spec: {
    /** spec.updateStrategy.type: `RollingUpdate` (the default) or `OnDelete`. */
    updateStrategy: string;
    /** spec.updateStrategy.rollingUpdate.maxUnavailable when set: a count or a percentage; the API's default is 1. */
    maxUnavailable?: number | string;
    /** spec.updateStrategy.rollingUpdate.maxSurge when set: a count or a percentage; the API's default is 0. */
    maxSurge?: number | string;
  };
  status: {
    observedGeneration: number;
    desiredNumberScheduled: number;
    currentNumberScheduled: number;
    updatedNumberScheduled: number;
    numberReady: number;
    numberAvailable: number;
  };
}

/** A tracked workload of any kind. */
export type WorkloadFacts = DeploymentFacts | StatefulSetFacts | DaemonSetFacts;

/** The kind of a workload's facts (Deployment facts may predate the field). */
export function kindOf(w: { kind?: WorkloadKind }): WorkloadKind {
  return w.kind ?? 'Deployment';
}

/**
 * A ControllerRevision of a StatefulSet or DaemonSet, trimmed: the history those controllers
 * keep (a Deployment's is its ReplicaSets). `kubectl rollout undo` gives an existing one a new
 * `revision` number rather than creating one.
 */
export interface ControllerRevisionFacts {
  uid: string;
  namespace: string;
  name: string;
  /** uid of the controlling StatefulSet or DaemonSet. */
  ownerUid?: string;
  /** The `revision` field: higher is newer. */
  revision: number;
  /**
   * Earlier `revision` numbers this template had (a rollback renumbers it): seen while Hermod
   * watched, or inferred from the owner's other revisions (./workloadRollout.ts, `inferredRollbackFrom`).
   */
  revisionHistory: number[];
  /** metadata.creationTimestamp, ms since the epoch, when known. */
  created?: number;
  /**
   * When the controller last wrote it (the newest `metadata.managedFields[].time`), ms since the
   * epoch, when known: a rollback renumbers an old revision, which leaves its creationTimestamp
   * alone but stamps this.
   */
  written?: number;
  /**
   * The `controller-revision-hash` label value the revision's pods carry: the
   * ControllerRevision's name for a StatefulSet, its `controller.kubernetes.io/hash` label for a DaemonSet.
   */
  podHash: string;
  template?: TemplateFacts;
}

export interface ReplicaSetFacts {
  uid: string;
  namespace: string;
  name: string;
  /** uid of the controlling Deployment (ownerReferences with controller=true). */
  ownerUid?: string;
  /** `deployment.kubernetes.io/revision`. */
  revision: number | null;
  /** `deployment.kubernetes.io/revision-history`: earlier revisions this template had (set by a rollback). */
  revisionHistory: number[];
  /** spec.replicas */
  replicas: number;
  status: {
    replicas: number;
    readyReplicas: number;
    availableReplicas: number;
    conditions: ConditionFacts[];
  };
  /** What the pod template holds, for "what changed" between two revisions; absent in older facts. */
  template?: TemplateFacts;
}

/** One (init) container of a pod template: its name and image. */
export interface TemplateContainer {
  name: string;
  init: boolean;
  image: string;
}

/**
 * A ReplicaSet's pod template, reduced to what "what changed" needs: the images, the
 * `kubernetes.io/change-cause` annotation, and a fingerprint (field path -> short hash) of
 * everything else, so two templates can be compared without keeping them.
 */
export interface TemplateFacts {
  containers: TemplateContainer[];
  /** `kubernetes.io/change-cause` on the ReplicaSet (copied from the Deployment), when set. */
  changeCause?: string;
  /** Field path (e.g. `spec.containers[api].env`) -> hash of its value; images are left out. */
  fingerprint: Record<string, string>;
}

export interface ContainerStateFacts {
  reason?: string;
  message?: string;
  exitCode?: number;
}

export interface ContainerFacts {
  name: string;
  /** An init container. */
  init: boolean;
  ready: boolean;
  restartCount: number;
  image?: string;
  waiting?: ContainerStateFacts;
  terminated?: ContainerStateFacts;
  /** lastState.terminated: why the previous run ended (exit code, OOMKilled). */
  lastTerminated?: ContainerStateFacts;
}

export interface PodFacts {
  uid: string;
  namespace: string;
  name: string;
  /** uid of the controlling ReplicaSet (or StatefulSet, DaemonSet). */
  ownerUid?: string;
  /** The `controller-revision-hash` label (pods of StatefulSets and DaemonSets), if set. */
  revisionHash?: string;
  /** spec.nodeName: the Node it is bound to, once scheduled. */
  node?: string;
  phase: string;
  /** metadata.deletionTimestamp is set. */
  deleting: boolean;
  containers: ContainerFacts[];
  conditions: ConditionFacts[];
}

/** A Warning Event about a Pod or ReplicaSet, trimmed. */
export interface EventFacts {
  namespace: string;
  involvedKind: string;
  involvedName: string;
  involvedUid?: string;
  reason: string;
  message: string;
  count: number;
  /** Last time seen, ms since the epoch. */
  lastSeen: number;
}

/**
 * Where a Deployment's notifications go, resolved from its namespace and its own annotations
 * (the Deployment's win). The namespace's channel annotation alone decides whether it is tracked.
 */
export interface NotifyTarget {
  /** `hermod.uswitch.com/slack` on the Deployment, else on its namespace: a channel name or ID. */
  channel: string;
  /** `failure`: post only failures. The Deployment's annotation wins over the namespace's. */
  alert: AlertLevel;
  /**
   * Slack mentions (`<@U…>`, `<!subteam^S…>`) for a failing or failed rollout, from the
   * `hermod.uswitch.com/mention` annotation (the Deployment's wins); absent when none or refused.
   */
  mentions?: string[];
}

export type AlertLevel = 'all' | 'failure';

/**
 * Everything one workload actor needs to decide, assembled by the watch layer from its
 * caches each time the workload, its new ReplicaSet or ControllerRevision, that revision's
 * Pods or their Warning events change.
 */
export interface RolloutObservation {
  /** When the watch layer assembled this observation, ms since the epoch. */
  at: number;
  /**
   * The workload: a Deployment, StatefulSet or DaemonSet (`kind`). The field keeps the name of
   * the first kind Hermod tracked: every layer reads it, and renaming it buys nothing.
   */
  deployment: WorkloadFacts;
  /** The ReplicaSet whose revision equals the Deployment's, once the controller made it (Deployments only). */
  newReplicaSet: ReplicaSetFacts | null;
  /** The Deployment's ReplicaSet with the highest revision below the new one (what it replaces), if kept. */
  previousReplicaSet?: ReplicaSetFacts | null;
  /** StatefulSets and DaemonSets: the ControllerRevision the rollout goes to, once known. */
  newRevision?: ControllerRevisionFacts | null;
  /** StatefulSets and DaemonSets: the revision it replaces (highest below the new one), if kept. */
  previousRevision?: ControllerRevisionFacts | null;
  /** Pods of the new ReplicaSet, or of the new ControllerRevision (label controller-revision-hash). */
  pods: PodFacts[];
  /**
   * StatefulSets and DaemonSets: the set's other pods (other revisions), once the new revision is
   * known. A StatefulSet's rolling update can wait on one of them (./setRollingUpdate.ts).
   */
  otherPods?: PodFacts[];
  /** Recent Warning events about those Pods and the new ReplicaSet (or the StatefulSet/DaemonSet). */
  warnings: EventFacts[];
  target: NotifyTarget;
  /**
   * Hermod's own deadline for StatefulSets and DaemonSets, in seconds, resolved by the watch
   * layer (annotation on the workload, else its namespace, else `--progress-deadline-seconds`).
   */
  progressDeadlineSeconds?: number;
}

/** An observation of a Deployment (the watch layer's and the tests' most common case). */
export type DeploymentObservation = RolloutObservation & { deployment: DeploymentFacts };

/** True for Deployment facts (`kind` absent or `Deployment`). */
export function isDeploymentFacts(w: WorkloadFacts): w is DeploymentFacts {
  return w.kind === undefined || w.kind === 'Deployment';
}

/**
 * The name of a workload actor within its namespace: the Deployment's name (as before other
 * kinds were tracked), `StatefulSet/NAME` or `DaemonSet/NAME`, so a Deployment and a
 * StatefulSet of the same name never share an actor.
 */
export function actorName(w: { name: string; kind?: WorkloadKind }): string {
  const kind = w.kind ?? 'Deployment';
  return kind === 'Deployment' ? w.name : `${kind}/${w.name}`;
}

/** `namespace/name` (`namespace/Kind/name` for StatefulSets and DaemonSets): the key of a workload actor. */
export function deploymentKey(d: { namespace: string; name: string; kind?: WorkloadKind }): string {
  return `${d.namespace}/${actorName(d)}`;
}
