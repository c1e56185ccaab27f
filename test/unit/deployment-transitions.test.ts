/**
 * The transitions of the Deployment statechart, one rule per test (issue 15): what each
 * transition tells Slack (the phase of the update it emits), what a verdict reads from the
 * last observation, which incarnation a deletion concerns, and what the guards answer to
 * events that are not observations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventFacts, RolloutObservation } from '../../src/machines/facts.js';
import { deploymentMachine } from '../../src/machines/deploymentMachine.js';
import type { DeploymentContext, DeploymentEvent } from '../../src/machines/deploymentContext.js';
import { GRACE, startDeployment } from '../support/deploymentActor.js';
import { observation, type RolloutStep } from '../support/observations.js';

const start = startDeployment;

/** Revision 1 at rest, then revision 2 rolling out (one of two new Pods updated). */
function rollingOut() {
  const t = start();
  t.observe({ revision: 1, updated: 2, available: 2, at: 0 });
  t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 1_000 });
  return t;
}

/** Revision 2 with every new Pod stuck, for `crashing` Pods. */
const stuck = (at: number, crashing = 1): RolloutStep => ({ revision: 2, updated: crashing, available: 2, old: 2, crashing, at });
const healthy = (at: number): RolloutStep => ({ revision: 2, updated: 1, available: 2, old: 2, at });
const paused = (at: number, crashing = 1): RolloutStep => ({ ...stuck(at, crashing), paused: true });

describe('what each transition tells Slack', () => {
  it('progressing → stalled: an orange update that already shows the crash loop', () => {
    const t = rollingOut();
    t.observe(stuck(2_000));
    assert.deepEqual(t.state(), { active: 'stalled' });
    assert.equal(t.last().change, 'updated');
    assert.equal(t.last().notification.view.phase, 'progressing');
    assert.deepEqual(
      t.last().notification.view.diagnosis.problems.map((p) => p.reason),
      ['CrashLoopBackOff'],
    );
  });

  it('stalled, still stuck but changed: an orange update', () => {
    const t = rollingOut();
    t.observe(stuck(2_000, 1));
    t.observe(stuck(3_000, 2));
    assert.deepEqual(t.state(), { active: 'stalled' });
    assert.deepEqual(t.phases().slice(-2), ['updated:progressing', 'updated:progressing']);
    assert.equal(t.last().notification.view.diagnosis.stuckPods, 2);
  });

  it('stalled → progressing (healed): an orange update without the problem', () => {
    const t = rollingOut();
    t.observe(stuck(2_000));
    t.observe(healthy(3_000));
    assert.deepEqual(t.state(), { active: 'progressing' });
    assert.equal(t.last().notification.view.phase, 'progressing');
    assert.deepEqual(t.last().notification.view.diagnosis.problems, []);
  });

  it('stalled → paused: a paused update', () => {
    const t = rollingOut();
    t.observe(stuck(2_000));
    t.observe(paused(3_000));
    assert.deepEqual(t.state(), { active: 'paused' });
    assert.equal(t.phases().at(-1), 'updated:paused');
  });

  it('failing, still stuck but changed: a red update', () => {
    const t = rollingOut();
    t.observe(stuck(2_000, 1));
    t.clock.increment(GRACE);
    assert.deepEqual(t.state(), { active: 'failing' });
    t.observe(stuck(GRACE + 3_000, 2));
    assert.deepEqual(t.state(), { active: 'failing' });
    assert.equal(t.phases().at(-1), 'updated:failing');
    assert.equal(t.last().notification.view.diagnosis.stuckPods, 2);
  });

  it('failing → progressing (healed): an orange update', () => {
    const t = rollingOut();
    t.observe(stuck(2_000));
    t.clock.increment(GRACE);
    t.observe(healthy(GRACE + 3_000));
    assert.deepEqual(t.state(), { active: 'progressing' });
    assert.equal(t.phases().at(-1), 'updated:progressing');
  });

  it('failing → paused: a paused update', () => {
    const t = rollingOut();
    t.observe(stuck(2_000));
    t.clock.increment(GRACE);
    t.observe(paused(GRACE + 3_000));
    assert.deepEqual(t.state(), { active: 'paused' });
    assert.equal(t.phases().at(-1), 'updated:paused');
  });

  it('paused, still paused but changed: a paused update', () => {
    const t = rollingOut();
    t.observe({ ...healthy(2_000), paused: true });
    t.observe({ revision: 2, updated: 2, available: 2, old: 1, paused: true, at: 3_000 });
    assert.deepEqual(t.state(), { active: 'paused' });
    assert.deepEqual(t.phases(), ['started:progressing', 'updated:paused', 'updated:paused']);
    assert.equal(t.last().notification.view.progress.updated, 2);
  });

  it('paused → progressing (resumed): an orange update', () => {
    const t = rollingOut();
    t.observe({ ...healthy(2_000), paused: true });
    t.observe(healthy(3_000));
    assert.equal(t.phases().at(-1), 'updated:progressing');
  });
});

describe('first sight of a Deployment', () => {
  it('a Deployment without a revision yet is at rest, and remembered by its uid', () => {
    const t = start();
    t.observe({ revision: null, at: 0 });
    assert.equal(t.state(), 'idle');
    assert.equal(t.actor.getSnapshot().context.uid, 'uid-web');
    // A deletion of another incarnation does not concern it.
    t.actor.send({ type: 'deployment.deleted', uid: 'uid-other', at: 1 });
    assert.equal(t.actor.getSnapshot().status, 'active');
  });

  it('a rollout adopted mid-way is examined at once: already stuck means stalled', () => {
    const t = start();
    t.observe({ ...stuck(0), revision: 7 });
    assert.deepEqual(t.state(), { active: 'stalled' });
  });

  it('a rollout adopted mid-way while paused is paused at once', () => {
    const t = start();
    t.observe({ revision: 7, updated: 1, available: 2, old: 2, paused: true, at: 0 });
    assert.deepEqual(t.state(), { active: 'paused' });
    assert.deepEqual(t.phases(), ['started:progressing', 'updated:paused']);
  });
});

describe('after a verdict', () => {
  it('after success, a new revision starts a new rollout', () => {
    const t = rollingOut();
    t.observe({ revision: 2, updated: 2, available: 2, at: 2_000 });
    assert.deepEqual(t.state(), { succeeded: 'baked' });
    t.observe({ revision: 3, updated: 1, available: 2, old: 2, at: 3_000 });
    assert.deepEqual(t.state(), { active: 'progressing' });
    assert.deepEqual(t.phases().slice(-1), ['started:progressing']);
    assert.equal(t.last().notification.view.previousRevision, 2);
  });

  it('after failure, a new revision starts a new rollout', () => {
    const t = rollingOut();
    t.observe({ ...stuck(600_000), deadlineExceeded: true });
    assert.equal(t.state(), 'failed');
    t.observe({ revision: 3, updated: 1, available: 2, old: 2, at: 601_000 });
    assert.deepEqual(t.state(), { active: 'progressing' });
    assert.equal(t.last().notification.view.revision, 3);
  });

  it('after success, the same revision stays silent', () => {
    const t = rollingOut();
    t.observe({ revision: 2, updated: 2, available: 2, at: 2_000 });
    const n = t.changes.length;
    t.observe({ revision: 2, updated: 2, available: 2, replicas: 2, at: 3_000 });
    assert.equal(t.changes.length, n);
    assert.deepEqual(t.state(), { succeeded: 'baked' });
  });

  it('after success, a re-created Deployment is a new incarnation with no previous revision', () => {
    const t = rollingOut();
    t.observe({ revision: 2, updated: 2, available: 2, at: 2_000 });
    t.observe({ uid: 'uid-web-2', revision: 1, updated: 0, available: 0, at: 3_000 });
    assert.deepEqual(t.state(), { active: 'progressing' });
    assert.equal(t.actor.getSnapshot().context.uid, 'uid-web-2');
    assert.equal(t.last().notification.view.previousRevision, null);
    assert.equal(t.last().notification.view.adopted, false);
  });

  it('while idle, a deletion of this Deployment ends the actor silently', () => {
    const t = start();
    t.observe({ revision: 3, updated: 2, available: 2, at: 0 });
    t.actor.send({ type: 'deployment.deleted', uid: 'uid-web', at: 1 });
    assert.equal(t.actor.getSnapshot().status, 'done');
    assert.deepEqual(t.changes, []);
  });

  it('before any observation, a deletion ends the actor (nothing to compare the uid with)', () => {
    const t = start();
    t.actor.send({ type: 'deployment.deleted', uid: 'uid-any', at: 1 });
    assert.equal(t.actor.getSnapshot().status, 'done');
  });

  it('while idle, a deletion of an older incarnation is ignored', () => {
    const t = start();
    t.observe({ revision: 3, updated: 2, available: 2, at: 0 });
    t.actor.send({ type: 'deployment.deleted', uid: 'uid-old', at: 1 });
    assert.equal(t.actor.getSnapshot().status, 'active');
    assert.equal(t.state(), 'idle');
  });

  it('mid-rollout, a deletion of an older incarnation is ignored', () => {
    const t = rollingOut();
    t.actor.send({ type: 'deployment.deleted', uid: 'uid-old', at: 2_000 });
    assert.deepEqual(t.state(), { active: 'progressing' });
    assert.deepEqual(t.phases(), ['started:progressing']);
  });
});

describe('the last word of a rollout', () => {
  it('success is read from the last observation: its progress and kubectl\'s sentence', () => {
    const t = rollingOut();
    t.observe({ revision: 2, updated: 2, available: 2, at: 2_000 });
    const view = t.last().notification.view;
    assert.equal(view.phase, 'succeeded');
    assert.deepEqual(view.progress, { desired: 2, updated: 2, ready: 2, available: 2, old: 0 });
    assert.equal(view.detail, 'deployment "web" successfully rolled out');
    assert.equal(view.supersededBy, null);
    assert.equal(view.endedAt, 2_000);
  });

  it('failure is read from the last observation: kubectl\'s deadline sentence', () => {
    const t = rollingOut();
    t.observe({ revision: 2, updated: 2, available: 1, old: 1, deadlineExceeded: true, at: 600_000 });
    const view = t.last().notification.view;
    assert.equal(view.phase, 'failed');
    assert.equal(view.detail, 'deployment "web" exceeded its progress deadline');
    assert.equal(view.progress.updated, 2);
    assert.equal(view.supersededBy, null);
  });

  it('superseded keeps the last view of the old revision and names the new one', () => {
    const t = rollingOut();
    t.observe({ revision: 3, updated: 0, available: 2, old: 3, at: 2_000 });
    const ended = t.changes.find((c) => c.change === 'ended')!.notification.view;
    assert.equal(ended.phase, 'superseded');
    assert.equal(ended.revision, 2);
    assert.equal(ended.supersededBy, 3);
    assert.equal(ended.progress.updated, 1);
  });

  it('deleted by a new incarnation keeps the last view and names no successor', () => {
    const t = rollingOut();
    t.observe({ uid: 'uid-web-2', revision: 1, updated: 0, available: 0, at: 2_000 });
    const ended = t.changes.find((c) => c.change === 'ended')!.notification.view;
    assert.equal(ended.phase, 'deleted');
    assert.equal(ended.revision, 2);
    assert.equal(ended.supersededBy, null);
    assert.equal(ended.endedAt, 2_000);
  });

  it('a view without a new ReplicaSet yet names none', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 0 });
    const o = observation({ revision: 2, updated: 0, available: 2, old: 2, at: 1_000 });
    t.actor.send({ type: 'deployment.observed', observation: { ...o, newReplicaSet: null } });
    assert.equal(t.last().notification.view.replicaSet, null);
    t.observe({ revision: 2, updated: 1, available: 2, old: 2, at: 2_000 });
    assert.equal(t.last().notification.view.replicaSet, 'web-rs2');
  });

  it('Warning events from before the rollout started are not this rollout\'s problems', () => {
    const t = start();
    t.observe({ revision: 1, updated: 2, available: 2, at: 0 });
    const o = observation({ revision: 2, updated: 1, available: 2, old: 2, at: 5_000 });
    const warning = (lastSeen: number, reason: string): EventFacts => ({
      namespace: 'shop',
      involvedKind: 'ReplicaSet',
      involvedName: 'web-rs2',
      reason,
      message: `${reason} happened`,
      count: 1,
      lastSeen,
    });
    const withEvents: RolloutObservation = { ...o, warnings: [warning(4_999, 'Before'), warning(5_000, 'AtStart')] };
    t.actor.send({ type: 'deployment.observed', observation: withEvents });
    assert.deepEqual(
      t.last().notification.view.diagnosis.problems.map((p) => p.reason),
      ['AtStart'],
    );
  });
});

describe('guards are asked only about their own event (an invariant, loud when broken)', () => {
  const guards = deploymentMachine.implementations.guards as unknown as Record<
    string,
    (args: { context: DeploymentContext; event: DeploymentEvent }, params?: unknown) => boolean
  >;
  const context: DeploymentContext = {
    key: 'shop/web',
    uid: 'uid-web',
    revision: 1,
    failingGraceMs: GRACE,
    bakeMs: 0,
    rollout: null,
  };
  const notObservations: DeploymentEvent[] = [
    { type: 'deployment.deleted', uid: 'uid-web', at: 1 },
    { type: 'tracking.stopped', at: 1 },
  ];
  const observationGuards = ['hasNoRevision', 'isOtherIncarnation', 'hasNewRevision', 'isComplete', 'isDeadlineExceeded', 'isPaused', 'isFailing', 'isStuckPastGrace', 'isCompleteWithBake'];
  const bakeGuards = ['isBakeOver', 'isUnhealthy', 'isDegraded'];
  // A success baking since t=0.
  const bakingContext: DeploymentContext = {
    ...context,
    bakeMs: 300_000,
    rollout: { channel: 'deploys', alert: 'all', stuckSince: 0, view: { startedAt: 0, endedAt: 0 } as never },
  };
  for (const name of bakeGuards) {
    it(`${name} refuses a deletion or the end of tracking`, () => {
      for (const event of notObservations) assert.throws(() => guards[name]!({ context: bakingContext, event }), /deployment\.observed/, `${name} on ${event.type}`);
    });
  }

  // Mid-rollout, stuck since t=0: every guard has what it needs but an observation.
  const midRollout: DeploymentContext = {
    ...context,
    rollout: { channel: 'deploys', alert: 'all', stuckSince: 0, view: { startedAt: 0 } as never },
  };
  for (const name of observationGuards) {
    it(`${name} refuses a deletion or the end of tracking`, () => {
      for (const c of [context, midRollout]) {
        for (const event of notObservations) assert.throws(() => guards[name]!({ context: c, event }), /deployment\.observed/, `${name} on ${event.type}`);
      }
    });
  }

  it('isOtherIncarnation: nothing seen yet (no uid) is no other incarnation', () => {
    const event: DeploymentEvent = { type: 'deployment.observed', observation: observation({ uid: 'uid-x', revision: 1, at: 1 }) };
    assert.equal(guards['isOtherIncarnation']!({ context: { ...context, uid: null }, event }), false);
    assert.equal(guards['isOtherIncarnation']!({ context, event }), true);
  });

  it('isStuckPastGrace: never without a stall on record', () => {
    const event: DeploymentEvent = { type: 'deployment.observed', observation: observation({ ...stuck(10 * GRACE) }) };
    const rollout = { channel: 'deploys', alert: 'all' as const, stuckSince: null, view: { startedAt: 0 } as never };
    assert.equal(guards['isStuckPastGrace']!({ context: { ...context, rollout }, event }), false);
    assert.equal(guards['isStuckPastGrace']!({ context: { ...context, rollout: { ...rollout, stuckSince: 0 } }, event }), true);
  });

  it('isCurrentIncarnation refuses anything but a deletion', () => {
    for (const event of [{ type: 'tracking.stopped', at: 1 } as const, { type: 'deployment.observed', observation: observation({ uid: 'uid-x', revision: 1, at: 1 }) } as const]) {
      assert.throws(() => guards['isCurrentIncarnation']!({ context, event }), /deployment\.deleted/);
    }
  });
});
