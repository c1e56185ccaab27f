/**
 * More rules of src/machines/workloadRollout.ts (StatefulSets and DaemonSets), each pinned by
 * one small scenario and named after the rule (issue 15: the mutants workload-rollout.test.ts
 * let through). Plain data in, plain data out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ControllerRevisionFacts, PodFacts, RolloutObservation } from '../../src/machines/facts.js';
import {
  deadlinePassed,
  deadlineSecondsOf,
  desiredPods,
  lateCatchUpNote,
  isWorkloadPaused,
  NOT_FOLLOWABLE_MESSAGE,
  newRevisionName,
  ordinalOf,
  partitionOf,
  replacedRevision,
  rollbackHistory,
  statefulSetProgress,
  statefulSetStatus,
  targetRevision,
  templatesOf,
  waitingOnPod,
} from '../../src/machines/workloadRollout.js';
import { observation, workloadObservation } from '../support/observations.js';

const sts = (over: Parameters<typeof workloadObservation>[1] = { revision: 2, at: 0 }) => workloadObservation('StatefulSet', over);
const ds = (over: Parameters<typeof workloadObservation>[1] = { revision: 2, at: 0 }) => workloadObservation('DaemonSet', over);

function revision(name: string, n: number, uid = `uid-${name}`): ControllerRevisionFacts {
  return { uid, namespace: 'shop', name, ownerUid: 'uid-web', revision: n, revisionHistory: [], podHash: name };
}

function pod(name: string, conditions: PodFacts['conditions']): PodFacts {
  return { uid: `uid-${name}`, namespace: 'shop', name, ownerUid: 'uid-web', revisionHash: 'web-r2', phase: 'Running', deleting: false, containers: [], conditions };
}

describe('workloadRollout rules: kubectl words and counts', () => {
  it("OnDelete is refused in kubectl's own words", () => {
    assert.equal(NOT_FOLLOWABLE_MESSAGE, 'rollout status is only available for RollingUpdate strategy type');
  });

  it('a count that is not a finite number counts as 0 (NaN ready pods are none ready)', () => {
    const o = sts({ revision: 2, replicas: 3, updated: 3, available: 3, at: 0 });
    if (o.deployment.kind !== 'StatefulSet') throw new Error('a StatefulSet');
    const nan = { ...o.deployment, status: { ...o.deployment.status, readyReplicas: Number.NaN } };
    assert.equal(statefulSetStatus(nan).message, 'Waiting for 3 pods to be ready...');
  });

  it('a pod is ready by its Ready condition alone, whatever its other conditions say', () => {
    const o = sts({ revision: 2, replicas: 3, updated: 2, available: 2, old: 1, at: 0 });
    if (o.deployment.kind !== 'StatefulSet') throw new Error('a StatefulSet');
    const ready = pod('web-2', [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }]);
    const notReady = pod('web-1', [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }]);
    assert.equal(statefulSetProgress(o.deployment, [ready, notReady]).ready, 1);
  });

  it('how many pods the rollout should end with: replicas, or the nodes that should run a DaemonSet pod', () => {
    assert.equal(desiredPods(sts({ revision: 2, replicas: 4, at: 0 }).deployment), 4);
    assert.equal(desiredPods(ds({ revision: 2, replicas: 5, at: 0 }).deployment), 5);
    assert.equal(desiredPods(observation({ revision: 2, replicas: 6, at: 0 }).deployment), 6);
  });

  it('only a Deployment can be paused: a DaemonSet is never paused', () => {
    assert.equal(isWorkloadPaused(ds().deployment), false);
    assert.equal(isWorkloadPaused(observation({ revision: 2, paused: true, at: 0 }).deployment), true);
  });
});

describe('workloadRollout rules: partition, ordinals, the pod waited on', () => {
  it('a StatefulSet without rollingUpdate shows no partition', () => {
    const o = sts({ revision: 2, partition: 2, at: 0 });
    if (o.deployment.kind !== 'StatefulSet') throw new Error('a StatefulSet');
    assert.equal(partitionOf({ ...o.deployment, spec: { ...o.deployment.spec, rollingUpdate: false } }), null);
  });

  it("a pod of another set is not an ordinal of this one, even when its name's tail is a number", () => {
    assert.equal(ordinalOf('db', 'ab-12'), null);
  });

  it('a DaemonSet waits on no pod, even one named like an ordinal', () => {
    assert.equal(waitingOnPod(ds().deployment, [pod('web-0', [{ type: 'Ready', status: 'False' }])]), null);
  });

  it('a StatefulSet waits on its lowest not-ready ordinal wherever the pod is listed', () => {
    const notReady = [{ type: 'Ready', status: 'False' }];
    assert.equal(waitingOnPod(sts().deployment, [pod('web-1', notReady), pod('web-2', notReady)]), 'web-1');
  });

  it('a StatefulSet waits on no pod without an ordinal', () => {
    assert.equal(waitingOnPod(sts().deployment, [pod('web-x', [{ type: 'Ready', status: 'False' }])]), null);
  });
});

describe('workloadRollout rules: revisions', () => {
  it("a DaemonSet's target is the highest revision wherever it is listed; a tie goes to the first name", () => {
    const w = ds().deployment;
    if (w.kind !== 'DaemonSet') throw new Error('a DaemonSet');
    assert.equal(targetRevision(w, [revision('a', 1), revision('b', 3)])?.name, 'b');
    assert.equal(targetRevision(w, [revision('b', 3), revision('a', 1)])?.name, 'b');
    assert.equal(targetRevision(w, [revision('b', 3), revision('a', 3)])?.name, 'a');
    assert.equal(targetRevision(w, [revision('a', 3), revision('b', 3)])?.name, 'a');
  });

  it('the replaced revision is the highest below the target wherever it is listed; another revision of the same number is not below it', () => {
    const target = revision('c', 4);
    assert.equal(replacedRevision(target, [revision('b', 3), revision('a', 1), target])?.name, 'b');
    assert.equal(replacedRevision(target, [revision('x', 4), revision('b', 3)])?.name, 'b');
    assert.equal(replacedRevision(target, [revision('b', 3), revision('d', 3)])?.name, 'b');
  });

  it('the new revision is named once made: a StatefulSet without one has none', () => {
    const o: RolloutObservation = { ...sts(), newRevision: null };
    assert.equal(newRevisionName(o), null);
    assert.equal(newRevisionName(ds()), 'web-r2');
  });

  it("a StatefulSet or DaemonSet returns to the revisions its ControllerRevision had, whole positive numbers, once each, in order", () => {
    const o = ds();
    const history = { ...o, newRevision: { ...o.newRevision!, revisionHistory: [5, 1, 5, 0, -2, 1.5, 3] } };
    assert.deepEqual(rollbackHistory(history), [1, 3, 5]);
    const set = sts();
    assert.deepEqual(rollbackHistory({ ...set, newRevision: { ...set.newRevision!, revisionHistory: [4, 2] } }), [2, 4]);
    assert.deepEqual(rollbackHistory({ ...o, newRevision: null }), []);
  });

  it("a Deployment returns to its new ReplicaSet's revision-history, not to a ControllerRevision's", () => {
    const o = observation({ revision: 3, at: 0 });
    const withHistory = { ...o, newReplicaSet: { ...o.newReplicaSet!, revisionHistory: [2, 1] }, newRevision: revision('x', 3) };
    assert.deepEqual(rollbackHistory(withHistory), [1, 2]);
  });

  it("the templates compared: a Deployment's previous and new ReplicaSets; a StatefulSet's or DaemonSet's revisions; none when absent", () => {
    const dep = observation({ revision: 3, at: 0 });
    const previousRs = { ...dep.newReplicaSet!, name: 'web-rs2' };
    assert.deepEqual(templatesOf({ ...dep, previousReplicaSet: previousRs }), { previous: previousRs, next: dep.newReplicaSet });
    assert.deepEqual(templatesOf(dep), { previous: null, next: dep.newReplicaSet });
    const set = sts();
    const previous = revision('web-r1', 1);
    assert.deepEqual(templatesOf({ ...set, previousRevision: previous }), { previous, next: set.newRevision });
    assert.deepEqual(templatesOf({ ...set, newRevision: null }), { previous: null, next: null });
    const daemons = ds();
    assert.deepEqual(templatesOf({ ...daemons, previousRevision: previous }), { previous, next: daemons.newRevision });
  });
});

describe("workloadRollout rules: Hermod's deadline", () => {
  it('the deadline counts from the rollout start, not from 0', () => {
    const waiting = sts({ revision: 2, replicas: 2, updated: 1, available: 1, old: 1, at: 0 }).deployment;
    assert.equal(deadlinePassed(waiting, 69_999, 10_000, 60), false);
    assert.equal(deadlinePassed(waiting, 70_000, 10_000, 60), true);
  });

  it("a Deployment's deadline is its own progressDeadlineSeconds, never Hermod's", () => {
    const o = observation({ revision: 2, at: 0 });
    const own = { ...o, deployment: { ...o.deployment, spec: { ...o.deployment.spec, progressDeadlineSeconds: 120 } }, progressDeadlineSeconds: 900 };
    assert.equal(deadlineSecondsOf(own), 120);
    assert.equal(deadlineSecondsOf({ ...sts(), progressDeadlineSeconds: undefined }), 600);
  });
});

describe('lateCatchUpNote: the late catch-up note says whose verdict it was', () => {
  const at = Date.parse('2026-12-06T10:00:00Z');
  it("a Deployment's verdict is the controller's, at its Progressing condition's time", () => {
    assert.equal(lateCatchUpNote('succeeded', 'controller', at), "Reported late: this rollout started and ended while no Hermod was running (the controller's verdict came at 2026-12-06T10:00:00.000Z).");
  });
  it("a StatefulSet's or DaemonSet's failure is Hermod's deadline passing", () => {
    assert.match(lateCatchUpNote('failed', 'deadline', at), /\(Hermod's deadline passed at 2026-12-06T10:00:00\.000Z\)\.$/);
  });
  it('a verdict no object dates is what Hermod found, when it found it', () => {
    assert.match(lateCatchUpNote('succeeded', 'observed', at), /\(Hermod found it complete at 2026-12-06T10:00:00\.000Z\)\.$/);
    assert.match(lateCatchUpNote('failed', 'observed', at), /\(Hermod found it failed at /);
  });
});
