/**
 * Delivery under leader election (src/actors/leaderDelivery.ts, ./journal.ts, ./repair.ts):
 * two "processes" (two LeaderDelivery instances with their own delivery actor systems) share
 * one fenced store with the API server's precondition rule and the local Slack (real
 * @slack/web-api client). A follower sends nothing; a binding is durable before a post counts;
 * a new leader edits the old leader's message; an intent without an answer is counted; a
 * fenced write stops the leader. The ConfigMap store itself is tested against the real control
 * plane (test/integration/state-store.test.ts), the whole on two real processes in
 * test/integration/failover.test.ts.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createDelivery, type SlackApi } from '../../src/actors/delivery/index.js';
import { createJournal, merge, type PersistedState } from '../../src/actors/journal.js';
import { createLeaderDelivery, type LeaderDelivery, type LeaderDeliveryOptions } from '../../src/actors/leaderDelivery.js';
import { repairNotifications } from '../../src/actors/repair.js';
import type { WriteResult } from '../../src/io/kube/stateStore.js';
import { createStateWriter } from '../../src/io/kube/stateWriter.js';
import { createSlackApi, createSlackClient } from '../../src/io/slack.js';
import type { RolloutObservation } from '../../src/machines/facts.js';
import type { SlackMessage } from '../../src/machines/message.js';
import type { Notification, RolloutPhase, RolloutView } from '../../src/machines/notification.js';
import { startSlackServer, type SlackServer } from '../support/slack-server.js';

/** ConfigMap-like: writes only at the current resourceVersion. */
class Store {
  value: PersistedState | undefined;
  version = 0;
  writes = 0;
  async read() {
    return { snapshot: this.value === undefined ? undefined : (JSON.parse(JSON.stringify(this.value)) as PersistedState), resourceVersion: this.version === 0 ? null : String(this.version) };
  }
  async write(value: PersistedState, resourceVersion: string | null): Promise<WriteResult> {
    await new Promise((r) => setImmediate(r));
    const current = this.version === 0 ? null : String(this.version);
    if (resourceVersion !== current) return { kind: 'fenced', reason: `changed since ${resourceVersion}` };
    this.value = JSON.parse(JSON.stringify(value)) as PersistedState;
    this.version++;
    this.writes++;
    return { kind: 'written', resourceVersion: String(this.version) };
  }
}

function view(rolloutId: string, phase: RolloutPhase): RolloutView {
  return {
    rolloutId, namespace: 'shop', deployment: 'web', revision: 2, previousRevision: 1, rolledBackTo: [], replicaSet: 'web-2', phase,
    startedAt: 0, endedAt: null, adopted: false, progressDeadlineSeconds: 600,
    progress: { desired: 1, updated: 1, ready: 1, available: 1, old: 0 }, diagnosis: { pods: 1, stuckPods: 0, problems: [] },
    git: {}, supersededBy: null, detail: null,
  };
}
const note = (rolloutId: string, phase: RolloutPhase): Notification => ({ rolloutId, channel: 'deploys', alert: 'all', view: view(rolloutId, phase) });
const render = (v: RolloutView): SlackMessage => ({ text: `${v.rolloutId} ${v.phase}`, attachments: [], thread: null });

const servers: SlackServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

/** `scopes`: the token's (default: the local Slack's, with channels:history). */
async function rig(opts: { scopes?: string[] } = {}) {
  const slack = await startSlackServer({ channels: [{ name: 'deploys', member: true }], limits: false, ...(opts.scopes ? { tokens: [{ token: 'xoxb-hermod-test', scopes: opts.scopes }] } : {}) });
  servers.push(slack);
  const api: SlackApi = createSlackApi(createSlackClient({ token: slack.token, slackApiUrl: slack.url, timeoutMs: 1_000 }));
  const store = new Store();
  const make = (
    name: string,
    opts: { leading: () => boolean; observations?: ReadonlyMap<string, RolloutObservation>; onKeptBakes?: LeaderDeliveryOptions['onKeptBakes'] },
  ) => {
    let duplicates = 0;
    let fenced: string | null = null;
    const d: LeaderDelivery = createLeaderDelivery({
      slack: api,
      store,
      makeDelivery: (gated, snapshot) => createDelivery({ slack: gated, render, ...(snapshot ? { snapshot } : {}) }),
      makeWriter: (compose, resourceVersion) => createStateWriter({ store, snapshot: compose, resourceVersion, windowMs: 20, onFenced: (r) => (fenced = r) }),
      isLeader: opts.leading,
      observations: () => opts.observations ?? new Map(),
      whenSynced: async () => {},
      catchUpMs: 0,
      onPossibleDuplicate: () => duplicates++,
      ...(opts.onKeptBakes !== undefined ? { onKeptBakes: opts.onKeptBakes } : {}),
    });
    return { name, d, duplicates: () => duplicates, fenced: () => fenced };
  };
  const until = async <T>(what: string, probe: () => T | undefined | false) => {
    for (let i = 0; i < 500; i++) {
      const v = probe();
      if (v !== undefined && v !== false) return v;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`never: ${what}`);
  };
  const tsInStore = (rolloutId: string) =>
    store.value?.channels.flatMap((c) => c.rollouts).find((r) => r.rolloutId === rolloutId)?.ts ??
    store.value?.journal?.bindings.find((b) => b.rolloutId === rolloutId)?.ts;
  return { slack, store, make, until, tsInStore };
}

describe('delivery under leader election', () => {
  it('a follower sends nothing and writes nothing', async () => {
    const r = await rig();
    const follower = r.make('b', { leading: () => false });
    follower.d.notify(note('u1/2', 'progressing'));
    assert.equal(follower.d.delivering, false);
    assert.equal(follower.d.pending().total, 0);
    assert.deepEqual(r.slack.requests(), []);
    assert.equal(r.store.writes, 0);
    follower.d.stop();
  });

  it("the binding is durable when the post is done; the next leader edits the old leader's message", async () => {
    const r = await rig();
    let aLeads = true;
    const a = r.make('a', { leading: () => aLeads });
    const b = r.make('b', { leading: () => !aLeads });
    await a.d.lead();
    for (const p of [a, b]) p.d.notify(note('u1/2', 'progressing'));
    await a.d.drain(5_000);
    const posted = r.slack.messages('deploys');
    assert.equal(posted.length, 1);
    // Done means durable: the store already shows the message's ts.
    assert.equal(r.tsInStore('u1/2'), posted[0]?.ts);
    // a dies (no flush, no release); b takes over, then the rollout succeeds.
    a.d.stop();
    aLeads = false;
    await b.d.lead();
    b.d.notify(note('u1/2', 'succeeded'));
    await r.until('the verdict shown', () => r.slack.messages('deploys')[0]?.text.endsWith('succeeded'));
    assert.equal(r.slack.messages('deploys').length, 1, 'one top-level message');
    assert.equal(r.slack.requests().filter((q) => q.method === 'chat.postMessage').length, 1);
    assert.equal(b.duplicates(), 0);
    b.d.stop();
  });

  it('a success kept for its bake survives the hand-over: a degraded verdict the old leader never sent edits the same message (issue 13)', async () => {
    const r = await rig();
    let aLeads = true;
    const a = r.make('a', { leading: () => aLeads });
    const b = r.make('b', { leading: () => !aLeads });
    await a.d.lead();
    const baking: Notification = { ...note('u1/2', 'succeeded'), view: { ...view('u1/2', 'succeeded'), endedAt: 1, bakeUntil: 300_001 } };
    for (const p of [a, b]) p.d.notify(baking);
    await a.d.drain(5_000);
    assert.equal(await a.d.flush(), true);
    assert.equal(r.store.value?.channels[0]?.rollouts[0]?.bakeUntil, 300_001, 'the kept record is persisted');
    assert.equal(r.store.value?.channels[0]?.rollouts[0]?.sentPhase, 'succeeded');
    // a dies; meanwhile the warm follower's actor found the success degraded.
    a.d.stop();
    b.d.notify(note('u1/2', 'degraded'));
    aLeads = false;
    await b.d.lead();
    await r.until('the degraded verdict shown', () => r.slack.messages('deploys')[0]?.text.endsWith('degraded'));
    assert.equal(r.slack.messages('deploys').length, 1, 'one top-level message');
    b.d.stop();
  });

  it('a cold process takes over inside a bake window: the kept bake is handed to its workload with the latest observation (ADR 0011)', async () => {
    const r = await rig();
    const a = r.make('a', { leading: () => true });
    await a.d.lead();
    const bakeUntil = Date.now() + 300_000;
    const success: Notification = { ...note('u1/2', 'succeeded'), view: { ...view('u1/2', 'succeeded'), startedAt: 5, endedAt: 10, bakeUntil } };
    a.d.notify(success);
    a.d.notify({ ...note('u9/4', 'succeeded'), view: { ...view('u9/4', 'succeeded'), endedAt: 10, bakeUntil: Date.now() - 1 } });
    await a.d.drain(5_000);
    assert.equal(await a.d.flush(), true);
    a.d.stop();
    // A process that saw nothing of the success (no warm notification), its caches synced.
    const observation = { at: Date.now(), deployment: { uid: 'u1', revision: 2 } } as unknown as RolloutObservation;
    const other = { at: Date.now(), deployment: { uid: 'u9', revision: 4 } } as unknown as RolloutObservation;
    const handed: Array<Parameters<NonNullable<LeaderDeliveryOptions['onKeptBakes']>>[0]> = [];
    const c = r.make('c', { leading: () => true, observations: new Map([['u1', observation], ['u9', other]]), onKeptBakes: (b) => handed.push(b) });
    await c.d.lead();
    assert.equal(handed.length, 1);
    assert.deepEqual(handed[0], [{ bake: { rolloutId: 'u1/2', channel: 'deploys', bakeUntil, startedAt: 5, succeededAt: 10, previousRevision: 1, adopted: false }, observation }], 'the open one only');
    c.d.stop();
  });

  it("a channel's first post whose answer never came (its ID unknown, nothing to look up) is counted as a possible duplicate", async () => {
    const r = await rig();
    let aLeads = true;
    const a = r.make('a', { leading: () => aLeads });
    const b = r.make('b', { leading: () => !aLeads });
    // Slack applies the post but never answers.
    r.slack.faults.outage({ methods: ['chat.postMessage'], mode: 'hang', commit: true, count: 1 });
    await a.d.lead();
    for (const p of [a, b]) p.d.notify(note('u2/2', 'progressing'));
    await r.until('the post to reach Slack', () => r.slack.messages('deploys').length === 1);
    assert.deepEqual(r.store.value?.journal?.intents.map((i) => i.rolloutId), ['u2/2'], 'the intent was durable before the call');
    a.d.stop();
    aLeads = false;
    await b.d.lead();
    assert.equal(b.duplicates(), 1);
    await r.until('the second post', () => r.slack.messages('deploys').length === 2);
    await b.d.drain(5_000);
    b.d.stop();
  });

  /**
   * The channel's ID is known (an earlier rollout was posted), then leader `a` makes a first post
   * that Slack applies (or not) but never answers, and dies; `b` takes over.
   */
  const lostAnswer = async (opts: { scopes?: string[]; applied: boolean }) => {
    const r = await rig(opts);
    let aLeads = true;
    const a = r.make('a', { leading: () => aLeads });
    const b = r.make('b', { leading: () => !aLeads });
    await a.d.lead();
    for (const p of [a, b]) p.d.notify(note('u1/2', 'succeeded'));
    await a.d.drain(5_000);
    r.slack.faults.outage({ methods: ['chat.postMessage'], mode: 'hang', commit: opts.applied, count: 1 });
    for (const p of [a, b]) p.d.notify(note('u2/2', 'progressing'));
    await r.until('the post to reach Slack', () => r.slack.requests().filter((q) => q.method === 'chat.postMessage').length === 2);
    await r.until('the intent to be durable', () => r.store.value?.journal?.intents.some((i) => i.rolloutId === 'u2/2'));
    a.d.stop();
    aLeads = false;
    await b.d.lead();
    b.d.notify(note('u2/2', 'succeeded'));
    await r.until('u2/2 shown as succeeded', () => r.slack.messages('deploys').some((m) => m.text === 'u2/2 succeeded'));
    await b.d.drain(5_000);
    b.d.stop();
    const posts = r.slack.requests().filter((q) => q.method === 'chat.postMessage').length;
    return { b, r, posts, messages: r.slack.messages('deploys').map((m) => m.text).sort() };
  };

  it('a lost answer, with channels:history: the next leader finds the post and edits it (no duplicate, none counted)', async () => {
    const { b, posts, messages } = await lostAnswer({ applied: true });
    assert.deepEqual(messages, ['u1/2 succeeded', 'u2/2 succeeded']);
    assert.equal(posts, 2, 'b posted nothing');
    assert.equal(b.duplicates(), 0);
  });

  it('a lost answer of a post Slack never applied: the next leader posts it, no duplicate counted', async () => {
    const { b, posts, messages } = await lostAnswer({ applied: false });
    assert.deepEqual(messages, ['u1/2 succeeded', 'u2/2 succeeded']);
    assert.equal(posts, 3, 'b posted it');
    assert.equal(b.duplicates(), 0);
  });

  it('a lost answer, without channels:history: the next leader posts again and counts the possible duplicate', async () => {
    const { b, r, messages } = await lostAnswer({ applied: true, scopes: ['chat:write'] });
    assert.deepEqual(messages, ['u1/2 succeeded', 'u2/2 progressing', 'u2/2 succeeded']);
    assert.equal(b.duplicates(), 1);
    assert.ok(r.slack.requests().some((q) => q.method === 'conversations.history' && q.outcome === 'missing_scope'), 'it asked, and Slack refused');
  });

  it('a fenced write stops the leader: it delivers nothing more', async () => {
    const r = await rig();
    const a = r.make('a', { leading: () => true });
    await a.d.lead();
    a.d.notify(note('u3/2', 'progressing'));
    await a.d.drain(5_000);
    r.store.version += 1; // another writer
    a.d.notify(note('u3/2', 'succeeded'));
    await r.until('the fence', () => a.fenced() !== null);
    a.d.follow(); // what the election does on fence
    const calls = r.slack.requests().length;
    a.d.notify(note('u3/2', 'succeeded'));
    assert.equal(a.d.delivering, false);
    assert.equal(r.slack.requests().length, calls);
    a.d.stop();
  });
});

describe('journal', () => {
  it('merge: a binding becomes the record ts; an intent without a ts is a possible duplicate', () => {
    const j = createJournal();
    j.intend({ rolloutId: 'a/1', namespace: 'n', channel: 'deploys', at: 1 });
    j.intend({ rolloutId: 'b/1', namespace: 'n', channel: 'deploys', at: 1 });
    j.bind({ rolloutId: 'b/1', namespace: 'n', channel: 'deploys', at: 2, channelId: 'C1', ts: '1.1', phase: 'progressing', version: 1 });
    const stored = j.compose({ version: 1, channels: [{ channel: 'deploys', channelId: null, rollouts: [], finished: [], pending: [] }] });
    const merged = merge(stored);
    assert.deepEqual(merged.possibleDuplicates.map((i) => i.rolloutId), ['a/1']);
    const record = merged.snapshot?.channels[0]?.rollouts.find((r) => r.rolloutId === 'b/1');
    assert.equal(record?.ts, '1.1');
    assert.equal(record?.channelId, 'C1');
  });

  it("merge: a binding that names the channel by ID lands in that channel's record, not in a second channel", () => {
    // A post restored from another process's queue goes to the channel ID, and the binding says so.
    const j = createJournal();
    j.bind({ rolloutId: 'b/1', namespace: 'n', channel: 'C1', at: 2, channelId: 'C1', ts: '1.1', phase: 'progressing', version: 1 });
    j.bind({ rolloutId: 'c/1', namespace: 'n', channel: 'C1', at: 2, channelId: 'C1', ts: '1.2', phase: 'progressing', version: 1 });
    const pendingRecord = { rolloutId: 'b/1', namespace: 'n', channelId: 'C1', ts: null, sentPhase: null, sentVersion: 0, sentKey: null, threadKey: null, milestone: null };
    const merged = merge(j.compose({ version: 1, channels: [{ channel: '#deploys', channelId: 'C1', rollouts: [pendingRecord], finished: [], pending: [] }] }));
    assert.deepEqual(merged.snapshot?.channels.map((c) => c.channel), ['#deploys']);
    assert.deepEqual(merged.snapshot?.channels[0]?.rollouts.map((r) => [r.rolloutId, r.ts]), [['b/1', '1.1'], ['c/1', '1.2']]);
  });
});

function observation(uid: string, revision: number, state: 'complete' | 'deadline' | 'progressing', at = '2026-12-06T10:00:00Z'): RolloutObservation {
  const updated = state === 'progressing' ? 0 : 1;
  return {
    at: 0,
    deployment: {
      uid, namespace: 'shop', name: 'web', generation: 1, revision, git: {},
      spec: { replicas: 1, paused: false, progressDeadlineSeconds: 600 },
      status: {
        observedGeneration: 1, replicas: 1, updatedReplicas: updated, readyReplicas: updated, availableReplicas: state === 'complete' ? 1 : 0, unavailableReplicas: 0,
        conditions: [{ type: 'Progressing', status: state === 'deadline' ? 'False' : 'True', reason: state === 'deadline' ? 'ProgressDeadlineExceeded' : 'NewReplicaSetAvailable', lastUpdateTime: at }],
      },
    },
    newReplicaSet: null,
    pods: [],
    warnings: [],
    target: { channel: 'deploys', alert: 'all' },
  };
}

describe('repair and catch-up', () => {
  const record = (rolloutId: string, ts: string | null, sentPhase: RolloutPhase | null) => ({ rolloutId, namespace: 'shop', channelId: 'C1', ts, sentPhase, sentVersion: 1, sentKey: 'k', threadKey: null, milestone: null });
  const snapshot = (rollouts: ReturnType<typeof record>[], finished: string[] = []) => ({ version: 1 as const, channels: [{ channel: 'deploys', channelId: 'C1', rollouts, finished, pending: [] }] });
  const now = Date.parse('2026-12-06T10:10:00Z');
  const base = { names: new Map([['u/2', 'web']]), covered: new Set<string>(), now, catchUpMs: 3_600_000 };

  it('a message left orange for a rollout that ended while no Hermod ran is edited to the verdict', () => {
    const out = repairNotifications({ ...base, snapshot: snapshot([record('u/2', '1.1', 'progressing')]), observations: new Map([['u', observation('u', 2, 'complete')]]) });
    assert.deepEqual(out.map((n) => [n.rolloutId, n.view.phase]), [['u/2', 'succeeded']]);
    const failed = repairNotifications({ ...base, snapshot: snapshot([record('u/2', '1.1', 'progressing')]), observations: new Map([['u', observation('u', 2, 'deadline')]]) });
    assert.deepEqual(failed.map((n) => [n.rolloutId, n.view.phase]), [['u/2', 'failed']]);
  });

  it('still in flight: left to the adopting Deployment actor; gone: deleted', () => {
    assert.deepEqual(repairNotifications({ ...base, snapshot: snapshot([record('u/2', '1.1', 'progressing')]), observations: new Map([['u', observation('u', 2, 'progressing')]]) }), []);
    const gone = repairNotifications({ ...base, snapshot: snapshot([record('u/2', '1.1', 'progressing')]), observations: new Map() });
    assert.deepEqual(gone.map((n) => [n.rolloutId, n.view.phase, n.view.deployment]), [['u/2', 'deleted', 'web']]);
  });

  it('a newer revision: the old message superseded, the new rollout reported late once, within --catch-up-seconds only', () => {
    const input = { ...base, snapshot: snapshot([record('u/2', '1.1', 'progressing')]), observations: new Map([['u', observation('u', 3, 'complete')]]) };
    const out = repairNotifications(input);
    assert.deepEqual(out.map((n) => [n.rolloutId, n.view.phase]), [['u/2', 'superseded'], ['u/3', 'succeeded']]);
    assert.match(out[1]?.view.detail ?? '', /Reported late: .*\(the controller's verdict came at /);
    assert.deepEqual(repairNotifications({ ...input, catchUpMs: 0 }).map((n) => n.rolloutId), ['u/2']);
    assert.deepEqual(repairNotifications({ ...input, now: now + 2 * 3_600_000 }).map((n) => n.rolloutId), ['u/2']);
  });

  it('workloads never recorded are not announced; covered rollouts are left to the live path', () => {
    const known = snapshot([], ['u/1']);
    assert.deepEqual(repairNotifications({ ...base, snapshot: known, observations: new Map([['other', observation('other', 5, 'complete')]]) }), []);
    assert.deepEqual(repairNotifications({ ...base, snapshot: known, covered: new Set(['u/2']), observations: new Map([['u', observation('u', 2, 'complete')]]) }), []);
    assert.deepEqual(repairNotifications({ ...base, snapshot: known, observations: new Map([['u', observation('u', 2, 'complete')]]) }).map((n) => n.rolloutId), ['u/2']);
  });
});
