/**
 * The small Slack surface the delivery actors use, implemented at the edge by
 * src/io/slack.ts over @slack/web-api (and injectable, so the actors never import I/O).
 */
import type { KnownBlock, MessageAttachment } from '@slack/types';
import type { SlackMethod } from '../../machines/channelTypes.js';
import type { SlackFailure } from '../../machines/slackFailure.js';

/** Hermod's marker on its messages: every message of a rollout can be found by it (ADR 0003). */
export const ROLLOUT_EVENT_TYPE = 'hermod_rollout';

export interface RolloutMetadata {
  event_type: typeof ROLLOUT_EVENT_TYPE;
  event_payload: { rolloutId: string; version: number };
}

export interface PostMessageRequest {
  /** Channel ID, `#name` or `name`. */
  channel: string;
  text: string;
  attachments?: MessageAttachment[];
  blocks?: KnownBlock[];
  /** Reply in this message's thread. */
  threadTs?: string;
  metadata?: RolloutMetadata;
}

export interface UpdateMessageRequest {
  /** The channel ID that postMessage answered (chat.update does not accept names). */
  channelId: string;
  ts: string;
  text: string;
  /** Sent even when empty, so a plain-text fallback clears the old attachments. */
  attachments: MessageAttachment[];
  /** A thread reply's blocks (rollout messages carry theirs inside the attachment). */
  blocks?: KnownBlock[];
  metadata?: RolloutMetadata;
}

export interface FindPostRequest {
  channelId: string;
  rolloutId: string;
  /** Slack ts: only messages posted since then. */
  oldest: string;
}

export interface SlackApi {
  /** chat.postMessage; answers the channel's ID and the message's ts. */
  postMessage(req: PostMessageRequest): Promise<{ channelId: string; ts: string }>;
  /** chat.update. */
  updateMessage(req: UpdateMessageRequest): Promise<void>;
  /**
   * conversations.history: the rollout's top-level message (by its metadata) posted since
   * `oldest`, or null when there is none. Optional: it needs the optional scopes
   * `channels:history` / `groups:history`, and only a new leader asks (ADR 0006).
   */
  findRolloutPost?(req: FindPostRequest): Promise<{ ts: string } | null>;
}

/** A classified Slack failure (see src/machines/slackFailure.ts). Its message never contains the token. */
export class SlackCallError extends Error {
  override readonly name = 'SlackCallError';
  constructor(
    readonly method: SlackMethod | 'auth.test' | 'conversations.history',
    /** `failure.error` is Slack's error code (`channel_not_found`), `http_503`, `timeout`, `ECONNRESET`, ... */
    readonly failure: SlackFailure,
    options?: { cause?: unknown },
  ) {
    super(`Slack ${method} failed: ${failure.error}`, options);
  }
}

export function isSlackCallError(err: unknown): err is SlackCallError {
  return err instanceof SlackCallError;
}
