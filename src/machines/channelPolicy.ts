/**
 * WHEN and HOW a rollout reaches one Slack channel: pure decisions behind ./channelMachine.ts.
 *
 * - Alert level and message mode decide whether a notification is queued at all.
 * - One pending item per rollout: a newer notification replaces the waiting one
 *   (coalescing), so a channel never sends stale states and never reorders a rollout.
 * - The next Slack call is derived from the item and what Slack already shows (level-based):
 *   postMessage when the rollout has no message yet, chat.update when it has; a thread reply
 *   when the render has one that was not posted yet, edited in place when the thread's
 *   content changes (one reply per message: a crash log read late joins the first reply).
 * - The queue is bounded: the oldest progress update goes first, a final verdict never.
 *
 * Everything here is plain data in, plain data out (the machine's context is serialisable);
 * the shapes are in ./channelTypes.ts.
 */
import { fnv1a } from './hash.js';
import type { MessageMode } from './message.js';
import type { RolloutPhase } from './notification.js';
import type { SlackFailure } from './slackFailure.js';
import { closesBake, expiredBakes, isFinalItem } from './bakePolicy.js';
import { isEdit, type ChannelConfig, type ChannelNotification, type ChannelQueue, type DroppedRollout, type MessageContent, type Milestone } from './channelTypes.js';
import type { PendingDelivery, RolloutRecord, SlackCall, WorkloadRef } from './channelTypes.js';

export function milestoneOf(phase: RolloutPhase): Milestone {
  switch (phase) {
    case 'succeeded':
      return 'succeeded';
    case 'failed':
      return 'failed';
    case 'degraded':
      return 'degraded';
    case 'superseded':
    case 'deleted':
    case 'untracked':
    case 'unfollowable':
      return 'ended';
    default:
      return 'started';
  }
}

export function isFailurePhase(phase: RolloutPhase): boolean {
  return phase === 'failing' || phase === 'failed' || phase === 'degraded';
}

export type AcceptResult =
  | { kind: 'queued'; state: ChannelQueue; dropped: PendingDelivery[] }
  | { kind: 'coalesced'; state: ChannelQueue }
  | { kind: 'skipped'; state: ChannelQueue; reason: 'late' | 'alert' | 'milestone' | 'unchanged' | 'queue_full' };

/**
 * Applies one notification to the channel's queue.
 * `active` is the rolloutId of the item being sent (never evicted), if any.
 */
export function acceptNotification(before: ChannelQueue, n: ChannelNotification, config: ChannelConfig, active: string | null): AcceptResult {
  // Records kept for a bake nobody watches anymore (issue 13, ./bakePolicy.ts).
  const s = expiredBakes(before, n.notifiedAt, n.rolloutId).reduce((state, id) => forget(state, id, config), before);
  // A verdict already delivered: a late duplicate must not re-post.
  if (s.finished.includes(n.rolloutId)) return { kind: 'skipped', state: s, reason: 'late' };
  const record = s.rollouts[n.rolloutId];
  const index = s.queue.findIndex((p) => p.rolloutId === n.rolloutId);
  const pending = index === -1 ? undefined : s.queue[index];
  // A success the bake watches is not final here: its record stays for a degraded edit.
  const final = isFinalItem(n);
  const known = (record?.ts ?? null) !== null || pending !== undefined;
  // The bake ended quietly: the message already shows the verdict; forget its record.
  if (closesBake(n, record, pending, config.mode)) return { kind: 'skipped', state: forget(s, n.rolloutId, config), reason: 'unchanged' };

  if (config.mode === 'post') {
    const m = milestoneOf(n.phase);
    if (n.alert === 'failure' && m !== 'failed' && m !== 'degraded' && !(m === 'ended' && known)) return { kind: 'skipped', state: s, reason: 'alert' };
    const last = pending !== undefined ? milestoneOf(pending.phase) : (record?.milestone ?? null);
    if (last === m) return { kind: 'skipped', state: s, reason: 'milestone' };
    if (m === 'ended') {
      // Nothing to post for superseded/deleted/untracked: close the rollout once its last post is out.
      if (pending === undefined) return { kind: 'skipped', state: forget(s, n.rolloutId, config), reason: 'milestone' };
      const queue = s.queue.slice();
      queue[index] = { ...pending, final: true };
      return { kind: 'coalesced', state: { ...s, queue } };
    }
  } else if (n.alert === 'failure' && !known && !isFailurePhase(n.phase)) {
    // Failures only: nothing until the rollout fails; a clean success posts nothing at all.
    return { kind: 'skipped', state: s, reason: 'alert' };
  }

  // Records change only when Slack answers: accepting touches the queue alone (records
  // can number thousands; copying them per notification would cost milliseconds).
  const version = Math.max(pending?.version ?? 0, record?.sentVersion ?? 0) + 1;
  const item: PendingDelivery = {
    rolloutId: n.rolloutId,
    namespace: n.namespace,
    ...(n.workload !== undefined ? { workload: n.workload } : {}),
    phase: n.phase,
    final,
    version,
    message: n.message,
    contentKey: n.contentKey,
    thread: n.thread,
    threadKey: n.threadKey,
    notifiedAt: n.notifiedAt,
    plain: false,
    ...(n.bakeUntil !== undefined ? { bakeUntil: n.bakeUntil } : {}),
    ...(n.bakeUntil !== undefined && n.bakeOrigin !== undefined ? { bakeOrigin: n.bakeOrigin } : {}),
    // A start that has waited its longest keeps its place: a newer start of it is not held again.
    ...(pending?.holdReleased === true ? { holdReleased: true as const } : {}),
  };

  if (pending !== undefined) {
    const queue = s.queue.slice();
    queue[index] = item;
    return { kind: 'coalesced', state: settleRollout({ ...s, queue }, n.rolloutId, config) };
  }
  if (config.mode === 'update' && record !== undefined && record.ts !== null && record.sentKey === n.contentKey && !needsThread(item, record)) {
    return { kind: 'skipped', state: s, reason: 'unchanged' };
  }

  let queue = [...s.queue, item];
  const dropped: PendingDelivery[] = [];
  if (queue.length > config.queueCap) {
    // Bounded memory: drop the oldest progress update, never a verdict nor the item in flight.
    const victim = queue.findIndex((p) => !p.final && p.rolloutId !== active);
    if (victim === -1 || victim === queue.length - 1) {
      if (!final) return { kind: 'skipped', state: s, reason: 'queue_full' };
    } else {
      dropped.push(queue[victim] as PendingDelivery);
      queue = queue.filter((_, i) => i !== victim);
    }
  }
  return { kind: 'queued', state: { ...s, queue }, dropped };
}

/** Sets a record, re-inserted so the key order is least-recently-sent first. */
function touch(rollouts: Record<string, RolloutRecord>, record: RolloutRecord): Record<string, RolloutRecord> {
  const next = { ...rollouts };
  delete next[record.rolloutId];
  next[record.rolloutId] = record;
  return next;
}

function newRecord(item: { rolloutId: string; namespace: string }): RolloutRecord {
  return { rolloutId: item.rolloutId, namespace: item.namespace, channelId: null, ts: null, sentPhase: null, sentVersion: 0, sentKey: null, threadKey: null, replyTs: null, milestone: null };
}

/** Evicts the least recently used records that have no pending work. */
function capRecords(s: ChannelQueue, config: ChannelConfig): ChannelQueue {
  const ids = Object.keys(s.rollouts);
  if (ids.length <= config.recordCap) return s;
  const pending = new Set(s.queue.map((p) => p.rolloutId));
  const rollouts = { ...s.rollouts };
  let excess = ids.length - config.recordCap;
  for (const id of ids) {
    if (excess === 0) break;
    if (pending.has(id)) continue;
    delete rollouts[id];
    excess -= 1;
  }
  return { ...s, rollouts };
}

/** Forgets a finished rollout and remembers its id for a while. */
export function forget(s: ChannelQueue, rolloutId: string, config: ChannelConfig): ChannelQueue {
  const rollouts = { ...s.rollouts };
  delete rollouts[rolloutId];
  const finished = [...s.finished.filter((id) => id !== rolloutId), rolloutId];
  while (finished.length > config.finishedCap) finished.shift();
  return { ...s, rollouts, finished, queue: s.queue.filter((p) => p.rolloutId !== rolloutId) };
}

function needsMain(item: PendingDelivery, record: RolloutRecord | undefined, mode: MessageMode): boolean {
  if (record === undefined || record.ts === null) return true;
  if (mode === 'post') return item.version > record.sentVersion;
  return item.contentKey !== record.sentKey;
}

function needsThread(item: PendingDelivery, record: RolloutRecord | undefined): boolean {
  return item.thread !== null && item.threadKey !== null && record?.ts != null && record.threadKey !== item.threadKey;
}

/** Which pacing a call needs: the channel's postMessage tokens or the workspace's update budget. */
export function laneOf(call: SlackCall): 'post' | 'update' {
  return isEdit(call) ? 'update' : 'post';
}

/**
 * How the channel treats a failed call. chat.update is idempotent (applied twice, Slack shows
 * the same message), so an ambiguous timeout on an edit (of the message or of its thread
 * reply) is merely transient: only a post or a first thread reply can leave a duplicate.
 */
export function failureOfCall(call: SlackCall, failure: SlackFailure): SlackFailure {
  if (failure.kind === 'ambiguous' && isEdit(call)) return { kind: 'transient', error: failure.error };
  return failure;
}

/** Plain text instead of a message Slack rejected (too long, invalid blocks): the verdict still arrives. */
export function plainContent(message: { text: string }): MessageContent {
  const limit = 3000;
  const text = message.text.length > limit ? `${message.text.slice(0, limit - 1)}…` : message.text;
  return { text: text === '' ? 'Rollout update (details could not be shown)' : text, attachments: [] };
}

/** The call that moves one pending item forward, or null when Slack already shows it all. */
export function callFor(item: PendingDelivery, record: RolloutRecord | undefined, channel: string, channelId: string | null, config: ChannelConfig): SlackCall | null {
  if (needsMain(item, record, config.mode)) {
    const message = item.plain ? plainContent(item.message) : item.message;
    if (config.mode === 'update' && record?.ts != null && record.channelId !== null) {
      return {
        op: 'update',
        rolloutId: item.rolloutId,
        channelId: record.channelId,
        ts: record.ts,
        message,
        contentKey: item.contentKey,
        phase: item.phase,
        version: item.version,
        notifiedAt: item.notifiedAt,
        final: item.final,
      };
    }
    return {
      op: 'post',
      rolloutId: item.rolloutId,
      channel: channelId ?? channel,
      message,
      contentKey: item.contentKey,
      phase: item.phase,
      version: item.version,
      notifiedAt: item.notifiedAt,
      final: item.final,
    };
  }
  if (needsThread(item, record) && record?.ts != null && item.thread !== null && item.threadKey !== null) {
    const message = item.plain ? { text: plainContent(item.thread).text } : item.thread;
    // Why edit: a second reply for the same rollout (the crash log read after the first) is noise (issue 12).
    return { op: 'reply', rolloutId: item.rolloutId, channelId: record.channelId ?? channelId ?? channel, threadTs: record.ts, message, threadKey: item.threadKey, replyTs: record.replyTs ?? null };
  }
  return null;
}

/** The first pending item whose next call can go now, given which lanes are open. */
export function nextCall(
  s: ChannelQueue & { channel: string; channelId: string | null },
  config: ChannelConfig,
  open: { post: boolean; update: boolean },
): SlackCall | null {
  for (const item of s.queue) {
    const call = callFor(item, s.rollouts[item.rolloutId], s.channel, s.channelId, config);
    if (call !== null && open[laneOf(call)]) return call;
  }
  return null;
}

/** Whether some pending item waits for the workspace's chat.update budget (an edit of a message or of its reply). */
export function wantsUpdate(s: ChannelQueue & { channel: string; channelId: string | null }, config: ChannelConfig): boolean {
  return s.queue.some((item) => {
    const call = callFor(item, s.rollouts[item.rolloutId], s.channel, s.channelId, config);
    return call !== null && laneOf(call) === 'update';
  });
}

/** Removes the rollout's item when Slack shows it all; a finished rollout is forgotten. */
export function settleRollout(s: ChannelQueue, rolloutId: string, config: ChannelConfig): ChannelQueue {
  const item = s.queue.find((p) => p.rolloutId === rolloutId);
  if (item === undefined) return s;
  const record = s.rollouts[rolloutId];
  if (needsMain(item, record, config.mode) || needsThread(item, record)) return s;
  return item.final ? forget(s, rolloutId, config) : { ...s, queue: s.queue.filter((p) => p !== item) };
}

/** Records a successful post/update/reply, then settles that rollout. */
export function recordSent(s: ChannelQueue, call: SlackCall, answer: { channelId?: string; ts?: string }, config: ChannelConfig): ChannelQueue {
  const item = s.queue.find((p) => p.rolloutId === call.rolloutId);
  const record = s.rollouts[call.rolloutId] ?? (item !== undefined ? newRecord(item) : undefined);
  if (record === undefined) return s;
  let next: RolloutRecord;
  if (call.op === 'reply') {
    // A first reply's ts is Slack's answer; an edit keeps the reply it edited.
    next = { ...record, threadKey: call.threadKey, replyTs: call.replyTs ?? answer.ts ?? null };
  } else {
    next = {
      ...record,
      channelId: answer.channelId ?? record.channelId,
      ts: call.op === 'post' ? (answer.ts ?? record.ts) : record.ts,
      sentVersion: call.version,
      sentKey: call.contentKey,
      sentPhase: call.phase,
    };
    if (config.mode === 'post') next.milestone = milestoneOf(call.phase);
    // Kept for a bake while the item shown is a success the bake watches (./bakePolicy.ts).
    if (item?.bakeUntil !== undefined) next.bakeUntil = item.bakeUntil;
    else delete next.bakeUntil;
    if (item?.bakeUntil !== undefined && item.bakeOrigin !== undefined) next.bakeOrigin = item.bakeOrigin;
    else delete next.bakeOrigin;
    // A new message in `post` mode has no thread yet.
    if (call.op === 'post') {
      next.threadKey = null;
      next.replyTs = null;
    }
  }
  const state = capRecords({ ...s, rollouts: touch(s.rollouts, next) }, config);
  return settleRollout(state, call.rolloutId, config);
}

/**
 * chat.update found no message (deleted in Slack): post a new one. The thread reply to edit
 * gone: reply anew (if the parent is gone too, that reply finds no thread). A thread's parent
 * gone: skip the thread.
 */
export function recordGone(s: ChannelQueue, call: SlackCall): ChannelQueue {
  const record = s.rollouts[call.rolloutId];
  if (record === undefined) return s;
  if (call.op === 'reply' && call.replyTs !== null) return { ...s, rollouts: { ...s.rollouts, [call.rolloutId]: { ...record, replyTs: null } } };
  if (call.op === 'reply') return { ...s, rollouts: { ...s.rollouts, [call.rolloutId]: { ...record, threadKey: call.threadKey } } };
  return { ...s, rollouts: { ...s.rollouts, [call.rolloutId]: { ...record, ts: null, sentKey: null, threadKey: null, replyTs: null } } };
}

/**
 * Slack rejected the content (too long, invalid blocks). First fall back to plain text;
 * if that is rejected too, give up this part (the verdict's text is all we had).
 */
export function recordRejected(s: ChannelQueue, call: SlackCall, config: ChannelConfig): { state: ChannelQueue; gaveUp: PendingDelivery | null } {
  const item = s.queue.find((p) => p.rolloutId === call.rolloutId);
  if (item === undefined) return { state: s, gaveUp: null };
  if (!item.plain) {
    return { state: { ...s, queue: s.queue.map((p) => (p === item ? { ...p, plain: true } : p)) }, gaveUp: null };
  }
  const record = s.rollouts[call.rolloutId];
  if (call.op === 'reply' && record !== undefined) {
    return { state: { ...s, rollouts: { ...s.rollouts, [call.rolloutId]: { ...record, threadKey: call.threadKey } } }, gaveUp: item };
  }
  const without = { ...s, queue: s.queue.filter((p) => p !== item) };
  return { state: item.final ? forget(without, item.rolloutId, config) : without, gaveUp: item };
}

/** The rollouts of dropped work, as the channel reports them. */
export function dropped(items: PendingDelivery[]): DroppedRollout[] {
  return items.map((p) => ({ rolloutId: p.rolloutId, namespace: p.namespace, final: p.final }));
}

/** The workloads of the given work, each once, in order (items from older snapshots may not name theirs). */
export function workloadsOf(items: PendingDelivery[]): WorkloadRef[] {
  const out: WorkloadRef[] = [];
  for (const p of items) {
    if (p.workload === undefined || out.some((w) => w.namespace === p.namespace && w.name === p.workload)) continue;
    out.push({ namespace: p.namespace, name: p.workload });
  }
  return out;
}

/** Drops all pending work and what Slack showed (after a permanent channel error). */
export function dropAll(s: ChannelQueue): { state: ChannelQueue; dropped: PendingDelivery[] } {
  return { state: { ...s, queue: [], rollouts: {} }, dropped: s.queue };
}

// --- pacing helpers --------------------------------------------------------------------

/** xorshift32: a tiny deterministic generator, so jitter lives in serialisable context. */
export function nextRandom(seed: number): { value: number; seed: number } {
  let x = seed | 0 || 0x9e3779b9;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return { value: (x >>> 0) / 0x100000000, seed: x >>> 0 };
}

/**
 * Capped exponential backoff with "equal jitter": half the step fixed, half random, so
 * channels recovering together do not retry in lock step, and no retry comes at once.
 */
export function backoffDelay(attempt: number, seed: number, config: Pick<ChannelConfig, 'backoffBaseMs' | 'backoffCapMs'>): { delayMs: number; seed: number } {
  const step = Math.min(config.backoffCapMs, config.backoffBaseMs * 2 ** Math.min(attempt, 30));
  const r = nextRandom(seed);
  return { delayMs: Math.round(step / 2 + (r.value * step) / 2), seed: r.seed };
}

/** FNV-1a over a JSON rendering: a short stable key for "did this content change". */
export function contentHash(value: unknown): string {
  const text = JSON.stringify(value) ?? '';
  return `${fnv1a(text).toString(16)}:${text.length}`;
}
