/**
 * The rules of src/machines/workloadRollout.ts (issue 11): `kubectl rollout status` for
 * StatefulSets and DaemonSets branch by branch (table tests against the viewers' rules as
 * ../shared/reference/workloads.md restates them), rollout identity from ControllerRevisions,
 * the partition, OnDelete, and Hermod's own deadline.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ControllerRevisionFacts, DaemonSetFacts, PodFacts, StatefulSetFacts } from '../../src/machines/facts.js';
import { isNewRollout } from '../../src/machines/rollout.js';
import {
  daemonSetProgress,
  daemonSetStatus,
  deadlinePassed,
  hasOwnDeadline,
  isNotFollowable,
  isPodOfRevision,
  isWorkloadPaused,
  NOT_FOLLOWABLE_MESSAGE,
  ordinalOf,
  parseDeadlineSeconds,
  partitionOf,
  replacedRevision,
  resolveProgressDeadlineSeconds,
  statefulSetProgress,
  statefulSetStatus,
  targetRevision,
  waitingOnPod,
  workloadStatus,
} from '../../src/machines/workloadRollout.js';

type StsOver = Partial<StatefulSetFacts['spec']> & Partial<StatefulSetFacts['status']> & { generation?: number };

function sts(o: StsOver = {}): StatefulSetFacts {
  return {
    kind: 'StatefulSet',
    uid: 'uid-db',
    namespace: 'shop',
    name: 'db',
    generation: o.generation ?? 2,
    revision: 2,
    git: {},
    spec: {
      replicas: o.replicas ?? 3,
      updateStrategy: o.updateStrategy ?? 'RollingUpdate',
      rollingUpdate: o.rollingUpdate ?? true,
      partition: o.partition === undefined ? 0 : o.partition,
    },
    status: {
      observedGeneration: o.observedGeneration ?? 2,
      replicas: 3,
      readyReplicas: o.readyReplicas ?? 3,
      currentReplicas: o.currentReplicas ?? 3,
      updatedReplicas: o.updatedReplicas ?? 3,
      availableReplicas: 3,
      currentRevision: o.currentRevision ?? 'db-aaa',
      updateRevision: o.updateRevision ?? 'db-aaa',
    },
  };
}

type DsOver = Partial<DaemonSetFacts['spec']> & Partial<DaemonSetFacts['status']> & { generation?: number };

function ds(o: DsOver = {}): DaemonSetFacts {
  return {
    kind: 'DaemonSet',
    uid: 'uid-agent',
    namespace: 'shop',
    name: 'agent',
    generation: o.generation ?? 5,
    revision: 4,
    git: {},
    spec: { updateStrategy: o.updateStrategy ?? 'RollingUpdate' },
    status: {
      observedGeneration: o.observedGeneration ?? 5,
      desiredNumberScheduled: o.desiredNumberScheduled ?? 3,
      currentNumberScheduled: o.currentNumberScheduled ?? 3,
      updatedNumberScheduled: o.updatedNumberScheduled ?? 3,
      numberReady: o.numberReady ?? 3,
      numberAvailable: o.numberAvailable ?? 3,
    },
  };
}

function pod(name: string, ready: boolean, hash = 'db-bbb'): PodFacts {
  return {
    uid: `uid-${name}`,
    namespace: 'shop',
    name,
    ownerUid: 'uid-db',
    revisionHash: hash,
    phase: 'Running',
    deleting: false,
    containers: [],
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  };
}

function revision(name: string, n: number, podHash = name): ControllerRevisionFacts {
  return { uid: `uid-${name}`, namespace: 'shop', name, ownerUid: 'uid-db', revision: n, revisionHistory: [], podHash };
}

describe('kubectl rollout status statefulset', () => {
  const table: Array<[string, StsOver, string, string]> = [
    ['OnDelete', { updateStrategy: 'OnDelete' }, 'notFollowable', NOT_FOLLOWABLE_MESSAGE],
    ['observedGeneration 0', { observedGeneration: 0, generation: 0 }, 'specNotObserved', 'Waiting for statefulset spec update to be observed...'],
    ['spec not observed', { generation: 3 }, 'specNotObserved', 'Waiting for statefulset spec update to be observed...'],
    ['pods not ready', { readyReplicas: 1 }, 'progressing', 'Waiting for 2 pods to be ready...'],
    [
      'partition 0, updates pending',
      { updatedReplicas: 2, updateRevision: 'db-bbb' },
      'progressing',
      'Waiting for partitioned roll out to finish: 2 out of 3 new pods have been updated...',
    ],
    ['partition 0, all updated', { updatedReplicas: 3, updateRevision: 'db-bbb' }, 'complete', 'partitioned roll out complete: 3 new pods have been updated...'],
    [
      'partition 2, one updated: complete',
      { partition: 2, updatedReplicas: 1, updateRevision: 'db-bbb' },
      'complete',
      'partitioned roll out complete: 1 new pods have been updated...',
    ],
    [
      'partition 1, one updated: waiting',
      { partition: 1, updatedReplicas: 1, updateRevision: 'db-bbb' },
      'progressing',
      'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...',
    ],
    ['rollingUpdate without partition: done once ready', { partition: null, updatedReplicas: 0 }, 'complete', 'partitioned roll out complete: 0 new pods have been updated...'],
    [
      'no rollingUpdate, revisions differ',
      { rollingUpdate: false, partition: null, updatedReplicas: 1, updateRevision: 'db-bbb' },
      'progressing',
      'waiting for statefulset rolling update to complete 1 pods at revision db-bbb...',
    ],
    [
      'no rollingUpdate, revisions equal',
      { rollingUpdate: false, partition: null, currentRevision: 'db-bbb', updateRevision: 'db-bbb' },
      'complete',
      'statefulset rolling update complete 3 pods at revision db-bbb...',
    ],
  ];
  for (const [name, over, state, message] of table) {
    it(name, () => {
      const status = statefulSetStatus(sts(over));
      assert.equal(status.state, state);
      assert.equal(status.message, message);
      assert.deepEqual(workloadStatus(sts(over)).state, state);
    });
  }

  it('the ready check comes before the partition check (a partitioned rollout waits for its pods)', () => {
    assert.equal(statefulSetStatus(sts({ partition: 2, updatedReplicas: 1, readyReplicas: 2 })).state, 'progressing');
  });
});

describe('kubectl rollout status daemonset', () => {
  const table: Array<[string, DsOver, string, string]> = [
    ['OnDelete', { updateStrategy: 'OnDelete' }, 'notFollowable', NOT_FOLLOWABLE_MESSAGE],
    ['spec not observed', { generation: 6 }, 'specNotObserved', 'Waiting for daemon set spec update to be observed...'],
    ['updating', { updatedNumberScheduled: 1 }, 'progressing', 'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...'],
    ['updated, not available', { numberAvailable: 2 }, 'progressing', 'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...'],
    ['done', {}, 'complete', 'daemon set "agent" successfully rolled out'],
    ['no nodes: done', { desiredNumberScheduled: 0, updatedNumberScheduled: 0, numberAvailable: 0 }, 'complete', 'daemon set "agent" successfully rolled out'],
  ];
  for (const [name, over, state, message] of table) {
    it(name, () => {
      const status = daemonSetStatus(ds(over));
      assert.equal(status.state, state);
      assert.equal(status.message, message);
      assert.equal(workloadStatus(ds(over)).state, state);
    });
  }
});

describe('rollout identity', () => {
  it("a StatefulSet's target is the ControllerRevision named by status.updateRevision", () => {
    const revisions = [revision('db-aaa', 1), revision('db-bbb', 2)];
    assert.equal(targetRevision(sts({ updateRevision: 'db-aaa' }), revisions)?.revision, 1);
    assert.equal(targetRevision(sts({ updateRevision: 'db-bbb' }), revisions)?.revision, 2);
    assert.equal(targetRevision(sts({ updateRevision: 'db-ccc' }), revisions), null);
    assert.equal(targetRevision(sts({ updateRevision: '' }), revisions), null);
  });

  it("a DaemonSet's target is its newest ControllerRevision; undo renumbers an old one", () => {
    const revisions = [revision('agent-aaa', 3), revision('agent-bbb', 2)];
    assert.equal(targetRevision(ds(), revisions)?.name, 'agent-aaa');
    assert.equal(targetRevision(ds(), []), null);
  });

  it('the replaced revision is the highest below the target', () => {
    const revisions = [revision('a', 1), revision('b', 3), revision('c', 4)];
    assert.equal(replacedRevision(revisions[2] ?? null, revisions)?.name, 'b');
    assert.equal(replacedRevision(revisions[0] ?? null, revisions), null);
    assert.equal(replacedRevision(null, revisions), null);
  });

  it('scaling keeps the revision, so it is not a rollout; a new revision number is', () => {
    const before = sts();
    const scaled = { ...sts({ replicas: 5 }), revision: before.revision };
    assert.equal(isNewRollout(before.revision, scaled), false);
    assert.equal(isNewRollout(before.revision, { ...before, revision: 3 }), true);
    assert.equal(isNewRollout(2, { ...before, revision: null }), false);
  });

  it("pods of the new revision carry its controller-revision-hash", () => {
    assert.equal(isPodOfRevision(pod('db-0', true, 'db-bbb'), revision('db-bbb', 2)), true);
    assert.equal(isPodOfRevision(pod('db-0', true, 'db-aaa'), revision('db-bbb', 2)), false);
    assert.equal(isPodOfRevision({ ...pod('db-0', true), revisionHash: undefined } as PodFacts, revision('db-bbb', 2)), false);
    assert.equal(isPodOfRevision(pod('agent-x', true, '5d8f'), revision('agent-5d8f', 2, '5d8f')), true);
  });
});

describe('partition, ordinals and progress', () => {
  it('a partition above 0 is shown; 0, absent or another kind is not', () => {
    assert.equal(partitionOf(sts({ partition: 2 })), 2);
    assert.equal(partitionOf(sts({ partition: 0 })), null);
    assert.equal(partitionOf(sts({ partition: null })), null);
    assert.equal(partitionOf(ds()), null);
  });

  it('ordinals are read from pod names', () => {
    assert.equal(ordinalOf('db', 'db-0'), 0);
    assert.equal(ordinalOf('db', 'db-12'), 12);
    assert.equal(ordinalOf('db', 'db-01'), null);
    assert.equal(ordinalOf('db', 'other-1'), null);
    assert.equal(ordinalOf('db', 'db-x'), null);
  });

  it('a StatefulSet waits on its lowest not-ready new pod (updates go highest ordinal first)', () => {
    assert.equal(waitingOnPod(sts(), [pod('db-2', true), pod('db-1', false)]), 'db-1');
    assert.equal(waitingOnPod(sts(), [pod('db-2', false), pod('db-1', false)]), 'db-1');
    assert.equal(waitingOnPod(sts(), [pod('db-2', true)]), null);
    assert.equal(waitingOnPod(ds(), [pod('agent-x', false)]), null);
  });

  it("progress counts the new revision's pods, not the set's", () => {
    const p = statefulSetProgress(sts({ updatedReplicas: 1, readyReplicas: 3 }), [pod('db-2', false)]);
    assert.deepEqual(p, { desired: 3, updated: 1, ready: 0, available: 0, old: 2 });
    const d = daemonSetProgress(ds({ updatedNumberScheduled: 2 }), [pod('a', true), pod('b', false)]);
    assert.deepEqual(d, { desired: 3, updated: 2, ready: 1, available: 1, old: 1 });
  });
});

describe("Hermod's deadline", () => {
  it('annotation values: positive whole seconds up to a week', () => {
    assert.equal(parseDeadlineSeconds('120'), 120);
    assert.equal(parseDeadlineSeconds(' 30 '), 30);
    for (const bad of ['0', '-5', '1.5', 'ten', '', '604801', undefined, null]) assert.equal(parseDeadlineSeconds(bad), undefined, String(bad));
    assert.equal(parseDeadlineSeconds('604800'), 604800);
  });

  it('the workload wins over the namespace, which wins over the flag; a bad value falls through', () => {
    assert.equal(resolveProgressDeadlineSeconds({ workload: '60', namespace: '90', flag: 600 }), 60);
    assert.equal(resolveProgressDeadlineSeconds({ namespace: '90', flag: 600 }), 90);
    assert.equal(resolveProgressDeadlineSeconds({ workload: 'soon', namespace: '90', flag: 600 }), 90);
    assert.equal(resolveProgressDeadlineSeconds({ flag: 600 }), 600);
  });

  it('a StatefulSet or DaemonSet fails when the deadline passes unfinished', () => {
    const waiting = sts({ updatedReplicas: 1, updateRevision: 'db-bbb' });
    assert.equal(deadlinePassed(waiting, 59_999, 0, 60), false);
    assert.equal(deadlinePassed(waiting, 60_000, 0, 60), true);
    assert.equal(deadlinePassed(sts(), 60_000, 0, 60), false, 'complete is never past the deadline');
    assert.equal(deadlinePassed(sts({ updateStrategy: 'OnDelete' }), 60_000, 0, 60), false);
    assert.equal(deadlinePassed(waiting, 60_000, undefined, 60), false, 'no rollout, no deadline');
    assert.equal(deadlinePassed(ds({ numberAvailable: 0 }), 60_000, 0, 60), true);
  });

  it('only StatefulSets and DaemonSets use it; only Deployments pause; OnDelete cannot be followed', () => {
    assert.equal(hasOwnDeadline('Deployment'), false);
    assert.equal(hasOwnDeadline('StatefulSet'), true);
    assert.equal(hasOwnDeadline('DaemonSet'), true);
    assert.equal(isWorkloadPaused(sts()), false);
    assert.equal(isNotFollowable(ds({ updateStrategy: 'OnDelete' })), true);
    assert.equal(isNotFollowable(ds()), false);
  });
});
