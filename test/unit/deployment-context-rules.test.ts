/**
 * The reads of src/machines/deploymentContext.ts (measured under mutation in issue 15), one
 * small scenario each: which events carry an observation, when an event happened, and the
 * statechart bugs the reads refuse (no rollout in flight, no success being baked).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bakeOver, baking, degradedNow, inFlight, observationOf, resumesHere, timeOf, type ActiveRollout, type DeploymentContext } from '../../src/machines/deploymentContext.js';
import { workloadObservation } from '../support/observations.js';
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

describe('the bake after a success', () => {
  const SUCCEEDED = STARTED + 60_000;
  const baked = (over: Partial<ActiveRollout> = {}, viewOver: Partial<ActiveRollout['view']> = {}): ActiveRollout => ({
    ...active({ phase: 'succeeded', endedAt: SUCCEEDED, ...viewOver }),
    ...over,
  });
  const at = (t: number): RolloutObservation => ({ ...workloadObservation('StatefulSet', { revision: 7, replicas: 2, updated: 2, available: 2, at: t }) });

  it('a resumed bake ends when the success\'s window does, even when the bake time has changed since the restart', () => {
    // The success kept a window of 60 s; this Hermod bakes for 600 s.
    const c = { ...context(baked({}, { bakeUntil: SUCCEEDED + 60_000 })), bakeMs: 600_000 };
    assert.equal(bakeOver(c, at(SUCCEEDED + 61_000)), true);
  });

  it('degraded only while the pods are still unhealthy, however long ago they turned so', () => {
    const c = { ...context(baked({ stuckSince: SUCCEEDED + 1 })), failingGraceMs: 1_000 };
    assert.equal(degradedNow(c, at(SUCCEEDED + 10_000)), false);
  });
});

describe('a kept bake resumes in this actor', () => {
  const obs = workloadObservation('StatefulSet', { revision: 2, replicas: 2, updated: 2, available: 2, at: 100_000 });
  const bake = { rolloutId: `${obs.deployment.uid}/2`, channel: '#deploys', bakeUntil: 200_000, startedAt: 1, succeededAt: 2, previousRevision: 1, adopted: false };
  const seen = (uid: string, revision: number): DeploymentContext => ({ ...context(null), uid, revision, bakeMs: 600_000 });

  it('when the actor has seen this incarnation and revision at rest', () => assert.equal(resumesHere(seen(obs.deployment.uid, 2), bake, obs), true));
  it('not when the actor has seen another incarnation', () => assert.equal(resumesHere(seen('uid-other', 2), bake, obs), false));
  it('not when the actor has seen another revision', () => assert.equal(resumesHere(seen(obs.deployment.uid, 1), bake, obs), false));
});
