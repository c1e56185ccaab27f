/**
 * Rollout details on demand (ADR 0007): which workloads need their namespace's ReplicaSets,
 * ControllerRevisions, Pods and Warning events watched (machines/workloadRollout.ts), when the
 * watcher starts and stops those watches (io/kube/detailDemand.ts), that no observation is made
 * from half a view while they list (io/kube/sinkFeed.ts), and that a namespace's watches start
 * with its workloads only and add the details on request (io/kube/namespacedWatches.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../../src/actors/logger.js';
import type { WatchSink } from '../../src/actors/watchSink.js';
import type { DeploymentFacts, WorkloadFacts } from '../../src/machines/facts.js';
import { needsRolloutDetails } from '../../src/machines/workloadRollout.js';
import { RolloutIndex } from '../../src/io/kube/caches.js';
import { DetailDemand } from '../../src/io/kube/detailDemand.js';
import { NamespacedWatches } from '../../src/io/kube/namespacedWatches.js';
import { SinkFeed } from '../../src/io/kube/sinkFeed.js';
import { DEFAULT_ANNOTATIONS } from '../../src/machines/annotations.js';
import { listWatchFake } from '../support/listWatchFake.js';
import { deploymentFacts, workloadObservation } from '../support/observations.js';

const settled = (over: Partial<Parameters<typeof deploymentFacts>[0]> = {}): DeploymentFacts =>
  deploymentFacts({ revision: 3, updated: 2, available: 2, at: 0, ...over });
const rolling = (over: Partial<Parameters<typeof deploymentFacts>[0]> = {}): DeploymentFacts =>
  deploymentFacts({ revision: 4, updated: 1, available: 1, old: 1, at: 0, ...over });

describe('needsRolloutDetails', () => {
  it('a Deployment needs them while it rolls out, not once complete or given up on', () => {
    assert.equal(needsRolloutDetails(rolling()), true);
    assert.equal(needsRolloutDetails(rolling({ observed: false })), true, 'spec not observed yet');
    assert.equal(needsRolloutDetails(rolling({ paused: true })), true, 'paused mid-way');
    assert.equal(needsRolloutDetails(settled()), false);
    assert.equal(needsRolloutDetails(rolling({ deadlineExceeded: true })), false, 'the controller gave up: the verdict is in');
  });

  it('a StatefulSet or DaemonSet always needs them: its revision is read from its ControllerRevisions', () => {
    for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
      const done = workloadObservation(kind, { revision: 2, updated: 2, available: 2, at: 0 }).deployment;
      assert.equal(needsRolloutDetails(done), true, kind);
    }
  });
});

function demand(lingerMs = 60_000) {
  let now = 0;
  const log: string[] = [];
  const d = new DetailDemand({ lingerMs, now: () => now, start: (ns) => log.push(`start ${ns}`), stop: (ns) => log.push(`stop ${ns}`) });
  const event = (facts: WorkloadFacts, old?: WorkloadFacts) =>
    d.workload(old === undefined ? { type: 'add', key: facts.uid, facts } : { type: 'update', key: facts.uid, facts, old });
  return { d, log, event, at: (ms: number) => (now = ms) };
}

describe('DetailDemand', () => {
  it('starts a namespace\'s details when a workload there starts rolling out, once', () => {
    const t = demand();
    t.event(settled({ namespace: 'shop', uid: 'a' }));
    assert.deepEqual(t.log, [], 'nothing rolls out: nothing to watch');
    t.event(rolling({ namespace: 'shop', uid: 'a' }), settled({ namespace: 'shop', uid: 'a' }));
    t.event(rolling({ namespace: 'shop', uid: 'b' }));
    t.event(rolling({ namespace: 'pay', uid: 'c' }));
    assert.deepEqual(t.log, ['start shop', 'start pay']);
  });

  it('stops them only once nothing has needed them for the linger', () => {
    const t = demand(60_000);
    t.event(rolling({ namespace: 'shop', uid: 'a' }));
    t.event(rolling({ namespace: 'shop', uid: 'b' }));
    t.at(10_000);
    t.event(settled({ namespace: 'shop', uid: 'a' }), rolling({ namespace: 'shop', uid: 'a' }));
    t.at(500_000);
    t.d.sweep();
    assert.deepEqual(t.log, ['start shop'], 'b still rolls out');
    t.event(settled({ namespace: 'shop', uid: 'b' }), rolling({ namespace: 'shop', uid: 'b' }));
    t.at(559_999);
    t.d.sweep();
    assert.deepEqual(t.log, ['start shop'], 'inside the linger');
    t.at(560_000);
    t.d.sweep();
    assert.deepEqual(t.log, ['start shop', 'stop shop']);
    assert.equal(t.d.size, 0);
  });

  it('a rollout inside the linger keeps the watches; one after it starts them again', () => {
    const t = demand(60_000);
    t.event(rolling({ namespace: 'shop', uid: 'a' }));
    t.event(settled({ namespace: 'shop', uid: 'a' }), rolling({ namespace: 'shop', uid: 'a' }));
    t.at(30_000);
    t.event(rolling({ namespace: 'shop', uid: 'a', revision: 5 }), settled({ namespace: 'shop', uid: 'a' }));
    t.at(200_000);
    t.d.sweep();
    assert.deepEqual(t.log, ['start shop'], 'needed again before the linger ended: never stopped');
    t.event(settled({ namespace: 'shop', uid: 'a', revision: 5 }), rolling({ namespace: 'shop', uid: 'a', revision: 5 }));
    t.at(260_000);
    t.d.sweep();
    t.event(rolling({ namespace: 'shop', uid: 'a', revision: 6 }), settled({ namespace: 'shop', uid: 'a', revision: 5 }));
    assert.deepEqual(t.log, ['start shop', 'stop shop', 'start shop']);
  });

  it('a deleted workload needs nothing; a hold keeps the details until released, then the linger runs', () => {
    const t = demand(60_000);
    const a = rolling({ namespace: 'shop', uid: 'a' });
    t.event(a);
    t.d.workload({ type: 'delete', key: 'a', old: a });
    const release = t.d.hold(['shop', 'pay', 'shop']);
    assert.deepEqual(t.log, ['start shop', 'start pay']);
    t.at(100_000);
    t.d.sweep();
    assert.deepEqual(t.log, ['start shop', 'start pay'], 'held');
    release();
    release();
    t.at(159_999);
    t.d.sweep();
    assert.deepEqual(t.log, ['start shop', 'start pay']);
    t.at(160_000);
    t.d.sweep();
    assert.deepEqual(t.log, ['start shop', 'start pay', 'stop shop', 'stop pay']);
  });

  it('a release counts once: another hold on the namespace still keeps its details', () => {
    const t = demand(0);
    const first = t.d.hold(['shop']);
    const second = t.d.hold(['shop']);
    first();
    first();
    t.at(1);
    t.d.sweep();
    assert.deepEqual(t.log, ['start shop'], 'the second hold stands');
    second();
    t.at(2);
    t.d.sweep();
    assert.deepEqual(t.log, ['start shop', 'stop shop']);
  });

  it('an untracked namespace is forgotten: its watches went with it, nothing is stopped twice', () => {
    const t = demand(0);
    t.event(rolling({ namespace: 'shop', uid: 'a' }));
    t.d.forgetNamespace('shop');
    t.d.sweep();
    assert.deepEqual(t.log, ['start shop']);
    t.event(rolling({ namespace: 'shop', uid: 'b' }));
    assert.deepEqual(t.log, ['start shop', 'start shop'], 'tracked again: started again');
  });
});

describe('SinkFeed while a namespace\'s details list', () => {
  it('observes its workloads once they are listed, never from half a view', async () => {
    const index = new RolloutIndex();
    index.setNamespace({ uid: 'ns', name: 'shop', channel: 'deploys' });
    const seen: string[] = [];
    const sink: WatchSink = { observe: (o) => seen.push(o.deployment.name), deploymentDeleted: () => {}, namespaceUntracked: () => {}, synced: () => {} };
    let listing = true;
    const logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
    const feed = new SinkFeed({ sink, index, logger, now: () => 0, viewComplete: () => !listing });
    feed.goLive();
    const uids = index.applyDeployment({ type: 'add', key: 'a', facts: rolling({ namespace: 'shop', uid: 'a' }) });
    feed.markDirty(uids);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, [], 'parked while listing');
    listing = false;
    feed.release();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['web']);
  });
});

const settle = async (until: () => boolean) => {
  for (let i = 0; i < 200 && !until(); i++) await new Promise((r) => setImmediate(r));
};
const kinds = (paths: Iterable<string>) => [...paths].map((p) => p.split('/').at(-1)).sort();

describe('NamespacedWatches with details on demand', () => {
  it('watches a tracked namespace\'s workloads; its details only from startDetails to stopDetails', async () => {
    const api = listWatchFake();
    const listed: string[] = [];
    const noop = () => {};
    const w = new NamespacedWatches({
      client: api,
      logger: { debug: noop, info: noop, warn: noop, error: noop } as unknown as Logger,
      annotations: DEFAULT_ANNOTATIONS,
      isRecent: () => true,
      on: { deployment: noop, replicaSet: noop, controllerRevision: noop, pod: noop, event: noop, listed: noop, detailsListed: (ns) => listed.push(ns) },
    });
    w.start('shop');
    await settle(() => api.watching.size === 1);
    assert.deepEqual(kinds(api.watching), ['deployments']);
    assert.equal(w.details('shop'), 'off');
    assert.equal(w.allSynced(), true);

    api.held = /pods/;
    w.startDetails('shop');
    w.startDetails('shop');
    await settle(() => api.watching.size === 4);
    assert.equal(w.details('shop'), 'listing');
    assert.equal(w.allSynced(), false, 'a namespace whose details list is not synced');
    assert.deepEqual(listed, []);
    api.release();
    await settle(() => api.watching.size === 5);
    assert.equal(w.details('shop'), 'listed');
    assert.deepEqual(listed, ['shop']);
    assert.deepEqual(kinds(api.lists), ['controllerrevisions', 'deployments', 'events', 'pods', 'replicasets']);
    assert.equal(w.detailed, 1);

    w.stopDetails('shop');
    await settle(() => api.watching.size === 1);
    assert.deepEqual(kinds(api.watching), ['deployments']);
    assert.equal(w.details('shop'), 'off');
    assert.equal(w.stats().pods.lists, 1, 'counters of stopped watches are kept');
    // Standing watches ask the API server's own term (30-60 min); the details client-go's (5-10 min).
    for (const kind of ['deployments']) {
      const term = Number(api.terms.get(kind));
      assert.ok(term >= 1800 && term <= 3600, `${kind}: ${term} s`);
    }
    for (const kind of ['replicasets', 'controllerrevisions', 'pods', 'events']) {
      const term = Number(api.terms.get(kind));
      assert.ok(term >= 300 && term <= 600, `${kind}: ${term} s`);
    }
    await w.stopAll();
    assert.equal(api.watching.size, 0);
  });
});
