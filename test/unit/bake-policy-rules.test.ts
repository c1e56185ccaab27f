/**
 * The channel's side of the watch after success (issue 13): src/machines/bakePolicy.ts and
 * where src/machines/channelPolicy.ts applies it. One rule per test, named after the rule;
 * plain data in, plain data out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BAKE_RECORD_SLACK_MS, closesBake, expiredBakes, isFinalItem, keptBakes } from '../../src/machines/bakePolicy.js';
import { acceptNotification, isFailurePhase, milestoneOf } from '../../src/machines/channelPolicy.js';
import type { ChannelNotification } from '../../src/machines/channelTypes.js';
import { accept, config, empty, item, note, sent, shown, TS } from '../support/channelFixtures.js';

const UNTIL = 1_000_000;

function baking(rolloutId: string, opts: Parameters<typeof note>[2] = {}): ChannelNotification {
  return { ...note(rolloutId, 'succeeded', opts), bakeUntil: UNTIL };
}

describe('isFinalItem', () => {
  it('a verdict is final', () => assert.equal(isFinalItem(note('r1', 'succeeded')), true));
  it('a success the bake watches is not', () => assert.equal(isFinalItem(baking('r1')), false));
  it('a live phase is not', () => assert.equal(isFinalItem(note('r1', 'progressing')), false));
  it('degraded is final', () => assert.equal(isFinalItem(note('r1', 'degraded')), true));
});

describe('closesBake', () => {
  const kept = shown('r1', { sentPhase: 'succeeded', sentKey: note('r1', 'succeeded').contentKey, bakeUntil: UNTIL });
  it('the same verdict again, without a bake, on a kept record: closes it', () => assert.equal(closesBake(note('r1', 'succeeded'), kept, undefined, 'update'), true));
  it('not while something is pending for the rollout', () =>
    assert.equal(closesBake(note('r1', 'succeeded'), kept, { ...item(accept([note('r1', 'succeeded')]), 'r1') }, 'update'), false));
  it('not for a record that was not kept for a bake', () => assert.equal(closesBake(note('r1', 'succeeded'), { ...kept, bakeUntil: undefined }, undefined, 'update'), false));
  it('not for a record without a message', () => assert.equal(closesBake(note('r1', 'succeeded'), { ...kept, ts: null }, undefined, 'update'), false));
  it('not while the bake still watches', () => assert.equal(closesBake(baking('r1'), kept, undefined, 'update'), false));
  it('update mode: not when the content differs (it is sent, then forgotten)', () => assert.equal(closesBake(note('r1', 'succeeded', { text: 'other' }), kept, undefined, 'update'), false));
  it('post mode: the same phase is enough', () => assert.equal(closesBake(note('r1', 'succeeded', { text: 'other' }), kept, undefined, 'post'), true));
  it('post mode: another phase is not', () => assert.equal(closesBake(note('r1', 'degraded'), kept, undefined, 'post'), false));
});

describe('expiredBakes', () => {
  const s = { ...empty(), rollouts: { r1: shown('r1', { sentPhase: 'succeeded', bakeUntil: UNTIL }), r2: shown('r2') } };
  it('not before the window and its slack have passed', () => assert.deepEqual(expiredBakes(s, UNTIL + BAKE_RECORD_SLACK_MS - 1, 'x'), []));
  it('once they have, only records kept for a bake', () => assert.deepEqual(expiredBakes(s, UNTIL + BAKE_RECORD_SLACK_MS, 'x'), ['r1']));
  it('never the rollout being notified', () => assert.deepEqual(expiredBakes(s, UNTIL * 10, 'r1'), []));
  it('never a rollout with work pending', () => assert.deepEqual(expiredBakes(accept([note('r1', 'degraded')], config(), s), UNTIL * 10, 'x'), []));
  it("another rollout's pending work does not keep it", () => assert.deepEqual(expiredBakes(accept([note('r2', 'progressing')], config(), s), UNTIL * 10, 'x'), ['r1']));
});

describe('channelPolicy with a bake', () => {
  it('milestoneOf: degraded is a milestone of its own (post mode posts it)', () => assert.equal(milestoneOf('degraded'), 'degraded'));
  it('isFailurePhase: degraded counts as a failure (alert: failure posts it)', () => assert.equal(isFailurePhase('degraded'), true));

  it('a success the bake watches keeps its record once sent, with the bake deadline', () => {
    const s = sent(accept([baking('r1')]), 'r1');
    assert.deepEqual(s.queue, []);
    assert.equal(s.rollouts['r1']?.bakeUntil, UNTIL);
    assert.deepEqual(s.finished, []);
  });

  it('the degraded verdict edits the kept message, then forgets it', () => {
    const s = accept([note('r1', 'degraded')], config(), sent(accept([baking('r1')]), 'r1'));
    assert.equal(item(s, 'r1').final, true);
    const after = sent(s, 'r1');
    assert.equal(after.rollouts['r1'], undefined);
    assert.deepEqual(after.finished, ['r1']);
  });

  it('the bake ends quietly: nothing sent, the record forgotten', () => {
    const s = sent(accept([baking('r1')]), 'r1');
    const r = acceptNotification(s, note('r1', 'succeeded'), config(), null);
    assert.equal(r.kind === 'skipped' && r.reason, 'unchanged');
    assert.equal(r.state.rollouts['r1'], undefined);
    assert.deepEqual(r.state.finished, ['r1']);
  });

  it('the bake ends before the success was sent: the success goes out once, final', () => {
    const s = accept([baking('r1'), note('r1', 'succeeded')]);
    assert.equal(item(s, 'r1').final, true);
    assert.equal(item(s, 'r1').bakeUntil, undefined);
    const after = sent(s, 'r1');
    assert.equal(after.rollouts['r1'], undefined);
  });

  it('a record kept for a bake nobody closes is forgotten at the next notification of its channel after the window', () => {
    const s = sent(accept([baking('r1')]), 'r1');
    const early = acceptNotification(s, note('r2', 'progressing', { at: UNTIL }), config(), null).state;
    assert.ok(early.rollouts['r1']);
    const late = acceptNotification(s, note('r2', 'progressing', { at: UNTIL + BAKE_RECORD_SLACK_MS }), config(), null).state;
    assert.equal(late.rollouts['r1'], undefined);
    assert.ok(late.finished.includes('r1'));
  });

  it('alert failure, update mode: a degraded success is posted though the success was not', () => {
    const s = accept([{ ...baking('r1', { alert: 'failure' }) }]);
    assert.deepEqual(s.queue, []);
    const r = acceptNotification(s, note('r1', 'degraded', { alert: 'failure' }), config(), null);
    assert.equal(r.kind, 'queued');
  });

  it('alert failure, post mode: a degraded success is posted', () => {
    const r = acceptNotification(empty(), note('r1', 'degraded', { alert: 'failure' }), config({ mode: 'post' }), null);
    assert.equal(r.kind, 'queued');
  });

  it('post mode: degraded is a new post after the success, and closes the record', () => {
    const post = config({ mode: 'post' });
    const s = sent(accept([baking('r1')], post), 'r1', post);
    assert.equal(s.rollouts['r1']?.milestone, 'succeeded');
    const d = accept([note('r1', 'degraded')], post, s);
    const after = sent(d, 'r1', post, { ts: '2.000200' });
    assert.equal(after.rollouts['r1'], undefined);
    assert.deepEqual(after.finished, ['r1']);
  });

  it('post mode: the bake ends quietly without a post', () => {
    const post = config({ mode: 'post' });
    const s = sent(accept([baking('r1')], post), 'r1', post);
    const r = acceptNotification(s, note('r1', 'succeeded'), post, null);
    assert.equal(r.kind, 'skipped');
    assert.equal(r.state.rollouts['r1'], undefined);
  });

  it('the kept record is the message Slack shows: its ts does not change', () => {
    const s = sent(accept([baking('r1')]), 'r1');
    assert.equal(s.rollouts['r1']?.ts, TS);
  });
});

describe('keptBakes (a restart: the bakes to hand to the workload actors, ADR 0011)', () => {
  const origin = { startedAt: 1_000, succeededAt: 9_000, previousRevision: 1, adopted: false };
  const expected = [{ ...origin, rolloutId: 'r1', channel: 'deploys', bakeUntil: UNTIL }];
  const kept = (over: Parameters<typeof shown>[1] = {}) => shown('r1', { sentPhase: 'succeeded', bakeUntil: UNTIL, bakeOrigin: origin, ...over });
  const pendingOf = (n: ChannelNotification) => item(accept([n]), n.rolloutId);
  it('a success Slack shows, its window open: kept, with its channel and what the record remembers', () =>
    assert.deepEqual(keptBakes([{ channel: 'deploys', rollouts: [kept()] }], UNTIL - 1), expected));
  it('its window over: not kept (expiredBakes forgets it)', () => assert.deepEqual(keptBakes([{ channel: 'deploys', rollouts: [kept()] }], UNTIL), []));
  it('a record written before records remembered the success: not kept', () =>
    assert.deepEqual(keptBakes([{ channel: 'deploys', rollouts: [kept({ bakeOrigin: undefined })] }], 0), []));
  it('a record not kept for a bake: not kept', () => assert.deepEqual(keptBakes([{ channel: 'deploys', rollouts: [kept({ bakeUntil: undefined })] }], 0), []));
  it('the success sent by an edit answered after the last save (the record still says progressing): kept', () =>
    assert.deepEqual(keptBakes([{ channel: 'deploys', rollouts: [kept({ sentPhase: 'progressing' })] }], 0), expected));
  it('the success still pending (nothing shown yet): kept', () =>
    assert.deepEqual(keptBakes([{ channel: 'deploys', rollouts: [], pending: [pendingOf({ ...baking('r1'), bakeOrigin: origin })] }], 0), expected));
  it('a pending degraded verdict after the kept success: not kept (the latest word is the verdict)', () =>
    assert.deepEqual(keptBakes([{ channel: 'deploys', rollouts: [kept()], pending: [pendingOf(note('r1', 'degraded'))] }], 0), []));
});

describe('the record remembers the success it keeps (bakeOrigin)', () => {
  const origin = { startedAt: 1_000, succeededAt: 9_000, previousRevision: 1, adopted: false };
  it('a success the bake watches: its record keeps bakeUntil and bakeOrigin', () => {
    const s = sent(accept([{ ...baking('r1'), bakeOrigin: origin }]), 'r1');
    assert.equal(s.rollouts['r1']?.bakeUntil, UNTIL);
    assert.deepEqual(s.rollouts['r1']?.bakeOrigin, origin);
  });
  it('without a bake, an origin is not kept (only a success the bake watches remembers one)', () => {
    const s = sent(accept([{ ...note('r1', 'progressing'), bakeOrigin: origin }]), 'r1');
    assert.ok(s.rollouts['r1'] !== undefined);
    assert.equal(s.rollouts['r1']?.bakeOrigin, undefined);
  });
});
