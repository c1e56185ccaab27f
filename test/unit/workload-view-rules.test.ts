/**
 * The rules of src/machines/workloadView.ts one small scenario each (issue 15): what a rollout's
 * view carries for each kind of workload, and which of its fields make a visible change (an
 * observation that changes none of them stays silent).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RolloutView } from '../../src/machines/notification.js';
import { diagnosisOf, viewFrom, visibleState } from '../../src/machines/workloadView.js';
import { observation, workloadObservation } from '../support/observations.js';

const BASE = { startedAt: 1_000, previousRevision: 1, adopted: false };

describe('workloadView rules: the view of a rollout', () => {
  it("a Deployment's view keeps its shape from before other kinds: no kind, partition nor waitingOn", () => {
    const view = viewFrom(observation({ revision: 2, updated: 1, available: 2, old: 1, at: 5_000 }), 'progressing', BASE);
    assert.deepEqual(['kind' in view, 'partition' in view, 'waitingOn' in view], [false, false, false]);
  });

  it("a StatefulSet's view names its kind, its partition above 0 and the pod its update waits on", () => {
    const obs = workloadObservation('StatefulSet', { revision: 2, replicas: 3, updated: 1, available: 2, old: 2, crashing: 1, partition: 1, at: 5_000 });
    const view = viewFrom(obs, 'progressing', BASE);
    assert.deepEqual([view.kind, view.partition, view.waitingOn], ['StatefulSet', 1, 'web-2']);
  });

  it("a DaemonSet's view names its kind, with no partition and no pod waited on", () => {
    const view = viewFrom(workloadObservation('DaemonSet', { revision: 2, updated: 1, available: 1, old: 1, at: 5_000 }), 'progressing', BASE);
    assert.deepEqual([view.kind, view.partition, view.waitingOn], ['DaemonSet', null, null]);
  });

  it('a DaemonSet not blocked yet waits on its first stuck new pod by name (not one being deleted), on that Node', () => {
    // Six Nodes, four updated, maxUnavailable 4: three stuck new pods leave room for the next Node.
    const obs = workloadObservation('DaemonSet', { revision: 2, replicas: 6, updated: 4, available: 1, old: 2, crashing: 4, at: 5_000 });
    if (obs.deployment.kind !== 'DaemonSet') throw new Error('a DaemonSet observation');
    obs.deployment = { ...obs.deployment, spec: { ...obs.deployment.spec, maxUnavailable: 4 } };
    const names = ['web-a', 'web-z', 'web-m', 'web-q'];
    obs.pods = obs.pods.map((p, i) => ({ ...p, name: names[i]!, node: `node-${i}`, deleting: i === 0 }));
    const view = viewFrom(obs, 'progressing', BASE);
    assert.deepEqual([view.waitingOn, view.waitingOnNode, view.blockedBy], ['web-m', 'node-2', null]);
  });

  it('a StatefulSet not blocked waits on its lowest not-ready new ordinal, not on its first stuck pod by name', () => {
    // web-2 is stuck, web-1 (lower) is still starting: the controller waits on web-1, and nothing blocks it yet.
    const obs = workloadObservation('StatefulSet', { revision: 2, replicas: 3, updated: 2, available: 1, old: 1, crashing: 2, at: 5_000 });
    obs.pods = obs.pods.map((p) => (p.name === 'web-1' ? { ...p, containers: p.containers.map((c) => ({ ...c, waiting: { reason: 'ContainerCreating' } })) } : p));
    const view = viewFrom(obs, 'progressing', BASE);
    assert.deepEqual([view.waitingOn, view.blockedBy], ['web-1', null]);
  });

  it('the rollout is the workload uid and its revision; the start, the previous revision and adoption come from the base', () => {
    const view = viewFrom(observation({ revision: 4, updated: 1, available: 2, old: 1, at: 5_000 }), 'progressing', { startedAt: 3_000, previousRevision: 3, adopted: true });
    assert.deepEqual([view.rolloutId, view.revision, view.startedAt, view.previousRevision, view.adopted, view.phase], ['uid-web/4', 4, 3_000, 3, true, 'progressing']);
  });

  it('a workload without a revision yet is revision 0', () => {
    const obs = observation({ revision: 1, at: 5_000 });
    obs.deployment = { ...obs.deployment, revision: null };
    const view = viewFrom(obs, 'progressing', BASE);
    assert.deepEqual([view.rolloutId, view.revision], [`${obs.deployment.uid}/0`, 0]);
  });

  it('a view is made unfinished: no end, no successor; it names the namespace, the workload and the new ReplicaSet', () => {
    const view = viewFrom(observation({ revision: 2, updated: 1, available: 2, old: 1, at: 5_000 }), 'progressing', BASE);
    assert.deepEqual([view.endedAt, view.supersededBy, view.namespace, view.deployment, view.replicaSet], [null, null, 'shop', 'web', 'web-rs2']);
  });

  it("the deadline shown is the Deployment's progressDeadlineSeconds, else Hermod's own", () => {
    const dep = viewFrom(observation({ revision: 2, at: 5_000 }), 'progressing', BASE);
    assert.equal(dep.progressDeadlineSeconds, observation({ revision: 2, at: 5_000 }).deployment.spec.progressDeadlineSeconds);
    const sts = viewFrom(workloadObservation('StatefulSet', { revision: 2, deadlineSeconds: 120, at: 5_000 }), 'progressing', BASE);
    assert.equal(sts.progressDeadlineSeconds, 120);
  });

  it("the detail is kubectl's sentence for where the rollout stands", () => {
    const view = viewFrom(workloadObservation('DaemonSet', { revision: 2, replicas: 3, updated: 1, available: 1, old: 2, at: 5_000 }), 'progressing', BASE);
    assert.equal(view.detail, 'Waiting for daemon set "web" rollout to finish: 1 out of 3 new pods have been updated...');
  });

  it('a crash target is named only while a Pod is stuck', () => {
    const crashing = viewFrom(observation({ revision: 2, updated: 1, available: 1, old: 1, crashing: 1, at: 5_000 }), 'progressing', BASE);
    assert.notEqual(crashing.crashTarget, null);
    const healthy = viewFrom(observation({ revision: 2, updated: 1, available: 2, old: 1, at: 5_000 }), 'progressing', BASE);
    assert.equal(healthy.crashTarget, null);
  });

  it('a Pod that restarted but is not stuck (running again, not yet ready) names no crash target', () => {
    const obs = observation({ revision: 2, updated: 1, available: 1, old: 1, crashing: 1, at: 5_000 });
    obs.pods = obs.pods.map((p) => ({ ...p, containers: p.containers.map(({ waiting: _, ...c }) => c) }));
    const view = viewFrom(obs, 'progressing', BASE);
    assert.deepEqual([view.diagnosis.stuckPods, view.crashTarget], [0, null]);
  });

  it("mentions are carried only when the target has them", () => {
    const with_ = viewFrom(observation({ revision: 2, mentions: ['<@U1>'], at: 5_000 }), 'failing', BASE);
    const without = viewFrom(observation({ revision: 2, at: 5_000 }), 'failing', BASE);
    assert.deepEqual([with_.mentions, 'mentions' in without], [['<@U1>'], false]);
  });

  it("the diagnosis leaves out warnings from before the rollout's start (the base's)", () => {
    const obs = observation({ revision: 2, updated: 1, available: 2, old: 1, at: 5_000 });
    obs.warnings = [{ namespace: 'shop', involvedKind: 'ReplicaSet', involvedName: 'web-rs2', reason: 'FailedCreate', message: 'quota exceeded', count: 1, lastSeen: 2_000 }];
    const reasons = (startedAt: number): string[] => viewFrom(obs, 'progressing', { ...BASE, startedAt }).diagnosis.problems.map((p) => p.reason);
    assert.deepEqual([reasons(1_000).includes('FailedCreate'), reasons(3_000).includes('FailedCreate')], [true, false]);
  });

  it('the diagnosis cache answers again for the same observation and start, and anew for another start', () => {
    const obs = observation({ revision: 2, updated: 1, available: 1, old: 1, crashing: 1, at: 5_000 });
    const first = diagnosisOf(obs, 1_000);
    assert.equal(diagnosisOf(obs, 1_000), first);
    assert.notEqual(diagnosisOf(obs, 2_000), first);
    assert.notEqual(diagnosisOf(obs, undefined), diagnosisOf(obs, 2_000));
  });

  it('the diagnosis cache keeps the diagnosis it made for a rollout without a start', () => {
    const obs = observation({ revision: 2, updated: 1, available: 1, old: 1, crashing: 1, at: 5_000 });
    const first = diagnosisOf(obs, undefined);
    assert.equal(first.stuckPods, 1);
    assert.equal(diagnosisOf(obs, undefined), first);
  });
});

describe('workloadView rules: a visible change', () => {
  const view = (): RolloutView => viewFrom(workloadObservation('StatefulSet', { revision: 2, replicas: 3, updated: 1, available: 2, old: 2, partition: 1, at: 5_000 }), 'progressing', BASE);
  const changes: Array<[string, Partial<RolloutView>]> = [
    ['phase', { phase: 'failing' }],
    ['progress', { progress: { desired: 3, updated: 2, ready: 1, available: 1, old: 1 } }],
    ['diagnosis', { diagnosis: { ...view().diagnosis, stuckPods: 7 } }],
    ['replicaSet', { replicaSet: 'web-r9' }],
    ['rolledBackTo', { rolledBackTo: [1] }],
    ['git', { git: { sha: 'abc1234' } }],
    ['changes', { changes: { images: [], fields: [], moreFields: 0, changeCause: 'bump', backTo: null } }],
    ['crashTarget', { crashTarget: { namespace: 'shop', pod: 'web-2', container: 'app' } }],
    ['mentions', { mentions: ['<@U1>'] }],
    ['partition', { partition: 2 }],
    ['waitingOn', { waitingOn: 'web-0' }],
  ];
  for (const [field, change] of changes) {
    it(`a change of ${field} alone is visible`, () => {
      const v = view();
      assert.notEqual(visibleState({ ...v, ...change }), visibleState(v));
    });
  }

  it('what the message does not show (time, adoption, detail, the deadline) is not a visible change', () => {
    const v = view();
    assert.equal(visibleState({ ...v, startedAt: 9, adopted: true, detail: 'x', progressDeadlineSeconds: 1 }), visibleState(v));
  });
});
