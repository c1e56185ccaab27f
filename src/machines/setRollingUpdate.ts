/**
 * What a StatefulSet's or DaemonSet's rolling update waits on, and when it can go no further
 * (issue 11): the per-kind half of the early-failure rule, beside ./diagnosis.ts (`isFailing`,
 * every new pod stuck, which stays the whole rule for Deployments).
 *
 * Read from the controllers Hermod's test cluster runs (k8s.io/kubernetes v1.37,
 * pkg/controller/daemon/update.go `rollingUpdate`, pkg/controller/statefulset/stateful_set_control.go
 * `processReplica` and `updateStatefulSetAfterInvariantEstablished`):
 * - A DaemonSet replaces old pods only while fewer than `maxUnavailable` Nodes lack an available
 *   pod (with `maxSurge`, while fewer than `maxSurge` new pods are not yet available). A stuck new
 *   pod never becomes available, so it holds one of those places for good: once stuck new pods
 *   fill the budget, no other Node is updated.
 * - A StatefulSet with `podManagementPolicy: OrderedReady` (the default) goes no further while
 *   any pod, lowest ordinal first, is not Running and Ready, whatever its revision. A pod stuck at
 *   a revision that is no longer the update revision (after a revert) is never replaced: the
 *   known "forced rollback" case, which someone must end by deleting that pod
 *   (https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#forced-rollback).
 * - A `Parallel` StatefulSet deletes unavailable pods of other revisions itself, and replaces
 *   available ones while fewer than `maxUnavailable` pods are unavailable, like a DaemonSet.
 * In every case, once nothing is left to replace, the rollout waits only on its not-ready new
 * pods; when each of those is stuck, it can go no further either.
 */
import type { DaemonSetFacts, PodFacts, RolloutObservation, StatefulSetFacts } from './facts.js';
import { isStuckPod } from './diagnosis.js';
import { ordinalOf, partitionOf } from './workloadRollout.js';

/** The stuck pod a rolling update cannot get past. */
export interface BlockingPod {
  pod: PodFacts;
  /**
   * The pod belongs to a revision other than the one rolled out to: a StatefulSet
   * (OrderedReady) waits for it and will not replace it; deleting it is the way out.
   */
  staleRevision: boolean;
}

/** A finite, non-negative count, else 0. */
function count(n: number | null | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * An IntOrString budget (`2`, `"25%"`) scaled against `total`, as apimachinery's
 * GetScaledValueFromIntOrPercent does; undefined when absent or malformed.
 */
export function scaledBudget(value: number | string | undefined, total: number, roundUp: boolean): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const match = typeof value === 'string' ? /^(\d+)%$/.exec(value) : null;
  if (match === null) return undefined;
  const scaled = (Number(match[1]) * Math.max(0, total)) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * How many stuck new pods stop a DaemonSet's rolling update: `maxSurge` when it surges, else
 * `maxUnavailable` (both scaled against the Nodes that should run a pod, rounded up); the
 * controller treats 0 and 0 as maxUnavailable 1.
 */
export function daemonSetUpdateBudget(d: DaemonSetFacts): number {
  const desired = count(d.status.desiredNumberScheduled);
  const surge = scaledBudget(d.spec.maxSurge, desired, true) ?? 0;
  if (surge > 0) return surge;
  return Math.max(1, scaledBudget(d.spec.maxUnavailable, desired, true) ?? 1);
}

/** How many unavailable pods stop a StatefulSet's rolling update: `maxUnavailable` (rounded down, at least 1; default 1). */
export function statefulSetUpdateBudget(s: StatefulSetFacts): number {
  return Math.max(1, scaledBudget(s.spec.maxUnavailable, count(s.spec.replicas), false) ?? 1);
}

/** A Pod that is not being deleted and has Ready=True. */
function isReady(p: PodFacts): boolean {
  return !p.deleting && p.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

function isStuck(p: PodFacts): boolean {
  return !p.deleting && isStuckPod(p);
}

function byName(a: PodFacts, b: PodFacts): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The rolling update's remaining work is only its not-ready new pods, and every one of them is
 * stuck (at least one): nothing else can move.
 */
function waitsOnlyOnStuck(newPods: readonly PodFacts[]): boolean {
  const notReady = newPods.filter((p) => !isReady(p));
  return notReady.length > 0 && notReady.every(isStuck);
}

/** A DaemonSet: stuck new pods fill the update budget, or nothing but stuck new pods is left. */
export function daemonSetBlockedOn(d: DaemonSetFacts, newPods: readonly PodFacts[]): BlockingPod | null {
  const stuck = newPods.filter(isStuck).sort(byName);
  const first = stuck[0];
  if (first === undefined) return null;
  const oldNodesLeft = count(d.status.updatedNumberScheduled) < count(d.status.desiredNumberScheduled);
  const blocked = oldNodesLeft ? stuck.length >= daemonSetUpdateBudget(d) : waitsOnlyOnStuck(newPods);
  return blocked ? { pod: first, staleRevision: false } : null;
}

/**
 * A StatefulSet. OrderedReady: the lowest-ordinal pod that is not ready, of any revision, is
 * stuck. Parallel: stuck new pods fill `maxUnavailable` while pods above the partition are left
 * to replace, or nothing but stuck new pods is left.
 */
export function statefulSetBlockedOn(s: StatefulSetFacts, newPods: readonly PodFacts[], otherPods: readonly PodFacts[]): BlockingPod | null {
  const ordinal = (p: PodFacts): number => ordinalOf(s.name, p.name) ?? Number.POSITIVE_INFINITY;
  const byOrdinal = (a: PodFacts, b: PodFacts): number => ordinal(a) - ordinal(b);
  if (s.spec.podManagementPolicy === 'Parallel') {
    const stuck = newPods.filter(isStuck).sort(byOrdinal);
    const first = stuck[0];
    if (first === undefined) return null;
    const toReplace = count(s.spec.replicas) - (partitionOf(s) ?? 0) - count(s.status.updatedReplicas) > 0;
    const blocked = toReplace ? stuck.length >= statefulSetUpdateBudget(s) : waitsOnlyOnStuck(newPods);
    return blocked ? { pod: first, staleRevision: false } : null;
  }
  const isNew = new Set(newPods.map((p) => p.uid));
  const waited = [...newPods, ...otherPods]
    .filter((p) => ordinalOf(s.name, p.name) !== null && !isReady(p))
    .sort(byOrdinal)[0];
  if (waited === undefined || !isStuck(waited)) return null;
  return { pod: waited, staleRevision: !isNew.has(waited.uid) };
}

/**
 * The stuck pod a StatefulSet's or DaemonSet's rolling update cannot get past, or null (also
 * for Deployments, whose early-failure rule is every new pod stuck, and before the new revision
 * is known: then no pod can be called stale).
 */
export function blockedOn(o: Pick<RolloutObservation, 'deployment' | 'pods' | 'otherPods' | 'newRevision'>): BlockingPod | null {
  const w = o.deployment;
  if (o.newRevision == null) return null;
  if (w.kind === 'DaemonSet') return daemonSetBlockedOn(w, o.pods);
  if (w.kind === 'StatefulSet') return statefulSetBlockedOn(w, o.pods, o.otherPods ?? []);
  return null;
}
