/**
 * The rules of src/machines/bake.ts (issue 13, the watch after success), one small scenario
 * each, named after the rule they pin.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBakeOver, isDegraded, isUnhealthyAfterSuccess } from '../../src/machines/bake.js';
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
