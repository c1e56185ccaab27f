/**
 * The channel tests' shared fixtures (channel-policy, channel-policy-rules, channel-machine):
 * a notification for a rollout `rN` in namespace `ns-rN`, the record of a message Slack
 * already shows, and the steps a channel's queue goes through (accept, the pending item,
 * Slack's ok answer). Plain data; each test overrides only what its rule is about.
 */
import assert from 'node:assert/strict';
import { acceptNotification, callFor, contentHash, recordSent } from '../../src/machines/channelPolicy.js';
import { DEFAULT_CHANNEL_CONFIG, type ChannelConfig, type ChannelNotification, type ChannelQueue, type MessageContent, type PendingDelivery, type RolloutRecord } from '../../src/machines/channelTypes.js';
import type { RolloutPhase } from '../../src/machines/notification.js';

export const CHANNEL = '#deploys';
export const CHANNEL_ID = 'C0DEPLOYS';
/** The ts of a message Slack shows (see shown()). */
export const TS = '1.000100';

export function config(overrides: Partial<ChannelConfig> = {}): ChannelConfig {
  return { ...DEFAULT_CHANNEL_CONFIG, ...overrides };
}

export interface NoteOptions {
  alert?: 'all' | 'failure';
  /** The message text; default `rN phase`. */
  text?: string;
  /** The message's attachments; default none. */
  attachments?: MessageContent['attachments'];
  /** A thread reply's text; default no thread. */
  thread?: string;
  /** notifiedAt (ms); default 7, so a call that drops it shows. */
  at?: number;
}

/** A rendered notification, keyed by the hashes of its content as the delivery layer keys it. */
export function note(rolloutId: string, phase: RolloutPhase, opts: NoteOptions = {}): ChannelNotification {
  const message = { text: opts.text ?? `${rolloutId} ${phase}`, attachments: opts.attachments ?? [] };
  const thread = opts.thread === undefined ? null : { text: opts.thread };
  return {
    rolloutId,
    namespace: `ns-${rolloutId}`,
    phase,
    alert: opts.alert ?? 'all',
    message,
    thread,
    contentKey: contentHash(message),
    threadKey: thread === null ? null : contentHash(thread),
    notifiedAt: opts.at ?? 7,
  };
}

export function empty(): ChannelQueue {
  return { queue: [], rollouts: {}, finished: [] };
}

/** The record of a progressing rollout's message that Slack shows (ts TS in CHANNEL_ID), no thread yet. */
export function shown(rolloutId: string, overrides: Partial<RolloutRecord> = {}): RolloutRecord {
  return { rolloutId, namespace: `ns-${rolloutId}`, channelId: CHANNEL_ID, ts: TS, sentPhase: 'progressing', sentVersion: 1, sentKey: 'k', threadKey: null, milestone: null, ...overrides };
}

/** Accepts notifications in order (update mode unless told), whatever each result. */
export function accept(notes: ChannelNotification[], cfg = config(), start = empty()): ChannelQueue {
  let s = start;
  for (const n of notes) s = acceptNotification(s, n, cfg, null).state;
  return s;
}

/** The pending item of a rollout; fails the test when there is none. */
export function item(s: ChannelQueue, rolloutId: string): PendingDelivery {
  const p = s.queue.find((x) => x.rolloutId === rolloutId);
  assert.ok(p, `${rolloutId} is pending`);
  return p;
}

/** The state after Slack answered ok to the next call for `rolloutId`. */
export function sent(s: ChannelQueue, rolloutId: string, cfg = config(), answer: { channelId?: string; ts?: string } = { channelId: CHANNEL_ID, ts: TS }): ChannelQueue {
  const call = callFor(item(s, rolloutId), s.rollouts[rolloutId], CHANNEL, CHANNEL_ID, cfg);
  assert.ok(call, `a call for ${rolloutId}`);
  return recordSent(s, call, answer, cfg);
}
