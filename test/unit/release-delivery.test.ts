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
/** A rollout's own message or a details reply (they carry the rollout metadata), not a failure's details reply. */
const ownMessage = (m: StoredMessage) => m.metadata !== undefined;

describe('release groups through the delivery layer (real WebClient, local Slack)', () => {
  for (const count of [10, 30]) {
    it(`a release of ${count} successes: one parent with ${count} rows, ONE details reply listing them all, a handful of edits`, async () => {
      const r = await rig();
      const names = Array.from({ length: count }, (_, i) => `svc-${i}`);
      for (const name of names) r.delivery.notify(note(name, 'progressing', { changes: { images: [{ container: 'app', init: false, from: 'shop/app:1.2', to: 'shop/app:1.3' }], fields: [], moreFields: 0, changeCause: null, backTo: null } }));
      await r.drain();
      assert.equal(r.top()[0]?.replies.length, 0, 'nothing in the thread while the release rolls');
      for (const name of names) r.delivery.notify(note(name, 'succeeded', { changes: { images: [{ container: 'app', init: false, from: 'shop/app:1.2', to: 'shop/app:1.3' }], fields: [], moreFields: 0, changeCause: null, backTo: null } }));
      await r.drain();

      const top = r.top();
      assert.equal(top.length, 1, 'one message in the channel');
      const parent = top[0];
      assert.match(textOf(parent), new RegExp(`${count} of ${count} done`));
      for (const name of names) assert.ok(textOf(parent).includes(`\`${name}\``), `${name} has a row`);
      assert.equal(colourOf(parent), PHASE_COLOURS.succeeded);
      const replies = parent?.replies ?? [];
      assert.deepEqual(replies.map(rolloutOf), ['uid-svc-0/2#details-1'], 'one details reply, bound under a synthetic id');
      const details = textOf(replies[0]);
      assert.match(details, new RegExp(`Details of ${count} workloads`));
      for (const name of names) assert.ok(details.includes(`Deployment \`${name}\` in \`shop\`: done · revision 2 · took 1m`), `${name} is listed`);
      assert.ok(details.includes('1.2` → `1.3'), 'what changed is listed');
      assert.equal(replies[0]?.history.length, 1, 'the details reply is posted once, never edited');
      const calls = r.calls();
      // 1 post (the parent) + 1 details reply; the parent's edits coalesce (measured in ADR 0010).
      assert.equal(calls['chat.postMessage'], 2);
      assert.ok((calls['chat.update'] ?? 0) <= 5, JSON.stringify(calls));
    });
  }

  it("the details reply is escaped and split within Slack's limits when very long", async () => {
    const r = await rig();
    const names = Array.from({ length: 50 }, (_, i) => `svc-${i}-${'x'.repeat(200)}`);
    const over = { changes: { images: [], fields: [], moreFields: 0, changeCause: `<!channel> & ${'y'.repeat(250)}`, backTo: null } };
    for (const name of names) r.delivery.notify(note(name, 'succeeded', over));
    await r.drain();
    const replies = r.top()[0]?.replies ?? [];
    assert.ok(replies.length >= 2 && replies.length <= 3, `${replies.length} details replies`);
    assert.deepEqual(replies.map(rolloutOf), replies.map((_, i) => `uid-${names[0]}/2#details-${i + 1}`));
    const all = replies.map(textOf).join('');
    assert.ok(!all.includes('<!channel>'), 'cluster text is escaped');
    for (const name of names) assert.ok(all.includes(name) || /and \d+ more workloads/.test(all), `${name} listed or counted`);
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
    assert.deepEqual(parent?.replies.map(rolloutOf), [], "web's success waits for the release's details reply; api still rolls");
    r.delivery.notify(note('api', 'succeeded', { startedAt: EPOCH + 5_000 }));
    await r.drain();
    assert.deepEqual(r.top()[0]?.replies.map(rolloutOf), ['uid-web/2#details-1']);
    assert.match(textOf(r.top()[0]?.replies[0]), /`web`.*`api`/);
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
    const replies = r.top()[0]?.replies ?? [];
    assert.deepEqual(replies.map(rolloutOf), ['uid-web/2#details-1', 'uid-web/2#details-2'], "the late joiner's success: a second details reply");
    assert.ok(!textOf(replies[1]).includes('`web`') && textOf(replies[1]).includes('`late`'));
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
    assert.deepEqual(parent?.replies.map(rolloutOf), ['uid-b/2'], "the failure's own post at once; a's success waits for the details reply");
    assert.match(textOf(parent?.replies[0]), /is failing/);
    r.delivery.notify(note('b', 'failed'));
    r.delivery.notify(note('c', 'succeeded'));
    await r.drain();
    assert.equal(colourOf(r.top()[0]), PHASE_COLOURS.failed);
    assert.match(textOf(r.top()[0]), /2 of 3 done, 1 failed/);
    const replies = r.top()[0]?.replies ?? [];
    assert.deepEqual(replies.map(rolloutOf), ['uid-b/2', 'uid-a/2#details-1'], 'the failure edited in place; the successes listed once');
    assert.match(textOf(replies[0]), /failed/);
    assert.ok(textOf(replies[1]).includes('`a`') && textOf(replies[1]).includes('`c`') && !textOf(replies[1]).includes('`b`'));
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

  describe('a degradation after the release is final (issue 13, ADR 0011: a member degrades within its bake)', () => {
    const BAKE_UNTIL = EPOCH + 60_000 + 300_000;
    /** A success the bake watches, as the workload actor sends it. */
    const baking = (name: string, alert: 'all' | 'failure' = 'all') => note(name, 'succeeded', { bakeUntil: BAKE_UNTIL }, alert);
    const degraded = (name: string, alert: 'all' | 'failure' = 'all') =>
      note(name, 'degraded', { degradedAt: EPOCH + 120_000, diagnosis: { pods: 2, stuckPods: 1, problems: [CRASH] }, mentions: ['<@U012AB3CD>'] }, alert);
    /** Three members, every row final, the details reply posted; then time passes (other work in the channel may come). */
    async function finalRelease(alert: 'all' | 'failure' = 'all') {
      const r = await rig();
      for (const name of ['a', 'b', 'c']) r.delivery.notify(note(name, 'progressing', {}, alert));
      await r.drain();
      for (const name of ['a', 'b', 'c']) r.delivery.notify(baking(name, alert));
      await r.drain();
      await r.advance(60_000);
      return r;
    }

    it('a member degrades: ONE parent edit (red, the reason on its row), its own message in the thread with the mentions, no details re-posted', async () => {
      const r = await finalRelease();
      const parent = r.top()[0];
      assert.equal(r.top().length, 1);
      assert.match(textOf(parent), /3 of 3 done/);
      assert.deepEqual(parent?.replies.map(rolloutOf), ['uid-a/2#details-1'], 'the release is final: one details reply');
      const before = r.calls();
      const versions = parent?.history.length ?? 0;
      r.delivery.notify(degraded('b'));
      await r.drain();
      await r.advance(30_000);
      assert.equal(r.top().length, 1, 'no second parent, nothing at the top level');
      assert.equal(r.top()[0]?.history.length, versions + 1, `one parent edit: ${textOf(r.top()[0])}`);
      assert.equal(colourOf(r.top()[0]), PHASE_COLOURS.degraded);
      assert.match(textOf(r.top()[0]), /`b` in `shop`: succeeded, then degraded: `CrashLoopBackOff \(exit code 1\)`/);
      const replies = r.top()[0]?.replies ?? [];
      assert.deepEqual(replies.filter(ownMessage).map(rolloutOf), ['uid-a/2#details-1', 'uid-b/2'], "b's own message in the thread; the details reply not posted again");
      assert.match(JSON.stringify(replies[1]?.history.at(-1)), /succeeded, then degraded/);
      assert.ok(replies[1]?.history.at(-1)?.text.includes('<@U012AB3CD>'), `the owners are mentioned in b's own message: ${textOf(replies[1])}`);
      assert.equal(replies[0]?.history.length, 1, 'the details reply untouched');
      // As for any failing member with owners: its failure details reply, the owners at its head.
      assert.deepEqual(replies.filter((x) => !ownMessage(x)).map((x) => x.history.at(-1)?.text.split(' ')[0]), ['<@U012AB3CD>']);
      const after = r.calls();
      assert.equal((after['chat.postMessage'] ?? 0) - (before['chat.postMessage'] ?? 0), 2, "two posts: b's own message and its failure details");
      assert.equal((after['chat.update'] ?? 0) - (before['chat.update'] ?? 0), 1, 'one edit: the parent');
    });

    it('the anchor itself degrades: the same (its row red, its own message in the thread)', async () => {
      const r = await finalRelease();
      const versions = r.top()[0]?.history.length ?? 0;
      r.delivery.notify(degraded('a'));
      await r.drain();
      await r.advance(30_000);
      assert.equal(r.top().length, 1);
      assert.equal(r.top()[0]?.history.length, versions + 1);
      assert.match(textOf(r.top()[0]), /`a` in `shop`: succeeded, then degraded/);
      assert.deepEqual(r.top()[0]?.replies.filter(ownMessage).map(rolloutOf), ['uid-a/2#details-1', 'uid-a/2#details']);
    });

    it('a duplicate of the degraded verdict edits nothing more', async () => {
      const r = await finalRelease();
      r.delivery.notify(degraded('b'));
      await r.drain();
      await r.advance(30_000);
      const before = r.calls();
      r.delivery.notify(degraded('b'));
      await r.drain();
      await r.advance(30_000);
      assert.deepEqual(r.calls(), before);
    });

    it('the group outlives its window while a member bakes: a degradation after a newer release started still reaches its thread', async () => {
      const r = await finalRelease();
      r.delivery.notify(note('other', 'progressing', { startedAt: EPOCH + 200_000, git: { sha: 'fedcba9876543210fedcba9876543210fedcba98', repo: REPO } }));
      await r.drain();
      assert.equal(r.top().length, 2);
      r.delivery.notify(degraded('c'));
      await r.drain();
      await r.advance(30_000);
      assert.equal(r.top().length, 2, 'no new top-level message');
      assert.match(textOf(r.top()[0]), /`c` in `shop`: succeeded, then degraded/);
      assert.deepEqual(r.top()[0]?.replies.filter(ownMessage).map(rolloutOf), ['uid-a/2#details-1', 'uid-c/2']);
    });

    it('alert: failure: nothing posted for the clean release; the degradation posts the parent with that row only, and its own message', async () => {
      const r = await finalRelease('failure');
      assert.equal(r.top().length, 0, 'a clean release with alert: failure posts nothing');
      r.delivery.notify(degraded('b', 'failure'));
      await r.drain();
      await r.advance(30_000);
      assert.equal(r.top().length, 1);
      const parent = r.top()[0];
      assert.match(textOf(parent), /`b` in `shop`: succeeded, then degraded/);
      assert.ok(!textOf(parent).includes('`a`') && !textOf(parent).includes('`c`'), textOf(parent));
      assert.deepEqual(parent?.replies.filter(ownMessage).map(rolloutOf), ['uid-b/2']);
    });
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
    assert.deepEqual(r.top()[0]?.replies.map(rolloutOf), ['uid-web/2#details-1']);
    assert.match(textOf(r.top()[0]?.replies[0]), /Details of 3 workloads/);
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
