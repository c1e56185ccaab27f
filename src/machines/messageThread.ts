/**
 * The failure details of a rollout message: the grouped problems (a shortened list in the
 * channel message, the fuller one in the thread) and the crashed container's last log lines,
 * which only ever go to the thread. Pure; every cluster-supplied string is escaped here.
 */
import { type Block, mrkdwn, section, SLACK_LIMITS, type SlackThreadReply } from './messageBlocks.js';
import { clipRaw, code, codeBlock, escapedLength, fitMrkdwn, truncationMarker } from './mrkdwn.js';
import type { CrashLog, ProblemGroup, RolloutView } from './notification.js';

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
/** Longest inline value such as a reason or container name (Kubernetes names are at most 253). */
const INLINE_MAX = 300;

/** The problem groups to report, with the ReplicaSet's failure first when no group carries it. */
export function errorsOf(view: RolloutView): ProblemGroup[] {
  const { problems, replicaFailure } = view.diagnosis;
  if (replicaFailure === undefined || replicaFailure.trim() === '') return problems;
  if (problems.some((p) => p.message === replicaFailure)) return problems;
  return [{ source: 'replicaSet', reason: 'ReplicaFailure', message: replicaFailure, count: 1 }, ...problems];
}

/** The problems do not fit the channel message: too many, or a message too long. */
export function problemsOverflow(errors: readonly ProblemGroup[]): boolean {
  return errors.length > MAIN_PROBLEMS || errors.some((e) => escapedLength(e.message ?? '') > MAIN_MESSAGE_CHARS);
}

/** The channel message's problem sections, and a pointer to the thread when some did not fit. */
export function problemBlocks(errors: readonly ProblemGroup[], overflow: boolean): Block[] {
  const blocks: Block[] = errors.slice(0, MAIN_PROBLEMS).map((e) => section(problemText(e, MAIN_MESSAGE_CHARS)));
  if (overflow) {
    const more = errors.length - MAIN_PROBLEMS;
    const note = more > 0 ? `… and ${more} more problem${more === 1 ? '' : 's'}: the details are in the thread.` : 'The full error messages are in the thread.';
    blocks.push({ type: 'context', elements: [mrkdwn(note)] });
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

/** The crash log as one thread section: where it came from, then the lines in a code block. */
export function crashLogText(log: CrashLog): string {
  const where = `container ${code(log.container)} in pod ${code(log.pod)}`;
  if (log.unavailable !== null) return `No crash log for ${where}: ${code(log.unavailable, 200)}.`;
  if (log.lines.length === 0) return `The previous run of ${where} printed nothing.`;
  const plural = log.lines.length === 1 ? '' : 's';
  const head = `Last ${log.lines.length} line${plural} of the previous (crashed) run of ${where}${log.truncated ? ' (cut)' : ''}:`;
  const room = SLACK_LIMITS.sectionText - head.length - PROBLEM_OVERHEAD;
  const clipped = clipRaw(log.lines.join('\n'), room);
  let s = `${head}\n${codeBlock(clipped.text)}`;
  if (clipped.omitted > 0) s += `\n_${truncationMarker(clipped.omitted)}_`;
  return fitMrkdwn(s, SLACK_LIMITS.sectionText);
}

/** The thread reply: the fuller problem list when it overflowed, and the crash log when there is one. */
export function threadReply(view: RolloutView, errors: readonly ProblemGroup[], withProblems: boolean, log: CrashLog | null, mentions = ''): SlackThreadReply {
  const plural = errors.length === 1 ? '' : 's';
  const intro =
    (mentions === '' ? '' : `${mentions} `) +
    `Failure details for ${view.kind ?? 'Deployment'} ${code(view.deployment)} (revision ${view.revision}) in ${code(view.namespace)}` +
    (withProblems ? `: ${errors.length} problem${plural}.` : '.');
  const blocks: Block[] = [section(intro)];
  let remaining = THREAD_TEXT_BUDGET - intro.length;
  if (log !== null) {
    const s = crashLogText(log);
    blocks.push(section(s));
    remaining -= s.length;
  }
  if (withProblems) {
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
  }
  return { text: fitMrkdwn(intro, SLACK_LIMITS.sectionText), blocks };
}
