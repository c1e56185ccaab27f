/**
 * Model-based tests: a small abstract model of a rollout's life (what the cluster can do
 * next) drives the REAL deployment statechart along every simple path, asserting at each
 * state on what it told Slack delivery. The model has no timers: "the grace period passed"
 * is an event that advances the real actor's SimulatedClock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor, createMachine, SimulatedClock } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { deploymentMachine, type RolloutChangedEvent } from '../../src/machines/deploymentMachine.js';
import { modelPaths } from '../support/modelPaths.js';
import { observation, type RolloutStep } from '../support/observations.js';

const GRACE = 60_000;

/** What the cluster (and time) can do to one Deployment. */
const rolloutModel = createMachine({
  id: 'rolloutModel',
  initial: 'idle',
  states: {
    idle: { on: { START: 'progressing' } },
    progressing: {
      on: { STUCK: 'stalled', PAUSE: 'paused', COMPLETE: 'succeeded', DEADLINE: 'failed', SUPERSEDE: 'replaced', DELETE: 'deleted', UNTRACK: 'untracked' },
    },
    stalled: { on: { GRACE_PASSED: 'failing', RECOVER: 'progressing', COMPLETE: 'succeeded', DEADLINE: 'failed', DELETE: 'deleted' } },
    failing: { on: { RECOVER: 'progressing', DEADLINE: 'failed', SUPERSEDE: 'replaced', PAUSE: 'paused', UNTRACK: 'untracked' } },
    paused: { on: { RESUME: 'progressing', DELETE: 'deleted', SUPERSEDE: 'replaced' } },
    replaced: { on: { COMPLETE: 'succeeded', DEADLINE: 'failed' } },
    succeeded: { on: { START: 'progressing' } },
    failed: { on: { START: 'progressing' } },
    deleted: { type: 'final' },
    untracked: { type: 'final' },
  },
});

/** The system under test: the real machine, a simulated clock and a Deployment that the events change. */
class World {
  readonly clock = new SimulatedClock();
  readonly actor = createActor(deploymentMachine, { input: { key: 'shop/web', failingGraceMs: GRACE }, clock: this.clock });
  readonly changes: RolloutChangedEvent[] = [];
  step: RolloutStep = { revision: 1, replicas: 2, updated: 2, available: 2, at: 0 };
  now = 0;

  constructor() {
    this.actor.on('rollout.changed', (e) => this.changes.push(e));
    this.actor.start();
    this.observe({});
  }

  observe(change: Partial<RolloutStep>): void {
    this.now += 1_000;
    this.step = { ...this.step, ...change, at: this.now };
    this.actor.send({ type: 'deployment.observed', observation: observation(this.step) });
  }

  last(): RolloutChangedEvent {
    const last = this.changes.at(-1);
    assert.ok(last, 'expected a rollout change');
    return last;
  }

  /** Every rollout is started once and ended at most once, and nothing follows its end. */
  assertLifecycles(): void {
    const byRollout = new Map<string, string[]>();
    for (const c of this.changes) {
      const list = byRollout.get(c.notification.rolloutId) ?? [];
      list.push(c.change);
      byRollout.set(c.notification.rolloutId, list);
    }
    for (const [id, list] of byRollout) {
      assert.equal(list[0], 'started', `${id} begins with started: ${list}`);
      assert.equal(list.filter((c) => c === 'started').length, 1, `${id} started once: ${list}`);
      const end = list.indexOf('ended');
      assert.ok(end === -1 || end === list.length - 1, `${id} has nothing after its end: ${list}`);
    }
  }
}

const model = createTestModel(rolloutModel);
const allPaths = model.getSimplePaths();
/** Every path; a sample under mutation testing (test/support/modelPaths.ts). */
const paths = modelPaths(allPaths);

describe('deploymentMachine against the rollout model', () => {
  it('has paths through every state of the model', () => {
    const reached = new Set(allPaths.flatMap((p) => [String(p.state.value), ...p.steps.map((s) => String(s.state.value))]));
    for (const state of Object.keys(rolloutModel.config.states ?? {})) assert.ok(reached.has(state), `no path reaches ${state}`);
  });

  for (const path of paths) {
    it(path.description, async () => {
      const world = new World();
      await path.test({
        events: {
          START: () => world.observe({ revision: (world.step.revision ?? 0) + 1, updated: 0, available: 2, old: 2, crashing: 0, paused: false, deadlineExceeded: false }),
          STUCK: () => world.observe({ updated: 1, crashing: 1 }),
          GRACE_PASSED: () => world.clock.increment(GRACE),
          RECOVER: () => world.observe({ crashing: 0, updated: 1, available: 3 }),
          PAUSE: () => world.observe({ paused: true }),
          RESUME: () => world.observe({ paused: false }),
          COMPLETE: () => world.observe({ updated: 2, available: 2, old: 0, crashing: 0 }),
          DEADLINE: () => world.observe({ deadlineExceeded: true }),
          SUPERSEDE: () => world.observe({ revision: (world.step.revision ?? 0) + 1, updated: 0, available: 2, old: 2, crashing: 0, paused: false }),
          DELETE: () => world.actor.send({ type: 'deployment.deleted', uid: 'uid-web', at: world.now }),
          UNTRACK: () => world.actor.send({ type: 'tracking.stopped', at: world.now }),
        },
        states: {
          idle: () => {
            assert.equal(world.actor.getSnapshot().value, 'idle');
            assert.equal(world.changes.length, 0);
          },
          progressing: () => {
            assert.deepEqual(world.actor.getSnapshot().value, { active: 'progressing' });
            assert.equal(world.last().notification.view.phase, 'progressing');
            assert.equal(world.last().notification.view.revision, world.step.revision);
          },
          stalled: () => {
            assert.deepEqual(world.actor.getSnapshot().value, { active: 'stalled' });
            // Still orange: the grace period has not passed.
            assert.equal(world.last().notification.view.phase, 'progressing');
          },
          failing: () => {
            assert.deepEqual(world.actor.getSnapshot().value, { active: 'failing' });
            const view = world.last().notification.view;
            assert.equal(view.phase, 'failing');
            assert.ok(view.diagnosis.problems.some((p) => p.reason === 'CrashLoopBackOff'));
          },
          paused: () => {
            assert.deepEqual(world.actor.getSnapshot().value, { active: 'paused' });
            assert.equal(world.last().notification.view.phase, 'paused');
          },
          replaced: () => {
            const [ended, started] = world.changes.slice(-2);
            assert.equal(ended?.change, 'ended');
            assert.equal(ended?.notification.view.phase, 'superseded');
            assert.equal(ended?.notification.view.supersededBy, world.step.revision);
            assert.equal(started?.change, 'started');
            assert.equal(started?.notification.view.revision, world.step.revision);
          },
          succeeded: () => {
            assert.equal(world.actor.getSnapshot().value, 'succeeded');
            assert.equal(world.last().change, 'ended');
            assert.equal(world.last().notification.view.phase, 'succeeded');
          },
          failed: () => {
            assert.equal(world.actor.getSnapshot().value, 'failed');
            assert.equal(world.last().change, 'ended');
            assert.equal(world.last().notification.view.phase, 'failed');
          },
          deleted: () => {
            assert.equal(world.actor.getSnapshot().status, 'done');
            assert.equal(world.last().notification.view.phase, 'deleted');
          },
          untracked: () => {
            assert.equal(world.actor.getSnapshot().status, 'done');
            assert.equal(world.last().notification.view.phase, 'untracked');
          },
        },
      });
      world.assertLifecycles();
    });
  }
});
