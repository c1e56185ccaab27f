/**
 * The channel statechart on a SimulatedClock. `callSlack` is provided (as the delivery layer
 * does) by a scripted in-memory Slack that answers with classified outcomes, so every
 * failure mode can be produced at an exact simulated time. The same behaviours are proven
 * end to end with the real WebClient and the local Slack server in delivery.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { harness, note } from '../support/channelHarness.js';

describe('channelMachine: update mode', () => {
  it('posts once, then updates the same message by channel ID and ts', async () => {
    const h = harness();
    await h.send('#deploys', note('r1', 'progressing'));
    await h.send('#deploys', note('r1', 'succeeded'));
    await h.advance(5000);
    assert.deepEqual(h.slack.calls.map((c) => c.op), ['post', 'update']);
    const [post, update] = h.slack.calls;
    assert.equal(post?.op === 'post' && post.channel, '#deploys');
    assert.equal(update?.op === 'update' && update.channelId, 'C_deploys');
    assert.equal(update?.op === 'update' && update.ts, h.slack.messages[0]?.ts);
    assert.deepEqual(h.slack.messages[0]?.texts, ['r1 progressing', 'r1 succeeded']);
    assert.equal(h.state('#deploys'), 'idle');
    // The finished rollout is forgotten, only its id is remembered.
    const ctx = h.channel('#deploys').getSnapshot().context;
    assert.deepEqual(Object.keys(ctx.rollouts), []);
    assert.deepEqual(ctx.finished, ['r1']);
  });

  it('coalesces updates that wait: only the latest is sent', async () => {
    const h = harness();
    await h.send('c', note('r1', 'progressing', { text: 'v1' }));
    // v1 is posted; v2's update gets a 429, so the workspace budget waits Retry-After while v3..v6 arrive.
    h.slack.script = (c) => (c.op === 'update' ? { kind: 'rateLimited', error: 'ratelimited', retryAfterSec: 10 } : null);
    await h.send('c', note('r1', 'progressing', { text: 'v2' }));
    h.slack.script = () => null;
    for (const v of ['v3', 'v4', 'v5', 'v6']) await h.send('c', note('r1', 'progressing', { text: v }));
    await h.advance(20_000);
    const texts = h.slack.messages[0]?.texts;
    assert.deepEqual(texts, ['v1', 'v6']);
    assert.equal(h.slack.calls.filter((c) => c.op === 'update').length, 2); // the 429'd one and v6
  });

  it('posts the verdict once when the start was never sent', async () => {
    const h = harness({ postBurst: 1, postIntervalMs: 1000 });
    await h.send('c', note('r0', 'progressing'));
    await h.send('c', note('r1', 'progressing'));
    await h.send('c', note('r1', 'succeeded'));
    await h.advance(5000);
    assert.equal(h.slack.byRollout('r1').length, 1);
    assert.deepEqual(h.slack.byRollout('r1')[0]?.texts, ['r1 succeeded']);
    assert.deepEqual(h.slack.calls.filter((c) => c.rolloutId === 'r1').map((c) => c.op), ['post']);
  });

  it('sends nothing for an unchanged render', async () => {
    const h = harness();
    await h.send('c', note('r1', 'progressing', { text: 'same' }));
    await h.advance(2000);
    await h.send('c', note('r1', 'progressing', { text: 'same' }));
    await h.advance(2000);
    assert.equal(h.slack.calls.length, 1);
    assert.equal(h.of('skipped').at(-1)?.reason, 'unchanged');
  });

  it('posts one thread reply under the message, and edits it when the thread content changes (issue 12)', async () => {
    const h = harness();
    await h.send('c', note('r1', 'failing', { thread: 'details A' }));
    await h.advance(3000);
    await h.send('c', note('r1', 'failing', { text: 'still failing', thread: 'details A' }));
    await h.advance(3000);
    await h.send('c', note('r1', 'failed', { thread: 'details B' }));
    await h.advance(3000);
    assert.deepEqual(h.slack.calls.map((c) => c.op), ['post', 'reply', 'update', 'update', 'reply']);
    assert.deepEqual(h.slack.messages[0]?.replies, ['details B']);
    const [, reply, , , edit] = h.slack.calls;
    assert.deepEqual(reply?.op === 'reply' && [reply.threadTs, reply.replyTs], [h.slack.messages[0]?.ts, null]);
    assert.deepEqual(edit?.op === 'reply' && [edit.threadTs, edit.replyTs], [h.slack.messages[0]?.ts, h.slack.messages[0]?.replyTs[0]]);
  });

  it('a crash log read late: the failing message first, then its one reply edited to carry the log (issue 12)', async () => {
    const h = harness();
    await h.send('c', note('r1', 'failing', { text: 'failing', thread: 'problems' }));
    await h.advance(3000);
    await h.send('c', note('r1', 'failing', { text: 'failing', thread: 'problems + crash log' }));
    await h.advance(3000);
    assert.deepEqual(h.slack.calls.map((c) => (c.op === 'reply' && c.replyTs !== null ? 'edit' : c.op)), ['post', 'reply', 'edit']);
    assert.deepEqual([h.slack.messages.length, h.slack.messages[0]?.replies], [1, ['problems + crash log']]);
  });

  it('a reply deleted in Slack is replied anew rather than lost', async () => {
    const h = harness();
    await h.send('c', note('r1', 'failing', { thread: 'A' }));
    await h.advance(3000);
    const m = h.slack.messages[0];
    m?.replies.splice(0);
    m?.replyTs.splice(0);
    await h.send('c', note('r1', 'failing', { thread: 'B' }));
    await h.advance(5000);
    assert.deepEqual(h.slack.calls.map((c) => (c.op === 'reply' && c.replyTs !== null ? 'edit' : c.op)), ['post', 'reply', 'edit', 'reply']);
    assert.deepEqual(m?.replies, ['B']);
  });

  it('ignores a late duplicate verdict after the rollout finished', async () => {
    const h = harness();
    await h.send('c', note('r1', 'succeeded'));
    await h.advance(2000);
    await h.send('c', note('r1', 'succeeded', { text: 'again' }));
    await h.send('c', note('r1', 'progressing', { text: 'stale' }));
    await h.advance(2000);
    assert.equal(h.slack.calls.length, 1);
    assert.deepEqual(h.of('skipped').map((s) => s.reason), ['late', 'late']);
  });

  it('re-posts when the message was deleted in Slack (message_not_found)', async () => {
    const h = harness();
    await h.send('c', note('r1', 'progressing'));
    await h.advance(1000);
    h.slack.messages.length = 0;
    await h.send('c', note('r1', 'failed'));
    await h.advance(3000);
    assert.deepEqual(h.slack.calls.map((c) => c.op), ['post', 'update', 'post']);
    assert.deepEqual(h.slack.byRollout('r1')[0]?.texts, ['r1 failed']);
  });
});

describe('channelMachine: alert level and post mode', () => {
  it('failure alert: a clean rollout posts nothing at all', async () => {
    const h = harness();
    for (const p of ['progressing', 'progressing', 'succeeded'] as const) await h.send('c', note('r1', p, { alert: 'failure', text: `x ${Math.random()}` }));
    await h.advance(3000);
    assert.equal(h.slack.calls.length, 0);
  });

  it('failure alert: posts from failing on, then updates to the verdict', async () => {
    const h = harness();
    await h.send('c', note('r1', 'progressing', { alert: 'failure' }));
    await h.send('c', note('r1', 'failing', { alert: 'failure' }));
    await h.advance(2000);
    await h.send('c', note('r1', 'succeeded', { alert: 'failure' }));
    await h.advance(3000);
    assert.deepEqual(h.slack.calls.map((c) => c.op), ['post', 'update']);
    assert.deepEqual(h.slack.messages[0]?.texts, ['r1 failing', 'r1 succeeded']);
  });

  it('post mode: a new message per start / verdict, no progress updates', async () => {
    const h = harness({ mode: 'post' });
    await h.send('c', note('r1', 'progressing', { text: 'start' }));
    await h.advance(2000);
    await h.send('c', note('r1', 'progressing', { text: 'progress' }));
    await h.send('c', note('r1', 'failing', { text: 'failing' }));
    await h.advance(2000);
    await h.send('c', note('r1', 'failed', { text: 'failed' }));
    await h.advance(2000);
    assert.deepEqual(h.slack.calls.map((c) => c.op), ['post', 'post']);
    assert.deepEqual(h.slack.messages.map((m) => m.texts), [['start'], ['failed']]);
  });

  it('post mode with failure alert: only the failed verdict', async () => {
    const h = harness({ mode: 'post' });
    for (const p of ['progressing', 'failing', 'failed'] as const) await h.send('c', note('r1', p, { alert: 'failure' }));
    await h.send('c', note('r2', 'progressing', { alert: 'failure' }));
    await h.send('c', note('r2', 'succeeded', { alert: 'failure' }));
    await h.advance(3000);
    assert.deepEqual(h.slack.messages.map((m) => m.texts), [['r1 failed']]);
  });
});

describe('channelMachine: pacing and rate limits', () => {
  it('paces postMessage per channel: a burst, then one per interval', async () => {
    const h = harness({ postBurst: 3, postIntervalMs: 1000 });
    for (let i = 0; i < 8; i++) await h.send('c', note(`r${i}`, 'succeeded'));
    await h.advance(10_000, 10);
    const times = h.slack.calls.map((c) => c.at);
    assert.deepEqual(times, [0, 0, 0, 1000, 2000, 3000, 4000, 5000]);
  });

  it('waits Retry-After on a 429 for that channel only', async () => {
    const h = harness();
    h.slack.script = (c) => (c.op === 'post' && c.channel === 'a' ? { kind: 'rateLimited', error: 'ratelimited', retryAfterSec: 30 } : null);
    await h.send('a', note('a1', 'succeeded'));
    await h.send('b', note('b1', 'succeeded'));
    await h.advance(1000);
    h.slack.script = () => null;
    assert.equal(h.state('a'), 'backingOff');
    assert.equal(h.slack.byRollout('b1').length, 1, 'the other channel is not delayed');
    await h.advance(28_000);
    assert.equal(h.slack.byRollout('a1').length, 0, 'nothing before Retry-After');
    await h.advance(2_000);
    assert.equal(h.slack.byRollout('a1').length, 1);
    assert.equal(h.slack.calls.filter((c) => c.rolloutId === 'a1').length, 2);
    assert.equal(h.of('rateLimited').length, 1);
  });

  it('shares the chat.update budget across channels and slows it after an update 429', async () => {
    const h = harness({}, { intervalMs: 1000, burst: 2 });
    for (const ch of ['a', 'b', 'c']) for (let i = 0; i < 2; i++) await h.send(ch, note(`${ch}${i}`, 'progressing'));
    await h.advance(2000);
    for (const ch of ['a', 'b', 'c']) for (let i = 0; i < 2; i++) await h.send(ch, note(`${ch}${i}`, 'succeeded'));
    await h.advance(20_000, 10);
    const updates = h.slack.calls.filter((c) => c.op === 'update').map((c) => c.at - 2000);
    assert.equal(updates.length, 6);
    // Two from the burst at once, then one per second across all channels.
    assert.deepEqual(updates, [0, 0, 1000, 2000, 3000, 4000]);

    h.slack.script = (c) => (c.op === 'update' && c.rolloutId === 'a9' ? { kind: 'rateLimited', error: 'ratelimited', retryAfterSec: 10 } : null);
    await h.send('a', note('a9', 'progressing'));
    await h.send('b', note('b9', 'progressing'));
    await h.advance(3000);
    const t0 = h.clock.now();
    await h.send('a', note('a9', 'succeeded'));
    await h.advance(500);
    h.slack.script = () => null;
    await h.send('b', note('b9', 'succeeded'));
    await h.advance(15_000, 10);
    const b9 = h.slack.calls.find((c) => c.op === 'update' && c.rolloutId === 'b9');
    assert.ok(b9 !== undefined && b9.at - t0 >= 10_000, 'the workspace budget waited the update Retry-After');
  });
});

describe('channelMachine: failures', () => {
  it('retries transient errors with capped exponential backoff and jitter, then delivers in order', async () => {
    const h = harness({ backoffBaseMs: 1000, backoffCapMs: 60_000 });
    h.slack.script = () => ({ kind: 'transient', error: 'http_503' });
    await h.send('c', note('r1', 'progressing', { text: 'v1' }));
    await h.send('c', note('r2', 'progressing'));
    await h.advance(6 * 60_000, 100);
    const delays = h.of('retrying').map((r) => r.delayMs);
    assert.ok(delays.length >= 8);
    for (const [i, d] of delays.entries()) {
      const step = Math.min(60_000, 1000 * 2 ** i);
      assert.ok(d >= step / 2 && d <= step, `attempt ${i + 1}: ${d} within [${step / 2}, ${step}]`);
    }
    assert.ok(delays.slice(-3).every((d) => d <= 60_000), 'capped');
    await h.send('c', note('r1', 'succeeded', { text: 'v2' }));
    h.slack.script = () => null;
    await h.advance(70_000, 100);
    assert.deepEqual(h.slack.byRollout('r1')[0]?.texts, ['v2']);
    assert.equal(h.slack.byRollout('r2').length, 1);
    assert.equal(h.of('recovered').length, 1);
  });

  it('permanent channel error: drops pending work, reports once, no retry storm, tries again later', async () => {
    const h = harness({ blockedForMs: 60_000 });
    h.slack.script = (c) => (c.op === 'post' ? { kind: 'permanent', error: 'channel_not_found', scope: 'channel' } : null);
    for (let i = 0; i < 5; i++) h.channel('nowhere').send({ type: 'rollout.notified', notification: note(`r${i}`, 'progressing') });
    await h.advance(5000);
    assert.equal(h.slack.calls.length, 1, 'one call, not one per rollout');
    assert.equal(h.state('nowhere'), 'blocked');
    const [failure] = h.of('permanentFailure');
    assert.equal(failure?.error, 'channel_not_found');
    assert.deepEqual(failure?.namespaces, ['ns-r0', 'ns-r1', 'ns-r2', 'ns-r3', 'ns-r4']);
    // Each workload whose message was dropped, once (issue 13: an Event on the Deployment too).
    assert.deepEqual(failure?.workloads, [0, 1, 2, 3, 4].map((i) => ({ namespace: `ns-r${i}`, name: `web-r${i}` })));
    assert.equal(h.of('dropped').find((d) => d.reason === 'permanent_error')?.rollouts.length, 5);
    await h.send('nowhere', note('r9', 'succeeded'));
    assert.equal(h.of('dropped').at(-1)?.reason, 'channel_blocked');
    await h.advance(60_000);
    assert.equal(h.state('nowhere'), 'idle');
    await h.send('nowhere', note('r10', 'succeeded'));
    await h.advance(1000);
    assert.equal(h.slack.calls.length, 2);
    assert.equal(h.of('permanentFailure').length, 2);
  });

  it('workspace.blocked drops everything on a channel', async () => {
    const h = harness();
    h.slack.script = () => ({ kind: 'transient', error: 'http_503' });
    await h.send('c', note('r1', 'progressing'));
    h.channel('c').send({ type: 'workspace.blocked', error: 'token_revoked' });
    await h.flush();
    assert.equal(h.state('c'), 'blocked');
    assert.equal(h.channel('c').getSnapshot().context.queue.length, 0);
  });

  it('falls back to plain text when Slack rejects the content, and reports it', async () => {
    const h = harness();
    h.slack.script = (c) => (c.op === 'post' && c.message.attachments.length > 0 ? { kind: 'rejected', error: 'invalid_blocks' } : null);
    await h.send('c', note('r1', 'failed', { text: 'the verdict' }));
    await h.advance(3000);
    const posts = h.slack.calls.filter((c) => c.op === 'post');
    assert.equal(posts.length, 2);
    assert.deepEqual(posts[1]?.op === 'post' && posts[1].message, { text: 'the verdict', attachments: [] });
    assert.deepEqual(h.slack.byRollout('r1')[0]?.texts, ['the verdict']);
    assert.deepEqual(h.of('messageRejected').map((r) => [r.error, r.fallback]), [['invalid_blocks', 'plain']]);
  });

  it('bounded queue: drops the oldest progress update, never a verdict', async () => {
    const h = harness({ queueCap: 4 });
    h.slack.script = () => ({ kind: 'transient', error: 'http_503' });
    await h.send('c', note('head', 'progressing'));
    await h.send('c', note('f1', 'failed'));
    await h.send('c', note('p1', 'progressing'));
    await h.send('c', note('p2', 'progressing'));
    await h.send('c', note('f2', 'succeeded'));
    await h.send('c', note('f3', 'succeeded'));
    const queue = h.channel('c').getSnapshot().context.queue.map((p) => p.rolloutId);
    assert.deepEqual(queue, ['head', 'f1', 'f2', 'f3'], 'p1 then p2 dropped; head is in flight');
    await h.send('c', note('p3', 'progressing'));
    assert.equal(h.channel('c').getSnapshot().context.queue.length, 4, 'a new progress update is dropped when only verdicts remain');
    await h.send('c', note('f4', 'failed'));
    assert.deepEqual(h.channel('c').getSnapshot().context.queue.map((p) => p.rolloutId), ['head', 'f1', 'f2', 'f3', 'f4']);
    assert.deepEqual(h.of('dropped').map((d) => [d.reason, d.rollouts.map((r) => r.rolloutId)]), [
      ['queue_full', ['p1']],
      ['queue_full', ['p2']],
      ['queue_full', ['p3']],
    ]);
    h.slack.script = () => null;
    await h.advance(120_000, 100);
    for (const id of ['f1', 'f2', 'f3', 'f4']) assert.equal(h.slack.byRollout(id).length, 1, id);
  });
});

describe('channelMachine: ambiguous timeouts', () => {
  it('re-posts a timed-out post and counts one possible duplicate (no history lookup)', async () => {
    const h = harness();
    await h.send('c', note('r0', 'succeeded')); // learns the channel ID
    await h.advance(1000);
    h.slack.commitFailures = true;
    h.slack.script = (c) => (c.op === 'post' ? { kind: 'ambiguous', error: 'timeout' } : null);
    await h.send('c', note('r1', 'succeeded'));
    await h.advance(200);
    h.slack.script = () => null;
    h.slack.commitFailures = false;
    await h.advance(10_000);
    assert.deepEqual(h.slack.calls.filter((c) => c.rolloutId === 'r1').map((c) => c.op), ['post', 'post']);
    assert.equal(h.slack.byRollout('r1').length, 2, 'the one visible duplicate');
    assert.equal(h.of('possibleDuplicate').length, 1);
  });

  it('without the channel ID it re-posts and counts one possible duplicate', async () => {
    const h = harness();
    h.slack.commitFailures = true;
    h.slack.script = (c) => (c.op === 'post' ? { kind: 'ambiguous', error: 'timeout' } : null);
    await h.send('c', note('r1', 'succeeded'));
    await h.advance(200);
    h.slack.script = () => null;
    h.slack.commitFailures = false;
    await h.advance(10_000);
    assert.equal(h.slack.byRollout('r1').length, 2, 'the one visible duplicate');
    assert.equal(h.of('possibleDuplicate').length, 1);
  });
});

describe('channelMachine: bounded state', () => {
  it('forgets finished rollouts: 3,000 rollouts leave no records and a capped id ring', async () => {
    const h = harness({ postBurst: 1000, finishedCap: 500 });
    for (let i = 0; i < 3000; i++) {
      h.channel('c').send({ type: 'rollout.notified', notification: note(`r${i}`, 'progressing') });
      h.channel('c').send({ type: 'rollout.notified', notification: note(`r${i}`, 'succeeded') });
    }
    await h.advance(60 * 60_000, 1000);
    const ctx = h.channel('c').getSnapshot().context;
    assert.equal(h.slack.messages.length, 3000);
    assert.equal(ctx.queue.length, 0);
    assert.equal(Object.keys(ctx.rollouts).length, 0);
    assert.equal(ctx.finished.length, 500);
    assert.ok(JSON.stringify(ctx).length < 40_000, 'small, serialisable context');
  });

  it('caps remembered records of rollouts that never finish', async () => {
    const h = harness({ postBurst: 1000, recordCap: 100 });
    for (let i = 0; i < 300; i++) h.channel('c').send({ type: 'rollout.notified', notification: note(`r${i}`, 'progressing') });
    await h.advance(10 * 60_000, 1000);
    assert.equal(Object.keys(h.channel('c').getSnapshot().context.rollouts).length, 100);
  });
});
