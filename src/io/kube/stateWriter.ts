/**
 * Write-through delivery state (issue 9): every change is made durable within a short window,
 * one fenced write per window however many changes it holds, and whoever made a change can
 * wait until it is durable before treating the Slack call as done.
 *
 * - `persist()` says "the state changed"; it resolves `durable` once a write that started
 *   after the call has been stored. Writes start at most once per window (default 250 ms):
 *   the first change after a quiet spell is written at once (with every change of the same
 *   turn of the event loop), later ones when the window of the last write ends; each write
 *   takes the CURRENT state (`snapshot()`), however many changes it covers.
 * - Writes are fenced (StateStore.write with the last resourceVersion). `fenced` ends the
 *   writer for good: every waiting and later change resolves `fenced`, and `onFenced` tells
 *   the caller to stop delivering (another Hermod writes the state now).
 * - Other errors keep the changes waiting and retry with a backoff (1 s doubling to 10 s).
 */
import type { Logger } from '../../actors/logger.js';
import { silentLogger } from '../../actors/logger.js';
import type { WriteResult } from './stateStore.js';

export const DEFAULT_WRITE_WINDOW_MS = 250;

export type PersistResult = 'durable' | 'fenced' | 'stopped';

export interface StateWriterOptions<S> {
  /** The fenced store (StateStore.write). */
  store: { write(snapshot: S, resourceVersion: string | null): Promise<WriteResult> };
  /** The current state, taken when a write starts. */
  snapshot: () => S;
  /** The resourceVersion the state was read at (StateStore.read), null when there was none. */
  resourceVersion: string | null;
  windowMs?: number;
  /** First retry delay after a failed write (doubles up to 10 s). */
  retryMs?: number;
  /** Called once, when a write was fenced. */
  onFenced?: (reason: string) => void;
  /** Called for a failed write (first of a streak), e.g. to report to Sentry. */
  onError?: (err: unknown) => void;
  /** Called after every write attempt that got an answer or failed: health metrics. */
  onAttempt?: (outcome: 'written' | 'failed') => void;
  logger?: Logger;
}

export interface StateWriter {
  /** The state changed; resolves once it is durable (or the writer was fenced or stopped). */
  persist(): Promise<PersistResult>;
  /** Writes what is waiting now, without waiting for the window (shutdown). */
  flush(): Promise<PersistResult>;
  /** Fenced: it writes no more. */
  readonly fenced: boolean;
  /** The resourceVersion of the last write (the next write's precondition). */
  readonly resourceVersion: string | null;
  /** How many writes were made (metrics, tests). */
  readonly writes: number;
  /** Stops the timers; waiting changes resolve `stopped`. */
  stop(): void;
}

type Waiter = (result: PersistResult) => void;

/** A write-through writer; see the module comment. */
export function createStateWriter<S>(options: StateWriterOptions<S>): StateWriter {
  const windowMs = options.windowMs ?? DEFAULT_WRITE_WINDOW_MS;
  const firstRetryMs = options.retryMs ?? 1_000;
  const logger = options.logger ?? silentLogger;
  let resourceVersion = options.resourceVersion;
  let waiting: Waiter[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing = false;
  let lastWriteStart = -Infinity;
  let retryMs = 0;
  let fenced = false;
  let stopped = false;
  let writes = 0;
  /** A flush came while a write was under way: the next write goes without waiting for the window. */
  let urgent = false;

  const settle = (waiters: Waiter[], result: PersistResult) => waiters.forEach((w) => w(result));

  const schedule = (delayMs: number) => {
    if (timer !== null || writing || stopped || fenced || waiting.length === 0) return;
    timer = setTimeout(() => {
      timer = null;
      void write();
    }, Math.max(0, delayMs));
  };

  const write = async () => {
    if (writing || stopped || fenced || waiting.length === 0) return;
    writing = true;
    urgent = false;
    lastWriteStart = Date.now();
    // Everyone waiting now is covered by this snapshot; later changes wait for the next write.
    const batch = waiting;
    waiting = [];
    let result: WriteResult | undefined;
    try {
      result = await options.store.write(options.snapshot(), resourceVersion);
      writes++;
    } catch (err) {
      options.onAttempt?.('failed');
      if (retryMs === 0) options.onError?.(err);
      retryMs = retryMs === 0 ? firstRetryMs : Math.min(10_000, retryMs * 2);
      logger.error({ err, retryInMs: retryMs, changes: batch.length }, 'cannot write delivery state: retrying');
      waiting = [...batch, ...waiting];
    } finally {
      writing = false;
    }
    if (result === undefined) return schedule(retryMs);
    if (stopped) return settle(batch, 'stopped');
    if (result.kind === 'fenced') {
      fenced = true;
      logger.warn({ reason: result.reason }, 'delivery state write fenced: another Hermod writes it now');
      settle([...batch, ...waiting], 'fenced');
      waiting = [];
      options.onFenced?.(result.reason);
      return;
    }
    options.onAttempt?.('written');
    if (retryMs !== 0) logger.info({}, 'delivery state written again');
    retryMs = 0;
    resourceVersion = result.resourceVersion;
    settle(batch, 'durable');
    // At most one write per window, unless a flush is waiting.
    schedule(urgent ? 0 : lastWriteStart + windowMs - Date.now());
  };

  const enqueue = (): Promise<PersistResult> => {
    if (fenced) return Promise.resolve('fenced');
    if (stopped) return Promise.resolve('stopped');
    return new Promise<PersistResult>((resolve) => waiting.push(resolve));
  };

  return {
    persist() {
      const done = enqueue();
      // At most one write per window: at once after a quiet spell (the changes of this turn of
      // the event loop together), else when the window of the last write ends.
      schedule(retryMs !== 0 ? retryMs : lastWriteStart + windowMs - Date.now());
      return done;
    },
    flush() {
      const done = enqueue();
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      // Written now, or as soon as the write under way returns (its completion schedules the next).
      if (writing) urgent = true;
      else void write();
      return done;
    },
    get fenced() {
      return fenced;
    },
    get resourceVersion() {
      return resourceVersion;
    },
    get writes() {
      return writes;
    },
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      settle(waiting, 'stopped');
      waiting = [];
    },
  };
}
