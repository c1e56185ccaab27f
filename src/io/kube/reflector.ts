/**
 * A small list+watch cache for one kind of Kubernetes object that keeps only trimmed facts.
 *
 * LIST (paginated) -> emit the differences against the cache -> WATCH from the list's
 * resourceVersion with bookmarks -> emit add/update/delete as events arrive. On 410 Gone
 * it lists again and emits only the differences, so replays are idempotent. Other errors
 * restart the watch with capped exponential backoff and jitter. A watchdog restarts a
 * watch that has delivered nothing for too long. One loop per reflector: never two
 * requests at once.
 *
 * The cache itself is factStore.ts; the request timeouts are watchdog.ts; what a reflector is
 * given and reports (options, tuning, statistics, controls) is reflectorOptions.ts.
 *
 * Why not client-node's informer: its ObjectCache keeps every whole object (a Pod is
 * kilobytes; Hermod needs a few fields of it), and it stops on the first non-410 error.
 */
import { setTimeout as sleepPromise } from 'node:timers/promises';
import { backoffDelay } from './backoff.js';
import { watchStatusError, type WatchEvent } from './client.js';
import { KubeApiError, RequestTimeoutError, WatchIdleError, isResourceExpired } from './errors.js';
import { silentLogger, type Logger } from '../../actors/logger.js';
import { FactStore, type RawObject } from './factStore.js';
import type { ReflectorControl, ReflectorOptions, ReflectorStats } from './reflectorOptions.js';
import { Watchdog } from './watchdog.js';

// Why a request was aborted from inside the reflector (so the loop can tell them apart).
const STOP = Symbol('stop');
const RELIST = Symbol('relist');

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  sleepPromise(ms, undefined, { signal }).then(() => undefined);

export class Reflector<R extends RawObject, F> implements ReflectorControl {
  readonly name: string;
  private readonly store: FactStore<R, F>;
  private readonly log: Logger;
  private readonly opts: ReflectorOptions<R, F>;
  private rv = '';
  private needList = true;
  private synced = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private lifetime: AbortController | undefined;
  private request: AbortController | undefined;
  private watching = false;
  /** The current WATCH has been answered and its stream is open. */
  private streamOpen = false;
  private failures = 0;
  private refused = false;
  private syncWaiters: (() => void)[] = [];
  private readonly counters = { lists: 0, watches: 0, expired: 0, idleRestarts: 0, errors: 0 };
  private lastActivityMs: number | null = null;

  constructor(options: ReflectorOptions<R, F>) {
    this.opts = options;
    this.name = options.name;
    this.log = options.logger ?? silentLogger;
    this.store = new FactStore<R, F>({
      name: options.name,
      filter: options.filter,
      transform: options.transform,
      onEvent: options.onEvent,
      logger: this.log,
    });
  }

  /** True once the first LIST has completed and its objects were emitted. */
  get hasSynced(): boolean {
    return this.synced;
  }

  get forbidden(): boolean {
    return this.refused;
  }

  /** Number of cached objects. */
  get size(): number {
    return this.store.size;
  }

  /** The resourceVersion the next watch resumes from ('' before the first list). */
  get resourceVersion(): string {
    return this.rv;
  }

  /** Resolves when the first LIST has completed (immediately if it has). */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Starts listing and watching in the background. Idempotent while running. */
  start(): void {
    if (this.loop && !this.stopping) return;
    const previous = this.loop ?? Promise.resolve();
    this.stopping = false;
    const lifetime = new AbortController();
    this.lifetime = lifetime;
    this.lastActivityMs = Date.now();
    const loop = previous.then(() => this.run(lifetime.signal));
    this.loop = loop;
    void loop.finally(() => {
      if (this.loop === loop) this.loop = undefined;
    });
  }

  /** Stops the loop and closes any open request. Resolves when the loop has ended. The cache is kept. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.lifetime?.abort(STOP);
    this.request?.abort(STOP);
    await this.loop;
  }

  /**
   * Lists again (after the current request) and emits the differences: used when the filter
   * widened (a namespace became tracked), so objects it used to drop appear. Cheap to call
   * repeatedly: requests made while a list is pending are merged into the next one.
   */
  relist(): void {
    this.needList = true;
    // A watch in flight is ended now; a list in flight completes, then the loop lists again.
    if (this.watching) this.request?.abort(RELIST);
  }

  /** The cached facts for a key (an object's uid). */
  get(key: string): F | undefined {
    return this.store.get(key);
  }

  /** All cached facts. */
  values(): IterableIterator<F> {
    return this.store.values();
  }

  /**
   * Drops cached objects silently (no delete events), e.g. those of a namespace that is no
   * longer tracked. Returns how many were dropped.
   */
  prune(predicate: (facts: F, key: string) => boolean): number {
    return this.store.prune(predicate);
  }

  stats(): ReflectorStats {
    return { objects: this.store.size, ...this.counters, openWatches: this.streamOpen ? 1 : 0, lastActivityMs: this.lastActivityMs };
  }

  private async run(lifetime: AbortSignal): Promise<void> {
    while (!lifetime.aborted) {
      try {
        if (this.needList) {
          try {
            await this.listOnce();
          } catch (err) {
            const was = this.refused;
            this.refused = err instanceof KubeApiError && err.statusCode === 403;
            if (this.refused && !was) this.opts.onForbidden?.();
            throw err;
          }
          this.refused = false;
          this.failures = 0;
        } else {
          const watch = await this.watchOnce();
          // A watch the server ended cleanly resumes at once if it brought events or lasted
          // its term (a quiet namespace's Warning-event watch gets no bookmarks). An empty one
          // that ended early would be a tight loop against a misbehaving server or proxy: back off.
          if (watch.events > 0 || watch.lastedTerm) {
            this.failures = 0;
            continue;
          }
          this.failures++;
          await this.backoff(lifetime, undefined, 'watch ended without events');
        }
      } catch (err) {
        if (lifetime.aborted) break;
        if (err === RELIST) continue;
        if (err instanceof WatchIdleError) {
          // The idle time itself throttles this: restart at once from the last resourceVersion.
          this.counters.idleRestarts++;
          this.log.warn({ reflector: this.name, idleMs: err.idleMs }, 'watch idle too long; restarting it');
          continue;
        }
        if (isResourceExpired(err)) {
          this.counters.expired++;
          this.needList = true;
          this.log.info({ reflector: this.name, err }, 'resourceVersion expired (410); relisting');
          // The first 410 in a row relists at once, like client-go; repeated ones back off.
          if (this.failures++ === 0) continue;
          await this.backoff(lifetime, err, 'relist after repeated 410');
          continue;
        }
        this.failures++;
        this.counters.errors++;
        await this.backoff(lifetime, err, this.needList ? 'list failed' : 'watch failed');
      }
    }
  }

  /** Sleeps for the backoff delay of the current failure count (callers count the failure). */
  private async backoff(lifetime: AbortSignal, err: unknown, what: string): Promise<void> {
    const delayMs = backoffDelay(Math.max(1, this.failures), this.opts.backoff, this.opts.random);
    this.log.warn({ reflector: this.name, err, delayMs, failures: this.failures }, `${what}; retrying after backoff`);
    try {
      await (this.opts.sleep ?? defaultSleep)(delayMs, lifetime);
    } catch {
      // Aborted by stop(): the loop condition ends the loop.
    }
  }

  /** One complete paginated LIST; emits the differences against the cache. */
  private async listOnce(): Promise<void> {
    // Cleared first, so that a relist() requested while this list runs causes another one.
    this.needList = false;
    const request = new AbortController();
    this.request = request;
    const seen = new Set<string>();
    let resourceVersion = '';
    let cont: string | undefined;
    let pages = 0;
    const openMs = this.opts.openTimeoutMs ?? 30_000;
    const watchdog = new Watchdog(request);
    try {
      do {
        watchdog.arm(openMs, () => new RequestTimeoutError(`LIST ${this.opts.path}`, openMs));
        const page = await this.opts.client.list(
          this.opts.path,
          {
            limit: this.opts.pageSize ?? 500,
            continue: cont,
            fieldSelector: this.opts.fieldSelector,
            labelSelector: this.opts.labelSelector,
          },
          request.signal,
        );
        watchdog.clear();
        pages++;
        for (const raw of page.items as R[]) {
          const key = this.store.upsert(raw);
          if (key !== undefined) seen.add(key);
        }
        // Every page of one paginated list belongs to the first page's snapshot.
        if (resourceVersion === '') resourceVersion = page.resourceVersion;
        cont = page.continue;
      } while (cont);
    } catch (err) {
      // Nothing was deleted yet and adds/updates are idempotent: the next list starts afresh.
      this.needList = true;
      throw request.signal.aborted ? (request.signal.reason as unknown) : err;
    } finally {
      watchdog.clear();
      if (this.request === request) this.request = undefined;
    }
    const removed = this.store.retainOnly(seen);
    this.rv = resourceVersion;
    this.counters.lists++;
    this.lastActivityMs = Date.now();
    this.log.debug(
      { reflector: this.name, objects: this.store.size, pages, resourceVersion, removed },
      'listed',
    );
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
    try {
      this.opts.onListed?.();
    } catch (err) {
      this.log.error({ reflector: this.name, err }, 'onListed handler threw');
    }
  }

  /** One WATCH from the current resourceVersion until it ends: the events it brought, and whether it lasted (most of) the term it asked for. */
  private async watchOnce(): Promise<{ events: number; lastedTerm: boolean }> {
    const request = new AbortController();
    this.request = request;
    this.watching = true;
    this.counters.watches++;
    const idleMs = this.opts.idleTimeoutMs ?? 300_000;
    const watchdog = new Watchdog(request);
    const arm = (): void => {
      this.lastActivityMs = Date.now();
      watchdog.arm(idleMs, () => new WatchIdleError(idleMs));
    };
    const [lo, hi] = this.opts.watchTimeoutSeconds ?? [300, 600];
    const timeoutSeconds = Math.round(lo + (hi - lo) * (this.opts.random ?? Math.random)());
    const startedAt = Date.now();
    let events = 0;
    // Until the response headers arrive, the shorter open timeout applies; then the watchdog.
    const openMs = this.opts.openTimeoutMs ?? 30_000;
    watchdog.arm(openMs, () => new RequestTimeoutError(`WATCH ${this.opts.path}`, openMs));
    try {
      await this.opts.client.watch(
        this.opts.path,
        {
          resourceVersion: this.rv,
          allowWatchBookmarks: true,
          timeoutSeconds,
          fieldSelector: this.opts.fieldSelector,
          labelSelector: this.opts.labelSelector,
        },
        request.signal,
        (event) => {
          arm();
          events++;
          this.onWatchEvent(event);
        },
        () => {
          this.streamOpen = true;
          arm();
        },
      );
    } catch (err) {
      // An abort surfaces as a generic AbortError; the signal's reason says who aborted.
      throw request.signal.aborted ? (request.signal.reason as unknown) : err;
    } finally {
      watchdog.clear();
      this.watching = false;
      this.streamOpen = false;
      if (this.request === request) this.request = undefined;
    }
    return { events, lastedTerm: Date.now() - startedAt >= timeoutSeconds * 900 };
  }

  private onWatchEvent(event: WatchEvent): void {
    const raw = event.object as R | null | undefined;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        if (raw) this.store.upsert(raw);
        break;
      case 'DELETED':
        if (raw) this.store.remove(raw);
        break;
      case 'BOOKMARK':
        break;
      case 'ERROR':
        // The server ends the stream after an ERROR; throwing cancels it and the loop decides.
        throw watchStatusError(raw, this.opts.path);
      default:
        this.log.warn({ reflector: this.name, type: event.type }, 'unknown watch event type ignored');
        return;
    }
    const rv = raw?.metadata?.resourceVersion;
    if (typeof rv === 'string' && rv !== '') this.rv = rv;
  }
}
