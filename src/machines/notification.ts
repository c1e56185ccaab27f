/**
 * What a Deployment actor tells the delivery layer: a small, serialisable view of one
 * rollout. Message text is rendered from it by pure functions (./message.ts); the delivery
 * layer decides whether and how to send it (alert level, message mode, coalescing).
 */
import type { AlertLevel, GitFacts, WorkloadKind } from './facts.js';

/**
 * The phase of one rollout as Hermod reports it.
 * - progressing: started (or adopted at start-up) and moving.
 * - failing: early warning; every new Pod is stuck in a state that will not heal by itself.
 * - paused: `spec.paused` was set mid-rollout.
 * - succeeded / failed: the verdict (complete as `kubectl rollout status` says / deadline exceeded).
 * - superseded: a newer revision started before this one finished.
 * - deleted: the Deployment was deleted mid-rollout.
 * - untracked: the namespace lost its `hermod.uswitch.com/slack` annotation mid-rollout.
 * - unfollowable: a StatefulSet or DaemonSet with the OnDelete strategy: said once, then quiet.
 * - degraded: it succeeded, then, within the bake window (`--bake-seconds`), its new pods
 *   crash-looped or stayed unready past the failing grace period (issue 13; ./bake.ts).
 */
export type RolloutPhase =
  | 'progressing'
  | 'failing'
  | 'paused'
  | 'succeeded'
  | 'failed'
  | 'superseded'
  | 'deleted'
  | 'untracked'
  | 'unfollowable'
  | 'degraded';

/** Phases after which the rollout's message never changes again. */
export const FINAL_PHASES: ReadonlySet<RolloutPhase> = new Set([
  'succeeded',
  'failed',
  'superseded',
  'deleted',
  'untracked',
  'unfollowable',
  'degraded',
]);

export function isFinalPhase(phase: RolloutPhase): boolean {
  return FINAL_PHASES.has(phase);
}

/** Where a problem was seen. */
export type ProblemSource = 'container' | 'initContainer' | 'podCondition' | 'replicaSet' | 'event';

/** Identical problems across the new ReplicaSet's Pods, grouped with a count. */
export interface ProblemGroup {
  source: ProblemSource;
  /** e.g. CrashLoopBackOff, ImagePullBackOff, OOMKilled, FailedCreate, Unschedulable. */
  reason: string;
  message?: string;
  /** Container name, for container problems. */
  container?: string;
  /** Exit code of the last terminated run, when known. */
  exitCode?: number;
  /** Why the last run ended (lastState.terminated.reason, e.g. OOMKilled, Error), when known. */
  lastTerminationReason?: string;
  /** How many Pods (or events, for source `event`) show it. */
  count: number;
}

/** What the pods of the new ReplicaSet say, reduced to what a message needs. */
export interface Diagnosis {
  /** Pods of the new ReplicaSet that are not being deleted. */
  pods: number;
  /** Of those, Pods stuck in a state that will not heal by itself. */
  stuckPods: number;
  /** The new ReplicaSet cannot create Pods (ReplicaFailure / FailedCreate), with its message. */
  replicaFailure?: string;
  problems: ProblemGroup[];
}

export interface RolloutProgress {
  desired: number;
  updated: number;
  ready: number;
  available: number;
  /** Old replicas still running (status.replicas - updatedReplicas, never negative). */
  old: number;
}

/** A rollout's id, `${workload uid}/${revision}` (0 before the controller numbers it): stable across restarts, unique per rollout. */
export function rolloutIdOf(uid: string, revision: number | null): string {
  return `${uid}/${revision ?? 0}`;
}

/** The workload uid and the revision a rollout id (`rolloutIdOf`) names. */
export function splitRolloutId(rolloutId: string): { uid: string; revision: number } {
  const slash = rolloutId.lastIndexOf('/');
  return { uid: rolloutId.slice(0, slash), revision: Number(rolloutId.slice(slash + 1)) };
}

/** The view model of one rollout's Slack message. */
export interface RolloutView {
  /** `rolloutIdOf(uid, revision)`: stable across restarts, unique per rollout. */
  rolloutId: string;
  namespace: string;
  /** The workload's kind; absent in views made before Hermod tracked other kinds: a Deployment. */
  kind?: WorkloadKind;
  /** The workload's name (of any kind: the field keeps the first kind's name). */
  deployment: string;
  revision: number;
  /** The revision that was live before this rollout, when Hermod saw it. */
  previousRevision: number | null;
  /** Set when this revision re-uses an earlier template (`kubectl rollout undo`): the revisions it returned to. */
  rolledBackTo: number[];
  /** The new ReplicaSet (Deployments) or ControllerRevision (StatefulSets, DaemonSets), once made. */
  replicaSet: string | null;
  /** A StatefulSet's partition above 0: the rollout completes with only the pods above it updated. */
  partition?: number | null;
  /**
   * The pod its rolling update waits on, if any: the stuck pod it cannot get past
   * (./setRollingUpdate.ts), else a StatefulSet's lowest not-ready new ordinal or a DaemonSet's
   * first stuck new pod.
   */
  waitingOn?: string | null;
  /** The Node that pod is bound to, when known. */
  waitingOnNode?: string | null;
  /**
   * Why the rolling update cannot get past that pod: `stuck`, a stuck new pod that holds the
   * update (a DaemonSet's maxUnavailable, a StatefulSet's next ordinal); `staleRevision`, a stuck
   * pod of a revision no longer wanted, which a StatefulSet will not replace (delete it).
   * Null or absent while the update can still move.
   */
  blockedBy?: 'stuck' | 'staleRevision' | null;
  phase: RolloutPhase;
  /** ms since the epoch. */
  startedAt: number;
  /** ms since the epoch, for final phases. */
  endedAt: number | null;
  /** Hermod saw the rollout already under way when it started watching. */
  adopted: boolean;
  /** The Deployment's progressDeadlineSeconds, or Hermod's own deadline for the other kinds. */
  progressDeadlineSeconds: number;
  progress: RolloutProgress;
  diagnosis: Diagnosis;
  git: GitFacts;
  /** For `superseded`: the revision that replaced this one. */
  supersededBy: number | null;
  /** A one-line reason in kubectl's words, e.g. "deployment exceeded its progress deadline". */
  detail: string | null;
  /** What this revision changed against the one before (images, other template fields, change-cause). */
  changes?: RolloutChanges | null;
  /** The container whose crashed run's log a failure message can show (set while pods crash). */
  crashTarget?: CrashLogTarget | null;
  /** That log's last lines, once read (the actors layer fills it in; never rendered in the channel). */
  crashLog?: CrashLog | null;
  /**
   * While the bake watches a success (issue 13): when the watch ends (ms since the epoch). Set
   * only on `succeeded` views sent while baking; it tells delivery to keep the message's record
   * (its ts) for a later "succeeded, then degraded" edit. Never rendered.
   */
  bakeUntil?: number | null;
  /** For `degraded`: when the new pods were first seen unhealthy after the success (ms since the epoch). */
  degradedAt?: number | null;
  /**
   * Who to mention (`<@U…>`, `<!subteam^S…>`, from ./mentions.ts) should the rollout fail; the
   * channel message shows them only while it is failing or failed, never on success.
   */
  mentions?: string[];
}

/** One container's image before and after; null when the container did not exist on that side. */
export interface ImageChange {
  container: string;
  init: boolean;
  from: string | null;
  to: string | null;
}

/** What a rollout changed, from the previous and the new ReplicaSet's pod templates. */
export interface RolloutChanges {
  /** Containers whose image changed (or that came or went), init containers first. */
  images: ImageChange[];
  /** Other changed pod template fields (paths such as `spec.containers[api].env`), capped. */
  fields: string[];
  /** Changed fields left out of `fields`. */
  moreFields: number;
  /** `kubernetes.io/change-cause`, when set. */
  changeCause: string | null;
  /** A rollback: the earlier revision whose template this is. */
  backTo: number | null;
}

/** The first stuck container of one new Pod whose previous run ended: the log worth reading. */
export interface CrashLogTarget {
  namespace: string;
  pod: string;
  container: string;
}

/** The last lines a crashed container printed, redacted, or why they could not be read. */
export interface CrashLog {
  pod: string;
  container: string;
  /** Redacted, bounded lines (raw text: rendering escapes them). Empty when unavailable. */
  lines: string[];
  /** Lines or characters were cut to stay within the bounds. */
  truncated: boolean;
  /** Why the log could not be read (e.g. "forbidden"), or null. */
  unavailable: string | null;
}

/** One message to deliver: the latest view of a rollout and where it goes. */
export interface Notification {
  rolloutId: string;
  /** Channel name or ID, as annotated on the namespace when the rollout started. */
  channel: string;
  alert: AlertLevel;
  view: RolloutView;
}
