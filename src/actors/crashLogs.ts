/**
 * Attaches the crashed container's last log lines to a failing or failed rollout's
 * notification. The Deployment statechart names the container (view.crashTarget); this part
 * reads its previous run's log once per rollout and container through an injected reader,
 * redacts and bounds it (src/machines/crashLog.ts), and forwards notifications in order:
 * - while the read is pending, a failing notification goes on without the log and is sent
 *   again with it once the read ends;
 * - a final (failed) notification waits for the read (bounded by the reader's timeout), so the
 *   verdict carries the log: after a verdict, delivery takes no more updates for the rollout.
 */
import { crashLogFrom, unavailableCrashLog } from '../machines/crashLog.js';
import { isFinalPhase, type CrashLog, type CrashLogTarget, type Notification } from '../machines/notification.js';
import type { Logger } from './logger.js';

/** The log's text, or why it could not be read (src/io/kube/podLogs.ts implements it). */
export type CrashLogReader = (target: CrashLogTarget) => Promise<{ text: string } | { unavailable: string }>;

export interface CrashLogOptions {
  read: CrashLogReader;
  /** --log-lines: how many of the last lines to show (> 0). */
  lines: number;
  /** Compiled redactions (the defaults and --log-redact). */
  redactions: readonly RegExp[];
  logger: Logger;
}

type Forward<C> = (notification: Notification, change: C) => void;

interface Entry<C> {
  /** The container read for this rollout (a new container means a new read). */
  container: string;
  log: CrashLog | null;
  /** The newest notification seen while the read was pending. */
  latest: { notification: Notification; change: C } | null;
}

export class CrashLogs<C> {
  readonly #options: CrashLogOptions;
  readonly #forward: Forward<C>;
  /** rolloutId -> the rollout's read; forgotten when its final notification goes out. */
  readonly #entries = new Map<string, Entry<C>>();

  constructor(options: CrashLogOptions, forward: Forward<C>) {
    this.#options = options;
    this.#forward = forward;
  }

  /** Rollouts with a read in flight or a log kept (tests, leak checks). */
  get size(): number {
    return this.#entries.size;
  }

  handle(notification: Notification, change: C): void {
    const view = notification.view;
    // A success that degraded within its bake window (issue 13) crashes like a failure.
    const failure = view.phase === 'failing' || view.phase === 'failed' || view.phase === 'degraded';
    let entry = this.#entries.get(notification.rolloutId);
    const target = failure ? (view.crashTarget ?? null) : null;
    if (target !== null && entry?.container !== target.container) {
      entry = { container: target.container, log: null, latest: null };
      this.#entries.set(notification.rolloutId, entry);
      this.#read(notification.rolloutId, entry, target);
    }
    if (entry !== undefined && entry.log === null) {
      entry.latest = { notification, change };
      if (isFinalPhase(view.phase)) return; // sent once the read ends
    }
    this.#send(notification, change, entry);
  }

  #read(rolloutId: string, entry: Entry<C>, target: CrashLogTarget): void {
    const { read, lines, redactions, logger } = this.#options;
    read(target)
      .then(
        (result) => ('text' in result ? crashLogFrom(target, result.text, lines, redactions) : unavailableCrashLog(target, result.unavailable)),
        () => unavailableCrashLog(target, 'the log could not be read'),
      )
      .then((log) => {
        if (log.unavailable !== null) logger.info({ pod: `${target.namespace}/${target.pod}`, container: target.container, reason: log.unavailable }, 'crash log not available');
        // A newer container's read replaced this one: its result is not wanted.
        if (this.#entries.get(rolloutId) !== entry) return;
        entry.log = log;
        const latest = entry.latest;
        entry.latest = null;
        if (latest !== null) this.#send(latest.notification, latest.change, entry);
      });
  }

  #send(notification: Notification, change: C, entry: Entry<C> | undefined): void {
    const failure = notification.view.phase === 'failing' || notification.view.phase === 'failed' || notification.view.phase === 'degraded';
    const log = failure ? (entry?.log ?? null) : null;
    if (isFinalPhase(notification.view.phase)) this.#entries.delete(notification.rolloutId);
    this.#forward(log === null ? notification : { ...notification, view: { ...notification.view, crashLog: log } }, change);
  }
}
