/**
 * The running leader election: one leaderMachine actor (src/machines/leaderMachine.ts) with
 * its Lease I/O injected (src/io/kube/lease.ts implements LeaseApi on the API server).
 *
 * Only the leader delivers and writes state. `isLeader()` is the check to make right before
 * acting: it turns false the moment leadership ends, and also once the renew deadline has
 * passed on this process's clock even if the timer that ends leadership has not fired yet
 * (a blocked event loop must not stretch a term).
 */
import { createActor, fromPromise, type ActorOptions, type AnyActorLogic, type AnyActorRef } from 'xstate';
import { DEFAULT_LEASE_TIMING, nextRecord, timingProblem, type LeaseRead, type LeaseRecord, type LeaseTiming } from '../machines/lease.js';
import { leaderMachine, type LeaseReadOutput, type LeaseWriteInput, type LeaseWriteOutput, type StopReason } from '../machines/leaderMachine.js';
import { silentLogger, type Logger } from './logger.js';

/** The Lease on the API server, as election needs it. Errors other than a Conflict reject. */
export interface LeaseApi {
  /** The Lease; `record: null` when it does not exist. */
  read(): Promise<LeaseRead>;
  /**
   * Write `record` if the Lease is still at `resourceVersion` (null: create it, only if absent).
   * `conflict` when it is not (HTTP 409: someone else wrote, or created it, first).
   */
  write(record: LeaseRecord, resourceVersion: string | null): Promise<{ kind: 'written'; resourceVersion: string } | { kind: 'conflict' }>;
}

export interface ElectionOptions {
  lease: LeaseApi;
  /** This candidate's holderIdentity: unique per process (see leaseIdentity() in src/io/kube/lease.ts). */
  identity: string;
  timing?: LeaseTiming;
  logger?: Logger;
  /** Called when this process becomes the leader: from now on it may deliver and write state. */
  onStartedLeading?: () => void;
  /** Called the moment leadership ends, whatever the reason. Stop delivering. */
  onStoppedLeading?: (reason: StopReason) => void;
  /** The actor system's clock (SimulatedClock in tests); `now` must agree with it. */
  clock?: ActorOptions<AnyActorLogic>['clock'];
  now?: () => number;
}

export interface Election {
  readonly identity: string;
  /** This process leads now and its term has not run out. */
  isLeader(): boolean;
  /** A fenced state write was refused (409): someone else writes now. Steps down at once. */
  fence(reason: string): void;
  /**
   * Graceful end (after the drain): stops leading, then releases the Lease so a follower takes
   * over within one retry period. Resolves once released (or after the request timeout).
   */
  release(): Promise<void>;
  /**
   * Stops without releasing, as a crash would: the others wait out the lease duration.
   * isLeader() is false from then on; onStoppedLeading is not called (the caller stops everything).
   */
  stop(): void;
}

/** Starts campaigning at once; see the module comment. */
export function createElection(options: ElectionOptions): Election {
  const timing = options.timing ?? DEFAULT_LEASE_TIMING;
  const problem = timingProblem(timing);
  if (problem !== null) throw new Error(`leader election: ${problem}`);
  const { lease, identity } = options;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;

  // A failing API server (or a missing RBAC grant) is logged once per streak, not every retry period.
  let failing = false;
  const attempt = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      const result = await call();
      if (failing) logger.info({ identity }, 'leader election: the Lease answers again');
      failing = false;
      return result;
    } catch (err) {
      if (!failing) logger.warn({ err, identity }, `leader election: cannot ${what} the Lease: retrying`);
      failing = true;
      throw err;
    }
  };
  const readLease = fromPromise<LeaseReadOutput, void>(async () => {
    const read = await attempt('read', () => lease.read());
    return { ...read, at: now() };
  });
  const writeLease = fromPromise<LeaseWriteOutput, LeaseWriteInput>(async ({ input }) => {
    const at = now();
    const record = nextRecord(input.intent, input.observed, input.identity, input.leaseDurationSeconds, at);
    const result = await attempt('write', () => lease.write(record, input.observed?.resourceVersion ?? null));
    if (result.kind === 'conflict') return { kind: 'conflict' };
    return { kind: 'written', read: { record, resourceVersion: result.resourceVersion }, at };
  });

  const actor = createActor(leaderMachine.provide({ actors: { readLease, writeLease } }), {
    input: { identity, timing },
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
  });
  actor.on('leader.started', ({ leaseTransitions }) => {
    logger.info({ identity, leaseTransitions }, 'leading: this Hermod delivers');
    options.onStartedLeading?.();
  });
  actor.on('leader.stopped', ({ reason }) => {
    const log = reason === 'released' ? logger.info.bind(logger) : logger.warn.bind(logger);
    log({ identity, reason }, 'stopped leading: this Hermod delivers nothing');
    options.onStoppedLeading?.(reason);
  });
  actor.subscribe({
    error: (err) => logger.error({ err, identity }, 'leader election failed'),
  });
  actor.start();

  const done = (ref: AnyActorRef) =>
    new Promise<void>((resolve) => {
      if (ref.getSnapshot().status !== 'active') return resolve();
      ref.subscribe({ complete: () => resolve(), error: () => resolve() });
    });

  return {
    identity,
    isLeader() {
      const snapshot = actor.getSnapshot();
      if (snapshot.status !== 'active' || !snapshot.matches('leading')) return false;
      const lastRenew = snapshot.context.observed?.observedAt;
      return lastRenew !== undefined && now() - lastRenew < timing.renewDeadlineMs;
    },
    fence(reason) {
      if (actor.getSnapshot().matches('leading')) logger.warn({ identity, reason }, "fenced: another writer holds Hermod's state");
      actor.send({ type: 'election.fence', reason });
    },
    release() {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'election.release' });
      return done(actor);
    },
    stop() {
      actor.stop();
    },
  };
}
