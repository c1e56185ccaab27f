/**
 * The watch after success (issue 13): for `bakeMs` after a rollout succeeds, the workload
 * statechart watches the new revision's pods; unhealthy for the failing grace period, the
 * success is "degraded" (one `degraded` change, final); a new rollout, a deletion or the end
 * of the window end the watch silently (one `baked` change, the view as it was). One rule per
 * test; the clock is the actor's SimulatedClock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor, SimulatedClock } from 'xstate';
import { deploymentMachine } from '../../src/machines/deploymentMachine.js';
import type { RolloutChangedEvent } from '../../src/machines/deploymentContext.js';
import type { WorkloadKind } from '../../src/machines/facts.js';
import { GRACE, startDeployment } from '../support/deploymentActor.js';
import type { KeptBake } from '../../src/machines/bake.js';
import { observation, workloadObservation, type RolloutStep } from '../support/observations.js';

const BAKE = 300_000;

/** Revision 1 at rest, revision 2 rolled out and complete at t=10 s; observation times follow the clock. */
function succeeded(bakeMs = BAKE, kind: WorkloadKind = 'Deployment') {
  const t = kind === 'Deployment' ? startDeployment({ bakeMs }) : startKind(kind, bakeMs);
  const send = (step: Omit<RolloutStep, 'revision' | 'at'> & { revision?: number }) =>
    t.actor.send({ type: 'deployment.observed', observation: workloadObservation(kind, { revision: 2, ...step, at: t.clock.now() }) });
  const at = (ms: number) => t.clock.increment(ms - t.clock.now());
  t.actor.send({ type: 'deployment.observed', observation: workloadObservation(kind, { revision: 1, updated: 2, available: 2, at: 0 }) });
  at(1_000);
  send({ updated: 0, available: 2, old: 2 });
  at(10_000);
  send({ updated: 2, available: 2 });
  return {
    ...t,
    at,
    /** One new pod crash-loops. */
    crash: () => send({ updated: 2, available: 1, crashing: 1 }),
    /** Both new pods crash-loop. */
    crashBoth: () => send({ updated: 2, available: 0, crashing: 2 }),
    healthy: () => send({ updated: 2, available: 2 }),
    newRevision: () => send({ revision: 3, updated: 0, available: 2, old: 2 }),
    /** `change:phase` of what came after the success. */
    after: () => t.changes.slice(t.changes.findIndex((c) => c.notification.view.phase === 'succeeded') + 1).map((c) => `${c.change}:${c.notification.view.phase}`),
  };
}

function startKind(kind: WorkloadKind, bakeMs: number) {
  const clock = new SimulatedClock();
  const actor = createActor(deploymentMachine, { input: { key: `shop/${kind}/web`, failingGraceMs: GRACE, bakeMs }, clock });
  const changes: RolloutChangedEvent[] = [];
  actor.on('rollout.changed', (e) => changes.push(e));
  actor.start();
  return { actor, clock, changes, state: () => actor.getSnapshot().value, last: () => changes.at(-1)! };
}

describe('the watch after success (bake)', () => {
  it('a bake of 0 watches nothing: the success is final at once, with no bake deadline', () => {
    const t = succeeded(0);
    assert.deepEqual(t.state(), { succeeded: 'baked' });
    assert.equal(t.last().change, 'ended');
    assert.equal(t.last().notification.view.bakeUntil, undefined);
    t.crash();
    t.at(10 * GRACE);
    assert.deepEqual(t.after(), []);
  });

  it('a success that bakes says until when, so delivery keeps its message', () => {
    const t = succeeded();
    assert.deepEqual(t.state(), { succeeded: { baking: 'healthy' } });
    const view = t.last().notification.view;
    assert.equal(t.last().change, 'ended');
    assert.equal(view.phase, 'succeeded');
    assert.equal(view.endedAt, 10_000);
    assert.equal(view.bakeUntil, 10_000 + BAKE);
  });

  it('the window ends quietly: one `baked` change with the same view and no bake deadline', () => {
    const t = succeeded();
    const success = t.last().notification.view;
    t.at(10_000 + BAKE - 1);
    assert.deepEqual(t.after(), []);
    t.at(10_000 + BAKE);
    assert.deepEqual(t.after(), ['baked:succeeded']);
    assert.deepEqual(t.state(), { succeeded: 'baked' });
    assert.deepEqual(t.last().notification.view, { ...success, bakeUntil: null });
  });

  it('an observation past the window ends it too (the timer may not have fired yet)', () => {
    const t = succeeded();
    t.actor.send({ type: 'deployment.observed', observation: workloadObservation('Deployment', { revision: 2, updated: 2, available: 2, at: 10_000 + BAKE }) });
    assert.deepEqual(t.after(), ['baked:succeeded']);
  });

  it('pods unhealthy for the grace period: "succeeded, then degraded", with the reason and when it began', () => {
    const t = succeeded();
    t.at(70_000);
    t.crash();
    assert.deepEqual(t.state(), { succeeded: { baking: 'unhealthy' } });
    assert.deepEqual(t.after(), [], 'nothing before the grace period');
    t.at(70_000 + GRACE);
    assert.deepEqual(t.after(), ['degraded:degraded']);
    assert.deepEqual(t.state(), { succeeded: 'degraded' });
    const view = t.last().notification.view;
    assert.equal(view.endedAt, 10_000, 'the success time stays');
    assert.equal(view.degradedAt, 70_000);
    assert.ok(view.diagnosis.problems.some((p) => p.reason === 'CrashLoopBackOff'));
    assert.ok(view.bakeUntil == null);
  });

  it('an observation past the grace degrades too (the timer may not have fired yet)', () => {
    const t = succeeded();
    t.at(70_000);
    t.crash();
    t.actor.send({ type: 'deployment.observed', observation: workloadObservation('Deployment', { revision: 2, updated: 2, available: 1, crashing: 1, at: 70_000 + GRACE }) });
    assert.deepEqual(t.after(), ['degraded:degraded']);
  });

  it('an observation past the grace degrades to the final state, saying what the latest observation shows', () => {
    const t = succeeded();
    t.at(70_000);
    t.crash();
    const worse = workloadObservation('Deployment', { revision: 2, updated: 2, available: 0, crashing: 2, at: 70_000 + GRACE });
    t.actor.send({ type: 'deployment.observed', observation: worse });
    assert.deepEqual(t.state(), { succeeded: 'degraded' });
    assert.equal(t.last().notification.view.diagnosis.stuckPods, 2);
  });

  it('unhealthy again within the grace: the degradation says what the latest observation shows', () => {
    const t = succeeded();
    t.at(70_000);
    t.crash();
    t.at(80_000);
    t.crashBoth();
    t.at(70_000 + GRACE);
    assert.deepEqual(t.after(), ['degraded:degraded']);
    assert.equal(t.last().notification.view.diagnosis.stuckPods, 2);
  });

  it('pods that recover within the grace: a later degradation counts from the new stall', () => {
    const t = succeeded();
    t.at(70_000);
    t.crash();
    t.at(80_000);
    t.healthy();
    t.at(100_000);
    t.crash();
    t.at(100_000 + GRACE);
    assert.deepEqual(t.after(), ['degraded:degraded']);
    assert.equal(t.last().notification.view.degradedAt, 100_000);
  });

  it('only a success bakes: a failed rollout ends with no bake deadline', () => {
    const t = startDeployment({ bakeMs: BAKE });
    t.actor.send({ type: 'deployment.observed', observation: observation({ revision: 1, updated: 2, available: 2, at: 0 }) });
    t.actor.send({ type: 'deployment.observed', observation: observation({ revision: 2, updated: 1, available: 2, old: 1, at: 1_000 }) });
    t.actor.send({ type: 'deployment.observed', observation: observation({ revision: 2, updated: 1, available: 2, old: 1, deadlineExceeded: true, at: 2_000 }) });
    assert.equal(t.last().notification.view.phase, 'failed');
    assert.equal(t.last().notification.view.bakeUntil, undefined);
  });

  it('the bake ends with the alert level the latest observation names', () => {
    const t = succeeded();
    t.actor.send({ type: 'deployment.observed', observation: workloadObservation('Deployment', { revision: 3, updated: 0, available: 2, old: 2, alert: 'failure', at: t.clock.now() }) });
    const baked = t.changes.find((c) => c.change === 'baked');
    assert.equal(baked?.notification.alert, 'failure');
  });

  it('the deletion of another incarnation does not end the bake', () => {
    const t = succeeded();
    t.actor.send({ type: 'deployment.deleted', uid: 'uid-old', at: t.clock.now() });
    assert.deepEqual(t.after(), []);
    assert.deepEqual(t.state(), { succeeded: { baking: 'healthy' } });
  });

  it('pods that recover within the grace period are no news; the grace starts again', () => {
    const t = succeeded();
    t.at(70_000);
    t.crash();
    t.at(70_000 + GRACE - 1);
    t.healthy();
    assert.deepEqual(t.state(), { succeeded: { baking: 'healthy' } });
    t.at(10_000 + BAKE - GRACE + 10_000);
    t.crash();
    t.at(10_000 + BAKE - 1);
    assert.deepEqual(t.after(), [], 'the second stall has not lasted the grace yet');
    t.at(10_000 + BAKE);
    assert.deepEqual(t.after(), ['baked:succeeded']);
  });

  it('degraded is final for the rollout: no flapping back, nothing more until the next rollout', () => {
    const t = succeeded();
    t.crash();
    t.at(10_000 + GRACE);
    t.healthy();
    t.crash();
    t.at(10_000 + BAKE + GRACE);
    assert.deepEqual(t.after(), ['degraded:degraded']);
    t.newRevision();
    assert.deepEqual(t.after(), ['degraded:degraded', 'started:progressing']);
  });

  it('a new rollout during the bake ends it silently and is reported as usual', () => {
    const t = succeeded();
    t.crash();
    t.newRevision();
    assert.deepEqual(t.after(), ['baked:succeeded', 'started:progressing']);
    assert.equal(t.last().notification.view.revision, 3);
    assert.equal(t.last().notification.view.previousRevision, 2);
    t.at(10_000 + BAKE + GRACE);
    assert.ok(!t.after().includes('degraded:degraded'));
  });

  it('a deletion during the bake ends it silently', () => {
    const t = succeeded();
    t.actor.send({ type: 'deployment.deleted', uid: 'uid-web', at: t.clock.now() });
    assert.deepEqual(t.after(), ['baked:succeeded']);
    assert.equal(t.actor.getSnapshot().status, 'done');
  });

  it('the end of tracking during the bake ends it silently', () => {
    const t = succeeded();
    t.actor.send({ type: 'tracking.stopped', at: t.clock.now() });
    assert.deepEqual(t.after(), ['baked:succeeded']);
    assert.equal(t.actor.getSnapshot().status, 'done');
  });

  it('another incarnation (deleted and re-created) ends the bake and starts afresh', () => {
    const t = succeeded();
    t.actor.send({ type: 'deployment.observed', observation: workloadObservation('Deployment', { uid: 'uid-other', revision: 1, updated: 2, available: 2, at: t.clock.now() }) });
    assert.deepEqual(t.after(), ['baked:succeeded']);
  });

  for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
    it(`a ${kind}'s success is watched alike`, () => {
      const t = succeeded(BAKE, kind);
      assert.equal(t.changes.find((c) => c.change === 'ended')?.notification.view.bakeUntil, 10_000 + BAKE);
      t.crash();
      t.at(10_000 + GRACE);
      assert.deepEqual(t.after(), ['degraded:degraded']);
      assert.equal(t.last().notification.view.kind, kind);
    });
  }
});

/**
 * A restart inside a success's bake window with no warm follower (ADR 0011): the new process's
 * actor sees revision 2 at rest, then delivery's kept record arrives as `bake.resumed`. The
 * success was at t=10 s, its window ends at 10 s + BAKE; Hermod restarts at t=100 s.
 */
describe('a bake resumed after a restart', () => {
  const RESTART = 100_000;
  const kept = (extra: Partial<KeptBake> = {}): KeptBake => ({
    rolloutId: 'uid-web/2',
    channel: 'deploys',
    bakeUntil: 10_000 + BAKE,
    startedAt: 1_000,
    succeededAt: 10_000,
    previousRevision: 1,
    adopted: false,
    ...extra,
  });
  /** Revision 2 as the controller reports it after its success, one new pod crash-looping since. */
  const rolledOutCrashing = (at: number) => {
    const o = observation({ revision: 2, updated: 2, available: 1, crashing: 1, at });
    o.deployment.status.conditions = [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "web-rs2" has successfully progressed.' }];
    return o;
  };

  function restarted(first = observation({ revision: 2, updated: 2, available: 2, at: RESTART })) {
    const t = startDeployment({ bakeMs: BAKE });
    t.clock.increment(RESTART);
    t.actor.send({ type: 'deployment.observed', observation: first, initial: true });
    const at = (ms: number) => t.clock.increment(ms - t.clock.now());
    const resume = (bake = kept(), o = observation({ revision: 2, updated: 2, available: 2, at: t.clock.now() })) => t.actor.send({ type: 'bake.resumed', bake, observation: o });
    const send = (step: Omit<RolloutStep, 'at'>) => t.actor.send({ type: 'deployment.observed', observation: observation({ ...step, at: t.clock.now() }) });
    return { ...t, at, resume, send, crash: () => send({ revision: 2, updated: 2, available: 1, crashing: 1 }) };
  }

  it('resumes for the rest of the window, silently: the message already shows the success', () => {
    const t = restarted();
    assert.deepEqual(t.state(), 'idle');
    t.resume();
    assert.deepEqual(t.state(), { succeeded: { baking: 'healthy' } });
    assert.deepEqual(t.phases(), []);
  });

  it('the window is the success\'s, not a fresh one: it ends quietly at bakeUntil', () => {
    const t = restarted();
    t.resume();
    t.at(10_000 + BAKE - 1);
    assert.deepEqual(t.phases(), []);
    t.at(10_000 + BAKE);
    assert.deepEqual(t.phases(), ['baked:succeeded']);
    assert.equal(t.last().notification.view.bakeUntil, null);
    assert.equal(t.last().notification.channel, 'deploys');
  });

  it('a crash-loop after the restart degrades the success, saying what the success said (start, end, previous revision)', () => {
    const t = restarted();
    t.resume();
    t.at(RESTART + 5_000);
    t.crash();
    t.at(RESTART + 5_000 + GRACE);
    assert.deepEqual(t.phases(), ['degraded:degraded']);
    const view = t.last().notification.view;
    assert.equal(view.rolloutId, 'uid-web/2');
    assert.equal(view.startedAt, 1_000);
    assert.equal(view.endedAt, 10_000);
    assert.equal(view.previousRevision, 1);
    assert.equal(view.adopted, false);
    assert.equal(view.degradedAt, RESTART + 5_000);
    assert.ok(view.diagnosis.problems.some((p) => p.reason === 'CrashLoopBackOff'));
  });

  it('pods already crash-looping at the restart: seen at rest (not a rollout to adopt), then degraded once resumed', () => {
    const t = restarted(rolledOutCrashing(RESTART));
    assert.deepEqual(t.state(), 'idle');
    assert.deepEqual(t.phases(), [], 'no adopted "rolling out" for a revision that rolled out already');
    t.resume(kept(), rolledOutCrashing(RESTART));
    assert.deepEqual(t.state(), { succeeded: { baking: 'unhealthy' } });
    t.at(RESTART + GRACE);
    assert.deepEqual(t.phases(), ['degraded:degraded']);
  });

  it('a kept bake whose window is over does not resume', () => {
    const t = restarted();
    t.resume(kept({ bakeUntil: RESTART }));
    assert.deepEqual(t.state(), 'idle');
    t.crash();
    t.at(RESTART + 10 * GRACE);
    assert.deepEqual(t.phases(), []);
  });

  it('a workload that rolled again (another revision) does not resume the old bake', () => {
    const t = restarted(observation({ revision: 3, updated: 2, available: 2, at: RESTART }));
    t.resume(kept(), observation({ revision: 3, updated: 2, available: 2, at: RESTART }));
    assert.deepEqual(t.state(), 'idle');
  });

  it('a workload that rolled again after the first sight does not resume it either (the actor is past idle)', () => {
    const t = restarted();
    t.send({ revision: 3, updated: 0, available: 2, old: 2 });
    t.resume();
    assert.deepEqual(t.state(), { active: 'progressing' });
    assert.deepEqual(t.phases(), ['started:progressing']);
  });

  it('a new rollout during the resumed bake ends it silently and is reported as usual', () => {
    const t = restarted();
    t.resume();
    t.send({ revision: 3, updated: 0, available: 2, old: 2 });
    assert.deepEqual(t.phases(), ['baked:succeeded', 'started:progressing']);
  });

  it('a bake of 0 (the flag turned off across the restart) resumes nothing', () => {
    const t = startDeployment({ bakeMs: 0 });
    t.clock.increment(RESTART);
    t.actor.send({ type: 'deployment.observed', observation: observation({ revision: 2, updated: 2, available: 2, at: RESTART }), initial: true });
    t.actor.send({ type: 'bake.resumed', bake: kept(), observation: observation({ revision: 2, updated: 2, available: 2, at: RESTART }) });
    assert.deepEqual(t.actor.getSnapshot().value, 'idle');
  });
});
