/**
 * Release groups (issue 13) under leader election (ADR 0006): the parent is the anchor's
 * message, journalled like any first post; a member's message in the thread is bound (durable
 * before it counts); the group itself is part of the persisted state. Two LeaderDelivery
 * "processes" share one fenced store and the local Slack (real @slack/web-api client); the
 * first leader dies without a flush mid-group, the second takes over: one parent, each
 * member's message once.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createDelivery, type SlackApi } from '../../src/actors/delivery/index.js';
import type { PersistedState } from '../../src/actors/journal.js';
import { createLeaderDelivery } from '../../src/actors/leaderDelivery.js';
import type { WriteResult } from '../../src/io/kube/stateStore.js';
import { createStateWriter } from '../../src/io/kube/stateWriter.js';
import { createSlackApi, createSlackClient } from '../../src/io/slack.js';
import { renderRollout } from '../../src/machines/message.js';
import type { Notification, RolloutPhase, RolloutView } from '../../src/machines/notification.js';
import { startSlackServer, type SlackServer } from '../support/slack-server.js';
import { opts, SHA } from '../support/rolloutViews.js';

class Store {
  value: PersistedState | undefined;
  version = 0;
  async read() {
    return { snapshot: this.value === undefined ? undefined : (JSON.parse(JSON.stringify(this.value)) as PersistedState), resourceVersion: this.version === 0 ? null : String(this.version) };
  }
  async write(value: PersistedState, resourceVersion: string | null): Promise<WriteResult> {
    await new Promise((r) => setImmediate(r));
    if (resourceVersion !== (this.version === 0 ? null : String(this.version))) return { kind: 'fenced', reason: `changed since ${resourceVersion}` };
    this.value = JSON.parse(JSON.stringify(value)) as PersistedState;
    this.version++;
    return { kind: 'written', resourceVersion: String(this.version) };
  }
}

const START = 1_700_000_000_000;
function view(name: string, phase: RolloutPhase, startedAt = START): RolloutView {
  const failing = phase === 'failing';
  return {
    rolloutId: `uid-${name}/2`, namespace: 'shop', deployment: name, revision: 2, previousRevision: 1, rolledBackTo: [], replicaSet: `${name}-2`, phase,
    startedAt, endedAt: null, adopted: false, progressDeadlineSeconds: 600,
    progress: { desired: 1, updated: 1, ready: failing ? 0 : 1, available: failing ? 0 : 1, old: 0 },
    diagnosis: failing ? { pods: 1, stuckPods: 1, problems: [{ source: 'container', reason: 'CrashLoopBackOff', container: 'app', count: 1 }] } : { pods: 1, stuckPods: 0, problems: [] },
    git: { sha: SHA, repo: 'https://github.com/my-org/shop' }, supersededBy: null, detail: null,
  };
}
const note = (name: string, phase: RolloutPhase, startedAt?: number): Notification => {
  const v = view(name, phase, startedAt);
  return { rolloutId: v.rolloutId, channel: 'deploys', alert: 'all', view: v };
};

const servers: SlackServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

/** Two Hermods sharing one state store and one local Slack, `a` leading until `handOver()`; both see every notification. */
async function twoLeaders() {
  const slack = await startSlackServer({ channels: [{ name: 'deploys', member: true }], limits: false });
  servers.push(slack);
  const api: SlackApi = createSlackApi(createSlackClient({ token: slack.token, slackApiUrl: slack.url, timeoutMs: 1_000 }));
  const store = new Store();
  let aLeads = true;
  const make = (leading: () => boolean) =>
    createLeaderDelivery({
      slack: api,
      store,
      makeDelivery: (gated, snapshot) => createDelivery({ slack: gated, render: (v) => renderRollout(v, opts()), releaseWindowMs: 30_000, cluster: 'prod', pacing: { releaseEditIntervalMs: 200 }, ...(snapshot ? { snapshot } : {}) }),
      makeWriter: (compose, resourceVersion) => createStateWriter({ store, snapshot: compose, resourceVersion, windowMs: 20 }),
      isLeader: leading,
      observations: () => new Map(),
      whenSynced: async () => {},
      catchUpMs: 0,
    });
  const a = make(() => aLeads);
  const b = make(() => !aLeads);
  await a.lead();
  const both = (n: Notification): void => {
    a.notify(n);
    b.notify(n);
  };
  return { slack, store, a, b, both, handOver: () => { aLeads = false; } };
}

describe('release groups under leader election', () => {
  it('a leader dies mid-group; the next one edits the same parent and posts no member twice', async () => {
    const { slack, store, a, b, both, handOver } = await twoLeaders();
    both(note('web', 'progressing'));
    both(note('api', 'progressing'));
    both(note('api', 'failing'));
    await a.drain(5_000);
    const top = () => slack.messages('deploys');
    assert.equal(top().length, 1);
    const api2 = top()[0]?.replies.find((m) => m.metadata?.event_payload['rolloutId'] === 'uid-api/2');
    assert.ok(api2, "api's failure is in the parent's thread");
    // Done means durable: the store holds the member's message (its record or its binding).
    const stored = store.value?.channels.flatMap((c) => c.rollouts).find((r) => r.rolloutId === 'uid-api/2')?.ts ?? store.value?.journal?.bindings.find((x) => x.rolloutId === 'uid-api/2')?.ts;
    assert.equal(stored, api2?.ts);
    // a dies (no flush); b takes over and the release goes on, with a late joiner.
    a.stop();
    handOver();
    await b.lead();
    both(note('web', 'succeeded'));
    both(note('api', 'succeeded'));
    both(note('late', 'succeeded', START + 10_000));
    await b.drain(10_000);
    assert.equal(top().length, 1, 'one parent');
    assert.match(JSON.stringify(top()[0]?.history.at(-1)), /3 of 3 done/);
    const ids = (top()[0]?.replies ?? []).map((m) => m.metadata?.event_payload['rolloutId']).filter((x) => x !== undefined);
    assert.deepEqual([...ids].sort(), ['uid-api/2', 'uid-web/2#details-1'], "api's own failure post (edited), one details reply for web and late");
    assert.match(JSON.stringify(top()[0]?.replies.find((m) => m.metadata?.event_payload['rolloutId'] === 'uid-web/2#details-1')?.history.at(-1)), /`web`.*`late`/);
    b.stop();
  });

  it('a leader dies after the details reply; the next one does not post it again', async () => {
    const { slack, store, a, b, both, handOver } = await twoLeaders();
    for (const name of ['web', 'api', 'db']) both(note(name, 'progressing'));
    await a.drain(5_000);
    for (const name of ['web', 'api', 'db']) both(note(name, 'succeeded'));
    await a.drain(5_000);
    const top = () => slack.messages('deploys');
    const detailsIds = () => (top()[0]?.replies ?? []).map((m) => m.metadata?.event_payload['rolloutId']);
    assert.deepEqual(detailsIds(), ['uid-web/2#details-1']);
    const posted = top()[0]?.replies[0]?.ts;
    // Done means durable: the store holds the details reply (its record or its binding, or it is finished).
    const value = store.value;
    const durable =
      value?.channels.some((c) => c.finished.includes('uid-web/2#details-1') || c.rollouts.some((r) => r.rolloutId === 'uid-web/2#details-1' && r.ts === posted)) === true ||
      value?.journal?.bindings.some((x) => x.rolloutId === 'uid-web/2#details-1' && x.ts === posted) === true;
    assert.ok(durable, 'the details reply is durable before it counts');
    // a dies (no flush); b takes over, its Deployment actors replay their verdicts.
    a.stop();
    handOver();
    await b.lead();
    for (const name of ['web', 'api', 'db']) both(note(name, 'succeeded'));
    await b.drain(10_000);
    assert.equal(top().length, 1, 'one parent');
    assert.deepEqual(detailsIds(), ['uid-web/2#details-1'], 'no second details reply');
    // The new leader may edit a bound message once more (ADR 0006: it never trusts an old phase): the same words.
    const history = top()[0]?.replies[0]?.history ?? [];
    assert.ok(history.length >= 1 && history.length <= 2, `${history.length} versions`);
    assert.deepEqual(history.at(-1)?.attachments, history[0]?.attachments);
    b.stop();
  });
});
