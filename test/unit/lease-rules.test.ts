/**
 * The pure rules of leader election (src/machines/lease.ts): when a held Lease is expired
 * (by the reader's clock, never the holder's), who may acquire, and what each write says.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canAcquire, DEFAULT_LEASE_TIMING, isExpired, nextRecord, observe, timingProblem, type LeaseRecord, type ObservedLease,
} from '../../src/machines/lease.js';

const held = (holderIdentity: string | null, over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity, leaseDurationSeconds: 15, acquireTime: 1_000, renewTime: 2_000, leaseTransitions: 3, ...over,
});

describe('observe', () => {
  it('keeps the first observation time while the record is unchanged, whatever its resourceVersion', () => {
    const first = observe(null, { record: held('a'), resourceVersion: '10' }, 100_000);
    const again = observe(first, { record: held('a'), resourceVersion: '11' }, 105_000);
    assert.equal(again.observedAt, 100_000);
    assert.equal(again.resourceVersion, '11', 'the latest resourceVersion is the next precondition');
  });

  it('restarts the clock when the holder renewed (any field of the record changed)', () => {
    const first = observe(null, { record: held('a'), resourceVersion: '10' }, 100_000);
    assert.equal(observe(first, { record: held('a', { renewTime: 3_000 }), resourceVersion: '12' }, 105_000).observedAt, 105_000);
    assert.equal(observe(first, { record: held('b'), resourceVersion: '12' }, 105_000).observedAt, 105_000);
    assert.equal(observe(first, { record: null, resourceVersion: null }, 105_000).observedAt, 105_000);
  });
});

describe('isExpired and canAcquire', () => {
  const seen = (record: LeaseRecord | null, observedAt = 100_000): ObservedLease => ({ record, resourceVersion: '1', observedAt });

  it('a held Lease expires its duration after the reader first saw it, not after its renewTime', () => {
    // renewTime is far in the past by the reader's clock (another node's clock may be skewed): not trusted.
    const lease = seen(held('a', { renewTime: 0 }));
    assert.equal(isExpired(lease, 100_000 + 14_999), false);
    assert.equal(isExpired(lease, 100_000 + 15_000), true);
  });

  it('uses the duration written in the record (a released Lease says 1 s)', () => {
    assert.equal(isExpired(seen(held('a', { leaseDurationSeconds: 1 })), 101_000), true);
    assert.equal(isExpired(seen(held('a', { leaseDurationSeconds: 1 })), 100_999), false);
  });

  it('an absent or unheld Lease is free at once', () => {
    assert.equal(isExpired(seen(null), 0), true);
    assert.equal(isExpired(seen(held(null)), 100_000), true);
  });

  it('a candidate may take its own Lease, or a free one, but not one another holder renews', () => {
    assert.equal(canAcquire(seen(held('me')), 'me', 100_001), true);
    assert.equal(canAcquire(seen(held('other')), 'me', 100_001), false);
    assert.equal(canAcquire(seen(held('other')), 'me', 115_000), true);
    assert.equal(canAcquire(seen(held(null)), 'me', 100_001), true);
  });
});

describe('nextRecord', () => {
  const seen = (record: LeaseRecord | null): ObservedLease => ({ record, resourceVersion: '1', observedAt: 0 });

  it('creating the Lease: holder me, no transitions yet', () => {
    assert.deepEqual(nextRecord('acquire', seen(null), 'me', 15, 50_000), {
      holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: 50_000, renewTime: 50_000, leaseTransitions: 0,
    });
    assert.deepEqual(nextRecord('acquire', null, 'me', 15, 50_000).leaseTransitions, 0);
  });

  it('taking it from another holder, or after a release, counts a transition and restarts acquireTime', () => {
    assert.deepEqual(nextRecord('acquire', seen(held('other')), 'me', 15, 50_000), {
      holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: 50_000, renewTime: 50_000, leaseTransitions: 4,
    });
    assert.equal(nextRecord('acquire', seen(held(null)), 'me', 15, 50_000).leaseTransitions, 4);
  });

  it('renewing keeps acquireTime and the transitions, and moves renewTime', () => {
    assert.deepEqual(nextRecord('renew', seen(held('me')), 'me', 15, 50_000), {
      holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: 1_000, renewTime: 50_000, leaseTransitions: 3,
    });
  });

  it('releasing writes no holder and a 1 s duration (client-go ReleaseOnCancel), keeping the transitions', () => {
    assert.deepEqual(nextRecord('release', seen(held('me')), 'me', 15, 50_000), {
      holderIdentity: null, leaseDurationSeconds: 1, acquireTime: 50_000, renewTime: 50_000, leaseTransitions: 3,
    });
  });
});

describe('timingProblem', () => {
  it('accepts client-go\'s defaults', () => {
    assert.equal(timingProblem(DEFAULT_LEASE_TIMING), null);
  });

  it('refuses a renew deadline that reaches the lease duration, or a retry period that reaches the deadline', () => {
    assert.match(timingProblem({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }) ?? '', /lease duration .* greater than the renew deadline/);
    assert.match(timingProblem({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }) ?? '', /renew deadline .* greater than the retry period/);
    assert.match(timingProblem({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 }) ?? '', /retry period must be positive/);
  });
});
