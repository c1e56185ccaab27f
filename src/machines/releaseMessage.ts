/**
 * WHAT a release's parent message says (issue 13): a title (the short commit, the repository,
 * the cluster, the counts), one row per workload with its live state, the colour of the worst
 * row, and a context line; and the details reply in its thread that lists the members without
 * a post of their own (kind, name, namespace, revision, duration, what changed). A failing
 * workload's own message goes in the thread (./releaseQueue.ts).
 *
 * Pure and deterministic. Every cluster-supplied string (names, the commit, the repository,
 * reasons) is escaped through ./mrkdwn.ts; the rows are cut into sections within Slack's
 * limits, with the rows that do not fit counted. The top-level `text` is the notification
 * fallback: the title, and the owners of failing rows on a second line.
 */
import type { MessageContent } from './channelTypes.js';
import { contextLine, section, SLACK_LIMITS, type Block } from './messageBlocks.js';
import { clusterName, formatDuration, PHASE_COLOURS, PHASE_EMOJI } from './message.js';
import { code, fitMrkdwn, isLinkableUrl, link } from './mrkdwn.js';
import { isMentionToken } from './mentions.js';
import type { RolloutPhase } from './notification.js';
import { visibleRows, worstPhase, type ReleaseGroup, type ReleaseRow } from './release.js';

/** Text budget of the rows, under Slack's combined block limit (the title and context take the rest). */
const ROWS_BUDGET = 9000;
/** Details replies one release's thread gets at once at most; rows past them are counted. */
export const MAX_DETAILS_REPLIES = 3;
/** Longest details line (a long "what changed" is cut). */
const DETAILS_LINE_MAX = 1500;

/** A row's state in a word or two (and the reason of a failure). */
export function rowState(row: ReleaseRow): string {
  const reason = row.reason === null ? '' : `: ${code(row.reason, 120)}`;
  switch (row.phase) {
    case 'succeeded':
      return 'done';
    case 'progressing':
      return 'rolling';
    case 'paused':
      return 'paused';
    case 'failing':
      return `failing${reason}`;
    case 'failed':
      return `failed${reason}`;
    case 'superseded':
      return 'superseded';
    case 'deleted':
      return 'deleted';
    case 'untracked':
      return 'no longer tracked';
    case 'unfollowable':
      return 'cannot be followed (OnDelete)';
    case 'degraded':
      return `succeeded, then degraded${reason}`;
  }
}

/** One row: the state's emoji, the workload, its namespace, its state. */
export function rowLine(row: ReleaseRow): string {
  return `${PHASE_EMOJI[row.phase]} ${row.kind} ${code(row.workload, 253)} in ${code(row.namespace, 63)}: ${rowState(row)}`;
}

/** The counts of the title: done first, then what is still open or went wrong. */
export function releaseCounts(rows: readonly ReleaseRow[]): string {
  const count = (phases: RolloutPhase[]) => rows.filter((r) => phases.includes(r.phase)).length;
  const parts = [`${count(['succeeded'])} of ${rows.length} done`];
  const rolling = count(['progressing', 'paused']);
  const failing = count(['failing']);
  const failed = count(['failed']);
  const degraded = count(['degraded']);
  const ended = count(['superseded', 'deleted', 'untracked', 'unfollowable']);
  if (rolling > 0) parts.push(`${rolling} rolling`);
  if (failing > 0) parts.push(`${failing} failing`);
  if (failed > 0) parts.push(`${failed} failed`);
  if (degraded > 0) parts.push(`${degraded} degraded`);
  if (ended > 0) parts.push(`${ended} ended without a verdict`);
  return parts.join(', ');
}

/** `https://github.com/org/app.git/` -> the repository's base URL, when it can be linked. */
function repoBase(repo: string | null): string | null {
  if (repo === null) return null;
  const base = repo.trim().replace(/\/+$/, '').replace(/\.git$/, '');
  return isLinkableUrl(base) ? base : null;
}

/** The repository's short name: the last two path segments of its URL (`org/app`). */
function repoLabel(base: string): string {
  const path = new URL(base).pathname.split('/').filter((p) => p !== '');
  return path.slice(-2).join('/') || new URL(base).hostname;
}

/** The title: the short commit (linked when the repository is), the repository, the cluster, the counts. */
export function releaseTitle(group: ReleaseGroup): string {
  const sha = group.sha.trim();
  const base = repoBase(group.repo);
  const isSha = /^[0-9a-f]{7,64}$/i.test(sha);
  const commit = base !== null && isSha ? link(`${base}/commit/${sha}`, sha.slice(0, 7)) : code(isSha ? sha.slice(0, 7) : sha, 80);
  const repo = base !== null ? ` of ${link(base, repoLabel(base))}` : group.repo !== null ? ` of ${code(group.repo, 200)}` : '';
  const name = clusterName(group.cluster);
  const cluster = name === null ? '' : ` on ${name}`;
  return fitMrkdwn(`:package: Release ${commit}${repo}${cluster}: ${releaseCounts(group.rows)}`, SLACK_LIMITS.sectionText);
}

/** The rows as sections of at most Slack's section size; rows past the budget are counted. */
function rowBlocks(rows: readonly ReleaseRow[]): Block[] {
  const blocks: Block[] = [];
  let current = '';
  let used = 0;
  let shown = 0;
  for (const row of rows) {
    const line = rowLine(row);
    if (used + line.length + 1 > ROWS_BUDGET) break;
    if (current !== '' && current.length + line.length + 1 > SLACK_LIMITS.sectionText) {
      blocks.push(section(current));
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
    used += line.length + 1;
    shown++;
  }
  if (current !== '') blocks.push(section(current));
  const more = rows.length - shown;
  if (more > 0) blocks.push(contextLine([`… and ${more} more workload${more === 1 ? '' : 's'}`]));
  return blocks;
}

/** The owners of visible failing rows, each once, on the line under the title (where Slack notifies). */
function mentionLine(rows: readonly ReleaseRow[]): string {
  const out: string[] = [];
  for (const r of rows) {
    if (r.phase !== 'failing' && r.phase !== 'failed') continue;
    for (const m of r.mentions) if (isMentionToken(m) && !out.includes(m)) out.push(m);
  }
  return out.join(' ');
}

/**
 * Renders a release's parent message. With `alert: failure` rows, only rows that fail (or
 * failed) are listed, and a context line says others are hidden; the colour is the worst
 * listed row's.
 */
export function renderRelease(group: ReleaseGroup): MessageContent {
  const rows = visibleRows(group.rows);
  const title = releaseTitle(group);
  const hidden = group.rows.length - rows.length;
  const blocks: Block[] = [...rowBlocks(rows)];
  const context = [`${group.rows.length} workloads of one commit`, "each workload's details are in the thread"];
  if (hidden > 0) context.push(`${hidden} not shown (\`alert: failure\` shows failures only)`);
  blocks.push(contextLine(context));
  const mentions = mentionLine(rows);
  return {
    text: mentions === '' ? title : `${title}\n${mentions}`,
    attachments: [{ color: PHASE_COLOURS[worstPhase(rows)], fallback: title, blocks: blocks.slice(0, SLACK_LIMITS.blocks) }],
  };
}

/** One member's details: kind, name, namespace, revision, its state, how long it took, what changed. */
export function detailsLine(row: ReleaseRow): string {
  const parts = [`revision ${row.revision}`];
  if (row.tookMs != null) parts.push(`took ${row.adopted === true ? 'at least ' : ''}${formatDuration(row.tookMs)}`);
  if (row.changes !== undefined && row.changes !== '') parts.push(row.changes);
  return fitMrkdwn(`${rowLine(row)} · ${parts.join(' · ')}`, DETAILS_LINE_MAX);
}

/**
 * The details reply of a release's members that need no post of their own (successes, ends
 * without a verdict): one line each, in sections within Slack's limits, split into at most
 * `MAX_DETAILS_REPLIES` messages; rows past them are counted in the last one. Each message
 * comes with how many of `rows` it stands for (in order).
 */
export function renderDetails(group: ReleaseGroup, rows: readonly ReleaseRow[]): Array<{ message: MessageContent; rows: number }> {
  const chunks: string[][] = [];
  let chunk: string[] = [];
  let used = 0;
  let shown = 0;
  for (const row of rows) {
    const line = detailsLine(row);
    if (used + line.length + 1 > ROWS_BUDGET && chunk.length > 0) {
      if (chunks.length + 1 >= MAX_DETAILS_REPLIES) break;
      chunks.push(chunk);
      chunk = [];
      used = 0;
    }
    chunk.push(line);
    used += line.length + 1;
    shown++;
  }
  if (chunk.length > 0) chunks.push(chunk);
  const more = rows.length - shown;
  const sha = group.sha.trim();
  const title = `Details of ${rows.length} workload${rows.length === 1 ? '' : 's'} of release ${code(/^[0-9a-f]{7,64}$/i.test(sha) ? sha.slice(0, 7) : sha, 80)}`;
  return chunks.map((lines, i) => {
    const blocks: Block[] = [];
    let current = '';
    for (const line of lines) {
      if (current !== '' && current.length + line.length + 1 > SLACK_LIMITS.sectionText) {
        blocks.push(section(current));
        current = '';
      }
      current = current === '' ? line : `${current}\n${line}`;
    }
    if (current !== '') blocks.push(section(current));
    const part = chunks.length > 1 ? ` (${i + 1} of ${chunks.length})` : '';
    if (i === chunks.length - 1 && more > 0) blocks.push(contextLine([`… and ${more} more workload${more === 1 ? '' : 's'}`]));
    const text = fitMrkdwn(`${title}${part}`, SLACK_LIMITS.sectionText);
    const rowCount = i === chunks.length - 1 ? lines.length + more : lines.length;
    return { message: { text, attachments: [{ color: PHASE_COLOURS[worstPhase(rows)], fallback: text, blocks: blocks.slice(0, SLACK_LIMITS.blocks) }] }, rows: rowCount };
  });
}
