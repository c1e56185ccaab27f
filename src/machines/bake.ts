/**
 * The watch after success (issue 13, `--bake-seconds`): pure rules beside the failing rule of
 * ./diagnosis.ts. For the bake window after a rollout succeeds, the workload statechart
 * (./deploymentMachine.ts, state `succeeded.baking`) asks whether the new revision's pods are
 * healthy; pods that stay unhealthy for the failing grace period make the success "degraded",
 * and its message is edited to say so.
 */
import type { Diagnosis } from './notification.js';
import type { PodFacts } from './facts.js';

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
