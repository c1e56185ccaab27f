/**
 * Builders of RolloutObservations shaped like what the deployment controller reports at each
 * step of a rollout, for unit and model-based tests of the statecharts.
 */
import type {
  ControllerRevisionFacts,
  DaemonSetFacts,
  DeploymentFacts,
  DeploymentObservation,
  PodFacts,
  ReplicaSetFacts,
  RolloutObservation,
  StatefulSetFacts,
  WorkloadKind,
} from '../../src/machines/facts.js';

export interface RolloutStep {
  namespace?: string;
  name?: string;
  uid?: string;
  revision: number | null;
  replicas?: number;
  /** Replicas of the new template. */
  updated?: number;
  available?: number;
  /** Old replicas still running. */
  old?: number;
  observed?: boolean;
  paused?: boolean;
  deadlineExceeded?: boolean;
  /** Pods of the new ReplicaSet in CrashLoopBackOff (they count as not available). */
  crashing?: number;
  channel?: string;
  alert?: 'all' | 'failure';
  /** The target's mentions (as src/machines/mentions.ts emits them). */
  mentions?: string[];
  at: number;
  git?: { sha?: string; repo?: string };
  /** StatefulSets and DaemonSets: spec.updateStrategy.type is OnDelete. */
  onDelete?: boolean;
  /** StatefulSets: spec.updateStrategy.rollingUpdate.partition (default 0). */
  partition?: number;
  /** StatefulSets and DaemonSets: Hermod's deadline as the watch layer resolved it (default 600). */
  deadlineSeconds?: number;
}

export function deploymentFacts(step: RolloutStep): DeploymentFacts {
  const replicas = step.replicas ?? 2;
  const updated = step.updated ?? 0;
  const available = step.available ?? 0;
  const old = step.old ?? 0;
  const generation = step.revision ?? 1;
  const conditions = [
    {
      type: 'Progressing',
      status: step.deadlineExceeded ? 'False' : 'True',
      reason: step.deadlineExceeded
        ? 'ProgressDeadlineExceeded'
        : updated === replicas && available === replicas && old === 0
          ? 'NewReplicaSetAvailable'
          : 'ReplicaSetUpdated',
      message: `ReplicaSet "${step.name ?? 'web'}-rs${step.revision ?? 0}" is progressing.`,
    },
  ];
  return {
    uid: step.uid ?? 'uid-web',
    namespace: step.namespace ?? 'shop',
    name: step.name ?? 'web',
    generation,
    revision: step.revision,
    git: step.git ?? {},
    spec: { replicas, paused: step.paused ?? false, progressDeadlineSeconds: 600 },
    status: {
      observedGeneration: step.observed === false ? generation - 1 : generation,
      replicas: updated + old,
      updatedReplicas: updated,
      readyReplicas: available,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, replicas - available),
      conditions,
    },
  };
}

function crashingPod(rs: { uid: string; namespace: string; name: string }, index: number, extra: Partial<PodFacts> = {}): PodFacts {
  return {
    uid: `${rs.uid}-pod${index}`,
    namespace: rs.namespace,
    name: `${rs.name}-pod${index}`,
    ownerUid: rs.uid,
    ...extra,
    phase: 'Running',
    deleting: false,
    containers: [
      {
        name: 'app',
        init: false,
        ready: false,
        restartCount: 3,
        waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app' },
        lastTerminated: { reason: 'Error', exitCode: 1 },
      },
    ],
    conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' }],
  };
}

export function observation(step: RolloutStep): DeploymentObservation {
  const deployment = deploymentFacts(step);
  const rs: ReplicaSetFacts | null =
    step.revision === null
      ? null
      : {
          uid: `${deployment.uid}-rs${step.revision}`,
          namespace: deployment.namespace,
          name: `${deployment.name}-rs${step.revision}`,
          ownerUid: deployment.uid,
          revision: step.revision,
          revisionHistory: [],
          replicas: deployment.spec.replicas,
          status: {
            replicas: deployment.status.updatedReplicas,
            readyReplicas: deployment.status.availableReplicas,
            availableReplicas: deployment.status.availableReplicas,
            conditions: [],
          },
        };
  const pods = rs === null ? [] : Array.from({ length: step.crashing ?? 0 }, (_, i) => crashingPod(rs, i));
  return {
    at: step.at,
    deployment,
    newReplicaSet: rs,
    pods,
    warnings: [],
    target: { channel: step.channel ?? 'deploys', alert: step.alert ?? 'all', ...(step.mentions !== undefined ? { mentions: step.mentions } : {}) },
  };
}

/**
 * The same abstract step for a StatefulSet or a DaemonSet: what their controllers report (the
 * new ControllerRevision `web-r<revision>`, updated/ready counts), and crashing pods of the new
 * revision (label controller-revision-hash). For a Deployment, {@link observation}.
 */
export function workloadObservation(kind: WorkloadKind, step: RolloutStep): RolloutObservation {
  if (kind === 'Deployment') return observation(step);
  const replicas = step.replicas ?? 2;
  const updated = step.updated ?? 0;
  const available = step.available ?? 0;
  const old = step.old ?? 0;
  const generation = step.revision ?? 1;
  const observedGeneration = step.observed === false ? generation - 1 : generation;
  const uid = step.uid ?? 'uid-web';
  const namespace = step.namespace ?? 'shop';
  const name = step.name ?? 'web';
  const strategy = step.onDelete === true ? 'OnDelete' : 'RollingUpdate';
  const revisionName = step.revision === null ? '' : `${name}-r${step.revision}`;
  const newRevision: ControllerRevisionFacts | null =
    step.revision === null ? null : { uid: `${uid}-cr${step.revision}`, namespace, name: revisionName, ownerUid: uid, revision: step.revision, revisionHistory: [], podHash: revisionName };
  const base = { uid, namespace, name, generation, revision: step.revision, git: step.git ?? {} };
  let workload: StatefulSetFacts | DaemonSetFacts;
  if (kind === 'StatefulSet') {
    workload = {
      ...base,
      kind,
      spec: { replicas, updateStrategy: strategy, rollingUpdate: strategy === 'RollingUpdate', partition: strategy === 'RollingUpdate' ? (step.partition ?? 0) : null },
      status: {
        observedGeneration,
        replicas: updated + old,
        // The StatefulSet's own count mixes old and new pods, as the controller's does.
        readyReplicas: Math.min(replicas, available),
        currentReplicas: old,
        updatedReplicas: updated,
        availableReplicas: Math.min(replicas, available),
        currentRevision: updated === replicas && old === 0 ? revisionName : `${name}-old`,
        updateRevision: revisionName,
      },
    };
  } else {
    workload = {
      ...base,
      kind,
      spec: { updateStrategy: strategy },
      status: {
        observedGeneration,
        desiredNumberScheduled: replicas,
        currentNumberScheduled: updated + old,
        updatedNumberScheduled: updated,
        numberReady: Math.min(replicas, available),
        numberAvailable: Math.min(replicas, available),
      },
    };
  }
  const owner = { uid, namespace, name: revisionName };
  // A StatefulSet replaces pods highest ordinal first, so its new pods are the top ordinals.
  const podName = (i: number): Partial<PodFacts> => (kind === 'StatefulSet' ? { name: `${name}-${replicas - 1 - i}` } : {});
  const pods =
    newRevision === null ? [] : Array.from({ length: step.crashing ?? 0 }, (_, i) => crashingPod(owner, i, { ownerUid: uid, revisionHash: revisionName, ...podName(i) }));
  return {
    at: step.at,
    deployment: workload,
    newReplicaSet: null,
    newRevision,
    previousRevision: null,
    pods,
    warnings: [],
    target: { channel: step.channel ?? 'deploys', alert: step.alert ?? 'all' },
    progressDeadlineSeconds: step.deadlineSeconds ?? 600,
  };
}
