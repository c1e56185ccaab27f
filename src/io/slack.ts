/**
 * The Slack edge: creates the @slack/web-api WebClient the way Hermod needs it and adapts it
 * to the small SlackApi the delivery actors use, classifying every failure.
 *
 * - `retryConfig: { retries: 0 }`: the client's own retries last about 30 minutes and would
 *   hide failures from the per-channel queues, which retry themselves (with backoff, forever).
 * - `rejectRateLimitedCalls: true`: otherwise a 429 pauses ALL requests of the client for
 *   Retry-After, so one busy channel would delay every channel. The channel queue waits instead.
 * - `timeout`: a hung request must end; the delivery layer treats a timed-out post as
 *   ambiguous (it may have been posted), re-posts it and counts a possible duplicate.
 *
 * Methods called: chat.postMessage and chat.update (scope `chat:write`); conversations.history
 * only when a new leader looks for a post its predecessor may have made without recording it
 * (optional scopes `channels:history` / `groups:history`, ADR 0006). A timed-out post is not
 * looked for before it is re-posted (ADR 0003).
 */
import type { Logger } from '../actors/logger.js';
import { ErrorCode, WebClient, type Logger as SlackLogger, LogLevel } from '@slack/web-api';
import { ROLLOUT_EVENT_TYPE, SlackCallError, type FindPostRequest, type PostMessageRequest, type SlackApi, type UpdateMessageRequest } from '../actors/delivery/index.js';
import { proxyFetch, type ProxyEnv } from './proxy.js';
import type { SlackMethod } from '../machines/channelTypes.js';
import type { SlackFailure } from '../machines/slackFailure.js';

/** The part of Hermod's logger the Slack edge uses. */
export type SlackEdgeLogger = Pick<Logger, 'debug' | 'warn'>;

export interface SlackClientOptions {
  token: string;
  /** Default https://slack.com/api/ ; tests point it at the local Slack. */
  slackApiUrl?: string;
  /** Per-request timeout in ms (default 10,000). */
  timeoutMs?: number;
  logger?: SlackEdgeLogger;
  /** Proxy settings (default: HTTPS_PROXY, HTTP_PROXY, NO_PROXY from the environment; see ./proxy.ts). */
  proxy?: ProxyEnv;
}

export const DEFAULT_SLACK_TIMEOUT_MS = 10_000;

/** Pages of 200 messages a new leader reads to find one lost post (findRolloutPost). */
const HISTORY_PAGES = 5;

/** The token is useless: no channel can be reached. */
const WORKSPACE_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
  'no_permission',
  'team_access_not_granted',
  'org_login_required',
  'not_allowed_token_type',
  'ekm_access_denied',
]);

/** This channel cannot take Hermod's messages until someone changes something. */
const CHANNEL_ERRORS = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'missing_scope',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'team_not_found',
]);

/** The message (or a thread's parent) is gone: post anew / skip the thread. */
const GONE_ERRORS = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed', 'thread_not_found']);

/** Slack's own trouble: retry. */
const TRANSIENT_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited', 'rate_limited', 'team_added_to_org']);

/** A Slack error code -> how delivery treats it. Unknown codes are content problems (no retry storm). */
export function failureOfSlackError(code: string): SlackFailure {
  if (WORKSPACE_ERRORS.has(code)) return { kind: 'permanent', error: code, scope: 'workspace' };
  if (CHANNEL_ERRORS.has(code)) return { kind: 'permanent', error: code, scope: 'channel' };
  if (GONE_ERRORS.has(code)) return { kind: 'messageGone', error: code };
  if (TRANSIENT_ERRORS.has(code)) return { kind: 'transient', error: code };
  return { kind: 'rejected', error: code };
}

/** Network error codes that prove the request never reached Slack. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function causeChain(err: unknown): Array<{ name?: string; code?: string; message?: string }> {
  const out: Array<{ name?: string; code?: string; message?: string }> = [];
  let cur: unknown = err;
  for (let i = 0; i < 6 && cur !== null && typeof cur === 'object'; i++) {
    const e = cur as { name?: string; code?: string; message?: string; cause?: unknown; original?: unknown };
    out.push(e);
    cur = e.original ?? e.cause;
  }
  return out;
}

/** Classifies anything the WebClient throws. The result's message never contains the token. */
export function classifySlackError(method: SlackMethod | 'auth.test' | 'conversations.history', err: unknown): SlackCallError {
  const e = err as { code?: string; data?: { error?: string }; retryAfter?: number; statusCode?: number };
  switch (e?.code) {
    case ErrorCode.PlatformError: {
      const code = e.data?.error ?? 'unknown_error';
      return new SlackCallError(method, failureOfSlackError(code), { cause: err });
    }
    case ErrorCode.RateLimitedError:
      return new SlackCallError(method, { kind: 'rateLimited', error: 'ratelimited', retryAfterSec: e.retryAfter ?? 1 }, { cause: err });
    case ErrorCode.HTTPError:
      return new SlackCallError(method, { kind: 'transient', error: `http_${e.statusCode ?? 'error'}` }, { cause: err });
    case ErrorCode.RequestError: {
      const chain = causeChain(err);
      if (chain.some((c) => c.name === 'TimeoutError' || c.name === 'AbortError')) return new SlackCallError(method, { kind: 'ambiguous', error: 'timeout' }, { cause: err });
      const netCode = chain.map((c) => c.code).find((c): c is string => typeof c === 'string' && c !== ErrorCode.RequestError);
      if (netCode !== undefined && NOT_SENT.has(netCode)) return new SlackCallError(method, { kind: 'transient', error: netCode }, { cause: err });
      // Reset, "other side closed", anything else: the request may have been applied.
      return new SlackCallError(method, { kind: 'ambiguous', error: netCode ?? 'request_error' }, { cause: err });
    }
    default:
      return new SlackCallError(method, { kind: 'transient', error: 'unknown' }, { cause: err });
  }
}

/** The WebClient's own log lines, at debug (warnings kept as warnings), through Hermod's logger. */
function clientLogger(logger: SlackEdgeLogger | undefined): SlackLogger {
  const base = { component: 'slack-web-api' };
  return {
    debug: (...msg: unknown[]) => logger?.debug(base, msg.map(String).join(' ')),
    info: (...msg: unknown[]) => logger?.debug(base, msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => logger?.debug(base, msg.map(String).join(' ')),
    error: (...msg: unknown[]) => logger?.warn(base, msg.map(String).join(' ')),
    setLevel: () => {},
    getLevel: () => LogLevel.DEBUG,
    setName: () => {},
  };
}

/** Creates the WebClient: through the proxy the environment names, no client retries, 429s rejected (handled per channel), a timeout. */
export function createSlackClient(opts: SlackClientOptions): WebClient {
  return new WebClient(opts.token, {
    ...(opts.slackApiUrl !== undefined ? { slackApiUrl: opts.slackApiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: opts.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS,
    logger: clientLogger(opts.logger),
    // Through HTTPS_PROXY unless NO_PROXY exempts the host (issue 14).
    fetch: proxyFetch(opts.proxy),
  });
}

/** Adapts a WebClient to SlackApi; every failure becomes a classified SlackCallError. */
export function createSlackApi(client: WebClient): SlackApi {
  return {
    async postMessage(req: PostMessageRequest) {
      try {
        const r = await client.chat.postMessage({
          channel: req.channel,
          text: req.text,
          ...(req.attachments !== undefined ? { attachments: req.attachments } : {}),
          ...(req.blocks !== undefined ? { blocks: req.blocks } : {}),
          ...(req.threadTs !== undefined ? { thread_ts: req.threadTs } : {}),
          ...(req.metadata !== undefined ? { metadata: req.metadata } : {}),
        });
        return { channelId: r.channel ?? req.channel, ts: r.ts ?? '' };
      } catch (err) {
        throw classifySlackError('chat.postMessage', err);
      }
    },

    async updateMessage(req: UpdateMessageRequest) {
      try {
        await client.chat.update({
          channel: req.channelId,
          ts: req.ts,
          text: req.text,
          attachments: req.attachments,
          ...(req.blocks !== undefined ? { blocks: req.blocks } : {}),
          ...(req.metadata !== undefined ? { metadata: req.metadata } : {}),
        });
      } catch (err) {
        throw classifySlackError('chat.update', err);
      }
    },

    async findRolloutPost(req: FindPostRequest) {
      let cursor: string | undefined;
      for (let page = 0; page < HISTORY_PAGES; page++) {
        let r: Awaited<ReturnType<WebClient['conversations']['history']>>;
        try {
          r = await client.conversations.history({ channel: req.channelId, oldest: req.oldest, inclusive: true, include_all_metadata: true, limit: 200, ...(cursor !== undefined ? { cursor } : {}) });
        } catch (err) {
          throw classifySlackError('conversations.history', err);
        }
        const found = (r.messages ?? []).find(
          (m) => m.metadata?.event_type === ROLLOUT_EVENT_TYPE && (m.metadata.event_payload as { rolloutId?: unknown } | undefined)?.rolloutId === req.rolloutId && (m.thread_ts === undefined || m.thread_ts === m.ts),
        );
        if (found?.ts !== undefined) return { ts: found.ts };
        cursor = r.response_metadata?.next_cursor || undefined;
        if (r.has_more !== true) return null;
        if (cursor === undefined) break;
      }
      // More history than we read: whether the post is there is unknown.
      throw new SlackCallError('conversations.history', { kind: 'transient', error: 'history_not_searched_to_the_end' });
    },

  };
}
