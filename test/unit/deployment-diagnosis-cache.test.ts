/**
 * Regression: the Deployment statechart cached diagnose() per observation only, although the
 * diagnosis also depends on when the rollout started (warnings seen before the start are left
 * out). Two actors handed the same observation object then shared one diagnosis.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor, SimulatedClock } from 'xstate';
import { diagnose } from '../../src/machines/diagnosis.js';
import { deploymentMachine } from '../../src/machines/deploymentMachine.js';
import type { RolloutChangedEvent } from '../../src/machines/deploymentContext.js';
import type { RolloutObservation } from '../../src/machines/facts.js';
import { observation, type RolloutStep } from '../support/observations.js';

function actor() {
  const a = createActor(deploymentMachine, { input: { key: 'shop/web', failingGraceMs: 60_000 }, clock: new SimulatedClock() });
  const changes: RolloutChangedEvent[] = [];
  a.on('rollout.changed', (e) => changes.push(e));
  a.start();
  return { send: (obs: RolloutObservation) => a.send({ type: 'deployment.observed', observation: obs }), changes };
}

describe('deploymentMachine diagnosis cache', () => {
  it('keys the cached diagnosis on the rollout start too, not on the observation alone', () => {
    const step: RolloutStep = { revision: 2, updated: 1, available: 2, old: 2, at: 5_000 };
    const shared = observation(step);
    // A Warning about the new ReplicaSet, seen at 2 s: after one rollout's start, before the other's.
    shared.warnings = [
      { namespace: 'shop', involvedKind: 'ReplicaSet', involvedName: shared.newReplicaSet!.name, reason: 'FailedCreate', message: 'quota exceeded', count: 1, lastSeen: 2_000 },
    ];

    // Started at 1 s: the warning belongs to this rollout.
    const early = actor();
    early.send(observation({ revision: 1, updated: 2, available: 2, at: 1 }));
    early.send(observation({ ...step, at: 1_000 }));
    early.send(shared);
    const earlyView = early.changes.at(-1)!.notification.view;
    assert.equal(earlyView.startedAt, 1_000);
    assert.deepEqual(earlyView.diagnosis, diagnose(shared, { since: 1_000 }));
    assert.ok(earlyView.diagnosis.problems.some((p) => p.reason === 'FailedCreate'), 'the warning is part of the early rollout');

    // Adopted at 5 s from the same observation object: the warning predates it.
    const late = actor();
    late.send(shared);
    const lateView = late.changes.at(-1)!.notification.view;
    assert.equal(lateView.startedAt, 5_000);
    assert.deepEqual(lateView.diagnosis, diagnose(shared, { since: 5_000 }));
    assert.ok(!lateView.diagnosis.problems.some((p) => p.reason === 'FailedCreate'), 'a warning from before the rollout started is left out');
  });
});
