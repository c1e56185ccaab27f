/**
 * src/io/slack.ts with the REAL WebClient against the local Slack: how the client is
 * configured (no retries of its own, 429s rejected instead of pausing every call, a
 * timeout) and how each failure is classified for the delivery queues.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SlackCallError } from '../../src/actors/delivery/index.js';
import { createSlackApi, createSlackClient, failureOfSlackError } from '../../src/io/slack.js';
import type { SlackFailure } from '../../src/machines/slackFailure.js';
import { startSlackServer, type SlackServer } from '../support/slack-server.js';

async function failure(p: Promise<unknown>): Promise<SlackCallError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SlackCallError, `expected a SlackCallError, got ${String(err)}`);
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('Slack edge (src/io/slack.ts)', () => {
  let slack: SlackServer;
  before(async () => {
    slack = await startSlackServer({
      limits: false,
      channels: [{ name: 'a', id: 'C0AAAA' }, { name: 'b' }, { name: 'outside', member: false }, { name: 'old', archived: true }],
    });
  });
  after(() => slack.close());
  const api = (timeoutMs = 2000, token?: string) => createSlackApi(createSlackClient({ token: token ?? slack.token, slackApiUrl: slack.url, timeoutMs }));

  it('posts with rollout metadata, updates by channel ID, and needs nothing beyond chat:write', async () => {
    slack.tokens.add({ token: 'xoxb-chat-write-only', scopes: ['chat:write'] });
    const only = api(2000, 'xoxb-chat-write-only');
    const p = await only.postMessage({ channel: '#a', text: 'v1', attachments: [], metadata: { event_type: 'hermod_rollout', event_payload: { rolloutId: 'x/1', version: 1 } } });
    assert.equal(p.channelId, 'C0AAAA');
    await only.updateMessage({ channelId: p.channelId, ts: p.ts, text: 'v2', attachments: [] });
    const m = slack.messages('a').at(-1);
    assert.deepEqual(m?.history.map((h) => h.text), ['v1', 'v2']);
    assert.deepEqual(m?.metadata, { event_type: 'hermod_rollout', event_payload: { rolloutId: 'x/1', version: 1 } });
    // The history lookup needs channels:history, which chat:write alone does not give (ADR 0006).
    const refused = await failure(only.findRolloutPost!({ channelId: 'C0AAAA', rolloutId: 'x/1', oldest: '0' }));
    assert.equal(refused.method, 'conversations.history');
    assert.equal(refused.failure.error, 'missing_scope');
  });

  it("finds a rollout's top-level post in the channel history by its metadata, not its thread replies nor older posts", async () => {
    const meta = (rolloutId: string) => ({ event_type: 'hermod_rollout' as const, event_payload: { rolloutId, version: 1 } });
    const full = api();
    const early = await full.postMessage({ channel: 'b', text: 'early', metadata: meta('old/1') });
    const top = await full.postMessage({ channel: 'b', text: 'top', metadata: meta('y/2') });
    await full.postMessage({ channel: 'b', text: 'reply', threadTs: top.ts, metadata: meta('z/3') });
    await full.postMessage({ channel: 'b', text: 'other', metadata: meta('w/1') });
    assert.deepEqual(await full.findRolloutPost!({ channelId: top.channelId, rolloutId: 'y/2', oldest: '0' }), { ts: top.ts });
    assert.equal(await full.findRolloutPost!({ channelId: top.channelId, rolloutId: 'z/3', oldest: '0' }), null, 'a thread reply is not the rollout\'s message');
    assert.equal(await full.findRolloutPost!({ channelId: top.channelId, rolloutId: 'nothing/1', oldest: '0' }), null);
    assert.deepEqual(await full.findRolloutPost!({ channelId: top.channelId, rolloutId: 'old/1', oldest: '0' }), { ts: early.ts });
    assert.equal(await full.findRolloutPost!({ channelId: top.channelId, rolloutId: 'old/1', oldest: top.ts }), null, 'posted before oldest');
  });

  it('classifies permanent, gone and rejected errors from Slack', async () => {
    const cases: Array<[Promise<unknown>, SlackFailure]> = [
      [api().postMessage({ channel: 'nope', text: 'x' }), { kind: 'permanent', error: 'channel_not_found', scope: 'channel' }],
      [api().postMessage({ channel: 'outside', text: 'x' }), { kind: 'permanent', error: 'not_in_channel', scope: 'channel' }],
      [api().postMessage({ channel: 'old', text: 'x' }), { kind: 'permanent', error: 'is_archived', scope: 'channel' }],
      [api().updateMessage({ channelId: 'C0AAAA', ts: '1.000000', text: 'x', attachments: [] }), { kind: 'messageGone', error: 'message_not_found' }],
      [api().postMessage({ channel: 'a', text: 'x', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' as const })) }), { kind: 'rejected', error: 'invalid_blocks' }],
      [api(2000, 'xoxb-unknown').postMessage({ channel: 'a', text: 'x' }), { kind: 'permanent', error: 'invalid_auth', scope: 'workspace' }],
    ];
    for (const [p, expected] of cases) assert.deepEqual((await failure(p)).failure, expected);
    assert.deepEqual(failureOfSlackError('token_revoked'), { kind: 'permanent', error: 'token_revoked', scope: 'workspace' });
    assert.deepEqual(failureOfSlackError('internal_error'), { kind: 'transient', error: 'internal_error' });
    assert.deepEqual(failureOfSlackError('msg_too_long'), { kind: 'rejected', error: 'msg_too_long' });
  });

  it('does not retry by itself: one request per call on HTTP 503 (transient)', async () => {
    const before = slack.requests().length;
    const outage = slack.faults.outage({ mode: 'status', status: 503 });
    const e = await failure(api().postMessage({ channel: 'a', text: 'x' }));
    outage.clear();
    assert.deepEqual(e.failure, { kind: 'transient', error: 'http_503' });
    assert.equal(slack.requests().length - before, 1);
  });

  it('a timeout or a reset is ambiguous (the request may have been applied)', async () => {
    slack.faults.outage({ mode: 'hang', count: 1 });
    assert.deepEqual((await failure(api(100).postMessage({ channel: 'a', text: 'x' }))).failure, { kind: 'ambiguous', error: 'timeout' });
    slack.faults.outage({ mode: 'reset', count: 1 });
    assert.equal((await failure(api().postMessage({ channel: 'a', text: 'x' }))).failure.kind, 'ambiguous');
  });

  it('a connection refused is transient (nothing was sent)', async () => {
    const closed = await startSlackServer();
    const url = closed.url;
    await closed.close();
    const e = await failure(createSlackApi(createSlackClient({ token: 't', slackApiUrl: url })).postMessage({ channel: 'a', text: 'x' }));
    assert.deepEqual(e.failure, { kind: 'transient', error: 'ECONNREFUSED' });
  });

  it('rejects a 429 with its Retry-After at once, without pausing calls to other channels', async () => {
    const shared = api();
    const storm = slack.faults.rateLimit({ channels: ['a'], retryAfter: 30 });
    const t0 = Date.now();
    const e = await failure(shared.postMessage({ channel: 'a', text: 'x' }));
    const other = await shared.postMessage({ channel: 'b', text: 'y' });
    storm.clear();
    assert.deepEqual(e.failure, { kind: 'rateLimited', error: 'ratelimited', retryAfterSec: 30 });
    assert.ok(other.ts !== '');
    assert.ok(Date.now() - t0 < 5000, 'the same client kept working for channel b');
  });

  it('never puts the token in an error message', async () => {
    const e = await failure(api(2000, 'xoxb-secret-token-value').postMessage({ channel: 'a', text: 'x' }));
    assert.ok(!e.message.includes('xoxb-secret-token-value'));
    assert.ok(!JSON.stringify({ message: e.message, failure: e.failure }).includes('xoxb'));
  });
});
