/**
 * Pure rules for StatefulSet and DaemonSet rollouts, beside ./rollout.ts (Deployments), and
 * the dispatch by kind that the one workload statechart (./deploymentMachine.ts) asks.
 *
 * "Done" follows `kubectl rollout status` (k8s.io/kubectl pkg/polymorphichelpers/rollout_status.go,
 * StatefulSetStatusViewer and DaemonSetStatusViewer) branch for branch and word for word
 * (issue 11). Neither kind has a progress deadline or a Progressing condition, so "failed" is
 * Hermod's own deadline: `hermod.uswitch.com/progress-deadline-seconds` on the workload or its
 * namespace, else `--progress-deadline-seconds` (default 600).
 */
import type {
  ConditionFacts,
  ControllerRevisionFacts,
  DaemonSetFacts,
  EventFacts,
  PodFacts,
  RolloutObservation,
  StatefulSetFacts,
  WorkloadFacts,
  WorkloadKind,
} from './facts.js';
import type { RolloutProgress, RolloutView } from './notification.js';
import { newReplicaSetProgress, progressDeadlineExceeded, rolledBackTo, rolloutStatus, type RolloutStatus } from './rollout.js';

/** The kinds whose history is ControllerRevisions and whose deadline is Hermod's. */
export type SetFacts = StatefulSetFacts | DaemonSetFacts;

/** Default of `--progress-deadline-seconds`, the same as a Deployment's progressDeadlineSeconds default. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
/** Longest deadline accepted from an annotation or the flag: a week. */
export const MAX_PROGRESS_DEADLINE_SECONDS = 7 * 24 * 3600;
/** The only update strategy `kubectl rollout status` can follow for StatefulSets and DaemonSets. */
export const ROLLING_UPDATE = 'RollingUpdate';
/** kubectl's refusal for any other strategy (OnDelete). */
export const NOT_FOLLOWABLE_MESSAGE = `rollout status is only available for ${ROLLING_UPDATE} strategy type`;

/** A finite, non-negative count, else 0. */
function count(n: number | null | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}

/** Go's %q for a Kubernetes name (a DNS label, so JSON quoting gives the same text). */
function quoted(name: string): string {
  return JSON.stringify(name);
}

/**
 * A deadline in whole seconds from an annotation value: a positive integer up to a week,
 * surrounding blanks ignored; anything else is not a deadline (undefined), so a typo falls
 * back to the next source rather than failing every rollout at once.
 */
export function parseDeadlineSeconds(raw: string | undefined | null): number | undefined {
  const text = raw?.trim() ?? '';
  if (!/^\d+$/.test(text)) return undefined;
  const seconds = Number(text);
  return seconds > 0 && seconds <= MAX_PROGRESS_DEADLINE_SECONDS ? seconds : undefined;
}

/** Hermod's deadline for a StatefulSet or DaemonSet rollout: the workload's annotation, else the namespace's, else the flag. */
export function resolveProgressDeadlineSeconds(sources: { workload?: string | undefined; namespace?: string | undefined; flag: number }): number {
  return parseDeadlineSeconds(sources.workload) ?? parseDeadlineSeconds(sources.namespace) ?? sources.flag;
}

/** The rollout status exactly as `kubectl rollout status statefulset/NAME` decides it. */
export function statefulSetStatus(s: StatefulSetFacts, progress: RolloutProgress = statefulSetProgress(s, [])): RolloutStatus {
  if (s.spec.updateStrategy !== ROLLING_UPDATE) return { state: 'notFollowable', message: NOT_FOLLOWABLE_MESSAGE, progress };
  const observed = count(s.status.observedGeneration);
  if (observed === 0 || count(s.generation) > observed) {
    return { state: 'specNotObserved', message: 'Waiting for statefulset spec update to be observed...', progress };
  }
  const replicas = count(s.spec.replicas);
  const ready = count(s.status.readyReplicas);
  const updated = count(s.status.updatedReplicas);
  if (ready < replicas) return { state: 'progressing', message: `Waiting for ${replicas - ready} pods to be ready...`, progress };
  if (s.spec.rollingUpdate) {
    // kubectl treats an absent partition as "nothing to wait for"; the API server defaults it to 0.
    if (s.spec.partition !== null && updated < replicas - count(s.spec.partition)) {
      return {
        state: 'progressing',
        message: `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - count(s.spec.partition)} new pods have been updated...`,
        progress,
      };
    }
    return { state: 'complete', message: `partitioned roll out complete: ${updated} new pods have been updated...`, progress };
  }
  if (s.status.updateRevision !== s.status.currentRevision) {
    return {
      state: 'progressing',
      message: `waiting for statefulset rolling update to complete ${updated} pods at revision ${s.status.updateRevision}...`,
      progress,
    };
  }
  return {
    state: 'complete',
    message: `statefulset rolling update complete ${count(s.status.currentReplicas)} pods at revision ${s.status.currentRevision}...`,
    progress,
  };
}

/** The rollout status exactly as `kubectl rollout status daemonset/NAME` decides it. */
export function daemonSetStatus(d: DaemonSetFacts, progress: RolloutProgress = daemonSetProgress(d, [])): RolloutStatus {
  if (d.spec.updateStrategy !== ROLLING_UPDATE) return { state: 'notFollowable', message: NOT_FOLLOWABLE_MESSAGE, progress };
  if (count(d.generation) > count(d.status.observedGeneration)) {
    return { state: 'specNotObserved', message: 'Waiting for daemon set spec update to be observed...', progress };
  }
  const name = quoted(d.name);
  const desired = count(d.status.desiredNumberScheduled);
  const updated = count(d.status.updatedNumberScheduled);
  const available = count(d.status.numberAvailable);
  if (updated < desired) {
    return { state: 'progressing', message: `Waiting for daemon set ${name} rollout to finish: ${updated} out of ${desired} new pods have been updated...`, progress };
  }
  if (available < desired) {
    return { state: 'progressing', message: `Waiting for daemon set ${name} rollout to finish: ${available} of ${desired} updated pods are available...`, progress };
  }
  return { state: 'complete', message: `daemon set ${name} successfully rolled out`, progress };
}

/** A Pod that is not being deleted and has Ready=True. */
function isReady(p: PodFacts): boolean {
  return !p.deleting && p.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * A StatefulSet's progress for messages: the NEW revision's pods (status.readyReplicas counts
 * old pods too, which would make a crash loop look healthy, issue 12).
 */
export function statefulSetProgress(s: StatefulSetFacts, newPods: readonly PodFacts[]): RolloutProgress {
  const updated = count(s.status.updatedReplicas);
  const ready = newPods.filter(isReady).length;
  return { desired: count(s.spec.replicas), updated, ready, available: ready, old: Math.max(0, count(s.status.replicas) - updated) };
}

/** A DaemonSet's progress for messages: the new revision's pods against the nodes that should run one. */
export function daemonSetProgress(d: DaemonSetFacts, newPods: readonly PodFacts[]): RolloutProgress {
  const updated = count(d.status.updatedNumberScheduled);
  const ready = newPods.filter(isReady).length;
  return {
    desired: count(d.status.desiredNumberScheduled),
    updated,
    ready,
    available: ready,
    old: Math.max(0, count(d.status.currentNumberScheduled) - updated),
  };
}

/**
 * A StatefulSet's partition when it holds pods back on purpose (above 0), else null. A rollout
 * that reaches it is "partitioned rollout complete", not stuck.
 */
export function partitionOf(w: WorkloadFacts): number | null {
  if (w.kind !== 'StatefulSet' || !w.spec.rollingUpdate || w.spec.partition === null) return null;
  return w.spec.partition > 0 ? w.spec.partition : null;
}

/**
 * The ControllerRevision a StatefulSet or DaemonSet rolls out to, from the owner's revisions:
 * the StatefulSet's `status.updateRevision`; the DaemonSet's newest (highest `revision`).
 * Null until the controller has made it (or the cache has it).
 */
export function targetRevision(w: StatefulSetFacts | DaemonSetFacts, revisions: readonly ControllerRevisionFacts[]): ControllerRevisionFacts | null {
  if (w.kind === 'StatefulSet') {
    if (w.status.updateRevision === '') return null;
    return revisions.find((r) => r.name === w.status.updateRevision) ?? null;
  }
  let newest: ControllerRevisionFacts | null = null;
  for (const r of revisions) if (newest === null || r.revision > newest.revision || (r.revision === newest.revision && r.name < newest.name)) newest = r;
  return newest;
}

/** The revision a rollout replaces: the highest `revision` below the target's, for "what changed". */
export function replacedRevision(target: ControllerRevisionFacts | null, revisions: readonly ControllerRevisionFacts[]): ControllerRevisionFacts | null {
  if (target === null) return null;
  let found: ControllerRevisionFacts | null = null;
  for (const r of revisions) {
    if (r.uid === target.uid || r.revision >= target.revision) continue;
    if (found === null || r.revision > found.revision) found = r;
  }
  return found;
}

/** Pods of the target revision: their `controller-revision-hash` label names it. */
export function isPodOfRevision(pod: PodFacts, revision: ControllerRevisionFacts): boolean {
  return pod.revisionHash !== undefined && pod.revisionHash === revision.podHash;
}

/** The event is about this object: its kind and name, and its uid when the event carries one. */
export function isEventAbout(e: EventFacts, kind: string, object: { name: string; uid: string }): boolean {
  return e.involvedKind === kind && e.involvedName === object.name && (e.involvedUid === undefined || e.involvedUid === object.uid);
}

/**
 * Why a StatefulSet or DaemonSet cannot create its pods (PodSecurity, a quota, a missing
 * ServiceAccount): its controller's newest FailedCreate Warning Event last seen since `since`
 * (to the second),
 * as a ReplicaSet's ReplicaFailure condition says it for a Deployment; undefined when none.
 */
export function setFailedCreate(set: SetFacts, events: readonly EventFacts[], since: number | undefined): ConditionFacts | undefined {
  let newest: EventFacts | undefined;
  for (const e of events) {
    // An Event's time has whole seconds: one stamped in the second the rollout started may follow it.
    if (e.reason !== 'FailedCreate' || !isEventAbout(e, set.kind, set) || (since !== undefined && e.lastSeen + 999 < since)) continue;
    if (newest === undefined || e.lastSeen > newest.lastSeen) newest = e;
  }
  return newest === undefined ? undefined : { type: 'FailedCreate', status: 'True', reason: newest.reason, message: newest.message };
}

/** The ordinal of a StatefulSet pod (`web-2` -> 2), or null. */
export function ordinalOf(setName: string, podName: string): number | null {
  const prefix = `${setName}-`;
  if (!podName.startsWith(prefix)) return null;
  const rest = podName.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : null;
}

/**
 * The pod a StatefulSet's rolling update waits on: the controller replaces pods one at a time,
 * highest ordinal first, and waits for each to be Running and Ready; so the new-revision pod
 * with the lowest ordinal that is not ready. Null for other kinds or when none waits.
 */
export function waitingOnPod(w: WorkloadFacts, newPods: readonly PodFacts[]): string | null {
  if (w.kind !== 'StatefulSet') return null;
  let found: { name: string; ordinal: number } | null = null;
  for (const p of newPods) {
    if (p.deleting || isReady(p)) continue;
    const ordinal = ordinalOf(w.name, p.name);
    if (ordinal !== null && (found === null || ordinal < found.ordinal)) found = { name: p.name, ordinal };
  }
  return found?.name ?? null;
}

// --- dispatch by kind: what the one workload statechart asks ---------------------------

/** Where the rollout stands, as `kubectl rollout status <kind>/NAME` would say it. */
export function workloadStatus(w: WorkloadFacts, newPods: readonly PodFacts[] = []): RolloutStatus {
  if (w.kind === 'StatefulSet') return statefulSetStatus(w, statefulSetProgress(w, newPods));
  if (w.kind === 'DaemonSet') return daemonSetStatus(w, daemonSetProgress(w, newPods));
  return rolloutStatus(w);
}

/** True for kinds whose "failed" is Hermod's own deadline rather than a controller's condition. */
export function hasOwnDeadline(kind: WorkloadKind): boolean {
  return kind !== 'Deployment';
}

/**
 * The rollout is past its deadline. A Deployment: the controller said so
 * (ProgressDeadlineExceeded). A StatefulSet or DaemonSet: `deadlineSeconds` have passed since
 * the rollout started (`startedAt`, ms) and kubectl does not call it done.
 */
export function deadlinePassed(w: WorkloadFacts, at: number, startedAt: number | undefined, deadlineSeconds: number): boolean {
  if (w.kind !== 'StatefulSet' && w.kind !== 'DaemonSet') return progressDeadlineExceeded(w);
  if (startedAt === undefined) return false;
  const state = workloadStatus(w).state;
  return state !== 'complete' && state !== 'notFollowable' && at - startedAt >= deadlineSeconds * 1000;
}

/** What a StatefulSet's or DaemonSet's failed message says happened, in kubectl's manner. */
export function ownDeadlineDetail(view: Pick<RolloutView, 'kind' | 'deployment' | 'progressDeadlineSeconds'>): string {
  return `${(view.kind ?? 'Deployment').toLowerCase()} "${view.deployment}" exceeded Hermod's progress deadline (${view.progressDeadlineSeconds} seconds)`;
}

/**
 * Who gave a verdict Hermod reports late (catch-up), which decides how the note words it:
 * `controller`, a Deployment's Progressing condition (its time is the condition's);
 * `deadline`, Hermod's own deadline for a StatefulSet or DaemonSet (its time is when it passed);
 * `observed`, Hermod found the workload in that state with no time recorded for it (a
 * StatefulSet or DaemonSet that completed: kubectl's rule on its status, which keeps no time).
 */
export type VerdictSource = 'controller' | 'deadline' | 'observed';

/** The note of a rollout that started and ended while no Hermod ran, worded for who gave the verdict and when. */
export function lateCatchUpNote(verdict: 'succeeded' | 'failed', source: VerdictSource, at: number): string {
  const when = new Date(at).toISOString();
  const what =
    source === 'controller'
      ? `the controller's verdict came at ${when}`
      : source === 'deadline'
        ? `Hermod's deadline passed at ${when}`
        : `Hermod found it ${verdict === 'succeeded' ? 'complete' : 'failed'} at ${when}`;
  return `Reported late: this rollout started and ended while no Hermod was running (${what}).`;
}

/** `spec.paused`: only Deployments can be paused. */
export function isWorkloadPaused(w: WorkloadFacts): boolean {
  return w.kind !== 'StatefulSet' && w.kind !== 'DaemonSet' && w.spec.paused;
}

/**
 * The workload's rollout needs its details watched (its ReplicaSets or ControllerRevisions, Pods
 * and Warning events; ADR 0007 "Rollout details on demand"): a Deployment while `kubectl rollout
 * status` would not call it done and its controller has not given up on it; a StatefulSet or
 * DaemonSet always, since which revision it runs is read from its ControllerRevisions.
 */
export function needsRolloutDetails(w: WorkloadFacts): boolean {
  if (w.kind === 'StatefulSet' || w.kind === 'DaemonSet') return true;
  const state = rolloutStatus(w).state;
  return state !== 'complete' && state !== 'deadlineExceeded' && state !== 'notFollowable';
}

/** The OnDelete strategy: pods change only when someone deletes them, so the rollout cannot be followed. */
export function isNotFollowable(w: WorkloadFacts): boolean {
  return workloadStatus(w).state === 'notFollowable';
}

/** How many pods the rollout should end with: spec.replicas, or the nodes that should run a DaemonSet pod. */
export function desiredPods(w: WorkloadFacts): number {
  if (w.kind === 'DaemonSet') return count(w.status.desiredNumberScheduled);
  return count(w.spec.replicas);
}

/** The new ReplicaSet's or new revision's progress, for messages (issue 12: never the workload-wide counts). */
export function observedProgress(o: RolloutObservation): RolloutProgress {
  const w = o.deployment;
  if (w.kind === 'StatefulSet') return statefulSetProgress(w, o.pods);
  if (w.kind === 'DaemonSet') return daemonSetProgress(w, o.pods);
  return newReplicaSetProgress(w, o.newReplicaSet);
}

/** The deadline a message states: the Deployment's progressDeadlineSeconds, or Hermod's own for the other kinds. */
export function deadlineSecondsOf(o: RolloutObservation): number {
  const w = o.deployment;
  if (w.kind !== 'StatefulSet' && w.kind !== 'DaemonSet') return w.spec.progressDeadlineSeconds;
  return o.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
}

/** The name of the rollout's new ReplicaSet or ControllerRevision, once made. */
export function newRevisionName(o: RolloutObservation): string | null {
  return o.deployment.kind === 'StatefulSet' || o.deployment.kind === 'DaemonSet' ? (o.newRevision?.name ?? null) : (o.newReplicaSet?.name ?? null);
}

/**
 * The earlier revisions whose template this rollout returns to (`kubectl rollout undo`):
 * a ReplicaSet's revision-history, or the numbers a ControllerRevision had before it was renumbered.
 */
export function rollbackHistory(o: RolloutObservation): number[] {
  if (o.deployment.kind !== 'StatefulSet' && o.deployment.kind !== 'DaemonSet') return rolledBackTo(o.newReplicaSet);
  const history = (o.newRevision?.revisionHistory ?? []).filter((r) => Number.isInteger(r) && r > 0);
  return [...new Set(history)].sort((a, b) => a - b);
}

/** The previous and new pod templates of the rollout, for "what changed". */
export function templatesOf(o: RolloutObservation): { previous: Pick<ControllerRevisionFacts, 'template'> | null; next: Pick<ControllerRevisionFacts, 'template'> | null } {
  if (o.deployment.kind !== 'StatefulSet' && o.deployment.kind !== 'DaemonSet') return { previous: o.previousReplicaSet ?? null, next: o.newReplicaSet };
  return { previous: o.previousRevision ?? null, next: o.newRevision ?? null };
}
