/**
 * Leader election on the REAL control plane (test/support/cluster.ts): two electors
 * (src/actors/election.ts with src/io/kube/lease.ts) campaign for one coordination.k8s.io/v1
 * Lease. Exactly one leads; a release hands over within a retry period; a leader killed
 * without releasing is replaced once its lease has run out; a leader whose Lease a third party
 * took stops at once, long before its renew deadline.
 *
 * Timings are shortened (and chosen per test so that the wrong behaviour would take far
 * longer than the wait allows): the rules are the same at client-go's 15/10/2 s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { createElection, type Election } from '../../src/actors/election.js';
import { createLeaseApi } from '../../src/io/kube/lease.js';
import type { LeaseTiming } from '../../src/machines/lease.js';
import type { StopReason } from '../../src/machines/leaderMachine.js';
import { startCluster, type TestCluster } from '../support/cluster.js';

const NS = 'hermod-system';

interface Elector {
  election: Election;
  events: Array<'started' | StopReason>;
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('leader election on a real Lease', () => {
  let cluster: TestCluster;
  let kubeConfig: k8s.KubeConfig;
  const electors: Elector[] = [];

  before(async () => {
    cluster = await startCluster();
    kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    await kubeConfig.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
  });

  after(async () => {
    for (const e of electors) e.election.stop();
    if (cluster) await cluster.stop();
  });

  function elector(identity: string, lease: string, timing: LeaseTiming): Elector {
    const events: Elector['events'] = [];
    const election = createElection({
      lease: createLeaseApi({ kubeConfig, namespace: NS, name: lease }),
      identity,
      timing,
      onStartedLeading: () => events.push('started'),
      onStoppedLeading: (reason) => events.push(reason),
    });
    const e = { election, events };
    electors.push(e);
    return e;
  }

  const readLease = (name: string) => kubeConfig.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name, namespace: NS });

  it('two electors: exactly one leads, and the Lease names it', async () => {
    // A renew deadline long enough that a slow, shared machine does not end a term by itself.
    const timing = { leaseDurationMs: 8_000, renewDeadlineMs: 6_000, retryPeriodMs: 500 };
    const a = elector('a', 'one-leader', timing);
    const b = elector('b', 'one-leader', timing);
    const leader = await eventually('a leader', 10_000, () => [a, b].find((e) => e.election.isLeader()));
    // Over a lease duration and more: the follower never takes over from a leader that renews.
    for (let i = 0; i < 48; i++) {
      assert.deepEqual([a, b].filter((e) => e.election.isLeader()), [leader], `one leader at sample ${i}`);
      await sleep(250);
    }
    const lease = await readLease('one-leader');
    assert.equal(lease.spec?.holderIdentity, leader.election.identity);
    assert.equal(lease.spec?.leaseDurationSeconds, 8);
    assert.equal(lease.spec?.leaseTransitions, 0);
    const follower = leader === a ? b : a;
    assert.deepEqual(follower.events, []);
    assert.deepEqual(leader.events, ['started']);
    a.election.stop();
    b.election.stop();
  });

  it('release hands over within a retry period, not a lease duration', async () => {
    // A 60 s lease: a follower that had to wait it out would miss the 20 s wait below.
    const timing = { leaseDurationMs: 60_000, renewDeadlineMs: 40_000, retryPeriodMs: 500 };
    const a = elector('a', 'release', timing);
    await eventually('a leads', 10_000, () => a.election.isLeader());
    const b = elector('b', 'release', timing);
    await sleep(1_000);
    assert.equal(b.election.isLeader(), false);
    await a.election.release();
    assert.equal(a.election.isLeader(), false);
    assert.deepEqual(a.events, ['started', 'released']);
    await eventually('b leads after the release', 20_000, () => b.election.isLeader());
    const lease = await readLease('release');
    assert.equal(lease.spec?.holderIdentity, 'b');
    assert.equal(lease.spec?.leaseTransitions, 1);
    b.election.stop();
  });

  it('a leader killed without release is replaced once its lease has run out, and not before', async () => {
    const timing = { leaseDurationMs: 6_000, renewDeadlineMs: 4_000, retryPeriodMs: 500 };
    const a = elector('a', 'kill', timing);
    await eventually('a leads', 10_000, () => a.election.isLeader());
    const b = elector('b', 'kill', timing);
    await sleep(1_000);
    a.election.stop();
    const killedAt = Date.now();
    // Well inside the dead leader's lease, b must not lead yet.
    await sleep(3_000);
    assert.equal(b.election.isLeader(), false, 'took over while the killed leader\'s lease still ran');
    await eventually('b leads after the lease ran out', 20_000, () => b.election.isLeader());
    assert.ok(Date.now() - killedAt >= timing.leaseDurationMs - timing.retryPeriodMs, `took over after ${Date.now() - killedAt} ms`);
    const lease = await readLease('kill');
    assert.equal(lease.spec?.holderIdentity, 'b');
    assert.equal(lease.spec?.leaseTransitions, 1);
    b.election.stop();
  });

  it('a leader whose Lease a third party took stops at once, long before its renew deadline', async () => {
    // A 40 s renew deadline: waiting for it would miss the 10 s wait below.
    const timing = { leaseDurationMs: 60_000, renewDeadlineMs: 40_000, retryPeriodMs: 500 };
    const a = elector('a', 'intruded', timing);
    await eventually('a leads', 10_000, () => a.election.isLeader());
    const lease = await readLease('intruded');
    const now = new k8s.V1MicroTime(Date.now());
    await kubeConfig.makeApiClient(k8s.CoordinationV1Api).replaceNamespacedLease({
      name: 'intruded',
      namespace: NS,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', acquireTime: now, renewTime: now } },
    });
    await eventually('a stops leading', 10_000, () => !a.election.isLeader());
    assert.deepEqual(a.events, ['started', 'deposed']);
    await sleep(1_500);
    assert.equal(a.election.isLeader(), false, 'it does not take the Lease back while the intruder\'s term runs');
    assert.equal((await readLease('intruded')).spec?.holderIdentity, 'intruder');
    a.election.stop();
  });
});
