/**
 * The delivery layer end to end: createDelivery -> src/io/slack.ts -> the REAL @slack/web-api
 * WebClient -> the local Slack server over HTTP, with Slack's limits on.
 *
 * Time: the actors and the server's rate limiter share one SimulatedClock, so minutes of
 * outage or pacing take milliseconds; between clock steps the test waits for the real HTTP
 * calls in flight to finish. No timing target is asserted; counts and order are.
 */
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { SimulatedClock } from 'xstate';
import { createDelivery, type Delivery, type DeliveryMetrics, type DeliveryOptions, type MessageRejection, type PermanentFailure } from '../../src/actors/delivery/index.js';
import { createSlackApi, createSlackClient } from '../../src/io/slack.js';
import type { SlackMessage } from '../../src/machines/message.js';
import type { Notification, RolloutPhase, RolloutView } from '../../src/machines/notification.js';
import { startSlackServer, type ChannelSpec, type SlackServer, type SlackServerOptions, type StoredMessage } from '../support/slack-server.js';

const EPOCH = 1_700_000_000_000;

export function view(rolloutId: string, phase: RolloutPhase, namespace = 'team-a'): RolloutView {
  return {
    rolloutId,
    namespace,
    deployment: rolloutId.split('/')[0] ?? rolloutId,
    revision: 2,
    previousRevision: 1,
    rolledBackTo: [],
    replicaSet: `${rolloutId}-rs`,
    phase,
    startedAt: EPOCH,
    endedAt: null,
    adopted: false,
    progressDeadlineSeconds: 600,
    progress: { desired: 3, updated: 3, ready: 3, available: 3, old: 0 },
    diagnosis: { pods: 3, stuckPods: 0, problems: [] },
    git: {},
    supersededBy: null,
    detail: null,
  };
}

/** A per-rollout sequence number in the text proves the order Slack saw. */
const seqs = new Map<string, number>();
function notification(rolloutId: string, phase: RolloutPhase, channel: string, opts: { alert?: 'all' | 'failure'; namespace?: string } = {}): Notification {
  const seq = (seqs.get(rolloutId) ?? 0) + 1;
  seqs.set(rolloutId, seq);
  const v = view(rolloutId, phase, opts.namespace);
  v.detail = `seq ${seq}`;
  return { rolloutId, channel, alert: opts.alert ?? 'all', view: v };
}

/** A trivial renderer for these tests (the real one is src/machines/message.ts). */
function render(v: RolloutView): SlackMessage {
  const text = `${v.rolloutId} ${v.phase} ${v.detail ?? ''}`;
  return { text, attachments: [{ color: v.phase === 'failed' ? '#e60000' : '#36a64f', blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] }], thread: null };
}

function seqOf(text: string): number {
  return Number(/seq (\d+)/.exec(text)?.[1] ?? NaN);
}

interface LogLine {
  level: string;
  obj: object;
  msg: string | undefined;
}

function recorder() {
  const counts = new Map<string, number>();
  const bump = (k: string, n = 1): void => {
    counts.set(k, (counts.get(k) ?? 0) + n);
  };
  const metrics: DeliveryMetrics = {
    slackRequest: (m, o) => bump(`request ${m} ${o}`),
    rateLimited: (c) => bump(`rateLimited ${c}`),
    retry: () => bump('retry'),
    queueDepth: (c, d) => counts.set(`depth ${c}`, d),
    deliverySeconds: () => bump('delivered'),
    permanentFailure: (e) => bump(`permanent ${e}`),
    dropped: (r, n) => bump(`dropped ${r}`, n),
    possibleDuplicate: () => bump('possibleDuplicate'),
  };
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj, msg });
  };
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { metrics, counts, lines, logger, get: (k: string) => counts.get(k) ?? 0 };
}

interface Rig {
  slack: SlackServer;
  delivery: Delivery;
  clock: SimulatedClock;
  rec: ReturnType<typeof recorder>;
  failures: PermanentFailure[];
  rejections: MessageRejection[];
  advance(ms: number, step?: number): Promise<void>;
  settle(): Promise<void>;
  runUntilDrained(maxMs: number): Promise<number>;
  close(): Promise<void>;
}

const rigs: Rig[] = [];
after(async () => {
  for (const r of rigs) await r.close();
});

async function rig(opts: { channels: ChannelSpec[]; server?: Partial<SlackServerOptions>; delivery?: Partial<DeliveryOptions>; token?: string }): Promise<Rig> {
  const clock = new SimulatedClock();
  clock.set(EPOCH);
  const slack = await startSlackServer({ now: () => clock.now(), channels: opts.channels, ...opts.server });
  const rec = recorder();
  const failures: PermanentFailure[] = [];
  const rejections: MessageRejection[] = [];
  const client = createSlackClient({ token: opts.token ?? slack.token, slackApiUrl: slack.url, timeoutMs: 2000, logger: rec.logger });
  const delivery = createDelivery({
    slack: createSlackApi(client),
    render,
    clock,
    logger: rec.logger,
    metrics: rec.metrics,
    onPermanentFailure: (f) => failures.push(f),
    onMessageRejected: (r) => rejections.push(r),
    ...opts.delivery,
  });
  /** Waits (real time) until no Slack call is in flight. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20_000; i++) {
      await new Promise((r) => setImmediate(r));
      if (delivery.pending().inFlight === 0) {
        await new Promise((r) => setImmediate(r));
        if (delivery.pending().inFlight === 0) return;
      }
    }
    throw new Error('Slack calls did not settle');
  };
  const advance = async (ms: number, step = 50): Promise<void> => {
    await settle();
    for (let t = 0; t < ms; t += step) {
      clock.increment(Math.min(step, ms - t));
      await settle();
    }
  };
  const runUntilDrained = async (maxMs: number): Promise<number> => {
    const start = clock.now();
    await settle();
    while (delivery.pending().total > 0) {
      if (clock.now() - start > maxMs) throw new Error(`not drained after ${maxMs} ms: ${JSON.stringify(delivery.pending().channels)}`);
      await advance(50);
    }
    return clock.now() - start;
  };
  const r: Rig = {
    slack,
    delivery,
    clock,
    rec,
    failures,
    rejections,
    advance,
    settle,
    runUntilDrained,
    close: async () => {
      delivery.stop();
      await slack.close();
    },
  };
  rigs.push(r);
  return r;
}

function requestsBy(slack: SlackServer): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of slack.requests()) out[`${r.method} ${r.outcome}`] = (out[`${r.method} ${r.outcome}`] ?? 0) + 1;
  return out;
}

function messagesOf(slack: SlackServer, channels: string[]): StoredMessage[] {
  return channels.flatMap((c) => slack.messages(c));
}

function rolloutIdOf(m: StoredMessage): string {
  return String(m.metadata?.event_payload['rolloutId']);
}

/** Every rollout: exactly one message, its versions in notification order, the last is `final`. */
function assertOneMessageEach(messages: StoredMessage[], rollouts: Map<string, RolloutPhase>): void {
  const byRollout = new Map<string, StoredMessage[]>();
  for (const m of messages) byRollout.set(rolloutIdOf(m), [...(byRollout.get(rolloutIdOf(m)) ?? []), m]);
  for (const [id, finalPhase] of rollouts) {
    const ms = byRollout.get(id) ?? [];
    assert.equal(ms.length, 1, `${id}: one message, got ${ms.length}`);
    const history = ms[0]?.history ?? [];
    const order = history.map((v) => seqOf(v.text));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), `${id}: versions in order`);
    assert.ok(history.at(-1)?.text.includes(` ${finalPhase} `), `${id}: shows the verdict ${finalPhase}: ${history.at(-1)?.text}`);
  }
}

function report(t: TestContext, label: string, data: unknown): void {
  const line = `${label}: ${JSON.stringify(data)}`;
  t.diagnostic(line);
  console.log(line);
}

const CHANNELS = ['deploys-a', 'deploys-b', 'deploys-c'];

describe('delivery against the local Slack (real WebClient, limits on)', () => {
  it('100 rollouts finishing at once into 3 channels: every verdict delivered, in order, one request per visible change', async (t) => {
    const r = await rig({ channels: CHANNELS.map((name) => ({ name })) });
    const verdicts = new Map<string, RolloutPhase>();
    for (let i = 0; i < 100; i++) r.delivery.notify(notification(`app${i}/2`, 'progressing', `#${CHANNELS[i % 3]}`));
    const startMs = await r.runUntilDrained(120_000);
    for (let i = 0; i < 100; i++) {
      const phase: RolloutPhase = i % 7 === 0 ? 'failed' : 'succeeded';
      verdicts.set(`app${i}/2`, phase);
      r.delivery.notify(notification(`app${i}/2`, phase, `#${CHANNELS[i % 3]}`));
    }
    const verdictMs = await r.runUntilDrained(10 * 60_000);
    const messages = messagesOf(r.slack, CHANNELS);
    assertOneMessageEach(messages, verdicts);
    const byMethod = requestsBy(r.slack);
    report(t, 'requests', { ...byMethod, total: r.slack.requests().length, startsSeconds: startMs / 1000, verdictsSeconds: verdictMs / 1000 });
    // No request was wasted: no 429, no error; one post per rollout and one update per verdict.
    assert.deepEqual(byMethod, { 'chat.postMessage ok': 100, 'chat.update ok': 100 });
    assert.equal(r.rec.get('delivered'), 200);
  });

  it('start and verdict together: the verdict is posted once (coalesced), never the stale start', async (t) => {
    const r = await rig({ channels: CHANNELS.map((name) => ({ name })) });
    const verdicts = new Map<string, RolloutPhase>();
    for (let i = 0; i < 100; i++) r.delivery.notify(notification(`job${i}/5`, 'progressing', CHANNELS[i % 3] as string));
    for (let i = 0; i < 100; i++) {
      verdicts.set(`job${i}/5`, 'succeeded');
      r.delivery.notify(notification(`job${i}/5`, 'succeeded', CHANNELS[i % 3] as string));
    }
    await r.runUntilDrained(10 * 60_000);
    const messages = messagesOf(r.slack, CHANNELS);
    assertOneMessageEach(messages, verdicts);
    const shownStart = messages.filter((m) => m.history.length > 1).length;
    const byMethod = requestsBy(r.slack);
    report(t, 'requests', { ...byMethod, startsShownBeforeVerdict: shownStart });
    assert.deepEqual(byMethod, { 'chat.postMessage ok': 100, ...(shownStart > 0 ? { 'chat.update ok': shownStart } : {}) });
    assert.ok(shownStart <= 3, 'at most the first start per channel was already on its way');
  });

  it('a Slack outage of several minutes: everything is delivered after it ends, in per-rollout order, no duplicates', async (t) => {
    const r = await rig({ channels: CHANNELS.map((name) => ({ name })) });
    const verdicts = new Map<string, RolloutPhase>();
    r.delivery.notify(notification('warm/1', 'succeeded', 'deploys-a'));
    await r.runUntilDrained(10_000);
    verdicts.set('warm/1', 'succeeded');
    const outage = r.slack.faults.outage({ mode: 'status', status: 503 });
    for (let i = 0; i < 30; i++) r.delivery.notify(notification(`svc${i}/3`, 'progressing', CHANNELS[i % 3] as string));
    await r.advance(60_000, 100);
    for (let i = 0; i < 30; i++) r.delivery.notify(notification(`svc${i}/3`, i % 2 ? 'failing' : 'progressing', CHANNELS[i % 3] as string));
    await r.advance(60_000, 100);
    for (let i = 0; i < 30; i++) {
      const phase: RolloutPhase = i % 2 ? 'failed' : 'succeeded';
      verdicts.set(`svc${i}/3`, phase);
      r.delivery.notify(notification(`svc${i}/3`, phase, CHANNELS[i % 3] as string));
    }
    await r.advance(3 * 60_000, 100);
    const during = r.slack.requests().filter((q) => q.outcome === 'http_503').length;
    assert.equal(messagesOf(r.slack, CHANNELS).length, 1, 'nothing got through during the outage');
    assert.ok(r.delivery.pending().total === 30);
    outage.clear();
    const afterMs = await r.runUntilDrained(5 * 60_000);
    assertOneMessageEach(messagesOf(r.slack, CHANNELS), verdicts);
    report(t, 'outage', { failedRequestsIn5Minutes: during, retries: r.rec.get('retry'), secondsToDeliverAfter: afterMs / 1000, requests: requestsBy(r.slack) });
    assert.ok(during < 3 * 20, 'capped exponential backoff: a few requests per channel, not a storm');
    assert.ok(r.rec.lines.some((l) => l.level === 'info' && l.msg === 'Slack reachable again'));
  });

  it('connection resets that still posted: each leaves at most one duplicate, and each is counted', async (t) => {
    const r = await rig({ channels: [{ name: 'deploys-a' }] });
    r.slack.faults.outage({ mode: 'reset', commit: true, methods: ['chat.postMessage'], count: 3 });
    for (let i = 0; i < 3; i++) r.delivery.notify(notification(`api${i}/7`, 'succeeded', 'deploys-a'));
    await r.runUntilDrained(5 * 60_000);
    const messages = r.slack.messages('deploys-a');
    const resets = r.slack.requests().filter((q) => q.outcome === 'reset').length;
    report(t, 'ambiguous', { resets, messages: messages.length, possibleDuplicates: r.rec.get('possibleDuplicate'), requests: requestsBy(r.slack) });
    for (let i = 0; i < 3; i++) {
      const copies = messages.filter((m) => rolloutIdOf(m) === `api${i}/7`);
      assert.ok(copies.length >= 1 && copies.every((m) => m.text.includes('succeeded')), `api${i}/7 delivered`);
    }
    assert.equal(messages.length - 3, resets, 'one duplicate per reset that had posted, no more');
    assert.equal(r.rec.get('possibleDuplicate'), resets, 'every one counted');
    assert.equal(r.slack.requests().filter((q) => q.method.startsWith('conversations.')).length, 0, 'no history lookups (chat:write only)');
  });

  it('a 429 storm on one channel does not delay the others', async (t) => {
    const r = await rig({ channels: CHANNELS.map((name) => ({ name })) });
    const storm = r.slack.faults.rateLimit({ channels: ['deploys-a'], retryAfter: 20 });
    for (let i = 0; i < 30; i++) r.delivery.notify(notification(`w${i}/1`, 'succeeded', CHANNELS[i % 3] as string));
    await r.advance(60_000, 100);
    const a = r.slack.messages('deploys-a').length;
    const b = r.slack.messages('deploys-b').length;
    const c = r.slack.messages('deploys-c').length;
    const storm429 = r.slack.requests().filter((q) => q.outcome === 'ratelimited').length;
    assert.equal(a, 0, 'the storming channel waits');
    assert.equal(b + c, 20, 'the other channels are all delivered meanwhile');
    assert.ok(storm429 <= 4, `Retry-After is honoured: ${storm429} requests in 60 s with Retry-After 20`);
    storm.clear();
    await r.runUntilDrained(60_000);
    assert.equal(r.slack.messages('deploys-a').length, 10);
    report(t, '429 storm', { rateLimitedRequests: storm429, metric: r.rec.get('rateLimited deploys-a') });
    assert.equal(r.rec.get('rateLimited deploys-a'), storm429);
  });

  it('a wrong channel: onPermanentFailure once with the namespace, other channels unaffected, no retry storm', async () => {
    const r = await rig({ channels: [{ name: 'deploys-a' }, { name: 'not-joined', member: false }, { name: 'old', archived: true }] });
    for (let i = 0; i < 5; i++) {
      r.delivery.notify(notification(`bad${i}/1`, 'progressing', '#no-such-channel', { namespace: 'team-typo' }));
      r.delivery.notify(notification(`ok${i}/1`, 'progressing', 'deploys-a', { namespace: 'team-good' }));
    }
    r.delivery.notify(notification('nj/1', 'succeeded', 'not-joined', { namespace: 'team-nj' }));
    r.delivery.notify(notification('old/1', 'succeeded', 'old', { namespace: 'team-old' }));
    await r.advance(10_000, 100);
    for (let i = 0; i < 5; i++) {
      r.delivery.notify(notification(`bad${i}/1`, 'succeeded', '#no-such-channel', { namespace: 'team-typo' }));
      r.delivery.notify(notification(`ok${i}/1`, 'succeeded', 'deploys-a', { namespace: 'team-good' }));
    }
    await r.advance(20_000, 100);
    assert.deepEqual(
      r.failures.map((f) => [f.channel, f.error, f.scope, f.namespaceHint]).sort(),
      [
        ['#no-such-channel', 'channel_not_found', 'channel', 'team-typo'],
        ['not-joined', 'not_in_channel', 'channel', 'team-nj'],
        ['old', 'is_archived', 'channel', 'team-old'],
      ],
    );
    assert.equal(r.slack.requests().filter((q) => q.channel === '#no-such-channel').length, 1, 'one call, then the channel rests');
    assert.equal(r.slack.messages('deploys-a').length, 5);
    assert.ok(r.slack.messages('deploys-a').every((m) => m.text.includes('succeeded')));
    assert.equal(r.rec.get('permanent channel_not_found'), 1);
    // 5 on the missing channel, 1 each on the not-joined and the archived one.
    assert.equal(r.rec.get('dropped permanent_error'), 7);
    assert.equal(r.rec.get('dropped channel_blocked'), 5);
    assert.equal(r.rec.lines.filter((l) => l.level === 'error' && JSON.stringify(l.obj).includes('#no-such-channel')).length, 1, 'one log line');
  });

  it('ADR 0003: a permanent failure logs ONE error line, with the advice of src/machines/slackAdvice.ts', async () => {
    const r = await rig({ channels: [{ name: 'deploys-a' }, { name: 'not-joined', member: false }] });
    r.delivery.notify(notification('nj/1', 'progressing', 'not-joined', { namespace: 'team-nj' }));
    r.delivery.notify(notification('nj/1', 'succeeded', 'not-joined', { namespace: 'team-nj' }));
    r.delivery.notify(notification('typo/1', 'succeeded', '#no-such-channel', { namespace: 'team-typo' }));
    await r.advance(10_000, 100);
    assert.equal(r.failures.length, 2);
    const errors = r.rec.lines.filter((l) => l.level === 'error');
    assert.deepEqual(
      errors.map((l) => l.msg),
      [
        'Slack delivery failed permanently (not_in_channel): invite the Hermod app to not-joined; the channel\'s pending messages are dropped',
        'Slack delivery failed permanently (channel_not_found): check the channel in the hermod.uswitch.com/slack annotation ("#no-such-channel"); the channel\'s pending messages are dropped',
      ],
    );
  });

  it('a revoked token: one error line for the whole workspace, not one per channel', async () => {
    const r = await rig({ channels: CHANNELS.map((name) => ({ name })) });
    r.slack.tokens.revoke(r.slack.token);
    for (let i = 0; i < 9; i++) r.delivery.notify(notification(`t${i}/1`, 'succeeded', CHANNELS[i % 3] as string));
    await r.advance(10_000, 100);
    const errors = r.rec.lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]?.msg ?? '', /^Slack delivery failed permanently \(token_revoked\): the Slack token was refused: check SLACK_TOKEN; NO channel/);
  });

  it('a revoked token blocks every channel at once, loudly, and the token never reaches a log line', async () => {
    const r = await rig({ channels: CHANNELS.map((name) => ({ name })) });
    r.slack.tokens.revoke(r.slack.token);
    for (let i = 0; i < 9; i++) r.delivery.notify(notification(`t${i}/1`, 'succeeded', CHANNELS[i % 3] as string));
    await r.advance(10_000, 100);
    assert.equal(r.failures.length, 1);
    assert.equal(r.failures[0]?.scope, 'workspace');
    assert.equal(r.failures[0]?.error, 'token_revoked');
    assert.ok(r.slack.requests().length <= 3, `at most one call per channel, got ${r.slack.requests().length}`);
    assert.ok(r.delivery.pending().channels.every((c) => c.state === 'blocked' && c.depth === 0));
    assert.ok(r.rec.lines.some((l) => l.level === 'error' && (l.msg ?? '').includes('NO channel can be notified')));
    assert.ok(!JSON.stringify(r.rec.lines).includes(r.slack.token));
  });

  it('content Slack rejects (over 50 blocks) falls back to plain text, and is reported', async () => {
    const big = (v: RolloutView): SlackMessage => ({
      text: `${v.rolloutId} ${v.phase} ${v.detail ?? ''}`,
      attachments: [{ color: '#e60000', blocks: Array.from({ length: 60 }, () => ({ type: 'section', text: { type: 'mrkdwn', text: 'x' } })) }],
      thread: null,
    });
    const r = await rig({ channels: [{ name: 'deploys-a' }], delivery: { render: big } });
    r.delivery.notify(notification('huge/1', 'failed', 'deploys-a', { namespace: 'team-big' }));
    await r.runUntilDrained(10_000);
    const [m] = r.slack.messages('deploys-a');
    assert.ok(m?.text.startsWith('huge/1 failed'));
    assert.deepEqual(m?.attachments, []);
    assert.deepEqual(r.rejections.map((x) => [x.error, x.fallback, x.namespace]), [['invalid_blocks', 'plain', 'team-big']]);
  });

  /** A rig rendering with the real renderer, and a rollout with 8 crashing containers: more problems than the message holds, so it has a thread. */
  async function threadRig(rolloutId: string, phase: RolloutPhase): Promise<{ r: Rig; v: RolloutView }> {
    const { renderRollout } = await import('../../src/machines/message.js');
    const real = (v: RolloutView): SlackMessage => renderRollout(v, { cluster: 'prod', gitAnnotationWarning: false, annotationNames: { commitSha: 'a', repoUrl: 'b' }, mode: 'update' });
    const r = await rig({ channels: [{ name: 'deploys-a' }], delivery: { render: real } });
    const v = view(rolloutId, phase);
    v.diagnosis = {
      pods: 8,
      stuckPods: 8,
      problems: Array.from({ length: 8 }, (_, i) => ({ source: 'container' as const, reason: 'CrashLoopBackOff', message: `error ${i}`, container: `c${i}`, count: 1 })),
    };
    return { r, v };
  }

  it('posts the thread reply under the message (real renderer, a failure with many problems)', async () => {
    const { r, v } = await threadRig('crashy/4', 'failed');
    r.delivery.notify({ rolloutId: v.rolloutId, channel: 'deploys-a', alert: 'all', view: v });
    r.delivery.notify({ rolloutId: v.rolloutId, channel: 'deploys-a', alert: 'all', view: v });
    await r.runUntilDrained(10_000);
    const [m] = r.slack.messages('deploys-a');
    assert.equal(m?.replies.length, 1, 'one thread reply');
    assert.equal(m?.replies[0]?.threadTs, m?.ts);
    assert.equal(r.slack.requests().length, 2);
  });

  it('a crash log read late edits the one thread reply through chat.update (issue 12: never a second reply)', async () => {
    const { r, v } = await threadRig('crashy/5', 'failing');
    r.delivery.notify({ rolloutId: v.rolloutId, channel: 'deploys-a', alert: 'all', view: v });
    await r.runUntilDrained(10_000);
    const withLog: RolloutView = { ...v, crashLog: { pod: 'crashy-5-abc', container: 'c0', lines: ['panic: late log'], truncated: false, unavailable: null } };
    r.delivery.notify({ rolloutId: v.rolloutId, channel: 'deploys-a', alert: 'all', view: withLog });
    await r.runUntilDrained(10_000);
    const [m] = r.slack.messages('deploys-a');
    assert.equal(r.slack.messages('deploys-a').length, 1);
    assert.equal(m?.replies.length, 1, 'one thread reply');
    const reply = m?.replies[0];
    assert.equal(reply?.history.length, 2, 'the reply was edited once');
    const shown = JSON.stringify(reply?.blocks ?? []);
    assert.ok(shown.includes('panic: late log') && shown.includes('error 0'), shown);
    assert.equal(JSON.stringify(reply?.history[0]?.blocks ?? []).includes('panic'), false);
    assert.deepEqual(r.slack.requests().map((q) => q.method), ['chat.postMessage', 'chat.postMessage', 'chat.update']);
  });

  it('post mode: one message per start and verdict', async () => {
    const r = await rig({ channels: [{ name: 'deploys-a' }], delivery: { mode: 'post' } });
    r.delivery.notify(notification('p/1', 'progressing', 'deploys-a'));
    await r.runUntilDrained(10_000);
    r.delivery.notify(notification('p/1', 'progressing', 'deploys-a'));
    r.delivery.notify(notification('p/1', 'succeeded', 'deploys-a'));
    await r.runUntilDrained(10_000);
    assert.deepEqual(r.slack.messages('deploys-a').map((m) => m.text.split(' ')[1]), ['progressing', 'succeeded']);
  });

  it('snapshot round-trip: a restarted delivery updates the same message and resumes pending work', async () => {
    const r = await rig({ channels: [{ name: 'deploys-a' }, { name: 'deploys-b' }] });
    r.delivery.notify(notification('keep/1', 'progressing', 'deploys-a'));
    await r.runUntilDrained(10_000);
    const outage = r.slack.faults.outage({ mode: 'status', status: 502, channels: ['deploys-b'] });
    r.delivery.notify(notification('later/1', 'succeeded', 'deploys-b'));
    await r.advance(3000, 100);
    const snap = JSON.parse(JSON.stringify(r.delivery.snapshot())) as ReturnType<Delivery['snapshot']>;
    r.delivery.stop();
    outage.clear();
    const a = snap.channels.find((c) => c.channel === 'deploys-a');
    assert.equal(a?.rollouts[0]?.rolloutId, 'keep/1');
    assert.match(a?.rollouts[0]?.ts ?? '', /^\d+\.\d{6}$/);
    assert.equal(snap.channels.find((c) => c.channel === 'deploys-b')?.pending[0]?.rolloutId, 'later/1');

    const client = createSlackClient({ token: r.slack.token, slackApiUrl: r.slack.url, timeoutMs: 2000 });
    const restarted = createDelivery({ slack: createSlackApi(client), render, clock: r.clock, snapshot: snap });
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 400 && (restarted.pending().total > 0 || restarted.pending().inFlight > 0); i++) {
        r.clock.increment(50);
        await new Promise((res) => setTimeout(res, 2));
      }
    };
    restarted.notify(notification('keep/1', 'succeeded', 'deploys-a'));
    await settle();
    restarted.stop();
    const [kept] = r.slack.messages('deploys-a');
    assert.equal(r.slack.messages('deploys-a').length, 1, 'updated, not re-posted');
    assert.deepEqual(kept?.history.map((h) => h.text.split(' ')[1]), ['progressing', 'succeeded']);
    assert.equal(r.slack.messages('deploys-b').length, 1, 'pending work resumed');
  });

  it('drain(): resolves when queues are empty; on timeout returns what is left', async () => {
    const r = await rig({ channels: [{ name: 'deploys-a' }] });
    r.delivery.notify(notification('d/1', 'succeeded', 'deploys-a'));
    await r.settle();
    assert.deepEqual(await r.delivery.drain(1000), { drained: true, left: r.delivery.pending() });
    r.slack.faults.outage({ mode: 'status', status: 503 });
    r.delivery.notify(notification('d/2', 'succeeded', 'deploys-a'));
    await r.settle();
    const pendingDrain = r.delivery.drain(5000);
    await r.advance(6000, 100);
    const result = await pendingDrain;
    assert.equal(result.drained, false);
    assert.deepEqual(result.left.rollouts.map((x) => [x.rolloutId, x.final]), [['d/2', true]]);
    r.delivery.stop();
    r.delivery.notify(notification('d/3', 'succeeded', 'deploys-a'));
    assert.ok(r.rec.lines.some((l) => l.msg === 'Slack delivery is stopped; notification dropped'));
    assert.deepEqual(r.delivery.snapshot().channels[0]?.pending.map((p) => p.rolloutId), ['d/2'], 'pending work stays in the snapshot');
  });
});

describe('delivery in real time: a hung postMessage that was applied', () => {
  it('times out, re-posts once, updates the re-posted message, and counts the possible duplicate', async (t) => {
    const slack = await startSlackServer({ channels: [{ name: 'deploys-a' }], limits: false });
    const rec = recorder();
    const client = createSlackClient({ token: slack.token, slackApiUrl: slack.url, timeoutMs: 150 });
    const delivery = createDelivery({ slack: createSlackApi(client), render, logger: rec.logger, metrics: rec.metrics, pacing: { backoffBaseMs: 50, backoffCapMs: 200 } });
    try {
      slack.faults.outage({ mode: 'hang', commit: true, methods: ['chat.postMessage'], count: 1 });
      delivery.notify(notification('rt1/1', 'progressing', 'deploys-a'));
      await new Promise((res) => setTimeout(res, 50));
      delivery.notify(notification('rt1/1', 'succeeded', 'deploys-a'));
      assert.equal((await delivery.drain(5000)).drained, true);
      const mine = slack.messages('deploys-a').filter((m) => rolloutIdOf(m) === 'rt1/1');
      report(t, 'hang', { requests: slack.requests().map((q) => `${q.method} ${q.outcome}`) });
      assert.equal(mine.length, 2, 'the hung post landed, and the re-post: one visible duplicate');
      assert.ok(mine[0]?.text.includes('progressing'), 'the lost one shows what it was sent with');
      assert.ok(mine[1]?.text.includes('succeeded'), 'the verdict is on the message Hermod knows');
      assert.equal(rec.get('possibleDuplicate'), 1);
      assert.ok(rec.lines.some((l) => l.level === 'warn' && l.msg === 'a post timed out and is sent again: the message may appear twice'));
    } finally {
      delivery.stop();
      await slack.close();
    }
  });
});
