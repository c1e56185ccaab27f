/**
 * The workspace's chat.update budget and the root of the delivery actor system.
 *
 * Slack limits chat.update per workspace (Tier 3, about 50 per minute), so the channels share
 * one token bucket: a channel that needs an update sends `budget.request` to its parent (this
 * actor) and waits for `budget.granted`; waiting channels are served first come, first served.
 * A 429 on chat.update (`budget.penalty`) empties the bucket for its Retry-After.
 *
 * It holds no I/O: timers run on the actor system's clock (SimulatedClock in tests). The
 * delivery layer (src/actors/delivery/) creates it as the system's root and owns it.
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { BudgetEvent } from './channelTypes.js';

/** The root also owns the channel actors (their parent): only it may stop them. */
export type UpdateBudgetEvent = BudgetEvent | { type: 'channels.stop'; systemIds: string[] };

export interface UpdateBudgetInput {
  /** One token per interval (default 1,250 ms: 48 per minute, under Tier 3's 50). */
  intervalMs?: number;
  /** Tokens saved up at most. */
  burst?: number;
}

export interface UpdateBudgetContext {
  tokens: number;
  burst: number;
  intervalMs: number;
  /** systemIds of channels waiting for a token, in order. */
  waiters: string[];
  penaltyMs: number;
}

export const DEFAULT_UPDATE_INTERVAL_MS = 1250;
export const DEFAULT_UPDATE_BURST = 5;

export const updateBudgetMachine = setup({
  types: {
    context: {} as UpdateBudgetContext,
    input: {} as UpdateBudgetInput,
    events: {} as UpdateBudgetEvent,
  },
  delays: {
    interval: ({ context }) => context.intervalMs,
    penalty: ({ context }) => context.penaltyMs,
  },
  guards: {
    hasToken: ({ context }) => context.tokens > 0,
    isIdle: ({ context }) => context.tokens >= context.burst && context.waiters.length === 0,
  },
  actions: {
    grant: enqueueActions(({ context, event, system, enqueue }) => {
      if (event.type !== 'budget.request') return;
      const ref = system.get(event.systemId);
      if (ref === undefined) return;
      enqueue.assign({ tokens: context.tokens - 1 });
      enqueue.sendTo(ref, { type: 'budget.granted' });
    }),
    wait: assign({
      waiters: ({ context, event }) =>
        event.type === 'budget.request' && !context.waiters.includes(event.systemId) ? [...context.waiters, event.systemId] : context.waiters,
    }),
    refill: enqueueActions(({ context, system, enqueue }) => {
      // A waiting channel gets the new token directly; stopped channels are skipped.
      const waiters = [...context.waiters];
      while (waiters.length > 0) {
        const id = waiters.shift() as string;
        const ref = system.get(id);
        if (ref === undefined) continue;
        enqueue.assign({ waiters });
        enqueue.sendTo(ref, { type: 'budget.granted' });
        return;
      }
      enqueue.assign({ waiters, tokens: Math.min(context.burst, context.tokens + 1) });
    }),
    stopChannels: enqueueActions(({ event, system, enqueue }) => {
      if (event.type !== 'channels.stop') return;
      for (const id of event.systemIds) {
        const ref = system.get(id);
        if (ref !== undefined) enqueue.stopChild(ref);
      }
    }),
    penalise: assign({
      tokens: 0,
      penaltyMs: ({ event }) => (event.type === 'budget.penalty' ? Math.max(1000, event.retryAfterMs) : 1000),
    }),
  },
}).createMachine({
  id: 'slackUpdateBudget',
  context: ({ input }) => {
    const burst = Math.max(1, input.burst ?? DEFAULT_UPDATE_BURST);
    return { tokens: burst, burst, intervalMs: input.intervalMs ?? DEFAULT_UPDATE_INTERVAL_MS, waiters: [], penaltyMs: 0 };
  },
  initial: 'idle',
  on: {
    'budget.penalty': { target: '.penalised', reenter: true, actions: 'penalise' },
    'channels.stop': { actions: 'stopChannels' },
  },
  states: {
    idle: {
      // The refill clock is stopped; it starts when a granted update finished (see channelMachine startRefill).
      on: {
        'budget.request': [{ guard: 'hasToken', actions: 'grant' }, { actions: 'wait', target: 'refilling' }],
        'budget.spent': 'refilling',
      },
    },
    refilling: {
      always: { guard: 'isIdle', target: 'idle' },
      on: {
        'budget.request': [{ guard: 'hasToken', actions: 'grant' }, { actions: 'wait' }],
      },
      after: { interval: { target: 'refilling', reenter: true, actions: 'refill' } },
    },
    penalised: {
      on: { 'budget.request': { actions: 'wait' } },
      after: { penalty: 'refilling' },
    },
  },
});
