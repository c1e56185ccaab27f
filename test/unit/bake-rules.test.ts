/**
 * The rules of src/machines/bake.ts (issue 13, the watch after success), one small scenario
 * each, named after the rule they pin.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bakeTimeLeft, isBakeOver, isDegraded, isRolledOut, isUnhealthyAfterSuccess, MAX_BAKE_SECONDS, resumesBake } from '../../src/machines/bake.js';
import { observation, workloadObservation } from '../support/observations.js';
import type { PodFacts } from '../../src/machines/facts.js';
import type { Diagnosis } from '../../src/machines/notification.js';

function pod(name: string, ready: boolean, extra: Partial<PodFacts> = {}): PodFacts {
  return {
    uid: `uid-${name}`,
    namespace: 'shop',
    name,
    ownerUid: 'uid-rs',
    phase: 'Running',
    deleting: false,
    containers: [{ name: 'app', init: false, ready, restartCount: 0 }],
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    ...extra,
  };
}

const healthy: Diagnosis = { pods: 2, stuckPods: 0, problems: [] };
const oneStuck: Diagnosis = { pods: 2, stuckPods: 1, problems: [{ source: 'container', reason: 'CrashLoopBackOff', count: 1 }] };

describe('isUnhealthyAfterSuccess', () => {
  it('every new pod ready: healthy', () => assert.equal(isUnhealthyAfterSuccess(healthy, [pod('a', true), pod('b', true)], 2), false));
  it('one stuck pod is enough (unlike the failing rule, which wants every pod stuck)', () =>
    assert.equal(isUnhealthyAfterSuccess(oneStuck, [pod('a', true), pod('b', true)], 2), true));
  it('one pod not ready is unhealthy', () => assert.equal(isUnhealthyAfterSuccess(healthy, [pod('a', true), pod('b', false)], 2), true));
  it('a pod without a Ready condition is not ready', () =>
    assert.equal(isUnhealthyAfterSuccess(healthy, [pod('a', true), { ...pod('b', true), conditions: [] }], 2), true));
  it('a pod being deleted does not count (scale-down, drain)', () =>
    assert.equal(isUnhealthyAfterSuccess(healthy, [pod('a', true), pod('b', false, { deleting: true })], 2), false));
  it('a workload scaled to zero is never unhealthy', () => assert.equal(isUnhealthyAfterSuccess(oneStuck, [pod('b', false)], 0), false));
  it('no pods listed and nothing stuck: healthy (the counts are the controller\'s to judge)', () => assert.equal(isUnhealthyAfterSuccess(healthy, [], 2), false));
});

describe('isDegraded', () => {
  it('never without unhealthy pods on record', () => assert.equal(isDegraded(null, 10_000_000, 60_000), false));
  it('not before the grace period has passed', () => assert.equal(isDegraded(1_000, 60_999, 60_000), false));
  it('once the grace period has passed, exactly', () => assert.equal(isDegraded(1_000, 61_000, 60_000), true));
  it('a grace of 0 degrades at once', () => assert.equal(isDegraded(5, 5, 0), true));
});

describe('isBakeOver', () => {
  it('not while the window runs', () => assert.equal(isBakeOver(1_000, 300_999, 300_000), false));
  it('over once the window has passed, exactly', () => assert.equal(isBakeOver(1_000, 301_000, 300_000), true));
  it('a bake of 0 is always over (the watch is off)', () => assert.equal(isBakeOver(1_000, 1_000, 0), true));
});

/** Revision 2 after its success: the controller's Progressing word kept, `available` of 2 pods available. */
function afterSuccess(available: number, at = 100_000, extra: { reason?: string; updated?: number; old?: number; observed?: boolean } = {}) {
  const o = observation({ revision: 2, updated: extra.updated ?? 2, available, old: extra.old ?? 0, crashing: 2 - available, at, ...(extra.observed === false ? { observed: false } : {}) });
  o.deployment.status.conditions = [{ type: 'Progressing', status: 'True', reason: extra.reason ?? 'NewReplicaSetAvailable', message: '' }];
  return o;
}

describe('isRolledOut', () => {
  it('the controller says the revision rolled out and a pod is unready since: rolled out (not a rollout in flight)', () => assert.equal(isRolledOut(afterSuccess(1)), true));
  it('complete: rolled out', () => assert.equal(isRolledOut(afterSuccess(2)), true));
  it('the controller says it is progressing: a rollout in flight', () => assert.equal(isRolledOut(afterSuccess(1, 0, { reason: 'ReplicaSetUpdated' })), false));
  it('old pods still there: in flight', () => assert.equal(isRolledOut(afterSuccess(1, 0, { old: 1 })), false));
  it('new pods short of the desired count (scaled up): in flight', () => assert.equal(isRolledOut(afterSuccess(1, 0, { updated: 1 })), false));
  it('a spec the controller has not observed yet: not known to be rolled out', () => assert.equal(isRolledOut(afterSuccess(2, 0, { observed: false })), false));
  it('Deployment facts that name their kind are a Deployment all the same', () => {
    const o = afterSuccess(1);
    o.deployment = { ...o.deployment, kind: 'Deployment' };
    assert.equal(isRolledOut(o), true);
  });
  it('a StatefulSet has no such word: never (it resumes only when complete)', () =>
    assert.equal(isRolledOut(workloadObservation('StatefulSet', { revision: 2, updated: 2, available: 2, at: 0 })), false));
});

describe('resumesBake', () => {
  const kept = { rolloutId: 'uid-web/2', bakeUntil: 200_000 };
  it('the same rollout, complete, inside its window: resumes', () => assert.equal(resumesBake(kept, afterSuccess(2)), true));
  it('the same rollout, rolled out with a pod crash-looping since: resumes (the bake judges it)', () => assert.equal(resumesBake(kept, afterSuccess(1)), true));
  it('another revision (rolled again): no', () => assert.equal(resumesBake({ ...kept, rolloutId: 'uid-web/1' }, afterSuccess(2)), false));
  it('another incarnation (deleted and re-created): no', () => assert.equal(resumesBake({ ...kept, rolloutId: 'uid-old/2' }, afterSuccess(2)), false));
  it('at the end of the window, exactly: no', () => assert.equal(resumesBake(kept, afterSuccess(2, 200_000)), false));
  it('just inside the window: yes', () => assert.equal(resumesBake(kept, afterSuccess(2, 199_999)), true));
  it('a complete StatefulSet (no controller word to read): resumes', () =>
    assert.equal(resumesBake(kept, workloadObservation('StatefulSet', { revision: 2, updated: 2, available: 2, at: 100_000 })), true));
  it('a rollout in flight for that revision (not rolled out): no', () => assert.equal(resumesBake(kept, afterSuccess(1, 100_000, { reason: 'ReplicaSetUpdated' })), false));
});

describe('bakeTimeLeft', () => {
  it('from the success: the whole window', () => assert.equal(bakeTimeLeft(310_000, 10_000), 300_000));
  it('from a restart: what is left', () => assert.equal(bakeTimeLeft(310_000, 100_000), 210_000));
  it('past the window: nothing, never negative', () => assert.equal(bakeTimeLeft(310_000, 400_000), 0));
});

describe('bake rules pinned under mutation (issue 15)', () => {
  it('the longest bake is a day', () => assert.equal(MAX_BAKE_SECONDS, 86_400));
  it('only the Ready condition makes a pod ready, not another condition that is True', () =>
    assert.equal(isUnhealthyAfterSuccess(healthy, [pod('a', true), pod('b', false, { conditions: [{ type: 'PodScheduled', status: 'True' }] })], 2), true));
  it('a bake of 0 is over at once, even at a time before the success (clock skew)', () => assert.equal(isBakeOver(1_000, 999, 0), true));
});
