/**
 * What a reflector (./reflector.ts) is given and what it reports: its options, the tuning
 * shared by the reflectors of one watcher, its statistics, and the kind-independent controls.
 */
import type { BackoffOptions } from './backoff.js';
import type { ListWatchClient } from './client.js';
import type { Logger } from '../../actors/logger.js';
import type { RawObject, ReflectorEvent } from './factStore.js';

export interface ReflectorOptions<R extends RawObject, F> {
  /** For logs and statistics, e.g. `pods`. */
  name: string;
  client: ListWatchClient;
  /** Collection path, e.g. `/api/v1/pods` or `/apis/apps/v1/deployments`. */
  path: string;
  fieldSelector?: string;
  labelSelector?: string;
  /**
   * Objects to keep. Evaluated on every list item and watch event; an object that stops
   * passing is removed from the cache (and a delete emitted).
   */
  filter?: (raw: R) => boolean;
  /** Raw object -> the facts kept in memory. Must be pure. */
  transform: (raw: R) => F;
  /** Receives every change. Must only translate and enqueue; exceptions are logged and absorbed. */
  onEvent: (event: ReflectorEvent<F>) => void;
  /** Called after each completed LIST (the first one makes the reflector synced). */
  onListed?: () => void;
  /** Called when a LIST is first refused with 403 (the reflector keeps retrying). */
  onForbidden?: () => void;
  logger?: Logger;
  /** LIST page size (`limit`). Default 500. */
  pageSize?: number;
  /** Watchdog: restart a watch that delivered no event or bookmark for this long (ms). Default 300,000. */
  idleTimeoutMs?: number;
  /**
   * A LIST page, or a WATCH's response headers, must arrive within this (ms), else the request
   * is abandoned and retried with backoff. The API server answers both at once, so silence
   * means a dead connection (a half-open socket after a network cut), which the idle
   * watchdog alone would only notice after `idleTimeoutMs`. Default 30,000.
   */
  openTimeoutMs?: number;
  /**
   * Server-side watch timeout range (s). The server ends the watch cleanly after a random
   * duration in this range and the reflector resumes from its resourceVersion, which spreads
   * reconnects over time (client-go does the same). Default [300, 600].
   */
  watchTimeoutSeconds?: readonly [number, number];
  backoff?: BackoffOptions;
  /** Injectable delay; must reject (or resolve) promptly when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Injectable randomness in [0, 1) (jitter, watch timeouts). */
  random?: () => number;
}

/** The tuning knobs a caller running several reflectors shares between them. */
export type ReflectorTuning = Pick<
  ReflectorOptions<RawObject, unknown>,
  'pageSize' | 'idleTimeoutMs' | 'openTimeoutMs' | 'watchTimeoutSeconds' | 'backoff' | 'sleep' | 'random'
>;

/** Counters for metrics and tests. */
export interface ReflectorStats {
  /** Objects held in the cache. */
  objects: number;
  /** Completed LISTs (initial, after 410, on request). */
  lists: number;
  /** Watch requests started. */
  watches: number;
  /** 410 Gone answers (HTTP status or ERROR event). */
  expired: number;
  /** Watches restarted by the watchdog. */
  idleRestarts: number;
  /** Failures that were retried with backoff. */
  errors: number;
  /** Watch streams open now: the server has answered the WATCH and it has not ended (0 or 1 for one reflector). */
  openWatches: number;
  /**
   * When (ms since the epoch) the reflector last made progress: started, completed a LIST,
   * opened a WATCH, or received an event or bookmark. Null before it is started.
   */
  lastActivityMs: number | null;
}

/** The kind-independent controls of a reflector. */
export interface ReflectorControl {
  readonly name: string;
  readonly hasSynced: boolean;
  /** The last LIST was refused with 403 (RBAC) and none has succeeded since; it keeps retrying. */
  readonly forbidden: boolean;
  start(): void;
  stop(): Promise<void>;
  relist(): void;
  stats(): ReflectorStats;
}
