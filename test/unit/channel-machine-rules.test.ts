/**
 * The rules of src/machines/channelMachine.ts one small scenario each (issue 15): what each
 * emitted event says field by field (the metrics and logs of the delivery layer read them),
 * the queue depth reports, the floor of Retry-After, and the blocked state's error.
 * The harness is test/support/channelHarness.ts (a scripted in-memory Slack on a SimulatedClock).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../src/machines/channelPolicy.js';
import { DEFAULT_CHANNEL_CONFIG } from '../../src/machines/channelTypes.js';
import { harness, note } from '../support/channelHarness.js';

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
  it('a permanent failure names the method, error, scope, the rollout of the call, and every namespace waiting, the call\'s first', async () => {
    const h = harness();
    h.slack.script = (c) => (c.op === 'post' ? { kind: 'permanent', error: 'not_in_channel', scope: 'channel' } : null);
    for (const id of ['r1', 'r2', 'r1b']) h.channel('c').send({ type: 'rollout.notified', notification: { ...note(id, 'progressing'), namespace: id === 'r1b' ? 'ns-r1' : `ns-${id}` } });
    await h.advance(1000);
    assert.deepEqual(h.of('permanentFailure'), [
      { type: 'permanentFailure', channel: 'c', method: 'chat.postMessage', error: 'not_in_channel', scope: 'channel', rolloutId: 'r1', namespaces: ['ns-r1', 'ns-r2'] },
    ]);
    assert.deepEqual(h.of('dropped'), [
      {
        type: 'dropped', channel: 'c', reason: 'permanent_error',
        rollouts: [{ rolloutId: 'r1', namespace: 'ns-r1', final: false }, { rolloutId: 'r2', namespace: 'ns-r2', final: false }, { rolloutId: 'r1b', namespace: 'ns-r1', final: false }],
      },
    ]);
    assert.equal(h.channel('c').getSnapshot().context.blockedError, 'not_in_channel');
  });

  it('a notification to a blocked channel is dropped, saying which; the error is kept until the channel opens again', async () => {
    const h = harness({ blockedForMs: 60_000 });
    h.channel('c').send({ type: 'workspace.blocked', error: 'token_revoked' });
    await h.flush();
    assert.equal(h.channel('c').getSnapshot().context.blockedError, 'token_revoked');
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
