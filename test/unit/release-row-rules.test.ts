/**
 * The row rules of src/machines/release.ts (issue 13, measured under mutation in issue 15), one
 * small scenario each: which phases get a reason and how it is cut, what a row keeps from its
 * previous self, how long it took, what a release's SHA and repository are, who may join, how
 * bad each phase is, the group's phase, and how a rollout finds its group.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProblemGroup, RolloutPhase, RolloutView } from '../../src/machines/notification.js';
import {
  canJoin,
  detailsIdOf,
  groupOf,
  isFailurePhase,
  newGroup,
  releaseInfoOf,
  releasePhase,
  rowOf,
  rowReason,
  withRow,
  worstPhase,
  type ReleaseInfo,
  type ReleaseRow,
} from '../../src/machines/release.js';
import { SHA, STARTED, view } from '../support/rolloutViews.js';

function row(id: string, phase: RolloutPhase, over: Partial<ReleaseRow> = {}): ReleaseRow {
  return { rolloutId: id, namespace: 'shop', kind: 'Deployment', workload: id, revision: 2, phase, reason: null, alert: 'all', failedOnce: false, mentions: [], ...over };
}

function info(id: string, over: Partial<ReleaseInfo> = {}): ReleaseInfo {
  return { sha: SHA, repo: null, cluster: 'prod', startedAt: STARTED, row: row(id, 'progressing'), ...over };
}

const crash: ProblemGroup = { source: 'container', reason: 'CrashLoopBackOff', container: 'api', exitCode: 1, count: 1 };
const withProblem = (phase: RolloutPhase, problem: ProblemGroup = crash): RolloutView => view({ phase, diagnosis: { pods: 1, stuckPods: 1, problems: [problem] } });
const phases = (...list: RolloutPhase[]): ReleaseRow[] => list.map((p, i) => row(`r${i}`, p));

describe('rowReason: which rows say why', () => {
  it('a degraded success says why, as a failure does', () => assert.equal(rowReason(withProblem('degraded')), 'CrashLoopBackOff (exit code 1)'));
  it('a success with problems left says nothing', () => assert.equal(rowReason(withProblem('succeeded')), null));
  it('a problem without an exit code is its reason alone', () =>
    assert.equal(rowReason(withProblem('failing', { source: 'container', reason: 'ImagePullBackOff', count: 1 })), 'ImagePullBackOff'));
  it('a reason of exactly 80 characters is kept whole', () => assert.equal(rowReason(withProblem('failing', { source: 'container', reason: 'R'.repeat(80), count: 1 })), 'R'.repeat(80)));
  it('a reason of 81 characters keeps 79 and an ellipsis', () =>
    assert.equal(rowReason(withProblem('failing', { source: 'container', reason: 'R'.repeat(81), count: 1 })), `${'R'.repeat(79)}…`));
});

describe('rowOf: what a row keeps and says', () => {
  it('a failed rollout has failed once', () => assert.equal(rowOf(view({ phase: 'failed' }), 'all').failedOnce, true));
  it('a degraded success has failed once', () => assert.equal(rowOf(view({ phase: 'degraded' }), 'all').failedOnce, true));
  it('a row that failed once stays so when it recovers', () => assert.equal(rowOf(view({ phase: 'progressing' }), 'all', row('r', 'failing', { failedOnce: true })).failedOnce, true));
  it('a final rollout took from its start to its end', () => assert.equal(rowOf(view({ phase: 'succeeded', endedAt: STARTED + 5_000 }), 'all').tookMs, 5_000));
  it('ending the moment it started took nothing', () => assert.equal(rowOf(view({ phase: 'succeeded', endedAt: STARTED }), 'all').tookMs, 0));
  it('an end before the start (clock skew) took unknown', () => assert.equal(rowOf(view({ phase: 'succeeded', endedAt: STARTED - 1 }), 'all').tookMs, null));
  it('a final rollout without an end took unknown', () => assert.equal(rowOf(view({ phase: 'succeeded', endedAt: null }), 'all').tookMs, null));
  it('a rollout still going has not taken anything yet', () => assert.equal(rowOf(view({ phase: 'progressing', endedAt: STARTED + 5_000 }), 'all').tookMs, null));
});

describe('releaseInfoOf: the SHA and repository as annotated', () => {
  it('the SHA is trimmed', () => assert.equal(releaseInfoOf(view({ git: { sha: ` ${SHA} ` } }), 'all', 'prod')?.sha, SHA));
  it('the repository is trimmed', () => assert.equal(releaseInfoOf(view({ git: { sha: SHA, repo: ' https://github.com/o/a ' } }), 'all', 'prod')?.repo, 'https://github.com/o/a'));
  it('no repository: null', () => assert.equal(releaseInfoOf(view({ git: { sha: SHA } }), 'all', 'prod')?.repo, null));
  it('a blank repository: null', () => assert.equal(releaseInfoOf(view({ git: { sha: SHA, repo: '  ' } }), 'all', 'prod')?.repo, null));
});

describe('canJoin and withRow', () => {
  it('a member of a group of two does not join again', () => {
    const g = withRow(newGroup(info('a')), row('b', 'progressing'));
    assert.equal(canJoin(g, info('a'), 30_000), false);
  });
  it('replacing a row leaves the group it came from as it was', () => {
    const g = newGroup(info('a'));
    withRow(g, row('a', 'failed'));
    assert.equal(g.rows[0]?.phase, 'progressing');
  });
});

describe('worstPhase: how bad each phase is', () => {
  for (const ended of ['deleted', 'untracked', 'unfollowable', 'superseded'] as const) {
    it(`${ended} is worse than a success`, () => assert.equal(worstPhase(phases('succeeded', ended)), ended));
    it(`${ended} is better than a rollout still going`, () => assert.equal(worstPhase(phases(ended, 'progressing')), 'progressing'));
  }
  it('paused is as bad as progressing: the first on a tie', () => assert.equal(worstPhase(phases('paused', 'progressing')), 'paused'));
  it('paused is worse than an end without a verdict', () => assert.equal(worstPhase(phases('deleted', 'paused')), 'paused'));
  it('degraded is as bad as failed: the first on a tie', () => {
    assert.equal(worstPhase(phases('succeeded', 'degraded')), 'degraded');
    assert.equal(worstPhase(phases('degraded', 'failed')), 'degraded');
  });
  it('ends without a verdict tie: the first', () => assert.equal(worstPhase(phases('deleted', 'untracked')), 'deleted'));
});

describe('releasePhase', () => {
  it('open, one failing: failing', () => assert.equal(releasePhase(phases('progressing', 'failing')), 'failing'));
  it('open, one degraded: failing', () => assert.equal(releasePhase(phases('progressing', 'degraded')), 'failing'));
  it('done, one degraded: failed', () => assert.equal(releasePhase(phases('succeeded', 'degraded')), 'failed'));
  it('done, an end without a verdict first, then a success: succeeded', () => assert.equal(releasePhase(phases('superseded', 'succeeded')), 'succeeded'));
  it('done, ends without a verdict only: the first row\'s', () => assert.equal(releasePhase(phases('deleted', 'superseded')), 'deleted'));
  it('no rows: succeeded', () => assert.equal(releasePhase([]), 'succeeded'));
});

describe('failure phases, details ids, finding the group', () => {
  it('failing, failed and degraded are failures; the others are not', () => {
    assert.deepEqual((['failing', 'failed', 'degraded', 'succeeded', 'progressing', 'superseded'] as const).map(isFailurePhase), [true, true, true, false, false, false]);
  });
  it("the anchor's details are `<anchor>#details`", () => assert.equal(detailsIdOf('uid-1/7'), 'uid-1/7#details'));
  it("the anchor's details find the anchor's group", () => {
    const g = withRow(newGroup(info('a')), row('b', 'progressing'));
    assert.equal(groupOf({ a: g }, 'a#details'), g);
    assert.equal(groupOf({ a: g }, 'b'), g);
    assert.equal(groupOf({ a: g }, 'c'), undefined);
  });
});
