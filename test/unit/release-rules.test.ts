/**
 * The rules of one message per release (issue 13, src/machines/release.ts and
 * releaseMessage.ts), one small scenario each: the group key, the window, who may join, a
 * row's state and reason, the worst colour, the group's phase, `alert: failure`, and the
 * rendering within Slack's limits, escaped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PHASE_COLOURS, SLACK_LIMITS, type Block } from '../../src/machines/message.js';
import type { RolloutPhase } from '../../src/machines/notification.js';
import {
  MAX_RELEASE_ROWS,
  awaitsBake,
  canJoin,
  isNewDegradation,
  isParentVisible,
  isReleaseDone,
  newGroup,
  releaseInfoOf,
  releaseKey,
  releasePhase,
  rowOf,
  rowReason,
  visibleRows,
  withBake,
  withRow,
  worstPhase,
  type ReleaseGroup,
  type ReleaseInfo,
  type ReleaseRow,
} from '../../src/machines/release.js';
import { MAX_DETAILS_REPLIES, detailsLine, releaseCounts, releaseTitle, renderDetails, renderRelease, rowLine } from '../../src/machines/releaseMessage.js';
import { SHA, STARTED, view } from '../support/rolloutViews.js';

const WINDOW = 30_000;
const REPO = 'https://github.com/my-org/shop';

function row(id: string, phase: RolloutPhase, over: Partial<ReleaseRow> = {}): ReleaseRow {
  return { rolloutId: id, namespace: 'shop', kind: 'Deployment', workload: id, revision: 2, phase, reason: null, alert: 'all', failedOnce: phase === 'failing' || phase === 'failed', mentions: [], ...over };
}

function info(id: string, startedAt = STARTED, over: Partial<ReleaseInfo> = {}): ReleaseInfo {
  return { sha: SHA, repo: REPO, cluster: 'prod', startedAt, row: row(id, 'progressing'), ...over };
}

function group(rows: ReleaseRow[], over: Partial<ReleaseGroup> = {}): ReleaseGroup {
  return { ...newGroup(info(rows[0]?.rolloutId ?? 'a')), rows, ...over };
}

const texts = (blocks: Block[]): string[] => blocks.flatMap((b) => (b.type === 'section' ? [b.text?.text ?? ''] : b.elements.map((e) => e.text)));

describe('release: the group key', () => {
  it('is the commit SHA trimmed and lower-cased; none without a SHA', () => {
    assert.equal(releaseKey(' ABCdef1 '), 'abcdef1');
    assert.equal(releaseKey(''), null);
    assert.equal(releaseKey('   '), null);
    assert.equal(releaseKey(undefined), null);
  });

  it('a rollout without a commit SHA has no release', () => {
    assert.equal(releaseInfoOf(view({ git: {} }), 'all', 'prod'), null);
    assert.equal(releaseInfoOf(view({ git: { sha: ' ' } }), 'all', 'prod'), null);
    const r = releaseInfoOf(view({ git: { sha: SHA, repo: REPO } }), 'failure', 'prod');
    assert.equal(r?.sha, SHA);
    assert.equal(r?.repo, REPO);
    assert.equal(r?.startedAt, STARTED);
    assert.equal(r?.row.alert, 'failure');
  });
});

describe('release: who may join', () => {
  const g = newGroup(info('a'));

  it('the same commit within the window, counted from the first start, either side', () => {
    assert.equal(canJoin(g, info('b', STARTED + WINDOW), WINDOW), true);
    assert.equal(canJoin(g, info('b', STARTED - WINDOW), WINDOW), true);
    assert.equal(canJoin(g, info('b', STARTED + WINDOW + 1), WINDOW), false);
  });

  it('a window of 0 turns grouping off', () => {
    assert.equal(canJoin(g, info('b', STARTED), 0), false);
  });

  it('another commit does not join; the same commit in other letters does', () => {
    assert.equal(canJoin(g, info('b', STARTED, { sha: 'fedcba9876543210' }), WINDOW), false);
    assert.equal(canJoin(g, info('b', STARTED, { sha: SHA.toUpperCase() }), WINDOW), true);
  });

  it('a member does not join twice, and a full group takes no more', () => {
    assert.equal(canJoin(g, info('a'), WINDOW), false);
    const full = group(Array.from({ length: MAX_RELEASE_ROWS }, (_, i) => row(`r${i}`, 'progressing')));
    assert.equal(canJoin(full, info('late'), WINDOW), false);
  });
});

describe('release: rows', () => {
  it('a failing row says why in a few words: the first problem and its exit code', () => {
    const v = view({ phase: 'failing', diagnosis: { pods: 1, stuckPods: 1, problems: [{ source: 'container', reason: 'CrashLoopBackOff', container: 'api', exitCode: 1, count: 1 }] } });
    assert.equal(rowReason(v), 'CrashLoopBackOff (exit code 1)');
  });

  it('a failed row without pod errors names the deadline; a healthy row has no reason', () => {
    assert.equal(rowReason(view({ phase: 'failed' })), 'progress deadline exceeded');
    assert.equal(rowReason(view({ phase: 'failing' })), null);
    assert.equal(rowReason(view({ phase: 'succeeded' })), null);
  });

  it('the reason is cut to a few words', () => {
    const v = view({ phase: 'failing', diagnosis: { pods: 1, stuckPods: 1, problems: [{ source: 'container', reason: 'X'.repeat(500), count: 1 }] } });
    assert.ok((rowReason(v) ?? '').length <= 80);
  });

  it('failedOnce stays set after a recovery (alert: failure keeps the row)', () => {
    let g = newGroup(info('a'));
    g = withRow(g, rowOf(view({ rolloutId: 'a', phase: 'failing' }), 'failure'));
    g = withRow(g, rowOf(view({ rolloutId: 'a', phase: 'succeeded' }), 'failure'));
    assert.equal(g.rows.length, 1);
    assert.equal(g.rows[0]?.phase, 'succeeded');
    assert.equal(g.rows[0]?.failedOnce, true);
  });

  it('only mention tokens Hermod makes are kept', () => {
    const r = rowOf(view({ mentions: ['<@U012AB3CD>', '<!everyone>', '@alice'] }), 'all');
    assert.deepEqual(r.mentions, ['<@U012AB3CD>']);
  });
});

describe('release: the worst row and the phase', () => {
  it('the worst row decides the colour: failed over failing over rolling over ended over done', () => {
    assert.equal(worstPhase([row('a', 'succeeded'), row('b', 'progressing')]), 'progressing');
    assert.equal(worstPhase([row('a', 'progressing'), row('b', 'failing')]), 'failing');
    assert.equal(worstPhase([row('a', 'failing'), row('b', 'failed')]), 'failed');
    assert.equal(worstPhase([row('a', 'succeeded'), row('b', 'superseded')]), 'superseded');
    assert.equal(worstPhase([row('a', 'succeeded')]), 'succeeded');
  });

  it('the group is final only once every row is', () => {
    assert.equal(isReleaseDone([row('a', 'succeeded'), row('b', 'progressing')]), false);
    assert.equal(releasePhase([row('a', 'succeeded'), row('b', 'progressing')]), 'progressing');
    assert.equal(releasePhase([row('a', 'failed'), row('b', 'progressing')]), 'failing');
    assert.equal(releasePhase([row('a', 'failed'), row('b', 'succeeded')]), 'failed');
    assert.equal(releasePhase([row('a', 'succeeded'), row('b', 'deleted')]), 'succeeded');
    assert.equal(releasePhase([row('a', 'deleted'), row('b', 'superseded')]), 'deleted');
  });
});

describe('release: alert: failure', () => {
  it('shows only rows that fail or failed; the parent only once something does', () => {
    const quiet = group([row('a', 'progressing', { alert: 'failure' }), row('b', 'succeeded', { alert: 'failure' })]);
    assert.equal(isParentVisible(quiet), false);
    const one = group([row('a', 'progressing', { alert: 'failure' }), row('b', 'failing', { alert: 'failure' })]);
    assert.equal(isParentVisible(one), true);
    assert.deepEqual(visibleRows(one.rows).map((r) => r.rolloutId), ['b']);
  });

  it('rows with alert all are always shown', () => {
    const mixed = group([row('a', 'succeeded'), row('b', 'succeeded', { alert: 'failure' })]);
    assert.deepEqual(visibleRows(mixed.rows).map((r) => r.rolloutId), ['a']);
  });
});

describe('releaseMessage', () => {
  it('the title: the short commit linked, the repository linked, the cluster, the counts', () => {
    const title = releaseTitle(group([row('a', 'succeeded'), row('b', 'progressing'), row('c', 'failing')]));
    assert.ok(title.includes(`<${REPO}/commit/${SHA}|${SHA.slice(0, 7)}>`), title);
    assert.ok(title.includes(`<${REPO}|my-org/shop>`), title);
    assert.ok(title.includes('on `prod`'), title);
    assert.ok(title.endsWith('1 of 3 done, 1 rolling, 1 failing'), title);
  });

  it('a repository that is not an http(s) URL is not linked, and a value that is not a SHA is shown as code', () => {
    const title = releaseTitle(group([row('a', 'succeeded')], { repo: 'javascript:alert(1)', sha: 'v1.2<!channel>' }));
    assert.ok(!title.includes('<javascript'), title);
    assert.ok(!title.includes('<!channel>'), title);
    assert.ok(title.includes('&lt;!channel&gt;'), title);
  });

  it('counts every kind of row', () => {
    assert.equal(releaseCounts([row('a', 'succeeded'), row('b', 'failed'), row('c', 'superseded'), row('d', 'paused')]), '1 of 4 done, 1 rolling, 1 failed, 1 ended without a verdict');
  });

  it('a row: the workload, its namespace, its state and the reason of a failure, escaped', () => {
    assert.equal(rowLine(row('web', 'succeeded')), ':white_check_mark: Deployment `web` in `shop`: done');
    assert.equal(rowLine(row('web', 'progressing')), ':hourglass_flowing_sand: Deployment `web` in `shop`: rolling');
    assert.equal(rowLine(row('web', 'failing', { reason: 'CrashLoopBackOff (exit code 1)' })), ':warning: Deployment `web` in `shop`: failing: `CrashLoopBackOff (exit code 1)`');
    assert.ok(rowLine(row('<!here>', 'failed', { reason: '<!channel>' })).includes('&lt;!channel&gt;'));
  });

  it('the colour is the worst shown row; the text is the title with the owners of failing rows', () => {
    const m = renderRelease(group([row('a', 'succeeded'), row('b', 'failing', { mentions: ['<@U012AB3CD>'] }), row('c', 'progressing', { mentions: ['<@U0OTHER1>'] })]));
    assert.equal(m.attachments[0]?.color, PHASE_COLOURS.failing);
    assert.equal(m.text.split('\n')[1], '<@U012AB3CD>');
    assert.equal(m.attachments[0]?.fallback, m.text.split('\n')[0]);
  });

  it('with alert: failure the hidden rows are counted, not listed', () => {
    const m = renderRelease(group([row('a', 'succeeded', { alert: 'failure' }), row('b', 'failing', { alert: 'failure' })]));
    const all = texts(m.attachments[0]!.blocks).join('\n');
    assert.ok(!all.includes('`a`'), all);
    assert.ok(all.includes('`b`'), all);
    assert.ok(all.includes('1 not shown'), all);
    assert.equal(m.attachments[0]?.color, PHASE_COLOURS.failing);
  });

  it('fifty rows of long names stay within Slack limits, the rest counted', () => {
    const rows = Array.from({ length: MAX_RELEASE_ROWS }, (_, i) => row(`${'w'.repeat(240)}${i}`, 'failing', { namespace: 'n'.repeat(63), reason: 'r'.repeat(80) }));
    const m = renderRelease(group(rows));
    const blocks = m.attachments[0]!.blocks;
    assert.ok(blocks.length <= SLACK_LIMITS.blocks);
    const total = texts(blocks).reduce((n, t) => n + t.length, 0);
    assert.ok(total <= SLACK_LIMITS.blocksText, `${total}`);
    for (const t of texts(blocks)) assert.ok(t.length <= SLACK_LIMITS.sectionText);
    assert.match(texts(blocks).join('\n'), /… and \d+ more workloads/);
  });

  it('a details line: kind, name, namespace, state, revision, how long it took, what changed, escaped', () => {
    const r = rowOf(view({ rolloutId: 'a', deployment: 'api<x>', phase: 'succeeded', endedAt: STARTED + 72_000, changes: { images: [{ container: 'app', init: false, from: 'shop/api:1.2', to: 'shop/api:1.3' }], fields: [], moreFields: 0, changeCause: '<!here> deploy', backTo: null } }), 'all');
    const line = detailsLine(r);
    assert.match(line, /Deployment `api&lt;x&gt;` in `[^`]+`: done · revision \d+ · took 1m 12s · `app` `1.2` → `1.3` · change-cause `&lt;!here&gt; deploy`/);
    assert.ok(!line.includes('<!here>'));
  });

  it('the details reply lists every given row, one message while it fits', () => {
    const rows = ['a', 'b', 'c'].map((id) => row(id, 'succeeded', { tookMs: 60_000 }));
    const parts = renderDetails(group(rows), rows);
    assert.equal(parts.length, 1);
    assert.equal(parts[0]?.rows, 3);
    const all = texts(parts[0]!.message.attachments[0]!.blocks).join('\n');
    for (const id of ['a', 'b', 'c']) assert.ok(all.includes(`\`${id}\` in \`shop\`: done · revision 2 · took 1m`), all);
    assert.match(parts[0]!.message.text, /Details of 3 workloads/);
  });

  it('a very long details reply is split into a few messages within Slack limits, the rest counted', () => {
    const rows = Array.from({ length: MAX_RELEASE_ROWS }, (_, i) => row(`${'w'.repeat(240)}${i}`, 'succeeded', { namespace: 'n'.repeat(63), changes: 'c'.repeat(1400), tookMs: 1000 }));
    const parts = renderDetails(group(rows), rows);
    assert.ok(parts.length > 1 && parts.length <= MAX_DETAILS_REPLIES, `${parts.length}`);
    assert.equal(parts.reduce((n, p) => n + p.rows, 0), rows.length, 'every row is in a message or counted');
    for (const p of parts) {
      const blocks = p.message.attachments[0]!.blocks;
      assert.ok(blocks.length <= SLACK_LIMITS.blocks);
      assert.ok(texts(blocks).reduce((n, t) => n + t.length, 0) <= SLACK_LIMITS.blocksText);
      for (const t of texts(blocks)) assert.ok(t.length <= SLACK_LIMITS.sectionText);
    }
    assert.match(texts(parts.at(-1)!.message.attachments[0]!.blocks).join('\n'), /… and \d+ more workloads/);
  });
});

describe('a release after its members succeed: the bake (issue 13)', () => {
  it('withBake keeps the latest bake of its members', () => {
    const g = withBake(withBake(group([row('a', 'succeeded')]), 500), 300);
    assert.equal(g.bakeUntil, 500);
    assert.equal(withBake(g, 700).bakeUntil, 700);
  });
  it('withBake without a bake leaves the group as it is', () => {
    const g = group([row('a', 'succeeded')]);
    assert.equal(withBake(g, undefined), g);
  });
  it('awaitsBake: until the latest bake is over, with the slack', () => {
    const g = group([row('a', 'succeeded')], { bakeUntil: 1_000 });
    assert.equal(awaitsBake(g, 1_000 + 59_999, 60_000), true);
    assert.equal(awaitsBake(g, 1_000 + 60_000, 60_000), false);
  });
  it('awaitsBake: never without a bake', () => assert.equal(awaitsBake(group([row('a', 'succeeded')]), 0, 60_000), false));
  it('isNewDegradation: a row turning degraded is news', () => assert.equal(isNewDegradation(row('a', 'succeeded'), 'degraded'), true));
  it('isNewDegradation: a repeat of the degraded verdict is not', () => assert.equal(isNewDegradation(row('a', 'degraded'), 'degraded'), false));
  it('isNewDegradation: any other verdict is not (a late duplicate must not re-open the parent)', () =>
    assert.equal(isNewDegradation(row('a', 'succeeded'), 'succeeded'), false));
});
