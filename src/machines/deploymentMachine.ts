/**
 * The statechart of one workload (Deployment, StatefulSet or DaemonSet; issue 11: one chart for
 * every kind, the per-kind rules are pure functions in ./rollout.ts and ./workloadRollout.ts).
 * It watches the workload's observations go by and
 * decides when a rollout starts, how it is going and how it ends. Every decision is a pure
 * function of the observation (./rollout.ts, ./diagnosis.ts); the only outputs are emitted
 * `rollout.changed` events that carry the rollout's view model. Nothing here does I/O: the
 * supervisor (src/actors) forwards emitted events to Slack delivery and metrics.
 *
 *   unknown ──(complete / deadline exceeded / no revision)──► idle ──(new revision)──► active ──► succeeded | failed
 *      └────────(mid-rollout at first sight: adopt)──────────────────┘
 *   active = progressing ⇄ stalled ─(grace)─► failing, and paused; a new revision supersedes.
 *   succeeded = baking (healthy ⇄ unhealthy, for --bake-seconds) ─► baked, or ─(grace)─► degraded
 *   (issue 13: a watch after success; rules in ./bake.ts). A new revision ends the bake silently.
 *   idle ─(bake.resumed: a kept bake of this revision, after a restart)─► succeeded.baking, for what is left of its window.
 *   StatefulSets and DaemonSets fail at Hermod's own deadline (a timer from the rollout's start,
 *   or an observation past it); with the OnDelete strategy a rollout is said once to be
 *   unfollowable (state `unfollowed`) and then left alone.
 *
 * Context stays small while idle (key, uid, revision): the rollout's view exists only while a
 * rollout is active, so tens of thousands of idle Deployments cost little.
 */
import { assertEvent, assign, emit, enqueueActions, raise, setup } from 'xstate';
import { isRolledOut } from './bake.js';
import type { RolloutPhase, RolloutView } from './notification.js';
import { isNewRollout } from './rollout.js';
import { diagnosisOf, viewFrom, visibleState } from './workloadView.js';
import { hasOwnDeadline, isNotFollowable, isWorkloadPaused, ownDeadlineDetail, workloadStatus } from './workloadRollout.js';
import {
  bakeOver,
  bakeWindowOf,
  baking,
  deadlineExceeded,
  degradedNow,
  failingNow,
  inFlight,
  notification,
  observationOf,
  observed,
  resumedBake,
  resumesHere,
  rolloutStart,
  stuckPastGrace,
  timeOf,
  unhealthyNow,
  type ActiveRollout,
  type DeploymentContext,
  type DeploymentEvent,
  type DeploymentInput,
  type RolloutChangedEvent,
} from './deploymentContext.js';

/** Observation transitions that end or replace the rollout in flight; every active state checks them first. */
const endings = [
  {
    guard: 'isOtherIncarnation',
    target: '#deployment.unknown',
    actions: [{ type: 'endRollout', params: { phase: 'deleted' } }, 'forgetIncarnation', 'reobserve'],
  },
  {
    guard: 'hasNewRevision',
    target: '#deployment.active',
    reenter: true,
    actions: [{ type: 'endRollout', params: { phase: 'superseded' } }, { type: 'startRollout', params: { adopted: false } }, 'reobserve'],
  },
  // OnDelete (StatefulSets, DaemonSets): say once that it cannot be followed, never hang orange.
  { guard: 'isNotFollowable', target: '#deployment.unfollowed', actions: { type: 'endRollout', params: { phase: 'unfollowable' } } },
  { guard: 'isCompleteWithBake', target: '#deployment.succeeded.baking', actions: { type: 'endRollout', params: { phase: 'succeeded' } } },
  { guard: 'isComplete', target: '#deployment.succeeded', actions: { type: 'endRollout', params: { phase: 'succeeded' } } },
  { guard: 'isDeadlineExceeded', target: '#deployment.failed', actions: { type: 'endRollout', params: { phase: 'failed' } } },
] as const;

/** While a success bakes: what ends the watch, checked first in every baking state (a new rollout ends it silently). */
const bakeEndings = [
  { guard: 'isOtherIncarnation', target: '#deployment.unknown', actions: ['endBake', 'forgetIncarnation', 'reobserve'] },
  { guard: 'hasNewRevision', target: '#deployment.active', actions: ['endBake', { type: 'startRollout', params: { adopted: false } }, 'reobserve'] },
  { guard: 'isBakeOver', target: '#deployment.succeeded.baked', actions: 'endBake' },
] as const;

/** In idle, succeeded and failed: the next rollout, or a new incarnation of the Deployment. */
const nextRollout = [
  { guard: 'isOtherIncarnation', target: '#deployment.unknown', actions: ['forgetIncarnation', 'reobserve'] },
  { guard: 'hasNewRevision', target: '#deployment.active', actions: [{ type: 'startRollout', params: { adopted: false } }, 'reobserve'] },
] as const;

export const deploymentMachine = setup({
  types: {
    context: {} as DeploymentContext,
    events: {} as DeploymentEvent,
    input: {} as DeploymentInput,
    emitted: {} as RolloutChangedEvent,
  },
  guards: {
    hasNoRevision: ({ event }) => observed(event).deployment.revision === null,
    isOtherIncarnation: ({ context, event }) => context.uid !== null && observed(event).deployment.uid !== context.uid,
    hasNewRevision: ({ context, event }) => isNewRollout(context.revision, observed(event).deployment),
    isComplete: ({ event }) => workloadStatus(observed(event).deployment).state === 'complete',
    /** Complete, and successes are watched for a while (--bake-seconds above 0). */
    isCompleteWithBake: ({ context, event }) => workloadStatus(observed(event).deployment).state === 'complete' && context.bakeMs > 0,
    isBakeOver: ({ context, event }) => bakeOver(context, observed(event)),
    /** At first sight: the controller says this revision rolled out, some pod is unready since (./bake.ts). */
    isRolledOut: ({ event }) => isRolledOut(observed(event)),
    /** The kept bake is this workload's success, seen at rest since this actor's first sight, and its window is open. */
    resumesBake: ({ context, event }) => {
      assertEvent(event, 'bake.resumed');
      return resumesHere(context, event.bake, event.observation);
    },
    isUnhealthy: ({ context, event }) => unhealthyNow(context, observed(event)),
    isDegraded: ({ context, event }) => degradedNow(context, observed(event)),
    isDeadlineExceeded: ({ context, event }) => deadlineExceeded(context, observed(event)),
    isNotFollowable: ({ event }) => isNotFollowable(observed(event).deployment),
    /** OnDelete when Hermod first sees it, other than a set created while Hermod watches (revision 1 seen live). */
    isUnfollowableAtRest: ({ event }) => {
      assertEvent(event, 'deployment.observed');
      return isNotFollowable(event.observation.deployment) && (event.initial === true || event.observation.deployment.revision !== 1);
    },
    isPaused: ({ event }) => isWorkloadPaused(observed(event).deployment),
    /** The rollout in flight is judged by Hermod's own deadline (StatefulSets, DaemonSets). */
    hasOwnDeadline: ({ context }) => context.rollout !== null && hasOwnDeadline(context.rollout.view.kind ?? 'Deployment'),
    isFailing: ({ context, event }) => failingNow(context, observed(event)),
    isStuckPastGrace: ({ context, event }) => stuckPastGrace(context, observed(event)),
    isCurrentIncarnation: ({ context, event }) => {
      assertEvent(event, 'deployment.deleted');
      return context.uid === null || event.uid === context.uid;
    },
  },
  actions: {
    recordRevision: assign(({ event }) => {
      const observation = observed(event);
      return { uid: observation.deployment.uid, revision: observation.deployment.revision };
    }),
    forgetIncarnation: assign({ uid: null, revision: null, rollout: null }),
    /** Re-examine the same observation from the state just entered. */
    reobserve: raise(({ event }) => event),
    startRollout: assign(({ context, event }, params: { adopted: boolean }) => {
      const observation = observed(event);
      const d = observation.deployment;
      const view = viewFrom(observation, 'progressing', {
        startedAt: rolloutStart(observation, params.adopted),
        previousRevision: context.revision,
        adopted: params.adopted,
      });
      const rollout: ActiveRollout = { channel: observation.target.channel, alert: observation.target.alert, stuckSince: null, seenAt: observation.at, view };
      return { uid: d.uid, revision: d.revision, rollout };
    }),
    announceStart: emit(({ context }) => ({
      type: 'rollout.changed' as const,
      change: 'started' as const,
      notification: notification(inFlight(context)),
    })),
    /** Bring the view up to date with the observation; emit only if what a message shows changed. */
    refresh: enqueueActions(({ context, event, enqueue }, params: { phase: RolloutPhase }) => {
      const rollout = inFlight(context);
      const observation = observationOf(event);
      const view = observation === null ? { ...rollout.view, phase: params.phase } : viewFrom(observation, params.phase, rollout.view);
      const next: ActiveRollout = { ...rollout, alert: observation?.target.alert ?? rollout.alert, view };
      enqueue.assign({ rollout: next });
      if (visibleState(view) !== visibleState(rollout.view)) {
        enqueue.emit({ type: 'rollout.changed', change: 'updated', notification: notification(next) });
      }
    }),
    markStuck: assign(({ context, event }) => {
      const rollout = inFlight(context);
      return rollout.stuckSince !== null ? {} : { rollout: { ...rollout, stuckSince: observed(event).at } };
    }),
    clearStuck: assign(({ context }) => ({ rollout: { ...inFlight(context), stuckSince: null } })),
    /**
     * Give the rollout in flight its last word. A verdict (succeeded, failed) is read from the
     * observation; superseded, deleted and untracked keep the last view and say why it ended.
     */
    endRollout: enqueueActions(({ context, event, enqueue }, params: { phase: RolloutPhase }) => {
      const rollout = inFlight(context);
      const observation = observationOf(event);
      const verdict = params.phase === 'succeeded' || params.phase === 'failed';
      const latest = verdict && observation !== null ? viewFrom(observation, params.phase, rollout.view) : { ...rollout.view, phase: params.phase };
      const ownDeadline = params.phase === 'failed' && hasOwnDeadline(latest.kind ?? 'Deployment');
      const view: RolloutView = {
        ...latest,
        ...(ownDeadline ? { detail: ownDeadlineDetail(latest) } : {}),
        endedAt: timeOf(event, rollout),
        supersededBy: params.phase === 'superseded' ? (observation?.deployment.revision ?? null) : null,
      };
      const alert = observation?.target.alert ?? rollout.alert;
      // A success that bakes keeps its rollout (and says so: delivery keeps its message's record).
      const bakes = params.phase === 'succeeded' && context.bakeMs > 0 && view.endedAt !== null;
      const ended: ActiveRollout = { ...rollout, alert, stuckSince: null, view: bakes ? { ...view, bakeUntil: (view.endedAt ?? 0) + context.bakeMs } : view };
      enqueue.emit({ type: 'rollout.changed', change: 'ended', notification: notification(ended) });
      enqueue.assign({ rollout: bakes ? ended : null });
    }),
    /** Watch a kept success again (a restart). Nothing is emitted: the message already shows the success. */
    resumeBake: assign(({ event }) => {
      assertEvent(event, 'bake.resumed');
      return { rollout: resumedBake(event.bake, event.observation) };
    }),
    /** Judge the resumed bake's observation from the state just entered. */
    observeResumed: raise(({ event }) => {
      assertEvent(event, 'bake.resumed');
      return { type: 'deployment.observed' as const, observation: event.observation };
    }),
    /** The new pods are unhealthy: remember since when, and what "degraded" would say now. */
    markUnhealthy: assign(({ context, event }) => {
      const rollout = baking(context);
      const observation = observed(event);
      const since = rollout.stuckSince ?? observation.at;
      const view = viewFrom(observation, 'degraded', rollout.view);
      const degradation: RolloutView = {
        ...view,
        diagnosis: diagnosisOf(observation, rollout.view.endedAt),
        endedAt: rollout.view.endedAt,
        degradedAt: since,
      };
      return { rollout: { ...rollout, stuckSince: since, degradation } };
    }),
    /** Unhealthy past the grace period: "succeeded, then degraded", final for this rollout. */
    degrade: enqueueActions(({ context, enqueue }) => {
      const rollout = baking(context);
      const view = rollout.degradation;
      if (view == null) throw new Error(`deployment ${context.key}: degraded without a view`);
      enqueue.emit({ type: 'rollout.changed', change: 'degraded', notification: notification({ ...rollout, view }) });
      enqueue.assign({ rollout: null });
    }),
    /** The bake ends without news (window over, a new rollout, deleted, untracked): the message stays as it is. */
    endBake: enqueueActions(({ context, event, enqueue }) => {
      const rollout = baking(context);
      const alert = observationOf(event)?.target.alert ?? rollout.alert;
      enqueue.emit({ type: 'rollout.changed', change: 'baked', notification: notification({ ...rollout, alert, view: { ...rollout.view, bakeUntil: null } }) });
      enqueue.assign({ rollout: null });
    }),
  },
  delays: {
    failingGrace: ({ context }) => context.failingGraceMs,
    bakeWindow: ({ context }) => bakeWindowOf(context),
    /**
     * Hermod's own deadline, for StatefulSets and DaemonSets only. For a Deployment no timer is
     * scheduled at all (the controller judges its deadline): xstate raises an `after` event
     * whose delay is not a number at once instead of scheduling it, and `hasOwnDeadline` refuses
     * it. A 600 s timer per Deployment rollout would also keep an idle process alive.
     */
    ownDeadline: ({ context }) => {
      const rollout = context.rollout;
      if (rollout === null || !hasOwnDeadline(rollout.view.kind ?? 'Deployment')) return undefined as unknown as number;
      // What is left of it: an adopted rollout started before Hermod saw it.
      const seenAt = rollout.seenAt ?? rollout.view.startedAt;
      return Math.max(0, rollout.view.startedAt + rollout.view.progressDeadlineSeconds * 1000 - seenAt);
    },
  },
}).createMachine({
  id: 'deployment',
  context: ({ input }) => ({ key: input.key, uid: null, revision: null, failingGraceMs: input.failingGraceMs, bakeMs: input.bakeMs ?? 0, rollout: null }),
  initial: 'unknown',
  states: {
    /** Nothing seen yet: decide whether the Deployment is at rest or mid-rollout (adopt it). */
    unknown: {
      on: {
        'deployment.observed': [
          { guard: 'hasNoRevision', target: 'idle', actions: 'recordRevision' },
          { guard: 'isComplete', target: 'idle', actions: 'recordRevision' },
          // Rolled out, a pod unready since: the success is over, not a rollout to adopt (a kept bake may resume it).
          { guard: 'isRolledOut', target: 'idle', actions: 'recordRevision' },
          // OnDelete at first sight: nothing to follow, nothing to announce; unless it is a set
          // created while Hermod watches (revision 1 seen live), whose first rollout is said once
          // to be unfollowable, whichever of the set and its first revision the watch saw first.
          { guard: 'isUnfollowableAtRest', target: 'idle', actions: 'recordRevision' },
          // A rollout the controller already gave up on is over, like a complete one: a restart must not announce it again.
          { guard: 'isDeadlineExceeded', target: 'idle', actions: 'recordRevision' },
          // Mid-rollout at first sight: adopted, unless it is a Deployment created while Hermod
          // watches (revision 1 seen live), whose rollout Hermod sees from its start.
          {
            target: 'active',
            actions: [
              {
                type: 'startRollout',
                params: ({ event }) => {
                  assertEvent(event, 'deployment.observed');
                  return { adopted: event.initial === true || event.observation.deployment.revision !== 1 };
                },
              },
              'reobserve',
            ],
          },
        ],
      },
    },
    idle: {
      on: {
        'deployment.observed': [...nextRollout],
        // A restart inside a success's bake window (ADR 0011): watch the rest of the window.
        'bake.resumed': { guard: 'resumesBake', target: '#deployment.succeeded.baking', actions: ['resumeBake', 'observeResumed'] },
      },
    },
    active: {
      entry: 'announceStart',
      initial: 'progressing',
      // StatefulSets and DaemonSets have no deadline of their own: Hermod's fires even when no observation comes.
      after: { ownDeadline: { guard: 'hasOwnDeadline', target: 'failed', actions: { type: 'endRollout', params: { phase: 'failed' } } } },
      on: {
        'deployment.deleted': { guard: 'isCurrentIncarnation', target: 'gone', actions: { type: 'endRollout', params: { phase: 'deleted' } } },
        'tracking.stopped': { target: 'gone', actions: { type: 'endRollout', params: { phase: 'untracked' } } },
      },
      states: {
        progressing: {
          on: {
            'deployment.observed': [
              ...endings,
              { guard: 'isPaused', target: 'paused', actions: { type: 'refresh', params: { phase: 'paused' } } },
              { guard: 'isFailing', target: 'stalled', actions: ['markStuck', { type: 'refresh', params: { phase: 'progressing' } }] },
              { actions: { type: 'refresh', params: { phase: 'progressing' } } },
            ],
          },
        },
        /** Every new Pod is stuck, but not yet for the grace period: still orange. */
        stalled: {
          after: { failingGrace: 'failing' },
          on: {
            'deployment.observed': [
              ...endings,
              { guard: 'isPaused', target: 'paused', actions: ['clearStuck', { type: 'refresh', params: { phase: 'paused' } }] },
              { guard: 'isStuckPastGrace', target: 'failing' },
              { guard: 'isFailing', actions: { type: 'refresh', params: { phase: 'progressing' } } },
              { target: 'progressing', actions: ['clearStuck', { type: 'refresh', params: { phase: 'progressing' } }] },
            ],
          },
        },
        /** Early warning: red before the deadline; the rollout can still recover or fail at the deadline. */
        failing: {
          entry: { type: 'refresh', params: { phase: 'failing' } },
          on: {
            'deployment.observed': [
              ...endings,
              { guard: 'isPaused', target: 'paused', actions: ['clearStuck', { type: 'refresh', params: { phase: 'paused' } }] },
              { guard: 'isFailing', actions: { type: 'refresh', params: { phase: 'failing' } } },
              { target: 'progressing', actions: ['clearStuck', { type: 'refresh', params: { phase: 'progressing' } }] },
            ],
          },
        },
        paused: {
          on: {
            'deployment.observed': [
              ...endings,
              { guard: 'isPaused', actions: { type: 'refresh', params: { phase: 'paused' } } },
              { target: 'progressing', actions: { type: 'refresh', params: { phase: 'progressing' } } },
            ],
          },
        },
      },
    },
    succeeded: {
      initial: 'baked',
      on: { 'deployment.observed': [...nextRollout] },
      states: {
        /** Watching the new pods for --bake-seconds (issue 13). */
        baking: {
          initial: 'healthy',
          after: { bakeWindow: { target: 'baked', actions: 'endBake' } },
          on: {
            'deployment.deleted': { guard: 'isCurrentIncarnation', target: '#deployment.gone', actions: 'endBake' },
            'tracking.stopped': { target: '#deployment.gone', actions: 'endBake' },
          },
          states: {
            healthy: {
              on: { 'deployment.observed': [...bakeEndings, { guard: 'isUnhealthy', target: 'unhealthy', actions: 'markUnhealthy' }] },
            },
            /** Some new pod crash-loops or is unready, not yet for the grace period. */
            unhealthy: {
              after: { failingGrace: { target: '#deployment.succeeded.degraded', actions: 'degrade' } },
              on: {
                'deployment.observed': [
                  ...bakeEndings,
                  { guard: 'isDegraded', target: '#deployment.succeeded.degraded', actions: ['markUnhealthy', 'degrade'] },
                  { guard: 'isUnhealthy', actions: 'markUnhealthy' },
                  { target: 'healthy', actions: 'clearStuck' },
                ],
              },
            },
          },
        },
        /** The success stands (no bake, or the bake ended quietly). */
        baked: {},
        /** Said once: "succeeded, then degraded". Final for this rollout: no flapping back. */
        degraded: {},
      },
    },
    failed: {
      on: { 'deployment.observed': [...nextRollout] },
    },
    /** Said once that this rollout (OnDelete) cannot be followed: quiet until the next revision. */
    unfollowed: {
      on: { 'deployment.observed': [...nextRollout] },
    },
    /** Deleted, or its namespace is no longer tracked: the supervisor stops the actor. */
    gone: { type: 'final' },
  },
  on: {
    'deployment.deleted': { guard: 'isCurrentIncarnation', target: '.gone' },
    'tracking.stopped': { target: '.gone' },
  },
});
