/**
 * More queue rules of src/machines/releaseQueue.ts (issue 15: the survivors of its mutation
 * run), one small scenario each, driven through acceptRelease and the exported helpers: which
 * rollouts are already known, when a parent is re-opened and how, what is tagged, what the
 * parent's and a details reply's items say, which members' successes wait for the details.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentHash } from '../../src/machines/channelPolicy.js';
import type { ChannelNotification, ChannelQueue } from '../../src/machines/channelTypes.js';
import type { RolloutPhase } from '../../src/machines/notification.js';
import { newGroup, withRow, type ReleaseGroup, type ReleaseParent, type ReleaseRow } from '../../src/machines/release.js';
import { acceptRelease, callForRelease, parentNotification, pruneGroups } from '../../src/machines/releaseQueue.js';
import { accept, CHANNEL, CHANNEL_ID, config, empty, item, note, shown, TS } from '../support/channelFixtures.js';
import { SHA } from '../support/rolloutViews.js';

const WINDOW = 30_000;
const on = config({ releaseWindowMs: WINDOW });
const KEPT: ReleaseParent = { channelId: 'C0KEPT', ts: '3.000300', replyTs: null, threadKey: null, sentVersion: 2 };

function row(id: string, phase: RolloutPhase = 'progressing'): ReleaseRow {
  return { rolloutId: id, namespace: `ns-${id}`, kind: 'Deployment', workload: id, revision: 2, phase, reason: null, alert: 'all', failedOnce: false, mentions: [] };
}

/** A notification of rollout `id` that is part of the release of SHA. */
function released(id: string, phase: RolloutPhase = 'progressing', opts: { thread?: string } = {}): ChannelNotification {
  return { ...note(id, phase, opts), release: { sha: SHA, repo: null, cluster: null, startedAt: 0, row: row(id, phase) } };
}

/** A group anchored at `anchor` (its row in `phase`), with these members. */
function group(anchor: string, phase: RolloutPhase, ...members: Array<[string, RolloutPhase]>): ReleaseGroup {
  let g = newGroup({ sha: SHA, repo: null, cluster: null, startedAt: 0, row: row(anchor, phase) });
  for (const [m, p] of members) g = withRow(g, row(m, p));
  return g;
}

/** Accepts release notifications in order. */
function run(notes: ChannelNotification[], start: ChannelQueue = empty()): ChannelQueue {
  let s = start;
  for (const n of notes) s = acceptRelease(s, n, on, null).state;
  return s;
}

const ids = (s: ChannelQueue) => s.queue.map((p) => p.rolloutId);

describe('isKnown: a rollout Hermod already holds does not start a group', () => {
  it('one Slack shows (its record only)', () =>
    assert.equal(acceptRelease({ ...empty(), rollouts: { a: shown('a') } }, released('a'), on, null).state.groups, undefined));
  it('one already finished', () => assert.equal(acceptRelease({ ...empty(), finished: ['a'] }, released('a'), on, null).state.groups, undefined));
  it('one still pending', () => assert.equal(acceptRelease(accept([note('a', 'progressing')]), released('a'), on, null).state.groups, undefined));
  it('a rollout Hermod holds nothing of does', () => assert.deepEqual(Object.keys(acceptRelease(empty(), released('a'), on, null).state.groups ?? {}), ['a']));
});

describe('isClosed and canReopen', () => {
  it("another rollout's pending item does not keep a group open", () =>
    assert.deepEqual(Object.keys(pruneGroups(accept([note('z', 'progressing')]), { a: group('a', 'succeeded', ['b', 'succeeded']) }, WINDOW + 1, WINDOW)), []));
  it('a finished parent with no kept ts cannot be re-opened: a joiner starts its own group', () => {
    const s = acceptRelease({ ...empty(), finished: ['a'], groups: { a: group('a', 'succeeded', ['b', 'succeeded']) } }, released('c'), on, null).state;
    assert.deepEqual(Object.keys(s.groups ?? {}), ['a', 'c']);
  });
  it('a parent Slack still shows can be joined even when listed finished', () => {
    const s = acceptRelease({ ...empty(), finished: ['a'], rollouts: { a: shown('a') }, groups: { a: group('a', 'succeeded', ['b', 'succeeded']) } }, released('c'), on, null).state;
    assert.deepEqual(s.groups?.['a']?.rows.map((r) => r.rolloutId), ['a', 'b', 'c']);
  });
});

describe('reopen: a late joiner re-creates the closed parent from its kept ts', () => {
  const closed = (): ChannelQueue => ({ ...empty(), finished: ['z', 'a', 'a#details'], groups: { a: { ...group('a', 'succeeded', ['b', 'succeeded']), parent: KEPT } } });
  it("the parent's record: the kept channel and ts, the anchor's namespace", () => {
    const r = acceptRelease(closed(), released('c', 'failing'), on, null).state.rollouts['a'];
    assert.deepEqual([r?.channelId, r?.ts, r?.namespace], ['C0KEPT', '3.000300', 'ns-a']);
  });
  it('only the anchor and its details leave the finished list', () => assert.deepEqual(acceptRelease(closed(), released('c', 'failing'), on, null).state.finished, ['z']));
  it('a parent Slack still shows keeps its record', () => {
    const s = { ...closed(), rollouts: { a: shown('a') } };
    assert.equal(acceptRelease(s, released('c', 'failing'), on, null).state.rollouts['a']?.ts, TS);
  });
  it('a degradation of a member with nothing kept of the parent re-opens nothing', () => {
    const s: ChannelQueue = { ...empty(), finished: ['a'], groups: { a: group('a', 'succeeded', ['b', 'succeeded']) } };
    assert.equal(acceptRelease(s, released('b', 'degraded'), on, null).state.rollouts['a'], undefined);
  });
});

describe("tagParent: only the member's own item goes into the parent's thread", () => {
  it("another rollout's pending item is not tagged", () => {
    const s = run([released('a'), released('b', 'failing')], accept([note('z', 'progressing')]));
    assert.deepEqual(s.queue.map((p) => [p.rolloutId, p.parent]), [['z', undefined], ['a', undefined], ['b', 'a']]);
  });
});

describe("parentNotification: the parent's item, field by field", () => {
  it("the anchor's namespace and workload, every alert, the release's phase, no thread key without a thread", () => {
    const n = parentNotification(group('a', 'succeeded', ['b', 'failing']), 9);
    assert.deepEqual([n.rolloutId, n.namespace, n.workload, n.alert, n.phase, n.thread, n.threadKey, n.notifiedAt], ['a', 'ns-a', 'a', 'all', 'failing', null, null, 9]);
  });
  it("the anchor's thread and its key", () => {
    const thread = { text: 'why a fails' };
    const n = parentNotification({ ...group('a', 'failing', ['b', 'succeeded']), anchorThread: thread }, 9);
    assert.deepEqual([n.thread, n.threadKey], [thread, contentHash(thread)]);
  });
});

describe("anchorDetails: the anchor's own message moves into the thread when the group grows", () => {
  it('a failing anchor: its own message, tagged with the parent', () => {
    const s = run([released('a', 'failing'), released('b')]);
    const own = item(s, 'a#details');
    assert.deepEqual([own.parent, own.message, own.phase, own.namespace], ['a', note('a', 'failing').message, 'failing', 'ns-a']);
  });
  it('no message of the anchor yet: no details', () => {
    const s = acceptRelease({ ...empty(), groups: { a: group('a', 'failing') } }, released('b'), on, null).state;
    assert.deepEqual(ids(s), ['a']);
  });
});

describe("acceptMember: the member's own message and what the result says", () => {
  it("a member's deferred success is skipped; its failure is queued, nothing dropped", () => {
    const first = acceptRelease(empty(), released('a'), on, null).state;
    assert.equal(acceptRelease(first, released('b'), on, null).kind, 'skipped');
    const failing = acceptRelease(first, released('b', 'failing'), on, null);
    assert.deepEqual([failing.kind, failing.kind === 'queued' ? failing.dropped : null], ['queued', []]);
  });
  it('what the parent step drops is reported too', () => {
    const cfg = config({ releaseWindowMs: WINDOW, queueCap: 2 });
    const first = acceptRelease(empty(), released('a'), cfg, null).state;
    const withZ = accept([note('z', 'progressing')], cfg, first);
    const r = acceptRelease(withZ, released('b', 'failing'), cfg, null);
    assert.deepEqual([r.kind, r.kind === 'queued' ? r.dropped.map((p) => p.rolloutId) : null], ['queued', ['a', 'z']]);
  });
  it("the anchor's own failure goes to the thread as its details, the parent item stays the release's", () => {
    const s = run([released('a'), released('b'), released('a', 'failing')]);
    assert.deepEqual(s.queue.map((p) => [p.rolloutId, p.parent, p.message.text]), [['a', undefined, s.queue[0]?.message.text], ['a#details', 'a', 'a failing']]);
    assert.notEqual(s.queue[0]?.message.text, 'a failing');
  });
  it("the anchor's new message is kept in its group, a member's is not", () => {
    const s = run([released('a'), released('b'), released('a', 'failing'), released('b', 'failing')]);
    assert.deepEqual(s.groups?.['a']?.anchorMessage, note('a', 'failing').message);
  });
  it("a details reply keeps the channel's other groups", () => {
    const other = { ...group('x', 'progressing'), key: 'fedcba9876543210fedcba9876543210fedcba98', sha: 'fedcba9876543210fedcba9876543210fedcba98' };
    const s = run([released('a'), released('b'), released('a', 'succeeded'), released('b', 'succeeded')], { ...empty(), groups: { x: other } });
    assert.ok(s.queue.some((p) => p.rolloutId === 'a#details-1'), 'a details reply');
    assert.deepEqual(Object.keys(s.groups ?? {}).sort(), ['a', 'x']);
  });
});

describe("isDeferred: which members' successes wait for the details reply", () => {
  it("a member whose own message Slack shows: its success edits it", () => {
    const joined = run([released('a'), released('b')]);
    const s = run([released('b', 'succeeded')], { ...joined, rollouts: { b: shown('b') } });
    assert.equal(item(s, 'b').phase, 'succeeded');
  });
  it("a member whose own failure is still pending: its success replaces it", () => {
    const s = run([released('a'), released('b', 'failing'), released('b', 'succeeded')]);
    assert.equal(item(s, 'b').phase, 'succeeded');
  });
});

describe('detailsReplies: which rows a reply lists and how replies are numbered', () => {
  it('a member with its own message in the thread is not listed again; the others are', () => {
    const joined = run([released('a'), released('b')]);
    const s = run([released('a', 'succeeded'), released('b', 'succeeded')], { ...joined, rollouts: { b: shown('b', { sentPhase: 'succeeded', sentKey: note('b', 'succeeded').contentKey }) } });
    assert.deepEqual(s.groups?.['a']?.listedIn, { a: 1 });
  });
  it("an anchor with its own details in the thread is not listed again", () => {
    const s = run([released('a'), released('b'), released('a', 'succeeded'), released('b', 'succeeded')], { ...empty(), rollouts: { 'a#details': shown('a#details') } });
    assert.deepEqual(s.groups?.['a']?.listedIn, { b: 1 });
  });
  it("the reply's item: the first row's namespace, succeeded, tagged", () => {
    const s = run([released('a'), released('b'), released('a', 'succeeded'), released('b', 'succeeded')]);
    const r = item(s, 'a#details-1');
    assert.deepEqual([r.namespace, r.phase, r.parent], ['ns-a', 'succeeded', 'a']);
  });
  it('a release where every member failed has no details reply', () => {
    const s = run([released('a'), released('b'), released('a', 'failed'), released('b', 'failed')]);
    assert.deepEqual(ids(s).filter((id) => id.startsWith('a#details-')), []);
  });
  it('a late joiner after replies were posted gets the next number; earlier rows stay where they are', () => {
    const g = { ...group('a', 'succeeded', ['b', 'succeeded'], ['c', 'succeeded']), anchorMessage: note('a', 'succeeded').message, parent: KEPT, listedIn: { a: 1, b: 2, c: 1 } };
    const posted: ChannelQueue = { ...empty(), rollouts: { a: shown('a'), 'a#details-1': shown('a#details-1'), 'a#details-2': shown('a#details-2') }, groups: { a: g } };
    const s = acceptRelease(posted, released('d', 'succeeded'), on, null).state;
    assert.deepEqual(s.groups?.['a']?.listedIn, { a: 1, b: 2, c: 1, d: 3 });
    assert.ok(s.queue.some((p) => p.rolloutId === 'a#details-3'));
  });
  it('a posted reply with an edit still pending is not re-rendered with the newcomer', () => {
    const g = { ...group('a', 'succeeded', ['b', 'succeeded']), anchorMessage: note('a', 'succeeded').message, parent: KEPT, listedIn: { a: 1, b: 1 } };
    const posted = accept([note('a#details-1', 'succeeded', { text: 'edited' })], config(), { ...empty(), rollouts: { a: shown('a'), 'a#details-1': shown('a#details-1') }, groups: { a: g } });
    const s = acceptRelease(posted, released('c', 'succeeded'), on, null).state;
    assert.deepEqual(s.groups?.['a']?.listedIn, { a: 1, b: 1, c: 2 });
  });
});

describe('detailsReplies: what is already listed', () => {
  it('a reply Hermod holds nothing of anymore counts as sent: its rows are not listed again', () => {
    const g = { ...group('a', 'succeeded', ['b', 'succeeded']), anchorMessage: note('a', 'succeeded').message, listedIn: { a: 1, b: 1 } };
    const s = acceptRelease({ ...empty(), rollouts: { a: shown('a') }, groups: { a: g } }, released('c', 'succeeded'), on, null).state;
    assert.deepEqual(s.groups?.['a']?.listedIn, { a: 1, b: 1, c: 2 });
  });
  it('a duplicate verdict with nothing new to list leaves the pending reply as it is', () => {
    const s = run([released('a'), released('b'), released('a', 'succeeded'), released('b', 'succeeded')]);
    const before = item(s, 'a#details-1');
    const after = acceptRelease(s, { ...released('b', 'succeeded'), notifiedAt: 99 }, on, null).state;
    assert.deepEqual(item(after, 'a#details-1'), before);
  });
  it('a reply too long for one message: each row is listed in the reply that shows it, in order', () => {
    const long = (id: string): ReleaseRow => ({ ...row(`${id}${'w'.repeat(240)}`, 'succeeded'), namespace: 'n'.repeat(63), changes: 'c'.repeat(1400), tookMs: 1000 });
    let g: ReleaseGroup = { ...newGroup({ sha: SHA, repo: null, cluster: null, startedAt: 0, row: long('a') }), anchorMessage: note('a', 'succeeded').message };
    for (let i = 0; i < 11; i++) g = withRow(g, long(`m${i}`));
    const joiner = long('z');
    const n: ChannelNotification = { ...note(joiner.rolloutId, 'succeeded'), release: { sha: SHA, repo: null, cluster: null, startedAt: 0, row: joiner } };
    const s = acceptRelease({ ...empty(), rollouts: { [g.anchor]: shown(g.anchor) }, groups: { [g.anchor]: g } }, n, on, null).state;
    const listed = s.groups?.[g.anchor]?.listedIn ?? {};
    const order = [...g.rows.map((r) => r.rolloutId), joiner.rolloutId].map((id) => listed[id]);
    const replies = ids(s).filter((id) => id.startsWith(`${g.anchor}#details-`)).length;
    assert.ok(replies > 1, `${replies} replies`);
    assert.deepEqual(order, [...order].sort(), 'in order');
    assert.deepEqual([order[0], order.at(-1)], [1, replies]);
  });
});

describe('callForRelease: nothing to send', () => {
  it('a member item Slack already shows as it is: no call, even with a parent', () => {
    const queued = accept([note('b', 'failing')]);
    const p = { ...item(queued, 'b'), parent: 'a' };
    const s = { ...queued, queue: [p], rollouts: { b: shown('b', { sentPhase: 'failing', sentKey: p.contentKey, sentVersion: p.version }), a: shown('a') }, groups: { a: group('a', 'progressing', ['b', 'failing']) }, channel: CHANNEL, channelId: CHANNEL_ID };
    assert.equal(callForRelease(p, s, config()), null);
  });
});
