/**
 * Leader election (src/actors/election.ts running src/machines/leaderMachine.ts) on a
 * SimulatedClock. The API server's Lease is stood in for by an in-memory Lease with the same
 * resourceVersion preconditions (409 on a stale write, create only when absent); the same
 * behaviours run against the real control plane in test/integration/election.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimulatedClock } from 'xstate';
import { createElection, type Election, type LeaseApi } from '../../src/actors/election.js';
import type { LeaseRead, LeaseRecord } from '../../src/machines/lease.js';
import type { StopReason } from '../../src/machines/leaderMachine.js';

const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** One Lease with resourceVersion preconditions, as the API server keeps it. */
class MemoryLease {
  record: LeaseRecord | null = null;
  version = 0;
  writes: Array<{ record: LeaseRecord; by: string }> = [];
  /** Requests fail (an unreachable API server) while set. */
  failing = false;
  /** Requests never answer while set. */
  hanging = false;
  /** Candidates cut off from the API server (a network partition): their requests fail. */
  partitioned = new Set<string>();
  /** While set, requests wait for it, then apply in the order they were sent (a slow API server). */
  gate: Promise<void> | null = null;

  api(who = ''): LeaseApi {
    const answer = async <T>(fn: () => T): Promise<T> => {
      if (this.hanging) return new Promise<T>(() => {});
      if (this.gate !== null) await this.gate;
      if (this.failing || this.partitioned.has(who)) throw new Error('connect ECONNREFUSED');
      return fn();
    };
    return {
      read: () => answer((): LeaseRead => ({ record: this.record && { ...this.record }, resourceVersion: this.record ? String(this.version) : null })),
      write: (record, resourceVersion) =>
        answer(() => {
          const current = this.record ? String(this.version) : null;
          if (resourceVersion !== current) return { kind: 'conflict' as const };
          return { kind: 'written' as const, resourceVersion: this.put(record) };
        }),
    };
  }

  /** Any write, e.g. by a third party; returns the new resourceVersion. */
  put(record: LeaseRecord, by = record.holderIdentity ?? ''): string {
    this.record = { ...record };
    this.version++;
    this.writes.push({ record: { ...record }, by });
    return String(this.version);
  }
}

interface Candidate {
  election: Election;
  log: Array<{ at: number; event: 'started' | StopReason }>;
}

function setup() {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const lease = new MemoryLease();
  const candidates: Candidate[] = [];
  /** How far the process's clock runs ahead of the timers (an event loop that did not get to run them). */
  let lag = 0;
  const candidate = (identity: string): Candidate => {
    const log: Candidate['log'] = [];
    const election = createElection({
      lease: lease.api(identity),
      identity,
      timing: TIMING,
      clock,
      now: () => clock.now() + lag,
      onStartedLeading: () => log.push({ at: clock.now(), event: 'started' }),
      onStoppedLeading: (reason) => log.push({ at: clock.now(), event: reason }),
    });
    const c = { election, log };
    candidates.push(c);
    return c;
  };
  /** Lets promise actors settle, then moves the simulated clock in small steps. */
  const advance = async (ms: number, step = 100) => {
    await settle();
    for (let t = 0; t < ms; t += step) {
      clock.increment(Math.min(step, ms - t));
      await settle();
    }
  };
  const leaders = () => candidates.filter((c) => c.election.isLeader()).map((c) => c.election.identity);
  const stopAll = () => candidates.forEach((c) => c.election.stop());
  return { clock, lease, candidate, advance, leaders, stopAll, setLag: (ms: number) => (lag = ms) };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('leader election on a SimulatedClock', () => {
  it('a lone candidate creates the Lease and leads at once', async () => {
    const s = setup();
    const a = s.candidate('a');
    await s.advance(0);
    assert.deepEqual(s.leaders(), ['a']);
    assert.deepEqual(a.log, [{ at: 1_000_000, event: 'started' }]);
    assert.equal(s.lease.record?.holderIdentity, 'a');
    assert.equal(s.lease.record?.leaseTransitions, 0);
    s.stopAll();
  });

  it('two candidates: exactly one leads, and keeps renewing every retry period', async () => {
    const s = setup();
    s.candidate('a');
    s.candidate('b');
    for (let i = 0; i < 30; i++) {
      await s.advance(1_000);
      assert.equal(s.leaders().length, 1, `one leader at +${i + 1} s: ${s.leaders().join()}`);
    }
    const leader = s.leaders()[0]!;
    const renewals = s.lease.writes.filter((w) => w.by === leader).length;
    assert.ok(renewals >= 15, `renewed every 2 s: ${renewals} writes`);
    assert.ok(s.lease.writes.every((w) => w.by === leader), 'the follower never wrote');
    s.stopAll();
  });

  it('release hands over within one retry period, and the old leader stops before the Lease says so', async () => {
    const s = setup();
    const a = s.candidate('a');
    await s.advance(0);
    const b = s.candidate('b');
    await s.advance(5_000);
    assert.deepEqual(s.leaders(), ['a']);
    const released = a.election.release();
    // Leadership ends synchronously, before the release is written.
    assert.equal(a.election.isLeader(), false);
    await released;
    assert.deepEqual(a.log.map((e) => e.event), ['started', 'released']);
    assert.equal(s.lease.record?.holderIdentity, null);
    assert.equal(s.lease.record?.leaseDurationSeconds, 1);
    const releasedAt = s.clock.now();
    await s.advance(TIMING.retryPeriodMs);
    assert.deepEqual(s.leaders(), ['b']);
    assert.ok(b.log[0]!.at - releasedAt <= TIMING.retryPeriodMs, `took ${b.log[0]!.at - releasedAt} ms`);
    assert.equal(s.lease.record?.leaseTransitions, 1);
    s.stopAll();
  });

  it('regression: a renew still in flight when the release began lands first; the release is written all the same', async () => {
    // Seen on the real control plane: the release answered 409 and the follower waited out a whole lease.
    const s = setup();
    const a = s.candidate('a');
    await s.advance(0);
    s.candidate('b');
    await s.advance(1_000);
    let open!: () => void;
    s.lease.gate = new Promise((resolve) => (open = resolve));
    await s.advance(TIMING.retryPeriodMs);
    const released = a.election.release();
    s.lease.gate = null;
    open();
    await released;
    assert.equal(s.lease.record?.holderIdentity, null, 'released');
    await s.advance(TIMING.retryPeriodMs);
    assert.deepEqual(s.leaders(), ['b']);
    s.stopAll();
  });

  it('a killed leader (stopped without release) is replaced once the lease duration has passed, not before', async () => {
    const s = setup();
    const a = s.candidate('a');
    await s.advance(0);
    const b = s.candidate('b');
    await s.advance(3_000);
    a.election.stop();
    const killedAt = s.clock.now();
    await s.advance(TIMING.leaseDurationMs - TIMING.retryPeriodMs);
    assert.deepEqual(s.leaders(), [], 'nobody leads while the dead leader\'s lease may still run');
    await s.advance(TIMING.retryPeriodMs * 2);
    assert.deepEqual(s.leaders(), ['b']);
    const took = b.log[0]!.at - killedAt;
    assert.ok(took >= TIMING.leaseDurationMs - TIMING.retryPeriodMs && took <= TIMING.leaseDurationMs + TIMING.retryPeriodMs, `took ${took} ms`);
    s.stopAll();
  });

  it('a leader whose Lease a third party took stops at its next renew, without waiting for the deadline', async () => {
    const s = setup();
    const a = s.candidate('a');
    await s.advance(3_000);
    s.lease.put({ holderIdentity: 'intruder', leaseDurationSeconds: 15, acquireTime: s.clock.now(), renewTime: s.clock.now(), leaseTransitions: 9 });
    const takenAt = s.clock.now();
    await s.advance(TIMING.retryPeriodMs);
    assert.equal(a.election.isLeader(), false);
    assert.equal(a.log.at(-1)?.event, 'deposed');
    assert.ok(a.log.at(-1)!.at - takenAt <= TIMING.retryPeriodMs);
    // It does not take the Lease back while the intruder's term may run.
    await s.advance(TIMING.leaseDurationMs - 3 * TIMING.retryPeriodMs);
    assert.equal(a.election.isLeader(), false);
    assert.equal(s.lease.record?.holderIdentity, 'intruder');
    s.stopAll();
  });

  it('a leader that keeps its Lease through a third party\'s edit (same holder) renews on', async () => {
    const s = setup();
    const a = s.candidate('a');
    await s.advance(3_000);
    s.lease.put({ ...s.lease.record!, leaseTransitions: 42 }, 'kubectl');
    await s.advance(TIMING.renewDeadlineMs * 2);
    assert.equal(a.election.isLeader(), true);
    assert.deepEqual(a.log.map((e) => e.event), ['started']);
    s.stopAll();
  });

  it('a leader that cannot renew stops at the renew deadline, not before', async () => {
    const s = setup();
    const a = s.candidate('a');
    await s.advance(0);
    await s.advance(TIMING.retryPeriodMs);
    const lastRenew = s.lease.writes.at(-1)!.record.renewTime!;
    s.lease.failing = true;
    await s.advance(lastRenew + TIMING.renewDeadlineMs - s.clock.now() - 100);
    assert.equal(a.election.isLeader(), true, 'still within the deadline');
    await s.advance(200);
    assert.equal(a.election.isLeader(), false);
    assert.deepEqual(a.log.map((e) => e.event), ['started', 'renewDeadline']);
    assert.equal(a.log[1]!.at, lastRenew + TIMING.renewDeadlineMs);
    s.stopAll();
  });

  it('a renew that hangs ends leadership at the deadline all the same', async () => {
    const s = setup();
    const a = s.candidate('a');
    await s.advance(0);
    s.lease.hanging = true;
    await s.advance(TIMING.renewDeadlineMs + 100);
    assert.equal(a.election.isLeader(), false);
    assert.equal(a.log.at(-1)?.event, 'renewDeadline');
    s.stopAll();
  });

  it('isLeader() turns false at the deadline even if the timer has not fired (a blocked event loop)', async () => {
    const s = setup();
    const a = s.candidate('a');
    await s.advance(0);
    s.lease.hanging = true;
    s.setLag(TIMING.renewDeadlineMs - 1);
    assert.equal(a.election.isLeader(), true);
    s.setLag(TIMING.renewDeadlineMs);
    assert.equal(a.election.isLeader(), false);
    s.stopAll();
  });

  it('a fenced leader steps down at once; holding the Lease still, it leads again (a fresh start) a retry period later', async () => {
    const s = setup();
    const a = s.candidate('a');
    await s.advance(3_000);
    a.election.fence('state write answered 409');
    assert.equal(a.election.isLeader(), false);
    await s.advance(TIMING.retryPeriodMs);
    assert.equal(a.election.isLeader(), true);
    assert.deepEqual(a.log.map((e) => e.event), ['started', 'fenced', 'started']);
    s.stopAll();
  });

  it('a candidate that cannot reach the API server keeps trying, and leads once it can', async () => {
    const s = setup();
    s.lease.failing = true;
    const a = s.candidate('a');
    await s.advance(10_000);
    assert.equal(a.election.isLeader(), false);
    s.lease.failing = false;
    await s.advance(TIMING.retryPeriodMs);
    assert.equal(a.election.isLeader(), true);
    s.stopAll();
  });

  it('an unreachable API server is logged once per streak, and its recovery once', async () => {
    const s = setup();
    s.lease.failing = true;
    const lines: string[] = [];
    const record = (level: string) => (_: object, msg?: string) => lines.push(`${level} ${msg}`);
    const logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
    const a = createElection({ lease: s.lease.api(), identity: 'a', timing: TIMING, clock: s.clock, now: () => s.clock.now(), logger });
    await s.advance(10_000);
    s.lease.failing = false;
    await s.advance(TIMING.retryPeriodMs);
    assert.deepEqual(lines, [
      'warn leader election: cannot read the Lease: retrying',
      'info leader election: the Lease answers again',
      'info leading: this Hermod delivers',
    ]);
    a.stop();
  });

  it('releasing a follower writes nothing', async () => {
    const s = setup();
    s.candidate('a');
    await s.advance(0);
    const b = s.candidate('b');
    await s.advance(1_000);
    const writes = s.lease.writes.length;
    await b.election.release();
    assert.equal(s.lease.writes.length, writes);
    assert.deepEqual(b.log, []);
    s.stopAll();
  });

  it('refuses timings client-go would refuse', () => {
    const s = setup();
    assert.throws(
      () => createElection({ lease: s.lease.api(), identity: 'x', timing: { leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } }),
      /lease duration \(10000 ms\) must be greater than the renew deadline/,
    );
  });

  it('never two leaders at once, through random kills, partitions, fences and releases (seeded)', async () => {
    for (let seed = 1; seed <= 16; seed++) {
      const random = mulberry32(seed);
      const s = setup();
      let next = 0;
      const live: Candidate[] = [];
      const spawn = () => live.push(s.candidate(`c${next++}`));
      spawn();
      spawn();
      spawn();
      for (let step = 0; step < 300; step++) {
        const roll = random();
        const someone = live[Math.floor(random() * live.length)];
        if (roll < 0.02 && someone) {
          someone.election.stop();
          live.splice(live.indexOf(someone), 1);
          spawn();
        } else if (roll < 0.06) {
          // Cut off the leader most of the time: the case where a deposed leader could still act.
          const leader = live.find((c) => c.election.isLeader()) ?? someone;
          if (leader) s.lease.partitioned.add(leader.election.identity);
        } else if (roll < 0.07) {
          s.lease.partitioned.clear();
        } else if (roll < 0.08 && someone) {
          someone.election.fence('a state write answered 409');
        } else if (roll < 0.09 && someone) {
          void someone.election.release();
          live.splice(live.indexOf(someone), 1);
          spawn();
        }
        await s.advance(50 + Math.floor(random() * 450), 50);
        assert.ok(s.leaders().length <= 1, `seed ${seed} step ${step}: leaders ${s.leaders().join()}`);
      }
      // Once the network heals, someone leads within a lease duration and a retry period.
      s.lease.partitioned.clear();
      await s.advance(TIMING.leaseDurationMs + 2 * TIMING.retryPeriodMs);
      assert.equal(s.leaders().length, 1, `seed ${seed}: a leader after healing`);
      s.stopAll();
    }
  });
});

/** A small seeded PRNG, so a failing run can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
