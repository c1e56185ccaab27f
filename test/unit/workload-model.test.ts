/**
 * Model-based tests of the one workload statechart for StatefulSets and DaemonSets (issue 11):
 * the same rollout life as deployment-model.test.ts, with what differs per kind: no pause, a
 * deadline that is Hermod's own (time passing, on the actor's SimulatedClock, with no
 * observation at all), and OnDelete, which is said once and then left alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor, createMachine, SimulatedClock } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { deploymentMachine } from '../../src/machines/deploymentMachine.js';
import type { RolloutChangedEvent } from '../../src/machines/deploymentContext.js';
import type { WorkloadKind } from '../../src/machines/facts.js';
import { modelPaths } from '../support/modelPaths.js';
import { workloadObservation, type RolloutStep } from '../support/observations.js';

const GRACE = 60_000;
const DEADLINE_SECONDS = 300;

/** What the cluster (and time) can do to one StatefulSet or DaemonSet. */
const rolloutModel = createMachine({
  id: 'workloadModel',
  initial: 'idle',
  states: {
    idle: { on: { START: 'progressing', START_ON_DELETE: 'unfollowed' } },
    progressing: {
      on: { STUCK: 'stalled', COMPLETE: 'succeeded', DEADLINE: 'failed', SUPERSEDE: 'replaced', DELETE: 'deleted', UNTRACK: 'untracked' },
    },
    stalled: { on: { GRACE_PASSED: 'failing', RECOVER: 'progressing', COMPLETE: 'succeeded', DEADLINE: 'failed', DELETE: 'deleted' } },
    failing: { on: { RECOVER: 'progressing', DEADLINE: 'failed', SUPERSEDE: 'replaced', UNTRACK: 'untracked' } },
    replaced: { on: { COMPLETE: 'succeeded', DEADLINE: 'failed' } },
    succeeded: { on: { START: 'progressing', START_ON_DELETE: 'unfollowed' } },
    failed: { on: { START: 'progressing' } },
    unfollowed: { on: { START: 'progressing' } },
    deleted: { type: 'final' },
    untracked: { type: 'final' },
  },
});

class World {
  readonly clock = new SimulatedClock();
  readonly actor;
  readonly changes: RolloutChangedEvent[] = [];
  step: RolloutStep = { revision: 1, replicas: 2, updated: 2, available: 2, at: 0, deadlineSeconds: DEADLINE_SECONDS };
  now = 0;

  constructor(readonly kind: WorkloadKind) {
    this.actor = createActor(deploymentMachine, { input: { key: `shop/${kind}/web`, failingGraceMs: GRACE }, clock: this.clock });
    this.actor.on('rollout.changed', (e) => this.changes.push(e));
    this.actor.start();
    this.observe({});
  }

  observe(change: Partial<RolloutStep>): void {
    this.now += 1_000;
    this.step = { ...this.step, ...change, at: this.now };
    this.actor.send({ type: 'deployment.observed', observation: workloadObservation(this.kind, this.step) });
  }

  last(): RolloutChangedEvent {
    const last = this.changes.at(-1);
    assert.ok(last, 'expected a rollout change');
    return last;
  }

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
    for (const c of this.changes) assert.equal(c.notification.view.kind, this.kind);
  }
}

const allPaths = createTestModel(rolloutModel).getSimplePaths();
/** Every path; a sample under mutation testing (test/support/modelPaths.ts). */
const paths = modelPaths(allPaths);

for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
  describe(`deploymentMachine against the rollout model: ${kind}`, () => {
    it('has paths through every state of the model', () => {
      const reached = new Set(allPaths.flatMap((p) => [String(p.state.value), ...p.steps.map((s) => String(s.state.value))]));
      for (const state of Object.keys(rolloutModel.config.states ?? {})) assert.ok(reached.has(state), `no path reaches ${state}`);
    });

    for (const path of paths) {
      it(path.description, async () => {
        const world = new World(kind);
        const next = () => (world.step.revision ?? 0) + 1;
        await path.test({
          events: {
            START: () => world.observe({ revision: next(), updated: 0, available: 2, old: 2, crashing: 0, onDelete: false }),
            START_ON_DELETE: () => world.observe({ revision: next(), updated: 0, available: 2, old: 2, crashing: 0, onDelete: true }),
            STUCK: () => world.observe({ updated: 1, crashing: 1, available: 1 }),
            GRACE_PASSED: () => world.clock.increment(GRACE),
            RECOVER: () => world.observe({ crashing: 0, updated: 1, available: 2 }),
            COMPLETE: () => world.observe({ updated: world.step.replicas ?? 2, available: world.step.replicas ?? 2, old: 0, crashing: 0 }),
            // Hermod's own deadline: time passes, nothing is observed.
            DEADLINE: () => world.clock.increment(DEADLINE_SECONDS * 1000),
            SUPERSEDE: () => world.observe({ revision: next(), updated: 0, available: 2, old: 2, crashing: 0 }),
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
              assert.equal(world.last().notification.view.replicaSet, `web-r${world.step.revision}`);
            },
            stalled: () => {
              assert.deepEqual(world.actor.getSnapshot().value, { active: 'stalled' });
              assert.equal(world.last().notification.view.phase, 'progressing');
            },
            failing: () => {
              assert.deepEqual(world.actor.getSnapshot().value, { active: 'failing' });
              const view = world.last().notification.view;
              assert.equal(view.phase, 'failing');
              assert.ok(view.diagnosis.problems.some((p) => p.reason === 'CrashLoopBackOff'));
              if (kind === 'StatefulSet') assert.equal(view.waitingOn, `web-${(world.step.replicas ?? 2) - 1}`);
            },
            replaced: () => {
              const [ended, started] = world.changes.slice(-2);
              assert.equal(ended?.notification.view.phase, 'superseded');
              assert.equal(ended?.notification.view.supersededBy, world.step.revision);
              assert.equal(started?.change, 'started');
            },
            succeeded: () => {
              assert.deepEqual(world.actor.getSnapshot().value, { succeeded: 'baked' });
              assert.equal(world.last().notification.view.phase, 'succeeded');
            },
            failed: () => {
              assert.equal(world.actor.getSnapshot().value, 'failed');
              const last = world.last();
              assert.equal(last.change, 'ended');
              assert.equal(last.notification.view.phase, 'failed');
              assert.equal(last.notification.view.progressDeadlineSeconds, DEADLINE_SECONDS);
              assert.match(last.notification.view.detail ?? '', /exceeded Hermod's progress deadline \(300 seconds\)/);
              assert.equal(last.notification.view.endedAt, last.notification.view.startedAt + DEADLINE_SECONDS * 1000);
            },
            unfollowed: () => {
              assert.equal(world.actor.getSnapshot().value, 'unfollowed');
              const [started, ended] = world.changes.slice(-2);
              assert.equal(started?.change, 'started');
              assert.equal(ended?.change, 'ended');
              assert.equal(ended?.notification.view.phase, 'unfollowable');
              // Then quiet: nothing more, whatever the controller reports and however long it takes.
              const before = world.changes.length;
              world.clock.increment(DEADLINE_SECONDS * 2000);
              world.observe({ updated: 1, available: 1, crashing: 1 });
              assert.equal(world.changes.length, before);
              world.observe({ updated: 0, available: 2, crashing: 0 });
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
}
