/**
 * More rules of src/machines/lease.ts (issue 15), one small scenario each: when two Lease
 * records are the same, who holds an absent Lease, and releasing a Lease never seen.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHeldBy, nextRecord, observe, sameRecord, type LeaseRecord } from '../../src/machines/lease.js';

const record: LeaseRecord = { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: 1_000, renewTime: 2_000, leaseTransitions: 3 };

describe('sameRecord', () => {
  it('an absent Lease is the same as an absent one, and differs from any record, on either side', () => {
    assert.equal(sameRecord(null, null), true);
    assert.equal(sameRecord(null, record), false);
    assert.equal(sameRecord(record, null), false);
  });

  it('a record differing in any one field is another record', () => {
    assert.equal(sameRecord(record, { ...record }), true);
    for (const change of [{ holderIdentity: 'b' }, { leaseDurationSeconds: 1 }, { acquireTime: 1_001 }, { renewTime: 2_001 }, { leaseTransitions: 4 }]) {
      assert.equal(sameRecord(record, { ...record, ...change }), false, JSON.stringify(change));
    }
  });

  it('a Lease that stays absent keeps its first observation time', () => {
    const first = observe(null, { record: null, resourceVersion: null }, 100_000);
    assert.equal(observe(first, { record: null, resourceVersion: null }, 105_000).observedAt, 100_000);
  });
});

describe('isHeldBy and nextRecord without a record', () => {
  it('nobody holds an absent Lease', () => {
    assert.equal(isHeldBy({ record: null, resourceVersion: null, observedAt: 0 }, 'a'), false);
  });

  it('releasing a Lease never observed writes no holder and no transitions', () => {
    assert.deepEqual(nextRecord('release', null, 'a', 15, 7_000), { holderIdentity: null, leaseDurationSeconds: 1, acquireTime: 7_000, renewTime: 7_000, leaseTransitions: 0 });
  });
});
