/**
 * When a StatefulSet's or DaemonSet's rolling update cannot get past a stuck pod
 * (src/machines/setRollingUpdate.ts, issue 11): one small scenario per rule, each named after it.
 * Deployments keep their rule (every new pod stuck): `blockedOn` never answers for them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DaemonSetFacts, PodFacts, RolloutObservation, StatefulSetFacts } from '../../src/machines/facts.js';
import { blockedOn, daemonSetBlockedOn, daemonSetUpdateBudget, scaledBudget, statefulSetBlockedOn, statefulSetUpdateBudget } from '../../src/machines/setRollingUpdate.js';
import { observation, workloadObservation } from '../support/observations.js';

const NEW = 'hash-new';
const OLD = 'hash-old';

function pod(name: string, state: 'ready' | 'stuck' | 'starting', revisionHash = NEW, extra: Partial<PodFacts> = {}): PodFacts {
  const ready = state === 'ready';
  return {
    uid: `uid-${name}`,
    namespace: 'shop',
    name,
    ownerUid: 'uid-set',
    revisionHash,
    node: `node-of-${name}`,
    phase: state === 'starting' ? 'Pending' : 'Running',
    deleting: false,
    containers:
      state === 'stuck'
        ? [{ name: 'app', init: false, ready: false, restartCount: 3, waiting: { reason: 'CrashLoopBackOff' }, lastTerminated: { reason: 'Error', exitCode: 1 } }]
        : state === 'starting'
          ? [{ name: 'app', init: false, ready: false, restartCount: 0, waiting: { reason: 'ContainerCreating' } }]
          : [{ name: 'app', init: false, ready: true, restartCount: 0 }],
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    ...extra,
  };
}

function daemonSet(desired: number, updated: number, spec: Partial<DaemonSetFacts['spec']> = {}): DaemonSetFacts {
  return {
    kind: 'DaemonSet',
    uid: 'uid-set',
    namespace: 'shop',
    name: 'agent',
    generation: 2,
    revision: 2,
    git: {},
    spec: { updateStrategy: 'RollingUpdate', ...spec },
    status: { observedGeneration: 2, desiredNumberScheduled: desired, currentNumberScheduled: desired, updatedNumberScheduled: updated, numberReady: 0, numberAvailable: 0 },
  };
}

function statefulSet(replicas: number, updated: number, spec: Partial<StatefulSetFacts['spec']> = {}): StatefulSetFacts {
  return {
    kind: 'StatefulSet',
    uid: 'uid-set',
    namespace: 'shop',
    name: 'db',
    generation: 2,
    revision: 2,
    git: {},
    spec: { replicas, updateStrategy: 'RollingUpdate', rollingUpdate: true, partition: 0, ...spec },
    status: { observedGeneration: 2, replicas, readyReplicas: 0, currentReplicas: replicas - updated, updatedReplicas: updated, availableReplicas: 0, currentRevision: `db-${OLD}`, updateRevision: `db-${NEW}` },
  };
}

describe('update budgets, scaled as the controllers scale them', () => {
  it('an IntOrString budget: a count as is, a percentage of the total rounded up or down, anything else unknown', () => {
    assert.equal(scaledBudget(2, 10, true), 2);
    assert.equal(scaledBudget('25%', 10, true), 3);
    assert.equal(scaledBudget('25%', 10, false), 2);
    assert.equal(scaledBudget('ten', 10, true), undefined);
    assert.equal(scaledBudget(-1, 10, true), undefined);
    assert.equal(scaledBudget(undefined, 10, true), undefined);
  });

  it("a DaemonSet's budget is maxSurge when it surges, else maxUnavailable (default 1; 0 and 0 count as 1)", () => {
    assert.equal(daemonSetUpdateBudget(daemonSet(3, 1)), 1);
    assert.equal(daemonSetUpdateBudget(daemonSet(3, 1, { maxUnavailable: 2 })), 2);
    assert.equal(daemonSetUpdateBudget(daemonSet(10, 1, { maxUnavailable: '15%' })), 2);
    assert.equal(daemonSetUpdateBudget(daemonSet(10, 1, { maxUnavailable: 0, maxSurge: '15%' })), 2);
    assert.equal(daemonSetUpdateBudget(daemonSet(10, 1, { maxUnavailable: 0, maxSurge: 0 })), 1);
  });

  it('a budget of 0 is 0, not unknown', () => {
    assert.equal(scaledBudget(0, 10, true), 0);
  });

  it('a percentage with anything before or after it is malformed: unknown', () => {
    assert.equal(scaledBudget('x25%', 10, true), undefined);
    assert.equal(scaledBudget('25%x', 10, true), undefined);
  });

  it("a StatefulSet's budget is maxUnavailable rounded down, at least 1 (default 1)", () => {
    assert.equal(statefulSetUpdateBudget(statefulSet(3, 1)), 1);
    assert.equal(statefulSetUpdateBudget(statefulSet(10, 1, { maxUnavailable: '25%' })), 2);
    assert.equal(statefulSetUpdateBudget(statefulSet(3, 1, { maxUnavailable: '10%' })), 1);
  });
});

describe('a DaemonSet is blocked', () => {
  it('when its stuck new pods use up maxUnavailable while old Nodes are left, though other new pods are healthy', () => {
    const stuck = pod('agent-b', 'stuck');
    const blocked = daemonSetBlockedOn(daemonSet(3, 2), [pod('agent-a', 'ready'), stuck]);
    assert.deepEqual(blocked, { pod: stuck, staleRevision: false });
  });

  it('not while the stuck new pods leave room in maxUnavailable for the next Node', () => {
    assert.equal(daemonSetBlockedOn(daemonSet(5, 3, { maxUnavailable: 2 }), [pod('agent-a', 'ready'), pod('agent-b', 'stuck'), pod('agent-c', 'starting')]), null);
  });

  it('when its stuck new pods use up maxSurge (a surging update)', () => {
    const blocked = daemonSetBlockedOn(daemonSet(3, 1, { maxUnavailable: 0, maxSurge: 1 }), [pod('agent-a', 'ready'), pod('agent-b', 'stuck')]);
    assert.equal(blocked?.pod.name, 'agent-b');
  });

  it('when every Node is updated and the only pods not ready are stuck', () => {
    const blocked = daemonSetBlockedOn(daemonSet(3, 3, { maxUnavailable: 3 }), [pod('agent-a', 'ready'), pod('agent-c', 'stuck'), pod('agent-b', 'ready')]);
    assert.equal(blocked?.pod.name, 'agent-c');
  });

  it('not while a new pod is still starting, even with every Node updated', () => {
    assert.equal(daemonSetBlockedOn(daemonSet(3, 3, { maxUnavailable: 3 }), [pod('agent-a', 'starting'), pod('agent-b', 'stuck'), pod('agent-c', 'ready')]), null);
  });

  it('while old Nodes are left, stuck new pods that fill the budget block it though another new pod is still starting', () => {
    assert.equal(daemonSetBlockedOn(daemonSet(4, 2), [pod('agent-a', 'starting'), pod('agent-b', 'stuck')])?.pod.name, 'agent-b');
  });

  it('when every new pod reports Ready, nothing is waited on, even a pod whose container is in CrashLoopBackOff', () => {
    const readyButCrashing = { ...pod('agent-a', 'stuck'), conditions: [{ type: 'Ready', status: 'True' }] };
    assert.equal(daemonSetBlockedOn(daemonSet(2, 2, { maxUnavailable: 2 }), [readyButCrashing, pod('agent-b', 'ready')]), null);
  });

  it('a count that is not finite or below 0 counts as 0', () => {
    // desiredNumberScheduled Infinity counts as 0 Nodes: nothing old is left, and the only new pod not ready is stuck.
    assert.equal(daemonSetBlockedOn(daemonSet(Infinity, 1, { maxUnavailable: '50%' }), [pod('agent-a', 'stuck')])?.pod.name, 'agent-a');
    // Counts below 0 count as 0: nothing old is left, and a new pod is still starting.
    assert.equal(daemonSetBlockedOn(daemonSet(-1, -2), [pod('agent-a', 'stuck'), pod('agent-b', 'starting')]), null);
  });

  it('on the first stuck pod by name among several', () => {
    const pods = [pod('agent-z', 'stuck'), pod('agent-m', 'stuck'), pod('agent-q', 'stuck')];
    assert.equal(daemonSetBlockedOn(daemonSet(6, 4, { maxUnavailable: 3 }), pods)?.pod.name, 'agent-m');
  });

  it('on the first stuck pod by name, and never on a pod being deleted', () => {
    assert.equal(daemonSetBlockedOn(daemonSet(4, 2, { maxUnavailable: 2 }), [pod('agent-z', 'stuck'), pod('agent-m', 'stuck')])?.pod.name, 'agent-m');
    assert.equal(daemonSetBlockedOn(daemonSet(3, 2), [pod('agent-a', 'ready'), pod('agent-b', 'stuck', NEW, { deleting: true })]), null);
  });
});

describe('a StatefulSet is blocked', () => {
  it('OrderedReady: when its lowest not-ready ordinal is a stuck new pod, though higher new ordinals are ready', () => {
    const stuck = pod('db-1', 'stuck');
    assert.deepEqual(statefulSetBlockedOn(statefulSet(3, 2), [pod('db-2', 'ready'), stuck], [pod('db-0', 'ready', OLD)]), { pod: stuck, staleRevision: false });
  });

  it('a pod is ready by its Ready condition alone, whatever its other conditions', () => {
    const scheduled = { type: 'PodScheduled', status: 'True' };
    const ready = { ...pod('db-0', 'ready', OLD), conditions: [scheduled, { type: 'Ready', status: 'True' }] };
    const stuck = { ...pod('db-1', 'stuck'), conditions: [scheduled, { type: 'Ready', status: 'False' }] };
    assert.equal(statefulSetBlockedOn(statefulSet(2, 1), [stuck], [ready])?.pod.name, 'db-1');
  });

  it('OrderedReady: not while its lowest not-ready ordinal is only starting', () => {
    assert.equal(statefulSetBlockedOn(statefulSet(3, 2), [pod('db-2', 'stuck'), pod('db-1', 'starting')], [pod('db-0', 'ready', OLD)]), null);
  });

  it('OrderedReady: a pod without an ordinal of this set is not one it waits on', () => {
    assert.equal(statefulSetBlockedOn(statefulSet(2, 1), [pod('db-0', 'ready')], [pod('db-debug', 'stuck', OLD)]), null);
  });

  it('OrderedReady: when it waits on a stuck pod of a revision no longer wanted (the forced-rollback case)', () => {
    const stale = pod('db-1', 'stuck', OLD);
    assert.deepEqual(statefulSetBlockedOn(statefulSet(2, 1), [pod('db-0', 'ready')], [stale]), { pod: stale, staleRevision: true });
  });

  it('Parallel: not on a stuck pod of another revision (the controller deletes it itself)', () => {
    assert.equal(statefulSetBlockedOn(statefulSet(2, 1, { podManagementPolicy: 'Parallel' }), [pod('db-0', 'ready')], [pod('db-1', 'stuck', OLD)]), null);
  });

  it('Parallel: when its stuck new pods use up maxUnavailable while pods above the partition are left to replace', () => {
    const sts = statefulSet(4, 2, { podManagementPolicy: 'Parallel', maxUnavailable: 2 });
    assert.equal(statefulSetBlockedOn(sts, [pod('db-3', 'stuck'), pod('db-2', 'ready')], []), null, 'one stuck of a budget of two: the next pod is replaced');
    assert.equal(statefulSetBlockedOn(sts, [pod('db-3', 'stuck'), pod('db-2', 'stuck')], [])?.pod.name, 'db-2');
  });

  it('Parallel: the pod it is blocked on is a new pod, never of a stale revision', () => {
    const sts = statefulSet(2, 1, { podManagementPolicy: 'Parallel' });
    assert.equal(statefulSetBlockedOn(sts, [pod('db-1', 'stuck')], [pod('db-0', 'ready', OLD)])?.staleRevision, false);
  });

  it('Parallel: when nothing is left to replace above the partition and the pods not ready are stuck', () => {
    const sts = statefulSet(3, 2, { podManagementPolicy: 'Parallel', partition: 1, maxUnavailable: 3 });
    assert.equal(statefulSetBlockedOn(sts, [pod('db-2', 'ready'), pod('db-1', 'stuck')], [pod('db-0', 'ready', OLD)])?.pod.name, 'db-1');
  });
});

describe('blockedOn: only for StatefulSets and DaemonSets whose new revision is known', () => {
  it('a Deployment is never blocked by this rule (every new pod stuck stays its whole rule)', () => {
    assert.equal(blockedOn(observation({ revision: 2, replicas: 3, updated: 2, available: 2, old: 1, crashing: 1, at: 1 })), null);
  });

  it('before the new ControllerRevision is known no pod can be called stale', () => {
    const o: RolloutObservation = { ...workloadObservation('StatefulSet', { revision: 2, replicas: 2, updated: 1, available: 1, old: 1, at: 1 }), newRevision: null };
    assert.equal(blockedOn({ ...o, pods: [], otherPods: [pod('web-1', 'stuck', OLD)] }), null);
    assert.equal(blockedOn({ ...o, newRevision: workloadObservation('StatefulSet', { revision: 2, at: 1 }).newRevision, pods: [], otherPods: [pod('web-1', 'stuck', OLD)] })?.staleRevision, true);
  });
});
