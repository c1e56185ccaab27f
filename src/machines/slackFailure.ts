/**
 * How a failed Slack call is treated: the one vocabulary for Slack failures. The Slack edge
 * (src/io/slack.ts) classifies every failure into a SlackFailure; the channel policy
 * (./channelPolicy.ts `failureOfCall`) adjusts it for the call that failed; the channel
 * statechart (./channelMachine.ts) branches on `kind`. A new kind is added here, produced at
 * the edge and handled in the statechart, and nowhere else.
 */

/** `workspace`: the token itself failed (invalid_auth, token_revoked): every channel is affected. */
export type PermanentScope = 'channel' | 'workspace';

export type SlackFailure =
  /** HTTP 429: wait Retry-After. */
  | { kind: 'rateLimited'; error: string; retryAfterSec: number }
  /** HTTP 5xx, refused connection, Slack's internal_error: retry with backoff. */
  | { kind: 'transient'; error: string }
  /** A timeout or a reset after the request left: it may have been applied. */
  | { kind: 'ambiguous'; error: string }
  /** The message (or a thread's parent) no longer exists. */
  | { kind: 'messageGone'; error: string }
  /** The content was refused (msg_too_long, invalid_blocks, unknown codes). */
  | { kind: 'rejected'; error: string }
  /** This channel (channel_not_found, not_in_channel, ...) or the token (invalid_auth, ...) cannot be used. */
  | { kind: 'permanent'; error: string; scope: PermanentScope };

export type SlackFailureKind = SlackFailure['kind'];
