/**
 * A Diagnosis's problem groups read as one plain line each, e.g.
 * `2/3 pods: CrashLoopBackOff (container app), exit code 137 (OOMKilled)`: a compact way for the
 * diagnosis tests to state what the grouping found. (Messages render problems themselves, in
 * src/machines/messageThread.ts.)
 */
import type { ProblemGroup } from '../../src/machines/notification.js';

/** Collapses whitespace (termination messages may hold stack traces) into one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** One line for a problem group; `totalPods` (the Diagnosis's `pods`) turns "2 pods" into "2/3 pods". */
export function summariseProblem(p: ProblemGroup, totalPods?: number): string {
  const message = p.message !== undefined && oneLine(p.message) !== '' ? `: ${oneLine(p.message)}` : '';
  switch (p.source) {
    case 'replicaSet':
      return `ReplicaSet ${p.reason}${message}`;
    case 'event':
      return `${p.reason} (${p.count} ${p.count === 1 ? 'event' : 'events'})${message}`;
    case 'podCondition':
      return `${podCount(p.count, totalPods)}: ${p.reason}${message}`;
    case 'container':
    case 'initContainer': {
      const where = p.container !== undefined ? ` (${p.source === 'initContainer' ? 'init container' : 'container'} ${p.container})` : '';
      return `${podCount(p.count, totalPods)}: ${p.reason}${where}${exitDetail(p)}${message}`;
    }
  }
}

function podCount(count: number, total: number | undefined): string {
  if (total !== undefined && total > 0) return `${count}/${total} ${total === 1 ? 'pod' : 'pods'}`;
  return `${count} ${count === 1 ? 'pod' : 'pods'}`;
}

/** ", exit code 137 (OOMKilled)": the generic "Error" reason adds nothing to an exit code. */
function exitDetail(p: ProblemGroup): string {
  const last = p.lastTerminationReason;
  const showLast = last !== undefined && last !== 'Error' && last !== p.reason;
  if (p.exitCode !== undefined) return `, exit code ${p.exitCode}${showLast ? ` (${last})` : ''}`;
  return showLast ? `, last terminated: ${last}` : '';
}
