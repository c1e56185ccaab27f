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
import { deploymentMachine } from '../../src/machines/deploymentMachine.js';
import type { RolloutChangedEvent } from '../../src/machines/deploymentContext.js';
import { modelPaths } from '../support/modelPaths.js';
import { observation, type RolloutStep } from '../support/observations.js';

const GRACE = 60_000;
const BAKE = 300_000;

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
  readonly actor;
  readonly changes: RolloutChangedEvent[] = [];
  step: RolloutStep = { revision: 1, replicas: 2, updated: 2, available: 2, at: 0 };
  now = 0;

  constructor(bakeMs = 0) {
    this.actor = createActor(deploymentMachine, { input: { key: 'shop/web', failingGraceMs: GRACE, bakeMs }, clock: this.clock });
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

  /**
   * Every rollout is started once and ended at most once, and nothing follows its end but, for
   * a success that baked, one `baked` or `degraded` change.
   */
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
      const after = end === -1 ? [] : list.slice(end + 1);
      assert.ok(after.length === 0 || (after.length === 1 && (after[0] === 'baked' || after[0] === 'degraded')), `${id} has nothing after its end but the bake's: ${list}`);
      assert.ok(end !== -1 || !list.some((c) => c === 'baked' || c === 'degraded'), `${id}: no bake without a success: ${list}`);
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
            assert.deepEqual(world.actor.getSnapshot().value, { succeeded: 'baked' });
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

/** What the cluster (and time) can do to one Deployment after a success, with --bake-seconds on (issue 13). */
const bakeModel = createMachine({
  id: 'bakeModel',
  initial: 'progressing',
  states: {
    progressing: { on: { COMPLETE: 'baking' } },
    baking: { on: { CRASH: 'unhealthy', BAKE_PASSED: 'baked', START: 'restarted', DELETE: 'deleted' } },
    unhealthy: { on: { GRACE_PASSED: 'degraded', HEAL: 'baking', START: 'restarted' } },
    degraded: { on: { HEAL: 'degradedStill', START: 'restarted' } },
    /** Healthy again after the degraded edit: degraded is final, no flapping back. */
    degradedStill: { on: { START: 'restarted' } },
    baked: { on: { CRASH: 'bakedStill', START: 'restarted' } },
    /** Crashing after the window: the success stands. */
    bakedStill: { on: { START: 'restarted' } },
    restarted: { type: 'final' },
    deleted: { type: 'final' },
  },
});

describe('deploymentMachine against the bake model (the watch after success)', () => {
  const bakePaths = createTestModel(bakeModel).getSimplePaths();

  it('has paths through every state of the model', () => {
    const reached = new Set(bakePaths.flatMap((p) => [String(p.state.value), ...p.steps.map((s) => String(s.state.value))]));
    for (const state of Object.keys(bakeModel.config.states ?? {})) assert.ok(reached.has(state), `no path reaches ${state}`);
  });

  for (const path of bakePaths) {
    it(path.description, async () => {
      const world = new World(BAKE);
      world.observe({ revision: 2, updated: 0, available: 2, old: 2 });
      const changesAfter = (change: string) => world.changes.slice(world.changes.findIndex((c) => c.change === change) + 1);
      await path.test({
        events: {
          COMPLETE: () => world.observe({ updated: 2, available: 2, old: 0, crashing: 0 }),
          CRASH: () => world.observe({ updated: 2, available: 1, old: 0, crashing: 1 }),
          HEAL: () => world.observe({ updated: 2, available: 2, old: 0, crashing: 0 }),
          GRACE_PASSED: () => world.clock.increment(GRACE),
          BAKE_PASSED: () => world.clock.increment(BAKE),
          START: () => world.observe({ revision: (world.step.revision ?? 0) + 1, updated: 0, available: 2, old: 2, crashing: 0 }),
          DELETE: () => world.actor.send({ type: 'deployment.deleted', uid: 'uid-web', at: world.now }),
        },
        states: {
          progressing: () => assert.deepEqual(world.actor.getSnapshot().value, { active: 'progressing' }),
          baking: () => {
            assert.deepEqual(world.actor.getSnapshot().value, { succeeded: { baking: 'healthy' } });
            const last = world.last();
            assert.equal(last.change, 'ended');
            assert.equal(last.notification.view.phase, 'succeeded');
            assert.equal(last.notification.view.bakeUntil, (last.notification.view.endedAt ?? 0) + BAKE);
          },
          unhealthy: () => {
            assert.deepEqual(world.actor.getSnapshot().value, { succeeded: { baking: 'unhealthy' } });
            assert.equal(world.last().change, 'ended', 'nothing said before the grace period');
          },
          degraded: () => {
            assert.deepEqual(world.actor.getSnapshot().value, { succeeded: 'degraded' });
            assert.equal(world.last().change, 'degraded');
            assert.equal(world.last().notification.view.phase, 'degraded');
            assert.ok(world.last().notification.view.diagnosis.problems.some((p) => p.reason === 'CrashLoopBackOff'));
          },
          degradedStill: () => {
            assert.deepEqual(world.actor.getSnapshot().value, { succeeded: 'degraded' });
            assert.deepEqual(changesAfter('degraded'), []);
          },
          baked: () => {
            assert.deepEqual(world.actor.getSnapshot().value, { succeeded: 'baked' });
            assert.equal(world.last().change, 'baked');
            assert.equal(world.last().notification.view.phase, 'succeeded');
            assert.equal(world.last().notification.view.bakeUntil, null);
          },
          bakedStill: () => {
            assert.deepEqual(world.actor.getSnapshot().value, { succeeded: 'baked' });
            assert.deepEqual(changesAfter('baked'), []);
          },
          restarted: () => {
            assert.deepEqual(world.actor.getSnapshot().value, { active: 'progressing' });
            const [before, started] = world.changes.slice(-2);
            assert.equal(started?.change, 'started');
            assert.equal(started?.notification.view.revision, world.step.revision);
            // A new rollout ends the bake silently: the success's last word is `baked` or an earlier `degraded`.
            assert.ok(before?.change === 'baked' || before?.change === 'degraded', `before the start: ${before?.change}`);
          },
          deleted: () => {
            assert.equal(world.actor.getSnapshot().status, 'done');
            assert.equal(world.last().change, 'baked');
          },
        },
      });
      world.assertLifecycles();
    });
  }
});

/**
 * A restart inside a success's bake window with no warm follower (ADR 0011): a new actor sees
 * revision 2 at rest (healthy, or rolled out with a pod crash-looping since), then delivery's
 * kept record arrives (`bake.resumed`) inside the window, after it, or after a new rollout.
 */
const resumeModel = createMachine({
  id: 'resumeModel',
  initial: 'down',
  states: {
    down: { on: { SEE_HEALTHY: 'atRest', SEE_CRASHING: 'atRestCrashing' } },
    atRest: { on: { RESUME: 'baking', RESUME_AFTER_WINDOW: 'notResumed', START: 'rolling' } },
    atRestCrashing: { on: { RESUME: 'unhealthy', RESUME_AFTER_WINDOW: 'notResumed' } },
    /** The new rollout came before the kept record: it is reported, the old bake not resumed. */
    rolling: { on: { RESUME: 'rollingStill' } },
    rollingStill: {},
    baking: { on: { CRASH: 'unhealthy', BAKE_PASSED: 'baked', START: 'restarted' } },
    unhealthy: { on: { GRACE_PASSED: 'degraded', HEAL: 'baking', START: 'restarted' } },
    degraded: { on: { HEAL: 'degradedStill' } },
    degradedStill: {},
    baked: { on: { CRASH: 'bakedStill' } },
    bakedStill: {},
    notResumed: { on: { CRASH: 'notResumedStill' } },
    notResumedStill: {},
    restarted: { type: 'final' },
  },
});

describe('deploymentMachine against the resume model (a bake resumed after a restart)', () => {
  const paths = createTestModel(resumeModel).getSimplePaths();
  /** The success was at 10 s; Hermod restarts at 100 s, 210 s before the window's end. */
  const SUCCEEDED_AT = 10_000;
  const RESTART = 100_000;
  const LEFT = SUCCEEDED_AT + BAKE - RESTART;

  it('has paths through every state of the model', () => {
    const reached = new Set(paths.flatMap((p) => [String(p.state.value), ...p.steps.map((s) => String(s.state.value))]));
    for (const state of Object.keys(resumeModel.config.states ?? {})) assert.ok(reached.has(state), `no path reaches ${state}`);
  });

  for (const path of paths) {
    it(path.description, async () => {
      const clock = new SimulatedClock();
      const actor = createActor(deploymentMachine, { input: { key: 'shop/web', failingGraceMs: GRACE, bakeMs: BAKE }, clock });
      const changes: RolloutChangedEvent[] = [];
      actor.on('rollout.changed', (e) => changes.push(e));
      actor.start();
      clock.increment(RESTART);
      let step: RolloutStep = { revision: 2, replicas: 2, updated: 2, available: 2, at: RESTART };
      /** The controller's word after the success stays while a pod turns unready (kube's deployment controller). */
      const obs = () => {
        const o = observation({ ...step, at: clock.now() });
        if ((step.crashing ?? 0) > 0 && step.old === 0) o.deployment.status.conditions = [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: '' }];
        return o;
      };
      const observe = (change: Partial<RolloutStep>, initial = false) => {
        step = { ...step, ...change };
        actor.send({ type: 'deployment.observed', observation: obs(), initial });
      };
      const kept = { rolloutId: 'uid-web/2', channel: 'deploys', bakeUntil: SUCCEEDED_AT + BAKE, startedAt: 1_000, succeededAt: SUCCEEDED_AT, previousRevision: 1, adopted: false };
      const said = () => changes.map((c) => `${c.change}:${c.notification.view.phase}`);
      const value = () => actor.getSnapshot().value;
      await path.test({
        events: {
          SEE_HEALTHY: () => observe({ old: 0, crashing: 0 }, true),
          SEE_CRASHING: () => observe({ available: 1, old: 0, crashing: 1 }, true),
          RESUME: () => actor.send({ type: 'bake.resumed', bake: kept, observation: obs() }),
          RESUME_AFTER_WINDOW: () => actor.send({ type: 'bake.resumed', bake: { ...kept, bakeUntil: clock.now() }, observation: obs() }),
          CRASH: () => observe({ available: 1, crashing: 1 }),
          HEAL: () => observe({ available: 2, crashing: 0 }),
          GRACE_PASSED: () => clock.increment(GRACE),
          BAKE_PASSED: () => clock.increment(LEFT),
          START: () => observe({ revision: 3, updated: 0, available: 2, old: 2, crashing: 0 }),
        },
        states: {
          down: () => assert.deepEqual(said(), []),
          atRest: () => {
            assert.equal(value(), 'idle');
            assert.deepEqual(said(), []);
          },
          atRestCrashing: () => {
            assert.equal(value(), 'idle', 'a revision that rolled out is not adopted as a rollout');
            assert.deepEqual(said(), []);
          },
          rolling: () => assert.deepEqual(said(), ['started:progressing']),
          rollingStill: () => {
            assert.deepEqual(value(), { active: 'progressing' });
            assert.deepEqual(said(), ['started:progressing']);
          },
          baking: () => {
            assert.deepEqual(value(), { succeeded: { baking: 'healthy' } });
            assert.deepEqual(said(), [], 'the message already shows the success');
          },
          unhealthy: () => {
            assert.deepEqual(value(), { succeeded: { baking: 'unhealthy' } });
            assert.deepEqual(said(), []);
          },
          degraded: () => {
            assert.deepEqual(value(), { succeeded: 'degraded' });
            assert.deepEqual(said(), ['degraded:degraded']);
            const view = changes.at(-1)!.notification.view;
            assert.deepEqual([view.rolloutId, view.startedAt, view.endedAt, view.previousRevision], ['uid-web/2', 1_000, SUCCEEDED_AT, 1]);
            assert.equal(changes.at(-1)!.notification.channel, 'deploys');
          },
          degradedStill: () => assert.deepEqual(said(), ['degraded:degraded']),
          baked: () => {
            assert.deepEqual(value(), { succeeded: 'baked' });
            assert.deepEqual(said(), ['baked:succeeded']);
          },
          bakedStill: () => assert.deepEqual(said(), ['baked:succeeded']),
          notResumed: () => {
            assert.equal(value(), 'idle');
            assert.deepEqual(said(), []);
          },
          notResumedStill: () => {
            clock.increment(BAKE + GRACE);
            assert.deepEqual(said(), [], 'a crash after the window is no news');
          },
          restarted: () => {
            assert.deepEqual(value(), { active: 'progressing' });
            assert.deepEqual(said().slice(-2), ['baked:succeeded', 'started:progressing']);
          },
        },
      });
    });
  }
});
