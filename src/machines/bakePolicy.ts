/**
 * The channel's side of the watch after success (issue 13, ADR 0010): a success sent while its
 * bake runs keeps its record (the message's ts) so that "succeeded, then degraded" edits the
 * same message; the record is forgotten when the bake ends. Pure rules behind
 * ./channelPolicy.ts, in their own file so the policy's other rules stay as they were.
 *
 * - A notification with `bakeUntil` is not final for the channel (its record is kept).
 * - The bake's quiet end (the same verdict again, without `bakeUntil`) sends nothing and
 *   forgets the record (`closesBake`).
 * - A record kept for a bake whose window is long over is forgotten at the next notification
 *   of its channel (`expiredBakes`): the Deployment actor that watched it is gone (a restart
 *   with no warm follower), so nobody else will close it.
 * - A restarted Hermod reads the kept records whose window is still open (`keptBakes`) and hands
 *   them to the workload actors, which resume the watch if the workload has not rolled again
 *   (./bake.ts `resumesBake`, ADR 0011).
 */
import type { KeptBake } from './bake.js';
import type { MessageMode } from './message.js';
import { isFinalPhase } from './notification.js';
import type { ChannelNotification, ChannelQueue, PendingDelivery, RolloutRecord } from './channelTypes.js';

/**
 * How long after its window a kept record waits before `expiredBakes` forgets it: a degraded
 * verdict found just before the end may wait for its crash log (the reader's timeout) first.
 */
export const BAKE_RECORD_SLACK_MS = 60_000;

/** The notification is a success the bake still watches: its record must stay. */
export function isBaking(n: Pick<ChannelNotification, 'bakeUntil'>): boolean {
  return n.bakeUntil != null;
}

/** The item ends the rollout for this channel: a final phase, and no bake keeps it open. */
export function isFinalItem(n: Pick<ChannelNotification, 'phase' | 'bakeUntil'>): boolean {
  return isFinalPhase(n.phase) && !isBaking(n);
}

/**
 * The notification only closes a bake: nothing waits, and the message already shows this verdict
 * (the same content; in `post` mode the same phase). Nothing is sent; the record is forgotten.
 */
export function closesBake(n: ChannelNotification, record: RolloutRecord | undefined, pending: PendingDelivery | undefined, mode: MessageMode): boolean {
  if (pending !== undefined || record?.bakeUntil == null || record.ts === null || !isFinalItem(n)) return false;
  return mode === 'post' ? record.sentPhase === n.phase : record.sentKey === n.contentKey;
}

/** Records kept for a bake that ended (with slack) before `now`, with nothing pending, other than `except`'s. */
export function expiredBakes(s: ChannelQueue, now: number, except: string): string[] {
  const out: string[] = [];
  for (const r of Object.values(s.rollouts)) {
    if (r.bakeUntil == null || r.rolloutId === except || r.bakeUntil + BAKE_RECORD_SLACK_MS > now) continue;
    if (s.queue.some((p) => p.rolloutId === r.rolloutId)) continue;
    out.push(r.rolloutId);
  }
  return out;
}

/**
 * The bakes a restarted Hermod can resume from its delivery state (ADR 0011): rollouts whose
 * latest word in a channel (its pending item, else its record) is a success the bake watches,
 * with its window still open at `now` and the success's times remembered (records written
 * before them are left to `expiredBakes`). The record's sent phase does not matter: a success
 * may be pending, or shown by an edit whose answer came after the last save.
 */
export function keptBakes(
  channels: ReadonlyArray<{ channel: string; rollouts: readonly RolloutRecord[]; pending?: readonly PendingDelivery[] }>,
  now: number,
): KeptBake[] {
  const out: KeptBake[] = [];
  for (const c of channels) {
    const pending = new Map((c.pending ?? []).map((p) => [p.rolloutId, p] as const));
    const records = new Map(c.rollouts.map((r) => [r.rolloutId, r] as const));
    for (const id of new Set([...records.keys(), ...pending.keys()])) {
      const latest = pending.get(id) ?? records.get(id);
      if (latest?.bakeUntil == null || latest.bakeOrigin === undefined || latest.bakeUntil <= now) continue;
      out.push({ ...latest.bakeOrigin, rolloutId: id, channel: c.channel, bakeUntil: latest.bakeUntil });
    }
  }
  return out;
}
