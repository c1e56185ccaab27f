/**
 * The watch after success (issue 13, `--bake-seconds`): pure rules beside the failing rule of
 * ./diagnosis.ts. For the bake window after a rollout succeeds, the workload statechart
 * (./deploymentMachine.ts, state `succeeded.baking`) asks whether the new revision's pods are
 * healthy; pods that stay unhealthy for the failing grace period make the success "degraded",
 * and its message is edited to say so.
 */
import { rolloutIdOf, type Diagnosis } from './notification.js';
import { isDeploymentFacts, type PodFacts, type RolloutObservation } from './facts.js';
import { findCondition, isSpecObserved, rolloutProgress } from './rollout.js';
import { workloadStatus } from './workloadRollout.js';

/** Default of `--bake-seconds`: five minutes of watching after a success. */
export const DEFAULT_BAKE_SECONDS = 300;
/** Longest bake accepted: a day (a kept record per success for longer would only grow the state). */
export const MAX_BAKE_SECONDS = 24 * 3600;

/** A pod that reports Ready=True. */
function isReady(p: PodFacts): boolean {
  return p.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * The new revision's pods are unhealthy after a success: at least one crash-loops (or is stuck
 * in any other state that will not heal by itself, ./diagnosis.ts `isStuckPod`), or is not
 * ready. Pods being deleted do not count (a scale-down, a drain). A workload scaled to zero is
 * never unhealthy. One stuck pod is enough, unlike the failing rule (every new pod stuck): a
 * success means every pod was ready once, so any pod that stops being so is news.
 */
export function isUnhealthyAfterSuccess(diagnosis: Diagnosis, pods: readonly PodFacts[], desiredPods: number): boolean {
  if (desiredPods <= 0) return false;
  if (diagnosis.stuckPods > 0) return true;
  return pods.some((p) => !p.deleting && !isReady(p));
}

/**
 * The success is degraded: its pods were first seen unhealthy at `unhealthySince` (ms) and are
 * still unhealthy at `at`, the failing grace period later. A pod that restarts once and comes
 * back within the grace period is not news.
 */
export function isDegraded(unhealthySince: number | null, at: number, graceMs: number): boolean {
  return unhealthySince !== null && at - unhealthySince >= graceMs;
}

/** The bake window of a success at `succeededAt` (ms) is over at `at`; a bake of 0 never watches. */
export function isBakeOver(succeededAt: number, at: number, bakeMs: number): boolean {
  return bakeMs <= 0 || at - succeededAt >= bakeMs;
}

/**
 * What a kept record (./bakePolicy.ts) remembers of the success its bake watches: what the
 * success's message shows that a later observation cannot tell (when it started and succeeded,
 * the revision before it, whether Hermod saw it from its start). A restarted Hermod's
 * "succeeded, then degraded" edit of that message says the same about the success.
 */
export interface BakeOrigin {
  startedAt: number;
  succeededAt: number;
  previousRevision: number | null;
  adopted: boolean;
}

/** A success's bake as the delivery state keeps it: what a restarted Hermod needs to resume the watch. */
export interface KeptBake extends BakeOrigin {
  /** `uid/revision` of the rollout that succeeded. */
  rolloutId: string;
  /** The channel (as its channel actor is named) whose message shows the success. */
  channel: string;
  /** When the watch ends (ms), as the success set it: a resumed watch does not start a fresh window. */
  bakeUntil: number;
}

/**
 * A kept bake resumes for this observation of its workload (a restart with no warm follower,
 * ADR 0011): the same rollout (incarnation and revision: the workload has not rolled again),
 * still complete, and the window not over at the observation's time. A new rollout, another
 * incarnation or a rollout not complete (a rollback in flight, scaled mid-way) does not resume:
 * its record is forgotten later (./bakePolicy.ts `expiredBakes`), silently.
 */
export function resumesBake(kept: Pick<KeptBake, 'rolloutId' | 'bakeUntil'>, observation: RolloutObservation): boolean {
  const w = observation.deployment;
  if (w.revision === null || kept.rolloutId !== rolloutIdOf(w.uid, w.revision)) return false;
  if (observation.at >= kept.bakeUntil) return false;
  return workloadStatus(w, observation.pods).state === 'complete' || isRolledOut(observation);
}

/**
 * A Deployment whose current revision has rolled out, by the controller's own word
 * (Progressing: NewReplicaSetAvailable, kept when pods turn unready later), every replica
 * updated and no old one left, even if some pod is unready now. `kubectl rollout status` waits
 * on such a Deployment ("1 of 2 updated replicas are available"), but no rollout is under way:
 * its pods degraded after the success. At first sight (a restart) it is at rest, not a rollout
 * to adopt (./deploymentMachine.ts `unknown`), so a kept bake can resume for it. StatefulSets
 * and DaemonSets have no such word: they resume only when complete.
 */
export function isRolledOut(observation: RolloutObservation): boolean {
  const w = observation.deployment;
  if (!isDeploymentFacts(w) || !isSpecObserved(w)) return false;
  const progressing = findCondition(w.status?.conditions, 'Progressing');
  if (progressing?.status !== 'True' || progressing.reason !== 'NewReplicaSetAvailable') return false;
  const progress = rolloutProgress(w);
  return progress.updated >= progress.desired && progress.old === 0;
}

/**
 * How long the watch of a success runs from when it starts watching (`watchedFrom`, ms): to the
 * end of its window. From the success itself that is the whole window; from a restart, what is
 * left of it (never below 0).
 */
export function bakeTimeLeft(bakeUntil: number, watchedFrom: number): number {
  return Math.max(0, bakeUntil - watchedFrom);
}
