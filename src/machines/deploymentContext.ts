/**
 * The workload statechart's data (./deploymentMachine.ts): its input, context, events and what
 * it emits, and the pure reads of them its guards and actions share. No decisions of its own:
 * those are the rules in ./rollout.ts, ./workloadRollout.ts, ./diagnosis.ts and ./bake.ts.
 */
import { assertEvent } from 'xstate';
import { kindOf, type AlertLevel, type RolloutObservation } from './facts.js';
import { isFailing } from './diagnosis.js';
import { bakeTimeLeft, isBakeOver, isDegraded, isUnhealthyAfterSuccess, resumesBake, type KeptBake } from './bake.js';
import type { Notification, RolloutView } from './notification.js';
import { adoptedRolloutStart } from './controllerRevisions.js';
import { diagnosisOf, viewFrom } from './workloadView.js';
import { deadlinePassed, deadlineSecondsOf, desiredPods, hasOwnDeadline } from './workloadRollout.js';
import { blockedOn } from './setRollingUpdate.js';

export interface DeploymentInput {
  /** `namespace/name`. */
  key: string;
  /** How long every new Pod must be stuck before the rollout is reported as failing. */
  failingGraceMs: number;
  /** How long to watch a succeeded rollout's pods (--bake-seconds); 0 or absent: no watch. */
  bakeMs?: number;
}

/** The rollout in flight: where its message goes and what it says now. */
export interface ActiveRollout {
  channel: string;
  alert: AlertLevel;
  /**
   * When every new Pod was first seen stuck (ms), or null while they are not. While a success
   * bakes: when its pods were first seen unhealthy.
   */
  stuckSince: number | null;
  /**
   * When Hermod first saw the rollout (ms). The view's `startedAt` is earlier for a StatefulSet or
   * DaemonSet rollout adopted mid-way (its ControllerRevision's time); Hermod's deadline timer
   * runs from here for what is left. Absent in rollouts made before it existed: `startedAt`.
   */
  seenAt?: number;
  view: RolloutView;
  /** While a success bakes and its pods are unhealthy: the "succeeded, then degraded" view, sent if they stay so. */
  degradation?: RolloutView | null;
}

export interface DeploymentContext {
  key: string;
  /** The incarnation of the Deployment (a deleted and re-created Deployment has a new uid). */
  uid: string | null;
  /** The last revision seen, live or finished. */
  revision: number | null;
  failingGraceMs: number;
  bakeMs: number;
  /** The rollout in flight, or the success being baked. */
  rollout: ActiveRollout | null;
}

export type DeploymentEvent =
  | {
      type: 'deployment.observed';
      observation: RolloutObservation;
      /** Part of the initial list Hermod saw when it started watching (the supervisor sets it). */
      initial?: boolean;
    }
  | { type: 'deployment.deleted'; uid: string; at: number }
  | { type: 'tracking.stopped'; at: number }
  /**
   * A bake the delivery state kept for this workload's success, read at takeover (a restart
   * with no warm follower, ADR 0011), with the workload's latest observation: resumed if the
   * workload has not rolled again since (./bake.ts `resumesBake`).
   */
  | { type: 'bake.resumed'; bake: KeptBake; observation: RolloutObservation };

/**
 * How a change relates to the rollout's life: the supervisor counts starts and verdicts. After a
 * success that bakes: `degraded` (its pods turned unhealthy) or `baked` (the watch ended; the
 * message does not change, delivery may forget it).
 */
export type RolloutChange = 'started' | 'updated' | 'ended' | 'degraded' | 'baked';

export interface RolloutChangedEvent {
  type: 'rollout.changed';
  change: RolloutChange;
  notification: Notification;
}

/**
 * The observation an event carries, if any. Only for actions that legitimately run on other
 * events too (`refresh` as the `failing` entry after the grace delay, `endRollout` on a
 * deletion); guards and actions of `deployment.observed` transitions use assertEvent.
 */
export function observationOf(event: { type: string; observation?: RolloutObservation }): RolloutObservation | null {
  return event.type === 'deployment.observed' && event.observation !== undefined ? event.observation : null;
}

/** The observation of a `deployment.observed` event; anything else is a statechart bug, so it throws. */
export function observed(event: DeploymentEvent): RolloutObservation {
  assertEvent(event, 'deployment.observed');
  return event.observation;
}

/** The rollout in flight; only actions of the `active` states ask, so its absence is a bug. */
export function inFlight(context: DeploymentContext): ActiveRollout {
  if (context.rollout === null) throw new Error(`deployment ${context.key}: no rollout in flight in an active state`);
  return context.rollout;
}

/**
 * When the event happened, from the watch layer's clock: the machine never reads a clock itself.
 * Hermod's own deadline timer carries no time: the rollout ended when its deadline passed.
 */
export function timeOf(event: DeploymentEvent, rollout: ActiveRollout): number {
  if (event.type === 'deployment.observed') return event.observation.at;
  const at = (event as { at?: unknown }).at;
  return typeof at === 'number' ? at : rollout.view.startedAt + rollout.view.progressDeadlineSeconds * 1000;
}

/**
 * When a rollout first seen in `observation` started. StatefulSets and DaemonSets adopted
 * mid-rollout (Hermod started, or took over as leader): when their new ControllerRevision was
 * made, so Hermod's deadline counts from the rollout's real start (issue 11). Otherwise when
 * Hermod saw it: a Deployment's deadline is the controller's, and a rollout seen live starts now.
 */
export function rolloutStart(observation: RolloutObservation, adopted: boolean): number {
  if (!adopted || !hasOwnDeadline(kindOf(observation.deployment))) return observation.at;
  return adoptedRolloutStart(observation.newRevision, observation.at);
}

/**
 * The rollout cannot make progress until someone acts: every new pod stuck (all kinds), or a
 * StatefulSet's or DaemonSet's rolling update cannot get past a stuck pod (./setRollingUpdate.ts).
 */
export function failingNow(context: DeploymentContext, observation: RolloutObservation): boolean {
  const diagnosis = diagnosisOf(observation, context.rollout?.view.startedAt);
  return isFailing(diagnosis, desiredPods(observation.deployment)) || blockedOn(observation) !== null;
}

/** Every new pod has been stuck for the failing grace period, and still is: the rollout turns red. */
export function stuckPastGrace(context: DeploymentContext, observation: RolloutObservation): boolean {
  const since = inFlight(context).stuckSince;
  return since !== null && observation.at - since >= context.failingGraceMs && failingNow(context, observation);
}

/** Hermod's own deadline has passed (StatefulSets, DaemonSets; a Deployment's is its controller's verdict). */
export function deadlineExceeded(context: DeploymentContext, observation: RolloutObservation): boolean {
  // At first sight (no rollout yet) a StatefulSet's or DaemonSet's rollout is timed from its revision.
  const startedAt = context.rollout?.view.startedAt ?? rolloutStart(observation, true);
  return deadlinePassed(observation.deployment, observation.at, startedAt, deadlineSecondsOf(observation));
}

/** The success being baked (the statechart is in `succeeded.baking`, so its absence is a bug). */
export function baking(context: DeploymentContext): ActiveRollout & { view: { endedAt: number } } {
  const rollout = context.rollout;
  if (rollout === null || rollout.view.endedAt === null) throw new Error(`deployment ${context.key}: no success being baked`);
  return rollout as ActiveRollout & { view: { endedAt: number } };
}

/** The new pods are unhealthy after the success (./bake.ts); warnings from before the success are left out. */
export function unhealthyNow(context: DeploymentContext, observation: RolloutObservation): boolean {
  const succeededAt = baking(context).view.endedAt;
  return isUnhealthyAfterSuccess(diagnosisOf(observation, succeededAt), observation.pods, desiredPods(observation.deployment));
}

/** The bake's window is over; a resumed bake (after a restart) ends when the success's window does, not a fresh one later. */
export function bakeOver(context: DeploymentContext, observation: RolloutObservation): boolean {
  const { endedAt, bakeUntil } = baking(context).view;
  return isBakeOver(endedAt, observation.at, bakeUntil != null ? bakeUntil - endedAt : context.bakeMs);
}

/** Unhealthy for the failing grace period after the success, and still: "succeeded, then degraded". */
export function degradedNow(context: DeploymentContext, observation: RolloutObservation): boolean {
  return isDegraded(baking(context).stuckSince, observation.at, context.failingGraceMs) && unhealthyNow(context, observation);
}

export function notification(rollout: ActiveRollout): Notification {
  return { rolloutId: rollout.view.rolloutId, channel: rollout.channel, alert: rollout.alert, view: rollout.view };
}

/** A kept bake resumes in this actor: bakes are on, it is this incarnation's and revision's (seen at rest since), and ./bake.ts `resumesBake`. */
export function resumesHere(context: DeploymentContext, bake: KeptBake, observation: RolloutObservation): boolean {
  const w = observation.deployment;
  return context.bakeMs > 0 && context.uid === w.uid && context.revision === w.revision && resumesBake(bake, observation);
}

/**
 * The success a kept bake resumes (a restart with no warm follower, ADR 0011): its view rebuilt
 * from the latest observation and what the kept record remembers of the success, so that a
 * degraded edit says the same about it; watched from now (`seenAt`) to the success's `bakeUntil`.
 */
export function resumedBake(bake: KeptBake, observation: RolloutObservation): ActiveRollout {
  const base = { startedAt: bake.startedAt, previousRevision: bake.previousRevision, adopted: bake.adopted };
  const view: RolloutView = { ...viewFrom(observation, 'succeeded', base), endedAt: bake.succeededAt, bakeUntil: bake.bakeUntil };
  return { channel: bake.channel, alert: observation.target.alert, stuckSince: null, seenAt: observation.at, view };
}

/** The bake timer: what is left of the success's window, all of it from the success, less after a restart (`seenAt` is later). */
export function bakeWindowOf(context: DeploymentContext): number {
  const rollout = context.rollout;
  if (rollout?.view.bakeUntil == null || rollout.view.endedAt === null) return context.bakeMs;
  return bakeTimeLeft(rollout.view.bakeUntil, Math.max(rollout.view.endedAt, rollout.seenAt ?? rollout.view.endedAt));
}
