/**
 * One connection pool for every request to the API server (src/io/kube/pooledKubeConfig.ts):
 * Hermod's own LIST/WATCH client and client-node's typed APIs, through the real client-node
 * stack, against a local HTTPS server with a throwaway certificate (made with openssl) that
 * counts the TLS connections it accepts. client-node 2.0.1 on its own opens one per request;
 * the control test shows it, so the counts below are the pool's doing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KubeListWatchClient } from '../../src/io/kube/client.js';
import { loadKubeConfig } from '../../src/io/kube/kubeconfig.js';
import { closeKubeConnections, PooledKubeConfig } from '../../src/io/kube/pooledKubeConfig.js';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js';
import { selfSigned } from '../support/selfSigned.js';
import { until } from '../support/until.js';

/** Enough of the API for a LIST, a WATCH that ends, a ConfigMap and a Lease read. */
class TlsApiServer {
  /** TLS connections accepted so far. */
  connections = 0;
  readonly open = new Set<TLSSocket>();
  requests = 0;
  url = '';
  private readonly server: https.Server;

  constructor(tls: { key: string; cert: string }) {
    this.server = https.createServer(tls, (req, res) => {
      this.requests++;
      const url = new URL(req.url ?? '/', 'https://x');
      res.setHeader('content-type', 'application/json');
      if (url.searchParams.get('watch') === 'true') {
        res.end(JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } }) + '\n');
      } else if (url.pathname.endsWith('/configmaps/state')) {
        res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'state', namespace: 'ns', resourceVersion: '7' } }));
      } else if (url.pathname.endsWith('/leases/leader')) {
        res.end(JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'leader', namespace: 'ns', resourceVersion: '7' } }));
      } else {
        res.end(JSON.stringify({ kind: 'List', metadata: { resourceVersion: '7' }, items: [] }));
      }
    });
    this.server.on('secureConnection', (socket: TLSSocket) => {
      this.connections++;
      this.open.add(socket);
      socket.on('close', () => this.open.delete(socket));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}


describe('PooledKubeConfig: one connection pool for every request', () => {
  let dir: string;
  let first: { key: string; cert: string };
  let second: { key: string; cert: string };
  let api: TlsApiServer;
  let caFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hermod-pool-'));
    first = selfSigned(dir, 'first');
    second = selfSigned(dir, 'second');
    api = new TlsApiServer(first);
    await api.start();
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    caFile = join(dir, `ca-${Math.random().toString(36).slice(2)}.crt`);
    writeFileSync(caFile, first.cert);
  });

  /** A kubeconfig file for the server, the CA read from caFile (as client-node does on every request). */
  const kubeconfigFile = (proxyUrl?: string): string => {
    const file = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: tiny',
      'clusters:', '- name: tiny', '  cluster:', `    server: ${api.url}`, `    certificate-authority: ${caFile}`,
      ...(proxyUrl !== undefined ? [`    proxy-url: ${proxyUrl}`] : []),
      'users:', '- name: hermod', '  user:', '    token: hermod-token',
      'contexts:', '- name: tiny', '  context:', '    cluster: tiny', '    user: hermod',
    ].join('\n'));
    return file;
  };

  /**
   * Eight requests of four kinds, one after the other: LIST pages, a WATCH, a ConfigMap and a
   * Lease through the typed APIs. With `turn`, a turn of the event loop between two requests (as
   * Hermod's are: timers and watch events start them), which lets undici put the connection back
   * in its pool; back to back, the next request can be sent before it is, on a second one.
   */
  const eightRequests = async (kc: KubeConfig, turn = true): Promise<void> => {
    const client = new KubeListWatchClient(kc);
    const core = kc.makeApiClient(CoreV1Api);
    const coordination = kc.makeApiClient(CoordinationV1Api);
    const signal = new AbortController().signal;
    const next = () => (turn ? new Promise((resolve) => setImmediate(resolve)) : Promise.resolve());
    for (let i = 0; i < 3; i++) {
      await client.list('/api/v1/namespaces/ns/pods', { limit: 500 }, signal);
      await next();
    }
    const seen: string[] = [];
    await client.watch('/api/v1/namespaces/ns/pods', { resourceVersion: '7' }, signal, (e) => seen.push(e.type));
    assert.deepEqual(seen, ['BOOKMARK']);
    await next();
    for (let i = 0; i < 2; i++) {
      assert.equal((await core.readNamespacedConfigMap({ name: 'state', namespace: 'ns' })).metadata?.resourceVersion, '7');
      await next();
    }
    for (let i = 0; i < 2; i++) {
      assert.equal((await coordination.readNamespacedLease({ name: 'leader', namespace: 'ns' })).metadata?.name, 'leader');
      await next();
    }
  };

  it('control: client-node as it is opens one TLS connection per request', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigFile());
    const before = api.connections;
    await eightRequests(kc);
    assert.equal(api.connections - before, 8);
  });

  it('the KubeConfig Hermod loads sends LISTs, a WATCH and typed API calls over one TLS connection', async () => {
    const kc = loadKubeConfig(kubeconfigFile(), { env: {} });
    assert.ok(kc instanceof PooledKubeConfig);
    const before = api.connections;
    const requests = api.requests;
    await eightRequests(kc);
    assert.equal(api.requests - requests, 8);
    assert.equal(api.connections - before, 1);
    assert.equal(kc.agentsMade, 1);
    await kc.close();
  });

  it('back to back, the same requests take at most two connections', async () => {
    const kc = loadKubeConfig(kubeconfigFile(), { env: {} });
    const before = api.connections;
    await eightRequests(kc, false);
    assert.ok(api.connections - before <= 2, `${api.connections - before} connections`);
    await kc.close();
  });

  it('concurrent requests get connections of their own, then share them', async () => {
    const kc = loadKubeConfig(kubeconfigFile(), { env: {} });
    const client = new KubeListWatchClient(kc);
    const signal = new AbortController().signal;
    const before = api.connections;
    await Promise.all([1, 2, 3].map(() => client.list('/api/v1/namespaces/ns/pods', {}, signal)));
    assert.equal(api.connections - before, 3);
    for (let i = 0; i < 6; i++) {
      await client.list('/api/v1/namespaces/ns/pods', {}, signal);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(api.connections - before, 3, 'later requests reuse the idle connections');
    await kc.close();
  });

  it('a rotated CA bundle gets a new agent; the old one is closed after the grace', async () => {
    const kc = new PooledKubeConfig({ retireGraceMs: 20 });
    kc.loadFromFile(kubeconfigFile());
    const client = new KubeListWatchClient(kc);
    const signal = new AbortController().signal;
    const before = api.connections;
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    await client.list('/api/v1/namespaces/ns/pods', {}, signal);
    await turn();
    await client.list('/api/v1/namespaces/ns/pods', {}, signal);
    await turn();
    assert.equal(api.connections - before, 1);
    const [oldSocket] = [...api.open].slice(-1);
    writeFileSync(caFile, `${first.cert}${second.cert}`);
    await client.list('/api/v1/namespaces/ns/pods', {}, signal);
    await turn();
    await client.list('/api/v1/namespaces/ns/pods', {}, signal);
    assert.equal(api.connections - before, 2, 'one new connection for the new CA bundle, then shared');
    assert.equal(kc.agentsMade, 2);
    await until('the retired agent closes its connection', () => oldSocket !== undefined && !api.open.has(oldSocket));
    await kc.close();
  });

  it('close() ends every connection; a request afterwards still works', async () => {
    const kc = loadKubeConfig(kubeconfigFile(), { env: {} });
    const client = new KubeListWatchClient(kc);
    const signal = new AbortController().signal;
    const earlier = new Set(api.open);
    await client.list('/api/v1/namespaces/ns/pods', {}, signal);
    const mine = [...api.open].filter((s) => !earlier.has(s));
    assert.equal(mine.length, 1);
    await closeKubeConnections(kc);
    await until('its connection closed', () => mine.every((s) => !api.open.has(s)));
    await client.list('/api/v1/namespaces/ns/pods', {}, signal);
    assert.equal(kc.agentsMade, 2);
    await kc.close();
    await closeKubeConnections(new KubeConfig()); // a plain KubeConfig has nothing to close
  });

  describe('through a proxy (proxy-url)', () => {
    let proxy: ConnectProxy;
    before(async () => (proxy = await startConnectProxy()));
    after(() => proxy.close());

    it('tunnels every request through one CONNECT', async () => {
      const kc = loadKubeConfig(kubeconfigFile(proxy.url), { env: {} });
      const before = api.connections;
      await eightRequests(kc);
      assert.deepEqual(proxy.seen, [new URL(api.url).host], 'one tunnel, to the API server');
      assert.equal(api.connections - before, 1);
      await kc.close();
    });
  });
});
