/**
 * The reads of src/machines/deploymentContext.ts (measured under mutation in issue 15), one
 * small scenario each: which events carry an observation, when an event happened, and the
 * statechart bugs the reads refuse (no rollout in flight, no success being baked).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baking, inFlight, observationOf, timeOf, type ActiveRollout, type DeploymentContext } from '../../src/machines/deploymentContext.js';
import type { RolloutObservation } from '../../src/machines/facts.js';
import { STARTED, view } from '../support/rolloutViews.js';

const context = (rollout: ActiveRollout | null): DeploymentContext => ({ key: 'shop/web', uid: null, revision: null, failingGraceMs: 1_000, bakeMs: 0, rollout });
const active = (over: Partial<ActiveRollout['view']> = {}): ActiveRollout => ({ channel: '#deploys', alert: 'all', stuckSince: null, view: view(over) });
const observation = { at: 5 } as unknown as RolloutObservation;

describe('observationOf', () => {
  it('an observed event: its observation', () => assert.equal(observationOf({ type: 'deployment.observed', observation }), observation));
  it('another event carrying something called observation: none', () => assert.equal(observationOf({ type: 'tracking.stopped', observation }), null));
  it('an observed event without one: none', () => assert.equal(observationOf({ type: 'deployment.observed' }), null));
});

describe('timeOf', () => {
  it('an event with its own time: that time', () => assert.equal(timeOf({ type: 'tracking.stopped', at: 42 }, active()), 42));
  it("Hermod's deadline timer (no time): the rollout's start plus its deadline", () =>
    assert.equal(timeOf({ type: 'xstate.after.deadline' } as unknown as Parameters<typeof timeOf>[0], active()), STARTED + 600_000));
});

describe('the reads refuse a statechart bug', () => {
  it('no rollout in flight in an active state', () => assert.throws(() => inFlight(context(null)), /deployment shop\/web: no rollout in flight in an active state/));
  it('the rollout in flight', () => {
    const r = active();
    assert.equal(inFlight(context(r)), r);
  });
  it('no success being baked: no rollout', () => assert.throws(() => baking(context(null)), /deployment shop\/web: no success being baked/));
  it('no success being baked: a rollout that has not ended', () => assert.throws(() => baking(context(active({ endedAt: null }))), /no success being baked/));
  it('the success being baked', () => {
    const r = active({ phase: 'succeeded', endedAt: STARTED + 1 });
    assert.equal(baking(context(r)), r);
  });
});
