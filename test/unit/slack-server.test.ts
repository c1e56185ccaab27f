/**
 * The local Slack against the UNMODIFIED @slack/web-api WebClient: protocol, rules, faults.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, WebClient } from '@slack/web-api';
import { startSlackServer, type SlackServer } from '../support/slack-server.js';

function client(slack: SlackServer, token = slack.token, timeout = 0): WebClient {
  return new WebClient(token, { slackApiUrl: slack.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout, logLevel: undefined, logger: silent });
}

const silent = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => 'error' as never,
  setName: () => {},
};

async function slackError(p: Promise<unknown>): Promise<{ code: string; error?: string; data?: Record<string, unknown>; retryAfter?: number; statusCode?: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: string; data?: Record<string, unknown>; retryAfter?: number; statusCode?: number };
    const out: { code: string; error?: string; data?: Record<string, unknown>; retryAfter?: number; statusCode?: number } = { code: e.code };
    if (e.data !== undefined) {
      out.data = e.data;
      out.error = e.data['error'] as string;
    }
    if (e.retryAfter !== undefined) out.retryAfter = e.retryAfter;
    if (e.statusCode !== undefined) out.statusCode = e.statusCode;
    return out;
  }
  throw new Error('expected the call to fail');
}

describe('local Slack: protocol and messages', () => {
  let slack: SlackServer;
  let web: WebClient;
  before(async () => {
    slack = await startSlackServer({
      limits: false,
      channels: [{ name: 'deploys', id: 'C0DEPLOYS' }, { name: 'outside', member: false }, { name: 'old', archived: true }, { name: 'secret', private: true, member: false }],
    });
    web = client(slack);
  });
  after(() => slack.close());

  it('answers auth.test for a valid token', async () => {
    const r = await web.auth.test();
    assert.equal(r.ok, true);
    assert.equal(r.team_id, 'T0HERMOD');
  });

  it('posts by #name, name or ID, answering the channel ID and unique increasing ts', async () => {
    const a = await web.chat.postMessage({ channel: '#deploys', text: 'one' });
    const b = await web.chat.postMessage({ channel: 'deploys', text: 'two' });
    const c = await web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'three' });
    for (const r of [a, b, c]) assert.equal(r.channel, 'C0DEPLOYS');
    assert.match(a.ts ?? '', /^\d+\.\d{6}$/);
    assert.ok(Number(a.ts) < Number(b.ts) && Number(b.ts) < Number(c.ts));
    assert.equal(a.message?.text, 'one');
    const texts = slack.messages('deploys').map((m) => m.text);
    assert.deepEqual(texts.slice(-3), ['one', 'two', 'three']);
  });

  it('keeps attachments, blocks and metadata sent as JSON strings in the form body', async () => {
    const r = await web.chat.postMessage({
      channel: 'deploys',
      text: 'fallback',
      attachments: [{ color: '#36a64f', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*ok*' } }] }],
      metadata: { event_type: 'hermod_rollout', event_payload: { rolloutId: 'u/1' } },
    });
    const stored = slack.messages('deploys').find((m) => m.ts === r.ts);
    assert.deepEqual(stored?.attachments, [{ color: '#36a64f', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*ok*' } }] }]);
    assert.deepEqual(stored?.metadata, { event_type: 'hermod_rollout', event_payload: { rolloutId: 'u/1' } });
  });

  it('accepts JSON bodies too', async () => {
    const res = await fetch(`${slack.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${slack.token}`, 'content-type': 'application/json; charset=utf-8', 'sentry-trace': 'x', baggage: 'y' },
      body: JSON.stringify({ channel: 'deploys', text: 'json body', blocks: [{ type: 'divider' }] }),
    });
    const body = (await res.json()) as { ok: boolean; ts: string };
    assert.equal(body.ok, true);
    assert.deepEqual(slack.messages('deploys').find((m) => m.ts === body.ts)?.blocks, [{ type: 'divider' }]);
  });

  it('updates by channel ID and ts, keeping every version', async () => {
    const p = await web.chat.postMessage({ channel: '#deploys', text: 'v1' });
    await web.chat.update({ channel: p.channel ?? '', ts: p.ts ?? '', text: 'v2' });
    await web.chat.update({ channel: p.channel ?? '', ts: p.ts ?? '', text: 'v3' });
    const m = slack.messages('deploys').find((x) => x.ts === p.ts);
    assert.equal(m?.text, 'v3');
    assert.deepEqual(m?.history.map((v) => v.text), ['v1', 'v2', 'v3']);
  });

  it('rejects chat.update by channel name (channel_not_found) and unknown ts (message_not_found)', async () => {
    const p = await web.chat.postMessage({ channel: 'deploys', text: 'x' });
    assert.equal((await slackError(web.chat.update({ channel: '#deploys', ts: p.ts ?? '', text: 'y' }))).error, 'channel_not_found');
    assert.equal((await slackError(web.chat.update({ channel: 'deploys', ts: p.ts ?? '', text: 'y' }))).error, 'channel_not_found');
    assert.equal((await slackError(web.chat.update({ channel: 'C0DEPLOYS', ts: '1.000001', text: 'y' }))).error, 'message_not_found');
  });

  it('records thread replies under their parent, with reply_broadcast', async () => {
    const p = await web.chat.postMessage({ channel: 'deploys', text: 'parent' });
    await web.chat.postMessage({ channel: 'C0DEPLOYS', thread_ts: p.ts ?? '', text: 'detail' });
    await web.chat.postMessage({ channel: 'C0DEPLOYS', thread_ts: p.ts ?? '', text: 'loud', reply_broadcast: true });
    const parent = slack.messages('deploys').find((m) => m.ts === p.ts);
    assert.deepEqual(parent?.replies.map((r) => [r.text, r.threadTs, r.replyBroadcast === true]), [
      ['detail', p.ts, false],
      ['loud', p.ts, true],
    ]);
    assert.equal((await slackError(web.chat.postMessage({ channel: 'C0DEPLOYS', thread_ts: '2.000000', text: 'x' }))).error, 'thread_not_found');
  });

  it('enforces membership, archive and existence', async () => {
    assert.equal((await slackError(web.chat.postMessage({ channel: 'outside', text: 'x' }))).error, 'not_in_channel');
    assert.equal((await slackError(web.chat.postMessage({ channel: 'old', text: 'x' }))).error, 'is_archived');
    assert.equal((await slackError(web.chat.postMessage({ channel: 'nowhere', text: 'x' }))).error, 'channel_not_found');
    assert.equal((await slackError(web.chat.postMessage({ channel: 'secret', text: 'x' }))).error, 'channel_not_found');
    const outside = slack.channels.get('outside');
    await web.conversations.join({ channel: outside?.id ?? '' });
    const r = await web.chat.postMessage({ channel: 'outside', text: 'after join' });
    assert.equal(r.ok, true);
    slack.channels.setMember('outside', false);
  });

  it('lets chat:write.public post into public channels without joining', async () => {
    slack.tokens.add({ token: 'xoxb-public', scopes: ['chat:write', 'chat:write.public'] });
    const r = await client(slack, 'xoxb-public').chat.postMessage({ channel: 'outside', text: 'public' });
    assert.equal(r.ok, true);
    assert.equal((await slackError(client(slack, 'xoxb-public').chat.postMessage({ channel: 'secret', text: 'x' }))).error, 'channel_not_found');
  });

  it('answers invalid_auth, not_authed, token_revoked and missing_scope with needed/provided', async () => {
    assert.equal((await slackError(client(slack, 'xoxb-nope').auth.test())).error, 'invalid_auth');
    slack.tokens.add({ token: 'xoxb-old' });
    slack.tokens.revoke('xoxb-old');
    assert.equal((await slackError(client(slack, 'xoxb-old').chat.postMessage({ channel: 'deploys', text: 'x' }))).error, 'token_revoked');
    const res = await fetch(`${slack.url}auth.test`, { method: 'POST' });
    assert.equal(((await res.json()) as { error: string }).error, 'not_authed');
    slack.tokens.add({ token: 'xoxb-readonly', scopes: ['channels:read'] });
    const e = await slackError(client(slack, 'xoxb-readonly').chat.postMessage({ channel: 'deploys', text: 'x' }));
    assert.equal(e.error, 'missing_scope');
    assert.equal(e.data?.['needed'], 'chat:write');
    assert.equal(e.data?.['provided'], 'channels:read');
  });

  it('validates Block Kit: 50 blocks, 3,000-character sections, no_text', async () => {
    const many = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    const e1 = await slackError(web.chat.postMessage({ channel: 'deploys', text: 'x', blocks: many }));
    assert.equal(e1.error, 'invalid_blocks');
    assert.ok(Array.isArray(e1.data?.['errors']));
    const long = [{ type: 'section', text: { type: 'mrkdwn', text: 'a'.repeat(3001) } }];
    assert.equal((await slackError(web.chat.postMessage({ channel: 'deploys', text: 'x', attachments: [{ blocks: long }] }))).error, 'invalid_blocks');
    assert.equal((await slackError(web.chat.postMessage({ channel: 'deploys', text: '' }))).error, 'no_text');
    const ok = await web.chat.postMessage({ channel: 'deploys', text: 'x', blocks: many.slice(0, 50) });
    assert.equal(ok.ok, true);
  });

  it('answers msg_too_long for oversized attachments and truncates long text with a warning', async () => {
    const huge = [{ text: 'z'.repeat(41_000) }];
    assert.equal((await slackError(web.chat.postMessage({ channel: 'deploys', text: 'x', attachments: huge }))).error, 'msg_too_long');
    const r = await web.chat.postMessage({ channel: 'deploys', text: 'y'.repeat(40_010) });
    assert.equal(r.warning, 'message_truncated');
    assert.equal(slack.messages('deploys').find((m) => m.ts === r.ts)?.text.length, 40_000);
  });

  it('lists channels and returns history newest first with metadata on request', async () => {
    const list = await web.conversations.list({ exclude_archived: true });
    const names = (list.channels ?? []).map((c) => c.name);
    assert.ok(names.includes('deploys') && !names.includes('old') && !names.includes('secret'));
    const p = await web.chat.postMessage({ channel: 'deploys', text: 'find me', metadata: { event_type: 'hermod_rollout', event_payload: { rolloutId: 'r/9' } } });
    const h = await web.conversations.history({ channel: 'C0DEPLOYS', limit: 5, include_all_metadata: true });
    assert.equal(h.messages?.[0]?.ts, p.ts);
    assert.deepEqual(h.messages?.[0]?.metadata, { event_type: 'hermod_rollout', event_payload: { rolloutId: 'r/9' } });
    const plain = await web.conversations.history({ channel: 'C0DEPLOYS', limit: 1 });
    assert.equal(plain.messages?.[0]?.metadata, undefined);
  });

  it('serves its state as JSON at GET /state and logs requests', async () => {
    const res = await fetch(`http://127.0.0.1:${slack.port}/state`);
    const state = (await res.json()) as { channels: Array<{ name: string; messages: unknown[] }>; requests: unknown[] };
    assert.ok(state.channels.find((c) => c.name === 'deploys')!.messages.length > 0);
    const log = slack.requests();
    assert.ok(log.length > 10);
    assert.ok(log.some((r) => r.method === 'chat.update' && r.outcome === 'message_not_found'));
  });
});

describe('local Slack: rate limits', () => {
  it('limits chat.postMessage per channel (burst, then 429 with Retry-After) without touching other channels', async () => {
    let t = 1_000_000;
    const slack = await startSlackServer({ now: () => t, limits: { postMessagePerSecond: 1, postMessageBurst: 2 }, channels: [{ name: 'a' }, { name: 'b' }] });
    try {
      const web = client(slack);
      await web.chat.postMessage({ channel: 'a', text: '1' });
      await web.chat.postMessage({ channel: 'a', text: '2' });
      const e = await slackError(web.chat.postMessage({ channel: 'a', text: '3' }));
      assert.equal(e.code, ErrorCode.RateLimitedError);
      assert.equal(e.retryAfter, 1);
      assert.equal((await web.chat.postMessage({ channel: 'b', text: 'other channel' })).ok, true);
      t += 1000;
      assert.equal((await web.chat.postMessage({ channel: 'a', text: '3 again' })).ok, true);
      assert.equal(slack.requests().filter((r) => r.outcome === 'ratelimited').length, 1);
    } finally {
      await slack.close();
    }
  });

  it('limits chat.update per workspace per minute', async () => {
    let t = 5_000_000;
    const slack = await startSlackServer({ now: () => t, limits: { updatesPerMinute: 60, updateBurst: 3 }, channels: [{ name: 'a' }, { name: 'b' }] });
    try {
      const web = client(slack);
      const a = await web.chat.postMessage({ channel: 'a', text: 'a' });
      const b = await web.chat.postMessage({ channel: 'b', text: 'b' });
      for (let i = 0; i < 3; i++) await web.chat.update({ channel: a.channel ?? '', ts: a.ts ?? '', text: `a${i}` });
      const e = await slackError(web.chat.update({ channel: b.channel ?? '', ts: b.ts ?? '', text: 'b1' }));
      assert.equal(e.code, ErrorCode.RateLimitedError);
      t += 1000;
      assert.equal((await web.chat.update({ channel: b.channel ?? '', ts: b.ts ?? '', text: 'b1' })).ok, true);
    } finally {
      await slack.close();
    }
  });
});

describe('local Slack: faults', () => {
  let slack: SlackServer;
  before(async () => {
    slack = await startSlackServer({ limits: false, channels: [{ name: 'a' }, { name: 'b' }] });
  });
  after(() => slack.close());

  it('answers 503 during an outage (an HTTP error to the client) and recovers when cleared', async () => {
    const outage = slack.faults.outage({ mode: 'status', status: 503 });
    const e = await slackError(client(slack).chat.postMessage({ channel: 'a', text: 'x' }));
    assert.equal(e.code, ErrorCode.HTTPError);
    assert.equal(e.statusCode, 503);
    outage.clear();
    assert.equal((await client(slack).chat.postMessage({ channel: 'a', text: 'x' })).ok, true);
  });

  it('resets connections (a request error)', async () => {
    slack.faults.outage({ mode: 'reset', count: 1 });
    const e = await slackError(client(slack).chat.postMessage({ channel: 'a', text: 'x' }));
    assert.equal(e.code, ErrorCode.RequestError);
    assert.equal(slack.requests().at(-1)?.outcome, 'reset');
  });

  it('hangs until the client times out; with commit the message is posted anyway', async () => {
    slack.faults.outage({ mode: 'hang', commit: true, methods: ['chat.postMessage'], count: 1 });
    const before = slack.messages('a').length;
    const e = await slackError(client(slack, slack.token, 150).chat.postMessage({ channel: 'a', text: 'ghost' }));
    assert.equal(e.code, ErrorCode.RequestError);
    assert.equal(slack.messages('a').length, before + 1);
    assert.equal(slack.messages('a').at(-1)?.text, 'ghost');
  });

  it('storms 429 on one channel with the given Retry-After while others pass', async () => {
    const storm = slack.faults.rateLimit({ channels: ['#a'], retryAfter: 7 });
    const e = await slackError(client(slack).chat.postMessage({ channel: 'a', text: 'x' }));
    assert.equal(e.code, ErrorCode.RateLimitedError);
    assert.equal(e.retryAfter, 7);
    assert.equal((await client(slack).chat.postMessage({ channel: 'b', text: 'fine' })).ok, true);
    storm.clear();
  });

  it('slows responses', async () => {
    slack.faults.slow({ delayMs: 120, count: 1 });
    const t0 = Date.now();
    await client(slack).auth.test();
    assert.ok(Date.now() - t0 >= 100);
  });
});
