/**
 * The rendering rules of src/machines/releaseMessage.ts (issue 13, measured under mutation in
 * issue 15), one small scenario each: each row state's words, the counts, the title's commit,
 * repository and cluster, how rows fill sections and the rows' budget (at the boundaries), the
 * owners pinged, the context line, a details line, and how the details reply is split.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Block } from '../../src/machines/message.js';
import type { RolloutPhase } from '../../src/machines/notification.js';
import { newGroup, type ReleaseGroup, type ReleaseRow } from '../../src/machines/release.js';
import { detailsLine, releaseCounts, releaseTitle, renderDetails, renderRelease, rowLine, rowState } from '../../src/machines/releaseMessage.js';
import { SHA, STARTED } from '../support/rolloutViews.js';

function row(id: string, phase: RolloutPhase, over: Partial<ReleaseRow> = {}): ReleaseRow {
  return { rolloutId: id, namespace: 'shop', kind: 'Deployment', workload: id, revision: 2, phase, reason: null, alert: 'all', failedOnce: false, mentions: [], ...over };
}

function group(rows: ReleaseRow[], over: Partial<ReleaseGroup> = {}): ReleaseGroup {
  const first = rows[0] ?? row('a', 'progressing');
  return { ...newGroup({ sha: SHA, repo: null, cluster: null, startedAt: STARTED, row: first }), rows, ...over };
}

const texts = (blocks: Block[]): string[] => blocks.flatMap((b) => (b.type === 'section' ? [b.text?.text ?? ''] : b.elements.map((e) => e.text)));
const blocksOf = (m: { attachments: Array<{ blocks: Block[] }> }): Block[] => m.attachments[0]!.blocks;

/** A succeeded row whose row line is exactly `length` characters (the workload's name makes it up). */
function rowOfLength(i: number, length: number): ReleaseRow {
  const base = rowLine(row('', 'succeeded', { workload: 'w' })).length - 1;
  const r = row(`r${i}`, 'succeeded', { workload: `${String(i).padStart(3, '0')}${'w'.repeat(length - base - 3)}` });
  assert.equal(rowLine(r).length, length);
  return r;
}

/** A succeeded row whose details line is exactly `length` characters (its "what changed" makes it up). */
function detailsOfLength(i: number, length: number): ReleaseRow {
  const probe = row(`r${i}`, 'succeeded', { workload: `w${String(i).padStart(3, '0')}`, changes: 'c' });
  const r = { ...probe, changes: 'c'.repeat(length - detailsLine(probe).length + 1) };
  assert.equal(detailsLine(r).length, length);
  return r;
}

describe('rowState: the words of each state', () => {
  const cases: Array<[RolloutPhase, string]> = [
    ['paused', 'paused'],
    ['superseded', 'superseded'],
    ['deleted', 'deleted'],
    ['untracked', 'no longer tracked'],
    ['unfollowable', 'cannot be followed (OnDelete)'],
    ['failed', 'failed'],
  ];
  for (const [phase, words] of cases) it(`${phase}: "${words}"`, () => assert.equal(rowState(row('a', phase)), words));
  it('degraded: "succeeded, then degraded" and why', () => assert.equal(rowState(row('a', 'degraded', { reason: 'OOMKilled' })), 'succeeded, then degraded: `OOMKilled`'));
});

describe('releaseCounts', () => {
  it('degraded rows are counted as such', () => assert.equal(releaseCounts([row('a', 'succeeded'), row('b', 'degraded')]), '1 of 2 done, 1 degraded'));
  it('deleted, untracked and unfollowable rows ended without a verdict', () =>
    assert.equal(releaseCounts([row('a', 'deleted'), row('b', 'untracked'), row('c', 'unfollowable')]), '0 of 3 done, 3 ended without a verdict'));
});

describe('releaseTitle', () => {
  const title = (over: Partial<ReleaseGroup>) => releaseTitle(group([row('a', 'succeeded')], over));
  it('no repository and no cluster: the short commit as code and the counts, nothing else', () => assert.equal(title({}), ':package: Release `0123456`: 1 of 1 done'));
  it('the commit is trimmed before it is recognised', () => assert.equal(title({ sha: ` ${SHA} ` }), ':package: Release `0123456`: 1 of 1 done'));
  it('a repository that cannot be linked is named as code', () => assert.equal(title({ repo: 'git@github.com:o/a.git' }), ':package: Release `0123456` of `git@github.com:o/a.git`: 1 of 1 done'));
  it("the repository's trailing slashes, `.git` and blanks go before it is linked", () =>
    assert.equal(title({ repo: ' https://github.com/o/a.git// ' }), `:package: Release <https://github.com/o/a/commit/${SHA}|0123456> of <https://github.com/o/a|o/a>: 1 of 1 done`));
  it('`.git` inside a name stays', () => assert.match(title({ repo: 'https://example.com/o/my.github.io' }), /\|o\/my\.github\.io>/));
  it('the label is the last two path segments', () => assert.match(title({ repo: 'https://gitlab.com/group/sub/app' }), /<https:\/\/gitlab\.com\/group\/sub\/app\|sub\/app>/));
  it('a repository one segment deep is labelled by that segment', () => assert.match(title({ repo: 'https://git.example.com/app' }), /\|app>/));
  it('a repository without a path is labelled by its host', () => assert.match(title({ repo: 'https://git.example.com' }), /<https:\/\/git\.example\.com\|git\.example\.com>/));
  it('a value that only ends like a SHA is not one: shown whole, not linked', () => {
    const t = title({ sha: 'release-0123456', repo: 'https://github.com/o/a' });
    assert.ok(t.startsWith(':package: Release `release-0123456` of <https://github.com/o/a|o/a>'), t);
  });
  it('a value that only starts like a SHA is not one', () => assert.ok(title({ sha: '0123456-rc1' }).startsWith(':package: Release `0123456-rc1`:')));
});

describe('the rows of the parent', () => {
  it('a section holds rows up to exactly 3,000 characters, newlines included', () => {
    const rows = [...Array.from({ length: 12 }, (_, i) => rowOfLength(i, 240)), rowOfLength(12, 108), rowOfLength(13, 100)];
    const blocks = blocksOf(renderRelease(group(rows)));
    assert.deepEqual(blocks.map((b) => b.type), ['section', 'section', 'context']);
    const [first, second] = texts(blocks);
    assert.equal(first!.length, 3000);
    assert.equal(first!.split('\n').length, 13);
    assert.equal(second, rowLine(rows[13]!));
  });
  it('the rows take up to 9,000 characters, a newline each; one more is counted', () => {
    const rows = [...Array.from({ length: 37 }, (_, i) => rowOfLength(i, 240)), rowOfLength(37, 82), rowOfLength(38, 60)];
    const all = texts(blocksOf(renderRelease(group(rows))));
    const listed = all.slice(0, -2).join('\n').split('\n');
    assert.equal(listed.length, 38);
    assert.equal(listed.at(-1), rowLine(rows[37]!));
    assert.equal(all.at(-2), '… and 1 more workload');
  });
  it('a row that would make 3,001 characters starts the next section', () => {
    const rows = [...Array.from({ length: 12 }, (_, i) => rowOfLength(i, 240)), rowOfLength(12, 109)];
    assert.deepEqual(texts(blocksOf(renderRelease(group(rows)))).slice(0, -1).map((t) => t.split('\n').length), [12, 1]);
  });
  it('a row that would make 9,001 characters is counted, not shown', () => {
    const rows = [...Array.from({ length: 37 }, (_, i) => rowOfLength(i, 240)), rowOfLength(37, 83)];
    assert.equal(texts(blocksOf(renderRelease(group(rows)))).at(-2), '… and 1 more workload');
  });
  it('two more are "2 more workloads"', () => {
    const rows = [...Array.from({ length: 37 }, (_, i) => rowOfLength(i, 240)), rowOfLength(37, 82), rowOfLength(38, 60), rowOfLength(39, 60)];
    assert.equal(texts(blocksOf(renderRelease(group(rows)))).at(-2), '… and 2 more workloads');
  });
  it('no row shown (alert: failure, nothing failing): only the context line', () => {
    const blocks = blocksOf(renderRelease(group([row('a', 'succeeded', { alert: 'failure' }), row('b', 'progressing', { alert: 'failure' })])));
    assert.deepEqual(blocks.map((b) => b.type), ['context']);
  });
  it('the context line: how many workloads, where the details are; nothing about hidden rows when none is', () =>
    assert.deepEqual(texts(blocksOf(renderRelease(group([row('a', 'succeeded'), row('b', 'succeeded')])))), [
      ':white_check_mark: Deployment `a` in `shop`: done\n:white_check_mark: Deployment `b` in `shop`: done',
      "2 workloads of one commit · each workload's details are in the thread",
    ]));
});

describe('the owners pinged under the title', () => {
  it('owners of failed rows too, each once, separated by a space; values that are not mentions are left out', () => {
    const m = renderRelease(group([row('a', 'failed', { mentions: ['<@U0FAILED9>', 'bob'] }), row('b', 'failing', { mentions: ['<@U012AB3CD>', '<@U0FAILED9>', '<!subteam^S0123ABCD>'] })]));
    assert.equal(m.text.split('\n')[1], '<@U0FAILED9> <@U012AB3CD> <!subteam^S0123ABCD>');
  });
  it('nobody to ping: the text is the title alone', () => {
    const g = group([row('a', 'succeeded', { mentions: ['<@U012AB3CD>'] })]);
    assert.equal(renderRelease(g).text, releaseTitle(g));
  });
});

describe('detailsLine', () => {
  it('without a duration or changes: the row and its revision', () => assert.equal(detailsLine(row('a', 'succeeded', { tookMs: null, changes: '' })), ':white_check_mark: Deployment `a` in `shop`: done · revision 2'));
  it('an adopted rollout took "at least" its duration', () => assert.match(detailsLine(row('a', 'succeeded', { tookMs: 60_000, adopted: true })), / · took at least 1m$/));
});

describe('renderDetails: how the reply is split', () => {
  it('one row: "Details of 1 workload of release" and the short commit, trimmed', () => {
    const rows = [row('a', 'succeeded')];
    const [part] = renderDetails(group(rows, { sha: ` ${SHA} ` }), rows);
    assert.equal(part?.message.text, 'Details of 1 workload of release `0123456`');
  });
  it('a value that is not a SHA is shown whole', () => {
    for (const sha of ['release-0123456', '0123456-rc1', 'abc', 'xyzxyzx']) {
      const rows = [row('a', 'succeeded')];
      assert.equal(renderDetails(group(rows, { sha }), rows)[0]?.message.text, `Details of 1 workload of release \`${sha}\``);
    }
  });
  it('a section holds details lines up to exactly 3,000 characters', () => {
    const rows = [detailsOfLength(0, 1499), detailsOfLength(1, 1500), detailsOfLength(2, 100)];
    const [part] = renderDetails(group(rows), rows);
    const sections = texts(blocksOf(part!.message));
    assert.deepEqual(sections.map((t) => t.length), [3000, 100]);
  });
  it('a message holds lines up to 9,000 characters, a newline each; the next line starts the next message, "(1 of 2)"', () => {
    const rows = [...Array.from({ length: 6 }, (_, i) => detailsOfLength(i, 1499)), detailsOfLength(6, 100)];
    const parts = renderDetails(group(rows), rows);
    assert.deepEqual(parts.map((p) => p.rows), [6, 1]);
    assert.deepEqual(parts.map((p) => p.message.text), ['Details of 7 workloads of release `0123456` (1 of 2)', 'Details of 7 workloads of release `0123456` (2 of 2)']);
    assert.deepEqual(texts(blocksOf(parts[1]!.message)), [detailsLine(rows[6]!)]);
  });
  it('a details line that would make 3,001 characters starts the next section', () => {
    const rows = [detailsOfLength(0, 1500), detailsOfLength(1, 1500)];
    assert.deepEqual(texts(blocksOf(renderDetails(group(rows), rows)[0]!.message)).map((t) => t.length), [1500, 1500]);
  });
  it('a details line that would make 9,001 characters, newlines counted, starts the next message', () => {
    const rows = [...Array.from({ length: 8 }, (_, i) => detailsOfLength(i, 1000)), detailsOfLength(8, 992)];
    assert.deepEqual(renderDetails(group(rows), rows).map((p) => p.rows), [8, 1]);
  });
  it('at most three messages: the rows after them are counted in the last, which stands for them', () => {
    const rows = [...Array.from({ length: 18 }, (_, i) => detailsOfLength(i, 1499)), detailsOfLength(18, 100), detailsOfLength(19, 100)];
    const parts = renderDetails(group(rows), rows);
    assert.deepEqual(parts.map((p) => p.rows), [6, 6, 8]);
    assert.equal(texts(blocksOf(parts[2]!.message)).at(-1), '… and 2 more workloads');
    assert.equal(texts(blocksOf(parts[0]!.message)).at(-1)?.startsWith('… and'), false);
  });
  it('one row past them: "1 more workload"', () => {
    const rows = [...Array.from({ length: 18 }, (_, i) => detailsOfLength(i, 1499)), detailsOfLength(18, 100)];
    const parts = renderDetails(group(rows), rows);
    assert.equal(texts(blocksOf(parts[2]!.message)).at(-1), '… and 1 more workload');
  });
  it('a reply that fits is one message without a part number or a count', () => {
    const rows = [detailsOfLength(0, 200), detailsOfLength(1, 200)];
    const parts = renderDetails(group(rows), rows);
    assert.equal(parts.length, 1);
    assert.equal(parts[0]?.message.text, 'Details of 2 workloads of release `0123456`');
    assert.deepEqual(texts(blocksOf(parts[0]!.message)), [`${detailsLine(rows[0]!)}\n${detailsLine(rows[1]!)}`]);
  });
  it('no rows: no message', () => assert.deepEqual(renderDetails(group([row('a', 'succeeded')]), []), []));
});
