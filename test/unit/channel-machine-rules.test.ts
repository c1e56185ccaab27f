/**
 * The rules of src/machines/channelMachine.ts one small scenario each (issue 15): what each
 * emitted event says field by field (the metrics and logs of the delivery layer read them),
 * the queue depth reports, the floor of Retry-After, and the blocked state's error.
 * The harness is test/support/channelHarness.ts (a scripted in-memory Slack on a SimulatedClock).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor } from 'xstate';
import { channelMachine } from '../../src/machines/channelMachine.js';
import { backoffDelay, contentHash } from '../../src/machines/channelPolicy.js';
import { DEFAULT_CHANNEL_CONFIG, type ChannelEmitted, type ChannelRestore } from '../../src/machines/channelTypes.js';
import { harness, note, ofRelease } from '../support/channelHarness.js';

/** The harness seeds each channel's jitter with its name's length + 7. */
const firstDelay = (channel: string): number => backoffDelay(0, channel.length + 7, DEFAULT_CHANNEL_CONFIG).delayMs;

describe('channelMachine rules: delivered', () => {
  it('a post, an update and a reply each say which rollout, when it was notified, when Slack took it, and whether it was final', async () => {
    const h = harness();
    await h.send('c', note('r1', 'failing', { at: 5, thread: 'details' }));
    await h.advance(2000);
    h.clock.increment(1000);
    await h.send('c', note('r1', 'failed', { at: 7 }));
    await h.advance(2000);
    const replyAt = h.slack.calls.find((c) => c.op === 'reply')?.at;
    assert.deepEqual(h.of('delivered'), [
      { type: 'delivered', channel: 'c', rolloutId: 'r1', op: 'post', notifiedAt: 5, at: 0, final: false },
      { type: 'delivered', channel: 'c', rolloutId: 'r1', op: 'reply', notifiedAt: replyAt, at: replyAt, final: false },
      { type: 'delivered', channel: 'c', rolloutId: 'r1', op: 'update', notifiedAt: 7, at: 3000, final: true },
    ]);
  });
});

describe('channelMachine rules: queue depth', () => {
  it('is reported at start and after each change of the queue, once per new value', async () => {
    const h = harness();
    await h.send('c', note('r1', 'succeeded'));
    await h.advance(1000);
    await h.send('c', note('r2', 'succeeded'));
    await h.advance(1000);
    assert.deepEqual(h.of('queueDepth').map((e) => [e.channel, e.depth]), [['c', 0], ['c', 1], ['c', 0], ['c', 1], ['c', 0]]);
  });

  it('a notification accepted while a call backs off is reported at once', async () => {
    const h = harness();
    h.slack.script = () => ({ kind: 'transient', error: 'http_503' });
    await h.send('c', note('r1', 'succeeded'));
    assert.equal(h.state('c'), 'backingOff');
    await h.send('c', note('r2', 'succeeded'));
    assert.deepEqual(h.of('queueDepth').map((e) => e.depth), [0, 1, 2]);
  });

  it('a channel that blocks reports its emptied queue at once', async () => {
    const h = harness();
    h.slack.script = () => ({ kind: 'permanent', error: 'channel_not_found', scope: 'channel' });
    await h.send('c', note('r1', 'succeeded'));
    assert.equal(h.state('c'), 'blocked');
    assert.deepEqual(h.of('queueDepth').map((e) => e.depth), [0, 1, 0]);
  });
});

describe('channelMachine rules: rate limits', () => {
  it('a post 429 names chat.postMessage and its Retry-After', async () => {
    const h = harness();
    h.slack.script = (c) => (c.op === 'post' && h.slack.calls.length === 1 ? { kind: 'rateLimited', error: 'ratelimited', retryAfterSec: 3 } : null);
    await h.send('c', note('r1', 'succeeded'));
    await h.advance(5000);
    assert.deepEqual(h.of('rateLimited'), [{ type: 'rateLimited', channel: 'c', method: 'chat.postMessage', retryAfterSec: 3 }]);
  });

  it('an update 429 names chat.update and does not hold the channel back', async () => {
    const h = harness();
    await h.send('c', note('r1', 'progressing'));
    await h.advance(1000);
    h.slack.script = (c) => (c.op === 'update' ? { kind: 'rateLimited', error: 'ratelimited', retryAfterSec: 20 } : null);
    await h.send('c', note('r1', 'succeeded'));
    await h.advance(100);
    h.slack.script = () => null;
    assert.deepEqual(h.of('rateLimited'), [{ type: 'rateLimited', channel: 'c', method: 'chat.update', retryAfterSec: 20 }]);
    await h.send('c', note('r2', 'succeeded'));
    await h.advance(100);
    assert.equal(h.slack.byRollout('r2').length, 1, 'posting goes on while the update waits for the workspace budget');
  });

  it('a Retry-After of 0 still waits one second', async () => {
    const h = harness();
    h.slack.script = (c) => (h.slack.calls.length === 1 && c.op === 'post' ? { kind: 'rateLimited', error: 'ratelimited', retryAfterSec: 0 } : null);
    await h.send('c', note('r1', 'succeeded'));
    await h.advance(950);
    assert.equal(h.slack.calls.length, 1);
    await h.advance(100);
    assert.equal(h.slack.calls.length, 2);
  });

  it('a 429 empties the post bucket: the next post waits a post interval after the retry', async () => {
    const h = harness({ postBurst: 3, postIntervalMs: 1000 });
    h.slack.script = (c) => (h.slack.calls.length === 1 && c.op === 'post' ? { kind: 'rateLimited', error: 'ratelimited', retryAfterSec: 1 } : null);
    await h.send('c', note('r1', 'succeeded'));
    await h.send('c', note('r2', 'succeeded'));
    await h.advance(5000, 10);
    assert.deepEqual(h.slack.calls.map((c) => [c.rolloutId, c.at]), [['r1', 0], ['r1', 1000], ['r2', 2000]]);
  });
});

describe('channelMachine rules: retries', () => {
  it('a transient failure says the method, the attempt, the delay, the error, and that it was not ambiguous', async () => {
    const h = harness();
    h.slack.script = () => (h.slack.calls.length <= 2 ? { kind: 'transient', error: 'http_503' } : null);
    await h.send('c', note('r1', 'succeeded'));
    await h.advance(10_000);
    const second = backoffDelay(1, backoffDelay(0, 8, DEFAULT_CHANNEL_CONFIG).seed, DEFAULT_CHANNEL_CONFIG).delayMs;
    assert.deepEqual(h.of('retrying'), [
      { type: 'retrying', channel: 'c', method: 'chat.postMessage', attempt: 1, delayMs: firstDelay('c'), error: 'http_503', ambiguous: false },
      { type: 'retrying', channel: 'c', method: 'chat.postMessage', attempt: 2, delayMs: second, error: 'http_503', ambiguous: false },
    ]);
    assert.deepEqual(h.of('recovered'), [{ type: 'recovered', channel: 'c', attempts: 2 }]);
  });

  it('a timed-out update is retried as ambiguous without counting a duplicate; it gives up its budget grant', async () => {
    const h = harness();
    await h.send('c', note('r1', 'progressing'));
    await h.advance(1000);
    h.slack.script = (c) => (c.op === 'update' ? { kind: 'ambiguous', error: 'timeout' } : null);
    await h.send('c', note('r1', 'succeeded'));
    await h.advance(100);
    h.slack.script = () => null;
    assert.deepEqual(h.of('retrying'), [{ type: 'retrying', channel: 'c', method: 'chat.update', attempt: 1, delayMs: firstDelay('c'), error: 'timeout', ambiguous: true }]);
    assert.deepEqual(h.of('possibleDuplicate'), []);
    assert.equal(h.channel('c').getSnapshot().context.updateGrant, 'none');
    await h.advance(5000);
    assert.deepEqual(h.slack.messages[0]?.texts, ['r1 progressing', 'r1 succeeded']);
  });

  it('a timed-out post may leave a duplicate of the main message; a timed-out reply one of the thread', async () => {
    const h = harness();
    h.slack.script = (c) => (c.op !== 'update' && h.slack.calls.filter((x) => x.op === c.op).length === 1 ? { kind: 'ambiguous', error: 'timeout' } : null);
    await h.send('c', note('r1', 'failing', { thread: 'details' }));
    await h.advance(10_000);
    assert.deepEqual(h.of('possibleDuplicate'), [
      { type: 'possibleDuplicate', channel: 'c', rolloutId: 'r1', part: 'main' },
      { type: 'possibleDuplicate', channel: 'c', rolloutId: 'r1', part: 'thread' },
    ]);
  });

  it('a Slack call that throws (a bug) is retried, its error named', async () => {
    const h = harness();
    h.slack.script = () => {
      if (h.slack.calls.length === 1) throw new Error('bug in the Slack adapter');
      return null;
    };
    await h.send('c', note('r1', 'succeeded'));
    await h.advance(5000);
    assert.deepEqual(h.of('retrying'), [
      { type: 'retrying', channel: 'c', method: 'chat.postMessage', attempt: 1, delayMs: firstDelay('c'), error: 'Error: bug in the Slack adapter', ambiguous: false },
    ]);
    assert.equal(h.slack.byRollout('r1').length, 1);
  });
});

describe('channelMachine rules: permanent failures and rejections', () => {
  it('a permanent failure names the method, error, scope, the rollout of the call, and every namespace and workload waiting, the call\'s first', async () => {
    const h = harness();
    h.slack.script = (c) => (c.op === 'post' ? { kind: 'permanent', error: 'not_in_channel', scope: 'channel' } : null);
    for (const id of ['r1', 'r2', 'r1b']) h.channel('c').send({ type: 'rollout.notified', notification: { ...note(id, 'progressing'), namespace: id === 'r1b' ? 'ns-r1' : `ns-${id}`, workload: `web-${id}` } });
    await h.advance(1000);
    assert.deepEqual(h.of('permanentFailure'), [
      {
        type: 'permanentFailure', channel: 'c', method: 'chat.postMessage', error: 'not_in_channel', scope: 'channel', rolloutId: 'r1', namespaces: ['ns-r1', 'ns-r2'],
        workloads: [{ namespace: 'ns-r1', name: 'web-r1' }, { namespace: 'ns-r2', name: 'web-r2' }, { namespace: 'ns-r1', name: 'web-r1b' }],
      },
    ]);
    assert.deepEqual(h.of('dropped'), [
      {
        type: 'dropped', channel: 'c', reason: 'permanent_error',
        rollouts: [{ rolloutId: 'r1', namespace: 'ns-r1', final: false }, { rolloutId: 'r2', namespace: 'ns-r2', final: false }, { rolloutId: 'r1b', namespace: 'ns-r1', final: false }],
      },
    ]);
    assert.equal(h.channel('c').getSnapshot().context.blockedError, 'not_in_channel');
  });

  it('a permanent failure lists no workload for work that does not name one (an older snapshot\'s)', async () => {
    const h = harness();
    h.slack.script = () => ({ kind: 'permanent', error: 'channel_not_found', scope: 'channel' });
    const { workload: _, ...unnamed } = note('r1', 'progressing');
    await h.send('c', unnamed);
    await h.advance(1000);
    assert.deepEqual(h.of('permanentFailure').map((e) => [e.namespaces, e.workloads]), [[['ns-r1'], []]]);
  });

  it('a permanent failure lists two workloads of one name in two namespaces as two', async () => {
    const h = harness();
    h.slack.script = () => ({ kind: 'permanent', error: 'channel_not_found', scope: 'channel' });
    h.channel('c').send({ type: 'rollout.notified', notification: { ...note('r1', 'progressing'), namespace: 'team-a', workload: 'web' } });
    h.channel('c').send({ type: 'rollout.notified', notification: { ...note('r2', 'progressing'), namespace: 'team-b', workload: 'web' } });
    await h.advance(1000);
    assert.deepEqual(h.of('permanentFailure').map((e) => e.workloads), [[{ namespace: 'team-a', name: 'web' }, { namespace: 'team-b', name: 'web' }]]);
  });

  it('a notification to a blocked channel is dropped, saying which; the error is kept until the channel opens again', async () => {
    const h = harness({ blockedForMs: 60_000 });
    h.channel('c').send({ type: 'workspace.blocked', error: 'token_revoked' });
    await h.flush();
    assert.equal(h.channel('c').getSnapshot().context.blockedError, 'token_revoked');
    assert.deepEqual(h.of('dropped'), [], 'an empty queue drops nothing');
    await h.send('c', note('r1', 'failed'));
    assert.deepEqual(h.of('dropped').at(-1), { type: 'dropped', channel: 'c', reason: 'channel_blocked', rollouts: [{ rolloutId: 'r1', namespace: 'ns-r1', final: false }] });
    await h.advance(60_000, 1000);
    assert.equal(h.channel('c').getSnapshot().context.blockedError, null);
  });

  it('a rejected message names the rollout, its namespace and the main part; given up as plain text too, it is dropped as final', async () => {
    const h = harness();
    h.slack.script = (c) => (c.op === 'post' ? { kind: 'rejected', error: 'invalid_blocks' } : null);
    await h.send('c', note('r1', 'failed'));
    await h.advance(5000);
    assert.deepEqual(h.of('messageRejected'), [
      { type: 'messageRejected', channel: 'c', error: 'invalid_blocks', rolloutId: 'r1', namespace: 'ns-r1', part: 'main', fallback: 'plain' },
      { type: 'messageRejected', channel: 'c', error: 'invalid_blocks', rolloutId: 'r1', namespace: 'ns-r1', part: 'main', fallback: 'gave_up' },
    ]);
    assert.deepEqual(h.of('dropped'), [{ type: 'dropped', channel: 'c', reason: 'rejected', rollouts: [{ rolloutId: 'r1', namespace: 'ns-r1', final: true }] }]);
  });

  it('a rejected thread reply is reported as the thread part, tried as plain text, then given up without a drop', async () => {
    const h = harness();
    h.slack.script = (c) => (c.op === 'reply' ? { kind: 'rejected', error: 'invalid_blocks' } : null);
    await h.send('c', note('r1', 'failed', { thread: 'details' }));
    await h.advance(5000);
    assert.deepEqual(h.of('messageRejected').map((e) => [e.part, e.fallback, e.namespace]), [['thread', 'plain', 'ns-r1'], ['thread', 'gave_up', 'ns-r1']]);
    assert.deepEqual(h.of('dropped'), []);
  });

  it('a message Slack deleted is posted anew at once, without a retry', async () => {
    const h = harness();
    await h.send('c', note('r1', 'progressing'));
    await h.advance(1000);
    h.slack.messages.length = 0;
    await h.send('c', note('r1', 'failed'));
    await h.advance(1000);
    assert.deepEqual(h.slack.calls.map((c) => c.op), ['post', 'update', 'post']);
    assert.deepEqual(h.of('retrying'), []);
    assert.equal(h.channel('c').getSnapshot().context.attempt, 0);
  });
});

describe('channelMachine rules: state it keeps', () => {
  it('the channel ID comes from a post\'s answer and stays through updates that do not repeat it; nothing stays in flight', async () => {
    const h = harness();
    await h.send('c', note('r1', 'progressing'));
    await h.advance(1000);
    assert.equal(h.channel('c').getSnapshot().context.channelId, 'C_c');
    await h.send('c', note('r1', 'succeeded'));
    await h.advance(1000);
    assert.equal(h.channel('c').getSnapshot().context.channelId, 'C_c');
    assert.equal(h.channel('c').getSnapshot().context.inFlight, null);
  });

  it('a channel waiting only for post tokens does not ask the update budget', async () => {
    const h = harness({ postBurst: 1, postIntervalMs: 1000 });
    await h.send('c', note('r1', 'succeeded'));
    await h.send('c', note('r2', 'succeeded'));
    assert.equal(h.state('c'), 'waiting');
    assert.equal(h.channel('c').getSnapshot().context.updateGrant, 'none');
  });

  it('a channel waiting for the update budget says it asked', async () => {
    const h = harness({}, { intervalMs: 60_000, burst: 1 });
    await h.send('c', note('r1', 'progressing', { text: 'v1' }));
    await h.send('c', note('r1', 'progressing', { text: 'v2' }));
    await h.send('c', note('r1', 'progressing', { text: 'v3' }));
    assert.equal(h.state('c'), 'waiting');
    assert.equal(h.channel('c').getSnapshot().context.updateGrant, 'requested');
  });

  it('a budget grant that arrives while the channel backs off a post is kept for the update that waits', async () => {
    const h = harness({ backoffBaseMs: 5000 }, { intervalMs: 1000, burst: 1 });
    await h.send('c', note('r0', 'progressing', { text: 'v1' }));
    await h.send('c', note('r0', 'progressing', { text: 'v2' }));
    await h.send('c', note('r0', 'progressing', { text: 'v3' }));
    h.slack.script = (c) => (c.rolloutId === 'r1' && h.slack.calls.filter((x) => x.rolloutId === 'r1').length === 1 ? { kind: 'transient', error: 'http_503' } : null);
    await h.send('c', note('r1', 'failed'));
    assert.equal(h.state('c'), 'backingOff');
    await h.advance(10_000);
    assert.deepEqual(h.slack.messages[0]?.texts, ['v1', 'v2', 'v3']);
  });

  it('the update budget refills after updates, so a later burst goes at once', async () => {
    const h = harness({}, { intervalMs: 1000, burst: 2 });
    await h.send('c', note('r1', 'progressing', { text: 'v1' }));
    await h.send('c', note('r1', 'progressing', { text: 'v2' }));
    await h.advance(10_000);
    await h.send('c', note('r1', 'progressing', { text: 'v3' }));
    await h.send('c', note('r2', 'progressing', { text: 'w1' }));
    await h.send('c', note('r2', 'progressing', { text: 'w2' }));
    await h.advance(0);
    assert.deepEqual(h.slack.calls.filter((c) => c.op === 'update').map((c) => c.at), [0, 10_000, 10_000]);
  });

  it('the post bucket refills to the whole burst after a quiet time, and its clock then stops', async () => {
    const h = harness({ postBurst: 3, postIntervalMs: 1000 });
    for (const id of ['a', 'b', 'c']) await h.send('c', note(id, 'succeeded'));
    await h.advance(10_000);
    assert.equal((h.channel('c').getSnapshot().value as { pacing: string }).pacing, 'idle');
    for (const id of ['d', 'e', 'f']) await h.send('c', note(id, 'succeeded'));
    assert.deepEqual(h.slack.calls.map((c) => c.at), [0, 0, 0, 10_000, 10_000, 10_000]);
  });

  it('a new progress update refused because only verdicts are queued is dropped as not final', async () => {
    const h = harness({ queueCap: 2 });
    h.slack.script = () => ({ kind: 'transient', error: 'http_503' });
    await h.send('c', note('f1', 'failed'));
    await h.send('c', note('f2', 'failed'));
    await h.send('c', note('p1', 'progressing'));
    assert.deepEqual(h.of('dropped'), [{ type: 'dropped', channel: 'c', reason: 'queue_full', rollouts: [{ rolloutId: 'p1', namespace: 'ns-p1', final: false }] }]);
  });
});

describe('channelMachine rules: the call whose answer is read', () => {
  /** r0 waits for the update budget at the head of the queue while r1's post goes. */
  async function r0WaitsAheadOfR1(answer: 'rejected' | 'permanent') {
    const h = harness({}, { intervalMs: 60_000, burst: 1 });
    await h.send('c', note('r0', 'progressing', { text: 'v1' }));
    await h.send('c', note('r0', 'progressing', { text: 'v2' }));
    await h.send('c', note('r0', 'progressing', { text: 'v3' }));
    h.slack.script = (c) =>
      c.rolloutId !== 'r1' ? null : answer === 'rejected' ? { kind: 'rejected', error: 'invalid_blocks' } : { kind: 'permanent', error: 'is_archived', scope: 'channel' };
    await h.send('c', note('r1', 'failed'));
    return h;
  }

  it('a rejected message is reported with its own rollout\'s namespace, not the head of the queue\'s', async () => {
    const h = await r0WaitsAheadOfR1('rejected');
    assert.deepEqual(h.of('messageRejected')[0]?.namespace, 'ns-r1');
  });

  it('a permanent failure lists the namespace of the failed call first', async () => {
    const h = await r0WaitsAheadOfR1('permanent');
    assert.deepEqual(h.of('permanentFailure').map((e) => [e.rolloutId, e.namespaces]), [['r1', ['ns-r1', 'ns-r0']]]);
  });

  it('a permanent failure lists the workload of the failed call first', async () => {
    const h = await r0WaitsAheadOfR1('permanent');
    assert.deepEqual(h.of('permanentFailure').map((e) => [e.rolloutId, e.workloads]), [
      ['r1', [{ namespace: 'ns-r1', name: 'web-r1' }, { namespace: 'ns-r0', name: 'web-r0' }]],
    ]);
  });
});

describe('channelMachine rules: release pacing (ADR 0010)', () => {
  const EDIT_INTERVAL = 5000;
  const grouping = { releaseWindowMs: 30_000, releaseEditIntervalMs: EDIT_INTERVAL };
  // ofRelease: rollouts of commit SHA that started at 0, so `a` and `b` form one release (`a` its anchor).
  const parentEdits = (h: ReturnType<typeof harness>): number[] => h.slack.calls.filter((c) => c.op === 'update' && c.rolloutId === 'a').map((c) => c.at);

  it("the anchor's first post does not hold the parent's first edit: it goes as soon as a member joins", async () => {
    const h = harness(grouping);
    await h.send('c', ofRelease('a', 'progressing'));
    await h.send('c', ofRelease('b', 'progressing'));
    await h.advance(EDIT_INTERVAL);
    assert.deepEqual(h.slack.calls.map((c) => [c.op, c.rolloutId, c.at]), [['post', 'a', 0], ['update', 'a', 0]]);
  });

  it("a member's post in the thread does not hold the parent's next edit: it goes with the post, not an interval later", async () => {
    const h = harness(grouping);
    await h.send('c', ofRelease('a', 'progressing'));
    await h.send('c', ofRelease('b', 'progressing'));
    await h.advance(3 * EDIT_INTERVAL); // the first edit's hold is over whenever it went
    const failedAt = h.clock.now();
    await h.send('c', ofRelease('b', 'failing'));
    await h.advance(2 * EDIT_INTERVAL);
    const memberPost = h.slack.calls.find((c) => c.op === 'post' && c.rolloutId === 'b');
    assert.equal(memberPost?.op === 'post' ? [memberPost.threadTs, memberPost.at].join(' at ') : memberPost, `1.000000 at ${failedAt}`);
    assert.deepEqual(parentEdits(h).filter((at) => at >= failedAt), [failedAt]);
  });
});

describe('channelMachine rules: input', () => {
  it('a restored channel knows its channel ID and records, and reports its pending depth at start', async () => {
    const h = harness();
    const pending = { ...note('r1', 'succeeded'), final: true, version: 2, plain: false };
    const restore: ChannelRestore = {
      channelId: 'C_r',
      rollouts: [{ rolloutId: 'r1', namespace: 'ns-r1', channelId: 'C_r', ts: '7.000000', sentPhase: 'progressing', sentVersion: 1, sentKey: 'k', threadKey: null, milestone: null }],
      finished: ['r0'],
      pending: [{ rolloutId: pending.rolloutId, namespace: pending.namespace, phase: pending.phase, final: true, version: 2, message: pending.message, contentKey: contentHash(pending.message), thread: null, threadKey: null, notifiedAt: 0, plain: false }],
    };
    h.slack.messages.push({ channelId: 'C_r', ts: '7.000000', rolloutId: 'r1', versions: [1], texts: ['r1 progressing'], replies: [], replyTs: [] });
    const emitted: ChannelEmitted[] = [];
    const actor = createActor(channelMachine.provide({ actors: { callSlack: h.slack.actor } }), {
      parent: h.root, systemId: 'ch:r', input: { channel: 'r', systemId: 'ch:r', config: { postIntervalMs: 1000, postBurst: 3 }, seed: 1, restore },
    });
    actor.on('*', (e) => emitted.push(e as ChannelEmitted));
    actor.start();
    assert.deepEqual(emitted[0], { type: 'queueDepth', channel: 'r', depth: 1 });
    assert.equal(actor.getSnapshot().context.channelId, 'C_r');
    assert.deepEqual(Object.keys(actor.getSnapshot().context.rollouts), ['r1']);
    await h.advance(2000);
    assert.deepEqual(h.slack.calls.map((c) => [c.op, c.op === 'update' ? c.ts : null]), [['update', '7.000000']]);
    assert.deepEqual(h.slack.messages[0]?.texts, ['r1 progressing', 'r1 succeeded']);
  });

  it('a channel without a seed jitters from the default seed', async () => {
    const h = harness();
    h.slack.script = () => (h.slack.calls.length === 1 ? { kind: 'transient', error: 'http_503' } : null);
    const retries: ChannelEmitted[] = [];
    const actor = createActor(channelMachine.provide({ actors: { callSlack: h.slack.actor } }), { parent: h.root, systemId: 'ch:s', input: { channel: 's', systemId: 'ch:s' } });
    actor.on('retrying', (e) => retries.push(e));
    actor.start();
    actor.send({ type: 'rollout.notified', notification: note('r1', 'succeeded') });
    await h.advance(100);
    assert.deepEqual(retries.map((e) => e.type === 'retrying' && e.delayMs), [backoffDelay(0, 0x2545f491, DEFAULT_CHANNEL_CONFIG).delayMs]);
  });

  it('without a callSlack provided, each call fails and is retried, saying so', async () => {
    const h = harness();
    const retries: ChannelEmitted[] = [];
    const actor = createActor(channelMachine, { parent: h.root, systemId: 'ch:u', input: { channel: 'u', systemId: 'ch:u', seed: 1 } });
    actor.on('retrying', (e) => retries.push(e));
    actor.start();
    actor.send({ type: 'rollout.notified', notification: note('r1', 'succeeded') });
    await h.advance(100);
    assert.equal(retries[0]?.type === 'retrying' && retries[0].error, 'Error: channelMachine: provide the callSlack actor');
  });
});
