/**
 * The watcher's parts without a cluster: the sink feed (coalescing, the live gate, a throwing
 * sink) and the namespace tracker (when workload watches start, relist and prune). The whole
 * watcher against a real API server is test/integration/watch.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../../src/actors/logger.js';
import type { WatchSink } from '../../src/actors/watchSink.js';
import type { DeploymentFacts, RolloutObservation } from '../../src/machines/facts.js';
import { RolloutIndex } from '../../src/io/kube/caches.js';
import { NamespaceTracker } from '../../src/io/kube/namespaceTracker.js';
import { SinkFeed } from '../../src/io/kube/sinkFeed.js';
import type { NamespaceFacts } from '../../src/io/kube/trim.js';
import { deploymentFacts } from '../support/observations.js';

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

function recordingSink(options: { throwOnObserve?: boolean } = {}) {
  const calls: string[] = [];
  const observations: RolloutObservation[] = [];
  const sink: WatchSink = {
    observe(obs) {
      calls.push(`observe ${obs.deployment.namespace}/${obs.deployment.name}`);
      observations.push(obs);
      if (options.throwOnObserve) throw new Error('sink broke');
    },
    deploymentDeleted: (ref) => calls.push(`deleted ${ref.namespace}/${ref.name}`),
    namespaceUntracked: (namespace) => calls.push(`untracked ${namespace}`),
    synced: () => calls.push('synced'),
  };
  return { sink, calls, observations };
}

function recordingLogger() {
  const lines: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: (_obj, msg) => lines.push(`info ${msg}`),
    warn: (_obj, msg) => lines.push(`warn ${msg}`),
    error: (_obj, msg) => lines.push(`error ${msg}`),
  };
  return { logger, lines };
}

function namespace(name: string, channel?: string, alert?: string): NamespaceFacts {
  return { uid: `ns-${name}`, name, ...(channel !== undefined ? { channel } : {}), ...(alert !== undefined ? { alert } : {}) };
}

function deployment(ns: string, name: string): DeploymentFacts {
  return deploymentFacts({ namespace: ns, name, uid: `uid-${ns}-${name}`, revision: 1, updated: 2, available: 2, at: 0 });
}

function setup(options: { throwOnObserve?: boolean } = {}) {
  const index = new RolloutIndex();
  const { sink, calls, observations } = recordingSink(options);
  const { logger, lines } = recordingLogger();
  const feed = new SinkFeed({ sink, index, logger, now: () => 1_000 });
  const add = (d: DeploymentFacts) => index.applyDeployment({ type: 'add', key: d.uid, facts: d });
  return { index, feed, calls, observations, lines, add };
}

describe('SinkFeed', () => {
  it('hands nothing to the sink before the caches synced, then every cached Deployment, then synced', async () => {
    const t = setup();
    t.index.setNamespace(namespace('shop', 'deploys'));
    t.feed.markDirty(t.add(deployment('shop', 'web')));
    t.feed.namespaceUntracked('other');
    await nextTick();
    assert.deepEqual(t.calls, []);

    t.add(deployment('shop', 'api'));
    assert.equal(t.feed.goLive(), 2);
    t.feed.synced();
    assert.deepEqual(t.calls.sort(), ['observe shop/api', 'observe shop/web', 'synced']);
    assert.equal(t.feed.observations, 2);
  });

  it('coalesces the changes of one tick into one observation per Deployment, observed at the clock', async () => {
    const t = setup();
    t.index.setNamespace(namespace('shop', 'deploys'));
    const uids = t.add(deployment('shop', 'web'));
    t.feed.goLive();
    t.calls.length = 0;
    t.feed.markDirty(uids);
    t.feed.markDirty(uids);
    t.feed.markDirty(uids);
    assert.deepEqual(t.calls, [], 'observations wait for the next turn of the event loop');
    await nextTick();
    assert.deepEqual(t.calls, ['observe shop/web']);
    assert.equal(t.observations.at(-1)!.at, 1_000);
  });

  it('drops a forgotten Deployment from the pending observations', async () => {
    const t = setup();
    t.index.setNamespace(namespace('shop', 'deploys'));
    const web = t.add(deployment('shop', 'web'));
    const api = t.add(deployment('shop', 'api'));
    t.feed.goLive();
    t.calls.length = 0;
    t.feed.markDirty([...web, ...api]);
    t.feed.forget(web[0]!);
    await nextTick();
    assert.deepEqual(t.calls, ['observe shop/api']);
  });

  it('logs a sink that throws and keeps feeding it', async () => {
    const t = setup({ throwOnObserve: true });
    t.index.setNamespace(namespace('shop', 'deploys'));
    const web = t.add(deployment('shop', 'web'));
    const api = t.add(deployment('shop', 'api'));
    assert.equal(t.feed.goLive(), 2, 'the initial observations went out despite the first throw');
    t.calls.length = 0;
    t.lines.length = 0;
    t.feed.markDirty([...web, ...api]);
    await nextTick();
    assert.deepEqual(t.calls.sort(), ['observe shop/api', 'observe shop/web']);
    assert.deepEqual(t.lines, ['error sink.observe threw', 'error sink.observe threw']);
  });

  it('hands nothing to the sink once stopped, not even what was pending', async () => {
    const t = setup();
    t.index.setNamespace(namespace('shop', 'deploys'));
    const web = t.add(deployment('shop', 'web'));
    t.feed.goLive();
    t.calls.length = 0;
    t.feed.markDirty(web);
    t.feed.stop();
    t.feed.markDirty(web);
    t.feed.deploymentDeleted({ namespace: 'shop', name: 'web', uid: web[0]! });
    t.feed.namespaceUntracked('shop');
    t.feed.synced();
    await nextTick();
    assert.deepEqual(t.calls, []);
  });
});

describe('NamespaceTracker', () => {
  function tracker() {
    const t = setup();
    const actions: string[] = [];
    const namespaces = new NamespaceTracker({
      index: t.index,
      feed: t.feed,
      logger: recordingLogger().logger,
      watchWorkloads: (ns) => actions.push(`watch ${ns}`),
      unwatchWorkloads: (ns) => actions.push(`unwatch ${ns}`),
    });
    return { ...t, namespaces, actions };
  }

  it('watches the workloads of each namespace that becomes tracked, and of no other', () => {
    const t = tracker();
    t.namespaces.onEvent({ type: 'add', key: 'ns-shop', facts: namespace('shop', 'deploys') });
    t.namespaces.onEvent({ type: 'add', key: 'ns-quiet', facts: namespace('quiet') });
    assert.equal(t.namespaces.hasListed, false);
    t.namespaces.onListed();
    assert.equal(t.namespaces.hasListed, true);
    t.namespaces.onEvent({ type: 'update', key: 'ns-quiet', facts: namespace('quiet', 'ops'), old: namespace('quiet') });
    t.namespaces.onEvent({ type: 'update', key: 'ns-shop', facts: namespace('shop', 'releases'), old: namespace('shop', 'deploys') });
    t.namespaces.onEvent({ type: 'add', key: 'ns-c', facts: namespace('c') });
    assert.deepEqual(t.actions, ['watch shop', 'watch quiet'], 'a change of channel is not a new watch');
    assert.equal(t.index.isTracked('shop') && t.index.isTracked('quiet'), true);
    assert.equal(t.index.isTracked('c'), false);
  });

  it('stops watching a deleted tracked namespace', () => {
    const t = tracker();
    t.namespaces.onEvent({ type: 'add', key: 'ns-shop', facts: namespace('shop', 'deploys') });
    t.namespaces.onEvent({ type: 'delete', key: 'ns-shop', old: namespace('shop', 'deploys') });
    assert.deepEqual(t.actions, ['watch shop', 'unwatch shop']);
  });

  it('drops the objects of a namespace that loses its annotation and tells the sink', async () => {
    const t = tracker();
    t.namespaces.onListed();
    t.namespaces.onEvent({ type: 'add', key: 'ns-shop', facts: namespace('shop', 'deploys') });
    const web = t.add(deployment('shop', 'web'));
    t.feed.goLive();
    t.calls.length = 0;
    t.feed.markDirty(web);
    t.namespaces.onEvent({ type: 'update', key: 'ns-shop', facts: namespace('shop'), old: namespace('shop', 'deploys') });
    await nextTick();
    assert.deepEqual(t.calls, ['untracked shop'], 'the pending observation of its Deployment is dropped');
    assert.ok(t.actions.includes('unwatch shop'));
    assert.equal(t.index.deployments.size, 0);
  });

  it('observes the Deployments again when the channel or alert level changes, with the new target', async () => {
    const t = tracker();
    t.namespaces.onListed();
    t.namespaces.onEvent({ type: 'add', key: 'ns-shop', facts: namespace('shop', 'deploys') });
    t.add(deployment('shop', 'web'));
    t.feed.goLive();
    t.calls.length = 0;
    t.namespaces.onEvent({ type: 'update', key: 'ns-shop', facts: namespace('shop', 'releases', 'failure'), old: namespace('shop', 'deploys') });
    await nextTick();
    assert.deepEqual(t.calls, ['observe shop/web']);
    assert.deepEqual(t.observations.at(-1)!.target, { channel: 'releases', alert: 'failure' });

    t.calls.length = 0;
    t.namespaces.onEvent({ type: 'update', key: 'ns-shop', facts: namespace('shop', 'releases', 'failure'), old: namespace('shop', 'releases', 'failure') });
    await nextTick();
    assert.deepEqual(t.calls, [], 'an unrelated namespace update is not a change of target');
  });
});
