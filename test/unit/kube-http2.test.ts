/**
 * HTTP/2 to the API server (src/io/kube/pooledKubeConfig.ts, ADR 0007): the KubeConfig Hermod
 * loads offers h2 by ALPN, so its watches, which each hold a request open for as long as they
 * run, and its LISTs share one TLS connection as streams, as client-go's do. Against a local
 * TLS server made with node:http2 that speaks both HTTP/2 and HTTP/1.1 and counts connections,
 * sessions and streams; `DISABLE_HTTP2` (client-go's switch) falls back to HTTP/1.1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeListWatchClient, type WatchEvent } from '../../src/io/kube/client.js';
import { loadKubeConfig } from '../../src/io/kube/kubeconfig.js';
import { Http2Pool } from '../../src/io/kube/http2Pool.js';
import { PooledKubeConfig } from '../../src/io/kube/pooledKubeConfig.js';
import { KubeObjectClient } from '../../src/io/kube/objects.js';
import { selfSigned } from '../support/selfSigned.js';
import { until } from '../support/until.js';
import { fetch, type Dispatcher } from 'undici';

/** A server that holds every watch open, sending one BOOKMARK at once and one per `tick()`. */
class H2ApiServer {
  connections = 0;
  h2Streams = 0;
  http1Requests = 0;
  writes = 0;
  /** Requests to /slow being answered now, and the most at once. */
  slowNow = 0;
  slowMax = 0;
  private readonly sockets = new Set<TLSSocket>();
  /** Watch responses still open. */
  readonly watches = new Set<http2.Http2ServerResponse>();
  url = '';
  private readonly server: http2.Http2SecureServer;

  constructor(tls: { key: string; cert: string }) {
    this.server = http2.createSecureServer({ ...tls, allowHTTP1: true }, (req, res) => {
      if (req.httpVersion === '2.0') this.h2Streams++;
      else this.http1Requests++;
      const url = new URL(req.url, 'https://x');
      res.setHeader('content-type', 'application/json');
      if (url.pathname === '/stall') {
        // Headers and the start of a body, then nothing.
        res.write('{');
      } else if (url.pathname === '/slow') {
        this.slowNow++;
        this.slowMax = Math.max(this.slowMax, this.slowNow);
        setTimeout(() => {
          this.slowNow--;
          res.end('{}');
        }, 20);
      } else if (url.searchParams.get('watch') === 'true') {
        this.watches.add(res);
        res.on('close', () => this.watches.delete(res));
        res.write(bookmark('1'));
      } else if (req.method === 'PUT') {
        this.writes++;
        req.resume();
        req.on('end', () => res.end(JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'leader', namespace: 'ns', resourceVersion: '8' } })));
      } else if (url.pathname.endsWith('/configmaps/state')) {
        res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'state', namespace: 'ns', resourceVersion: '7' } }));
      } else {
        res.end(JSON.stringify({ kind: 'List', metadata: { resourceVersion: '7' }, items: [{ metadata: { name: url.pathname } }] }));
      }
    });
    this.server.on('secureConnection', (socket: TLSSocket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** One more BOOKMARK on every open watch. */
  tick(resourceVersion: string): void {
    for (const res of this.watches) res.write(bookmark(resourceVersion));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.watches) res.end();
    // Whatever a failed test left open must not keep the server (and the test run) alive.
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const bookmark = (rv: string): string => `${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: rv } } })}\n`;


describe('HTTP/2 to the API server', () => {
  let dir: string;
  let api: H2ApiServer;
  let tls: { key: string; cert: string; certFile: string };
  let kubeconfig: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hermod-h2-'));
    tls = selfSigned(dir, 'h2');
    api = new H2ApiServer(tls);
    await api.start();
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: tiny',
      'clusters:', '- name: tiny', '  cluster:', `    server: ${api.url}`, `    certificate-authority: ${tls.certFile}`,
      'users:', '- name: hermod', '  user:', '    token: hermod-token',
      'contexts:', '- name: tiny', '  context:', '    cluster: tiny', '    user: hermod',
    ].join('\n'));
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Twelve watches held open, then twenty LISTs, a ConfigMap read and a Lease write while they stream; then a
   * BOOKMARK reaches every watch, one watch is aborted and the others go on.
   */
  const watchesAndLists = async (env: NodeJS.ProcessEnv): Promise<{ connections: number; h2: number; http1: number }> => {
    const kc = loadKubeConfig(kubeconfig, { env });
    const client = new KubeListWatchClient(kc);
    const objects = new KubeObjectClient(kc);
    const before = { connections: api.connections, h2: api.h2Streams, http1: api.http1Requests };
    const controllers = Array.from({ length: 12 }, () => new AbortController());
    const seen = controllers.map(() => [] as string[]);
    const ended = controllers.map((c, i) =>
      client
        .watch(`/api/v1/namespaces/ns-${i}/pods`, {}, c.signal, (e: WatchEvent) => seen[i]!.push((e.object as { metadata: { resourceVersion: string } }).metadata.resourceVersion))
        .then(() => 'ended', (err: Error) => err.name),
    );
    await until('every watch open', () => seen.every((s) => s.length === 1));
    const pages = await Promise.all(Array.from({ length: 20 }, (_, i) => client.list(`/apis/apps/v1/namespaces/ns-${i}/deployments`, {}, new AbortController().signal)));
    assert.deepEqual(pages.map((p) => (p.items[0] as { metadata: { name: string } }).metadata.name)[19], '/apis/apps/v1/namespaces/ns-19/deployments');
    assert.equal(((await objects.get('/api/v1/namespaces/ns/configmaps/state')) as { metadata: { name: string } }).metadata.name, 'state');
    // A write (a Lease renewal) is not held behind the open watches of its connection.
    const lease: { metadata: { name: string; resourceVersion?: string } } = { metadata: { name: 'leader' } };
    assert.equal((await objects.replace('/apis/coordination.k8s.io/v1/namespaces/ns/leases/leader', lease)).metadata.resourceVersion, '8');

    controllers[3]!.abort();
    assert.equal(await ended[3], 'AbortError');
    await until('the aborted watch closed on the server', () => api.watches.size === 11);
    api.tick('2');
    await until('the other watches go on', () => seen.every((s, i) => i === 3 || s.length === 2));
    assert.deepEqual(seen[3], ['1']);
    for (const c of controllers) c.abort();
    await Promise.all(ended);
    await kc.close();
    return { connections: api.connections - before.connections, h2: api.h2Streams - before.h2, http1: api.http1Requests - before.http1 };
  };

  it('watches and LISTs are streams of one connection; aborting a watch ends its stream only', { timeout: 10_000 }, async () => {
    assert.deepEqual(await watchesAndLists({}), { connections: 1, h2: 34, http1: 0 });
  });

  it('DISABLE_HTTP2 (as client-go reads it) speaks HTTP/1.1: a connection per open watch', { timeout: 10_000 }, async () => {
    const counts = await watchesAndLists({ DISABLE_HTTP2: 'true' });
    assert.equal(counts.h2, 0);
    assert.equal(counts.http1, 34);
    assert.ok(counts.connections >= 13, `${counts.connections} connections: 12 watches held open and the LISTs beside them`);
  });

  /** `count` watches through the pool with undici's fetch (client-node's), each read to its first line. */
  const openWatches = async (url: string, pool: Dispatcher, count: number): Promise<AbortController> => {
    const abort = new AbortController();
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const res = await fetch(`${url}/api/v1/namespaces/ns-${i}/pods?watch=true`, { dispatcher: pool, signal: abort.signal });
        const first = await res.body!.getReader().read();
        assert.match(new TextDecoder().decode(first.value), /BOOKMARK/);
      }),
    );
    return abort;
  };

  it('a connection carries at most its share of streams; more open another connection', { timeout: 10_000 }, async () => {
    const pool = new Http2Pool({ connect: { ca: tls.cert }, streamsPerConnection: 5 });
    const before = api.connections;
    const abort = await openWatches(api.url, pool, 12);
    assert.deepEqual(pool.describe().map(({ protocol, connections }) => ({ protocol, connections })), [{ protocol: 'h2', connections: 3 }]);
    assert.equal(api.connections - before, 3);
    abort.abort();
    await until('every watch closed on the server', () => api.watches.size === 0);
    await pool.close();
  });

  it('a write whose body is a stream (as fetch sends every body) is not held behind the open watches', { timeout: 10_000 }, async () => {
    // Hermod's own requests send a string body (src/io/kube/client.ts); a caller using fetch still gets through.
    const pool = new Http2Pool({ connect: { ca: tls.cert } });
    const writes = api.writes;
    const abort = await openWatches(api.url, pool, 5);
    const res = await fetch(`${api.url}/apis/coordination.k8s.io/v1/namespaces/ns/leases/leader`, { method: 'PUT', body: JSON.stringify({ metadata: { name: 'leader' } }), dispatcher: pool });
    assert.equal(((await res.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion, '8');
    assert.equal(api.writes, writes + 1);
    abort.abort();
    await until('every watch closed on the server', () => api.watches.size === 0);
    await pool.close();
  });

  it('a server that does not offer HTTP/2: a connection per request in flight, none waits behind a watch', { timeout: 10_000 }, async () => {
    const { key, cert } = tls;
    let connections = 0;
    const http1 = https.createServer({ key, cert }, (req, res) => {
      res.write(bookmark('1'));
      if (!(req.url ?? '').includes('watch=true')) res.end();
    });
    http1.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => http1.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(http1.address() as AddressInfo).port}`;
    const pool = new Http2Pool({ connect: { ca: cert } });
    const abort = await openWatches(url, pool, 6);
    const list = await fetch(`${url}/api/v1/pods`, { dispatcher: pool });
    assert.match(await list.text(), /BOOKMARK/);
    assert.equal(pool.describe()[0]!.protocol, 'http/1.1');
    assert.ok(connections >= 7, `${connections} connections for 6 open watches and a LIST`);
    abort.abort();
    await pool.close();
    http1.closeAllConnections();
    await new Promise<void>((resolve) => http1.close(() => resolve()));
  });

  it('at most maxUnanswered requests wait for their answer at once; an open watch no longer counts', { timeout: 10_000 }, async () => {
    const pool = new Http2Pool({ connect: { ca: tls.cert }, maxUnanswered: 3 });
    const abort = await openWatches(api.url, pool, 5);
    api.slowMax = 0;
    const answers = await Promise.all(Array.from({ length: 12 }, async () => (await fetch(`${api.url}/slow`, { dispatcher: pool })).text()));
    assert.deepEqual(new Set(answers), new Set(['{}']));
    assert.equal(api.slowMax, 3);
    abort.abort();
    await until('every watch closed on the server', () => api.watches.size === 0);
    await pool.close();
  });

  it('a watch may be silent longer than the body timeout; any other request may not', { timeout: 10_000 }, async () => {
    // The pool gives every request 300 ms of silence within its body; the client's WATCH asks for no limit (bodyTimeoutMs: 0).
    const kc = new PooledKubeConfig({ bodyTimeoutMs: 300 });
    kc.loadFromFile(kubeconfig);
    const client = new KubeListWatchClient(kc);
    const abort = new AbortController();
    const seen: string[] = [];
    let outcome: string | undefined;
    const ended = client
      .watch('/api/v1/namespaces/quiet/events', { timeoutSeconds: 600 }, abort.signal, (e: WatchEvent) => seen.push((e.object as { metadata: { resourceVersion: string } }).metadata.resourceVersion))
      .then(() => 'ended', (err: Error) => `${err.name}: ${err.message}`)
      .then((o) => (outcome = o));
    await until('the watch open', () => seen.length === 1 || outcome !== undefined);
    await new Promise((r) => setTimeout(r, 900));
    api.tick('2');
    await until('the BOOKMARK after the silence, or the watch over', () => seen.length === 2 || outcome !== undefined);
    assert.equal(outcome, undefined, 'the watch still open after 900 ms of silence');
    assert.deepEqual(seen, ['1', '2']);
    await assert.rejects(client.list('/stall', {}, new AbortController().signal), (err: Error) => /timeout/i.test(`${err.message} ${String((err.cause as Error | undefined)?.message)}`));
    abort.abort();
    assert.match(await ended, /^AbortError/);
    await until('the watch closed on the server', () => api.watches.size === 0);
    await kc.close();
  });

});
