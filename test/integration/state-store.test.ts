/**
 * Fenced delivery state on the REAL control plane: src/io/kube/stateStore.ts writes the
 * ConfigMap only at the resourceVersion it read (create only when absent), answers `fenced`
 * when someone else wrote it since, and the write-through writer (stateWriter.ts) turns a
 * burst of changes into one write and stops for good once fenced.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import type { DeliverySnapshot } from '../../src/actors/delivery/index.js';
import { silentLogger } from '../../src/actors/logger.js';
import { STATE_GZ_KEY, STATE_KEY } from '../../src/io/kube/stateEncoding.js';
import { createStateStore } from '../../src/io/kube/stateStore.js';
import { createStateWriter } from '../../src/io/kube/stateWriter.js';
import { startCluster, type TestCluster } from '../support/cluster.js';

const NS = 'hermod-system';

const snapshotWith = (finished: string[]): DeliverySnapshot =>
  ({ version: 1, channels: [{ channel: 'deploys', channelId: 'C1', rollouts: [], finished, pending: [] }] }) as DeliverySnapshot;

describe('fenced delivery state in a real ConfigMap', () => {
  let cluster: TestCluster;
  let kubeConfig: k8s.KubeConfig;
  let core: k8s.CoreV1Api;

  before(async () => {
    cluster = await startCluster();
    kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });

  after(async () => {
    if (cluster) await cluster.stop();
  });

  const store = (name: string) => createStateStore({ kubeConfig, namespace: NS, name, logger: silentLogger });
  const stored = async (name: string) => JSON.parse((await core.readNamespacedConfigMap({ name, namespace: NS })).data![STATE_KEY]!) as DeliverySnapshot;

  it('creates only when absent, updates only at the version it read, and says fenced otherwise', async () => {
    const a = store('fenced');
    assert.deepEqual(await a.read(), { snapshot: undefined, resourceVersion: null });
    const created = await a.write(snapshotWith(['uid/1']), null);
    assert.equal(created.kind, 'written');
    const rv = created.kind === 'written' ? created.resourceVersion : '';

    // A second creator loses.
    assert.deepEqual(await store('fenced').write(snapshotWith(['other']), null), { kind: 'fenced', reason: 'created by another writer' });

    const updated = await a.write(snapshotWith(['uid/1', 'uid/2']), rv);
    assert.equal(updated.kind, 'written');
    // Writing again at the old version: someone (here, we ourselves) wrote since.
    const stale = await a.write(snapshotWith(['stale']), rv);
    assert.equal(stale.kind, 'fenced');
    assert.deepEqual((await stored('fenced')).channels[0]!.finished, ['uid/1', 'uid/2'], 'the fenced write changed nothing');

    const read = await a.read();
    assert.deepEqual(read.snapshot?.channels[0]!.finished, ['uid/1', 'uid/2']);
    assert.equal(read.resourceVersion, updated.kind === 'written' ? updated.resourceVersion : '');
  });

  it('a ConfigMap deleted since it was read fences the writer', async () => {
    const a = store('deleted');
    const created = await a.write(snapshotWith([]), null);
    assert.equal(created.kind, 'written');
    await core.deleteNamespacedConfigMap({ name: 'deleted', namespace: NS });
    assert.deepEqual(await a.write(snapshotWith(['x']), created.kind === 'written' ? created.resourceVersion : null), { kind: 'fenced', reason: 'deleted since it was read' });
  });

  it('the writer makes a burst of changes durable in one write, and the old writer is fenced once a new one took over', async () => {
    const name = 'write-through';
    let finished: string[] = [];
    const fencedFor: string[] = [];
    const first = createStateWriter({
      store: store(name), snapshot: () => snapshotWith(finished), resourceVersion: null, onFenced: (reason) => fencedFor.push(reason),
    });
    const changes = Array.from({ length: 50 }, (_, i) => {
      finished = [...finished, `uid/${i}`];
      return first.persist();
    });
    assert.deepEqual(new Set(await Promise.all(changes)), new Set(['durable']));
    assert.equal(first.writes, 1);
    assert.equal((await stored(name)).channels[0]!.finished.length, 50);

    // A new leader reads the state and writes it: the old one's next write is fenced.
    const takeover = await store(name).read();
    const second = createStateWriter({ store: store(name), snapshot: () => snapshotWith(['new leader']), resourceVersion: takeover.resourceVersion });
    assert.equal(await second.persist(), 'durable');
    finished = [...finished, 'late'];
    assert.equal(await first.persist(), 'fenced');
    assert.equal(fencedFor.length, 1);
    assert.deepEqual((await stored(name)).channels[0]!.finished, ['new leader']);
    assert.equal(await first.persist(), 'fenced', 'fenced for good');
    first.stop();
    second.stop();
  });

  it('a state too large for plain JSON is stored gzip\'d in binaryData, read back whole, and plain again once small', async () => {
    const rollouts = Array.from({ length: 8_000 }, (_, i) => ({
      rolloutId: `${randomUUID()}/${1 + (i % 7)}`, namespace: `team-${i % 50}`, channelId: 'C1', ts: `1796500000.${String(i).padStart(6, '0')}`,
      sentPhase: 'progressing', sentVersion: 1, sentKey: (i * 2654435761 >>> 0).toString(16), threadKey: null, milestone: null,
    }));
    const large = { version: 1, channels: [{ channel: 'deploys', channelId: 'C1', rollouts, finished: [], pending: [] }] } as DeliverySnapshot;
    assert.ok(Buffer.byteLength(JSON.stringify(large)) > 1024 * 1024, 'plain, it would not fit a ConfigMap');
    const s = store('large');
    const created = await s.write(large, null);
    assert.equal(created.kind, 'written');
    const raw = await core.readNamespacedConfigMap({ name: 'large', namespace: NS });
    assert.equal(raw.data?.[STATE_KEY], undefined);
    assert.ok((raw.binaryData?.[STATE_GZ_KEY]?.length ?? 0) > 0);
    const read = await s.read();
    assert.equal(read.snapshot?.channels[0]?.rollouts.length, 8_000, 'no in-flight record dropped');
    assert.deepEqual(read.snapshot, large);
    const small = await s.write(snapshotWith(['uid/1']), read.resourceVersion);
    assert.equal(small.kind, 'written');
    const after = await core.readNamespacedConfigMap({ name: 'large', namespace: NS });
    assert.equal(after.binaryData, undefined);
    assert.deepEqual((await stored('large')).channels[0]!.finished, ['uid/1']);
  });

  it('load() and save() still work as before for the periodic saver', async () => {
    const a = store('legacy');
    assert.equal(await a.load(), undefined);
    await a.save(snapshotWith(['uid/1']));
    await a.save(snapshotWith(['uid/2']));
    assert.deepEqual((await a.load())?.channels[0]!.finished, ['uid/2']);
  });
});
