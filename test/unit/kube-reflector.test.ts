/**
 * The reflector's error handling (pagination, relist diffs, 410 Gone in both forms, backoff,
 * the watchdog, one request at a time) against a tiny local HTTP server that speaks the
 * Kubernetes list/watch protocol, through the real client-node HTTP stack. Only error paths
 * that a real API server cannot be made to produce on demand are here; the real control
 * plane is exercised by test/integration/watch.test.ts.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { KubeListWatchClient } from '../../src/io/kube/client.js';
import type { ReflectorEvent } from '../../src/io/kube/factStore.js';
import { Reflector } from '../../src/io/kube/reflector.js';
import { kubeConfigFor, LocalApiServer } from '../support/localApiServer.js';
import { until } from '../support/until.js';

interface Obj {
  metadata: { uid: string; name: string; namespace: string; resourceVersion: string; labels?: Record<string, string> };
  value: number;
}
interface Logged {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}

/** A one-collection API server: enough of LIST (limit/continue) and WATCH (resourceVersion, bookmarks). */
class TinyApiServer {
  rv = 100;
  objects = new Map<string, Obj>();
  log: Logged[] = [];
  /** Watches from resourceVersions below this answer 410. */
  compactedRv = 0;
  /** How 410 is reported on a watch: an HTTP status or an ERROR event in a 200 stream. */
  goneAs: 'status' | 'event' = 'status';
  /** Status codes the next requests answer with, in order (list or watch). */
  failures: { on: 'list' | 'watch'; status: number }[] = [];
  /** The next request with a continue token answers 410 (the token outlived etcd's window). */
  expireNextContinue = false;
  /** Don't send anything on new watches (to trigger the watchdog). */
  silent = false;
  /** Accept new watches but never answer, not even the headers (a dead connection). */
  hang = false;
  /** End each watch cleanly after the timeoutSeconds it asked for, as the API server does. */
  endAtTerm = false;
  /** Hung requests, closed on reset. */
  private hung = new Set<http.ServerResponse>();
  requests: { kind: 'list' | 'watch'; query: URLSearchParams; auth: string | undefined }[] = [];
  /** Watch streams open now (of this test: reset() forgets the earlier ones). */
  get openWatches(): number {
    return this.streams.size;
  }
  maxOpenWatches = 0;
  private streams = new Set<{ res: http.ServerResponse; from: number }>();
  private readonly server = new LocalApiServer((req, res) => this.handle(req, res));

  get url(): string {
    return this.server.url;
  }

  start = (): Promise<void> => this.server.start();

  async close(): Promise<void> {
    for (const s of this.streams) s.res.destroy();
    await this.server.close();
  }

  /** Each test's collection path: reset() moves to a new one. */
  private epoch = 0;
  get path(): string {
    return `/api/v1/test${this.epoch}/things`;
  }

  reset(): void {
    this.epoch++;
    for (const r of this.hung) r.destroy();
    this.hung.clear();
    for (const s of this.streams) s.res.end();
    this.streams.clear();
    Object.assign(this, {
      rv: 100,
      objects: new Map(),
      log: [],
      compactedRv: 0,
      goneAs: 'status',
      failures: [],
      expireNextContinue: false,
      silent: false,
      hang: false,
      endAtTerm: false,
      requests: [],
      maxOpenWatches: 0,
    });
  }

  put(name: string, value: number, labels?: Record<string, string>): Obj {
    const prev = this.objects.get(name);
    const rv = ++this.rv;
    const obj: Obj = {
      metadata: { uid: prev?.metadata.uid ?? `uid-${name}`, name, namespace: 'ns', resourceVersion: String(rv), labels },
      value,
    };
    this.objects.set(name, obj);
    this.emit({ rv, type: prev ? 'MODIFIED' : 'ADDED', object: obj });
    return obj;
  }

  remove(name: string): void {
    const prev = this.objects.get(name);
    if (!prev) return;
    this.objects.delete(name);
    const rv = ++this.rv;
    this.emit({ rv, type: 'DELETED', object: { ...prev, metadata: { ...prev.metadata, resourceVersion: String(rv) } } });
  }

  /** Sends a bookmark on every open watch. */
  bookmark(): void {
    for (const s of this.streams) {
      s.res.write(JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(this.rv) } } }) + '\n');
    }
  }

  /** Ends every open watch with a 410 ERROR event, as the API server does when its window is gone. */
  expireOpenWatches(): void {
    this.compactedRv = ++this.rv;
    for (const s of this.streams) {
      s.res.end(JSON.stringify({ type: 'ERROR', object: goneStatus() }) + '\n');
    }
  }

  private emit(e: Logged): void {
    this.log.push(e);
    for (const s of this.streams) if (e.rv > s.from) s.res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    // A request of an earlier test that arrives late (sent just before its reflector stopped)
    // must not take this test's scripted failures nor count as its watch.
    if (url.pathname !== this.path) {
      res.writeHead(503).end();
      return;
    }
    const q = url.searchParams;
    const kind = q.get('watch') === 'true' ? 'watch' : 'list';
    this.requests.push({ kind, query: q, auth: req.headers.authorization });
    const failure = this.failures[0]?.on === kind ? this.failures.shift() : undefined;
    if (failure) return this.status(res, failure.status);
    if (kind === 'list') return this.list(q, res);
    const from = Number(q.get('resourceVersion') ?? '0');
    if (from < this.compactedRv) {
      if (this.goneAs === 'status') return this.status(res, 410);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'ERROR', object: goneStatus() }) + '\n');
      return;
    }
    if (this.hang) {
      this.hung.add(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    const stream = { res, from };
    this.streams.add(stream);
    this.maxOpenWatches = Math.max(this.maxOpenWatches, this.openWatches);
    // Only this test's streams count: one a previous test left open may report its close late.
    res.on('close', () => this.streams.delete(stream));
    if (this.endAtTerm) setTimeout(() => res.end(), Number(q.get('timeoutSeconds')) * 1000);
    if (!this.silent) for (const e of this.log) if (e.rv > from) res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
  }

  private list(q: URLSearchParams, res: http.ServerResponse): void {
    const limit = Number(q.get('limit') ?? '0') || Infinity;
    const cont = q.get('continue');
    let offset = 0;
    let snapshot = this.rv;
    if (cont) {
      const [o, r] = cont.split(':').map(Number);
      offset = o ?? 0;
      snapshot = r ?? 0;
      if (this.expireNextContinue) {
        this.expireNextContinue = false;
        return this.status(res, 410);
      }
    }
    const all = [...this.objects.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const items = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? `${offset + limit}:${snapshot}` : undefined;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'List', metadata: { resourceVersion: String(snapshot), continue: next }, items }));
  }

  private status(res: http.ServerResponse, code: number): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason: code === 410 ? 'Expired' : 'InternalError', message: `tiny server says ${code}` }));
  }
}

function goneStatus(): object {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version' };
}


type Facts = { name: string; value: number };
const summary = (e: ReflectorEvent<Facts>): string =>
  e.type === 'delete' ? `delete ${e.old.name}` : `${e.type} ${e.facts.name}=${e.facts.value}`;

describe('Reflector (tiny API server)', () => {
  const api = new TinyApiServer();
  let reflector: Reflector<Obj, Facts> | undefined;
  let events: string[] = [];
  let delays: number[] = [];

  before(() => api.start());
  after(() => api.close());
  afterEach(async () => {
    await reflector?.stop();
    reflector = undefined;
    api.reset();
    events = [];
    delays = [];
  });

  function makeReflector(overrides: Partial<ConstructorParameters<typeof Reflector<Obj, Facts>>[0]> = {}): Reflector<Obj, Facts> {
    reflector = new Reflector<Obj, Facts>({
      name: 'things',
      client: new KubeListWatchClient(kubeConfigFor(api.url, 'reader')),
      path: api.path,
      transform: (o) => ({ name: o.metadata.name, value: o.value }),
      onEvent: (e) => events.push(summary(e)),
      pageSize: 2,
      // No jitter (0.5 maps to the middle) and delays recorded, not slept.
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
      },
      ...overrides,
    });
    return reflector;
  }

  it('lists page by page, then watches: add, update, skip unchanged, delete', async () => {
    for (const [i, n] of ['a', 'b', 'c', 'd', 'e'].entries()) api.put(n, i);
    const r = makeReflector();
    assert.equal(r.stats().openWatches, 0);
    r.start();
    await r.waitForSync();
    assert.deepEqual(events, ['add a=0', 'add b=1', 'add c=2', 'add d=3', 'add e=4']);
    const lists = api.requests.filter((q) => q.kind === 'list');
    assert.equal(lists.length, 3, 'five objects in pages of two');
    assert.deepEqual(lists.map((q) => q.query.get('limit')), ['2', '2', '2']);
    assert.ok(api.requests.every((q) => q.auth === 'Bearer reader-token'), 'credentials come from the KubeConfig');
    await until('watch open', () => api.openWatches === 1);
    const watch = api.requests.find((q) => q.kind === 'watch');
    assert.equal(watch?.query.get('resourceVersion'), '105', 'watch resumes at the list resourceVersion');
    assert.equal(watch?.query.get('allowWatchBookmarks'), 'true');

    events = [];
    api.put('b', 10);
    api.remove('c');
    api.put('f', 5);
    await until('three events', () => events.length === 3);
    assert.deepEqual(events, ['update b=10', 'delete c', 'add f=5']);
    assert.deepEqual([...r.values()].map((f) => f.name).sort(), ['a', 'b', 'd', 'e', 'f']);
    assert.equal(r.resourceVersion, String(api.rv));
    assert.equal(r.stats().objects, 5);
    assert.equal(r.stats().openWatches, 1, 'its watch stream is open (hermod_watches_open)');
    await r.stop();
    assert.equal(r.stats().openWatches, 0, 'and no longer once stopped');
  });

  it('skips an update whose resourceVersion did not change (duplicate delivery)', async () => {
    api.put('a', 1);
    const r = makeReflector();
    r.start();
    await r.waitForSync();
    await until('watch open', () => api.openWatches === 1);
    // Re-deliver the same object with the same resourceVersion, as a relist replay would.
    const same = api.objects.get('a');
    assert.ok(same);
    api.log.push({ rv: api.rv + 1, type: 'MODIFIED', object: same });
    api.put('z', 9);
    await until('z added', () => events.includes('add z=9'));
    assert.deepEqual(events, ['add a=1', 'add z=9']);
  });

  it('drops objects that stop passing the filter, with a delete', async () => {
    api.put('a', 1, { keep: 'yes' });
    api.put('b', 2, { keep: 'yes' });
    const r = makeReflector({ filter: (o) => o.metadata.labels?.keep === 'yes' });
    r.start();
    await r.waitForSync();
    await until('watch open', () => api.openWatches === 1);
    api.put('a', 3, { keep: 'no' });
    api.put('c', 4, { keep: 'no' });
    api.put('b', 5, { keep: 'yes' });
    await until('b updated', () => events.includes('update b=5'));
    assert.deepEqual(events, ['add a=1', 'add b=2', 'delete a', 'update b=5']);
  });

  for (const goneAs of ['status', 'event'] as const) {
    it(`relists on 410 Gone (${goneAs === 'status' ? 'HTTP status' : 'watch ERROR event'}) and emits only the differences`, async () => {
      api.goneAs = goneAs;
      api.put('a', 1);
      api.put('b', 2);
      api.put('c', 3);
      const r = makeReflector();
      r.start();
      await r.waitForSync();
      await until('watch open', () => api.openWatches === 1);
      await r.stop();
      events = [];
      // While nobody watches: b changes, c goes, d arrives, and the history is compacted.
      api.put('b', 20);
      api.remove('c');
      api.put('d', 4);
      api.compactedRv = api.rv;
      r.start();
      await until('relist', () => r.stats().lists === 2);
      await until('watch open again', () => api.openWatches === 1);
      assert.deepEqual(events, ['update b=20', 'add d=4', 'delete c'], 'a is unchanged and not replayed');
      assert.equal(r.stats().expired, 1);
      assert.deepEqual(delays, [], 'a first 410 relists at once');
      // And it keeps watching from the new list.
      api.put('a', 100);
      await until('a updated', () => events.includes('update a=100'));
    });
  }

  it('relists when an open watch is ended by a 410 ERROR event', async () => {
    api.put('a', 1);
    const r = makeReflector();
    r.start();
    await r.waitForSync();
    await until('watch open', () => api.openWatches === 1);
    api.objects.delete('a'); // vanishes without a DELETED event: only a relist can tell
    api.expireOpenWatches();
    await until('relist', () => r.stats().lists === 2);
    assert.deepEqual(events, ['add a=1', 'delete a']);
    assert.equal(r.size, 0);
  });

  it('restarts a failing watch with capped exponential backoff, one watch at a time', async () => {
    api.put('a', 1);
    api.failures = [500, 503, 500, 500, 500, 500].map((status) => ({ on: 'watch' as const, status }));
    const r = makeReflector({ backoff: { initialMs: 100, maxMs: 1000, jitter: 0.2 } });
    r.start();
    await r.waitForSync();
    await until('watch finally open', () => api.openWatches === 1);
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
    assert.equal(api.maxOpenWatches, 1);
    const watches = api.requests.filter((q) => q.kind === 'watch');
    assert.equal(watches.length, 7);
    assert.ok(watches.every((q) => q.query.get('resourceVersion') === '101'), 'retries resume, they do not relist');
    assert.equal(r.stats().errors, 6);
    assert.equal(r.stats().lists, 1);
    // A working watch resets the backoff.
    api.put('b', 2);
    await until('b', () => events.includes('add b=2'));
    api.failures = [{ on: 'watch', status: 500 }];
    for (const s of api['streams']) s.res.end(); // server closes the stream
    await until('reopened', () => api.requests.filter((q) => q.kind === 'watch').length === 9);
    assert.deepEqual(delays.slice(6), [100]);
  });

  it('retries a failing LIST with backoff and applies jitter', async () => {
    api.put('a', 1);
    api.failures = [{ on: 'list', status: 500 }, { on: 'list', status: 500 }];
    let toggle = 0;
    const r = makeReflector({
      backoff: { initialMs: 1000, maxMs: 30_000, jitter: 0.5 },
      random: () => (toggle++ % 2 === 0 ? 0 : 0.999999),
    });
    r.start();
    await r.waitForSync();
    // First retry: 1000 spread down to 500; second: 2000 spread up to ~3000.
    assert.equal(delays.length, 2);
    assert.equal(delays[0], 500);
    assert.ok(delays[1]! > 2900 && delays[1]! <= 3000, `second delay ${delays[1]}`);
    assert.deepEqual(events, ['add a=1']);
  });

  it('restarts a LIST whose continue token expired, from the start', async () => {
    for (const n of ['a', 'b', 'c', 'd']) api.put(n, 1);
    api.expireNextContinue = true;
    const r = makeReflector();
    r.start();
    await r.waitForSync();
    assert.equal(r.stats().expired, 1);
    const lists = api.requests.filter((q) => q.kind === 'list');
    assert.deepEqual(lists.map((q) => q.query.get('continue') ?? ''), ['', '2:104', '', '2:104']);
    // Objects of the failed first page are replayed unchanged (no event), never deleted.
    assert.deepEqual(events, ['add a=1', 'add b=1', 'add c=1', 'add d=1']);
  });

  it('watchdog: restarts a watch that has been silent too long, from the same resourceVersion', async () => {
    api.put('a', 1);
    api.silent = true;
    const r = makeReflector({ idleTimeoutMs: 150 });
    r.start();
    await r.waitForSync();
    await until('two watchdog restarts', () => r.stats().idleRestarts >= 2);
    await until('third watch', () => api.requests.filter((q) => q.kind === 'watch').length >= 3);
    const watches = api.requests.filter((q) => q.kind === 'watch');
    assert.ok(watches.every((q) => q.query.get('resourceVersion') === '101'));
    // Each silent watch is aborted, its connection cut: only the current one stays open. (With
    // pooled connections the next watch can go out on an idle keep-alive connection, so the
    // server may read it a moment before it reads the close of the aborted one: a count of 2 for
    // that moment, not a leak; a leaked watch would keep the count at 3.)
    await until('only the current watch open', () => api.openWatches === 1);
    assert.ok(api.maxOpenWatches <= 2, `at most the aborted watch and the next overlap (saw ${api.maxOpenWatches})`);
    assert.deepEqual(delays, [], 'no backoff: the idle time is the throttle');
  });

  it('a watch the server ends cleanly at its term, without a single event, resumes at once: no backoff, no warning', async () => {
    api.put('a', 1);
    api.silent = true;
    api.endAtTerm = true;
    const r = makeReflector({ watchTimeoutSeconds: [1, 1], idleTimeoutMs: 60_000 });
    r.start();
    await r.waitForSync();
    await until('the third watch', () => api.requests.filter((q) => q.kind === 'watch').length >= 3);
    assert.deepEqual(delays, [], 'a quiet namespace is not a misbehaving server');
    assert.equal(r.stats().errors, 0);
    assert.ok(api.requests.filter((q) => q.kind === 'watch').every((q) => q.query.get('resourceVersion') === '101'));
  });

  it('gives up on a watch whose response never starts, long before the idle watchdog', async () => {
    api.put('a', 1);
    api.hang = true;
    const r = makeReflector({ openTimeoutMs: 150, idleTimeoutMs: 60_000 });
    r.start();
    await r.waitForSync();
    await until('the hung watch is retried', () => api.requests.filter((q) => q.kind === 'watch').length >= 3);
    assert.equal(r.stats().idleRestarts, 0, 'the watchdog did not have to step in');
    assert.ok(r.stats().errors >= 2, 'each hung watch counts as a failed request');
    assert.ok(delays.length >= 2, 'and is retried with backoff');
    api.hang = false;
    api.put('b', 2);
    await until('the next watch delivers b', () => events.some((e) => e.includes('b')));
  });

  it('watchdog: bookmarks keep a quiet watch alive and move its resourceVersion', async () => {
    api.put('a', 1);
    const r = makeReflector({ idleTimeoutMs: 300 });
    r.start();
    await r.waitForSync();
    await until('watch open', () => api.openWatches === 1);
    api.rv += 5; // other collections moved the cluster's resourceVersion on
    for (let i = 0; i < 6; i++) {
      api.bookmark();
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(r.stats().idleRestarts, 0);
    assert.equal(r.resourceVersion, String(api.rv));
    assert.deepEqual(events, ['add a=1'], 'bookmarks are not changes');
  });

  it('relist(): ends the watch, lists again with a wider filter and emits what appeared', async () => {
    api.put('a', 1, { ns: 'one' });
    api.put('b', 2, { ns: 'two' });
    const allowed = new Set(['one']);
    const r = makeReflector({ filter: (o) => allowed.has(o.metadata.labels?.ns ?? '') });
    r.start();
    await r.waitForSync();
    await until('watch open', () => api.openWatches === 1);
    allowed.add('two');
    r.relist();
    r.relist(); // a burst is one more list, not two
    await until('relisted', () => r.stats().lists === 2);
    await until('watch reopened', () => api.openWatches === 1);
    assert.deepEqual(events, ['add a=1', 'add b=2']);
    assert.equal(api.requests.filter((q) => q.kind === 'list').length, 2);
    assert.equal(api.maxOpenWatches, 1);
  });

  it('stop(): closes the watch and emits nothing more; prune() drops silently', async () => {
    api.put('a', 1);
    api.put('b', 2);
    const r = makeReflector();
    r.start();
    await r.waitForSync();
    await until('watch open', () => api.openWatches === 1);
    await r.stop();
    await until('watch closed', () => api.openWatches === 0);
    api.put('c', 3);
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(events, ['add a=1', 'add b=2']);
    assert.equal(r.prune((f) => f.name === 'a'), 1);
    assert.deepEqual([...r.values()].map((f) => f.name), ['b']);
    assert.deepEqual(events, ['add a=1', 'add b=2']);
  });

  it('absorbs a throwing handler and keeps watching', async () => {
    const r = makeReflector({
      onEvent: (e) => {
        events.push(summary(e));
        if (e.type === 'add' && e.facts.name === 'boom') throw new Error('handler bug');
      },
    });
    r.start();
    await r.waitForSync();
    await until('watch open', () => api.openWatches === 1);
    api.put('boom', 1);
    api.put('ok', 2);
    await until('ok', () => events.includes('add ok=2'));
    assert.equal(r.stats().errors, 0);
  });
});
