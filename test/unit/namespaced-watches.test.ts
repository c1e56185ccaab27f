/**
 * The watches when RBAC refuses a kind (an upgrade applied before its ClusterRole): the kinds
 * added after the first release (ControllerRevisions per namespace in
 * src/io/kube/namespacedWatches.ts, StatefulSets and DaemonSets cluster-wide in the watcher)
 * refused with 403 do not hold up the sync, and the error says once what is refused and what to
 * do; a refused Deployment list still does. The reflectors run against an in-memory
 * ListWatchClient that answers LISTs as the API server would (403 with a Status).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NamespacedWatches } from '../../src/io/kube/namespacedWatches.js';
import { startWatcher } from '../../src/io/kube/watcher.js';
import { DEFAULT_ANNOTATIONS } from '../../src/machines/annotations.js';
import { listWatchFake, type ListWatchFake } from '../support/listWatchFake.js';

function watches(client: ListWatchFake) {
  const sleepers: Array<() => void> = [];
  const errors: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  let listedCalls = 0;
  const logger = {
    error: (fields: Record<string, unknown>, msg: string) => errors.push({ fields, msg }),
    warn: () => {}, info: () => {}, debug: () => {}, child: () => logger,
  };
  const noop = () => {};
  const w = new NamespacedWatches({
    client,
    logger: logger as never,
    annotations: DEFAULT_ANNOTATIONS,
    isRecent: () => true,
    // Backoff waits until stopped: the test decides when time passes (never).
    tuning: {
      sleep: (_ms: number, signal: AbortSignal) =>
        new Promise<void>((resolve, reject) => {
          sleepers.push(resolve);
          signal.addEventListener('abort', () => reject(signal.reason as Error));
        }),
    },
    on: { deployment: noop, replicaSet: noop, statefulSet: noop, daemonSet: noop, controllerRevision: noop, pod: noop, event: noop, listed: () => listedCalls++ },
  } as never);
  /** The backoff delays end now. */
  const tick = () => sleepers.splice(0).forEach((wake) => wake());
  return { w, errors, listed: () => listedCalls, tick };
}

const settle = async (until: () => boolean) => {
  for (let i = 0; i < 200 && !until(); i++) await new Promise((r) => setImmediate(r));
};

describe('NamespacedWatches when RBAC refuses a kind', () => {
  it('ControllerRevisions refused: synced anyway, one error per kind saying what to do', async () => {
    const client = listWatchFake({ refused: /controllerrevisions/ });
    const { w, errors } = watches(client);
    for (const ns of ['shop', 'payments']) {
      w.start(ns);
      w.startDetails(ns);
    }
    await settle(() => w.allSynced());
    assert.equal(w.allSynced(), true);
    assert.deepEqual(errors.map((e) => e.fields['kind']).sort(), ['controllerrevisions'], 'once per kind, not per namespace');
    for (const e of errors) {
      assert.match(e.msg, /^Hermod may not list \w+ \(403 in namespace \w+\): apply this version's ClusterRole/);
      assert.match(e.msg, /Deployments are; it keeps retrying$/);
    }
    await w.stopAll();
  });

  it('once RBAC allows the kind, the retrying list succeeds and the kind is followed', async () => {
    const client = listWatchFake({ refused: /controllerrevisions/ });
    const { w, tick } = watches(client);
    w.start('shop');
    w.startDetails('shop');
    await settle(() => w.allSynced());
    const before = client.lists.filter((p) => p.includes('controllerrevisions')).length;
    client.refused = /^$/;
    tick();
    await settle(() => w.stats().controllerrevisions.lists > 0);
    assert.equal(w.stats().controllerrevisions.lists, 1, 'the ControllerRevision list succeeded on retry');
    assert.ok(client.lists.filter((p) => p.includes('controllerrevisions')).length > before);
    await w.stopAll();
  });

  it('Deployments refused: not synced, and the error says so', async () => {
    const { w, errors } = watches(listWatchFake({ refused: /deployments/ }));
    w.start('shop');
    await settle(() => errors.length > 0);
    await settle(() => false);
    assert.equal(w.allSynced(), false);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.msg, /may not list deployments .* Hermod does not become ready until then/);
    await w.stopAll();
  });

  it('Pods refused: the rollout details of a namespace never finish listing, and the error says what that costs', async () => {
    const { w, errors } = watches(listWatchFake({ refused: /pods/ }));
    w.start('shop');
    w.startDetails('shop');
    await settle(() => errors.length > 0);
    assert.equal(w.details('shop'), 'listing');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.msg, /may not list pods .* rollouts in a namespace whose details it lacks are not reported until then/);
    await w.stopAll();
  });

  it('nothing refused: synced once everything listed, no error', async () => {
    const { w, errors } = watches(listWatchFake({ refused: /^$/ }));
    w.start('shop');
    await settle(() => w.allSynced());
    assert.equal(w.allSynced(), true);
    assert.deepEqual(errors, []);
    await w.stopAll();
  });
});

describe('the watcher when RBAC refuses StatefulSets and DaemonSets cluster-wide', () => {
  it('becomes ready with Deployments followed, and says once per kind what to do', async () => {
    const client = listWatchFake({ refused: /statefulsets|daemonsets/ });
    client.items['/api/v1/namespaces'] = [{ metadata: { name: 'shop', uid: 'ns-shop', resourceVersion: '7', annotations: { 'hermod.uswitch.com/slack': '#deploys' } } }];
    const errors: string[] = [];
    const noop = () => {};
    const logger = { error: (_f: unknown, msg: string) => errors.push(msg), warn: noop, info: noop, debug: noop, child: () => logger };
    const watcher = startWatcher({
      kubeConfig: undefined as never,
      client,
      logger: logger as never,
      sink: { observe: noop, deploymentDeleted: noop, namespaceUntracked: noop, synced: noop },
      reflector: { sleep: (_ms, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))) },
    });
    await watcher.whenSynced();
    assert.ok(client.lists.includes('/apis/apps/v1/namespaces/shop/deployments'));
    assert.ok(client.lists.includes('/apis/apps/v1/statefulsets') && client.lists.includes('/apis/apps/v1/daemonsets'), 'the sets are listed cluster-wide');
    assert.equal(errors.length, 2);
    for (const msg of errors) assert.match(msg, /^Hermod may not list (statefulsets|daemonsets) cluster-wide \(403\): apply this version's ClusterRole.*Deployments are; it keeps retrying$/);
    await watcher.stop();
  });
});
