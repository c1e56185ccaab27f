/**
 * The rules of src/machines/leaderMachine.ts one small scenario each (issue 15), on the
 * statechart itself with its two Lease actors provided by an in-memory Lease whose answers
 * a test can hold back (a hanging request) or fail: what `leader.started` and
 * `leader.stopped` say, which request timeouts end which wait, and how a release ends.
 * The same machine behind createElection() is tested in election.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { leaderMachine, type LeaderEmitted, type LeaseReadOutput, type LeaseWriteInput, type LeaseWriteOutput } from '../../src/machines/leaderMachine.js';
import { nextRecord, type LeaseRecord } from '../../src/machines/lease.js';

const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

type Mode = 'answer' | 'hang' | 'fail' | 'conflict';

function setup(identity = 'me') {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const lease = { record: null as LeaseRecord | null, version: 0 };
  const reads: number[] = [];
  const writes: Array<{ at: number; intent: LeaseWriteInput['intent'] }> = [];
  const mode = { read: 'answer' as Mode, write: 'answer' as Mode };
  const held = <T>(m: Mode, answer: () => T): Promise<T> => {
    if (m === 'hang') return new Promise<T>(() => {});
    if (m === 'fail') return Promise.reject(new Error('connect ECONNREFUSED'));
    return Promise.resolve(answer());
  };
  const readLease = fromPromise<LeaseReadOutput, void>(async () => {
    reads.push(clock.now());
    return held(mode.read, () => ({ record: lease.record && { ...lease.record }, resourceVersion: lease.record ? String(lease.version) : null, at: clock.now() }));
  });
  const writeLease = fromPromise<LeaseWriteOutput, LeaseWriteInput>(async ({ input }) => {
    writes.push({ at: clock.now(), intent: input.intent });
    return held(mode.write, (): LeaseWriteOutput => {
      const current = lease.record ? String(lease.version) : null;
      if (mode.write === 'conflict' || (input.observed?.resourceVersion ?? null) !== current) return { kind: 'conflict' };
      const record = nextRecord(input.intent, input.observed, input.identity, input.leaseDurationSeconds, clock.now());
      lease.record = record;
      lease.version++;
      return { kind: 'written', read: { record, resourceVersion: String(lease.version) }, at: clock.now() };
    });
  });
  const actor = createActor(leaderMachine.provide({ actors: { readLease, writeLease } }), { clock, input: { identity, timing: TIMING } });
  const emitted: LeaderEmitted[] = [];
  actor.on('*', (e) => emitted.push(e as LeaderEmitted));
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const advance = async (ms: number, step = 100): Promise<void> => {
    await settle();
    for (let t = 0; t < ms; t += step) {
      clock.increment(Math.min(step, ms - t));
      await settle();
    }
  };
  const put = (record: LeaseRecord): void => {
    lease.record = record;
    lease.version++;
  };
  return { clock, lease, reads, writes, mode, actor, emitted, advance, settle, put };
}

const other = (over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity: 'other', leaseDurationSeconds: 15, acquireTime: 1, renewTime: 1, leaseTransitions: 4, ...over,
});

describe('leaderMachine rules: what it emits', () => {
  it('leading on a new Lease says who and no transitions yet', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    assert.deepEqual(s.emitted, [{ type: 'leader.started', identity: 'me', leaseTransitions: 0 }]);
    s.actor.stop();
  });

  it('taking over an expired Lease says the transitions the written record counts', async () => {
    const s = setup();
    s.put(other());
    s.actor.start();
    await s.advance(16_000);
    assert.deepEqual(s.emitted, [{ type: 'leader.started', identity: 'me', leaseTransitions: 5 }]);
    s.actor.stop();
  });

  it('each way out of leading says who and why, and the context keeps the last reason', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    assert.equal(s.actor.getSnapshot().context.lastStop, null);
    s.actor.send({ type: 'election.fence', reason: '409' });
    assert.deepEqual(s.emitted.at(-1), { type: 'leader.stopped', identity: 'me', reason: 'fenced' });
    assert.equal(s.actor.getSnapshot().context.lastStop, 'fenced');
    await s.advance(2_000);
    assert.deepEqual(s.emitted.at(-1), { type: 'leader.started', identity: 'me', leaseTransitions: 0 });
    s.mode.write = 'fail';
    await s.advance(10_000);
    assert.deepEqual(s.emitted.at(-1), { type: 'leader.stopped', identity: 'me', reason: 'renewDeadline' });
    assert.equal(s.actor.getSnapshot().context.lastStop, 'renewDeadline');
    assert.equal(s.actor.getSnapshot().matches({ following: 'waiting' }), true, 'a leader past its deadline follows');
    s.actor.stop();
  });

  it('a leader whose renew conflicts and who finds another holder is deposed', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    s.put(other());
    await s.advance(2_000);
    assert.deepEqual(s.emitted.at(-1), { type: 'leader.stopped', identity: 'me', reason: 'deposed' });
    assert.equal(s.actor.getSnapshot().context.lastStop, 'deposed');
    assert.equal(s.actor.getSnapshot().context.observed?.record?.holderIdentity, 'other', 'what it read is what it knows');
    s.actor.stop();
  });

  it('a release says released, before anything is written', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    s.mode.write = 'hang';
    s.actor.send({ type: 'election.release' });
    assert.deepEqual(s.emitted.at(-1), { type: 'leader.stopped', identity: 'me', reason: 'released' });
    assert.equal(s.actor.getSnapshot().context.lastStop, 'released');
    s.actor.stop();
  });
});

describe('leaderMachine rules: requests that hang or fail', () => {
  it('a read that hangs is given up after the renew deadline; the next read comes a retry period later', async () => {
    const s = setup();
    s.mode.read = 'hang';
    s.actor.start();
    await s.advance(9_900);
    assert.deepEqual(s.reads, [1_000_000]);
    s.mode.read = 'answer';
    await s.advance(2_100);
    assert.deepEqual(s.reads, [1_000_000, 1_012_000]);
    s.actor.stop();
  });

  it('an acquiring write that hangs is given up after the renew deadline', async () => {
    const s = setup();
    s.mode.write = 'hang';
    s.actor.start();
    await s.advance(11_900);
    assert.deepEqual(s.reads, [1_000_000]);
    assert.equal(s.actor.getSnapshot().matches({ following: 'waiting' }), true);
    await s.advance(100);
    assert.deepEqual(s.reads, [1_000_000, 1_012_000]);
    s.actor.stop();
  });

  it('a failed read or write waits a retry period, then reads again', async () => {
    const s = setup();
    s.mode.read = 'fail';
    s.actor.start();
    await s.advance(2_000);
    assert.deepEqual(s.reads, [1_000_000, 1_002_000]);
    s.mode.read = 'answer';
    s.mode.write = 'fail';
    await s.advance(2_000);
    assert.deepEqual(s.reads, [1_000_000, 1_002_000, 1_004_000]);
    assert.equal(s.emitted.length, 0);
    s.actor.stop();
  });

  it('an acquire that conflicts leaves the candidate following', async () => {
    const s = setup();
    s.mode.write = 'conflict';
    s.actor.start();
    await s.advance(0);
    assert.equal(s.actor.getSnapshot().matches({ following: 'waiting' }), true);
    assert.deepEqual(s.emitted, []);
    s.actor.stop();
  });

  it('a renew that fails is tried again a retry period later, within the same term', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    s.mode.write = 'fail';
    await s.advance(4_000);
    s.mode.write = 'answer';
    await s.advance(2_000);
    assert.deepEqual(s.writes.map((w) => [w.at - 1_000_000, w.intent]), [[0, 'acquire'], [2_000, 'renew'], [4_000, 'renew'], [6_000, 'renew']]);
    assert.deepEqual(s.emitted.map((e) => e.type), ['leader.started']);
    s.actor.stop();
  });

  it('a conflicting renew that finds the Lease still its own renews again at once', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    // A third party edits the record, keeping the holder: the renew's precondition fails.
    s.put({ ...s.lease.record!, leaseDurationSeconds: 30 });
    await s.advance(2_000);
    assert.deepEqual(s.writes.map((w) => [w.at - 1_000_000, w.intent]), [[0, 'acquire'], [2_000, 'renew'], [2_000, 'renew']]);
    assert.equal(s.actor.getSnapshot().matches('leading'), true);
    s.actor.stop();
  });
});

describe('leaderMachine rules: terms', () => {
  it('a leader that renews keeps leading past the renew deadline: each renew starts a new term', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(30_000);
    assert.deepEqual(s.emitted.map((e) => e.type), ['leader.started']);
    assert.equal(s.actor.getSnapshot().matches('leading'), true);
    s.actor.stop();
  });

  it('a leader whose check after a conflicting renew cannot read the Lease waits a retry period and renews again', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    s.put({ ...s.lease.record!, leaseDurationSeconds: 30 });
    s.mode.read = 'fail';
    await s.advance(2_000);
    assert.equal(s.actor.getSnapshot().matches({ leading: { term: 'waiting' } }), true);
    s.mode.read = 'answer';
    await s.advance(2_000);
    assert.deepEqual(s.writes.map((w) => [w.at - 1_000_000, w.intent]), [[0, 'acquire'], [2_000, 'renew'], [4_000, 'renew'], [4_000, 'renew']]);
    assert.equal(s.actor.getSnapshot().matches('leading'), true);
    s.actor.stop();
  });

  it('without its Lease actors provided, the machine keeps following: every request fails', async () => {
    const clock = new SimulatedClock();
    const actor = createActor(leaderMachine, { clock, input: { identity: 'me', timing: TIMING } });
    actor.start();
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    clock.increment(2_000);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(actor.getSnapshot().status, 'active');
    assert.equal(actor.getSnapshot().matches('following'), true);
    actor.stop();
  });
});

describe('leaderMachine rules: release', () => {
  it('a release written ends the machine', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    s.actor.send({ type: 'election.release' });
    await s.advance(0);
    assert.equal(s.actor.getSnapshot().status, 'done');
    assert.equal(s.lease.record?.holderIdentity, null);
  });

  it('a release whose write fails ends the machine without retrying', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    s.mode.write = 'fail';
    s.actor.send({ type: 'election.release' });
    await s.advance(0);
    assert.equal(s.actor.getSnapshot().status, 'done');
    assert.deepEqual(s.writes.map((w) => w.intent), ['acquire', 'release']);
  });

  it('a release that hangs ends the machine after the renew deadline, not before', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    s.mode.write = 'hang';
    s.actor.send({ type: 'election.release' });
    await s.advance(9_900);
    assert.equal(s.actor.getSnapshot().status, 'active');
    await s.advance(100);
    assert.equal(s.actor.getSnapshot().status, 'done');
  });

  it('a release that conflicts and finds another holder writes nothing more', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    s.put(other());
    s.actor.send({ type: 'election.release' });
    await s.advance(0);
    assert.equal(s.actor.getSnapshot().status, 'done');
    assert.deepEqual(s.writes.map((w) => w.intent), ['acquire', 'release']);
    assert.equal(s.lease.record?.holderIdentity, 'other');
  });

  it('a release that conflicts and finds the Lease still its own writes the release again', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    s.put({ ...s.lease.record!, renewTime: 5 });
    s.actor.send({ type: 'election.release' });
    await s.advance(0);
    assert.equal(s.actor.getSnapshot().status, 'done');
    assert.deepEqual(s.writes.map((w) => w.intent), ['acquire', 'release', 'release']);
    assert.equal(s.lease.record?.holderIdentity, null);
  });

  it('a release whose check cannot read the Lease ends the machine', async () => {
    const s = setup();
    s.actor.start();
    await s.advance(0);
    s.put({ ...s.lease.record!, renewTime: 5 });
    s.mode.read = 'fail';
    s.actor.send({ type: 'election.release' });
    await s.advance(0);
    assert.equal(s.actor.getSnapshot().status, 'done');
    assert.deepEqual(s.writes.map((w) => w.intent), ['acquire', 'release']);
  });

  it('a follower released stops without writing', async () => {
    const s = setup();
    s.put(other());
    s.actor.start();
    await s.advance(0);
    s.actor.send({ type: 'election.release' });
    await s.advance(0);
    assert.equal(s.actor.getSnapshot().status, 'done');
    assert.deepEqual(s.writes, []);
    assert.deepEqual(s.emitted, []);
  });
});
