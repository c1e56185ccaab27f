/**
 * Rolling updates that cannot get past a stuck pod, through the statechart, the view and the
 * message (issue 11; the rules are src/machines/setRollingUpdate.ts): a DaemonSet with healthy
 * new pods and one stuck turns failing before the deadline, naming the pod and its Node; a
 * StatefulSet that waits on a stuck pod of a revision no longer wanted says so and how to get out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor, SimulatedClock } from 'xstate';
import { deploymentMachine } from '../../src/machines/deploymentMachine.js';
import type { RolloutChangedEvent } from '../../src/machines/deploymentContext.js';
import type { PodFacts, RolloutObservation, WorkloadKind } from '../../src/machines/facts.js';
import { renderRollout } from '../../src/machines/message.js';
import { viewFrom } from '../../src/machines/workloadView.js';
import { observation, workloadObservation } from '../support/observations.js';
import { opts } from '../support/rolloutViews.js';

const GRACE = 2_000;

function ready(p: PodFacts, name: string, node: string): PodFacts {
  return {
    ...p,
    uid: `uid-${name}`,
    name,
    node,
    containers: [{ name: 'app', init: false, ready: true, restartCount: 0 }],
    conditions: [{ type: 'Ready', status: 'True' }],
  };
}

/**
 * A DaemonSet across three Nodes, maxUnavailable 1: node-a runs a healthy new pod, node-b a
 * crash-looping one, node-c still the old one. (`crashing: 1` builds the stuck pod.)
 */
function daemonSetStalled(at: number): RolloutObservation {
  const o = workloadObservation('DaemonSet', { revision: 2, replicas: 3, updated: 2, available: 2, old: 1, crashing: 1, at });
  const stuck = { ...o.pods[0]!, name: 'web-bbbbb', node: 'node-b' };
  return { ...o, pods: [ready(stuck, 'web-aaaaa', 'node-a'), stuck] };
}

/** The same DaemonSet once the stuck pod has become ready (what it waited for came up). */
function daemonSetHealed(at: number): RolloutObservation {
  const o = daemonSetStalled(at);
  return { ...o, pods: [o.pods[0]!, ready(o.pods[1]!, 'web-bbbbb', 'node-b')] };
}

/**
 * `kubectl rollout undo` after a crash-looping revision: the update revision is the good
 * template again (revision 3), web-0 runs it, web-1 is still stuck at the bad revision 2.
 */
function statefulSetReverted(at: number): RolloutObservation {
  const o = workloadObservation('StatefulSet', { revision: 3, replicas: 2, updated: 1, available: 1, old: 1, crashing: 1, at });
  const stuck = { ...o.pods[0]!, uid: 'uid-web-1', name: 'web-1', revisionHash: 'web-r2', node: 'node-b' };
  return { ...o, pods: [ready(o.pods[0]!, 'web-0', 'node-a')], otherPods: [stuck] };
}

function run(kind: WorkloadKind, steps: Array<RolloutObservation | number>): RolloutChangedEvent[] {
  const clock = new SimulatedClock();
  const actor = createActor(deploymentMachine, { input: { key: `shop/${kind}/web`, failingGraceMs: GRACE }, clock });
  const changes: RolloutChangedEvent[] = [];
  actor.on('rollout.changed', (e) => changes.push(e));
  actor.start();
  actor.send({ type: 'deployment.observed', observation: workloadObservation(kind, { revision: 1, replicas: 3, updated: 3, available: 3, at: 1_000 }) });
  for (const step of steps) {
    if (typeof step === 'number') clock.increment(step);
    else actor.send({ type: 'deployment.observed', observation: step });
  }
  return changes;
}

const text = (e: RolloutChangedEvent | undefined): string => JSON.stringify(renderRollout(e!.notification.view, opts()));

describe('a DaemonSet whose stuck new pod holds maxUnavailable while other new pods are healthy', () => {
  it('is failing once the grace period has passed, before the deadline, naming the pod and its Node', () => {
    const changes = run('DaemonSet', [daemonSetStalled(5_000), daemonSetStalled(6_000)]);
    assert.deepEqual(changes.map((c) => c.notification.view.phase), ['progressing'], 'stalled: still orange');
    const more = run('DaemonSet', [daemonSetStalled(5_000), GRACE]);
    const last = more.at(-1);
    assert.equal(last?.notification.view.phase, 'failing');
    assert.equal(last?.notification.view.waitingOn, 'web-bbbbb');
    assert.equal(last?.notification.view.waitingOnNode, 'node-b');
    assert.equal(last?.notification.view.blockedBy, 'stuck');
    const message = text(last);
    assert.match(message, /\*1 of 2 new pods are stuck, and the rolling update cannot go past it\.\*/);
    assert.match(message, /waits on pod `web-bbbbb` on node `node-b`: no other Node is updated while it is unavailable\./);
    assert.match(message, /CrashLoopBackOff/);
  });

  it('turns orange again when the stuck pod becomes ready: never failed', () => {
    const changes = run('DaemonSet', [daemonSetStalled(5_000), GRACE, daemonSetHealed(8_000)]);
    assert.deepEqual(changes.map((c) => c.notification.view.phase), ['progressing', 'failing', 'progressing']);
    assert.equal(changes.at(-1)?.notification.view.blockedBy, null);
  });

  it('a Deployment in the same shape keeps its rule: not every new pod is stuck, so it stays orange', () => {
    const o = observation({ revision: 2, replicas: 3, updated: 2, available: 2, old: 1, crashing: 1, at: 5_000 });
    const withReady = { ...o, pods: [ready(o.pods[0]!, 'web-rs2-ready', 'node-a'), o.pods[0]!] };
    const changes = run('Deployment', [withReady, GRACE, { ...withReady, at: 9_000 }]);
    assert.deepEqual(changes.map((c) => c.notification.view.phase), ['progressing']);
    assert.equal('blockedBy' in changes[0]!.notification.view, false, 'Deployment views keep their shape');
  });
});

describe('a StatefulSet that waits on a stuck pod of a revision no longer wanted (after a revert)', () => {
  it('is failing, names the pod and its Node, and says how to get out: delete it', () => {
    const changes = run('StatefulSet', [statefulSetReverted(5_000), GRACE]);
    const last = changes.at(-1);
    assert.equal(last?.notification.view.phase, 'failing');
    assert.equal(last?.notification.view.blockedBy, 'staleRevision');
    const message = text(last);
    assert.match(message, /\*The rolling update waits on a pod it will not replace\.\*/);
    assert.match(message, /Pod `web-1` on node `node-b` is stuck on a revision that is no longer wanted; the StatefulSet controller will not replace it: `kubectl delete pod web-1 -n shop`\./);
  });

  it("shows that pod's problems (its crash loop), though it is not a pod of the new revision", () => {
    const v = viewFrom(statefulSetReverted(5_000), 'failing', { startedAt: 0, previousRevision: 2, adopted: false });
    assert.deepEqual(v.diagnosis.problems.map((p) => [p.reason, p.exitCode, p.count]), [['CrashLoopBackOff', 1, 1]]);
    assert.deepEqual([v.diagnosis.pods, v.diagnosis.stuckPods], [1, 0], 'the counts stay the new pods');
  });

  it('the failed message at the deadline keeps the advice', () => {
    const v = viewFrom(statefulSetReverted(5_000), 'failed', { startedAt: 0, previousRevision: 2, adopted: false });
    assert.match(JSON.stringify(renderRollout({ ...v, endedAt: 600_000 }, opts())), /Failed after 600 seconds.*`kubectl delete pod web-1 -n shop`/);
  });

  it('once the pod is deleted and comes back at the update revision, the rollout goes on (orange)', () => {
    const reverted = statefulSetReverted(5_000);
    const recreated = { ...reverted, at: 9_000, otherPods: [], pods: [...reverted.pods, { ...reverted.otherPods![0]!, uid: 'uid-web-1b', revisionHash: 'web-r3', containers: [], phase: 'Pending' }] };
    const changes = run('StatefulSet', [reverted, GRACE, recreated]);
    assert.deepEqual(changes.map((c) => c.notification.view.phase), ['progressing', 'failing', 'progressing']);
    assert.equal(changes.at(-1)?.notification.view.waitingOn, 'web-1');
    assert.equal(changes.at(-1)?.notification.view.blockedBy, null);
  });
});
