/**
 * The fenced write of src/io/kube/stateStore.ts when the API server's answer is lost (a
 * connection reset): the write may or may not have landed. Through the real client-node HTTP
 * stack against a tiny local server keeping one ConfigMap with kube-apiserver's
 * resourceVersion rule (PUT at a stale version: 409; POST of an existing name: 409). The
 * normal paths run against the real control plane in test/integration/state-store.test.ts.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { DeliverySnapshot } from '../../src/actors/delivery/index.js';
import { silentLogger } from '../../src/actors/logger.js';
import { STATE_KEY } from '../../src/io/kube/stateEncoding.js';
import { createStateStore } from '../../src/io/kube/stateStore.js';
import { failureStatus, kubeConfigFor, LocalApiServer, sendJson } from '../support/localApiServer.js';

type Drop = 'none' | 'beforeApply' | 'afterApply';

interface Stored {
  metadata: { name: string; namespace: string; resourceVersion: string };
  data: Record<string, string>;
}

/** One ConfigMap at /api/v1/namespaces/ns/configmaps/hermod-state, with resourceVersion preconditions. */
class ConfigMapApi {
  stored: Stored | null = null;
  version = 100;
  /** Reset the connection of the next write instead of answering it, before or after applying it. */
  dropNextWrite: Drop = 'none';
  /** Another writer's update, applied just before the next write arrives. */
  interleave: (() => void) | null = null;
  private readonly server = new LocalApiServer((req, res, body) => this.handle(req, res, body));

  get url(): string {
    return this.server.url;
  }

  start = (): Promise<void> => this.server.start();
  close = (): Promise<void> => this.server.close();

  put(data: Record<string, string>): void {
    this.stored = { metadata: { name: 'hermod-state', namespace: 'ns', resourceVersion: String(++this.version) }, data };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    const send = (status: number, body: unknown): void => sendJson(res, status, body);
    const status = (code: number) => send(code, failureStatus(code));
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/api/v1/namespaces/ns/configmaps/hermod-state') {
      return this.stored === null ? status(404) : send(200, { apiVersion: 'v1', kind: 'ConfigMap', ...this.stored });
    }
    const isUpdate = req.method === 'PUT' && path === '/api/v1/namespaces/ns/configmaps/hermod-state';
    const isCreate = req.method === 'POST' && path === '/api/v1/namespaces/ns/configmaps';
    if (!isUpdate && !isCreate) return status(404);
    this.interleave?.();
    this.interleave = null;
    const drop = this.dropNextWrite;
    this.dropNextWrite = 'none';
    if (drop === 'beforeApply') return void req.socket.destroy();
    const body = JSON.parse(raw.toString('utf8')) as { metadata: { resourceVersion?: string }; data: Record<string, string> };
    if (isCreate && this.stored !== null) return status(409);
    if (isUpdate && (this.stored === null || body.metadata.resourceVersion !== this.stored.metadata.resourceVersion)) return status(this.stored === null ? 404 : 409);
    this.put(body.data);
    if (drop === 'afterApply') return void req.socket.destroy();
    send(isCreate ? 201 : 200, { apiVersion: 'v1', kind: 'ConfigMap', ...this.stored });
  }
}

const snapshotWith = (finished: string[]): DeliverySnapshot =>
  ({ version: 1, channels: [{ channel: 'deploys', channelId: 'C1', rollouts: [], finished, pending: [] }] }) as DeliverySnapshot;

describe('fenced state write with a lost answer', () => {
  const api = new ConfigMapApi();
  before(() => api.start());
  after(() => api.close());
  beforeEach(() => {
    api.stored = null;
    api.dropNextWrite = 'none';
    api.interleave = null;
  });
  const store = () => createStateStore({ kubeConfig: kubeConfigFor(api.url), namespace: 'ns', logger: silentLogger });

  it('a write that landed before its answer was lost counts as written, at its new resourceVersion', async () => {
    const s = store();
    const created = await s.write(snapshotWith(['a']), null);
    assert.equal(created.kind, 'written');
    api.dropNextWrite = 'afterApply';
    const lost = await s.write(snapshotWith(['a', 'b']), created.kind === 'written' ? created.resourceVersion : null);
    assert.deepEqual(lost, { kind: 'written', resourceVersion: api.stored!.metadata.resourceVersion });
    // Not fenced by its own write: the next write at that version goes through.
    const next = await s.write(snapshotWith(['a', 'b', 'c']), lost.kind === 'written' ? lost.resourceVersion : null);
    assert.equal(next.kind, 'written');
    assert.deepEqual((JSON.parse(api.stored!.data[STATE_KEY]!) as DeliverySnapshot).channels[0]!.finished, ['a', 'b', 'c']);
  });

  it('a write lost before it landed rejects, so the caller retries at the same resourceVersion', async () => {
    const s = store();
    const created = await s.write(snapshotWith(['a']), null);
    const version = created.kind === 'written' ? created.resourceVersion : null;
    api.dropNextWrite = 'beforeApply';
    await assert.rejects(() => s.write(snapshotWith(['a', 'b']), version));
    assert.equal((await s.write(snapshotWith(['a', 'b']), version)).kind, 'written');
  });

  it('a lost create that did land counts as written; one that did not rejects', async () => {
    api.dropNextWrite = 'afterApply';
    assert.equal((await store().write(snapshotWith(['a']), null)).kind, 'written');
    api.stored = null;
    api.dropNextWrite = 'beforeApply';
    await assert.rejects(() => store().write(snapshotWith(['a']), null));
  });

  it('a lost write while another writer changed the ConfigMap is fenced', async () => {
    const s = store();
    const created = await s.write(snapshotWith(['a']), null);
    api.interleave = () => api.put({ [STATE_KEY]: JSON.stringify(snapshotWith(['other writer'])) });
    api.dropNextWrite = 'beforeApply';
    const result = await s.write(snapshotWith(['a', 'b']), created.kind === 'written' ? created.resourceVersion : null);
    assert.equal(result.kind, 'fenced');
  });
});
