/**
 * WHAT Hermod says: renders a rollout's view model into the JSON that Slack's
 * chat.postMessage / chat.update accept (an attachment for the colour bar, Block Kit blocks
 * inside it, a plain `text` for notifications, and an optional thread reply with the long
 * failure details).
 *
 * Pure and deterministic: the same view and options always give the same message, so every
 * message can be unit tested and previewed without Slack. All cluster-supplied strings go
 * through ./mrkdwn.ts, and every part is kept within Slack's size limits with a visible
 * marker where something was cut.
 */
import { SLACK_ANNOTATION, type AnnotationNames } from './annotations.js';
import type { ProblemGroup, RolloutPhase, RolloutView } from './notification.js';
import { isFinalPhase } from './notification.js';
import {
  clipRaw,
  code,
  codeBlock,
  escapeClipped,
  escapedLength,
  fitMrkdwn,
  isLinkableUrl,
  link,
  truncationMarker,
} from './mrkdwn.js';

/**
 * How the delivery layer uses messages: `update` edits one message per rollout in place,
 * `post` sends a new message per phase change (the original's style). The rendered content
 * is the same in both modes: each message states the phase on its own, so it reads well
 * either way. The option exists so wording can diverge later without changing callers.
 */
export const MESSAGE_MODES = ['update', 'post'] as const;
export type MessageMode = (typeof MESSAGE_MODES)[number];

export interface RenderOptions {
  /** CLUSTER_NAME; null (or empty) leaves the cluster out of the sentences. */
  cluster: string | null;
  /** --git-annotation-warning: say so in failure messages when the git annotations are missing. */
  gitAnnotationWarning: boolean;
  /** The configured annotation names, for the warning text. */
  annotationNames: AnnotationNames;
  mode: MessageMode;
}

/** A Block Kit mrkdwn text object. */
export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
}

/** A Block Kit section: text (at most 3,000 chars) and/or fields (at most 10 x 2,000 chars). */
export interface SectionBlock {
  type: 'section';
  text?: MrkdwnText;
  fields?: MrkdwnText[];
}

/** A Block Kit context block: small grey text, at most 10 elements. */
export interface ContextBlock {
  type: 'context';
  elements: MrkdwnText[];
}

export type Block = SectionBlock | ContextBlock;

/** A legacy attachment: the only way to get a colour bar; it carries the blocks. */
export interface SlackAttachment {
  /** Hex colour of the side bar. */
  color: string;
  /** Plain summary for clients that cannot show blocks. */
  fallback?: string;
  blocks: Block[];
}

/** A reply to post in the message's thread (`thread_ts` = the message's ts). */
export interface SlackThreadReply {
  /** Notification fallback. */
  text: string;
  blocks?: Block[];
}

/**
 * One Slack message: pass `text` and `attachments` (JSON-encoded) to chat.postMessage or
 * chat.update. Slack shows `text` above the attachment and uses it in notifications.
 */
export interface SlackMessage {
  text: string;
  attachments: SlackAttachment[];
  /** Long failure details that do not fit the main message; null when there are none. */
  thread?: SlackThreadReply | null;
}

/** Slack's documented limits that rendering respects. */
export const SLACK_LIMITS = {
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  contextElements: 10,
  blocks: 50,
  text: 40000,
  /** Combined text of all blocks; Slack answers msg_blocks_too_long somewhere near 12-13k. */
  blocksText: 12000,
} as const;

/** Side-bar colour per phase. */
export const PHASE_COLOURS: Readonly<Record<RolloutPhase, string>> = {
  progressing: '#e69500',
  paused: '#e69500',
  failing: '#e60000',
  failed: '#e60000',
  succeeded: '#36a64f',
  superseded: '#9e9e9e',
  deleted: '#9e9e9e',
  untracked: '#9e9e9e',
};

/** Colour of the `hermod notify-test` message (Slack's informational blue). */
export const TEST_MESSAGE_COLOUR = '#439fe0';

const PHASE_EMOJI: Readonly<Record<RolloutPhase, string>> = {
  progressing: ':hourglass_flowing_sand:',
  paused: ':double_vertical_bar:',
  failing: ':warning:',
  failed: ':x:',
  succeeded: ':white_check_mark:',
  superseded: ':fast_forward:',
  deleted: ':wastebasket:',
  untracked: ':no_bell:',
};

/** Problem groups shown in the main message; the rest go to the thread. */
export const MAIN_PROBLEMS = 5;
/** Longest error message (escaped chars) shown in the main message; longer ones go to the thread. */
export const MAIN_MESSAGE_CHARS = 500;
/** Problem groups shown in the thread reply. */
export const THREAD_PROBLEMS = 10;
/** Text budget of the thread reply's blocks, under Slack's combined block limit. */
const THREAD_TEXT_BUDGET = 10000;
/** Room kept in a problem section for the truncation marker and code fences. */
const PROBLEM_OVERHEAD = 80;
/** Longest cluster name shown (CLUSTER_NAME is free text). */
const CLUSTER_MAX = 120;
/** Longest inline value such as a reason or container name (Kubernetes names are at most 253). */
const INLINE_MAX = 300;

/**
 * Renders one rollout's message.
 *
 * The attachment holds, in order: the headline sentence (parity with the original's texts),
 * the facts as fields (revision, ReplicaSet, progress, deadline, duration, commit), for
 * `failing`/`failed` the errors and the commit/pull-request links, an optional git-annotation
 * warning, and a footer context. When the errors do not fit (more than MAIN_PROBLEMS groups or
 * a message longer than MAIN_MESSAGE_CHARS) the main message shows a shortened list and
 * `thread` carries the fuller details.
 *
 * `opts.mode` does not change the content (see MessageMode).
 */
export function renderRollout(view: RolloutView, opts: RenderOptions): SlackMessage {
  const cluster = clusterName(opts.cluster);
  const failure = view.phase === 'failed' || view.phase === 'failing';
  const errors = failure ? errorsOf(view) : [];
  const needsThread = errors.length > MAIN_PROBLEMS || errors.some((e) => escapedLength(e.message ?? '') > MAIN_MESSAGE_CHARS);

  const blocks: Block[] = [];
  blocks.push(section(headline(view, cluster)));
  blocks.push(fieldsSection(factFields(view, !failure)));

  if (failure) {
    blocks.push(...errorBlocks(view, errors, needsThread));
    const git = gitLines(view);
    if (git !== '') blocks.push(section(git));
  }
  const warning = failure && opts.gitAnnotationWarning ? gitWarning(view, opts) : null;
  if (warning !== null) blocks.push(section(warning));
  blocks.push(footer(view, cluster));

  const text = fitMrkdwn(`${PHASE_EMOJI[view.phase]} ${summary(view, cluster)}`, SLACK_LIMITS.sectionText);
  return {
    text,
    attachments: [{ color: PHASE_COLOURS[view.phase], fallback: text, blocks: blocks.slice(0, SLACK_LIMITS.blocks) }],
    thread: needsThread ? threadReply(view, errors) : null,
  };
}

/** The `hermod notify-test` message: proves Hermod can post in a channel. */
export function renderTestMessage(opts: Pick<RenderOptions, 'cluster'>): SlackMessage {
  const cluster = clusterName(opts.cluster);
  const where = cluster === null ? '' : ` for the ${cluster} cluster`;
  const text = `:wave: Hermod can post in this channel${where}.`;
  const body =
    `Hermod can post in this channel${where}.\n` +
    `Rollouts of Deployments in namespaces whose ${code(SLACK_ANNOTATION)} annotation names this channel are reported here.`;
  const elements = [mrkdwn('hermod')];
  if (cluster !== null) elements.push(mrkdwn(`cluster ${cluster}`));
  return {
    text,
    attachments: [{ color: TEST_MESSAGE_COLOUR, fallback: text, blocks: [section(body), { type: 'context', elements }] }],
    thread: null,
  };
}

/**
 * A human duration: `45s`, `1m 12s`, `2m`, `1h 0m 5s`, `2d 3h`. Whole seconds, rounded down;
 * zero units are kept between non-zero ones and dropped at the end. Negative or non-finite
 * input gives `0s`.
 */
export function formatDuration(ms: number): string {
  const total = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
  const units: Array<[number, string]> = [
    [Math.floor(total / 86400), 'd'],
    [Math.floor((total % 86400) / 3600), 'h'],
    [Math.floor((total % 3600) / 60), 'm'],
    [total % 60, 's'],
  ];
  const first = units.findIndex(([n]) => n > 0);
  if (first === -1) return '0s';
  const parts = units.slice(first);
  while (parts.length > 1 && parts[parts.length - 1]?.[0] === 0) parts.pop();
  return parts.map(([n, u]) => `${n}${u}`).join(' ');
}

// --- sentences -------------------------------------------------------------------------

function clusterName(raw: string | null): string | null {
  if (raw === null || raw.trim() === '') return null;
  return code(raw.trim(), CLUSTER_MAX);
}

function headline(view: RolloutView, cluster: string | null): string {
  const dep = code(view.deployment);
  const ns = code(view.namespace);
  const rs = view.replicaSet === null ? '' : ` (RS: ${code(view.replicaSet)})`;
  const on = cluster === null ? '' : ` on ${cluster} cluster`;
  const deadline = code(String(view.progressDeadlineSeconds));
  let s: string;
  switch (view.phase) {
    case 'progressing':
      s = `Rolling out Deployment ${dep} in namespace ${ns}${on}.`;
      break;
    case 'paused':
      s =
        `Rollout for Deployment ${dep} in ${ns} namespace${on} is paused.\n` +
        `It continues once the Deployment is resumed (${code('kubectl rollout resume')}).`;
      break;
    case 'succeeded':
      s = `Rollout for Deployment ${dep} in ${ns} namespace${on} is successful.`;
      break;
    case 'failed':
      s =
        `Rollout for Deployment ${dep}${rs} in ${ns} namespace failed after ${deadline} seconds` +
        `${cluster === null ? '' : ` on the ${cluster} cluster`}.`;
      break;
    case 'failing':
      s =
        `Rollout for Deployment ${dep}${rs} in ${ns} namespace${on} is failing: ${failingReason(view)}.\n` +
        `It is still in progress: Kubernetes declares it failed once its progress deadline (${deadline} seconds) has passed.`;
      break;
    case 'superseded':
      s =
        `Rollout of revision ${view.revision} for Deployment ${dep} in ${ns} namespace${on} was superseded by ` +
        `${view.supersededBy === null ? 'a newer revision' : `revision ${view.supersededBy}`} before it finished.`;
      break;
    case 'deleted':
      s = `Rollout for Deployment ${dep} in ${ns} namespace${on} stopped: the Deployment was deleted during the rollout.`;
      break;
    case 'untracked':
      s =
        `Hermod stopped tracking namespace ${ns}${on}: its ${code(SLACK_ANNOTATION)} annotation was removed. ` +
        `The rollout of Deployment ${dep} (revision ${view.revision}) is no longer followed.`;
      break;
  }
  if (view.detail !== null && view.detail.trim() !== '') s += `\nKubernetes: ${escapeClipped(view.detail.trim(), 500)}`;
  return s;
}

function failingReason(view: RolloutView): string {
  const d = view.diagnosis;
  if (d.pods === 0 && d.replicaFailure !== undefined) return 'the new ReplicaSet cannot create pods';
  if (d.pods > 0 && d.stuckPods < d.pods) return `${d.stuckPods} of ${d.pods} new pods are stuck`;
  return 'every new pod is stuck';
}

/** The one-line `text`: notifications and the line Slack shows above the attachment. */
function summary(view: RolloutView, cluster: string | null): string {
  const subject = `Deployment ${code(view.deployment)} (revision ${view.revision}) in ${code(view.namespace)}`;
  const on = cluster === null ? '' : ` on ${cluster}`;
  switch (view.phase) {
    case 'progressing':
      return `Rolling out ${subject}${on}`;
    case 'paused':
      return `Rollout of ${subject}${on} is paused`;
    case 'succeeded':
      return `Rollout of ${subject}${on} succeeded`;
    case 'failed':
      return `Rollout of ${subject}${on} failed`;
    case 'failing':
      return `Rollout of ${subject}${on} is failing`;
    case 'superseded':
      return `Rollout of ${subject}${on} was superseded${view.supersededBy === null ? '' : ` by revision ${view.supersededBy}`}`;
    case 'deleted':
      return `Rollout of ${subject}${on} stopped: the Deployment was deleted`;
    case 'untracked':
      return `Hermod stopped tracking ${subject}${on}`;
  }
}

// --- facts -----------------------------------------------------------------------------

function factFields(view: RolloutView, withCommit: boolean): string[] {
  const fields: string[] = [];

  let revision = `*Revision*\n${view.revision}`;
  if (view.previousRevision !== null && view.previousRevision !== view.revision) revision += ` (was ${view.previousRevision})`;
  if (view.rolledBackTo.length > 0) {
    const plural = view.rolledBackTo.length > 1 ? 's' : '';
    revision += `\nrollback to revision${plural} ${view.rolledBackTo.join(', ')}`;
  }
  fields.push(revision);

  if (view.replicaSet !== null) fields.push(`*ReplicaSet*\n${code(view.replicaSet)}`);

  const p = view.progress;
  let progress = `*Progress*\nupdated ${p.updated}/${p.desired}, ready ${p.ready}/${p.desired}, available ${p.available}/${p.desired}`;
  if (p.old > 0) progress += `\n${p.old} old pending termination`;
  fields.push(progress);

  fields.push(`*Progress deadline*\n${view.progressDeadlineSeconds} seconds`);

  if (isFinalPhase(view.phase) && view.endedAt !== null && view.endedAt >= view.startedAt) {
    // An adopted rollout began before Hermod saw it, so its real duration is longer.
    fields.push(`*Duration*\n${view.adopted ? 'at least ' : ''}${formatDuration(view.endedAt - view.startedAt)}`);
  }

  if (withCommit) {
    const git = gitInfo(view);
    if (git.sha !== null) fields.push(`*Commit*\n${git.commitUrl === null ? code(git.sha, 80) : link(git.commitUrl, git.sha.slice(0, 7))}`);
  }
  return fields;
}

function footer(view: RolloutView, cluster: string | null): ContextBlock {
  const elements: MrkdwnText[] = [mrkdwn('hermod')];
  if (cluster !== null) elements.push(mrkdwn(`cluster ${cluster}`));
  if (Number.isFinite(view.startedAt) && view.startedAt > 0) {
    // Slack renders <!date^…> in the reader's time zone; the ISO text is the fallback.
    const seconds = Math.floor(view.startedAt / 1000);
    const iso = new Date(seconds * 1000).toISOString();
    elements.push(mrkdwn(`${view.adopted ? 'seen' : 'started'} <!date^${seconds}^{date_short_pretty} {time}|${iso}>`));
  }
  if (view.adopted) elements.push(mrkdwn('adopted: Hermod started watching mid-rollout'));
  return { type: 'context', elements };
}

// --- errors ----------------------------------------------------------------------------

/** The problem groups to report, with the ReplicaSet's failure first when no group carries it. */
function errorsOf(view: RolloutView): ProblemGroup[] {
  const { problems, replicaFailure } = view.diagnosis;
  if (replicaFailure === undefined || replicaFailure.trim() === '') return problems;
  if (problems.some((p) => p.message === replicaFailure)) return problems;
  return [{ source: 'replicaSet', reason: 'ReplicaFailure', message: replicaFailure, count: 1 }, ...problems];
}

function errorBlocks(view: RolloutView, errors: ProblemGroup[], inThread: boolean): Block[] {
  if (errors.length === 0) {
    const p = view.progress;
    const s =
      view.phase === 'failed'
        ? `No pod errors were found: the Deployment failed to reach desired replicas within ${view.progressDeadlineSeconds} seconds, only ${p.ready}/${p.desired} replicas are ready.`
        : 'No pod errors were found yet.';
    return [section(s)];
  }
  const blocks: Block[] = [section('Retrieved the following errors:')];
  for (const e of errors.slice(0, MAIN_PROBLEMS)) blocks.push(section(problemText(e, MAIN_MESSAGE_CHARS)));
  if (inThread) {
    const more = errors.length - MAIN_PROBLEMS;
    blocks.push({
      type: 'context',
      elements: [mrkdwn(more > 0 ? `… and ${more} more problem${more === 1 ? '' : 's'}: the details are in the thread.` : 'The full error messages are in the thread.')],
    });
  }
  return blocks;
}

/** One-line summary of a problem group, e.g. `*3 pods* · `CrashLoopBackOff` · container `api` · exit code 1`. */
export function problemSummary(p: ProblemGroup): string {
  const parts: string[] = [];
  switch (p.source) {
    case 'event':
      parts.push(`*Warning event, seen ${p.count} time${p.count === 1 ? '' : 's'}*`);
      break;
    case 'replicaSet':
      parts.push('*ReplicaSet*');
      break;
    default:
      parts.push(`*${p.count} pod${p.count === 1 ? '' : 's'}*`);
  }
  parts.push(code(p.reason, 120));
  if (p.container !== undefined) parts.push(`${p.source === 'initContainer' ? 'init container' : 'container'} ${code(p.container, INLINE_MAX)}`);
  else if (p.source === 'podCondition') parts.push('pod condition');
  if (p.exitCode !== undefined) parts.push(`exit code ${p.exitCode}`);
  // OOMKilled says more than its exit code 137; "Error" says nothing the exit code does not.
  if (p.lastTerminationReason !== undefined && p.lastTerminationReason !== 'Error' && p.lastTerminationReason !== p.reason) {
    parts.push(`last run: ${code(p.lastTerminationReason, 120)}`);
  }
  return parts.join(' · ');
}

/** A problem's section text: its summary, then its message in a code block cut to `messageBudget`. */
function problemText(p: ProblemGroup, messageBudget: number): string {
  const head = problemSummary(p);
  const message = (p.message ?? '').trimEnd();
  if (message.trim() === '') return fitMrkdwn(head, SLACK_LIMITS.sectionText);
  const room = Math.min(messageBudget, SLACK_LIMITS.sectionText - head.length - PROBLEM_OVERHEAD);
  const clipped = clipRaw(message, Math.max(0, room));
  let s = head;
  const block = codeBlock(clipped.text);
  if (block !== '') s += `\n${block}`;
  if (clipped.omitted > 0) s += `\n_${truncationMarker(clipped.omitted)}_`;
  return fitMrkdwn(s, SLACK_LIMITS.sectionText);
}

function threadReply(view: RolloutView, errors: ProblemGroup[]): SlackThreadReply {
  const plural = errors.length === 1 ? '' : 's';
  const intro =
    `Failure details for Deployment ${code(view.deployment)} (revision ${view.revision}) in ${code(view.namespace)}: ` +
    `${errors.length} problem${plural}.`;
  const blocks: Block[] = [section(intro)];
  let remaining = THREAD_TEXT_BUDGET - intro.length;
  const shown = Math.min(errors.length, THREAD_PROBLEMS);
  let count = 0;
  for (const e of errors.slice(0, shown)) {
    // Share what is left evenly among the problems still to show.
    const share = Math.floor(remaining / (shown - count));
    const budget = share - problemSummary(e).length - PROBLEM_OVERHEAD;
    if (budget < 100 && (e.message ?? '') !== '') break;
    const s = problemText(e, budget);
    blocks.push(section(s));
    remaining -= s.length;
    count++;
  }
  const more = errors.length - count;
  if (more > 0) blocks.push({ type: 'context', elements: [mrkdwn(`… and ${more} more problem${more === 1 ? '' : 's'}`)] });
  return { text: fitMrkdwn(intro, SLACK_LIMITS.sectionText), blocks };
}

// --- git -------------------------------------------------------------------------------

interface GitInfo {
  sha: string | null;
  repo: string | null;
  /** Set only when both annotations exist, the repo is an http(s) URL and the sha looks like one. */
  commitUrl: string | null;
  pullsUrl: string | null;
}

function gitInfo(view: RolloutView): GitInfo {
  const sha = nonEmpty(view.git.sha);
  const repo = nonEmpty(view.git.repo);
  if (sha === null || repo === null || !/^[0-9a-f]{7,64}$/i.test(sha)) return { sha, repo, commitUrl: null, pullsUrl: null };
  // `https://github.com/org/app.git/` and `https://github.com/org/app` name the same repository.
  const base = repo.replace(/\/+$/, '').replace(/\.git$/, '');
  if (!isLinkableUrl(base)) return { sha, repo, commitUrl: null, pullsUrl: null };
  return { sha, repo, commitUrl: `${base}/commit/${sha}`, pullsUrl: `${base}/pulls?q=${sha}` };
}

function gitLines(view: RolloutView): string {
  const git = gitInfo(view);
  if (git.sha === null) return '';
  if (git.commitUrl === null || git.pullsUrl === null) return `Commit: ${code(git.sha, 80)}`;
  return `Commit: ${link(git.commitUrl, git.sha.slice(0, 7))}\nPull Request, if applicable: ${link(git.pullsUrl, 'search')}`;
}

function gitWarning(view: RolloutView, opts: RenderOptions): string | null {
  const git = gitInfo(view);
  const names = opts.annotationNames;
  const missing: string[] = [];
  if (git.sha === null) missing.push(code(names.commitSha));
  if (git.repo === null) missing.push(code(names.repoUrl));
  if (missing.length > 0) {
    const which = missing.length === 1 ? `the ${missing[0]} annotation` : `the ${missing.join(' and ')} annotations`;
    return `:warning: No commit links: the Deployment does not have ${which}.`;
  }
  if (git.commitUrl !== null) return null;
  if (!/^[0-9a-f]{7,64}$/i.test(git.sha ?? '')) return `:warning: No commit links: the ${code(names.commitSha)} annotation is not a commit SHA.`;
  return `:warning: No commit links: the ${code(names.repoUrl)} annotation is not an http(s) URL.`;
}

function nonEmpty(s: string | undefined): string | null {
  const t = s?.trim();
  return t === undefined || t === '' ? null : t;
}

// --- blocks ----------------------------------------------------------------------------

function mrkdwn(text: string): MrkdwnText {
  return { type: 'mrkdwn', text: fitMrkdwn(text, SLACK_LIMITS.sectionText) };
}

function section(text: string): SectionBlock {
  return { type: 'section', text: mrkdwn(text) };
}

function fieldsSection(fields: string[]): SectionBlock {
  return {
    type: 'section',
    fields: fields.slice(0, SLACK_LIMITS.fields).map((f) => ({ type: 'mrkdwn', text: fitMrkdwn(f, SLACK_LIMITS.fieldText) })),
  };
}
