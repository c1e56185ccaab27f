/**
 * More rules of the channel policy (src/machines/channelPolicy.ts), each pinned by one small
 * scenario and named after the rule (issue 15: the mutants test/unit/channel-policy.test.ts
 * let through). Plain data in, plain data out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  acceptNotification,
  backoffDelay,
  callFor,
  contentHash,
  forget,
  nextCall,
  nextRandom,
  plainContent,
  recordGone,
  recordRejected,
  recordSent,
  settleRollout,
  wantsUpdate,
} from '../../src/machines/channelPolicy.js';
import { methodOf, SLACK_DONE, SLACK_ERROR, type ChannelQueue, type PendingDelivery, type RolloutRecord, type SlackCall } from '../../src/machines/channelTypes.js';
import type { SlackThreadReply } from '../../src/machines/message.js';
import { accept, CHANNEL, CHANNEL_ID, config, empty, item, note, sent, shown, TS } from '../support/channelFixtures.js';

function reason(r: ReturnType<typeof acceptNotification>): string {
  return r.kind === 'skipped' ? `skipped:${r.reason}` : r.kind;
}

describe('channelPolicy rules: accepting a notification', () => {
  it('a queued item carries the notification as it came, numbered, not yet plain', () => {
    const n = note('r1', 'failed', { thread: 'why' });
    const r = acceptNotification(empty(), n, config(), null);
    assert.deepEqual(r.kind === 'queued' && [r.state.queue, r.dropped], [
      [{ rolloutId: 'r1', namespace: 'ns-r1', phase: 'failed', final: true, version: 1, message: n.message, contentKey: n.contentKey, thread: n.thread, threadKey: n.threadKey, notifiedAt: 7, plain: false }],
      [],
    ]);
  });

  it('accepting touches the queue only: the records are the same object', () => {
    const s = { ...empty(), rollouts: { r1: shown('r1') } };
    const r = acceptNotification(s, note('r1', 'succeeded'), config(), null);
    assert.equal(r.state.rollouts, s.rollouts);
  });

  it('coalescing leaves the queue it was given unchanged (a new queue, the old one as it was)', () => {
    const s = accept([note('r1', 'progressing'), note('r2', 'progressing')]);
    const before = structuredClone(s.queue);
    const r = acceptNotification(s, note('r1', 'succeeded'), config(), null);
    assert.equal(reason(r), 'coalesced');
    assert.deepEqual([s.queue, item(r.state, 'r1').phase], [before, 'succeeded']);
  });

  it('post mode: an ending that closes a pending post leaves the queue it was given unchanged', () => {
    const post = config({ mode: 'post' });
    const s = accept([note('r1', 'progressing')], post);
    const before = structuredClone(s.queue);
    const r = acceptNotification(s, note('r1', 'superseded'), post, null);
    assert.equal(reason(r), 'coalesced');
    assert.deepEqual([s.queue, item(r.state, 'r1').final], [before, true]);
  });

  it('update mode, alert level failure: a pending (not yet shown) failing rollout keeps being updated', () => {
    const s = accept([note('r1', 'failing', { alert: 'failure' })]);
    const r = acceptNotification(s, note('r1', 'succeeded', { alert: 'failure' }), config(), null);
    assert.equal(reason(r), 'coalesced');
    assert.deepEqual([item(r.state, 'r1').phase, item(r.state, 'r1').final], ['succeeded', true]);
  });

  it('update mode, alert level failure: a record without a message (ts null) is not shown', () => {
    const s = { ...empty(), rollouts: { r1: shown('r1', { ts: null }) } };
    assert.equal(reason(acceptNotification(s, note('r1', 'succeeded', { alert: 'failure' }), config(), null)), 'skipped:alert');
  });

  it('post mode: the milestone of the pending item counts, not only the one posted', () => {
    const post = config({ mode: 'post' });
    const s = accept([note('r1', 'progressing')], post);
    assert.equal(reason(acceptNotification(s, note('r1', 'paused'), post, null)), 'skipped:milestone');
  });

  it('post mode: unfollowable is an ending: it closes the pending post instead of posting', () => {
    const post = config({ mode: 'post' });
    const r = acceptNotification(accept([note('r1', 'progressing')], post), note('r1', 'unfollowable'), post, null);
    assert.deepEqual([reason(r), item(r.state, 'r1').phase, item(r.state, 'r1').final], ['coalesced', 'progressing', true]);
  });

  it('post mode, alert level failure: a posted rollout that then succeeds is refused for the alert (only its end closes it)', () => {
    const post = config({ mode: 'post' });
    const s = { ...empty(), rollouts: { r1: shown('r1', { milestone: 'failed' }) } };
    assert.equal(reason(acceptNotification(s, note('r1', 'succeeded', { alert: 'failure' }), post, null)), 'skipped:alert');
  });

  it('post mode, alert level failure: a posted rollout that ends is closed, an unknown one is refused for the alert', () => {
    const post = config({ mode: 'post' });
    const known = acceptNotification({ ...empty(), rollouts: { r1: shown('r1', { milestone: 'failed' }) } }, note('r1', 'superseded', { alert: 'failure' }), post, null);
    assert.deepEqual([reason(known), known.state.finished], ['skipped:milestone', ['r1']]);
    const unknown = acceptNotification(empty(), note('r1', 'superseded', { alert: 'failure' }), post, null);
    assert.deepEqual([reason(unknown), unknown.state.finished], ['skipped:alert', []]);
  });

  it('post mode, alert level failure: a pending failed post that ends is closed after that post', () => {
    const post = config({ mode: 'post' });
    const s = accept([note('r1', 'failed', { alert: 'failure' })], post);
    const r = acceptNotification(s, note('r1', 'deleted', { alert: 'failure' }), post, null);
    assert.deepEqual([reason(r), item(r.state, 'r1').phase], ['coalesced', 'failed']);
  });

  it('post mode: the same content at a new milestone is posted (unchanged applies to update mode only)', () => {
    const post = config({ mode: 'post' });
    const n = note('r1', 'succeeded');
    const s = { ...empty(), rollouts: { r1: shown('r1', { milestone: 'started', sentKey: n.contentKey }) } };
    assert.equal(reason(acceptNotification(s, n, post, null)), 'queued');
  });

  it('update mode: the same content is sent again when Slack no longer shows the message (ts null)', () => {
    const n = note('r1', 'progressing');
    const s = { ...empty(), rollouts: { r1: shown('r1', { ts: null, sentKey: n.contentKey }) } };
    assert.equal(reason(acceptNotification(s, n, config(), null)), 'queued');
  });

  it('update mode: an unchanged message with a new thread is queued for the thread', () => {
    const n = note('r1', 'failed', { thread: 'details' });
    const s = { ...empty(), rollouts: { r1: shown('r1', { sentKey: n.contentKey }) } };
    assert.equal(reason(acceptNotification(s, n, config(), null)), 'queued');
  });

  it('coalescing back to what Slack shows settles the item: nothing left to send', () => {
    const shownNote = note('r1', 'progressing', { text: 'shown' });
    const s = accept([note('r1', 'progressing', { text: 'newer' })], config(), { ...empty(), rollouts: { r1: shown('r1', { sentKey: shownNote.contentKey }) } });
    assert.equal(s.queue.length, 1);
    const r = acceptNotification(s, shownNote, config(), null);
    assert.deepEqual([reason(r), r.state.queue], ['coalesced', []]);
  });

  it('the queue holds exactly queueCap items before dropping anything', () => {
    const cap = config({ queueCap: 2 });
    const s = accept([note('p1', 'progressing')], cap);
    const r = acceptNotification(s, note('p2', 'progressing'), cap, null);
    assert.deepEqual(r.kind === 'queued' && [r.state.queue.length, r.dropped], [2, []]);
  });

  it('a verdict over the cap with nothing to drop drops nothing', () => {
    const cap = config({ queueCap: 1 });
    const r = acceptNotification(accept([note('f1', 'failed')], cap), note('f2', 'failed'), cap, null);
    assert.deepEqual(r.kind === 'queued' && [r.state.queue.map((p) => p.rolloutId), r.dropped], [['f1', 'f2'], []]);
  });

  it('a verdict over the cap drops the oldest progress update', () => {
    const cap = config({ queueCap: 2 });
    const s = accept([note('f1', 'failed'), note('p1', 'progressing')], cap);
    const r = acceptNotification(s, note('f2', 'succeeded'), cap, null);
    assert.deepEqual(r.kind === 'queued' && [r.state.queue.map((p) => p.rolloutId), r.dropped.map((p) => p.rolloutId)], [['f1', 'f2'], ['p1']]);
  });
});

describe('channelPolicy rules: the next call', () => {
  it('post mode: a version Slack already shows needs no new post', () => {
    const post = config({ mode: 'post' });
    const s = accept([note('r1', 'succeeded')], post, { ...empty(), rollouts: { r1: shown('r1', { milestone: 'started' }) } });
    const record = shown('r1', { sentVersion: item(s, 'r1').version, milestone: 'succeeded' });
    assert.equal(callFor(item(s, 'r1'), record, CHANNEL, CHANNEL_ID, post), null);
    assert.equal(callFor(item(s, 'r1'), { ...record, sentVersion: record.sentVersion - 1 }, CHANNEL, CHANNEL_ID, post)?.op, 'post');
  });

  it('update mode: a shown message without a channel ID is posted anew (an update needs the ID)', () => {
    const s = accept([note('r1', 'succeeded')], config(), { ...empty(), rollouts: { r1: shown('r1', { channelId: null }) } });
    const call = callFor(item(s, 'r1'), s.rollouts['r1'], CHANNEL, null, config());
    assert.deepEqual(call?.op === 'post' && [call.channel, call.final], [CHANNEL, true]);
  });

  it('an update carries the item: content key, phase, version, time and whether it is final', () => {
    const s = accept([note('r1', 'succeeded')], config(), { ...empty(), rollouts: { r1: shown('r1') } });
    const p = item(s, 'r1');
    assert.deepEqual(callFor(p, s.rollouts['r1'], CHANNEL, CHANNEL_ID, config()), {
      op: 'update',
      rolloutId: 'r1',
      channelId: CHANNEL_ID,
      ts: TS,
      message: p.message,
      contentKey: p.contentKey,
      phase: 'succeeded',
      version: 2,
      notifiedAt: 7,
      final: true,
    });
  });

  it('a plain update sends the plain text', () => {
    const s = accept([note('r1', 'succeeded', { text: 'done' })], config(), { ...empty(), rollouts: { r1: shown('r1') } });
    const call = callFor({ ...item(s, 'r1'), plain: true }, s.rollouts['r1'], CHANNEL, CHANNEL_ID, config());
    assert.deepEqual(call?.op === 'update' && call.message, { text: 'done', attachments: [] });
  });

  it('a thread reply goes to the record\'s channel ID, else the known ID, else the channel as annotated', () => {
    const n = note('r1', 'failed', { thread: 'details' });
    const p = item(accept([n]), 'r1');
    const record = shown('r1', { sentKey: n.contentKey });
    const to = (r: RolloutRecord, id: string | null) => {
      const call = callFor(p, r, CHANNEL, id, config());
      return call?.op === 'reply' ? call.channelId : call?.op;
    };
    assert.deepEqual([to(record, 'C0OTHER'), to({ ...record, channelId: null }, 'C0OTHER'), to({ ...record, channelId: null }, null)], [CHANNEL_ID, 'C0OTHER', CHANNEL]);
  });

  it('a plain thread reply is text only (no blocks)', () => {
    const n = note('r1', 'failed');
    const thread: SlackThreadReply = { text: 'details', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*details*' } }] };
    const p: PendingDelivery = { ...item(accept([n]), 'r1'), thread, threadKey: contentHash(thread), plain: true };
    const call = callFor(p, shown('r1', { sentKey: n.contentKey }), CHANNEL, CHANNEL_ID, config());
    assert.deepEqual(call?.op === 'reply' && [call.message, call.threadTs, call.threadKey], [{ text: 'details' }, TS, p.threadKey]);
  });

  it('no thread reply before the message exists, nor for a thread already posted, nor without a thread key', () => {
    const n = note('r1', 'failed', { thread: 'details' });
    const p = item(accept([n]), 'r1');
    const posted = shown('r1', { sentKey: n.contentKey });
    assert.equal(callFor(p, { ...posted, threadKey: p.threadKey }, CHANNEL, CHANNEL_ID, config()), null);
    assert.equal(callFor({ ...p, threadKey: null }, posted, CHANNEL, CHANNEL_ID, config()), null);
    assert.equal(callFor({ ...p, thread: null }, posted, CHANNEL, CHANNEL_ID, config()), null);
  });

  it('the first item with a call in an open lane goes: items with nothing to send are passed over', () => {
    const n = note('r1', 'progressing');
    const s = accept([note('r2', 'progressing')], config(), { ...empty(), queue: [item(accept([n]), 'r1')], rollouts: { r1: shown('r1', { sentKey: n.contentKey }) } });
    assert.equal(nextCall({ ...s, channel: CHANNEL, channelId: CHANNEL_ID }, config(), { post: true, update: true })?.rolloutId, 'r2');
  });

  it('the update budget is wanted only for an item with an edit to send: items with nothing to send are passed over', () => {
    const n = note('r1', 'progressing');
    const s = { ...empty(), queue: [item(accept([n]), 'r1')], rollouts: { r1: shown('r1', { sentKey: n.contentKey }) }, channel: CHANNEL, channelId: CHANNEL_ID };
    assert.equal(wantsUpdate(s, config()), false);
    const edit = { ...s, rollouts: { r1: shown('r1') } };
    assert.equal(wantsUpdate(edit, config()), true);
  });
});

describe('channelPolicy rules: what Slack answered', () => {
  it('an update keeps the ts and channel ID Slack showed when its answer has none', () => {
    const s = accept([note('r1', 'progressing', { text: 'newer' })], config(), { ...empty(), rollouts: { r1: shown('r1', { ts: '1.5' }) } });
    const after = sent(s, 'r1', config(), {});
    assert.deepEqual([after.rollouts['r1']?.ts, after.rollouts['r1']?.channelId, after.rollouts['r1']?.sentVersion, after.rollouts['r1']?.sentPhase], ['1.5', CHANNEL_ID, 2, 'progressing']);
  });

  it('an update does not take the ts of its answer (the message keeps its ts)', () => {
    const s = accept([note('r1', 'progressing', { text: 'newer' })], config(), { ...empty(), rollouts: { r1: shown('r1', { ts: '1.5' }) } });
    assert.equal(sent(s, 'r1', config(), { channelId: CHANNEL_ID, ts: '9.9' }).rollouts['r1']?.ts, '1.5');
  });

  it('a post without a ts in its answer keeps the previous ts', () => {
    const post = config({ mode: 'post' });
    const s = accept([note('r1', 'progressing')], post, { ...empty(), rollouts: { r1: shown('r1', { ts: '1.5' }) } });
    assert.equal(sent(s, 'r1', post, {}).rollouts['r1']?.ts, '1.5');
  });

  it('post mode records the milestone posted; update mode records none', () => {
    const post = config({ mode: 'post' });
    assert.equal(sent(accept([note('r1', 'progressing')], post), 'r1', post).rollouts['r1']?.milestone, 'started');
    assert.equal(sent(accept([note('r1', 'progressing')]), 'r1').rollouts['r1']?.milestone, null);
  });

  it('a new post starts without a thread; an update keeps the thread posted under it', () => {
    const post = config({ mode: 'post' });
    const p = accept([note('r1', 'progressing')], post, { ...empty(), rollouts: { r1: shown('r1', { threadKey: 't' }) } });
    assert.deepEqual([sent(p, 'r1', post, { ts: '2.0' }).rollouts['r1']?.ts, sent(p, 'r1', post, { ts: '2.0' }).rollouts['r1']?.threadKey], ['2.0', null]);
    const u = accept([note('r1', 'progressing', { text: 'newer' })], config(), { ...empty(), rollouts: { r1: shown('r1', { threadKey: 't' }) } });
    assert.equal(sent(u, 'r1').rollouts['r1']?.threadKey, 't');
  });

  it('a thread reply sent records its thread key and its ts, and nothing else', () => {
    const n = note('r1', 'progressing', { thread: 'details' });
    const record = shown('r1', { sentKey: n.contentKey });
    const s = accept([n], config(), { ...empty(), rollouts: { r1: record } });
    const after = sent(s, 'r1', config(), { channelId: CHANNEL_ID, ts: '1.000200' });
    assert.deepEqual(after.rollouts['r1'], { ...record, threadKey: n.threadKey, replyTs: '1.000200' });
    assert.deepEqual(after.queue, []);
  });

  it('an answer for a rollout neither pending nor recorded changes nothing', () => {
    const s = accept([note('r1', 'progressing')]);
    const call = callFor(item(s, 'r1'), undefined, CHANNEL, CHANNEL_ID, config()) as SlackCall;
    const other = { ...call, rolloutId: 'r9' } as SlackCall;
    assert.equal(recordSent(s, other, { ts: TS }, config()), s);
    assert.equal(recordGone(s, other), s);
    assert.deepEqual(recordRejected(s, other, config()), { state: s, gaveUp: null });
  });

  it('a record sent again is recent again: the least recently sent one is evicted', () => {
    const cfg = config({ recordCap: 2 });
    let s = sent(accept([note('a', 'progressing')], cfg), 'a', cfg);
    s = sent(accept([note('b', 'progressing')], cfg, s), 'b', cfg);
    s = sent(accept([note('a', 'progressing', { text: 'a again' })], cfg, s), 'a', cfg);
    s = sent(accept([note('c', 'progressing')], cfg, s), 'c', cfg);
    assert.deepEqual(Object.keys(s.rollouts), ['a', 'c']);
  });

  it('records at the cap are all kept; over it only the excess goes', () => {
    const cfg = config({ recordCap: 2 });
    let s = sent(accept([note('a', 'progressing')], cfg), 'a', cfg);
    s = sent(accept([note('b', 'progressing')], cfg, s), 'b', cfg);
    assert.deepEqual(Object.keys(s.rollouts), ['a', 'b']);
    const three = { ...s, rollouts: { ...s.rollouts, x: shown('x'), y: shown('y') } };
    s = sent(accept([note('c', 'progressing')], cfg, three), 'c', cfg);
    assert.deepEqual(Object.keys(s.rollouts), ['y', 'c']);
  });

  it('a progress update settled leaves the other items and the finished list alone', () => {
    const s = accept([note('r1', 'progressing'), note('r2', 'progressing')], config(), { ...empty(), finished: ['old'] });
    const after = sent(s, 'r1');
    assert.deepEqual([after.queue.map((p) => p.rolloutId), after.finished], [['r2'], ['old']]);
  });

  it('settling a rollout that has nothing pending returns the state itself', () => {
    const s = accept([note('r1', 'progressing')]);
    assert.equal(settleRollout(s, 'r9', config()), s);
  });

  it('settling a recorded rollout that has nothing pending returns the state itself', () => {
    const s = { ...accept([note('r1', 'progressing')]), rollouts: { r9: shown('r9') } };
    assert.equal(settleRollout(s, 'r9', config()), s);
  });

  it('an item without a thread settles once its message is sent, even when an earlier version posted a thread', () => {
    const s = accept([note('r1', 'progressing', { text: 'v2' })], config(), { ...empty(), rollouts: { r1: shown('r1', { threadKey: 'an earlier thread' }) } });
    assert.deepEqual(sent(s, 'r1').queue, []);
  });

  it('a rejected thread reply given up is marked as posted; the item stays for its main message', () => {
    const n = note('r1', 'failed', { thread: 'details' });
    const s = accept([n], config(), { ...empty(), rollouts: { r1: shown('r1', { sentKey: n.contentKey }) } });
    const plain = { ...s, queue: s.queue.map((p) => ({ ...p, plain: true })) };
    const call = callFor(item(plain, 'r1'), plain.rollouts['r1'], CHANNEL, CHANNEL_ID, config()) as SlackCall;
    assert.equal(call.op, 'reply');
    const r = recordRejected(plain, call, config());
    assert.deepEqual([r.gaveUp?.rolloutId, r.state.rollouts['r1']?.threadKey, r.state.queue.length], ['r1', n.threadKey, 1]);
  });

  it('a rejected progress update given up leaves the queue but the rollout is not forgotten', () => {
    const s = accept([note('r1', 'progressing')]);
    const plain = { ...s, queue: s.queue.map((p) => ({ ...p, plain: true })) };
    const call = callFor(item(plain, 'r1'), undefined, CHANNEL, CHANNEL_ID, config()) as SlackCall;
    const r = recordRejected(plain, call, config());
    assert.deepEqual([r.gaveUp?.rolloutId, r.state.queue, r.state.finished], ['r1', [], []]);
  });

  it('a rejected plain update of a shown message given up leaves the queue; the other items stay', () => {
    const s = accept([note('r1', 'progressing'), note('r2', 'progressing')], config(), { ...empty(), rollouts: { r1: shown('r1') } });
    const plain = { ...s, queue: s.queue.map((p) => (p.rolloutId === 'r1' ? { ...p, plain: true } : p)) };
    const call = callFor(item(plain, 'r1'), plain.rollouts['r1'], CHANNEL, CHANNEL_ID, config()) as SlackCall;
    assert.equal(call.op, 'update');
    const r = recordRejected(plain, call, config());
    assert.deepEqual([r.gaveUp?.rolloutId, r.state.queue.map((p) => p.rolloutId), r.state.rollouts['r1']?.threadKey], ['r1', ['r2'], null]);
  });

  it('a rejected message falls back to plain text for that rollout only', () => {
    const s = accept([note('r1', 'failed'), note('r2', 'failed')]);
    const call = callFor(item(s, 'r1'), undefined, CHANNEL, CHANNEL_ID, config()) as SlackCall;
    const r = recordRejected(s, call, config());
    assert.deepEqual(r.state.queue.map((p) => [p.rolloutId, p.plain]), [['r1', true], ['r2', false]]);
  });
});

describe('channelPolicy rules: one thread reply per message, edited in place (issue 12)', () => {
  /** A failed rollout whose message Slack shows, with `details` already replied in its thread at 1.000200. */
  function replied(cfg = config()): ChannelQueue {
    const first = note('r1', 'failing', { thread: 'details' });
    const s = accept([first], cfg, { ...empty(), rollouts: { r1: shown('r1', { sentKey: first.contentKey, sentPhase: 'failing' }) } });
    return sent(s, 'r1', cfg, { channelId: CHANNEL_ID, ts: '1.000200' });
  }

  it('a crash log read late edits the first reply (chat.update of its ts), never a second reply', () => {
    const s0 = replied();
    assert.equal(s0.rollouts['r1']?.replyTs, '1.000200');
    const late = note('r1', 'failing', { thread: 'details + the crash log' });
    const s1 = accept([{ ...late, contentKey: s0.rollouts['r1']?.sentKey ?? '' }], config(), s0);
    const call = callFor(item(s1, 'r1'), s1.rollouts['r1'], CHANNEL, CHANNEL_ID, config());
    assert.deepEqual(call, { op: 'reply', rolloutId: 'r1', channelId: CHANNEL_ID, threadTs: TS, message: { text: 'details + the crash log' }, threadKey: late.threadKey, replyTs: '1.000200' });
    assert.equal(call !== null && methodOf(call), 'chat.update');
    // So the edit waits for the workspace's chat.update budget, like any edit.
    assert.equal(wantsUpdate({ ...s1, channel: CHANNEL, channelId: CHANNEL_ID }, config()), true);
    // Slack's answer to chat.update carries no new ts: the record keeps the reply it edited.
    const s2 = recordSent(s1, call as SlackCall, {}, config());
    assert.deepEqual([s2.rollouts['r1']?.replyTs, s2.rollouts['r1']?.threadKey, s2.queue.length], ['1.000200', late.threadKey, 0]);
  });

  it('the same thread content again sends nothing', () => {
    const s0 = replied();
    const again = note('r1', 'failing', { thread: 'details' });
    assert.equal(acceptNotification(s0, { ...again, contentKey: s0.rollouts['r1']?.sentKey ?? '' }, config(), null).kind, 'skipped');
  });

  it('a reply edit that finds the reply gone replies anew; the message itself gone forgets the reply too', () => {
    const s0 = replied();
    const edit: SlackCall = { op: 'reply', rolloutId: 'r1', channelId: CHANNEL_ID, threadTs: TS, message: { text: 'x' }, threadKey: 't2', replyTs: '1.000200' };
    const gone = recordGone(s0, edit).rollouts['r1'];
    assert.deepEqual([gone?.replyTs, gone?.threadKey, gone?.ts], [null, s0.rollouts['r1']?.threadKey, TS]);
    const update: SlackCall = { op: 'update', rolloutId: 'r1', channelId: CHANNEL_ID, ts: TS, message: { text: 'x', attachments: [] }, contentKey: 'k2', phase: 'failed', version: 3, notifiedAt: 7, final: true };
    assert.equal(recordGone(s0, update).rollouts['r1']?.replyTs, null);
  });

  it('post mode: a new message starts a new thread, so its first reply is posted, not an edit of the old one', () => {
    const post = config({ mode: 'post' });
    const s2 = sent(accept([note('r2', 'failed', { thread: 'why' })], post, { ...empty(), rollouts: { r2: shown('r2', { replyTs: '1.000300', threadKey: 'old' }) } }), 'r2', post, { channelId: CHANNEL_ID, ts: '2.000200' });
    assert.deepEqual([s2.rollouts['r2']?.ts, s2.rollouts['r2']?.replyTs, s2.rollouts['r2']?.threadKey], ['2.000200', null, null]);
    const reply = callFor(item(s2, 'r2'), s2.rollouts['r2'], CHANNEL, CHANNEL_ID, post);
    assert.deepEqual(reply?.op === 'reply' && [reply.threadTs, reply.replyTs], ['2.000200', null]);
  });

  it('a record saved before Hermod kept the reply ts posts a reply (never an edit of ts undefined)', () => {
    const n = note('r1', 'failing', { thread: 'details' });
    const legacy = shown('r1', { sentKey: n.contentKey, threadKey: 'old' });
    delete legacy.replyTs;
    const s = accept([n], config(), { ...empty(), rollouts: { r1: legacy } });
    const call = callFor(item(s, 'r1'), s.rollouts['r1'], CHANNEL, CHANNEL_ID, config());
    assert.deepEqual(call?.op === 'reply' && [call.replyTs, methodOf(call)], [null, 'chat.postMessage']);
  });
});

describe('channelPolicy rules: forgetting', () => {
  it('a forgotten rollout leaves the queue and the records, other rollouts stay', () => {
    const s = accept([note('r1', 'progressing'), note('r2', 'progressing')], config(), { ...empty(), rollouts: { r1: shown('r1'), r2: shown('r2') } });
    const after = forget(s, 'r1', config());
    assert.deepEqual([after.queue.map((p) => p.rolloutId), Object.keys(after.rollouts), after.finished], [['r2'], ['r2'], ['r1']]);
  });

  it('a rollout forgotten twice is remembered once, as the latest', () => {
    let s = empty();
    for (const id of ['a', 'b', 'a']) s = forget(s, id, config({ finishedCap: 3 }));
    assert.deepEqual(s.finished, ['b', 'a']);
  });

  it('the finished ring holds exactly finishedCap ids', () => {
    let s = empty();
    for (const id of ['a', 'b']) s = forget(s, id, config({ finishedCap: 2 }));
    assert.deepEqual(s.finished, ['a', 'b']);
  });
});

describe('channelPolicy rules: plain text, jitter, hashes', () => {
  it('plain text of exactly 3,000 characters is kept whole; 3,001 are cut to 2,999 and an ellipsis', () => {
    const exact = 'x'.repeat(3000);
    assert.equal(plainContent({ text: exact }).text, exact);
    assert.equal(plainContent({ text: `${exact}y` }).text, `${'x'.repeat(2999)}…`);
  });

  it('xorshift32 (13, 17, 5): the generator is the published one', () => {
    // x = 1: 1 ^ 1 << 13 = 8193; 8193 ^ 8193 >>> 17 = 8193; 8193 ^ 8193 << 5 = 270369.
    assert.deepEqual(nextRandom(1), { value: 270369 / 0x100000000, seed: 270369 });
    // Bits that reach the top: the shifts are logical, the result unsigned.
    const r = nextRandom(0x80000001);
    assert.ok(r.seed > 0 && r.seed <= 0xffffffff && r.value < 1);
    assert.deepEqual(nextRandom(0xffffffff), nextRandom(-1), 'the seed is taken as 32 bits');
  });

  it('a zero seed is replaced by a fixed non-zero one (xorshift stays at zero forever)', () => {
    assert.deepEqual(nextRandom(0), nextRandom(0x9e3779b9));
  });

  it('backoff delays are whole milliseconds, and the exponent stops growing (no overflow past the cap)', () => {
    const cfg = { backoffBaseMs: 1000, backoffCapMs: 60_000 };
    for (let seed = 1; seed < 50; seed++) assert.ok(Number.isInteger(backoffDelay(3, seed, cfg).delayMs));
    const far = backoffDelay(5000, 9, { backoffBaseMs: 0.5, backoffCapMs: Number.POSITIVE_INFINITY });
    assert.ok(Number.isFinite(far.delayMs), `${far.delayMs}`);
    assert.deepEqual(backoffDelay(0, 9, cfg), { delayMs: Math.round(500 + nextRandom(9).value * 500), seed: nextRandom(9).seed });
  });

  it('content hash: FNV-1a in hex and the length of the JSON; undefined hashes as empty text', () => {
    assert.equal(contentHash(undefined), '811c9dc5:0');
    assert.equal(contentHash('a'), '61a1cfea:3');
  });
});

describe('channelTypes rules', () => {
  it('the Slack method of a call (a metric label): chat.update for an update and a reply edited, chat.postMessage for a post and a first reply', () => {
    const calls: Array<[Partial<SlackCall>, string]> = [
      [{ op: 'update' }, 'chat.update'],
      [{ op: 'post' }, 'chat.postMessage'],
      [{ op: 'reply', replyTs: null }, 'chat.postMessage'],
      [{ op: 'reply', replyTs: '1.000200' }, 'chat.update'],
    ];
    for (const [call, method] of calls) assert.equal(methodOf(call as SlackCall), method, JSON.stringify(call));
  });

  it("the Slack call's answer events are xstate's done and error events of the actor slackCall", () => {
    assert.deepEqual([SLACK_DONE, SLACK_ERROR], ['xstate.done.actor.slackCall', 'xstate.error.actor.slackCall']);
  });
});
