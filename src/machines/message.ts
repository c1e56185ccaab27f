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
 *
 * Layout (issue 12: short when it went well, precise when it did not; no sentence twice; every
 * count is the NEW ReplicaSet's): the title is the message `text` (with the owners' mentions on a
 * second line while the rollout is failing or failed, issue 13); the attachment holds
 * - succeeded, superseded, deleted: one context line (revision, duration, replicas, commit, what changed);
 * - progressing, paused: the new ReplicaSet's progress, then the context line;
 * - failing, failed: the reason first (the grouped problems), what changed, the links, the context line;
 * - degraded (succeeded, then unhealthy within the bake window, issue 13): as a failure, led by when.
 * What does not fit, and the crashed container's last log lines, go to the thread.
 */
import { SLACK_ANNOTATION, type AnnotationNames } from './annotations.js';
import { type Block, contextLine, mrkdwn, section, SLACK_LIMITS, type SlackMessage } from './messageBlocks.js';
import { errorsOf, problemBlocks, problemsOverflow, threadReply } from './messageThread.js';
import { code, fitMrkdwn, isLinkableUrl, link } from './mrkdwn.js';
import type { RolloutPhase, RolloutView } from './notification.js';
import { isFinalPhase } from './notification.js';
import { isMentionToken } from './mentions.js';
import { changesText } from './changesLine.js';

export * from './messageBlocks.js';
export { MAIN_MESSAGE_CHARS, MAIN_PROBLEMS, problemSummary, THREAD_PROBLEMS } from './messageThread.js';

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
  unfollowable: '#9e9e9e',
  // Red, not orange: orange means "still rolling out" in Hermod's messages, and a degraded
  // success needs someone to act as much as a failure does (issue 13).
  degraded: '#e60000',
};

/** Colour of the `hermod notify-test` message (Slack's informational blue). */
export const TEST_MESSAGE_COLOUR = '#439fe0';

/** The emoji that leads a rollout's title (and a release row, ./releaseMessage.ts). */
export const PHASE_EMOJI: Readonly<Record<RolloutPhase, string>> = {
  progressing: ':hourglass_flowing_sand:',
  paused: ':double_vertical_bar:',
  failing: ':warning:',
  failed: ':x:',
  succeeded: ':white_check_mark:',
  superseded: ':fast_forward:',
  deleted: ':wastebasket:',
  untracked: ':no_bell:',
  unfollowable: ':information_source:',
  degraded: ':warning:',
};

/** Longest cluster name shown (CLUSTER_NAME is free text). */
const CLUSTER_MAX = 120;

/**
 * Renders one rollout's message (see the layout above). `opts.mode` does not change the content
 * (see MessageMode).
 */
export function renderRollout(view: RolloutView, opts: RenderOptions): SlackMessage {
  const cluster = clusterName(opts.cluster);
  const failure = isRed(view);
  const errors = failure ? errorsOf(view) : [];
  const overflow = problemsOverflow(errors);
  const log = failure ? (view.crashLog ?? null) : null;

  const blocks: Block[] = [];
  switch (view.phase) {
    case 'progressing':
      blocks.push(section(progressLine(view)));
      break;
    case 'paused':
      blocks.push(section(`Paused: the rollout continues once the Deployment is resumed (${code('kubectl rollout resume')}).\n${progressLine(view)}`));
      break;
    case 'failing':
    case 'failed':
      blocks.push(section(failureLead(view)));
      if (view.phase === 'failing' && errors.length === 0) blocks.push(section('No pod errors were found yet.'));
      blocks.push(...problemBlocks(errors, overflow));
      break;
    case 'degraded':
      blocks.push(section(degradedLead(view)));
      blocks.push(...problemBlocks(errors, overflow));
      break;
    case 'untracked':
      blocks.push(section(`Its namespace lost the ${code(SLACK_ANNOTATION)} annotation, so Hermod no longer follows this rollout.`));
      break;
    case 'unfollowable':
      blocks.push(
        section(
          `Its update strategy is ${code('OnDelete')}: pods change only when someone deletes them, so this rollout cannot be followed (nor can ${code('kubectl rollout status')}). Hermod says nothing more about it.`,
        ),
      );
      break;
    case 'succeeded':
    case 'superseded':
    case 'deleted':
      break;
  }
  if (failure) {
    const changed = changesText(view.changes ?? null);
    if (changed !== '') blocks.push(section(`*What changed* ${changed}`));
    const git = gitLines(view);
    if (git !== '') blocks.push(section(git));
    const warning = opts.gitAnnotationWarning ? gitWarning(view, opts) : null;
    if (warning !== null) blocks.push(section(warning));
  }
  blocks.push(contextLine(contextParts(view, !failure)));

  const title = fitMrkdwn(`${PHASE_EMOJI[view.phase]} ${summary(view, cluster)}`, SLACK_LIMITS.sectionText);
  const mentions = failure ? mentionLine(view) : '';
  const text = mentions === '' ? title : `${title}\n${mentions}`;
  return {
    text,
    attachments: [{ color: PHASE_COLOURS[view.phase], fallback: title, blocks: blocks.slice(0, SLACK_LIMITS.blocks) }],
    // The owners are named in the thread too: a reply is a new message, which Slack notifies,
    // while the channel message turns failing by an edit, which it may not.
    thread: overflow || log !== null || mentions !== '' ? threadReply(view, errors, overflow, log, mentions) : null,
  };
}

/** Failing, failed, or succeeded then degraded: red, with the reason, the owners and the thread. */
function isRed(view: RolloutView): boolean {
  return view.phase === 'failed' || view.phase === 'failing' || view.phase === 'degraded';
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

// --- lines -----------------------------------------------------------------------------

/**
 * The owners to ping, on the line under the title of a failing or failed rollout (issue 13):
 * in the top-level text, where Slack notifies. Only tokens ./mentions.ts emits get through.
 */
function mentionLine(view: RolloutView): string {
  return (view.mentions ?? []).filter(isMentionToken).join(' ');
}

/** CLUSTER_NAME as a code span, or null when unset or blank. */
export function clusterName(raw: string | null): string | null {
  if (raw === null || raw.trim() === '') return null;
  return code(raw.trim(), CLUSTER_MAX);
}

/** The workload's kind as messages name it (views made before other kinds were tracked are Deployments'). */
function kindName(view: RolloutView): string {
  return view.kind ?? 'Deployment';
}

/** What holds the new pods: a Deployment's new ReplicaSet, the other kinds' new ControllerRevision. */
function newPodsOwner(view: RolloutView): string {
  return kindName(view) === 'Deployment' ? 'ReplicaSet' : 'revision';
}

/** Hermod, not the controller, declares StatefulSet and DaemonSet rollouts failed (they have no deadline). */
function hasOwnDeadline(view: RolloutView): boolean {
  return kindName(view) !== 'Deployment';
}

/** ` on node `x`` after the pod a rollout waits on, when its Node is known. */
function onNode(view: RolloutView): string {
  return view.waitingOnNode != null ? ` on node ${code(view.waitingOnNode)}` : '';
}

/** The new ReplicaSet's (or revision's) progress: its pods, how many are ready and available, and the old pods left. */
function progressLine(view: RolloutView): string {
  const p = view.progress;
  const owner = newPodsOwner(view);
  const rs = view.replicaSet === null ? `The new ${owner}` : `New ${owner} ${code(view.replicaSet)}`;
  let s = `${rs}: ${p.updated} of ${p.desired} pods, ${p.ready} ready, ${p.available} available`;
  if (p.old > 0) s += ` · ${p.old} old pod${p.old === 1 ? '' : 's'} left`;
  if (view.partition != null) s += ` · partition ${view.partition}`;
  if (view.waitingOn != null) s += ` · waiting on pod ${code(view.waitingOn)}${onNode(view)}`;
  return s;
}

/**
 * Where the rolling update waits, as a sentence: the pod and its Node; a stuck pod of a revision no
 * longer wanted comes with the way out (a StatefulSet waits for it and will not replace it).
 */
function waitingSentence(view: RolloutView): string {
  if (view.waitingOn == null) return '';
  const pod = code(view.waitingOn);
  if (view.blockedBy === 'staleRevision') {
    const fix = code(`kubectl delete pod ${view.waitingOn} -n ${view.namespace}`);
    return ` Pod ${pod}${onNode(view)} is stuck on a revision that is no longer wanted; the StatefulSet controller will not replace it: ${fix}.`;
  }
  const waits = ` The rolling update waits on pod ${pod}${onNode(view)}`;
  // A DaemonSet's stuck pod keeps its place in maxUnavailable (or maxSurge) for good.
  return view.blockedBy === 'stuck' && kindName(view) === 'DaemonSet' ? `${waits}: no other Node is updated while it is unavailable.` : `${waits}.`;
}

/** The first line of a failure: what is wrong, in numbers of new pods, and where the deadline stands. */
function failureLead(view: RolloutView): string {
  const d = view.diagnosis;
  const p = view.progress;
  const deadline = code(String(view.progressDeadlineSeconds));
  if (view.phase === 'failed') {
    const found = errorsOf(view).length > 0 ? '' : ' No pod errors were found.';
    // Plain digits: a code span inside bold text does not render as bold everywhere.
    const which = hasOwnDeadline(view) ? "Hermod's progress deadline" : 'the progress deadline';
    return `*Failed after ${view.progressDeadlineSeconds} seconds* (${which}): ${p.ready} of ${p.desired} new pods ready.${waitingSentence(view)}${found}`;
  }
  let what: string;
  if (view.blockedBy === 'staleRevision') what = 'The rolling update waits on a pod it will not replace';
  else if (d.pods === 0 && d.replicaFailure !== undefined) what = `The new ${newPodsOwner(view)} cannot create pods`;
  else if (d.pods > 0 && d.stuckPods < d.pods) {
    what = `${d.stuckPods} of ${d.pods} new pods are stuck`;
    if (view.blockedBy === 'stuck') what += `, and the rolling update cannot go past ${d.stuckPods === 1 ? 'it' : 'them'}`;
  } else what = 'Every new pod is stuck';
  const who = hasOwnDeadline(view) ? 'Hermod declares' : 'Kubernetes declares';
  return `*${what}.*${waitingSentence(view)} ${who} the rollout failed once its progress deadline (${deadline} seconds) has passed.`;
}

/** A degraded success's first line: how long after the success its pods turned unhealthy, how many are ready. */
function degradedLead(view: RolloutView): string {
  const p = view.progress;
  const since = view.degradedAt != null && view.endedAt !== null && view.degradedAt >= view.endedAt ? ` ${formatDuration(view.degradedAt - view.endedAt)}` : '';
  const found = errorsOf(view).length > 0 ? '' : ' No pod errors were found.';
  return `*Degraded${since} after it succeeded:* ${p.ready} of ${p.desired} new pods ready, and the ${kindName(view)} has not rolled out again.${found}`;
}

/** The context line's parts: revision, duration or start, replicas, commit, what changed. */
function contextParts(view: RolloutView, withCommit: boolean): string[] {
  const parts: string[] = [];
  let revision = `revision ${view.revision}`;
  if (view.previousRevision !== null && view.previousRevision !== view.revision) revision += ` (was ${view.previousRevision})`;
  parts.push(revision);
  if (isFinalPhase(view.phase) && view.endedAt !== null && view.endedAt >= view.startedAt) {
    // An adopted rollout began before Hermod saw it, so its real duration is longer.
    parts.push(`took ${view.adopted ? 'at least ' : ''}${formatDuration(view.endedAt - view.startedAt)}`);
  } else if (Number.isFinite(view.startedAt) && view.startedAt > 0) {
    // Slack renders <!date^…> in the reader's time zone; the ISO text is the fallback.
    const seconds = Math.floor(view.startedAt / 1000);
    const iso = new Date(seconds * 1000).toISOString();
    parts.push(`${view.adopted ? 'seen' : 'started'} <!date^${seconds}^{date_short_pretty} {time}|${iso}>`);
  }
  if (view.phase === 'succeeded' && view.partition != null) {
    // A partition holds pods back on purpose: done as kubectl says, with only the pods above it updated.
    parts.push(`partitioned rollout complete: ${view.progress.updated} of ${view.progress.desired} pods updated, partition ${view.partition}`);
  } else if (view.phase === 'succeeded') parts.push(`${view.progress.desired} replica${view.progress.desired === 1 ? '' : 's'}`);
  if (view.phase === 'failing' || view.phase === 'degraded') parts.push(progressLine(view));
  // The failed lead already counts the new pods; the context only names their ReplicaSet.
  if (view.phase === 'failed' && view.replicaSet !== null) parts.push(`new ${newPodsOwner(view)} ${code(view.replicaSet)}`);
  if (withCommit) {
    const git = gitInfo(view);
    if (git.sha !== null) parts.push(`commit ${git.commitUrl === null ? code(git.sha, 80) : link(git.commitUrl, git.sha.slice(0, 7))}`);
  }
  if (!isRed(view)) parts.push(changesText(view.changes ?? null));
  if (view.adopted) parts.push('adopted: Hermod started watching mid-rollout');
  return parts;
}

/** The one-line `text`: notifications and the line Slack shows above the attachment. */
function summary(view: RolloutView, cluster: string | null): string {
  const subject = `${kindName(view)} ${code(view.deployment)} (revision ${view.revision}) in ${code(view.namespace)}`;
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
      return `Rollout of ${subject}${on} stopped: the ${kindName(view)} was deleted`;
    case 'untracked':
      return `Hermod stopped tracking ${subject}${on}`;
    case 'unfollowable':
      return `Rollout of ${subject}${on} cannot be followed (OnDelete)`;
    case 'degraded':
      return `Rollout of ${subject}${on} succeeded, then degraded`;
  }
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
    return `:warning: No commit links: the ${kindName(view)} does not have ${which}.`;
  }
  if (git.commitUrl !== null) return null;
  if (!/^[0-9a-f]{7,64}$/i.test(git.sha ?? '')) return `:warning: No commit links: the ${code(names.commitSha)} annotation is not a commit SHA.`;
  return `:warning: No commit links: the ${code(names.repoUrl)} annotation is not an http(s) URL.`;
}

function nonEmpty(s: string | undefined): string | null {
  const t = s?.trim();
  return t === undefined || t === '' ? null : t;
}
