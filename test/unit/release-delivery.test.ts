/**
 * One message per release (issue 13) through the delivery layer: createDelivery -> the channel
 * statechart -> src/io/slack.ts -> the REAL @slack/web-api WebClient -> the local Slack server,
 * with Slack's limits on, on a SimulatedClock shared with the server. Messages are rendered by
 * the real renderer. Counts and what Slack shows are asserted, never timings.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SimulatedClock } from 'xstate';
import { createDelivery, type Delivery, type DeliveryOptions, type DeliverySnapshot } from '../../src/actors/delivery/index.js';
import { createJournal, merge } from '../../src/actors/journal.js';
import { createSlackApi, createSlackClient } from '../../src/io/slack.js';
import { PHASE_COLOURS, renderRollout } from '../../src/machines/message.js';
import type { Notification, ProblemGroup, RolloutPhase, RolloutView } from '../../src/machines/notification.js';
import { startSlackServer, type SlackServer, type StoredMessage } from '../support/slack-server.js';
import { opts, SHA } from '../support/rolloutViews.js';

const EPOCH = 1_700_000_000_000;
const WINDOW_MS = 30_000;
const CHANNEL = 'deploys';
const REPO = 'https://github.com/my-org/shop';
const CRASH: ProblemGroup = { source: 'container', reason: 'CrashLoopBackOff', container: 'app', exitCode: 1, count: 1 };

function view(name: string, phase: RolloutPhase, over: Partial<RolloutView> = {}): RolloutView {
  const failing = phase === 'failing' || phase === 'failed';
  return {
    rolloutId: `uid-${name}/2`,
    namespace: 'shop',
    deployment: name,
    revision: 2,
    previousRevision: 1,
    rolledBackTo: [],
    replicaSet: `${name}-rs`,
    phase,
    startedAt: EPOCH,
    endedAt: phase === 'succeeded' || phase === 'failed' ? EPOCH + 60_000 : null,
    adopted: false,
    progressDeadlineSeconds: 600,
    progress: { desired: 2, updated: 2, ready: failing ? 0 : 2, available: failing ? 0 : 2, old: 0 },
    diagnosis: failing ? { pods: 2, stuckPods: 2, problems: [CRASH] } : { pods: 2, stuckPods: 0, problems: [] },
    git: { sha: SHA, repo: REPO },
    supersededBy: null,
    detail: null,
    ...over,
  };
}

function note(name: string, phase: RolloutPhase, over: Partial<RolloutView> = {}, alert: 'all' | 'failure' = 'all'): Notification {
  const v = view(name, phase, over);
  return { rolloutId: v.rolloutId, channel: CHANNEL, alert, view: v };
}

interface Rig {
  slack: SlackServer;
  delivery: Delivery;
  clock: SimulatedClock;
  drain(maxMs?: number): Promise<void>;
  /** Lets `ms` pass on the shared clock, the Slack calls due meanwhile made. */
  advance(ms: number): Promise<void>;
  restart(snapshot: DeliverySnapshot): void;
  top(): StoredMessage[];
  calls(): Record<string, number>;
}

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers) await c();
});

async function rig(windowMs = WINDOW_MS, extra: Partial<DeliveryOptions> = {}): Promise<Rig> {
  const clock = new SimulatedClock();
  clock.set(EPOCH);
  const slack = await startSlackServer({ now: () => clock.now(), channels: [{ name: CHANNEL }] });
  const client = createSlackClient({ token: slack.token, slackApiUrl: slack.url, timeoutMs: 2000 });
  const make = (snapshot?: DeliverySnapshot) =>
    createDelivery({
      slack: createSlackApi(client),
      render: (v) => renderRollout(v, opts()),
      clock,
      releaseWindowMs: windowMs,
      cluster: 'prod',
      ...(snapshot !== undefined ? { snapshot } : {}),
      ...extra,
    });
  const settle = async () => {
    for (let i = 0; i < 20_000; i++) {
      await new Promise((res) => setImmediate(res));
      if (r.delivery.pending().inFlight === 0) {
        await new Promise((res) => setImmediate(res));
        if (r.delivery.pending().inFlight === 0) return;
      }
    }
    throw new Error('Slack calls did not settle');
  };
  const r: Rig = {
    slack,
    delivery: make(),
    clock,
    async advance(ms) {
      for (let t = 0; t < ms; t += 50) {
        await settle();
        clock.increment(50);
      }
      await settle();
    },
    async drain(maxMs = 600_000) {
      const start = clock.now();
      await settle();
      while (r.delivery.pending().total > 0) {
        if (clock.now() - start > maxMs) throw new Error(`not drained: ${JSON.stringify(r.delivery.pending())}`);
        clock.increment(50);
        await settle();
      }
    },
    restart(snapshot) {
      r.delivery.stop();
      r.delivery = make(snapshot);
    },
    top: () => slack.messages(CHANNEL),
    calls() {
      const out: Record<string, number> = {};
      for (const q of slack.requests()) if (q.method.startsWith('chat.')) out[q.method] = (out[q.method] ?? 0) + 1;
      return out;
    },
  };
  closers.push(async () => {
    r.delivery.stop();
    await slack.close();
  });
  return r;
}

const NAMES = Array.from({ length: 10 }, (_, i) => `svc-${i}`);
const shown = (m: StoredMessage | undefined) => m?.history.at(-1);
const textOf = (m: StoredMessage | undefined) => JSON.stringify(shown(m) ?? null);
const colourOf = (m: StoredMessage | undefined) => (shown(m)?.attachments?.[0] as { color?: string } | undefined)?.color;
const rolloutOf = (m: StoredMessage) => String(m.metadata?.event_payload['rolloutId']);

describe('release groups through the delivery layer (real WebClient, local Slack)', () => {
  it('a release of 10: one parent with 10 rows, each workload once in its thread, a handful of edits', async () => {
    const r = await rig();
    for (const name of NAMES) r.delivery.notify(note(name, 'progressing'));
    await r.drain();
    for (const name of NAMES) r.delivery.notify(note(name, 'succeeded'));
    await r.drain();

    const top = r.top();
    assert.equal(top.length, 1, 'one message in the channel');
    const parent = top[0];
    assert.match(textOf(parent), /10 of 10 done/);
    for (const name of NAMES) assert.ok(textOf(parent).includes(`\`${name}\``), `${name} has a row`);
    assert.equal(colourOf(parent), PHASE_COLOURS.succeeded);
    const replies = parent?.replies ?? [];
    assert.equal(replies.length, 10, 'one reply per workload');
    assert.deepEqual(new Set(replies.map(rolloutOf)), new Set(['uid-svc-0/2#details', ...NAMES.slice(1).map((n) => `uid-${n}/2`)]));
    for (const reply of replies) assert.match(textOf(reply), /succeeded/);
    const calls = r.calls();
    // 1 post (the parent) + 10 replies; the parent's edits coalesce (measured in ADR 0010).
    assert.equal(calls['chat.postMessage'], 11);
    assert.ok((calls['chat.update'] ?? 0) <= 5, JSON.stringify(calls));
  });

  it('verdicts spread over a minute coalesce: the parent is edited at most once per interval', async () => {
    const r = await rig();
    for (const name of NAMES) r.delivery.notify(note(name, 'progressing'));
    await r.drain();
    const before = r.calls()['chat.update'] ?? 0;
    for (const name of NAMES) {
      r.delivery.notify(note(name, 'succeeded'));
      await r.advance(6_000);
    }
    await r.drain();
    const edits = (r.calls()['chat.update'] ?? 0) - before;
    // 10 verdicts 6 s apart, one parent edit per 10 s at most: about 6, never one per verdict.
    assert.ok(edits <= 7, `${edits} edits of the parent`);
    assert.match(textOf(r.top()[0]), /10 of 10 done/);
  });

  it('a group of one looks exactly like a lone rollout (the same calls, the same message)', async () => {
    const on = await rig(WINDOW_MS);
    const off = await rig(0);
    for (const r of [on, off]) {
      r.delivery.notify(note('web', 'progressing'));
      await r.drain();
      r.delivery.notify(note('web', 'failing'));
      await r.drain();
      r.delivery.notify(note('web', 'succeeded'));
      await r.drain();
    }
    assert.deepEqual(on.calls(), off.calls());
    const strip = (m: StoredMessage) => ({ text: m.history.map((h) => [h.text, h.attachments]), replies: m.replies.map((x) => x.history.map((h) => [h.text, h.blocks])) });
    assert.deepEqual(on.top().map(strip), off.top().map(strip));
    assert.equal(on.top().length, 1);
  });

  it('the message turns into the release layout when the second member joins; its own details go to the thread', async () => {
    const r = await rig();
    r.delivery.notify(note('web', 'progressing'));
    await r.drain();
    assert.match(textOf(r.top()[0]), /Rolling out Deployment/);
    r.delivery.notify(note('api', 'progressing', { startedAt: EPOCH + 5_000 }));
    r.delivery.notify(note('web', 'succeeded'));
    await r.drain();
    const parent = r.top()[0];
    assert.equal(r.top().length, 1);
    assert.match(textOf(parent), /Release/);
    assert.match(textOf(parent), /1 of 2 done, 1 rolling/);
    assert.deepEqual(parent?.replies.map(rolloutOf), ['uid-web/2#details'], 'api is still rolling: its row shows it, its details wait for its verdict');
  });

  it('a late joiner within the window joins the open group, even after every member had finished', async () => {
    const r = await rig();
    r.delivery.notify(note('web', 'progressing'));
    r.delivery.notify(note('api', 'progressing'));
    await r.drain();
    r.delivery.notify(note('web', 'succeeded'));
    r.delivery.notify(note('api', 'succeeded'));
    await r.drain();
    r.clock.increment(20_000);
    r.delivery.notify(note('late', 'progressing', { startedAt: EPOCH + 20_000 }));
    await r.drain();
    r.delivery.notify(note('late', 'succeeded', { startedAt: EPOCH + 20_000 }));
    await r.drain();
    assert.equal(r.top().length, 1, 'the same parent');
    assert.match(textOf(r.top()[0]), /3 of 3 done/);
    // After the window a rollout of the same commit is a release of its own.
    r.delivery.notify(note('later', 'progressing', { startedAt: EPOCH + WINDOW_MS + 1 }));
    await r.drain();
    assert.equal(r.top().length, 2);
    assert.match(textOf(r.top()[1]), /Rolling out Deployment `later`/);
  });

  it("a late duplicate of a member's verdict does not edit a finished release again", async () => {
    const r = await rig();
    r.delivery.notify(note('web', 'progressing'));
    r.delivery.notify(note('api', 'progressing'));
    await r.drain();
    r.delivery.notify(note('web', 'succeeded'));
    r.delivery.notify(note('api', 'succeeded'));
    await r.drain();
    const before = r.calls();
    r.delivery.notify(note('api', 'succeeded'));
    r.delivery.notify(note('web', 'succeeded'));
    await r.drain();
    assert.deepEqual(r.calls(), before);
  });

  it('a failure in a group: the worst colour, the reason on the row, the failure details in the thread', async () => {
    const r = await rig();
    for (const name of ['a', 'b', 'c']) r.delivery.notify(note(name, 'progressing'));
    await r.drain();
    r.delivery.notify(note('a', 'succeeded'));
    r.delivery.notify(note('b', 'failing'));
    await r.drain();
    const parent = r.top()[0];
    assert.equal(r.top().length, 1);
    assert.equal(colourOf(parent), PHASE_COLOURS.failing);
    assert.match(textOf(parent), /`b` in `shop`: failing: `CrashLoopBackOff \(exit code 1\)`/);
    const b = parent?.replies.find((m) => rolloutOf(m) === 'uid-b/2');
    assert.match(textOf(b), /is failing/);
    r.delivery.notify(note('b', 'failed'));
    r.delivery.notify(note('c', 'succeeded'));
    await r.drain();
    assert.equal(colourOf(r.top()[0]), PHASE_COLOURS.failed);
    assert.match(textOf(r.top()[0]), /2 of 3 done, 1 failed/);
  });

  it('alert: failure: no parent until something fails, then only the failing rows and their details', async () => {
    const r = await rig();
    for (const name of ['a', 'b', 'c']) r.delivery.notify(note(name, 'progressing', {}, 'failure'));
    await r.drain();
    r.delivery.notify(note('a', 'succeeded', {}, 'failure'));
    await r.drain();
    assert.equal(r.top().length, 0, 'nothing fails: nothing posted');
    r.delivery.notify(note('b', 'failing', {}, 'failure'));
    await r.drain();
    assert.equal(r.top().length, 1);
    const parent = r.top()[0];
    assert.ok(textOf(parent).includes('`b`'));
    assert.ok(!textOf(parent).includes('`a`'));
    assert.ok(!textOf(parent).includes('`c`'));
    assert.deepEqual(parent?.replies.map(rolloutOf), ['uid-b/2']);
    r.delivery.notify(note('c', 'succeeded', {}, 'failure'));
    r.delivery.notify(note('b', 'failed', {}, 'failure'));
    await r.drain();
    assert.equal(r.top().length, 1);
    assert.deepEqual(r.top()[0]?.replies.map(rolloutOf), ['uid-b/2']);
  });

  it('a restart mid-group (snapshot through the journal) keeps one parent and edits it', async () => {
    const r = await rig();
    r.delivery.notify(note('web', 'progressing'));
    r.delivery.notify(note('api', 'progressing'));
    await r.drain();
    const journal = createJournal();
    const stored = JSON.parse(JSON.stringify(journal.compose(r.delivery.snapshot()))) as Parameters<typeof merge>[0];
    const merged = merge(stored);
    assert.ok(merged.snapshot?.channels[0]?.groups?.length === 1, 'the group is part of the persisted state');
    r.restart(merged.snapshot as DeliverySnapshot);
    // After a restart the Deployment actors notify again (warm replay), then the late joiner comes.
    r.delivery.notify(note('web', 'succeeded'));
    r.delivery.notify(note('api', 'succeeded'));
    r.delivery.notify(note('late', 'succeeded', { startedAt: EPOCH + 10_000 }));
    await r.drain();
    assert.equal(r.top().length, 1, 'no second parent');
    assert.match(textOf(r.top()[0]), /3 of 3 done/);
    assert.equal(r.top()[0]?.replies.length, 3);
  });

  it('without a commit SHA, or with the window at 0, each rollout has its own message', async () => {
    const r = await rig();
    r.delivery.notify(note('a', 'progressing', { git: {} }));
    r.delivery.notify(note('b', 'progressing', { git: {} }));
    await r.drain();
    assert.equal(r.top().length, 2);
    const off = await rig(0);
    off.delivery.notify(note('a', 'progressing'));
    off.delivery.notify(note('b', 'progressing'));
    await off.drain();
    assert.equal(off.top().length, 2);
  });
});
