/**
 * StatefulSets and DaemonSets that cannot make progress (issue 11): a Warning FailedCreate Event
 * on the set (PodSecurity, a quota) turns the rollout failing early with its reason, as a
 * ReplicaSet's ReplicaFailure does for a Deployment; a DaemonSet's stuck new pod is named with
 * its Node, as the pod a StatefulSet waits on is.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor, SimulatedClock } from 'xstate';
import { diagnose, isFailing } from '../../src/machines/diagnosis.js';
import { deploymentMachine } from '../../src/machines/deploymentMachine.js';
import type { RolloutChangedEvent } from '../../src/machines/deploymentContext.js';
import type { EventFacts, RolloutObservation, WorkloadKind } from '../../src/machines/facts.js';
import { renderRollout } from '../../src/machines/message.js';
import { viewFrom } from '../../src/machines/workloadView.js';
import { setFailedCreate } from '../../src/machines/workloadRollout.js';
import { workloadObservation, type RolloutStep } from '../support/observations.js';
import { opts, view } from '../support/rolloutViews.js';

const REFUSAL = 'pods "web-x2v9k" is forbidden: violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true)';

function failedCreate(kind: WorkloadKind, over: Partial<EventFacts> = {}): EventFacts {
  return {
    namespace: 'shop',
    involvedKind: kind,
    involvedName: 'web',
    involvedUid: 'uid-web',
    reason: 'FailedCreate',
    message: kind === 'StatefulSet' ? `create Pod web-2 in StatefulSet web failed error: ${REFUSAL}` : `Error creating: ${REFUSAL}`,
    count: 3,
    lastSeen: 10_000,
    ...over,
  };
}

/** Mid-rollout to revision 2 with no new pod (the controller could not create it), with `warnings`. */
function refused(kind: 'StatefulSet' | 'DaemonSet', warnings: EventFacts[], at = 10_000): RolloutObservation {
  return { ...workloadObservation(kind, { revision: 2, replicas: 3, updated: 0, available: 2, old: 2, at }), warnings };
}

for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
  describe(`${kind}: a FailedCreate Event on the set`, () => {
    it('is the reason its new revision cannot create pods, and the rollout is failing', () => {
      const d = diagnose(refused(kind, [failedCreate(kind)]), { since: 5_000 });
      assert.match(d.replicaFailure ?? '', /violates PodSecurity "baseline:latest"/);
      assert.equal(d.pods, 0);
      assert.equal(isFailing(d, 3), true);
      // Shown once, as the Warning event it is, with its count.
      assert.deepEqual(
        d.problems.map((p) => [p.source, p.reason, p.count]),
        [['event', 'FailedCreate', 3]],
      );
    });

    it('an event from before the rollout started, about another set or of another reason does not count', () => {
      assert.equal(diagnose(refused(kind, [failedCreate(kind, { lastSeen: 4_000 })]), { since: 5_000 }).replicaFailure, undefined);
      assert.equal(diagnose(refused(kind, [failedCreate(kind, { involvedName: 'other', involvedUid: 'uid-other' })])).replicaFailure, undefined);
      assert.equal(diagnose(refused(kind, [failedCreate(kind, { involvedUid: 'uid-old-incarnation' })])).replicaFailure, undefined);
      assert.equal(diagnose(refused(kind, [failedCreate(kind, { reason: 'FailedDelete' })])).replicaFailure, undefined);
      const otherKind = kind === 'StatefulSet' ? 'DaemonSet' : 'StatefulSet';
      assert.equal(diagnose(refused(kind, [failedCreate(otherKind)])).replicaFailure, undefined);
    });

    it('the newest of several FailedCreate events is the reason', () => {
      const set = refused(kind, []).deployment;
      assert.equal(set.kind, kind);
      if (set.kind !== 'StatefulSet' && set.kind !== 'DaemonSet') return;
      const older = failedCreate(kind, { message: 'exceeded quota: compute', lastSeen: 9_000 });
      const newer = failedCreate(kind, { message: 'serviceaccount "x" not found', lastSeen: 11_000 });
      assert.equal(setFailedCreate(set, [newer, older], undefined)?.message, 'serviceaccount "x" not found');
      assert.equal(setFailedCreate(set, [older, newer], undefined)?.message, 'serviceaccount "x" not found');
      assert.equal(setFailedCreate(set, [older, newer], 10_000)?.message, 'serviceaccount "x" not found');
      assert.equal(setFailedCreate(set, [older], 10_000), undefined);
      // Event times have whole seconds: one stamped in the second the rollout started counts.
      assert.equal(setFailedCreate(set, [failedCreate(kind, { lastSeen: 10_000 })], 10_999)?.reason, 'FailedCreate');
      assert.equal(setFailedCreate(set, [failedCreate(kind, { lastSeen: 10_000 })], 11_000), undefined);
    });

    it('a Deployment-style ReplicaFailure lead names the revision; the message carries the refusal', () => {
      const v = viewFrom(refused(kind, [failedCreate(kind)]), 'failing', { startedAt: 5_000, previousRevision: 1, adopted: false });
      const text = JSON.stringify(renderRollout(v, opts()));
      assert.match(text, /The new revision cannot create pods/);
      assert.match(text, /violates PodSecurity/);
      assert.doesNotMatch(text, /ReplicaSet/);
    });

    it('the statechart: failing once the grace period has passed, and green again when pods come', () => {
      const clock = new SimulatedClock();
      const actor = createActor(deploymentMachine, { input: { key: `shop/${kind}/web`, failingGraceMs: 2_000 }, clock });
      const changes: RolloutChangedEvent[] = [];
      actor.on('rollout.changed', (e) => changes.push(e));
      actor.start();
      const step: RolloutStep = { revision: 1, replicas: 3, updated: 3, available: 3, at: 1_000 };
      actor.send({ type: 'deployment.observed', observation: workloadObservation(kind, step) });
      actor.send({ type: 'deployment.observed', observation: refused(kind, [], 5_000) });
      actor.send({ type: 'deployment.observed', observation: refused(kind, [failedCreate(kind, { lastSeen: 6_000 })], 6_000) });
      assert.deepEqual(changes.map((c) => c.notification.view.phase), ['progressing', 'progressing'], 'stalled: still orange');
      clock.increment(2_000);
      assert.equal(changes.at(-1)?.notification.view.phase, 'failing');
      assert.match(changes.at(-1)?.notification.view.diagnosis.replicaFailure ?? '', /PodSecurity/);
      actor.send({ type: 'deployment.observed', observation: workloadObservation(kind, { ...step, revision: 2, at: 9_000 }) });
      assert.deepEqual(changes.map((c) => `${c.change}:${c.notification.view.phase}`).slice(-1), ['ended:succeeded']);
      assert.equal(changes.some((c) => c.notification.view.phase === 'failed'), false);
    });
  });
}

describe('the pod a rolling update waits on, and its Node', () => {
  const withNodes = (o: RolloutObservation): RolloutObservation => ({ ...o, pods: o.pods.map((p, i) => ({ ...p, node: `kwok-node-${i}` })) });

  it('a DaemonSet names its stuck new pod and the Node it runs on', () => {
    const o = withNodes(workloadObservation('DaemonSet', { revision: 2, replicas: 3, updated: 1, available: 2, old: 2, crashing: 1, at: 1 }));
    const v = viewFrom(o, 'failing', { startedAt: 0, previousRevision: 1, adopted: false });
    assert.equal(v.waitingOn, o.pods[0]!.name);
    assert.equal(v.waitingOnNode, 'kwok-node-0');
    const text = JSON.stringify(renderRollout(v, opts()));
    assert.match(text, new RegExp(`The rolling update waits on pod \`${o.pods[0]!.name}\` on node \`kwok-node-0\``));
  });

  it('a DaemonSet whose new pods are only starting names none', () => {
    const o = workloadObservation('DaemonSet', { revision: 2, replicas: 3, updated: 1, available: 2, old: 2, at: 1 });
    const starting = { ...o, pods: [{ uid: 'p', namespace: 'shop', name: 'web-abcde', ownerUid: 'uid-web', revisionHash: 'web-r2', phase: 'Pending', deleting: false, containers: [], conditions: [], node: 'n' }] };
    const v = viewFrom(starting, 'progressing', { startedAt: 0, previousRevision: 1, adopted: false });
    assert.equal(v.waitingOn, null);
    assert.equal(v.waitingOnNode, null);
  });

  it('a StatefulSet names its Node too, when the pod is bound', () => {
    const o = withNodes(workloadObservation('StatefulSet', { revision: 2, replicas: 3, updated: 1, available: 2, old: 2, crashing: 1, at: 1 }));
    const v = viewFrom(o, 'failing', { startedAt: 0, previousRevision: 1, adopted: false });
    assert.equal(v.waitingOn, 'web-2');
    assert.equal(v.waitingOnNode, 'kwok-node-0');
    assert.match(JSON.stringify(renderRollout(v, opts())), /waits on pod `web-2` on node `kwok-node-0`/);
  });

  it('without a Node, the pod alone; in progress the line says it too', () => {
    const failing = renderRollout(view({ kind: 'StatefulSet', phase: 'failing', waitingOn: 'db-2', diagnosis: { pods: 1, stuckPods: 1, problems: [] } }), opts());
    assert.match(JSON.stringify(failing), /waits on pod `db-2`\./);
    const progressing = JSON.stringify(renderRollout(view({ kind: 'DaemonSet', phase: 'failing', waitingOn: 'agent-x', waitingOnNode: 'n1' }), opts()));
    assert.match(progressing, /waiting on pod `agent-x` on node `n1`/);
  });
});
