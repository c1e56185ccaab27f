/**
 * The crash log: which container's previous run is worth reading, and how its last lines are
 * cut, bounded and redacted before they reach a message (keel-hq/keel#380, kubeshop/botkube#202).
 * Reading the log is I/O (src/io/kube/podLogs.ts); everything here is pure.
 *
 * The lines stay raw text: message rendering escapes them like every cluster-supplied string.
 */
import type { PodFacts } from './facts.js';
import type { CrashLog, CrashLogTarget } from './notification.js';

/** Longest line kept, in characters; longer lines are cut with a marker. */
export const CRASH_LOG_LINE_CHARS = 300;
/** Most characters of log kept in all; the oldest lines go first. */
export const CRASH_LOG_CHARS = 2400;
/** Most bytes asked of the API (`limitBytes`): a bound on what is read at all. */
export const CRASH_LOG_BYTES = 32 * 1024;
/** What replaces a redacted match. */
export const REDACTED = '[redacted]';

/**
 * The built-in redactions, applied to every line before anything else sees it: Slack tokens,
 * bearer tokens, `password=`-style assignments, AWS access keys and secret keys. `--log-redact`
 * adds to them. Case-insensitive.
 */
export const DEFAULT_LOG_REDACTIONS: readonly string[] = [
  String.raw`xox[abposr]-[A-Za-z0-9-]+`,
  String.raw`bearer\s+[A-Za-z0-9._~+/=-]+`,
  String.raw`\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)\b["']?\s*[=:]\s*("[^"]*"|'[^']*'|\S+)`,
  String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`,
  String.raw`aws_secret_access_key\s*[=:]\s*\S+`,
];

/** Compiles redaction patterns (global, case-insensitive); throws a SyntaxError naming a bad one. */
export function compileRedactions(patterns: readonly string[]): RegExp[] {
  return patterns.map((p) => {
    try {
      return new RegExp(p, 'gi');
    } catch (err) {
      throw new SyntaxError(`invalid log redaction pattern ${JSON.stringify(p)}: ${(err as Error).message}`);
    }
  });
}

/** `text` with every match of every pattern replaced by REDACTED. */
export function redact(text: string, patterns: readonly RegExp[]): string {
  let out = text;
  for (const re of patterns) out = out.replace(re, REDACTED);
  return out;
}

/**
 * The container to read: in the first new Pod (by name) that is not being deleted, the first
 * (init containers first) container that is not ready and whose previous run ended. Null when
 * no container has crashed yet (an image that never pulled has no log).
 */
export function crashLogTarget(pods: readonly PodFacts[]): CrashLogTarget | null {
  const sorted = [...pods].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const pod of sorted) {
    if (pod.deleting) continue;
    const c = pod.containers.find((c) => !c.ready && c.restartCount > 0 && c.lastTerminated !== undefined);
    if (c !== undefined) return { namespace: pod.namespace, pod: pod.name, container: c.name };
  }
  return null;
}

/**
 * The last `maxLines` lines of `raw`, each redacted and cut to CRASH_LOG_LINE_CHARS, the whole
 * within CRASH_LOG_CHARS (the oldest lines are dropped first). Redaction runs before cutting,
 * so a cut never leaves half a secret that no pattern matches.
 */
export function crashLogFrom(target: Pick<CrashLogTarget, 'pod' | 'container'>, raw: string, maxLines: number, patterns: readonly RegExp[]): CrashLog {
  const all = raw.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
  if (all.length === 1 && all[0] === '') all.pop();
  let truncated = all.length > maxLines;
  const lines: string[] = [];
  let used = 0;
  for (const rawLine of all.slice(-Math.max(0, maxLines)).reverse()) {
    let line = redact(rawLine, patterns);
    const chars = [...line];
    if (chars.length > CRASH_LOG_LINE_CHARS) {
      line = `${chars.slice(0, CRASH_LOG_LINE_CHARS).join('')}… (${chars.length - CRASH_LOG_LINE_CHARS} more characters)`;
      truncated = true;
    }
    if (used + line.length + 1 > CRASH_LOG_CHARS) {
      truncated = true;
      break;
    }
    used += line.length + 1;
    lines.unshift(line);
  }
  return { pod: target.pod, container: target.container, lines, truncated, unavailable: null };
}

/** A log that could not be read, with the reason in a few words. */
export function unavailableCrashLog(target: Pick<CrashLogTarget, 'pod' | 'container'>, reason: string): CrashLog {
  return { pod: target.pod, container: target.container, lines: [], truncated: false, unavailable: reason };
}
