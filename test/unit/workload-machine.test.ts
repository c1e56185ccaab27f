/**
 * The workload statechart with StatefulSets and DaemonSets, one scenario each (issue 11), and
 * how their messages read: the kind named, the partition, the pod a StatefulSet waits on,
 * Hermod's deadline, OnDelete.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor, SimulatedClock } from 'xstate';
import { deploymentMachine } from '../../src/machines/deploymentMachine.js';
import type { RolloutChangedEvent } from '../../src/machines/deploymentContext.js';
import type { WorkloadKind } from '../../src/machines/facts.js';
import { renderRollout } from '../../src/machines/message.js';
import { workloadObservation, type RolloutStep } from '../support/observations.js';
import { opts, view } from '../support/rolloutViews.js';

function start(kind: WorkloadKind, first: RolloutStep, initial = false) {
  const clock = new SimulatedClock();
  const actor = createActor(deploymentMachine, { input: { key: `shop/${kind}/web`, failingGraceMs: 60_000 }, clock });
  const changes: RolloutChangedEvent[] = [];
  actor.on('rollout.changed', (e) => changes.push(e));
  actor.start();
  let step = first;
  const observe = (change: Partial<RolloutStep>) => {
    step = { ...step, ...change };
    actor.send({ type: 'deployment.observed', observation: workloadObservation(kind, step), initial });
  };
  observe({});
  const phases = () => changes.map((c) => `${c.change}:${c.notification.view.revision}:${c.notification.view.phase}`);
  return { actor, clock, changes, observe, phases };
}

const AT_REST: RolloutStep = { revision: 1, replicas: 3, updated: 3, available: 3, at: 1 };

for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
  describe(`${kind} rollouts`, () => {
    it('a workload at rest when Hermod starts is not announced; scaling it is not a rollout', () => {
      const t = start(kind, AT_REST, true);
      t.observe({ replicas: 5, updated: 3, available: 3, at: 2 });
      t.observe({ replicas: 5, updated: 5, available: 5, at: 3 });
      assert.deepEqual(t.phases(), []);
      assert.equal(t.actor.getSnapshot().value, 'idle');
    });

    it('a new revision starts a rollout that succeeds as kubectl says', () => {
      const t = start(kind, AT_REST);
      t.observe({ revision: 2, updated: 0, old: 3, at: 2 });
      t.observe({ updated: 2, old: 1, at: 3 });
      t.observe({ updated: 3, old: 0, at: 4 });
      assert.deepEqual(t.phases(), ['started:2:progressing', 'updated:2:progressing', 'ended:2:succeeded']);
      const last = t.changes.at(-1)!.notification.view;
      assert.equal(last.kind, kind);
      assert.equal(last.previousRevision, 1);
      assert.match(renderRollout(last, opts()).text, new RegExp(`Rollout of ${kind} \`web\` \\(revision 2\\) in \`shop\` on \`prod\` succeeded`));
    });

    it("a rollout that does not finish fails at Hermod's deadline, with no observation needed", () => {
      const t = start(kind, { ...AT_REST, deadlineSeconds: 30 });
      t.observe({ revision: 2, updated: 1, old: 2, crashing: 1, available: 2, at: 2 });
      t.clock.increment(29_999);
      assert.equal(t.changes.at(-1)?.notification.view.phase, 'progressing');
      t.clock.increment(1);
      const end = t.changes.at(-1)!;
      assert.equal(end.change, 'ended');
      assert.equal(end.notification.view.phase, 'failed');
      const text = JSON.stringify(renderRollout(end.notification.view, opts()));
      assert.match(text, /Failed after 30 seconds\* \(Hermod's progress deadline\)/);
    });

    it('OnDelete created while Hermod watches: its first rollout is said once to be unfollowable', () => {
      const t = start(kind, { ...AT_REST, onDelete: true, updated: 0, old: 3 });
      assert.deepEqual(t.phases(), ['started:1:progressing', 'ended:1:unfollowable']);
    });

    it('OnDelete first seen after the initial list, at a revision above 1, is left alone too', () => {
      const t = start(kind, { ...AT_REST, revision: 2, onDelete: true, updated: 0, old: 3 });
      assert.deepEqual(t.phases(), []);
    });

    it('a rollout that succeeds keeps its own detail, not the deadline sentence of a failure', () => {
      const t = start(kind, AT_REST);
      t.observe({ revision: 2, updated: 0, old: 3, at: 2 });
      t.observe({ updated: 3, old: 0, at: 3 });
      const end = t.changes.at(-1)!;
      assert.equal(end.notification.view.phase, 'succeeded');
      assert.doesNotMatch(end.notification.view.detail ?? '', /progress deadline/);
    });

    it('OnDelete at first sight is remembered: the same revision seen again is no rollout', () => {
      const t = start(kind, { ...AT_REST, onDelete: true, updated: 0, old: 3 }, true);
      t.actor.send({ type: 'deployment.observed', observation: workloadObservation(kind, { ...AT_REST, onDelete: true, updated: 1, old: 2, at: 2 }) });
      assert.deepEqual(t.phases(), []);
    });

    it('OnDelete at first sight is left alone; a new OnDelete revision is said once, then nothing', () => {
      const t = start(kind, { ...AT_REST, onDelete: true, updated: 0, old: 3 }, true);
      assert.deepEqual(t.phases(), []);
      t.observe({ revision: 2, at: 2 });
      t.observe({ updated: 1, old: 2, at: 3 });
      t.clock.increment(3_600_000);
      assert.deepEqual(t.phases(), ['started:2:progressing', 'ended:2:unfollowable']);
      const message = renderRollout(t.changes.at(-1)!.notification.view, opts());
      assert.match(message.text, /cannot be followed \(OnDelete\)/);
      assert.equal(message.attachments[0]?.color, '#9e9e9e');
    });
  });
}

describe('StatefulSet specifics', () => {
  it('a partitioned rollout completes green with N of M updated and the partition shown', () => {
    const t = start('StatefulSet', AT_REST);
    t.observe({ revision: 2, partition: 2, updated: 0, old: 3, at: 2 });
    t.observe({ updated: 1, old: 2, at: 3 });
    const end = t.changes.at(-1)!;
    assert.equal(end.notification.view.phase, 'succeeded');
    assert.equal(end.notification.view.partition, 2);
    const text = JSON.stringify(renderRollout(end.notification.view, opts()));
    assert.match(text, /partitioned rollout complete: 1 of 3 pods updated, partition 2/);
  });

  it('says which pod a stuck rolling update waits on', () => {
    const message = renderRollout(
      view({ kind: 'StatefulSet', deployment: 'db', phase: 'failing', waitingOn: 'db-2', replicaSet: 'db-7b5c', diagnosis: { pods: 1, stuckPods: 1, problems: [] } }),
      opts(),
    );
    const text = JSON.stringify(message);
    assert.match(text, /The rolling update waits on pod `db-2`/);
    assert.match(text, /Hermod declares the rollout failed/);
    assert.match(text, /New revision `db-7b5c`/);
  });

  it("the thread reply of a failing StatefulSet names the StatefulSet, not a Deployment", () => {
    const mentions = ['<@U012AB3CD>'];
    const message = renderRollout(view({ kind: 'StatefulSet', deployment: 'db', phase: 'failing', mentions, diagnosis: { pods: 1, stuckPods: 1, problems: [] } }), opts());
    assert.equal(message.thread?.text, '<@U012AB3CD> Failure details for StatefulSet `db` (revision 7) in `payments`.');
  });

  it('a Deployment message is unchanged: ReplicaSet, Kubernetes declares', () => {
    const text = JSON.stringify(renderRollout(view({ phase: 'failing', diagnosis: { pods: 1, stuckPods: 1, problems: [] } }), opts()));
    assert.match(text, /Kubernetes declares the rollout failed/);
    assert.match(text, /New ReplicaSet `api-5d9f8c7b6`/);
    assert.match(text, /Deployment `api`/);
  });
});
