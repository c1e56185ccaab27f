/**
 * The rules of src/machines/messageThread.ts one small scenario each (issue 15): the crash
 * log's section, the room a problem's message gets in a section, the thread's intro, and how
 * the thread's text budget is shared between the crash log and the problems.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Block } from '../../src/machines/messageBlocks.js';
import { crashLogText, problemBlocks, problemSummary, threadReply } from '../../src/machines/messageThread.js';
import { truncationMarker } from '../../src/machines/mrkdwn.js';
import type { CrashLog, ProblemGroup } from '../../src/machines/notification.js';
import { view } from '../support/rolloutViews.js';

const log = (lines: string[], truncated = false): CrashLog => ({ pod: 'api-x', container: 'api', lines, truncated, unavailable: null });
const problem = (over: Partial<ProblemGroup> = {}): ProblemGroup => ({ source: 'container', reason: 'CrashLoopBackOff', container: 'api', exitCode: 1, count: 1, ...over });

function text(block: Block | undefined): string {
  assert.ok(block !== undefined);
  return block.type === 'section' ? (block.text?.text ?? '') : block.elements.map((e) => e.text).join('\n');
}

/** The thread's blocks' text, in characters. */
function blocksLength(blocks: readonly Block[]): number {
  return blocks.reduce((n, b) => n + text(b).length, 0);
}

describe('messageThread rules: the crash log section', () => {
  it('a previous run that printed nothing says so', () => {
    assert.equal(crashLogText(log([])), 'The previous run of container `api` in pod `api-x` printed nothing.');
  });

  it('one line is "line", two are "lines", each on its own line in the code block', () => {
    assert.equal(crashLogText(log(['boom'])), 'Last 1 line of the previous (crashed) run of container `api` in pod `api-x`:\n```boom```');
    assert.equal(crashLogText(log(['one', 'two'])), 'Last 2 lines of the previous (crashed) run of container `api` in pod `api-x`:\n```one\ntwo```');
  });

  it('a log cut at its source says "(cut)" in its head', () => {
    assert.equal(crashLogText(log(['boom'], true)), 'Last 1 line of the previous (crashed) run of container `api` in pod `api-x` (cut):\n```boom```');
  });

  it('a log longer than the section keeps what fits beside its head and counts the rest', () => {
    const head = 'Last 1 line of the previous (crashed) run of container `api` in pod `api-x`:';
    const room = 3000 - head.length - 80;
    const s = crashLogText(log(['x'.repeat(5000)]));
    assert.equal(s, `${head}\n\`\`\`${'x'.repeat(room)}\`\`\`\n_${truncationMarker(5000 - room)}_`);
  });
});

describe('messageThread rules: a problem section', () => {
  it('a long message in the thread keeps what fits beside the summary, and counts the rest', () => {
    const p = problem({ message: 'y'.repeat(5000) });
    const head = problemSummary(p);
    const room = 3000 - head.length - 80;
    const reply = threadReply(view({ phase: 'failed' }), [p], true, null);
    assert.equal(text(reply.blocks?.[1]), `${head}\n\`\`\`${'y'.repeat(room)}\`\`\`\n_${truncationMarker(5000 - room)}_`);
  });

  it('a message whose shown part is blank gets no empty code block', () => {
    const p = problem({ message: `${' '.repeat(600)}x` });
    const [block] = problemBlocks([p], true);
    assert.equal(text(block), `${problemSummary(p)}\n_${truncationMarker(101)}_`);
  });
});

describe('messageThread rules: the thread reply', () => {
  it('without problems the intro ends with a full stop, and only the crash log follows', () => {
    const reply = threadReply(view({ phase: 'failed' }), [problem({ message: 'boom' })], false, log(['boom']));
    assert.equal(reply.text, 'Failure details for Deployment `api` (revision 7) in `payments`.');
    assert.equal(reply.blocks?.length, 2);
    assert.equal(text(reply.blocks?.[1]), crashLogText(log(['boom'])));
  });

  it('the crash log and the problems together stay within the thread\'s text budget', () => {
    const problems = Array.from({ length: 10 }, (_, i) => problem({ container: `c${i}`, message: 'z'.repeat(3000) }));
    const reply = threadReply(view({ phase: 'failed' }), problems, true, log(['w'.repeat(5000)]));
    assert.equal(reply.blocks?.length, 12, 'intro, crash log, ten problems');
    assert.ok(blocksLength(reply.blocks ?? []) <= 10_000, String(blocksLength(reply.blocks ?? [])));
  });

  /** Ten problems whose summaries nearly fill their share of the budget left by a long crash log. */
  const crowded = (message: string | undefined): ProblemGroup[] =>
    Array.from({ length: 10 }, (_, i) =>
      problem({ reason: `R${i}${'r'.repeat(110)}`, container: `c${i}${'n'.repeat(290)}`, lastTerminationReason: `L${'l'.repeat(110)}`, ...(message === undefined ? {} : { message }) }),
    );

  it('a problem with a message and under 100 characters of room is left to the count', () => {
    const reply = threadReply(view({ phase: 'failed' }), crowded('boom'), true, log(['w'.repeat(5000)]));
    assert.equal(reply.blocks?.length, 3, 'intro, crash log, the count');
    assert.equal(text(reply.blocks?.[2]), '… and 10 more problems');
  });

  it('a problem without a message is shown however little room is left', () => {
    const reply = threadReply(view({ phase: 'failed' }), crowded(undefined), true, log(['w'.repeat(5000)]));
    assert.equal(reply.blocks?.length, 12, 'intro, crash log, ten problems');
  });

  it('a problem with exactly 100 characters of room is shown', () => {
    const crash = log(['w'.repeat(5000)]);
    const intro = threadReply(view({ phase: 'failed' }), [], true, crash).text.replace(': 0 problems.', ': 10 problems.');
    const share = Math.floor((10_000 - intro.length - crashLogText(crash).length) / 10);
    const base = { reason: `R${'r'.repeat(110)}`, lastTerminationReason: `L${'l'.repeat(110)}`, message: 'boom' };
    const n = Array.from({ length: 300 }, (_, i) => i + 1).find((len) => problemSummary(problem({ ...base, container: 'c'.repeat(len) })).length === share - 100 - 80);
    assert.ok(n !== undefined, `a container name that leaves 100 characters (share ${share})`);
    const p = problem({ ...base, container: 'c'.repeat(n) });
    const reply = threadReply(view({ phase: 'failed' }), Array.from({ length: 10 }, () => p), true, crash);
    assert.ok(text(reply.blocks?.[2]).startsWith(problemSummary(p)), text(reply.blocks?.[2]).slice(0, 40));
  });
});
