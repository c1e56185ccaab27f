/**
 * Health that tells the truth (issue 14): what /livez and /readyz answer, from the watches,
 * Slack and the state store, and the numbers the health metrics export.
 *
 * - /livez fails when a watch has made no progress (no LIST completed, no WATCH opened, no event
 *   or bookmark) for WATCH_WEDGED_MS. A healthy watch shows progress at least every 5 minutes
 *   (the server ends a watch after 5 to 10 minutes and the idle watchdog restarts a silent one
 *   after 5), so 15 minutes of nothing means a wedged loop, which a restart cures. An API server
 *   that is down for 15 minutes also fails it; the restart then costs nothing.
 *   Liveness never depends on Slack or Sentry: a Slack outage must not get Hermod restarted.
 * - /readyz fails while the caches have not synced, while shutting down, and while Slack
 *   rejects the token (invalid_auth, token_revoked, ...): a rejected token needs a person,
 *   and a not-ready Pod is what a rollout of the fix waits for.
 */
import type { Logger } from '../actors/logger.js';
import { failureOfSlackError } from './slack.js';

/** True when Slack's error code means the token itself is refused (invalid_auth, token_revoked, ...): no channel can be reached. */
const isTokenRejected = (code: string): boolean => {
  const failure = failureOfSlackError(code);
  return failure.kind === 'permanent' && failure.scope === 'workspace';
};

/** How long a watch may show no progress before /livez fails (documented in the README). */
export const WATCH_WEDGED_MS = 15 * 60 * 1000;

/** How often the error line about a rejected token is repeated while it lasts. */
export const TOKEN_REJECTED_LOG_EVERY_MS = 5 * 60 * 1000;


export interface Verdict {
  ok: boolean;
  /** Why not, one reason per line; empty when ok. */
  reasons: string[];
}

/** The kinds whose watch made no progress for longer than `boundMs`. */
export function wedgedWatches(lastActivity: Record<string, number | null>, now: number, boundMs: number = WATCH_WEDGED_MS): string[] {
  return Object.entries(lastActivity)
    .filter(([, at]) => at !== null && now - at > boundMs)
    .map(([kind]) => kind);
}

/** Slack's health as seen from the answers to Hermod's calls. */
export class SlackHealth {
  private lastSuccessMs: number | null = null;
  private rejectedBy: string | null = null;
  private lastLoggedMs = -Infinity;

  constructor(
    private readonly logger: Pick<Logger, 'error' | 'info'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Record the outcome of one Slack call: `ok`, or Slack's error code. */
  record(outcome: string): void {
    if (outcome === 'ok') {
      this.lastSuccessMs = this.now();
      if (this.rejectedBy !== null) this.logger.info({ previously: this.rejectedBy }, 'Slack accepts the token again');
      this.rejectedBy = null;
      return;
    }
    if (!isTokenRejected(outcome)) return;
    this.rejectedBy = outcome;
    this.remind();
  }

  /** Repeat the error line while the token stays rejected, at most every TOKEN_REJECTED_LOG_EVERY_MS. */
  remind(): void {
    if (this.rejectedBy === null) return;
    const now = this.now();
    if (now - this.lastLoggedMs < TOKEN_REJECTED_LOG_EVERY_MS) return;
    this.lastLoggedMs = now;
    this.logger.error(
      { slackError: this.rejectedBy },
      `Slack rejects the token (${this.rejectedBy}): nothing can be posted until SLACK_TOKEN is replaced (reinstall the Slack app, update the Secret, restart Hermod)`,
    );
  }

  /** The Slack error code while the token is rejected, else null. */
  get tokenRejected(): string | null {
    return this.rejectedBy;
  }

  /** Seconds since Slack last answered ok, or null if it never has. */
  secondsSinceSuccess(): number | null {
    return this.lastSuccessMs === null ? null : (this.now() - this.lastSuccessMs) / 1000;
  }
}

/** The state store's health: when the delivery state was last saved, and failures since. */
export class StateHealth {
  lastSaveMs: number | null = null;
  failures = 0;
  /** True while the latest attempt failed. */
  failing = false;

  saved(now: number = Date.now()): void {
    this.lastSaveMs = now;
    this.failing = false;
  }

  failed(): void {
    this.failures++;
    this.failing = true;
  }
}

/** /livez: the process answers and no watch is wedged. */
export function liveness(lastActivity: Record<string, number | null>, now: number, boundMs: number = WATCH_WEDGED_MS): Verdict {
  const wedged = wedgedWatches(lastActivity, now, boundMs);
  return {
    ok: wedged.length === 0,
    reasons: wedged.map((kind) => `watch of ${kind} made no progress for over ${Math.round(boundMs / 60_000)} minutes`),
  };
}

/** /readyz: caches synced, not stopping, and Slack accepts the token. */
export function readiness(state: { synced: boolean; stopping: boolean; tokenRejected: string | null }): Verdict {
  const reasons: string[] = [];
  if (state.stopping) reasons.push('shutting down');
  if (!state.synced) reasons.push('caches not synced yet (check the RBAC with `hermod check`)');
  if (state.tokenRejected !== null) reasons.push(`Slack rejects the token (${state.tokenRejected}): replace SLACK_TOKEN`);
  return { ok: reasons.length === 0, reasons };
}

/** Slack's error code somewhere in an error's cause chain (`data.error` of a WebClient platform error), or 'error'. */
export function slackCodeOf(err: unknown): string {
  let cur: unknown = err;
  for (let i = 0; i < 6 && cur !== null && typeof cur === 'object'; i++) {
    const e = cur as { data?: { error?: unknown }; cause?: unknown; original?: unknown };
    if (typeof e.data?.error === 'string') return e.data.error;
    cur = e.cause ?? e.original;
  }
  return 'error';
}

/**
 * The same Slack API with every call's outcome recorded (`ok` or Slack's error code). A Proxy,
 * so it follows whatever methods the delivery layer's SlackApi has without restating them.
 */
export function recordingOutcomes<T extends object>(api: T, record: (outcome: string) => void): T {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          const result: unknown = await (value as (...a: unknown[]) => unknown).apply(target, args);
          record('ok');
          return result;
        } catch (err) {
          record(slackCodeOf(err));
          throw err;
        }
      };
    },
  });
}
