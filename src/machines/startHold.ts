/**
 * When a start message waits, so that in a burst a quick rollout costs one Slack call, not two
 * (issue 10, ADR 0003 "Held starts").
 *
 * Slack paces chat.postMessage per channel (about one a second) but chat.update per workspace
 * (about 50 a minute for all channels together). Every start message shown is an edit owed:
 * its verdict must edit it. In a burst of rollouts those edits queue behind each other across
 * the workspace and the last verdict waits minutes; a start still queued when its verdict comes
 * is replaced by the verdict and posted once, on the channel's own budget.
 *
 * So a busy channel holds a new start message back:
 * - while it has an edit to make (edits first: they are what the verdicts wait for), or
 * - while it already shows `startHoldOpenMessages` rollouts progressing (not paused, not failing);
 * and never longer than `startHoldMaxMs` (the channel statechart's `startHold` region then
 * releases every start it holds, see `releaseHeldStarts`). A quiet channel holds nothing.
 *
 * Never held: a failing, failed or degraded rollout (its mentions ping at once), a verdict, an
 * edit, a thread reply, a release's parent or member (./releaseQueue.ts paces those), and
 * anything in `post` mode (every milestone is its own message there).
 */
import type { ChannelConfig, ChannelQueue, PendingDelivery } from './channelTypes.js';
import type { RolloutPhase } from './notification.js';

/** The phases of a start message: a rollout under way that is not failing. */
const START_PHASES: ReadonlySet<RolloutPhase> = new Set(['progressing', 'paused']);

/**
 * Whether the item's next call would post a start message that may wait (see the module comment).
 * By its phase, not `final`: a success the bake still watches is not final, and is a verdict.
 */
export function isHoldableStart(item: PendingDelivery, s: ChannelQueue, config: ChannelConfig): boolean {
  if (config.mode !== 'update' || !START_PHASES.has(item.phase) || item.holdReleased === true) return false;
  if (item.parent !== undefined || (s.groups?.[item.rolloutId]?.rows.length ?? 0) >= 2) return false;
  return (s.rollouts[item.rolloutId]?.ts ?? null) === null;
}

/**
 * Whether the channel already shows `limit` rollouts progressing: messages whose verdict edit is
 * owed soon. A paused or failing rollout may stay so for hours; it does not make a channel busy.
 */
function showsInProgress(s: ChannelQueue, limit: number): boolean {
  let open = 0;
  for (const record of Object.values(s.rollouts)) {
    if (record.ts === null || record.sentPhase !== 'progressing') continue;
    open += 1;
    if (open >= limit) return true;
  }
  return false;
}

/**
 * Whether the channel is busy enough that its new start messages wait. `wantsEdit` says whether
 * some pending item needs chat.update (asked only when needed: it renders every item's call).
 */
export function startsWait(s: ChannelQueue, config: ChannelConfig, wantsEdit: () => boolean): boolean {
  if (!s.queue.some((item) => isHoldableStart(item, s, config))) return false;
  return showsInProgress(s, config.startHoldOpenMessages) || wantsEdit();
}

/** The held starts, marked to go: they have waited `startHoldMaxMs` (the mark survives coalescing). */
export function releaseHeldStarts(s: ChannelQueue, config: ChannelConfig): PendingDelivery[] {
  return s.queue.map((item) => (isHoldableStart(item, s, config) ? { ...item, holdReleased: true } : item));
}
