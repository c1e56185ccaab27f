/**
 * The channel policy's rules (src/machines/channelPolicy.ts), one small scenario each, named
 * after the rule: plain data in, plain data out, no statechart and no clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  acceptNotification,
  backoffDelay,
  callFor,
  contentHash,
  dropAll,
  failureOfCall,
  forget,
  isFailurePhase,
  laneOf,
  milestoneOf,
  nextCall,
  nextRandom,
  plainContent,
  recordGone,
  recordRejected,
  settleRollout,
  wantsUpdate,
} from '../../src/machines/channelPolicy.js';
import type { ChannelQueue, SlackCall } from '../../src/machines/channelTypes.js';
import type { RolloutPhase } from '../../src/machines/notification.js';
import { accept, CHANNEL, CHANNEL_ID, config, empty, item, note, sent, shown } from '../support/channelFixtures.js';

function withChannel(s: ChannelQueue, channelId: string | null = CHANNEL_ID) {
  return { ...s, channel: CHANNEL, channelId };
}

describe('channelPolicy: which notifications are queued', () => {
  it('a late verdict of a finished rollout is skipped (no re-post)', () => {
    const s = { ...empty(), finished: ['r1'] };
    const r = acceptNotification(s, note('r1', 'succeeded'), config(), null);
    assert.deepEqual([r.kind, r.kind === 'skipped' && r.reason], ['skipped', 'late']);
  });

  it('coalescing: a newer notification replaces the pending one, one item per rollout, version counts up', () => {
    const s = accept([note('r1', 'progressing', { text: 'a' }), note('r1', 'progressing', { text: 'b' }), note('r1', 'succeeded', { text: 'c' })]);
    assert.equal(s.queue.length, 1);
    assert.deepEqual([item(s, 'r1').message.text, item(s, 'r1').version, item(s, 'r1').final], ['c', 3, true]);
  });

  it('the version continues after what Slack shows', () => {
    const s = accept([note('r1', 'succeeded')], config(), { ...empty(), rollouts: { r1: shown('r1', { sentVersion: 4 }) } });
    assert.equal(item(s, 'r1').version, 5);
  });

  it('update mode: an unchanged render of a shown rollout sends nothing', () => {
    const n = note('r1', 'progressing');
    const r = acceptNotification({ ...empty(), rollouts: { r1: shown('r1', { sentKey: n.contentKey }) } }, n, config(), null);
    assert.deepEqual([r.kind, r.kind === 'skipped' && r.reason], ['skipped', 'unchanged']);
  });

  it('update mode, alert level failure: nothing before failing; a clean success posts nothing', () => {
    for (const phase of ['progressing', 'succeeded'] as const) {
      const r = acceptNotification(empty(), note('r1', phase, { alert: 'failure' }), config(), null);
      assert.deepEqual([phase, r.kind, r.kind === 'skipped' && r.reason], [phase, 'skipped', 'alert']);
    }
    assert.equal(acceptNotification(empty(), note('r1', 'failing', { alert: 'failure' }), config(), null).kind, 'queued');
  });

  it('update mode, alert level failure: once shown, the rollout keeps being updated', () => {
    const r = acceptNotification({ ...empty(), rollouts: { r1: shown('r1') } }, note('r1', 'succeeded', { alert: 'failure' }), config(), null);
    assert.equal(r.kind, 'queued');
  });

  it('post mode: one post per milestone; the same milestone again is skipped', () => {
    const post = config({ mode: 'post' });
    const s = { ...empty(), rollouts: { r1: shown('r1', { milestone: 'started' }) } };
    const r = acceptNotification(s, note('r1', 'progressing'), post, null);
    assert.deepEqual([r.kind, r.kind === 'skipped' && r.reason], ['skipped', 'milestone']);
    assert.equal(acceptNotification(s, note('r1', 'succeeded'), post, null).kind, 'queued');
  });

  it('post mode, alert level failure: only the failed verdict', () => {
    const post = config({ mode: 'post' });
    assert.equal(acceptNotification(empty(), note('r1', 'progressing', { alert: 'failure' }), post, null).kind, 'skipped');
    assert.equal(acceptNotification(empty(), note('r1', 'succeeded', { alert: 'failure' }), post, null).kind, 'skipped');
    assert.equal(acceptNotification(empty(), note('r1', 'failed', { alert: 'failure' }), post, null).kind, 'queued');
  });

  it('post mode: an ended rollout (superseded) with nothing pending is forgotten, not posted', () => {
    const r = acceptNotification({ ...empty(), rollouts: { r1: shown('r1', { milestone: 'started' }) } }, note('r1', 'superseded'), config({ mode: 'post' }), null);
    assert.deepEqual([r.kind, r.state.rollouts['r1'], r.state.finished], ['skipped', undefined, ['r1']]);
  });

  it('post mode: an ended rollout with a pending post closes after that post', () => {
    const post = config({ mode: 'post' });
    const s = accept([note('r1', 'progressing')], post);
    const r = acceptNotification(s, note('r1', 'superseded'), post, null);
    assert.equal(r.kind, 'coalesced');
    assert.deepEqual([item(r.state, 'r1').phase, item(r.state, 'r1').final], ['progressing', true]);
  });
});

describe('channelPolicy: the bounded queue', () => {
  const cap = config({ queueCap: 3 });

  it('over the cap the oldest progress update is dropped', () => {
    const s = accept([note('p1', 'progressing'), note('f1', 'failed'), note('p2', 'progressing')], cap);
    const r = acceptNotification(s, note('p3', 'progressing'), cap, null);
    assert.equal(r.kind, 'queued');
    assert.deepEqual(r.kind === 'queued' && r.dropped.map((p) => p.rolloutId), ['p1']);
    assert.deepEqual(r.state.queue.map((p) => p.rolloutId), ['f1', 'p2', 'p3']);
  });

  it('the item in flight is never dropped', () => {
    const s = accept([note('p1', 'progressing'), note('p2', 'progressing'), note('p3', 'progressing')], cap);
    const r = acceptNotification(s, note('p4', 'progressing'), cap, 'p1');
    assert.deepEqual(r.state.queue.map((p) => p.rolloutId), ['p1', 'p3', 'p4']);
  });

  it('a verdict is never dropped: with only verdicts queued a new progress update is skipped (queue_full)', () => {
    const s = accept([note('f1', 'failed'), note('f2', 'succeeded'), note('f3', 'succeeded')], cap);
    const r = acceptNotification(s, note('p1', 'progressing'), cap, null);
    assert.deepEqual([r.kind, r.kind === 'skipped' && r.reason], ['skipped', 'queue_full']);
  });

  it('a verdict is accepted over the cap', () => {
    const s = accept([note('f1', 'failed'), note('f2', 'succeeded'), note('f3', 'succeeded')], cap);
    const r = acceptNotification(s, note('f4', 'failed'), cap, null);
    assert.deepEqual([r.kind, r.state.queue.length], ['queued', 4]);
  });
});

describe('channelPolicy: the next Slack call (level-based)', () => {
  it('no message yet: postMessage, to the channel as annotated until its ID is known', () => {
    const s = accept([note('r1', 'progressing')]);
    assert.deepEqual(callFor(item(s, 'r1'), undefined, CHANNEL, null, config())?.op === 'post' && callFor(item(s, 'r1'), undefined, CHANNEL, null, config()), {
      op: 'post',
      rolloutId: 'r1',
      channel: CHANNEL,
      message: item(s, 'r1').message,
      contentKey: item(s, 'r1').contentKey,
      phase: 'progressing',
      version: 1,
      notifiedAt: 7,
      final: false,
    });
    const known = callFor(item(s, 'r1'), undefined, CHANNEL, CHANNEL_ID, config());
    assert.equal(known?.op === 'post' && known.channel, CHANNEL_ID);
  });

  it('update mode: a shown message is edited by channel ID and ts', () => {
    const s = accept([note('r1', 'succeeded')], config(), { ...empty(), rollouts: { r1: shown('r1') } });
    const call = callFor(item(s, 'r1'), s.rollouts['r1'], CHANNEL, CHANNEL_ID, config());
    assert.deepEqual(call?.op === 'update' && [call.channelId, call.ts, call.version], [CHANNEL_ID, '1.000100', 2]);
  });

  it('post mode: a new milestone is a new message', () => {
    const post = config({ mode: 'post' });
    const s = accept([note('r1', 'succeeded')], post, { ...empty(), rollouts: { r1: shown('r1', { milestone: 'started' }) } });
    assert.equal(callFor(item(s, 'r1'), s.rollouts['r1'], CHANNEL, CHANNEL_ID, post)?.op, 'post');
  });

  it('a thread reply once the main message shows the content, once per distinct thread', () => {
    let s = accept([note('r1', 'failed', { thread: 'details' })]);
    assert.equal(callFor(item(s, 'r1'), s.rollouts['r1'], CHANNEL, CHANNEL_ID, config())?.op, 'post');
    s = sent(s, 'r1');
    const reply = callFor(item(s, 'r1'), s.rollouts['r1'], CHANNEL, CHANNEL_ID, config());
    assert.deepEqual(reply?.op === 'reply' && [reply.threadTs, reply.message.text], ['1.000100', 'details']);
    s = sent(s, 'r1');
    assert.deepEqual([s.queue, s.finished], [[], ['r1']], 'settled and forgotten');
  });

  it('a rejected message is sent again as plain text', () => {
    const s = { ...empty(), queue: [{ ...item(accept([note('r1', 'failed', { text: 'verdict' })]), 'r1'), plain: true }] };
    const call = callFor(item(s, 'r1'), undefined, CHANNEL, CHANNEL_ID, config());
    assert.deepEqual(call?.op === 'post' && call.message, { text: 'verdict', attachments: [] });
  });

  it('a rollout waiting for the update budget does not hold up a post', () => {
    const s = withChannel(accept([note('r1', 'succeeded'), note('r2', 'progressing')], config(), { ...empty(), rollouts: { r1: shown('r1') } }));
    assert.equal(nextCall(s, config(), { post: true, update: false })?.rolloutId, 'r2');
    assert.equal(nextCall(s, config(), { post: false, update: true })?.rolloutId, 'r1');
    assert.equal(nextCall(s, config(), { post: false, update: false }), null);
    assert.equal(wantsUpdate(s, config()), true);
    assert.equal(wantsUpdate(withChannel(accept([note('r2', 'progressing')])), config()), false);
  });

  it('lanes: chat.update (of the message or of its thread reply) uses the workspace budget, posts and first replies the channel tokens', () => {
    const calls: Array<[Partial<SlackCall>, 'post' | 'update']> = [
      [{ op: 'post' }, 'post'],
      [{ op: 'update' }, 'update'],
      [{ op: 'reply', replyTs: null }, 'post'],
      [{ op: 'reply', replyTs: '1.000200' }, 'update'],
    ];
    for (const [call, lane] of calls) assert.equal(laneOf(call as SlackCall), lane, JSON.stringify(call));
  });
});

describe('channelPolicy: what Slack answered', () => {
  it('a sent verdict forgets the rollout and remembers its id for late duplicates', () => {
    const s = sent(accept([note('r1', 'succeeded')]), 'r1');
    assert.deepEqual([s.queue.length, s.rollouts['r1'], s.finished], [0, undefined, ['r1']]);
  });

  it('a sent progress update leaves the queue and keeps the record (channel ID and ts)', () => {
    const s = sent(accept([note('r1', 'progressing')]), 'r1');
    assert.deepEqual([s.queue.length, s.rollouts['r1']?.channelId, s.rollouts['r1']?.ts, s.rollouts['r1']?.sentVersion], [0, CHANNEL_ID, '1.000100', 1]);
  });

  it('settling keeps an item whose content Slack does not show yet', () => {
    const s = accept([note('r1', 'progressing')]);
    assert.equal(settleRollout(s, 'r1', config()), s);
  });

  it('records are capped, least recently sent first, never one with pending work', () => {
    const cfg = config({ recordCap: 2 });
    let s = sent(accept([note('a', 'progressing')], cfg), 'a', cfg);
    s = sent(accept([note('b', 'progressing')], cfg, s), 'b', cfg);
    s = accept([note('a', 'progressing', { text: 'a again' })], cfg, s);
    s = sent(accept([note('c', 'progressing')], cfg, s), 'c', cfg);
    assert.deepEqual(Object.keys(s.rollouts).sort(), ['a', 'c'], 'b evicted; a has pending work');
  });

  it('the finished ring is bounded', () => {
    let s = empty();
    for (const id of ['a', 'b', 'c']) s = forget(s, id, config({ finishedCap: 2 }));
    assert.deepEqual(s.finished, ['b', 'c']);
  });

  it('a deleted message (update gone) is posted anew', () => {
    const s = { ...empty(), rollouts: { r1: shown('r1', { threadKey: 't' }) } };
    const call: SlackCall = { op: 'update', rolloutId: 'r1', channelId: CHANNEL_ID, ts: '1.000100', message: { text: 'x', attachments: [] }, contentKey: 'k2', phase: 'succeeded', version: 2, notifiedAt: 0, final: true };
    assert.deepEqual(recordGone(s, call).rollouts['r1'], { ...shown('r1'), ts: null, sentKey: null, threadKey: null, replyTs: null });
  });

  it("a thread whose parent is gone is skipped (marked as posted), the message kept", () => {
    const s = { ...empty(), rollouts: { r1: shown('r1') } };
    const call: SlackCall = { op: 'reply', rolloutId: 'r1', channelId: CHANNEL_ID, threadTs: '1.000100', message: { text: 'd' }, threadKey: 't9', replyTs: null };
    assert.deepEqual(recordGone(s, call).rollouts['r1'], { ...shown('r1'), threadKey: 't9' });
  });

  it('rejected content: first plain text, then given up (a final one is forgotten)', () => {
    const s = accept([note('r1', 'failed')]);
    const call = callFor(item(s, 'r1'), undefined, CHANNEL, CHANNEL_ID, config()) as SlackCall;
    const first = recordRejected(s, call, config());
    assert.deepEqual([first.gaveUp, item(first.state, 'r1').plain], [null, true]);
    const second = recordRejected(first.state, call, config());
    assert.equal(second.gaveUp?.rolloutId, 'r1');
    assert.deepEqual([second.state.queue, second.state.finished], [[], ['r1']]);
  });

  it('a permanent error drops all pending work and what Slack showed', () => {
    const s = accept([note('r1', 'progressing'), note('r2', 'failed')], config(), { ...empty(), rollouts: { r0: shown('r0') } });
    const r = dropAll(s);
    assert.deepEqual([r.dropped.map((p) => p.rolloutId), r.state.queue, r.state.rollouts], [['r1', 'r2'], [], {}]);
  });
});

describe('channelPolicy: failures', () => {
  const post: SlackCall = { op: 'post', rolloutId: 'r1', channel: CHANNEL, message: { text: 'x', attachments: [] }, contentKey: 'k', phase: 'progressing', version: 1, notifiedAt: 0, final: false };
  const update: SlackCall = { op: 'update', rolloutId: 'r1', channelId: CHANNEL_ID, ts: '1.0', message: { text: 'x', attachments: [] }, contentKey: 'k', phase: 'progressing', version: 2, notifiedAt: 0, final: false };
  const reply: SlackCall = { op: 'reply', rolloutId: 'r1', channelId: CHANNEL_ID, threadTs: '1.0', message: { text: 'x' }, threadKey: 't', replyTs: null };

  it('an ambiguous timeout is transient for an idempotent call (chat.update)', () => {
    assert.deepEqual(failureOfCall(update, { kind: 'ambiguous', error: 'timeout' }), { kind: 'transient', error: 'timeout' });
  });

  it('an ambiguous timeout is transient for an edit of the thread reply (chat.update)', () => {
    assert.deepEqual(failureOfCall({ ...reply, replyTs: '1.000200' }, { kind: 'ambiguous', error: 'timeout' }), { kind: 'transient', error: 'timeout' });
  });

  it('an ambiguous timeout stays ambiguous for a post or a thread reply (it may leave a duplicate)', () => {
    for (const call of [post, reply]) assert.deepEqual(failureOfCall(call, { kind: 'ambiguous', error: 'ECONNRESET' }), { kind: 'ambiguous', error: 'ECONNRESET' });
  });

  it('other failures pass through unchanged', () => {
    const failures = [
      { kind: 'rateLimited', error: 'ratelimited', retryAfterSec: 3 },
      { kind: 'transient', error: 'http_503' },
      { kind: 'messageGone', error: 'message_not_found' },
      { kind: 'rejected', error: 'invalid_blocks' },
      { kind: 'permanent', error: 'channel_not_found', scope: 'channel' },
    ] as const;
    for (const f of failures) assert.deepEqual(failureOfCall(update, f), f);
  });

  it('backoff: capped exponential with equal jitter (half fixed, half random)', () => {
    const cfg = { backoffBaseMs: 1000, backoffCapMs: 60_000 };
    let seed = 42;
    for (let attempt = 0; attempt < 12; attempt++) {
      const step = Math.min(60_000, 1000 * 2 ** attempt);
      const r = backoffDelay(attempt, seed, cfg);
      assert.ok(r.delayMs >= step / 2 && r.delayMs <= step, `attempt ${attempt}: ${r.delayMs} in [${step / 2}, ${step}]`);
      seed = r.seed;
    }
    assert.deepEqual(backoffDelay(3, 7, cfg), backoffDelay(3, 7, cfg), 'deterministic for a seed');
    assert.notEqual(backoffDelay(3, 0x12345678, cfg).delayMs, backoffDelay(3, 0x9abcdef0, cfg).delayMs, 'channels with other seeds spread out');
  });

  it('the jitter generator is deterministic, in [0, 1), and never stuck at zero', () => {
    const a = nextRandom(0);
    assert.ok(a.value >= 0 && a.value < 1 && a.seed !== 0);
    assert.deepEqual(nextRandom(a.seed), nextRandom(a.seed));
  });
});

describe('channelPolicy: small helpers', () => {
  it('milestones: started, succeeded, failed; superseded/deleted/untracked end a rollout', () => {
    const cases: Array<[RolloutPhase, string]> = [
      ['progressing', 'started'],
      ['paused', 'started'],
      ['failing', 'started'],
      ['succeeded', 'succeeded'],
      ['failed', 'failed'],
      ['superseded', 'ended'],
      ['deleted', 'ended'],
      ['untracked', 'ended'],
    ];
    for (const [phase, m] of cases) assert.equal(milestoneOf(phase), m, phase);
    assert.deepEqual((['failing', 'failed', 'progressing', 'succeeded'] as const).map(isFailurePhase), [true, true, false, false]);
  });

  it('plain text fallback: at most 3,000 characters, never empty', () => {
    assert.equal(plainContent({ text: 'x'.repeat(5000) }).text.length, 3000);
    assert.ok(plainContent({ text: 'x'.repeat(5000) }).text.endsWith('…'));
    assert.equal(plainContent({ text: '' }).text, 'Rollout update (details could not be shown)');
    assert.deepEqual(plainContent({ text: 'ok' }).attachments, []);
  });

  it('content hash: stable for equal content, different for changed content', () => {
    assert.equal(contentHash({ text: 'a', attachments: [] }), contentHash({ text: 'a', attachments: [] }));
    assert.notEqual(contentHash({ text: 'a', attachments: [] }), contentHash({ text: 'b', attachments: [] }));
  });
});
