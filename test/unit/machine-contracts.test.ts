/**
 * Small contracts of src/machines that other layers rely on (issue 15): which phases are
 * final, the key of a Deployment actor, and what the supervisor statechart routes in each
 * state (its actions are implemented by src/actors/supervisor.ts and provided here).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor } from 'xstate';
import { deploymentKey } from '../../src/machines/facts.js';
import { FINAL_PHASES, isFinalPhase, type RolloutPhase } from '../../src/machines/notification.js';
import { supervisorMachine, type SupervisorEvent } from '../../src/machines/supervisorMachine.js';
import { observation } from '../support/observations.js';

describe('final phases: the message never changes after these', () => {
  const final: RolloutPhase[] = ['succeeded', 'failed', 'superseded', 'deleted', 'untracked', 'unfollowable', 'degraded'];
  const live: RolloutPhase[] = ['progressing', 'failing', 'paused'];
  for (const phase of final) it(`${phase} is final`, () => assert.equal(isFinalPhase(phase), true));
  for (const phase of live) it(`${phase} is not final`, () => assert.equal(isFinalPhase(phase), false));
  it('FINAL_PHASES holds exactly the final phases', () => assert.deepEqual([...FINAL_PHASES].sort(), [...final].sort()));
});

describe('deploymentKey', () => {
  it('is namespace/name', () => assert.equal(deploymentKey({ namespace: 'shop', name: 'web' }), 'shop/web'));
  it('names the kind of the other workloads, so a StatefulSet never shares a Deployment\'s actor', () => {
    assert.equal(deploymentKey({ namespace: 'shop', name: 'web', kind: 'Deployment' }), 'shop/web');
    assert.equal(deploymentKey({ namespace: 'shop', name: 'web', kind: 'StatefulSet' }), 'shop/StatefulSet/web');
    assert.equal(deploymentKey({ namespace: 'shop', name: 'web', kind: 'DaemonSet' }), 'shop/DaemonSet/web');
  });
});

describe('supervisorMachine: what it routes, by state', () => {
  type Action = 'routeObservation' | 'routeBakeResume' | 'routeDeletion' | 'untrackNamespace' | 'reapDeployment' | 'restartDeployment' | 'stopDeployments';

  function start() {
    const calls: string[] = [];
    const record = (name: Action) => () => void calls.push(name);
    const machine = supervisorMachine.provide({
      actions: {
        routeObservation: record('routeObservation'),
        routeDeletion: record('routeDeletion'),
        untrackNamespace: record('untrackNamespace'),
        reapDeployment: record('reapDeployment'),
        restartDeployment: record('restartDeployment'),
        stopDeployments: record('stopDeployments'),
      },
    });
    const actor = createActor(machine).start();
    return { actor, calls, send: (e: SupervisorEvent) => actor.send(e) };
  }

  const observed: SupervisorEvent = { type: 'deployment.observed', observation: observation({ revision: 1, at: 1 }) };
  const deleted: SupervisorEvent = { type: 'deployment.deleted', namespace: 'shop', name: 'web', uid: 'uid-web', at: 2 };
  const untracked: SupervisorEvent = { type: 'namespace.untracked', namespace: 'shop', at: 3 };

  it('starts syncing, and routes the initial list while syncing', () => {
    const t = start();
    assert.equal(t.actor.getSnapshot().value, 'syncing');
    t.send(observed);
    t.send(deleted);
    t.send(untracked);
    assert.deepEqual(t.calls, ['routeObservation', 'routeDeletion', 'untrackNamespace']);
  });

  it('watch.synced makes it running, where it routes the same way', () => {
    const t = start();
    t.send({ type: 'watch.synced' });
    assert.equal(t.actor.getSnapshot().value, 'running');
    t.send(observed);
    t.send(deleted);
    t.send(untracked);
    assert.deepEqual(t.calls, ['routeObservation', 'routeDeletion', 'untrackNamespace']);
  });

  for (const from of ['syncing', 'running'] as const) {
    it(`supervisor.stop from ${from} stops every Deployment actor and routes nothing more`, () => {
      const t = start();
      if (from === 'running') t.send({ type: 'watch.synced' });
      t.send({ type: 'supervisor.stop' });
      assert.equal(t.actor.getSnapshot().value, 'stopped');
      assert.equal(t.actor.getSnapshot().status, 'done');
      assert.deepEqual(t.calls, ['stopDeployments']);
      t.send(observed);
      assert.deepEqual(t.calls, ['stopDeployments']);
    });
  }

  it('a Deployment actor that is done is reaped; one that failed is restarted', () => {
    const t = start();
    t.send({ type: 'xstate.done.actor.shop/web', output: undefined, actorId: 'shop/web' } as SupervisorEvent);
    t.send({ type: 'xstate.error.actor.shop/api', error: new Error('bug'), actorId: 'shop/api' } as SupervisorEvent);
    assert.deepEqual(t.calls, ['reapDeployment', 'restartDeployment']);
  });

  const unprovided: Array<[Action, SupervisorEvent]> = [
    ['routeObservation', observed],
    ['routeBakeResume', { type: 'bake.resumed', bake: { rolloutId: 'uid-web/2', channel: '#deploys', bakeUntil: 1, startedAt: 0, succeededAt: 0, previousRevision: 1, adopted: false }, observation: observation({ revision: 2, at: 1 }) } as SupervisorEvent],
    ['routeDeletion', deleted],
    ['untrackNamespace', untracked],
    ['reapDeployment', { type: 'xstate.done.actor.shop/web', output: undefined, actorId: 'shop/web' } as SupervisorEvent],
    ['restartDeployment', { type: 'xstate.error.actor.shop/web', error: new Error('bug'), actorId: 'shop/web' } as SupervisorEvent],
    ['stopDeployments', { type: 'supervisor.stop' }],
  ];
  for (const [action, event] of unprovided) {
    it(`without the running system, ${action} fails loudly and names itself`, () => {
      const errors: unknown[] = [];
      const actor = createActor(supervisorMachine);
      actor.subscribe({ error: (e) => errors.push(e) });
      actor.start();
      actor.send(event);
      assert.equal(errors.length, 1);
      assert.equal((errors[0] as Error).message, `supervisorMachine action "${action}" must be provided by the running system`);
    });
  }
});
