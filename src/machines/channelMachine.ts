/**
 * One Slack channel's delivery queue as a statechart. One actor per channel, created lazily
 * by src/actors/delivery/channels.ts, all in one actor system whose root is the workspace's
 * chat.update budget (./updateBudgetMachine.ts).
 *
 * Two parallel regions:
 * - `pacing`: the channel's chat.postMessage tokens (about 1/s with a small burst), refilled
 *   by a timer, so pacing runs on the actor system's clock (SimulatedClock in tests).
 * - `delivery`: idle -> sending -> ... with `waiting` (no token / no update budget yet),
 *   `backingOff` (429 for THIS channel, or transient errors with capped exponential backoff
 *   and jitter, forever) and `blocked` (a permanent error: work dropped, one report).
 *
 * The Slack call is the invoked promise actor `callSlack` (provided by the delivery layer
 * with the injected SlackApi); it resolves with a classified SlackOutcome and never rejects
 * on Slack errors. Observability leaves through `emit` (see ChannelEmitted), so the machine
 * stays pure. Decisions live in ./channelPolicy.ts, the data shapes and the initial context in
 * ./channelTypes.ts.
 */
import { assertEvent, assign, emit, enqueueActions, raise, setup, fromPromise } from 'xstate';
import { backoffDelay, dropAll, dropped, laneOf, recordGone, recordRejected, recordSent, settleRollout, workloadsOf } from './channelPolicy.js';
import { acceptRelease, dropParent, holdsStarts, isParentEdit, nextReleaseCall, noteParent, wantsReleaseUpdate } from './releaseQueue.js';
import { releaseHeldStarts } from './startHold.js';
import {
  SLACK_CALL,
  SLACK_DONE,
  SLACK_ERROR,
  initialChannelContext,
  methodOf,
  type BudgetEvent,
  type ChannelContext,
  type ChannelEmitted,
  type ChannelEvent,
  type ChannelInput,
  type SlackCall,
  type SlackOutcome,
} from './channelTypes.js';

function open(context: ChannelContext): { post: boolean; update: boolean } {
  return { post: context.tokens > 0, update: context.updateGrant === 'granted' };
}

function hasKind<K extends SlackOutcome['kind']>(out: SlackOutcome, kind: K): out is Extract<SlackOutcome, { kind: K }> {
  return out.kind === kind;
}

/** The Slack call's answer; the guard that chose the transition fixed its kind, so anything else is a bug. */
function outcomeOf<K extends SlackOutcome['kind']>(event: ChannelEvent, kind: K): Extract<SlackOutcome, { kind: K }> {
  assertEvent(event, SLACK_DONE);
  if (!hasKind(event.output, kind)) throw new Error(`channelMachine: expected a ${kind} outcome, got ${event.output.kind}`);
  return event.output;
}

function isOutcome(kind: SlackOutcome['kind']) {
  return ({ event }: { event: ChannelEvent }) => {
    assertEvent(event, SLACK_DONE);
    return event.output.kind === kind;
  };
}

/** The call being made; actions that handle its answer run only while there is one. */
function inFlightOf(context: ChannelContext): SlackCall {
  if (context.inFlight === null) throw new Error(`channelMachine: no Slack call in flight on ${context.channel}`);
  return context.inFlight;
}

export const channelMachine = setup({
  types: {
    context: {} as ChannelContext,
    input: {} as ChannelInput,
    events: {} as ChannelEvent,
    emitted: {} as ChannelEmitted,
  },
  actors: {
    // Provided by the delivery layer (src/actors/delivery/slackCalls.ts) with the injected SlackApi.
    callSlack: fromPromise<SlackOutcome, SlackCall>(async () => {
      throw new Error('channelMachine: provide the callSlack actor');
    }),
  },
  delays: {
    postInterval: ({ context }) => context.config.postIntervalMs,
    retryDelay: ({ context }) => context.retryDelayMs,
    blockedFor: ({ context }) => context.config.blockedForMs,
    releaseEditInterval: ({ context }) => context.config.releaseEditIntervalMs,
    startHoldMax: ({ context }) => context.config.startHoldMaxMs,
  },
  guards: {
    isBucketFull: ({ context }) => context.tokens >= context.config.postBurst,
    isQueueEmpty: ({ context }) => context.queue.length === 0,
    canSendNow: ({ context }) => nextReleaseCall(context, context.config, open(context), context.startsHeld) !== null,
    isOk: isOutcome('ok'),
    isUpdateRateLimited: ({ context, event }) => isOutcome('rateLimited')({ event }) && laneOf(inFlightOf(context)) === 'update',
    isRateLimited: isOutcome('rateLimited'),
    isGone: isOutcome('messageGone'),
    isRejected: isOutcome('rejected'),
    isPermanent: isOutcome('permanent'),
  },
  actions: {
    addToken: assign({ tokens: ({ context }) => Math.min(context.config.postBurst, context.tokens + 1) }),

    accept: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'rollout.notified');
      const n = event.notification;
      const result = acceptRelease(context, n, context.config, context.inFlight?.rolloutId ?? null);
      enqueue.assign({ queue: result.state.queue, rollouts: result.state.rollouts, finished: result.state.finished, groups: result.state.groups });
      if (result.kind === 'skipped') {
        if (result.reason === 'queue_full') {
          enqueue.emit({ type: 'dropped', channel: context.channel, reason: 'queue_full', rollouts: [{ rolloutId: n.rolloutId, namespace: n.namespace, final: false }] });
        } else {
          enqueue.emit({ type: 'skipped', channel: context.channel, rolloutId: n.rolloutId, reason: result.reason });
        }
      } else if (result.kind === 'queued' && result.dropped.length > 0) {
        enqueue.emit({ type: 'dropped', channel: context.channel, reason: 'queue_full', rollouts: dropped(result.dropped) });
      }
    }),

    dropNotification: emit(({ context, event }) => {
      assertEvent(event, 'rollout.notified');
      const n = event.notification;
      return { type: 'dropped' as const, channel: context.channel, reason: 'channel_blocked' as const, rollouts: [{ rolloutId: n.rolloutId, namespace: n.namespace, final: false }] };
    }),

    grantUpdate: assign({ updateGrant: 'granted' as const }),

    requestBudget: enqueueActions(({ context, enqueue }) => {
      if (context.updateGrant !== 'none' || !wantsReleaseUpdate(context, context.config)) return;
      enqueue.assign({ updateGrant: 'requested' });
      enqueue.sendParent({ type: 'budget.request', systemId: context.systemId } satisfies BudgetEvent);
    }),

    startCall: enqueueActions(({ context, enqueue }) => {
      // `sending` is entered only when canSendNow found this call.
      const call = nextReleaseCall(context, context.config, open(context), context.startsHeld);
      if (call === null) throw new Error(`channelMachine: nothing to send on ${context.channel}`);
      enqueue.assign({ inFlight: call });
      if (laneOf(call) === 'update') enqueue.assign({ updateGrant: 'none' });
      else enqueue.assign({ tokens: context.tokens - 1 });
    }),

    // Why on completion: Slack counts a request when it arrives; a refill clock started
    // when the request left runs ahead of Slack's whenever the request was delayed.
    startRefill: enqueueActions(({ context, enqueue }) => {
      if (laneOf(inFlightOf(context)) === 'update') enqueue.sendParent({ type: 'budget.spent' } satisfies BudgetEvent);
      else enqueue.raise({ type: 'token.taken' });
    }),

    clearInFlight: assign({ inFlight: null }),

    // The startHold region's clock runs while a start message is held back (./startHold.ts).
    // Decided once per entry to `ready`: canSendNow and startCall read the same answer.
    noteHeldStarts: enqueueActions(({ context, enqueue }) => {
      const startsHeld = holdsStarts(context, context.config);
      enqueue.assign({ startsHeld });
      if (startsHeld) enqueue.raise({ type: 'starts.held' });
    }),

    releaseHeldStarts: assign({ queue: ({ context }) => releaseHeldStarts(context, context.config) }),

    applySent: enqueueActions(({ context, event, enqueue }) => {
      const out = outcomeOf(event, 'ok');
      const call = inFlightOf(context);
      const state = recordSent(context, call, out, context.config);
      enqueue.assign({
        queue: state.queue,
        rollouts: state.rollouts,
        finished: state.finished,
        groups: noteParent(state.groups, context, call, out),
        channelId: out.channelId ?? context.channelId,
        attempt: 0,
      });
      if (isParentEdit(context, call)) enqueue.raise({ type: 'release.edited' });
      if (context.attempt > 0) enqueue.emit({ type: 'recovered', channel: context.channel, attempts: context.attempt });
      enqueue.emit({
        type: 'delivered',
        channel: context.channel,
        rolloutId: call.rolloutId,
        op: call.op,
        notifiedAt: call.op === 'reply' ? out.at : call.notifiedAt,
        at: out.at,
        final: call.op === 'reply' ? false : call.final,
      });
    }),

    applyUpdatePenalty: enqueueActions(({ context, event, enqueue }) => {
      const out = outcomeOf(event, 'rateLimited');
      // chat.update is limited per workspace: slow the shared budget, keep posting meanwhile.
      enqueue.sendParent({ type: 'budget.penalty', retryAfterMs: out.retryAfterSec * 1000 } satisfies BudgetEvent);
      enqueue.assign({ updateGrant: 'none' });
      enqueue.emit({ type: 'rateLimited', channel: context.channel, method: 'chat.update', retryAfterSec: out.retryAfterSec });
    }),

    applyRateLimit: enqueueActions(({ context, event, enqueue }) => {
      const out = outcomeOf(event, 'rateLimited');
      // Retry-After applies to this channel only; other channels keep going.
      enqueue.assign({ retryDelayMs: Math.max(1, out.retryAfterSec) * 1000, tokens: 0 });
      enqueue.emit({ type: 'rateLimited', channel: context.channel, method: methodOf(inFlightOf(context)), retryAfterSec: out.retryAfterSec });
    }),

    // Transient and ambiguous answers, and a callSlack that threw (it should not: a bug, retried).
    applyBackoff: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, [SLACK_DONE, SLACK_ERROR]);
      const call = inFlightOf(context);
      const error = event.type === SLACK_ERROR ? String(event.error) : 'error' in event.output ? event.output.error : event.output.kind;
      const ambiguous = event.type === SLACK_DONE && event.output.kind === 'ambiguous';
      // Each timed-out post or reply is re-sent and may leave one duplicate (ADR 0003).
      if (ambiguous && (call.op === 'post' || call.op === 'reply')) {
        enqueue.emit({ type: 'possibleDuplicate', channel: context.channel, rolloutId: call.rolloutId, part: call.op === 'post' ? 'main' : 'thread' });
      }
      const { delayMs, seed } = backoffDelay(context.attempt, context.seed, context.config);
      enqueue.assign({ retryDelayMs: delayMs, seed, attempt: context.attempt + 1 });
      if (laneOf(call) === 'update') enqueue.assign({ updateGrant: 'none' });
      enqueue.emit({ type: 'retrying', channel: context.channel, method: methodOf(call), attempt: context.attempt + 1, delayMs, error, ambiguous });
    }),

    applyGone: enqueueActions(({ context, enqueue }) => {
      const call = inFlightOf(context);
      const state = settleRollout(recordGone(context, call), call.rolloutId, context.config);
      enqueue.assign({ queue: state.queue, rollouts: state.rollouts, finished: state.finished, groups: dropParent(state.groups, call), attempt: 0 });
    }),

    applyRejected: enqueueActions(({ context, event, enqueue }) => {
      const out = outcomeOf(event, 'rejected');
      const call = inFlightOf(context);
      const item = context.queue.find((p) => p.rolloutId === call.rolloutId);
      const { state, gaveUp } = recordRejected(context, call, context.config);
      const settled = settleRollout(state, call.rolloutId, context.config);
      enqueue.assign({ queue: settled.queue, rollouts: settled.rollouts, finished: settled.finished, attempt: 0 });
      enqueue.emit({
        type: 'messageRejected',
        channel: context.channel,
        error: out.error,
        rolloutId: call.rolloutId,
        namespace: item?.namespace ?? '',
        part: call.op === 'reply' ? 'thread' : 'main',
        fallback: gaveUp === null ? 'plain' : 'gave_up',
      });
      if (gaveUp !== null && call.op !== 'reply') enqueue.emit({ type: 'dropped', channel: context.channel, reason: 'rejected', rollouts: dropped([gaveUp]) });
    }),

    reportPermanent: enqueueActions(({ context, event, enqueue }) => {
      const out = outcomeOf(event, 'permanent');
      const call = inFlightOf(context);
      const first = context.queue.find((p) => p.rolloutId === call.rolloutId);
      const namespaces = [...new Set([first?.namespace, ...context.queue.map((p) => p.namespace)].filter((n): n is string => n !== undefined))];
      const workloads = workloadsOf([...(first !== undefined ? [first] : []), ...context.queue]);
      enqueue.assign({ blockedError: out.error, attempt: 0 });
      enqueue.emit({ type: 'permanentFailure', channel: context.channel, method: methodOf(call), error: out.error, scope: out.scope, rolloutId: call.rolloutId, namespaces, workloads });
    }),

    noteWorkspaceBlock: assign({
      blockedError: ({ event }) => {
        assertEvent(event, 'workspace.blocked');
        return event.error;
      },
    }),

    dropEverything: enqueueActions(({ context, enqueue }) => {
      const { state, dropped: items } = dropAll(context);
      enqueue.assign({ queue: state.queue, rollouts: state.rollouts, inFlight: null });
      if (items.length > 0) enqueue.emit({ type: 'dropped', channel: context.channel, reason: 'permanent_error', rollouts: dropped(items) });
    }),

    unblock: assign({ blockedError: null }),

    // The one place the queue depth is reported: after every change to the queue (see the
    // transitions and `ready`'s entry), and only when it changed (for the per-channel gauge).
    reportDepth: enqueueActions(({ context, enqueue }) => {
      const depth = context.queue.length;
      if (depth === context.reportedDepth) return;
      enqueue.assign({ reportedDepth: depth });
      enqueue.emit({ type: 'queueDepth', channel: context.channel, depth });
    }),
  },
}).createMachine({
  id: 'slackChannel',
  type: 'parallel',
  context: ({ input }) => initialChannelContext(input),
  states: {
    pacing: {
      initial: 'checking',
      states: {
        checking: { always: [{ guard: 'isBucketFull', target: 'idle' }, { target: 'refilling' }] },
        // The refill clock is stopped; the first call to finish starts it (see startRefill).
        idle: { on: { 'token.taken': 'refilling' } },
        refilling: {
          after: { postInterval: { target: 'checking', actions: ['addToken', raise({ type: 'token.added' })] } },
        },
      },
    },
    // A release's parent is edited at most once per releaseEditIntervalMs (ADR 0010).
    releasePacing: {
      initial: 'open',
      states: {
        open: { on: { 'release.edited': 'holding' } },
        holding: {
          entry: assign({ releaseHold: true }),
          after: { releaseEditInterval: { target: 'open', actions: [assign({ releaseHold: false }), raise({ type: 'release.open' })] } },
        },
      },
    },
    // A start message held back in a busy channel goes after startHoldMaxMs at most (./startHold.ts).
    startHold: {
      initial: 'free',
      states: {
        free: { on: { 'starts.held': 'holding' } },
        holding: { after: { startHoldMax: { target: 'free', actions: ['releaseHeldStarts', raise({ type: 'starts.released' })] } } },
      },
    },
    delivery: {
      initial: 'ready',
      on: {
        'rollout.notified': { actions: ['accept', 'reportDepth'] },
        'budget.granted': { actions: 'grantUpdate' },
        'workspace.blocked': { target: '.blocked', actions: 'noteWorkspaceBlock' },
      },
      states: {
        ready: {
          // inFlight stays set through backingOff so the retried item is never evicted.
          entry: ['clearInFlight', 'reportDepth', 'noteHeldStarts'],
          always: [
            { guard: 'isQueueEmpty', target: 'idle' },
            { guard: 'canSendNow', target: 'sending' },
            { target: 'waiting' },
          ],
        },
        idle: {
          on: { 'rollout.notified': { actions: ['accept', 'reportDepth'], target: 'ready' } },
        },
        waiting: {
          entry: 'requestBudget',
          on: {
            'rollout.notified': { actions: ['accept', 'reportDepth'], target: 'ready' },
            'token.added': 'ready',
            'budget.granted': { actions: 'grantUpdate', target: 'ready' },
            'release.open': 'ready',
            'starts.released': 'ready',
          },
        },
        sending: {
          entry: 'startCall',
          exit: 'startRefill',
          invoke: {
            id: SLACK_CALL,
            src: 'callSlack',
            input: ({ context }) => inFlightOf(context),
            onDone: [
              { guard: 'isOk', actions: 'applySent', target: 'ready' },
              { guard: 'isUpdateRateLimited', actions: 'applyUpdatePenalty', target: 'ready' },
              { guard: 'isRateLimited', actions: 'applyRateLimit', target: 'backingOff' },
              { guard: 'isGone', actions: 'applyGone', target: 'ready' },
              { guard: 'isRejected', actions: 'applyRejected', target: 'ready' },
              { guard: 'isPermanent', actions: 'reportPermanent', target: 'blocked' },
              // transient, ambiguous
              { actions: 'applyBackoff', target: 'backingOff' },
            ],
            onError: { actions: 'applyBackoff', target: 'backingOff' },
          },
        },
        backingOff: {
          after: { retryDelay: 'ready' },
        },
        blocked: {
          entry: ['dropEverything', 'reportDepth'],
          exit: 'unblock',
          on: {
            'rollout.notified': { actions: 'dropNotification' },
          },
          after: { blockedFor: 'ready' },
        },
      },
    },
  },
});

export type ChannelMachine = typeof channelMachine;
