/**
 * The workspace's chat.update budget (src/machines/updateBudgetMachine.ts) on its own, on a
 * SimulatedClock: one rule per test (issue 15; test/unit/channel-machine.test.ts reaches it
 * only through the channel statechart). The channels are small actors whose parent is the
 * budget, registered by systemId as the delivery layer registers the channel actors; each
 * counts the tokens it was granted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimulatedClock, assign, createActor, setup, type Actor } from 'xstate';
import { DEFAULT_UPDATE_BURST, DEFAULT_UPDATE_INTERVAL_MS, updateBudgetMachine, type UpdateBudgetInput } from '../../src/machines/updateBudgetMachine.js';

const grantCounter = setup({
  types: { context: {} as { granted: number }, events: {} as { type: 'budget.granted' } },
}).createMachine({
  context: { granted: 0 },
  on: { 'budget.granted': { actions: assign({ granted: ({ context }) => context.granted + 1 }) } },
});

function harness(input: UpdateBudgetInput = { intervalMs: 1000, burst: 2 }) {
  const clock = new SimulatedClock();
  const budget = createActor(updateBudgetMachine, { clock, input });
  budget.start();
  const channels = new Map<string, Actor<typeof grantCounter>>();
  const channel = (id: string): Actor<typeof grantCounter> => {
    let a = channels.get(id);
    if (a === undefined) {
      a = createActor(grantCounter, { parent: budget, systemId: id });
      a.start();
      channels.set(id, a);
    }
    return a;
  };
  const request = (id: string): void => {
    channel(id);
    budget.send({ type: 'budget.request', systemId: id });
  };
  const granted = (id: string): number => channel(id).getSnapshot().context.granted;
  const state = (): string => String(budget.getSnapshot().value);
  const tokens = (): number => budget.getSnapshot().context.tokens;
  return { clock, budget, channel, request, granted, state, tokens };
}

describe('updateBudget: tokens', () => {
  it('starts full and idle: a burst of requests is granted at once, one token each', () => {
    const h = harness();
    h.request('a');
    h.request('b');
    assert.deepEqual([h.granted('a'), h.granted('b'), h.tokens(), h.state()], [1, 1, 0, 'idle']);
  });

  it('with no token left a request waits, and the refill clock starts', () => {
    const h = harness();
    h.request('a');
    h.request('a');
    h.request('b');
    assert.deepEqual([h.granted('b'), h.state(), h.budget.getSnapshot().context.waiters], [0, 'refilling', ['b']]);
  });

  it('a waiting channel gets the next token directly, at the interval and not before', () => {
    const h = harness();
    h.request('a');
    h.request('a');
    h.request('b');
    h.clock.increment(999);
    assert.equal(h.granted('b'), 0);
    h.clock.increment(1);
    assert.deepEqual([h.granted('b'), h.tokens()], [1, 0]);
  });

  it('waiting channels are served first come, first served, one per interval', () => {
    const h = harness({ intervalMs: 1000, burst: 1 });
    h.request('a');
    h.request('b');
    h.request('c');
    h.clock.increment(1000);
    assert.deepEqual([h.granted('b'), h.granted('c')], [1, 0]);
    h.clock.increment(1000);
    assert.deepEqual([h.granted('b'), h.granted('c')], [1, 1]);
  });

  it('a channel that asks again while waiting waits once', () => {
    const h = harness({ intervalMs: 1000, burst: 1 });
    h.request('a');
    h.request('b');
    h.request('b');
    assert.deepEqual(h.budget.getSnapshot().context.waiters, ['b']);
  });

  it('a stopped waiting channel is skipped: its token goes to the next one', () => {
    const h = harness({ intervalMs: 1000, burst: 1 });
    h.request('a');
    h.request('b');
    h.request('c');
    h.budget.send({ type: 'channels.stop', systemIds: ['b'] });
    h.clock.increment(1000);
    assert.deepEqual([h.granted('c'), h.budget.getSnapshot().context.waiters], [1, []]);
  });

  it('a request from a channel that is gone takes no token', () => {
    const h = harness();
    h.budget.send({ type: 'budget.request', systemId: 'nobody' });
    assert.equal(h.tokens(), 2);
  });

  it('with nobody waiting the bucket refills one token per interval, up to the burst, then idles', () => {
    const h = harness();
    h.request('a');
    h.request('b');
    h.budget.send({ type: 'budget.spent' });
    h.clock.increment(1000);
    assert.deepEqual([h.tokens(), h.state()], [1, 'refilling']);
    h.clock.increment(1000);
    assert.deepEqual([h.tokens(), h.state()], [2, 'idle']);
    h.clock.increment(5000);
    assert.equal(h.tokens(), 2, 'never more than the burst');
  });

  it('while refilling, a request with a token left is granted at once', () => {
    const h = harness();
    h.request('a');
    h.request('a');
    h.budget.send({ type: 'budget.spent' });
    h.clock.increment(1000);
    h.request('b');
    assert.deepEqual([h.granted('b'), h.tokens(), h.state()], [1, 0, 'refilling']);
  });

  it('the refill clock stays stopped while idle: a full bucket does not tick', () => {
    const h = harness();
    h.request('a');
    h.clock.increment(10_000);
    assert.deepEqual([h.tokens(), h.state()], [1, 'idle']);
  });
});

describe('updateBudget: a 429 on chat.update', () => {
  it('empties the bucket and holds every request for Retry-After', () => {
    const h = harness();
    h.budget.send({ type: 'budget.penalty', retryAfterMs: 3000 });
    h.request('a');
    assert.deepEqual([h.state(), h.tokens(), h.granted('a')], ['penalised', 0, 0]);
    h.clock.increment(2999);
    assert.equal(h.state(), 'penalised');
    h.clock.increment(1);
    assert.equal(h.state(), 'refilling');
    h.clock.increment(1000);
    assert.equal(h.granted('a'), 1, 'the waiting channel is served first after the penalty');
  });

  it('waits at least one second, whatever Retry-After says', () => {
    const h = harness();
    h.budget.send({ type: 'budget.penalty', retryAfterMs: 10 });
    h.clock.increment(999);
    assert.equal(h.state(), 'penalised');
    h.clock.increment(1);
    assert.equal(h.state(), 'refilling');
  });

  it('a second 429 restarts the wait', () => {
    const h = harness();
    h.budget.send({ type: 'budget.penalty', retryAfterMs: 2000 });
    h.clock.increment(1500);
    h.budget.send({ type: 'budget.penalty', retryAfterMs: 2000 });
    h.clock.increment(1500);
    assert.equal(h.state(), 'penalised');
  });
});

describe('updateBudget: input and channels', () => {
  it('defaults: 48 updates a minute (one per 1,250 ms), a burst of 5', () => {
    const h = harness({});
    assert.deepEqual([DEFAULT_UPDATE_INTERVAL_MS, DEFAULT_UPDATE_BURST], [1250, 5]);
    assert.deepEqual([h.budget.getSnapshot().context.intervalMs, h.tokens()], [1250, 5]);
  });

  it('a burst below one is one token', () => {
    assert.equal(harness({ burst: 0 }).tokens(), 1);
  });

  it('channels.stop stops the listed channels, and only those', () => {
    const h = harness();
    h.channel('a');
    h.channel('b');
    h.budget.send({ type: 'channels.stop', systemIds: ['a', 'gone'] });
    assert.deepEqual([h.channel('a').getSnapshot().status, h.channel('b').getSnapshot().status], ['stopped', 'active']);
  });
});
