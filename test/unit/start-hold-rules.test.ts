/**
 * Held starts (src/machines/startHold.ts, ADR 0003 "Held starts"): in a busy channel a start
 * message waits, so a quick rollout costs one post instead of a post and an edit of the
 * workspace's chat.update budget. The channel statechart on a SimulatedClock with a scripted
 * Slack (test/support/channelHarness.ts), and the pure rules.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptNotification } from '../../src/machines/channelPolicy.js';
import { DEFAULT_CHANNEL_CONFIG, type ChannelNotification, type ChannelQueue } from '../../src/machines/channelTypes.js';
import type { RolloutPhase } from '../../src/machines/notification.js';
import type { ReleaseGroup } from '../../src/machines/release.js';
import { isHoldableStart, releaseHeldStarts, startsWait } from '../../src/machines/startHold.js';
import { empty, shown } from '../support/channelFixtures.js';
import { harness, note, ofRelease } from '../support/channelHarness.js';
import { SHA } from '../support/rolloutViews.js';

const HOLD_MS = DEFAULT_CHANNEL_CONFIG.startHoldMaxMs;

/** What Slack was asked for one rollout, in order: `post progressing`, `update succeeded`, ... */
function callsOf(h: ReturnType<typeof harness>, rolloutId: string): string[] {
  return h.slack.calls.filter((c) => c.rolloutId === rolloutId && c.op !== 'reply').map((c) => `${c.op} ${c.op === 'reply' ? '' : c.phase}`);
}

/** A channel that shows three rollouts in progress (r1, r2, r3: the post burst of 3 at 0 ms). */
async function threeInProgress(config = {}): Promise<ReturnType<typeof harness>> {
  const h = harness(config);
  for (const id of ['r1', 'r2', 'r3']) await h.send('c', note(id, 'progressing'));
  assert.deepEqual(h.slack.calls.map((c) => [c.op, c.rolloutId]), [['post', 'r1'], ['post', 'r2'], ['post', 'r3']]);
  await h.advance(1000);
  return h;
}

describe('held starts: the channel statechart', () => {
  it('a quiet channel posts a start at once', async () => {
    const h = harness();
    await h.send('c', note('r1', 'progressing'));
    assert.deepEqual(callsOf(h, 'r1'), ['post progressing']);
  });

  it('a fourth start waits while three are shown in progress; its verdict, come first, is posted once', async () => {
    const h = await threeInProgress();
    await h.send('c', note('r4', 'progressing', { at: 1000 }));
    await h.advance(5000);
    assert.deepEqual(callsOf(h, 'r4'), [], 'held: a token was there each second');
    await h.send('c', note('r4', 'succeeded', { at: 6000 }));
    await h.advance(100);
    assert.deepEqual(callsOf(h, 'r4'), ['post succeeded']);
    assert.deepEqual(h.slack.byRollout('r4').map((m) => m.texts), [['r4 succeeded']]);
  });

  it('a held start goes once it has waited startHoldMaxMs', async () => {
    const h = await threeInProgress();
    const heldAt = h.clock.now();
    await h.send('c', note('r4', 'progressing', { at: heldAt }));
    await h.advance(HOLD_MS - 100);
    assert.deepEqual(callsOf(h, 'r4'), []);
    await h.advance(200);
    assert.deepEqual(callsOf(h, 'r4'), ['post progressing']);
    const postedAt = h.slack.calls.find((c) => c.rolloutId === 'r4')?.at ?? -1;
    assert.ok(postedAt - heldAt <= HOLD_MS, `posted ${postedAt - heldAt} ms after it was held`);
  });

  it('the hold clock starts again for a start held after a release', async () => {
    const h = await threeInProgress();
    await h.send('c', note('r4', 'progressing', { at: h.clock.now() }));
    await h.advance(HOLD_MS + 100);
    assert.deepEqual(callsOf(h, 'r4'), ['post progressing']);
    const heldAt = h.clock.now();
    await h.send('c', note('r5', 'progressing', { at: heldAt }));
    await h.advance(HOLD_MS - 100);
    assert.deepEqual(callsOf(h, 'r5'), [], 'held anew: four are shown in progress');
    await h.advance(200);
    assert.deepEqual(callsOf(h, 'r5'), ['post progressing']);
  });

  it('when a shown rollout ends, its edit goes first, then the held start', async () => {
    const h = await threeInProgress();
    await h.send('c', note('r4', 'progressing', { at: 1000 }));
    await h.advance(1000);
    await h.send('c', note('r1', 'succeeded', { at: 2000 }));
    await h.advance(1000);
    assert.deepEqual(h.slack.calls.slice(3).map((c) => `${c.op} ${c.rolloutId}`), ['update r1', 'post r4']);
  });

  it('edits first: a start waits while the channel has an edit waiting for the workspace budget', async () => {
    // One update token per 5 s: r1's progress edit takes it, so r1's verdict waits for the next.
    const h = harness({}, { intervalMs: 5000, burst: 1 });
    await h.send('c', note('r1', 'progressing'));
    await h.send('c', note('r1', 'progressing', { text: 'r1 one of two ready' }));
    await h.advance(100);
    await h.send('c', note('r1', 'succeeded', { at: 100 }));
    await h.send('c', note('r2', 'progressing', { at: 100 }));
    await h.advance(2900);
    assert.deepEqual(callsOf(h, 'r2'), [], 'r2 is held while r1 waits for the budget');
    await h.send('c', note('r2', 'succeeded', { at: 3000 }));
    await h.advance(3000);
    assert.deepEqual(callsOf(h, 'r2'), ['post succeeded']);
    assert.deepEqual(callsOf(h, 'r1'), ['post progressing', 'update progressing', 'update succeeded']);
  });

  it('a success the bake still watches (not final yet) is a verdict: never held', async () => {
    const h = await threeInProgress();
    await h.send('c', { ...note('r4', 'succeeded', { at: 1000 }), bakeUntil: 301_000 });
    await h.advance(100);
    assert.deepEqual(callsOf(h, 'r4'), ['post succeeded']);
  });

  for (const phase of ['failing', 'failed', 'degraded', 'succeeded', 'superseded'] satisfies RolloutPhase[]) {
    it(`a ${phase} rollout is never held, however busy the channel`, async () => {
      const h = await threeInProgress();
      await h.send('c', note('r4', phase, { at: 1000 }));
      await h.advance(100);
      assert.deepEqual(callsOf(h, 'r4'), [`post ${phase}`]);
    });
  }

  it('post mode holds nothing: every milestone is its own message', async () => {
    const h = await threeInProgress({ mode: 'post' });
    await h.send('c', note('r4', 'progressing', { at: 1000 }));
    await h.advance(100);
    assert.deepEqual(callsOf(h, 'r4'), ['post progressing']);
  });

  it("a release's parent is not held: its members wait for it", async () => {
    const h = await threeInProgress({ releaseWindowMs: 30_000 });
    await h.send('c', ofRelease('a', 'progressing', 1000));
    await h.send('c', ofRelease('b', 'progressing', 1000));
    await h.advance(1000);
    assert.deepEqual(callsOf(h, 'a'), ['post progressing'], 'the parent of a and b');
  });
});

describe('held starts: the rules', () => {
  const config = DEFAULT_CHANNEL_CONFIG;
  const queued = (s: ChannelQueue, n: ChannelNotification): ChannelQueue => acceptNotification(s, n, config, null).state;
  const busy = (): ChannelQueue => ({ ...empty(), rollouts: { r1: shown('r1'), r2: shown('r2'), r3: shown('r3') } });

  it('three shown progressing make starts wait; two do not, nor two and a success kept for its bake, a paused or a failing one', () => {
    const s = queued(busy(), note('r4', 'progressing'));
    assert.equal(startsWait(s, config, () => false), true);
    const two = queued({ ...empty(), rollouts: { r1: shown('r1'), r2: shown('r2') } }, note('r4', 'progressing'));
    assert.equal(startsWait(two, config, () => false), false);
    assert.equal(startsWait(two, config, () => true), true, 'an edit to make');
    for (const phase of ['succeeded', 'paused', 'failing'] satisfies RolloutPhase[]) {
      const lingering = queued({ ...empty(), rollouts: { r1: shown('r1'), r2: shown('r2'), r3: shown('r3', { sentPhase: phase }) } }, note('r4', 'progressing'));
      assert.equal(startsWait(lingering, config, () => false), false, `two progressing and one ${phase}`);
    }
    const notPosted = queued({ ...empty(), rollouts: { r1: shown('r1', { ts: null }), r2: shown('r2'), r3: shown('r3') } }, note('r4', 'progressing'));
    assert.equal(startsWait(notPosted, config, () => false), false, 'a record without a message is not shown');
  });

  it('nothing waits without a start to hold, and the edit question is not asked then', () => {
    const s = queued(busy(), note('r4', 'succeeded'));
    assert.equal(startsWait(s, config, () => assert.fail('asked')), false);
  });

  it('a paused start is a start; a lone start beside a release is holdable too', () => {
    const paused = queued(busy(), note('r4', 'paused'));
    assert.equal(isHoldableStart(paused.queue[0]!, paused, config), true);
    const s = queued(busy(), note('r4', 'progressing'));
    const group: ReleaseGroup = { anchor: 'a', key: SHA, sha: SHA, repo: null, cluster: null, firstStartedAt: 0, rows: [], anchorMessage: null, anchorThread: null, parent: null };
    const beside = { ...s, groups: { a: group } };
    assert.equal(isHoldableStart(beside.queue[0]!, beside, config), true);
  });

  it('only a start not yet shown is holdable', () => {
    const s = queued(queued(busy(), note('r4', 'progressing')), note('r1', 'progressing', { text: 'changed' }));
    const [r4, r1] = [s.queue.find((p) => p.rolloutId === 'r4')!, s.queue.find((p) => p.rolloutId === 'r1')!];
    assert.equal(isHoldableStart(r4, s, config), true);
    assert.equal(isHoldableStart(r1, s, config), false, 'r1 is shown: its change is an edit');
    assert.equal(isHoldableStart({ ...r4, parent: 'r0' }, s, config), false, 'a release member');
  });

  it('a released start keeps its mark when a newer start of it replaces it', () => {
    const s = queued(busy(), note('r4', 'progressing'));
    const released = { ...s, queue: releaseHeldStarts(s, config) };
    assert.deepEqual(released.queue.map((p) => [p.rolloutId, p.holdReleased]), [['r4', true]]);
    const next = queued(released, note('r4', 'progressing', { text: 'r4 one of two ready' }));
    assert.equal(next.queue[0]?.holdReleased, true);
    assert.equal(startsWait(next, config, () => true), false);
    const fresh = queued(s, note('r4', 'progressing', { text: 'r4 one of two ready' }));
    assert.equal(fresh.queue[0]?.holdReleased, undefined);
  });
});
