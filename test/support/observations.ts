/**
 * Builders of RolloutObservations shaped like what the deployment controller reports at each
 * step of a rollout, for unit and model-based tests of the statecharts.
 */
import type { DeploymentFacts, DeploymentObservation, PodFacts, ReplicaSetFacts } from '../../src/machines/facts.js';

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

function crashingPod(rs: ReplicaSetFacts, index: number): PodFacts {
  return {
    uid: `${rs.uid}-pod${index}`,
    namespace: rs.namespace,
    name: `${rs.name}-pod${index}`,
    ownerUid: rs.uid,
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
