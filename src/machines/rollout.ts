/**
 * Pure decisions about one Deployment rollout, read from trimmed facts.
 *
 * `rolloutStatus` follows `kubectl rollout status` (k8s.io/kubectl
 * pkg/polymorphichelpers/rollout_status.go, DeploymentStatusViewer) branch for branch and
 * word for word, so Hermod says "done" exactly when the tool people already trust does.
 */
import type { ConditionFacts, DeploymentFacts, ReplicaSetFacts, WorkloadFacts } from './facts.js';
import type { RolloutProgress } from './notification.js';

/** The Progressing condition reason the deployment controller sets when the deadline passes. */
export const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

/**
 * Where a rollout stands, as `kubectl rollout status` would say it.
 * - specNotObserved: the controller has not yet seen the latest spec (generation > observedGeneration).
 * - progressing: observed, not finished; the message says what it waits for.
 * - deadlineExceeded: Progressing=False with reason ProgressDeadlineExceeded (kubectl exits 1).
 * - complete: every replica updated and available, no old replica left (kubectl exits 0).
 * - notFollowable: a StatefulSet or DaemonSet with the OnDelete strategy: kubectl refuses
 *   ("rollout status is only available for RollingUpdate strategy type"); see ./workloadRollout.ts.
 */
export type RolloutState = 'specNotObserved' | 'progressing' | 'deadlineExceeded' | 'complete' | 'notFollowable';

export interface RolloutStatus {
  state: RolloutState;
  /** kubectl's sentence for this state, without its trailing newline. */
  message: string;
  progress: RolloutProgress;
}

/** A finite number, or 0: trimmed facts default numbers to 0, but never trust a wire shape blindly. */
function count(n: number | null | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}

/** The conditions list, empty when absent (the original crashed indexing an empty list). */
function conditionsOf(owner: { status?: { conditions?: ConditionFacts[] | null } | null } | null | undefined): ConditionFacts[] {
  return owner?.status?.conditions ?? [];
}

/** The condition of `type`, if present (first one wins, as apimachinery's getter does). */
export function findCondition(conditions: readonly ConditionFacts[] | null | undefined, type: string): ConditionFacts | undefined {
  return (conditions ?? []).find((c) => c.type === type);
}

/** Go's %q for a Kubernetes name: names are DNS labels, so JSON quoting gives the same text. */
function quoted(name: string): string {
  return JSON.stringify(name);
}

/** The replica counts of a Deployment, for messages and progress bars. */
export function rolloutProgress(d: DeploymentFacts): RolloutProgress {
  const status: Partial<DeploymentFacts['status']> = d.status ?? {};
  const updated = count(status.updatedReplicas);
  return {
    desired: count(d.spec?.replicas),
    updated,
    ready: count(status.readyReplicas),
    available: count(status.availableReplicas),
    old: Math.max(0, count(status.replicas) - updated),
  };
}

/**
 * The new ReplicaSet's counts, for messages: Deployment-wide ready and available counts mix
 * in the old pods, so a crash-looping rollout would read "ready 1/1" while the old pod serves
 * (issue 12). `updated` is the new ReplicaSet's pods, `old` the replicas left besides them.
 * Before the new ReplicaSet exists every new count is 0.
 */
export function newReplicaSetProgress(d: DeploymentFacts, rs: ReplicaSetFacts | null): RolloutProgress {
  const updated = count(rs?.status?.replicas);
  return {
    desired: count(d.spec?.replicas),
    updated,
    ready: count(rs?.status?.readyReplicas),
    available: count(rs?.status?.availableReplicas),
    old: Math.max(0, count(d.status?.replicas) - updated),
  };
}

/** The controller has seen the current spec: status describes this generation, not the previous one. */
export function isSpecObserved(d: DeploymentFacts): boolean {
  return count(d.generation) <= count(d.status?.observedGeneration);
}

/**
 * The rollout status exactly as `kubectl rollout status deployment/NAME` decides it.
 * Never throws: missing status fields count as 0 and missing conditions as none.
 */
export function rolloutStatus(d: DeploymentFacts): RolloutStatus {
  const progress = rolloutProgress(d);
  const name = quoted(d.name);
  if (!isSpecObserved(d)) {
    return { state: 'specNotObserved', message: 'Waiting for deployment spec update to be observed...', progress };
  }
  const progressing = findCondition(conditionsOf(d), 'Progressing');
  if (progressing?.reason === PROGRESS_DEADLINE_EXCEEDED) {
    return { state: 'deadlineExceeded', message: `deployment ${name} exceeded its progress deadline`, progress };
  }
  const replicas = count(d.status?.replicas);
  if (progress.updated < progress.desired) {
    return {
      state: 'progressing',
      message: `Waiting for deployment ${name} rollout to finish: ${progress.updated} out of ${progress.desired} new replicas have been updated...`,
      progress,
    };
  }
  if (replicas > progress.updated) {
    return {
      state: 'progressing',
      message: `Waiting for deployment ${name} rollout to finish: ${replicas - progress.updated} old replicas are pending termination...`,
      progress,
    };
  }
  if (progress.available < progress.updated) {
    return {
      state: 'progressing',
      message: `Waiting for deployment ${name} rollout to finish: ${progress.available} of ${progress.updated} updated replicas are available...`,
      progress,
    };
  }
  return { state: 'complete', message: `deployment ${name} successfully rolled out`, progress };
}

/**
 * A new rollout starts when the `deployment.kubernetes.io/revision` annotation moves to a
 * new non-null value: a new pod template, `kubectl rollout restart` (which changes the
 * template) or `kubectl rollout undo` (which gives the old template the next revision).
 * Scaling, metadata edits, HPA changes and resyncs keep the revision, so they are not rollouts.
 *
 * `previousRevision` null means no revision has been seen for this Deployment yet (for
 * example a Deployment just created); the first non-null revision then counts as a start.
 * Callers that adopt existing Deployments at start-up seed `previousRevision` from the
 * first observation instead, so a restart does not re-announce the world.
 */
export function isNewRollout(previousRevision: number | null, d: WorkloadFacts): boolean {
  return d.revision !== null && d.revision !== undefined && d.revision !== previousRevision;
}

/** `spec.paused` is set: the controller makes no progress and checks no deadline until resumed. */
export function isPaused(d: DeploymentFacts): boolean {
  return d.spec?.paused === true;
}

/**
 * The controller has given up on this generation: Progressing has reason
 * ProgressDeadlineExceeded. A condition left over from the previous generation does not count
 * (the controller replaces it when it observes the new spec).
 */
export function progressDeadlineExceeded(d: DeploymentFacts): boolean {
  return isSpecObserved(d) && findCondition(conditionsOf(d), 'Progressing')?.reason === PROGRESS_DEADLINE_EXCEEDED;
}

/**
 * Why the new ReplicaSet cannot create Pods (quota, PodSecurity, missing ServiceAccount), or
 * undefined. The ReplicaSet's own ReplicaFailure condition wins: the Deployment's copy may
 * describe an older ReplicaSet. The message is the API server's refusal, as the controller
 * recorded it.
 */
export function replicaFailure(d: DeploymentFacts | null, rs: ReplicaSetFacts | null): string | undefined {
  const condition = replicaFailureCondition(d, rs);
  return condition === undefined ? undefined : (condition.message ?? condition.reason ?? condition.type);
}

/** The ReplicaFailure condition behind {@link replicaFailure}, for callers that need its reason too. */
export function replicaFailureCondition(d: DeploymentFacts | null, rs: ReplicaSetFacts | null): ConditionFacts | undefined {
  const fromReplicaSet = findCondition(conditionsOf(rs), 'ReplicaFailure');
  if (fromReplicaSet?.status === 'True') return fromReplicaSet;
  const fromDeployment = findCondition(conditionsOf(d), 'ReplicaFailure');
  if (fromDeployment?.status === 'True' && fromDeployment.reason === 'FailedCreate') return fromDeployment;
  return undefined;
}

/**
 * The earlier revisions whose template this ReplicaSet carries (its
 * `deployment.kubernetes.io/revision-history`), ascending and without duplicates: non-empty
 * when the rollout went back to an earlier template, as `kubectl rollout undo` does.
 */
export function rolledBackTo(rs: ReplicaSetFacts | null): number[] {
  const history = (rs?.revisionHistory ?? []).filter((r) => Number.isInteger(r) && r > 0);
  return [...new Set(history)].sort((a, b) => a - b);
}
