/**
 * The rules of leader election on a coordination.k8s.io/v1 Lease, as client-go's
 * tools/leaderelection applies them (facts in /work/shared/reference/leader-election.md):
 * pure functions of the Lease record a candidate read and the candidate's OWN clock.
 *
 * A candidate never trusts another node's clock: a held Lease expires `leaseDurationSeconds`
 * after the moment this candidate first saw its current record, not after its `renewTime`.
 * Every write carries the resourceVersion that was read, so a Conflict means someone else
 * wrote first; that is handled where the write happens (leaderMachine.ts).
 */

/** The Lease's spec as election reads and writes it. Times are epoch milliseconds. */
export interface LeaseRecord {
  /** Who holds the Lease; null when nobody does (released, or never taken). */
  holderIdentity: string | null;
  leaseDurationSeconds: number;
  acquireTime: number | null;
  renewTime: number | null;
  leaseTransitions: number;
}

/** A Lease as read from the API server: absent (null record) or a record with its resourceVersion. */
export interface LeaseRead {
  record: LeaseRecord | null;
  resourceVersion: string | null;
}

/** What a candidate knows about the Lease: the last record it saw, and when (its own clock) it first saw it. */
export interface ObservedLease extends LeaseRead {
  observedAt: number;
}

/** client-go's defaults, which most controllers use. */
export interface LeaseTiming {
  /** How long a held Lease keeps other candidates away, measured from when they saw it change. */
  leaseDurationMs: number;
  /** A leader that has not renewed for this long stops leading at once. Less than leaseDurationMs. */
  renewDeadlineMs: number;
  /** How often candidates try to acquire, and leaders renew. */
  retryPeriodMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** What a write to the Lease is for. */
export type LeaseIntent = 'acquire' | 'renew' | 'release';

/**
 * The timing's problem, or null when usable: client-go refuses leaseDuration <= renewDeadline
 * (a leader could still act after others may take over) and renewDeadline <= retryPeriod
 * (a leader would get no second try before it must stop).
 */
export function timingProblem(timing: LeaseTiming): string | null {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = timing;
  if (!(retryPeriodMs > 0)) return `the retry period must be positive, got ${retryPeriodMs} ms`;
  if (leaseDurationMs <= renewDeadlineMs) return `the lease duration (${leaseDurationMs} ms) must be greater than the renew deadline (${renewDeadlineMs} ms)`;
  if (renewDeadlineMs <= retryPeriodMs) return `the renew deadline (${renewDeadlineMs} ms) must be greater than the retry period (${retryPeriodMs} ms)`;
  return null;
}

/** Two records are the same when every field of the spec is (client-go compares the whole record). */
export function sameRecord(a: LeaseRecord | null, b: LeaseRecord | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/**
 * What the candidate knows after reading `read` at `now`: the observation time moves only
 * when the record changed, so a holder that stops renewing expires on the reader's clock.
 */
export function observe(previous: ObservedLease | null, read: LeaseRead, now: number): ObservedLease {
  const unchanged = previous !== null && sameRecord(previous.record, read.record);
  return { ...read, observedAt: unchanged ? previous.observedAt : now };
}

/** Nobody holds the Lease: absent, released (empty holder), or not renewed within its duration since observed. */
export function isExpired(observed: ObservedLease, now: number): boolean {
  const record = observed.record;
  if (record === null || record.holderIdentity === null) return true;
  return observed.observedAt + record.leaseDurationSeconds * 1000 <= now;
}

export function isHeldBy(observed: ObservedLease, identity: string): boolean {
  return observed.record !== null && observed.record.holderIdentity === identity;
}

/** A candidate may write itself in as holder: the Lease is its own already, or nobody holds it. */
export function canAcquire(observed: ObservedLease, identity: string, now: number): boolean {
  return isHeldBy(observed, identity) || isExpired(observed, now);
}

/**
 * The record to write for `intent`, from the observed one, at `now`.
 * - acquire/renew: holder = identity; acquireTime and leaseTransitions are kept when the
 *   candidate already held it, else acquireTime = now and leaseTransitions + 1 (client-go
 *   counts a take-over from a released Lease too).
 * - release (client-go ReleaseOnCancel): an empty holder with a 1 s duration, so the next
 *   candidate takes over within one retry period instead of a whole lease duration.
 */
export function nextRecord(intent: LeaseIntent, observed: ObservedLease | null, identity: string, leaseDurationSeconds: number, now: number): LeaseRecord {
  const old = observed?.record ?? null;
  if (intent === 'release') {
    return { holderIdentity: null, leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: old?.leaseTransitions ?? 0 };
  }
  if (old !== null && old.holderIdentity === identity) {
    return { ...old, leaseDurationSeconds, renewTime: now, acquireTime: old.acquireTime ?? now };
  }
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: old === null ? 0 : old.leaseTransitions + 1,
  };
}
