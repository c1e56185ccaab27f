import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor } from 'xstate';
import { deploymentMachine } from '../../src/machines/deploymentMachine.js';
import { GRACE, startDeployment } from '../support/deploymentActor.js';
import { observation } from '../support/observations.js';

/** The shared actor, its updates as `change:revision:phase`. */
function start() {
  const t = startDeployment();
  const phases = () => t.changes.map((c) => `${c.change}:${c.notification.view.revision}:${c.notification.view.phase}`);
  return { ...t, phases };
}

describe('deploymentMachine', () => {
  it('stays silent for a Deployment that is complete when first seen', () => {
    const t = start();
    t.observe({ revision: 3, updated: 2, available: 2, at: 1 });
    assert.equal(t.actor.getSnapshot().value, 'idle');
    assert.deepEqual(t.phases(), []);
    assert.equal(t.actor.getSnapshot().context.revision, 3);
  });

  it('reports a rollout from start to success', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 2, updated: 0, available: 2, old: 2, at: 1000 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 2000 });
    t.observe({ revision: 2, updated: 2, available: 2, old: 0, at: 5000 });
    assert.deepEqual(t.phases(), ['started:2:progressing', 'updated:2:progressing', 'ended:2:succeeded']);
    const last = t.changes.at(-1)!.notification.view;
    assert.equal(last.previousRevision, 1);
    assert.equal(last.startedAt, 1000);
    assert.equal(last.endedAt, 5000);
    assert.deepEqual(t.actor.getSnapshot().value, { succeeded: 'baked' });
    assert.equal(t.actor.getSnapshot().context.rollout, null);
  });

  it('does not treat a scale-only change as a rollout', () => {
    const t = start();
    t.observe({ revision: 4, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 4, replicas: 5, updated: 2, available: 2, at: 2 });
    t.observe({ revision: 4, replicas: 5, updated: 5, available: 5, at: 3 });
    assert.deepEqual(t.phases(), []);
  });

  it('ignores observations that change nothing a message shows', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 10 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 20 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 30 });
    assert.deepEqual(t.phases(), ['started:2:progressing']);
  });

  it('stays silent for a Deployment whose rollout already exceeded its deadline when first seen', () => {
    // Regression: a restarted Hermod re-announced every long-failed rollout in the cluster as a new failure.
    const t = start();
    t.observe({ revision: 4, updated: 1, available: 2, old: 2, crashing: 1, deadlineExceeded: true, at: 1 });
    assert.equal(t.actor.getSnapshot().value, 'idle');
    assert.deepEqual(t.phases(), []);
    assert.equal(t.actor.getSnapshot().context.revision, 4);
    // The next revision (the fix) is a rollout as usual.
    t.observe({ revision: 5, updated: 0, available: 2, old: 3, at: 2 });
    t.observe({ revision: 5, updated: 2, available: 2, at: 3 });
    assert.deepEqual(t.phases(), ['started:5:progressing', 'ended:5:succeeded']);
    assert.equal(t.changes[0]!.notification.view.previousRevision, 4);
  });

  it('adopts a rollout already under way when first seen', () => {
    const t = start();
    t.observe({ revision: 7, updated: 1, available: 1, old: 1, at: 1 });
    assert.deepEqual(t.phases(), ['started:7:progressing']);
    assert.equal(t.changes[0]!.notification.view.adopted, true);
    t.observe({ revision: 7, updated: 2, available: 2, at: 2 });
    assert.deepEqual(t.phases(), ['started:7:progressing', 'ended:7:succeeded']);
  });

  it('does not call a Deployment created while watching "adopted" (regression: the demo labelled every new Deployment adopted)', () => {
    const t = start();
    t.observe({ revision: 1, updated: 0, available: 0, at: 5 });
    assert.equal(t.changes[0]!.notification.view.adopted, false);
    assert.equal(t.changes[0]!.notification.view.startedAt, 5);
  });

  it('adopts a first rollout that was under way in the initial list', () => {
    const t = start();
    t.actor.send({ type: 'deployment.observed', observation: observation({ revision: 1, updated: 1, available: 1, at: 5 }), initial: true });
    assert.equal(t.changes[0]!.notification.view.adopted, true);
  });

  it('reports failed when the progress deadline is exceeded', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 10 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, deadlineExceeded: true, at: 600_010 });
    assert.deepEqual(t.phases(), ['started:2:progressing', 'ended:2:failed']);
    assert.equal(t.actor.getSnapshot().value, 'failed');
  });

  it('turns failing after the grace period when every new pod crash-loops, then fails at the deadline', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, at: 10 });
    assert.deepEqual(t.actor.getSnapshot().value, { active: 'stalled' });
    assert.deepEqual(t.phases(), ['started:2:progressing']);
    t.clock.increment(GRACE);
    assert.deepEqual(t.actor.getSnapshot().value, { active: 'failing' });
    const failing = t.changes.at(-1)!.notification.view;
    assert.equal(failing.phase, 'failing');
    assert.ok(failing.diagnosis.problems.some((p) => p.reason === 'CrashLoopBackOff'), JSON.stringify(failing.diagnosis));
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, deadlineExceeded: true, at: 600_010 });
    assert.deepEqual(t.phases(), ['started:2:progressing', 'updated:2:failing', 'ended:2:failed']);
  });

  it('goes failing on an observation past the grace period even without the timer', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, at: 10 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, at: 10 + GRACE });
    assert.deepEqual(t.actor.getSnapshot().value, { active: 'failing' });
  });

  it('recovers from stalled when the pods heal before the grace period, and succeeds', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, crashing: 1, at: 10 });
    t.clock.increment(GRACE / 2);
    t.observe({ revision: 2, updated: 1, available: 3, old: 2, at: 20 });
    assert.deepEqual(t.actor.getSnapshot().value, { active: 'progressing' });
    t.clock.increment(GRACE);
    assert.deepEqual(t.actor.getSnapshot().value, { active: 'progressing' });
    t.observe({ revision: 2, updated: 2, available: 2, at: 30 });
    assert.ok(!t.phases().some((p) => p.endsWith('failing')));
    assert.equal(t.phases().at(-1), 'ended:2:succeeded');
  });

  it('supersedes a rollout when a newer revision starts before it finished', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 10 });
    t.observe({ revision: 3, updated: 0, available: 2, old: 3, at: 20 });
    assert.deepEqual(t.phases(), ['started:2:progressing', 'ended:2:superseded', 'started:3:progressing']);
    assert.equal(t.changes[1]!.notification.view.supersededBy, 3);
    assert.notEqual(t.changes[1]!.notification.rolloutId, t.changes[2]!.notification.rolloutId);
  });

  it('starts and finishes at once when the first sight of a new revision is already complete', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 2, updated: 2, available: 2, at: 10 });
    assert.deepEqual(t.phases(), ['started:2:progressing', 'ended:2:succeeded']);
  });

  it('reports a paused rollout and resumes it', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 10 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, paused: true, at: 20 });
    assert.deepEqual(t.actor.getSnapshot().value, { active: 'paused' });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 30 });
    t.observe({ revision: 2, updated: 2, available: 2, at: 40 });
    assert.deepEqual(t.phases(), ['started:2:progressing', 'updated:2:paused', 'updated:2:progressing', 'ended:2:succeeded']);
  });

  it('ends the rollout as deleted when the Deployment is deleted mid-rollout', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 10 });
    t.actor.send({ type: 'deployment.deleted', uid: 'uid-web', at: 50 });
    assert.deepEqual(t.phases(), ['started:2:progressing', 'ended:2:deleted']);
    assert.equal(t.actor.getSnapshot().status, 'done');
  });

  it('ends the rollout as untracked when the namespace annotation is removed', () => {
    const t = start();
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 10 });
    t.actor.send({ type: 'tracking.stopped', at: 50 });
    assert.deepEqual(t.phases(), ['started:2:progressing', 'ended:2:untracked']);
    assert.equal(t.actor.getSnapshot().status, 'done');
  });

  it('treats a re-created Deployment (new uid) as a new incarnation', () => {
    const t = start();
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 10 });
    t.observe({ uid: 'uid-web-2', revision: 1, updated: 0, available: 0, at: 20 });
    assert.deepEqual(t.phases(), ['started:2:progressing', 'ended:2:deleted', 'started:1:progressing']);
    assert.equal(t.actor.getSnapshot().context.uid, 'uid-web-2');
  });

  it('announces a Deployment created while watching (no revision, then revision 1)', () => {
    const t = start();
    t.observe({ revision: null, updated: 0, available: 0, at: 1 });
    t.observe({ revision: 1, updated: 0, available: 0, at: 2 });
    t.observe({ revision: 1, updated: 2, available: 2, at: 3 });
    assert.deepEqual(t.phases(), ['started:1:progressing', 'ended:1:succeeded']);
  });

  it('survives a Deployment with no conditions and no status (the original crashed)', () => {
    const t = start();
    const o = observation({ revision: 2, at: 1 });
    o.deployment.status.conditions = [];
    t.actor.send({ type: 'deployment.observed', observation: o });
    assert.equal(t.actor.getSnapshot().status, 'active');
    assert.deepEqual(t.phases(), ['started:2:progressing']);
  });

  it('keeps the channel the rollout started with and follows alert-level changes', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, channel: 'a', at: 10 });
    t.observe({ revision: 2, updated: 2, available: 2, channel: 'b', alert: 'failure', at: 20 });
    const ended = t.changes.at(-1)!.notification;
    assert.equal(ended.channel, 'a');
    assert.equal(ended.alert, 'failure');
  });

  it('carries the latest mentions in the view, so a fix of the annotation reaches the rollout in flight (issue 13)', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, channel: 'a', at: 10 });
    assert.equal(t.changes.at(-1)!.notification.view.mentions, undefined);
    // Only the mentions changed: still a change of what a failure message would show.
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, channel: 'b', mentions: ['<@U012AB3CD>'], at: 20 });
    const updated = t.changes.at(-1)!;
    assert.equal(updated.change, 'updated');
    assert.deepEqual(updated.notification.view.mentions, ['<@U012AB3CD>']);
    assert.equal(updated.notification.channel, 'a', 'the channel stays the one the rollout started in');
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 30 });
    assert.equal(t.changes.at(-1)!.notification.view.mentions, undefined, 'an annotation removed: no mention');
  });

  it('has a small, serialisable context while idle', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 1 });
    const persisted = JSON.stringify(t.actor.getPersistedSnapshot());
    assert.ok(persisted.length < 600, `persisted idle actor is ${persisted.length} bytes`);
    const restored = createActor(deploymentMachine, { input: { key: 'shop/web', failingGraceMs: GRACE }, snapshot: JSON.parse(persisted) });
    restored.start();
    assert.equal(restored.getSnapshot().context.revision, 1);
  });
});
