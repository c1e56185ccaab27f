/**
 * Leader election for one candidate (one Hermod process), on a coordination.k8s.io/v1 Lease,
 * with client-go's semantics (rules in ./lease.ts):
 *
 * - following: read the Lease every retry period; when it is ours or nobody's, write
 *   ourselves in with the read resourceVersion. A Conflict means another candidate won.
 * - leading: renew every retry period with the last resourceVersion. If no renew succeeded
 *   within the renew deadline, stop leading AT ONCE (a write timing out counts as no renew;
 *   the timer runs whatever the request is doing). A Conflict is checked by reading the
 *   Lease: held by someone else means deposed, at once. `election.fence` (a state write got a
 *   409: someone else writes Hermod's state) steps down at once too.
 * - released: `election.release` (graceful shutdown, after the drain) stops leading, then
 *   writes an empty holder with a 1 s duration so a follower takes over within a retry period.
 *   A renew still in flight may land first: a Conflict is checked by reading the Lease, and
 *   while it is still ours the release is written again at its new resourceVersion.
 *
 * The deadline counts from the last successful renew, which is stricter than client-go
 * (which starts counting a retry period later): the gap to the lease duration is what keeps
 * a deposed leader from acting while a new one already does.
 *
 * I/O is two named actors provided by src/actors/election.ts: `readLease` and `writeLease`.
 * The machine emits `leader.started` / `leader.stopped`; it does nothing else.
 */
import { assign, emit, enqueueActions, fromPromise, setup } from 'xstate';
import { canAcquire, isHeldBy, observe, type LeaseIntent, type LeaseRead, type LeaseTiming, type ObservedLease } from './lease.js';

export interface LeaderInput {
  identity: string;
  timing: LeaseTiming;
}

export interface LeaderContext extends LeaderInput {
  observed: ObservedLease | null;
  /** Why leadership last ended (for logs), null while it never did. */
  lastStop: StopReason | null;
}

export type StopReason = 'renewDeadline' | 'deposed' | 'fenced' | 'released';

export type LeaderEvent =
  /** Stop leading, release the Lease, and stop. */
  | { type: 'election.release' }
  /** A fenced write was refused: someone else is the writer now. Step down at once. */
  | { type: 'election.fence'; reason: string };

export type LeaderEmitted =
  | { type: 'leader.started'; identity: string; leaseTransitions: number }
  | { type: 'leader.stopped'; identity: string; reason: StopReason };

/** What `readLease` resolves to: the Lease and when (the candidate's clock) it was read. */
export interface LeaseReadOutput extends LeaseRead {
  at: number;
}

export interface LeaseWriteInput {
  intent: LeaseIntent;
  identity: string;
  /** The record it was read as; its resourceVersion is the write's precondition (null: create). */
  observed: ObservedLease | null;
  leaseDurationSeconds: number;
}

/** `written`: the new record and resourceVersion; `conflict`: the precondition failed (409, or created meanwhile). */
export type LeaseWriteOutput = { kind: 'written'; read: LeaseRead; at: number } | { kind: 'conflict' };

const notProvided = (what: string) =>
  fromPromise<never, unknown>(async () => {
    throw new Error(`${what} is not provided: createElection() provides it`);
  });

export const leaderMachine = setup({
  types: {
    context: {} as LeaderContext,
    input: {} as LeaderInput,
    events: {} as LeaderEvent,
    emitted: {} as LeaderEmitted,
  },
  actors: {
    readLease: notProvided('readLease') as unknown as ReturnType<typeof fromPromise<LeaseReadOutput, void>>,
    writeLease: notProvided('writeLease') as unknown as ReturnType<typeof fromPromise<LeaseWriteOutput, LeaseWriteInput>>,
  },
  delays: {
    retryPeriod: ({ context }) => context.timing.retryPeriodMs,
    renewDeadline: ({ context }) => context.timing.renewDeadlineMs,
    // A request that hangs must not stall a candidate: it counts as failed after this.
    requestTimeout: ({ context }) => context.timing.renewDeadlineMs,
  },
  guards: {
    canAcquireRead: ({ context }, params: { output: LeaseReadOutput }) =>
      canAcquire(observe(context.observed, params.output, params.output.at), context.identity, params.output.at),
    isOursRead: ({ context }, params: { output: LeaseReadOutput }) =>
      isHeldBy(observe(context.observed, params.output, params.output.at), context.identity),
    isWritten: (_, params: { output: LeaseWriteOutput }) => params.output.kind === 'written',
  },
  actions: {
    observeRead: assign({ observed: ({ context }, params: { output: LeaseReadOutput }) => observe(context.observed, params.output, params.output.at) }),
    observeWrite: assign({
      observed: ({ context }, params: { output: LeaseWriteOutput }) =>
        params.output.kind === 'written' ? { ...params.output.read, observedAt: params.output.at } : context.observed,
    }),
    stepDown: enqueueActions(({ context, enqueue }, params: { reason: StopReason }) => {
      enqueue.assign({ lastStop: params.reason });
      enqueue.emit({ type: 'leader.stopped', identity: context.identity, reason: params.reason });
    }),
    emitStarted: emit(({ context }) => ({
      type: 'leader.started' as const,
      identity: context.identity,
      leaseTransitions: context.observed?.record?.leaseTransitions ?? 0,
    })),
  },
}).createMachine({
  id: 'leader',
  context: ({ input }) => ({ ...input, observed: null, lastStop: null }),
  initial: 'following',
  states: {
    following: {
      id: 'following',
      initial: 'observing',
      on: { 'election.release': '#released' },
      states: {
        observing: {
          after: { requestTimeout: 'waiting' },
          invoke: {
            src: 'readLease',
            onDone: [
              {
                guard: { type: 'canAcquireRead', params: ({ event }) => ({ output: event.output }) },
                target: 'acquiring',
                actions: { type: 'observeRead', params: ({ event }) => ({ output: event.output }) },
              },
              { target: 'waiting', actions: { type: 'observeRead', params: ({ event }) => ({ output: event.output }) } },
            ],
            onError: 'waiting',
          },
        },
        acquiring: {
          after: { requestTimeout: 'waiting' },
          invoke: {
            src: 'writeLease',
            input: ({ context }) => ({ intent: 'acquire' as const, identity: context.identity, observed: context.observed, leaseDurationSeconds: context.timing.leaseDurationMs / 1000 }),
            onDone: [
              {
                guard: { type: 'isWritten', params: ({ event }) => ({ output: event.output }) },
                target: '#leading',
                actions: { type: 'observeWrite', params: ({ event }) => ({ output: event.output }) },
              },
              // Another candidate wrote first: it leads.
              { target: 'waiting' },
            ],
            onError: 'waiting',
          },
        },
        waiting: {
          after: { retryPeriod: 'observing' },
        },
      },
    },
    leading: {
      id: 'leading',
      // Every transition out of `leading` goes through `stepDown`, which says why.
      entry: 'emitStarted',
      initial: 'term',
      on: {
        'election.release': { target: 'releasing', actions: { type: 'stepDown', params: { reason: 'released' } } },
        'election.fence': { target: '#following.waiting', actions: { type: 'stepDown', params: { reason: 'fenced' } } },
      },
      states: {
        // Re-entered on every successful renew, which restarts the renew deadline.
        term: {
          id: 'term',
          after: { renewDeadline: { target: '#following.waiting', actions: { type: 'stepDown', params: { reason: 'renewDeadline' } } } },
          initial: 'waiting',
          states: {
            waiting: { after: { retryPeriod: 'renewing' } },
            renewing: {
              invoke: {
                src: 'writeLease',
                input: ({ context }) => ({ intent: 'renew' as const, identity: context.identity, observed: context.observed, leaseDurationSeconds: context.timing.leaseDurationMs / 1000 }),
                onDone: [
                  {
                    guard: { type: 'isWritten', params: ({ event }) => ({ output: event.output }) },
                    target: '#term',
                    reenter: true,
                    actions: { type: 'observeWrite', params: ({ event }) => ({ output: event.output }) },
                  },
                  // Someone else wrote the Lease: read who holds it now.
                  { target: 'checking' },
                ],
                onError: 'waiting',
              },
            },
            checking: {
              invoke: {
                src: 'readLease',
                onDone: [
                  {
                    guard: { type: 'isOursRead', params: ({ event }) => ({ output: event.output }) },
                    target: 'renewing',
                    actions: { type: 'observeRead', params: ({ event }) => ({ output: event.output }) },
                  },
                  {
                    target: '#following.waiting',
                    actions: [
                      { type: 'observeRead', params: ({ event }) => ({ output: event.output }) },
                      { type: 'stepDown', params: { reason: 'deposed' } },
                    ],
                  },
                ],
                onError: 'waiting',
              },
            },
          },
        },
      },
    },
    releasing: {
      // Leadership already ended (the `stepDown` of the transition here); now tell the followers.
      // The whole release is bounded: a shutdown must not wait on an unreachable API server.
      after: { requestTimeout: 'released' },
      initial: 'writing',
      states: {
        writing: {
          invoke: {
            src: 'writeLease',
            input: ({ context }) => ({ intent: 'release' as const, identity: context.identity, observed: context.observed, leaseDurationSeconds: 1 }),
            onDone: [
              { guard: { type: 'isWritten', params: ({ event }) => ({ output: event.output }) }, target: '#released' },
              // A renew that was in flight when the release began may have landed since: look again.
              { target: 'checking' },
            ],
            onError: '#released',
          },
        },
        checking: {
          invoke: {
            src: 'readLease',
            onDone: [
              {
                guard: { type: 'isOursRead', params: ({ event }) => ({ output: event.output }) },
                target: 'writing',
                actions: { type: 'observeRead', params: ({ event }) => ({ output: event.output }) },
              },
              // Someone else holds it already: nothing to release.
              { target: '#released' },
            ],
            onError: '#released',
          },
        },
      },
    },
    released: { id: 'released', type: 'final' },
  },
});
