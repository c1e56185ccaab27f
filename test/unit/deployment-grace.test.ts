/**
 * The grace period of the early-failure rule (issue 15), one rule per test: a rollout whose
 * every new Pod is stuck stays orange (`stalled`) until the stall has lasted
 * `failingGraceMs`, then turns red (`failing`). Two paths lead there and must agree: the
 * timer armed when the stall is first seen (the actor's clock), and an observation whose
 * `at` is past the grace (the watch layer's clock, for when the timer has not fired yet).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor, SimulatedClock } from 'xstate';
import { deploymentMachine } from '../../src/machines/deploymentMachine.js';
import { GRACE, startDeployment } from '../support/deploymentActor.js';
import { observation, type RolloutStep } from '../support/observations.js';


/** Revision 1 complete at t=0, then revision 2 starts; observation times follow the simulated clock. */
function rollout() {
  const { actor, clock, changes, state, phases } = startDeployment();
  const send = (step: Omit<RolloutStep, 'revision' | 'at'> & { revision?: number }) =>
    actor.send({ type: 'deployment.observed', observation: observation({ revision: 2, ...step, at: clock.now() }) });
  /** The clock moves to `t` (ms since the start); timers due by then fire. */
  const at = (t: number) => clock.increment(t - clock.now());
  actor.send({ type: 'deployment.observed', observation: observation({ revision: 1, updated: 2, available: 2, at: 0 }) });
  return {
    actor,
    clock,
    changes,
    state,
    at,
    phases,
    /** Every new Pod (one) crash-loops. */
    stuck: () => send({ updated: 1, available: 2, old: 2, crashing: 1 }),
    /** The new Pod runs, not ready yet: nothing is stuck. */
    healthy: () => send({ updated: 1, available: 2, old: 2 }),
    paused: () => send({ updated: 1, available: 2, old: 2, crashing: 1, paused: true }),
    complete: () => send({ updated: 2, available: 2 }),
    deadline: () => send({ updated: 1, available: 2, old: 2, crashing: 1, deadlineExceeded: true }),
    newRevision: () => send({ revision: 3, updated: 0, available: 2, old: 3 }),
  };
}

const STALLED = { active: 'stalled' };
const FAILING = { active: 'failing' };
const PROGRESSING = { active: 'progressing' };

describe('grace period: a stall inside the grace stays orange', () => {
  it('a first stuck observation stalls the rollout without a red message', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    assert.deepEqual(t.state(), STALLED);
    assert.deepEqual(t.phases(), ['started:progressing']);
  });

  it('a stuck observation one millisecond before the grace stays stalled', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    // The observation arrives before the timer fires: the observation's time decides.
    const o = observation({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, at: 1_000 + GRACE - 1 });
    t.actor.send({ type: 'deployment.observed', observation: o });
    assert.deepEqual(t.state(), STALLED);
    assert.ok(!t.phases().includes('updated:failing'), t.phases().join());
  });

  it('the timer one millisecond before the grace leaves the rollout stalled', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    t.at(1_000 + GRACE - 1);
    assert.deepEqual(t.state(), STALLED);
    assert.deepEqual(t.phases(), ['started:progressing']);
  });

  it('repeated stuck observations do not restart the clock', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    t.at(1_000 + GRACE / 2);
    t.stuck();
    t.at(1_000 + GRACE);
    assert.deepEqual(t.state(), FAILING);
  });
});

describe('grace period: at the grace the rollout turns red', () => {
  it('the timer turns the rollout failing exactly at the grace', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    t.at(1_000 + GRACE);
    assert.deepEqual(t.state(), FAILING);
    assert.deepEqual(t.phases(), ['started:progressing', 'updated:failing']);
  });

  it('a stuck observation exactly at the grace turns the rollout failing before the timer fires', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    const o = observation({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, at: 1_000 + GRACE });
    t.actor.send({ type: 'deployment.observed', observation: o });
    assert.deepEqual(t.state(), FAILING);
    assert.deepEqual(t.phases(), ['started:progressing', 'updated:failing']);
  });

  it('a healthy observation past the grace is a recovery, not a failure', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    const o = observation({ revision: 2, updated: 1, available: 2, old: 2, at: 1_000 + GRACE + 5 });
    t.actor.send({ type: 'deployment.observed', observation: o });
    assert.deepEqual(t.state(), PROGRESSING);
    assert.ok(!t.phases().includes('updated:failing'), t.phases().join());
  });

  it('the failing message carries the crash loop that caused it', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    t.at(1_000 + GRACE);
    const view = t.changes.at(-1)!.notification.view;
    assert.equal(view.phase, 'failing');
    assert.deepEqual(
      view.diagnosis.problems.map((p) => p.reason),
      ['CrashLoopBackOff'],
    );
  });
});

describe('grace period: recovery and a new stall restart the clock', () => {
  it('after a recovery from stalled, a new stall gets a whole grace period again (observation path)', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    t.at(2_000);
    t.healthy();
    assert.deepEqual(t.state(), PROGRESSING);
    t.at(3_000);
    t.stuck();
    // Past the grace of the first stall, inside the grace of the second: still orange.
    const o = observation({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, at: 1_000 + GRACE });
    t.actor.send({ type: 'deployment.observed', observation: o });
    assert.deepEqual(t.state(), STALLED);
  });

  it('after a recovery from stalled, a new stall gets a whole grace period again (timer path)', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    t.at(2_000);
    t.healthy();
    t.at(3_000);
    t.stuck();
    t.at(1_000 + GRACE);
    assert.deepEqual(t.state(), STALLED);
    t.at(3_000 + GRACE);
    assert.deepEqual(t.state(), FAILING);
  });

  it('after a recovery from failing, a new stall starts orange again', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    t.at(1_000 + GRACE);
    assert.deepEqual(t.state(), FAILING);
    t.at(2_000 + GRACE);
    t.healthy();
    assert.deepEqual(t.state(), PROGRESSING);
    t.at(3_000 + GRACE);
    t.stuck();
    t.at(4_000 + GRACE);
    t.stuck();
    assert.deepEqual(t.state(), STALLED);
    // Orange again (the new stall shows its crash loop), and no second red message.
    assert.deepEqual(t.phases().slice(0, 3), ['started:progressing', 'updated:failing', 'updated:progressing']);
    assert.deepEqual(t.phases().filter((p) => p === 'updated:failing'), ['updated:failing']);
  });

  it('a pause while stalled stops the clock: resuming into a new stall starts a new grace', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    t.at(2_000);
    t.paused();
    assert.deepEqual(t.actor.getSnapshot().value, { active: 'paused' });
    t.at(3_000);
    t.stuck(); // resumed, still crash-looping
    t.at(4_000);
    t.stuck();
    assert.deepEqual(t.state(), STALLED);
    const o = observation({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, at: 1_000 + GRACE });
    t.actor.send({ type: 'deployment.observed', observation: o });
    assert.deepEqual(t.state(), STALLED);
  });

  it('a pause while failing stops the clock: resuming into a new stall starts orange', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    t.at(1_000 + GRACE);
    t.at(2_000 + GRACE);
    t.paused();
    t.at(3_000 + GRACE);
    t.stuck(); // resumed
    t.at(4_000 + GRACE);
    t.stuck();
    assert.deepEqual(t.state(), STALLED);
    // The new stall is measured from its own start, not from the stall before the pause.
    t.at(5_000 + GRACE);
    t.stuck();
    assert.deepEqual(t.state(), STALLED);
  });

  it('the timer of a stall does not survive a recovery', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    t.at(2_000);
    t.healthy();
    t.at(1_000 + GRACE);
    assert.deepEqual(t.state(), PROGRESSING);
  });

  it('a new revision starts its own grace period', () => {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    t.at(2_000);
    t.newRevision();
    t.at(3_000);
    t.actor.send({
      type: 'deployment.observed',
      observation: observation({ revision: 3, updated: 1, available: 2, old: 2, crashing: 1, at: 3_000 }),
    });
    assert.deepEqual(t.state(), STALLED);
    t.actor.send({
      type: 'deployment.observed',
      observation: observation({ revision: 3, updated: 1, available: 2, old: 2, crashing: 1, at: 1_000 + GRACE }),
    });
    assert.deepEqual(t.state(), STALLED);
  });
});

describe('grace period: the timer and the observation-time paths agree', () => {
  /** The failing notification reached by one path, from a stall first seen at t=1000. */
  function failingView(path: 'timer' | 'observation') {
    const t = rollout();
    t.at(1_000);
    t.stuck();
    if (path === 'timer') {
      t.at(1_000 + GRACE);
    } else {
      const o = observation({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, at: 1_000 + GRACE });
      t.actor.send({ type: 'deployment.observed', observation: o });
    }
    assert.deepEqual(t.state(), FAILING);
    return t.changes.map((c) => ({ change: c.change, ...c.notification, view: { ...c.notification.view } }));
  }

  it('both paths turn red at the same instant and say the same thing', () => {
    assert.deepEqual(failingView('timer'), failingView('observation'));
  });

  for (const path of ['timer', 'observation'] as const) {
    it(`after the ${path} path, the deadline still ends the rollout as failed`, () => {
      const t = rollout();
      t.at(1_000);
      t.stuck();
      if (path === 'timer') t.at(1_000 + GRACE);
      else t.actor.send({ type: 'deployment.observed', observation: observation({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, at: 1_000 + GRACE }) });
      t.at(600_000);
      t.deadline();
      assert.equal(t.phases().at(-1), 'ended:failed');
      assert.equal(t.actor.getSnapshot().value, 'failed');
    });

    it(`after the ${path} path, a complete rollout still succeeds`, () => {
      const t = rollout();
      t.at(1_000);
      t.stuck();
      if (path === 'timer') t.at(1_000 + GRACE);
      else t.actor.send({ type: 'deployment.observed', observation: observation({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, at: 1_000 + GRACE }) });
      t.at(2_000 + GRACE);
      t.complete();
      assert.equal(t.phases().at(-1), 'ended:succeeded');
    });
  }

  it('a stall with a different grace uses that grace on both paths', () => {
    const clock = new SimulatedClock();
    const actor = createActor(deploymentMachine, { input: { key: 'shop/web', failingGraceMs: 5_000 }, clock });
    actor.start();
    actor.send({ type: 'deployment.observed', observation: observation({ revision: 1, updated: 2, available: 2, at: 0 }) });
    actor.send({ type: 'deployment.observed', observation: observation({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, at: 0 }) });
    clock.increment(4_999);
    assert.deepEqual(actor.getSnapshot().value, STALLED);
    clock.increment(1);
    assert.deepEqual(actor.getSnapshot().value, FAILING);
  });
});
