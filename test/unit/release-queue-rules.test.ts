/**
 * The queue rules of src/machines/releaseQueue.ts (issue 13, measured under mutation in issue
 * 15), one small scenario each: which calls edit a parent, where a member's calls go, which
 * groups are forgotten, and what is kept of the parent message after Slack answers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RELEASE_GROUPS, newGroup, withRow, type ReleaseGroup, type ReleaseRow } from '../../src/machines/release.js';
import { acceptRelease, callForRelease, dropParent, isParentEdit, nextReleaseCall, noteParent, pruneGroups, wantsReleaseUpdate, type ReleaseChannel } from '../../src/machines/releaseQueue.js';
import type { ChannelNotification, ChannelQueue, SlackCall } from '../../src/machines/channelTypes.js';
import type { RolloutPhase } from '../../src/machines/notification.js';
import { accept, CHANNEL, CHANNEL_ID, config, empty, item, note, shown, TS } from '../support/channelFixtures.js';
import { SHA } from '../support/rolloutViews.js';

const WINDOW = 30_000;

function row(id: string, phase: RolloutPhase = 'progressing'): ReleaseRow {
  return { rolloutId: id, namespace: `ns-${id}`, kind: 'Deployment', workload: id, revision: 2, phase, reason: null, alert: 'all', failedOnce: false, mentions: [] };
}

/** A group anchored at `anchor`, first started at `at`, with these members. */
function group(anchor: string, at: number, ...members: string[]): ReleaseGroup {
  let g = newGroup({ sha: SHA, repo: null, cluster: null, startedAt: at, row: row(anchor) });
  for (const m of members) g = withRow(g, row(m));
  return g;
}

const message = { text: 'x', attachments: [] };
const post = (rolloutId: string): SlackCall => ({ op: 'post', rolloutId, channel: CHANNEL, message, contentKey: 'k', phase: 'progressing', version: 3, notifiedAt: 7, final: false });
const update = (rolloutId: string, version = 4): SlackCall => ({ op: 'update', rolloutId, channelId: CHANNEL_ID, ts: TS, message, contentKey: 'k', phase: 'progressing', version, notifiedAt: 7, final: false });
const reply = (rolloutId: string, replyTs: string | null = null): SlackCall => ({ op: 'reply', rolloutId, channelId: CHANNEL_ID, threadTs: TS, message: { text: 't' }, threadKey: 'tk', replyTs });

describe('isParentEdit: only an update of a group of two or more', () => {
  const s: ChannelQueue = { ...empty(), groups: { a: group('a', 0, 'b'), lone: group('lone', 0) } };
  it('an update of a parent', () => assert.equal(isParentEdit(s, update('a')), true));
  it('not a post of it', () => assert.equal(isParentEdit(s, post('a')), false));
  it('not an update of a group of one (a lone message)', () => assert.equal(isParentEdit(s, update('lone')), false));
  it('not an update of a rollout without a group', () => assert.equal(isParentEdit(empty(), update('x')), false));
});

describe("callForRelease: a member's calls go into the parent's thread", () => {
  const queued = accept([note('b', 'failing')]);
  const pending = { ...queued, queue: queued.queue.map((p) => ({ ...p, parent: 'a' })) };
  const channel = (s: ChannelQueue, over: Partial<ReleaseChannel> = {}): ReleaseChannel => ({ ...s, channel: CHANNEL, channelId: CHANNEL_ID, ...over });
  it('waits while the parent has no message', () => assert.equal(callForRelease(item(pending, 'b'), channel({ ...pending, groups: { a: group('a', 0, 'b') } }), config()), null));
  it("posts into the parent's thread once the parent is shown", () => {
    const s = channel({ ...pending, rollouts: { a: shown('a', { channelId: 'C0OTHER', ts: '2.000200' }) }, groups: { a: group('a', 0, 'b') } });
    const call = callForRelease(item(s, 'b'), s, config());
    assert.deepEqual(call && call.op === 'post' ? [call.channel, call.threadTs] : call, ['C0OTHER', '2.000200']);
  });
  it("a parent shown without a ts yet: waits", () => {
    const s = channel({ ...pending, rollouts: { a: shown('a', { ts: null }) }, groups: { a: group('a', 0, 'b') } });
    assert.equal(callForRelease(item(s, 'b'), s, config()), null);
  });
  it("a parent's record without a channel ID: waits", () => {
    const s = channel({ ...pending, rollouts: { a: shown('a', { channelId: null }) }, groups: { a: group('a', 0, 'b') } });
    assert.equal(callForRelease(item(s, 'b'), s, config()), null);
  });
  it("the parent's record forgotten: its kept ts", () => {
    const g = { ...group('a', 0, 'b'), parent: { channelId: 'C0KEPT', ts: '3.000300', replyTs: null, threadKey: null, sentVersion: 2 } };
    const s = channel({ ...pending, groups: { a: g } });
    const call = callForRelease(item(s, 'b'), s, config());
    assert.deepEqual(call && call.op === 'post' ? [call.channel, call.threadTs] : call, ['C0KEPT', '3.000300']);
  });
  it('a held parent edit waits; a member\'s own post does not', () => {
    const s = channel({ ...accept([note('a', 'failing')], config(), { ...empty(), rollouts: { a: shown('a') } }), groups: { a: group('a', 0, 'b') } }, { releaseHold: true });
    assert.equal(callForRelease(item(s, 'a'), s, config()), null);
    assert.equal(nextReleaseCall(s, config(), { post: true, update: true }), null);
    assert.equal(wantsReleaseUpdate(s, config()), false);
    const free = { ...s, releaseHold: false };
    assert.equal(callForRelease(item(free, 'a'), free, config())?.op, 'update');
    assert.equal(wantsReleaseUpdate(free, config()), true);
    assert.equal(nextReleaseCall(free, config(), { post: true, update: false }), null);
    assert.equal(nextReleaseCall(free, config(), { post: false, update: true })?.op, 'update');
  });
});

describe('pruneGroups: which groups are forgotten', () => {
  const closed = group('a', 0, 'b');
  it('a closed group past its window goes', () => assert.deepEqual(Object.keys(pruneGroups(empty(), { a: closed }, WINDOW + 1, WINDOW)), []));
  it('a closed group at exactly its window stays', () => assert.deepEqual(Object.keys(pruneGroups(empty(), { a: closed }, WINDOW, WINDOW)), ['a']));
  it('a group whose parent Slack still shows stays past its window', () =>
    assert.deepEqual(Object.keys(pruneGroups({ ...empty(), rollouts: { a: shown('a') } }, { a: closed }, WINDOW * 10, WINDOW)), ['a']));
  it('a group whose parent is still pending stays past its window', () =>
    assert.deepEqual(Object.keys(pruneGroups(accept([note('a', 'progressing')]), { a: closed }, WINDOW * 10, WINDOW)), ['a']));
  it("a group with a member's item still waiting for the parent stays", () => {
    const s = accept([note('b', 'failing')]);
    const waiting = { ...s, queue: s.queue.map((p) => ({ ...p, parent: 'a' })) };
    assert.deepEqual(Object.keys(pruneGroups(waiting, { a: closed }, WINDOW * 10, WINDOW)), ['a']);
  });
  it('beyond the cap the oldest closed groups go first, open ones stay', () => {
    const groups: Record<string, ReleaseGroup> = {};
    for (let i = 0; i < MAX_RELEASE_GROUPS + 2; i++) groups[`g${i}`] = group(`g${i}`, 1_000 + i);
    const open = { ...empty(), rollouts: { g0: shown('g0') } };
    const kept = Object.keys(pruneGroups(open, groups, 1_000, WINDOW));
    assert.equal(kept.length, MAX_RELEASE_GROUPS);
    assert.deepEqual(kept.slice(0, 2), ['g0', 'g3']);
  });
});

describe('noteParent: what is kept of the parent message', () => {
  const g = group('a', 0, 'b');
  const before: ChannelQueue = { ...empty(), rollouts: { a: shown('a', { replyTs: '1.5', threadKey: 'tk0', sentVersion: 2 }) } };
  it('a post of the parent keeps its channel and ts', () =>
    assert.deepEqual(noteParent({ a: g }, empty(), post('a'), { channelId: 'C0NEW', ts: '9.000900' })?.['a']?.parent, { channelId: 'C0NEW', ts: '9.000900', replyTs: null, threadKey: null, sentVersion: 3 }));
  it('a post answered without a channel ID keeps the channel of the record', () =>
    assert.deepEqual(noteParent({ a: g }, before, post('a'), { ts: '9.000900' })?.['a']?.parent?.channelId, CHANNEL_ID));
  it('a post answered without a ts keeps what was known', () =>
    assert.deepEqual(noteParent({ a: g }, before, post('a'), { channelId: 'C0NEW' })?.['a']?.parent, { channelId: CHANNEL_ID, ts: TS, replyTs: '1.5', threadKey: 'tk0', sentVersion: 2 }));
  it('an update keeps its version', () => assert.equal(noteParent({ a: g }, before, update('a', 5), {})?.['a']?.parent?.sentVersion, 5));
  it("a reply keeps the reply's ts and the thread's key", () => {
    const p = noteParent({ a: g }, before, reply('a', '4.000400'), { ts: '5.000500' })?.['a']?.parent;
    assert.deepEqual([p?.replyTs, p?.threadKey], ['4.000400', 'tk']);
  });
  it("a first reply keeps the ts Slack gave it", () => assert.equal(noteParent({ a: g }, before, reply('a'), { ts: '5.000500' })?.['a']?.parent?.replyTs, '5.000500'));
  it('a record without a ts: what the group kept', () => {
    const kept = { ...g, parent: { channelId: 'C0KEPT', ts: '3.0', replyTs: null, threadKey: null, sentVersion: 1 } };
    assert.equal(noteParent({ a: kept }, { ...empty(), rollouts: { a: shown('a', { ts: null }) } }, update('a', 6), {})?.['a']?.parent?.channelId, 'C0KEPT');
  });
  it('a call about a rollout without a group changes nothing, the same object', () => {
    const groups = { a: g };
    assert.equal(noteParent(groups, before, update('x'), {}), groups);
  });
});

describe('dropParent', () => {
  const kept = { ...group('a', 0, 'b'), parent: { channelId: 'C0KEPT', ts: '3.0', replyTs: null, threadKey: null, sentVersion: 1 } };
  it('an update of a deleted parent forgets its ts', () => assert.equal(dropParent({ a: kept }, update('a'))?.['a']?.parent, null));
  it('a post does not', () => assert.notEqual(dropParent({ a: kept }, post('a'))?.['a']?.parent, null));
  it('nothing kept: the same groups', () => {
    const groups = { a: group('a', 0, 'b') };
    assert.equal(dropParent(groups, update('a')), groups);
  });
});

describe('where a member\'s calls go, continued', () => {
  const channel = (s: ChannelQueue, over: Partial<ReleaseChannel> = {}): ReleaseChannel => ({ ...s, channel: CHANNEL, channelId: CHANNEL_ID, ...over });
  it('an item tagged with a parent the channel has no group for waits', () => {
    const queued = accept([note('b', 'failing')]);
    const s = channel({ ...queued, queue: queued.queue.map((p) => ({ ...p, parent: 'a' })) });
    assert.equal(callForRelease(item(s, 'b'), s, config()), null);
  });
  it("a member's thread reply goes into the parent's thread, in the parent's channel", () => {
    const failing = note('b', 'failing', { thread: 'details' });
    const queued = accept([failing], config(), { ...empty(), rollouts: { b: shown('b', { sentPhase: 'failing', sentKey: failing.contentKey }), a: shown('a', { channelId: 'C0OTHER', ts: '2.000200' }) } });
    const s = channel({ ...queued, queue: queued.queue.map((p) => ({ ...p, parent: 'a' })), groups: { a: group('a', 0, 'b') } });
    const call = callForRelease(item(s, 'b'), s, config());
    assert.deepEqual(call && call.op === 'reply' ? [call.op, call.channelId, call.threadTs] : call, ['reply', 'C0OTHER', '2.000200']);
    assert.equal(call !== null && 'channel' in call, false);
  });
  it('one item waiting for the update budget is enough to want it', () => {
    const s = channel({ ...accept([note('a', 'failing'), note('c', 'progressing')], config(), { ...empty(), rollouts: { a: shown('a') } }), groups: { a: group('a', 0, 'b') } });
    assert.equal(wantsReleaseUpdate(s, config()), true);
  });
});

describe('noteParent and dropParent: nothing to keep', () => {
  const g = group('a', 0, 'b');
  it('a post answered without a ts or a channel, nothing known: the same groups', () => {
    const groups = { a: g };
    assert.equal(noteParent(groups, empty(), post('a'), { ts: '9.000900' }), groups);
  });
  it('an update or a reply with nothing known: the same groups', () => {
    const groups = { a: g };
    assert.equal(noteParent(groups, empty(), update('a'), {}), groups);
    assert.equal(noteParent(groups, empty(), reply('a'), { ts: '5.0' }), groups);
  });
  it("a record without a channel ID: the group's kept parent, not the record", () => {
    const kept = { ...g, parent: { channelId: 'C0KEPT', ts: '3.0', replyTs: null, threadKey: null, sentVersion: 1 } };
    assert.equal(noteParent({ a: kept }, { ...empty(), rollouts: { a: shown('a', { channelId: null }) } }, update('a', 6), {})?.['a']?.parent?.channelId, 'C0KEPT');
  });
  it('dropParent: a call about a rollout without a group, the same groups', () => {
    const groups = { a: { ...g, parent: { channelId: 'C0KEPT', ts: '3.0', replyTs: null, threadKey: null, sentVersion: 1 } } };
    assert.equal(dropParent(groups, update('x')), groups);
  });
});

describe('acceptRelease: when a group is made or joined', () => {
  const released = (id: string, sha = SHA, phase: RolloutPhase = 'progressing'): ChannelNotification => ({ ...note(id, phase), release: { sha, repo: null, cluster: null, startedAt: 0, row: row(id, phase) } });
  const on = config({ releaseWindowMs: WINDOW });
  it('in post mode a release makes no group', () => assert.equal(acceptRelease(empty(), released('a'), config({ mode: 'post', releaseWindowMs: WINDOW }), null).state.groups, undefined));
  it('with the window at 0 a release makes no group', () => assert.equal(acceptRelease(empty(), released('a'), config({ releaseWindowMs: 0 }), null).state.groups, undefined));
  it('a rollout of another commit starts its own group', () => {
    const first = acceptRelease(empty(), released('a'), on, null).state;
    const second = acceptRelease(first, released('b', 'fedcba9876543210'), on, null).state;
    assert.deepEqual(Object.keys(second.groups ?? {}), ['a', 'b']);
  });
  it('a member whose commit annotation is gone keeps its row and takes the new phase', () => {
    const first = acceptRelease(empty(), released('a'), on, null).state;
    const two = acceptRelease(first, released('b'), on, null).state;
    const after = acceptRelease(two, note('b', 'failing'), on, null).state;
    assert.deepEqual(after.groups?.['a']?.rows.map((r) => [r.rolloutId, r.phase]), [['a', 'progressing'], ['b', 'failing']]);
  });
});
