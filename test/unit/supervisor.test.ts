import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/actors/logger.js';
import { Supervisor } from '../../src/actors/supervisor.js';
import type { Notification } from '../../src/machines/notification.js';
import { observation } from '../support/observations.js';


function start() {
  const sent: { change: string; notification: Notification }[] = [];
  const counts = { started: 0, ended: [] as string[], tracked: 0 };
  const supervisor = new Supervisor({
    failingGraceMs: 60_000,
    logger: silentLogger,
    onNotification: (notification, change) => sent.push({ change, notification }),
    metrics: {
      rolloutStarted: () => void counts.started++,
      rolloutEnded: (phase) => void counts.ended.push(phase),
      deploymentsTracked: (n) => void (counts.tracked = n),
    },
  }).start();
  return { supervisor, sent, counts };
}

describe('Supervisor', () => {
  it('creates one actor per Deployment and routes observations to it', () => {
    const { supervisor, sent, counts } = start();
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'u1', revision: 1, updated: 2, available: 2, at: 1 }));
    supervisor.observe(observation({ namespace: 'b', name: 'web', uid: 'u2', revision: 1, updated: 2, available: 2, at: 1 }));
    supervisor.synced();
    assert.equal(supervisor.ready, true);
    assert.equal(supervisor.deploymentCount, 2);
    assert.equal(counts.tracked, 2);
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'u1', revision: 2, updated: 1, available: 2, old: 2, at: 5 }));
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'u1', revision: 2, updated: 2, available: 2, at: 9 }));
    assert.deepEqual(
      sent.map((s) => `${s.notification.view.namespace}/${s.change}/${s.notification.view.phase}`),
      ['a/started/progressing', 'a/ended/succeeded'],
    );
    assert.equal(counts.started, 1);
    assert.deepEqual(counts.ended, ['succeeded']);
    supervisor.stop();
    assert.equal(supervisor.ready, false);
    assert.equal(supervisor.deploymentCount, 0);
  });

  it('counts a success that degraded within its bake window, once, and not as a second verdict (issue 13)', () => {
    const sent: { change: string; notification: Notification }[] = [];
    const counts = { ended: [] as string[], degraded: [] as string[] };
    const supervisor = new Supervisor({
      failingGraceMs: 60_000,
      bakeMs: 300_000,
      logger: silentLogger,
      onNotification: (notification, change) => sent.push({ change, notification }),
      metrics: {
        rolloutStarted: () => undefined,
        rolloutEnded: (phase) => void counts.ended.push(phase),
        rolloutDegraded: (kind) => void counts.degraded.push(kind ?? 'none'),
        deploymentsTracked: () => undefined,
      },
    }).start();
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'u1', revision: 1, updated: 2, available: 2, at: 1 }));
    supervisor.synced();
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'u1', revision: 2, updated: 1, available: 2, old: 2, at: 5 }));
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'u1', revision: 2, updated: 2, available: 2, at: 9 }));
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'u1', revision: 2, updated: 2, available: 1, crashing: 1, at: 20 }));
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'u1', revision: 2, updated: 2, available: 1, crashing: 1, at: 60_020 }));
    supervisor.stop();
    assert.deepEqual(sent.map((x) => `${x.change}/${x.notification.view.phase}`), ['started/progressing', 'ended/succeeded', 'degraded/degraded']);
    assert.deepEqual(counts.ended, ['succeeded']);
    assert.deepEqual(counts.degraded, ['Deployment']);
  });

  it('after a restart, a kept bake handed over resumes in its workload\'s actor: a crash-loop degrades the success, counted once (ADR 0011)', () => {
    const sent: { change: string; notification: Notification }[] = [];
    const degraded: string[] = [];
    const supervisor = new Supervisor({
      failingGraceMs: 60_000,
      bakeMs: 300_000,
      logger: silentLogger,
      onNotification: (notification, change) => sent.push({ change, notification }),
      metrics: { rolloutStarted: () => undefined, rolloutEnded: () => undefined, rolloutDegraded: (kind) => void degraded.push(kind ?? 'none'), deploymentsTracked: () => undefined },
    }).start();
    const atRest = observation({ namespace: 'a', name: 'web', uid: 'u1', revision: 2, updated: 2, available: 2, at: 100_000 });
    supervisor.observe(atRest);
    supervisor.synced();
    const bake = { rolloutId: 'u1/2', channel: 'deploys', bakeUntil: 310_000, startedAt: 1_000, succeededAt: 10_000, previousRevision: 1, adopted: false };
    // Another workload's kept bake, not seen by this process: no actor is made for it.
    const unseen = observation({ namespace: 'b', name: 'api', uid: 'u2', revision: 4, updated: 2, available: 2, at: 100_000 });
    supervisor.resumeBakes([{ bake, observation: atRest }, { bake: { ...bake, rolloutId: 'u2/4' }, observation: unseen }]);
    assert.equal(supervisor.deploymentCount, 1);
    assert.deepEqual(supervisor.deployment('a', 'web')?.getSnapshot().value, { succeeded: { baking: 'healthy' } });
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'u1', revision: 2, updated: 2, available: 1, crashing: 1, at: 110_000 }));
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'u1', revision: 2, updated: 2, available: 1, crashing: 1, at: 170_000 }));
    supervisor.stop();
    assert.deepEqual(sent.map((x) => `${x.change}/${x.notification.view.phase}/${x.notification.channel}`), ['degraded/degraded/deploys']);
    assert.deepEqual(degraded, ['Deployment']);
  });

  it('reaps the actor of a deleted Deployment, and reports a rollout it interrupted', () => {
    const { supervisor, sent } = start();
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'u1', revision: 3, updated: 1, available: 2, old: 2, at: 1 }));
    supervisor.deploymentDeleted({ namespace: 'a', name: 'web', uid: 'u1' }, 7);
    assert.equal(supervisor.deploymentCount, 0);
    assert.equal(supervisor.deployment('a', 'web'), undefined);
    assert.deepEqual(sent.map((s) => s.notification.view.phase), ['progressing', 'deleted']);
    // A Deployment of the same name created later gets a fresh actor.
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'u9', revision: 1, updated: 2, available: 2, at: 9 }));
    assert.equal(supervisor.deploymentCount, 1);
  });

  it('ignores a deletion of an older incarnation', () => {
    const { supervisor } = start();
    supervisor.observe(observation({ namespace: 'a', name: 'web', uid: 'new', revision: 1, updated: 2, available: 2, at: 1 }));
    supervisor.deploymentDeleted({ namespace: 'a', name: 'web', uid: 'old' }, 2);
    assert.equal(supervisor.deploymentCount, 1);
  });

  it('stops tracking every Deployment of an untracked namespace, and only those', () => {
    const { supervisor, sent } = start();
    supervisor.observe(observation({ namespace: 'a', name: 'one', uid: 'u1', revision: 2, updated: 1, available: 2, old: 2, at: 1 }));
    supervisor.observe(observation({ namespace: 'a', name: 'two', uid: 'u2', revision: 1, updated: 2, available: 2, at: 1 }));
    supervisor.observe(observation({ namespace: 'b', name: 'three', uid: 'u3', revision: 1, updated: 2, available: 2, at: 1 }));
    supervisor.namespaceUntracked('a', 3);
    assert.equal(supervisor.deploymentCount, 1);
    assert.ok(supervisor.deployment('b', 'three'));
    assert.deepEqual(sent.map((s) => `${s.notification.view.deployment}:${s.notification.view.phase}`), ['one:progressing', 'one:untracked']);
  });

  it('marks rollouts seen in the initial list as adopted, and new Deployments seen live as not', () => {
    const { supervisor, sent } = start();
    supervisor.observe(observation({ namespace: 'a', name: 'old', uid: 'u1', revision: 1, updated: 1, available: 1, at: 1 }));
    supervisor.synced();
    supervisor.observe(observation({ namespace: 'a', name: 'new', uid: 'u2', revision: 1, updated: 0, available: 0, at: 2 }));
    assert.deepEqual(
      sent.map((s) => `${s.notification.view.deployment}:${s.notification.view.adopted}`),
      ['old:true', 'new:false'],
    );
  });
});
