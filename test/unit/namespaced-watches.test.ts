/**
 * src/io/kube/namespacedWatches.ts when RBAC refuses a kind (an upgrade applied before its
 * ClusterRole): the kinds added after the first release (StatefulSets, DaemonSets,
 * ControllerRevisions) refused with 403 do not hold up the sync, and the error says once what
 * is refused and what to do; a refused Deployment list still does. The reflectors run against
 * an in-memory ListWatchClient that answers LISTs as the API server would (403 with a Status).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ListWatchClient } from '../../src/io/kube/client.js';
import { KubeApiError } from '../../src/io/kube/errors.js';
import { NamespacedWatches } from '../../src/io/kube/namespacedWatches.js';
import { DEFAULT_ANNOTATIONS } from '../../src/machines/annotations.js';

/** LISTs of `refused` kinds answer 403; the others an empty list; watches wait until aborted. */
function apiServer(refused: RegExp): ListWatchClient & { lists: string[]; refused: RegExp } {
  const lists: string[] = [];
  return {
    lists,
    refused,
    async list(path) {
      lists.push(path);
      if (this.refused.test(path)) throw new KubeApiError(`LIST ${path}: forbidden`, 403, 'Forbidden');
      return { items: [], resourceVersion: '7' };
    },
    watch(_path, _params, signal) {
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    },
  };
}

function watches(client: ListWatchClient) {
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
  it('StatefulSets, DaemonSets and ControllerRevisions refused: synced anyway, one error per kind saying what to do', async () => {
    const client = apiServer(/statefulsets|daemonsets|controllerrevisions/);
    const { w, errors } = watches(client);
    for (const ns of ['shop', 'payments']) {
      w.start(ns);
      w.startDetails(ns);
    }
    await settle(() => w.allSynced());
    assert.equal(w.allSynced(), true);
    assert.deepEqual(errors.map((e) => e.fields['kind']).sort(), ['controllerrevisions', 'daemonsets', 'statefulsets'], 'once per kind, not per namespace');
    for (const e of errors) {
      assert.match(e.msg, /^Hermod may not list \w+ \(403 in namespace \w+\): apply this version's ClusterRole/);
      assert.match(e.msg, /Deployments are; it keeps retrying$/);
    }
    await w.stopAll();
  });

  it('once RBAC allows the kind, the retrying list succeeds and the kind is followed', async () => {
    const client = apiServer(/statefulsets/);
    const { w, tick } = watches(client);
    w.start('shop');
    await settle(() => w.allSynced());
    const before = client.lists.filter((p) => p.includes('statefulsets')).length;
    client.refused = /^$/;
    tick();
    await settle(() => w.stats().statefulsets.lists > 0);
    assert.equal(w.stats().statefulsets.lists, 1, 'the StatefulSet list succeeded on retry');
    assert.ok(client.lists.filter((p) => p.includes('statefulsets')).length > before);
    await w.stopAll();
  });

  it('Deployments refused: not synced, and the error says so', async () => {
    const { w, errors } = watches(apiServer(/deployments/));
    w.start('shop');
    await settle(() => errors.length > 0);
    await settle(() => false);
    assert.equal(w.allSynced(), false);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.msg, /may not list deployments .* Hermod does not become ready until then/);
    await w.stopAll();
  });

  it('nothing refused: synced once everything listed, no error', async () => {
    const { w, errors } = watches(apiServer(/^$/));
    w.start('shop');
    await settle(() => w.allSynced());
    assert.equal(w.allSynced(), true);
    assert.deepEqual(errors, []);
    await w.stopAll();
  });
});
