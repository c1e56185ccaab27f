/**
 * HOW a release reaches one channel (issue 13): the channel's queue rules of ./channelPolicy.ts
 * with release groups on top. Pure; the channel statechart calls these instead of the plain
 * rules, and without a commit SHA (or with the window at 0, or in `post` mode) they are the
 * plain rules.
 *
 * - The first rollout of a commit makes a group of one: its message is exactly a lone
 *   rollout's, and its rollout (the anchor) owns the message that becomes the parent.
 * - A rollout of the same commit that starts within the window, before Hermod showed anything
 *   of it, joins: the anchor's message turns into the release layout (./releaseMessage.ts),
 *   the anchor's own message goes into its thread (as `<anchor>#details`), and so does the
 *   joiner's. Each member keeps its own record, edited in place like any rollout's.
 * - The parent is one more pending item of the anchor: re-rendered on every member change and
 *   coalesced like any item. It is final (its record forgotten) once every row is.
 * - A member's own message goes into the thread only when it fails (at once, its mentions
 *   ping); successes are listed in ONE details reply once the parent is final (split in a few
 *   if very long), bound as `<anchor>#details-<n>` like a member's post. A clean release of 30
 *   services costs the parent's post, one details reply and a few edits of the parent.
 * - A member's calls wait for the parent's ts and go into its thread.
 * - Exactly once (ADR 0006): the parent is the anchor's message, so its first post is
 *   journalled (intent, binding) under the anchor's rolloutId as before; groups are part of
 *   the channel's snapshot, and the parent's ts is kept in its group once its record is gone,
 *   so a late joiner re-opens the same parent rather than posting a second one.
 */
import { acceptNotification, callFor, contentHash, laneOf, type AcceptResult } from './channelPolicy.js';
import type { ChannelConfig, ChannelNotification, ChannelQueue, PendingDelivery, SlackCall } from './channelTypes.js';
import { BAKE_RECORD_SLACK_MS } from './bakePolicy.js';
import {
  MAX_RELEASE_GROUPS,
  awaitsBake,
  canJoin,
  detailsIdOf,
  detailsReplyIdOf,
  groupOf,
  isFailurePhase,
  isNewDegradation,
  isParentVisible,
  isReleaseDone,
  newGroup,
  releasePhase,
  withBake,
  withRow,
  type ReleaseGroup,
  type ReleaseParent,
  type ReleaseRow,
} from './release.js';
import { renderDetails, renderRelease } from './releaseMessage.js';
import { isHoldableStart, startsWait } from './startHold.js';

type Groups = Record<string, ReleaseGroup>;

/** Hermod already holds something of this rollout in the channel (pending, shown or finished). */
function isKnown(s: ChannelQueue, rolloutId: string): boolean {
  return s.rollouts[rolloutId] !== undefined || s.finished.includes(rolloutId) || s.queue.some((p) => p.rolloutId === rolloutId);
}

/** The group's parent is shown nowhere anymore and nothing of it is pending: only a late joiner would re-open it. */
function isClosed(s: ChannelQueue, g: ReleaseGroup): boolean {
  return s.rollouts[g.anchor] === undefined && !s.queue.some((p) => p.rolloutId === g.anchor || p.parent === g.anchor);
}

/** Whether a joiner can still reach the group's parent: it is open, was never shown, or its ts is kept. */
function canReopen(s: ChannelQueue, g: ReleaseGroup): boolean {
  return !s.finished.includes(g.anchor) || s.rollouts[g.anchor] !== undefined || g.parent !== null;
}

/**
 * Groups past their window (counted to `at`, a newer rollout's start) whose parent is closed
 * are dropped, unless a member's bake may still bring a degradation (issue 13: it goes into the
 * parent's thread and edits the parent); beyond the cap, the oldest closed ones go first.
 */
export function pruneGroups(s: ChannelQueue, groups: Groups, at: number, windowMs: number): Groups {
  const out: Groups = {};
  for (const [id, g] of Object.entries(groups)) if (!(isClosed(s, g) && at - g.firstStartedAt > windowMs && !awaitsBake(g, at, BAKE_RECORD_SLACK_MS))) out[id] = g;
  let excess = Object.keys(out).length - MAX_RELEASE_GROUPS;
  for (const [id, g] of Object.entries(out)) {
    if (excess <= 0) break;
    if (!isClosed(s, g)) continue;
    delete out[id];
    excess--;
  }
  return out;
}

/** Re-creates the record of a closed parent from its kept ts, so it is edited again (not posted). */
function reopen(s: ChannelQueue, g: ReleaseGroup): ChannelQueue {
  if (s.rollouts[g.anchor] !== undefined || g.parent === null || !s.finished.includes(g.anchor)) return s;
  const p = g.parent;
  const namespace = g.rows[0]?.namespace ?? '';
  const record = { rolloutId: g.anchor, namespace, channelId: p.channelId, ts: p.ts, sentPhase: null, sentVersion: p.sentVersion, sentKey: null, threadKey: p.threadKey, replyTs: p.replyTs, milestone: null };
  const details = detailsIdOf(g.anchor);
  return { ...s, rollouts: { ...s.rollouts, [g.anchor]: record }, finished: s.finished.filter((id) => id !== g.anchor && id !== details) };
}

/** Marks a rollout's pending item as a member of the anchor's group (its calls go into the parent's thread). */
function tagParent(s: ChannelQueue, rolloutId: string, anchor: string): ChannelQueue {
  if (!s.queue.some((p) => p.rolloutId === rolloutId && p.parent !== anchor)) return s;
  return { ...s, queue: s.queue.map((p) => (p.rolloutId === rolloutId ? { ...p, parent: anchor } : p)) };
}

/** The parent's notification: the release layout, the anchor's own thread (its failure details) kept. */
export function parentNotification(g: ReleaseGroup, notifiedAt: number): ChannelNotification {
  const anchorRow = g.rows[0];
  const message = renderRelease(g);
  const thread = g.anchorThread;
  return {
    rolloutId: g.anchor,
    namespace: anchorRow?.namespace ?? '',
    ...(anchorRow !== undefined ? { workload: anchorRow.workload } : {}),
    phase: releasePhase(g.rows),
    alert: 'all',
    message,
    thread,
    contentKey: contentHash(message),
    threadKey: thread === null ? null : contentHash(thread),
    notifiedAt,
  };
}

/** The anchor's own message, to be posted in the parent's thread once the group has two members. */
function anchorDetails(g: ReleaseGroup, notifiedAt: number): ChannelNotification | null {
  const row = g.rows[0];
  if (row === undefined || g.anchorMessage === null) return null;
  return {
    rolloutId: detailsIdOf(g.anchor),
    namespace: row.namespace,
    workload: row.workload,
    phase: row.phase,
    alert: row.alert,
    message: g.anchorMessage,
    thread: null,
    contentKey: contentHash(g.anchorMessage),
    threadKey: null,
    notifiedAt,
  };
}

/**
 * A member's own message waits in its row unless it fails: the thread gets its own post only
 * with a failure (at once, its mentions ping); a success (or an end without a verdict) is
 * listed in the release's details reply once every row is final, so a clean release of N
 * costs one details reply in the thread, not N posts (the row already shows the progress).
 * Once posted, a member's message is edited like any.
 */
function isDeferred(s: ChannelQueue, n: ChannelNotification): boolean {
  return !isFailurePhase(n.phase) && s.rollouts[n.rolloutId] === undefined && !s.queue.some((p) => p.rolloutId === n.rolloutId);
}

/** The id of a row's own message in the thread (the anchor's is `<anchor>#details`). */
function ownIdOf(g: ReleaseGroup, row: ReleaseRow): string {
  return row.rolloutId === g.anchor ? detailsIdOf(g.anchor) : row.rolloutId;
}

/** A details reply Hermod has not posted yet (still pending, nothing shown): its content may still grow. */
function isUnsent(s: ChannelQueue, id: string): boolean {
  return s.rollouts[id] === undefined && !s.finished.includes(id) && s.queue.some((p) => p.rolloutId === id);
}

/**
 * Once every row is final: the rows that have no message of their own in the thread, as
 * details replies, each a member-like item bound under `<anchor>#details-<n>` (exactly once as
 * a member's post). Rows listed in a reply already posted stay there; a reply not yet posted is
 * re-rendered with the newcomers (members whose verdicts arrive one by one coalesce into one
 * reply); a late joiner after that gets a new reply. `alert: failure` rows are not listed.
 */
function detailsReplies(s: ChannelQueue, g: ReleaseGroup, notifiedAt: number): { group: ReleaseGroup; notes: ChannelNotification[] } {
  if (!isReleaseDone(g.rows) || !isParentVisible(g)) return { group: g, notes: [] };
  const listedIn = g.listedIn ?? {};
  const sent = (r: ReleaseRow) => listedIn[r.rolloutId] !== undefined && !isUnsent(s, detailsReplyIdOf(g.anchor, listedIn[r.rolloutId] as number));
  const rows = g.rows.filter((r) => r.alert === 'all' && !isFailurePhase(r.phase) && !sent(r) && !isKnown(s, ownIdOf(g, r)));
  if (rows.every((r) => listedIn[r.rolloutId] !== undefined)) return { group: g, notes: [] };
  const used = Object.values(listedIn);
  const open = rows.map((r) => listedIn[r.rolloutId]).filter((k): k is number => k !== undefined);
  const first = open.length > 0 ? Math.min(...open) : (used.length > 0 ? Math.max(...used) : 0) + 1;
  const parts = renderDetails(g, rows);
  const notes = parts.map(({ message }, i): ChannelNotification => ({
    rolloutId: detailsReplyIdOf(g.anchor, first + i),
    namespace: rows[0]?.namespace ?? '',
    phase: 'succeeded',
    alert: 'all',
    message,
    thread: null,
    contentKey: contentHash(message),
    threadKey: null,
    notifiedAt,
  }));
  const next = { ...listedIn };
  let at = 0;
  parts.forEach((part, i) => {
    for (const r of rows.slice(at, at + part.rows)) next[r.rolloutId] = first + i;
    at += part.rows;
  });
  return { group: { ...g, listedIn: next }, notes };
}

function combine(first: AcceptResult, state: ChannelQueue, dropped: PendingDelivery[]): AcceptResult {
  if (first.kind === 'queued') return { kind: 'queued', state, dropped };
  return { ...first, state };
}

/** Accepts one notification into a group of two or more: the member's own message, then the parent. */
function acceptMember(start: ChannelQueue, g: ReleaseGroup, n: ChannelNotification, config: ChannelConfig, active: string | null, reopens: boolean): AcceptResult {
  const dropped: PendingDelivery[] = [];
  const step = (s: ChannelQueue, note: ChannelNotification, tag: boolean): { result: AcceptResult; state: ChannelQueue } => {
    const result = acceptNotification(s, note, config, active);
    if (result.kind === 'queued') dropped.push(...result.dropped);
    return { result, state: tag ? tagParent(result.state, note.rolloutId, g.anchor) : result.state };
  };
  // Only a joiner or a new degradation re-opens a closed parent: a late duplicate of a member's verdict must not edit it again.
  let s = reopens ? reopen(start, g) : start;
  const own = n.rolloutId === g.anchor ? { ...n, rolloutId: detailsIdOf(g.anchor), thread: null, threadKey: null } : n;
  const first = isDeferred(s, own) ? { result: { kind: 'skipped', state: s, reason: 'unchanged' } as AcceptResult, state: s } : step(s, own, true);
  s = first.state;
  // The group just grew from one: the anchor's own message moves into the thread too (if it fails).
  const anchorOwn = n.rolloutId === g.anchor ? null : anchorDetails(g, n.notifiedAt);
  if (anchorOwn !== null && !isKnown(s, anchorOwn.rolloutId) && !isDeferred(s, anchorOwn)) s = step(s, anchorOwn, true).state;
  if (isParentVisible(g)) s = step(s, parentNotification(g, n.notifiedAt), false).state;
  const details = detailsReplies(s, g, n.notifiedAt);
  if (details.notes.length > 0) {
    s = { ...s, groups: { ...(s.groups ?? {}), [g.anchor]: details.group } };
    for (const note of details.notes) s = step(s, note, true).state;
  }
  return combine(first.result, s, dropped);
}

/**
 * Applies one notification to the channel's queue and its release groups (see the module
 * comment); without a release it is ./channelPolicy.ts `acceptNotification`.
 */
export function acceptRelease(s: ChannelQueue, n: ChannelNotification, config: ChannelConfig, active: string | null): AcceptResult {
  const groups = s.groups ?? {};
  const member = Object.keys(groups).length === 0 ? undefined : groupOf(groups, n.rolloutId);
  if (member !== undefined) {
    // Without a release (its commit annotation gone mid-rollout) the row keeps its words and takes the new phase.
    const previous = member.rows.find((r) => r.rolloutId === n.rolloutId);
    const row = n.release?.row ?? previous;
    let g = withBake(row === undefined ? member : withRow(member, n.release === undefined ? { ...row, phase: n.phase } : row), n.bakeUntil);
    if (n.rolloutId === g.anchor) g = { ...g, anchorMessage: n.message, anchorThread: n.thread };
    const state = { ...s, groups: { ...groups, [g.anchor]: g } };
    if (g.rows.length < 2) return withGroups(acceptNotification(state, n, config, active), state.groups);
    // A member degraded after the release was final: the parent is edited once more (issue 13).
    return acceptMember(state, g, n, config, active, isNewDegradation(previous, n.phase));
  }
  const info = n.release;
  if (info === undefined || config.mode !== 'update' || config.releaseWindowMs <= 0 || isKnown(s, n.rolloutId)) return acceptNotification(s, n, config, active);
  const pruned = pruneGroups(s, groups, info.startedAt, config.releaseWindowMs);
  const target = Object.values(pruned).find((g) => canJoin(g, info, config.releaseWindowMs) && canReopen(s, g));
  if (target === undefined) {
    const g: ReleaseGroup = withBake({ ...newGroup(info), anchorMessage: n.message, anchorThread: n.thread }, n.bakeUntil);
    return withGroups(acceptNotification(s, n, config, active), { ...pruned, [g.anchor]: g });
  }
  const g = withBake(withRow(target, info.row), n.bakeUntil);
  return acceptMember({ ...s, groups: { ...pruned, [g.anchor]: g } }, g, n, config, active, true);
}

function withGroups(result: AcceptResult, groups: Groups): AcceptResult {
  return { ...result, state: { ...result.state, groups } } as AcceptResult;
}

/** A channel's queue as the release rules read it: with its name, its ID, and whether parent edits are held. */
export type ReleaseChannel = ChannelQueue & { channel: string; channelId: string | null; releaseHold?: boolean };

/** The call edits a release's parent (a group of two or more): paced by `releaseEditIntervalMs`. */
export function isParentEdit(s: ChannelQueue, call: SlackCall): boolean {
  return call.op === 'update' && (s.groups?.[call.rolloutId]?.rows.length ?? 0) >= 2;
}

/** Where a member's calls go: the parent's channel ID and ts (its record's, else the kept copy), or null until posted. */
function parentOf(s: ChannelQueue, anchor: string): { channelId: string; ts: string } | null {
  const record = s.rollouts[anchor];
  if (record?.ts != null && record.channelId !== null) return { channelId: record.channelId, ts: record.ts };
  const kept = s.groups?.[anchor]?.parent ?? null;
  return kept === null ? null : { channelId: kept.channelId, ts: kept.ts };
}

/** ./channelPolicy.ts `callFor`, with a member's post and reply sent into the parent's thread. */
export function callForRelease(item: PendingDelivery, s: ReleaseChannel, config: ChannelConfig): SlackCall | null {
  const call = callFor(item, s.rollouts[item.rolloutId], s.channel, s.channelId, config);
  if (call === null) return null;
  // Why hold: a release's rows change one by one; edits at most every interval coalesce them.
  if (s.releaseHold === true && isParentEdit(s, call)) return null;
  if (item.parent === undefined) return call;
  const parent = parentOf(s, item.parent);
  // Why wait: a member posted before its parent would land in the channel, not the thread.
  if (parent === null) return null;
  if (call.op === 'post') return { ...call, channel: parent.channelId, threadTs: parent.ts };
  if (call.op === 'reply') return { ...call, channelId: parent.channelId, threadTs: parent.ts };
  return call;
}

/**
 * Whether start messages are held back now (./startHold.ts; the channel statechart then starts
 * the `startHoldMaxMs` clock). It may render every pending item's call: the statechart decides
 * it once per entry to `ready` and hands the answer to `nextReleaseCall`.
 */
export function holdsStarts(s: ReleaseChannel, config: ChannelConfig): boolean {
  return startsWait(s, config, () => wantsReleaseUpdate(s, config));
}

/**
 * The first pending item whose next call can go now (./channelPolicy.ts `nextCall`, release-aware);
 * a start message waits while the channel is busy (`holding`, by default `holdsStarts` now).
 */
export function nextReleaseCall(s: ReleaseChannel, config: ChannelConfig, open: { post: boolean; update: boolean }, holding = holdsStarts(s, config)): SlackCall | null {
  for (const item of s.queue) {
    if (holding && isHoldableStart(item, s, config)) continue;
    const call = callForRelease(item, s, config);
    if (call !== null && open[laneOf(call)]) return call;
  }
  return null;
}

/** Whether some pending item waits for the workspace's chat.update budget (release-aware). */
export function wantsReleaseUpdate(s: ReleaseChannel, config: ChannelConfig): boolean {
  return s.queue.some((item) => {
    const call = callForRelease(item, s, config);
    return call !== null && laneOf(call) === 'update';
  });
}

/**
 * Keeps the parent's ts in its group when Slack answered a call about the anchor's message
 * (`before`: the queue before the answer was recorded), so a late joiner finds it after the
 * record is forgotten.
 */
export function noteParent(groups: Groups | undefined, before: ChannelQueue, call: SlackCall, answer: { channelId?: string; ts?: string }): Groups | undefined {
  const g = groups?.[call.rolloutId];
  if (groups === undefined || g === undefined) return groups;
  const record = before.rollouts[call.rolloutId];
  const known: ReleaseParent | null =
    record?.ts != null && record.channelId !== null
      ? { channelId: record.channelId, ts: record.ts, replyTs: record.replyTs ?? null, threadKey: record.threadKey, sentVersion: record.sentVersion }
      : g.parent;
  let parent: ReleaseParent | null = known;
  if (call.op === 'post') {
    const channelId = answer.channelId ?? known?.channelId ?? null;
    parent = channelId === null || answer.ts === undefined ? known : { channelId, ts: answer.ts, replyTs: null, threadKey: null, sentVersion: call.version };
  } else if (call.op === 'update' && known !== null) {
    parent = { ...known, sentVersion: call.version };
  } else if (call.op === 'reply' && known !== null) {
    parent = { ...known, replyTs: call.replyTs ?? answer.ts ?? null, threadKey: call.threadKey };
  }
  return parent === g.parent ? groups : { ...groups, [g.anchor]: { ...g, parent } };
}

/** The parent message was deleted in Slack: its kept ts is no use anymore. */
export function dropParent(groups: Groups | undefined, call: SlackCall): Groups | undefined {
  const g = groups?.[call.rolloutId];
  if (groups === undefined || g === undefined || call.op !== 'update' || g.parent === null) return groups;
  return { ...groups, [g.anchor]: { ...g, parent: null } };
}
