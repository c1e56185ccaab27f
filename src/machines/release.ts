/**
 * One message per release (issue 13): the pure rules of grouping rollouts that carry the same
 * commit SHA into one parent message per channel. Which rollouts form a group (the key, the
 * window, who may join), the state each row shows, the group's phase and worst colour, and
 * which rows `alert: failure` shows. The queue side is ./releaseQueue.ts, the rendering
 * ./releaseMessage.ts; docs/adr/0010-release-groups.md says why it lives in the channel.
 *
 * Plain data in, plain data out: a group is part of a channel's serialisable context.
 */
import type { MessageContent } from './channelTypes.js';
import type { AlertLevel, WorkloadKind } from './facts.js';
import type { SlackThreadReply } from './messageBlocks.js';
import { changesText } from './changesLine.js';
import { errorsOf } from './messageThread.js';
import { isMentionToken } from './mentions.js';
import { isFinalPhase, type RolloutPhase, type RolloutView } from './notification.js';

/** Rows a group takes at most; a rollout arriving at a full group starts its own message. */
export const MAX_RELEASE_ROWS = 50;
/** Longest row reason kept (raw characters; rendering escapes it). */
export const ROW_REASON_MAX = 80;
/** Release groups a channel remembers at most (the oldest closed ones go first). */
export const MAX_RELEASE_GROUPS = 500;

/** One workload's line in a release message. */
export interface ReleaseRow {
  rolloutId: string;
  namespace: string;
  kind: WorkloadKind;
  workload: string;
  revision: number;
  phase: RolloutPhase;
  /** Why it is failing or failed, in a few words (raw text), else null. */
  reason: string | null;
  alert: AlertLevel;
  /** It was failing or failed once: `alert: failure` keeps showing it (as a lone message would). */
  failedOnce: boolean;
  /** Its owners' mentions (`<@U…>`, `<!subteam^S…>`), shown while it fails. */
  mentions: string[];
  /** What changed, as mrkdwn (./changesLine.ts), for the release's details reply; absent in rows written before it. */
  changes?: string;
  /** How long it took once final (ms), else null; `adopted`: Hermod saw it mid-rollout, so at least that. */
  tookMs?: number | null;
  adopted?: boolean;
}

/** What a notification says about its release (absent when the rollout has no commit SHA). */
export interface ReleaseInfo {
  /** The commit SHA as annotated (the group key, trimmed and lower-cased: see `releaseKey`). */
  sha: string;
  repo: string | null;
  /** CLUSTER_NAME, for the title. */
  cluster: string | null;
  /** When the rollout started (ms since the epoch): the window counts from the group's first start. */
  startedAt: number;
  row: ReleaseRow;
}

/** The parent message as Slack shows it, kept after the parent's record is forgotten (a late joiner re-opens it). */
export interface ReleaseParent {
  channelId: string;
  ts: string;
  replyTs: string | null;
  threadKey: string | null;
  sentVersion: number;
}

/** One release in one channel: the rollout whose message is the parent (the anchor) and every member's row. */
export interface ReleaseGroup {
  /** The first member's rolloutId: its message is the parent. */
  anchor: string;
  key: string;
  sha: string;
  repo: string | null;
  cluster: string | null;
  firstStartedAt: number;
  /** Rows in joining order; the anchor's first. */
  rows: ReleaseRow[];
  /** The anchor's latest own message and thread (its details, posted in the thread once a second member joins). */
  anchorMessage: MessageContent | null;
  anchorThread: SlackThreadReply | null;
  parent: ReleaseParent | null;
  /**
   * Members whose success is listed in a details reply in the parent's thread (instead of a
   * post each): the number of the reply (its id: `detailsReplyIdOf`) that lists each.
   */
  listedIn?: Record<string, number>;
  /**
   * The latest end of a member's bake (issue 13, ms since the epoch): until then a member may
   * still turn "succeeded, then degraded", so the group, and its parent's ts, outlive the window.
   * Absent when no member's success is watched.
   */
  bakeUntil?: number;
}

/** The group key of a commit SHA: trimmed, lower-case; null when there is none. */
export function releaseKey(sha: string | undefined | null): string | null {
  const key = sha?.trim().toLowerCase() ?? '';
  return key === '' ? null : key;
}

/** A failing or failed rollout's reason in a few words: the first problem's reason and exit code, or the deadline. */
export function rowReason(view: RolloutView): string | null {
  if (view.phase !== 'failing' && view.phase !== 'failed' && view.phase !== 'degraded') return null;
  const first = errorsOf(view)[0];
  let reason: string | null = null;
  if (first !== undefined) {
    reason = first.reason;
    if (first.exitCode !== undefined) reason += ` (exit code ${first.exitCode})`;
  } else if (view.phase === 'failed') reason = 'progress deadline exceeded';
  if (reason === null) return null;
  return reason.length > ROW_REASON_MAX ? `${reason.slice(0, ROW_REASON_MAX - 1)}…` : reason;
}

/** The row of a rollout's latest view; `previous` keeps `failedOnce` sticky. */
export function rowOf(view: RolloutView, alert: AlertLevel, previous?: ReleaseRow): ReleaseRow {
  const failing = view.phase === 'failing' || view.phase === 'failed' || view.phase === 'degraded';
  return {
    rolloutId: view.rolloutId,
    namespace: view.namespace,
    kind: view.kind ?? 'Deployment',
    workload: view.deployment,
    revision: view.revision,
    phase: view.phase,
    reason: rowReason(view),
    alert,
    failedOnce: failing || (previous?.failedOnce ?? false),
    mentions: (view.mentions ?? []).filter(isMentionToken),
    changes: changesText(view.changes ?? null),
    tookMs: isFinalPhase(view.phase) && view.endedAt !== null && view.endedAt >= view.startedAt ? view.endedAt - view.startedAt : null,
    adopted: view.adopted,
  };
}

/** What a notification tells its channel about its release; null without a commit SHA. */
export function releaseInfoOf(view: RolloutView, alert: AlertLevel, cluster: string | null): ReleaseInfo | null {
  const sha = view.git.sha?.trim() ?? '';
  if (releaseKey(sha) === null) return null;
  const repo = view.git.repo?.trim() ?? '';
  return { sha, repo: repo === '' ? null : repo, cluster, startedAt: view.startedAt, row: rowOf(view, alert) };
}

/** The group with a member's bake noted: it is kept until the latest bake of its members is over. */
export function withBake(group: ReleaseGroup, bakeUntil: number | undefined): ReleaseGroup {
  if (bakeUntil === undefined || (group.bakeUntil !== undefined && group.bakeUntil >= bakeUntil)) return group;
  return { ...group, bakeUntil };
}

/** At `at` a member's bake may still bring a degradation (`slackMs` after its end, as ./bakePolicy.ts keeps records). */
export function awaitsBake(group: ReleaseGroup, at: number, slackMs: number): boolean {
  return group.bakeUntil !== undefined && at < group.bakeUntil + slackMs;
}

/**
 * A member's notification turns its row "succeeded, then degraded" for the first time: news
 * for the release after its parent was final, so the parent is re-opened and edited once (a
 * repeat of the same verdict is not news).
 */
export function isNewDegradation(row: Pick<ReleaseRow, 'phase'> | undefined, phase: RolloutPhase): boolean {
  return phase === 'degraded' && row?.phase !== 'degraded';
}

/** A new group of one: the rollout whose message becomes the parent should others join. */
export function newGroup(info: ReleaseInfo): ReleaseGroup {
  return {
    anchor: info.row.rolloutId,
    key: releaseKey(info.sha) ?? '',
    sha: info.sha,
    repo: info.repo,
    cluster: info.cluster,
    firstStartedAt: info.startedAt,
    rows: [info.row],
    anchorMessage: null,
    anchorThread: null,
    parent: null,
  };
}

/**
 * Whether a rollout may join the group: the same commit, started within the window counted
 * from the group's first start (either side: notifications of one release may arrive in any
 * order), and room left. Grouping is off when the window is 0.
 */
export function canJoin(group: ReleaseGroup, info: ReleaseInfo, windowMs: number): boolean {
  if (windowMs <= 0) return false;
  if (group.key !== releaseKey(info.sha)) return false;
  if (group.rows.length >= MAX_RELEASE_ROWS) return false;
  if (group.rows.some((r) => r.rolloutId === info.row.rolloutId)) return false;
  return Math.abs(info.startedAt - group.firstStartedAt) <= windowMs;
}

/** The group with the row added or replaced (`failedOnce` stays set once set). */
export function withRow(group: ReleaseGroup, row: ReleaseRow): ReleaseGroup {
  const i = group.rows.findIndex((r) => r.rolloutId === row.rolloutId);
  if (i === -1) return { ...group, rows: [...group.rows, row] };
  const previous = group.rows[i] as ReleaseRow;
  const rows = group.rows.slice();
  rows[i] = { ...row, failedOnce: row.failedOnce || previous.failedOnce };
  return { ...group, rows };
}

/** How bad a row's state is: done, ended without a verdict, rolling, failing or failed. */
export function severity(phase: RolloutPhase): number {
  switch (phase) {
    case 'succeeded':
      return 0;
    case 'superseded':
    case 'deleted':
    case 'untracked':
    case 'unfollowable':
      return 1;
    case 'progressing':
    case 'paused':
      return 2;
    case 'failing':
      return 3;
    // Succeeded, then degraded within its bake window (issue 13): as bad as a failure.
    case 'degraded':
    case 'failed':
      return 4;
  }
}

/** The worst row's phase (the parent's colour); the first row's on a tie. */
export function worstPhase(rows: readonly ReleaseRow[]): RolloutPhase {
  let worst: RolloutPhase = 'succeeded';
  for (const r of rows) if (severity(r.phase) > severity(worst)) worst = r.phase;
  return worst;
}

/** Every member's verdict is in. */
export function isReleaseDone(rows: readonly ReleaseRow[]): boolean {
  return rows.every((r) => isFinalPhase(r.phase));
}

/**
 * The parent's phase: final only once every row is final (then failed if any failed, else
 * succeeded if any succeeded); while rows are still open, failing if any fails, else progressing.
 */
export function releasePhase(rows: readonly ReleaseRow[]): RolloutPhase {
  const failing = rows.some((r) => r.phase === 'failing' || r.phase === 'failed' || r.phase === 'degraded');
  if (!isReleaseDone(rows)) return failing ? 'failing' : 'progressing';
  if (rows.some((r) => r.phase === 'failed' || r.phase === 'degraded')) return 'failed';
  if (rows.some((r) => r.phase === 'succeeded')) return 'succeeded';
  return rows[0]?.phase ?? 'succeeded';
}

/** Rows the parent shows: with `alert: failure`, only rows that are (or were) failing. */
export function visibleRows(rows: readonly ReleaseRow[]): ReleaseRow[] {
  return rows.filter((r) => r.alert === 'all' || r.failedOnce);
}

/** Whether a group's parent is worth a message: some row is visible. */
export function isParentVisible(group: ReleaseGroup): boolean {
  return visibleRows(group.rows).length > 0;
}

/** The rollout id of the anchor's details in the parent's thread (the anchor's own id is the parent's). */
export function detailsIdOf(anchor: string): string {
  return `${anchor}#details`;
}

/** The synthetic rollout id of the group's `n`th details reply (n from 1): bound like a member's post. */
export function detailsReplyIdOf(anchor: string, n: number): string {
  return `${anchor}#details-${n}`;
}

/** A failing, failed or degraded phase: such a member keeps its own post in the thread (its mentions ping). */
export function isFailurePhase(phase: RolloutPhase): boolean {
  return phase === 'failing' || phase === 'failed' || phase === 'degraded';
}

/** The group a rollout (or the anchor's details) belongs to. */
export function groupOf(groups: Readonly<Record<string, ReleaseGroup>>, rolloutId: string): ReleaseGroup | undefined {
  const direct = groups[rolloutId];
  if (direct !== undefined) return direct;
  for (const g of Object.values(groups)) if (g.rows.some((r) => r.rolloutId === rolloutId) || detailsIdOf(g.anchor) === rolloutId) return g;
  return undefined;
}
