/**
 * StatefulSets, DaemonSets and ControllerRevisions in the watch layer (issue 11): trimming
 * (./trimSets.ts) and the observation RolloutIndex assembles for a set: the revision it rolls
 * out to, only that revision's pods, Hermod's deadline, a rollback's history.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ControllerRevision, V1DaemonSet, V1Namespace, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { RolloutIndex } from '../../src/io/kube/caches.js';
import { trimNamespace, trimPod } from '../../src/io/kube/trim.js';
import { trimControllerRevision, trimDaemonSet, trimStatefulSet } from '../../src/io/kube/trimSets.js';

const raw = <T>(json: unknown): T => json as T;
const owner = (kind: string, name: string) => [{ apiVersion: 'apps/v1', kind, name, uid: `${kind}-${name}`, controller: true }];

const ns = (annotations: Record<string, string> = {}) =>
  trimNamespace(raw<V1Namespace>({ metadata: { name: 'shop', uid: 'ns-shop', annotations: { 'hermod.uswitch.com/slack': 'deploys', ...annotations } } }));
const sts = (updateRevision: string, annotations: Record<string, string> = {}, partition?: number) =>
  trimStatefulSet(
    raw<V1StatefulSet>({
      metadata: { name: 'db', namespace: 'shop', uid: 'StatefulSet-db', generation: 2, annotations },
      spec: { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: partition === undefined ? {} : { partition } } },
      status: { observedGeneration: 2, replicas: 3, readyReplicas: 2, updatedReplicas: 1, currentRevision: 'db-aaa', updateRevision },
    }),
  );
const ds = () =>
  trimDaemonSet(
    raw<V1DaemonSet>({
      metadata: { name: 'agent', namespace: 'shop', uid: 'DaemonSet-agent', generation: 1 },
      spec: {},
      status: { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 },
    }),
  );
const cr = (name: string, kind: string, ownerName: string, revision: number, hash?: string, image = 'db:1') =>
  trimControllerRevision(
    raw<V1ControllerRevision>({
      metadata: { name, namespace: 'shop', uid: `cr-${name}`, labels: hash === undefined ? {} : { 'controller-revision-hash': hash }, ownerReferences: owner(kind, ownerName) },
      revision,
      data: { spec: { template: { $patch: 'replace', metadata: { labels: { app: ownerName } }, spec: { containers: [{ name: 'app', image }] } } } },
    }),
  );
const pod = (name: string, kind: string, ownerName: string, hash: string) =>
  trimPod(raw<V1Pod>({ metadata: { name, namespace: 'shop', uid: `pod-${name}`, labels: { 'controller-revision-hash': hash }, ownerReferences: owner(kind, ownerName) }, status: { phase: 'Running' } }));

describe('trimming StatefulSets, DaemonSets and ControllerRevisions', () => {
  it('keeps what kubectl rollout status reads, with the API defaults', () => {
    const s = sts('db-bbb', { 'hermod.uswitch.com/progress-deadline-seconds': '90' }, 2);
    assert.equal(s.kind, 'StatefulSet');
    assert.deepEqual(s.spec, { replicas: 3, updateStrategy: 'RollingUpdate', rollingUpdate: true, partition: 2 });
    assert.equal(s.status.updateRevision, 'db-bbb');
    assert.equal(s.progressDeadlineAnnotation, '90');
    assert.equal(s.revision, null);
    assert.equal(ds().spec.updateStrategy, 'RollingUpdate');
    const onDelete = trimStatefulSet(raw<V1StatefulSet>({ metadata: { name: 'x' }, spec: { updateStrategy: { type: 'OnDelete' } } }));
    assert.deepEqual(onDelete.spec, { replicas: 1, updateStrategy: 'OnDelete', rollingUpdate: false, partition: null });
  });

  it('keeps what the rolling update may wait on, when set: podManagementPolicy, maxUnavailable, maxSurge', () => {
    const parallel = trimStatefulSet(
      raw<V1StatefulSet>({ metadata: { name: 'x' }, spec: { podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: '50%' } } } }),
    );
    assert.equal(parallel.spec.podManagementPolicy, 'Parallel');
    assert.equal(parallel.spec.maxUnavailable, '50%');
    const surging = trimDaemonSet(raw<V1DaemonSet>({ metadata: { name: 'y' }, spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 2 } } } }));
    assert.deepEqual(surging.spec, { updateStrategy: 'RollingUpdate', maxUnavailable: 0, maxSurge: 2 });
  });

  it("a revision's pods carry its name (StatefulSet) or its hash label (DaemonSet); its template is kept", () => {
    assert.equal(cr('db-bbb', 'StatefulSet', 'db', 2).podHash, 'db-bbb');
    assert.equal(cr('agent-5d8f', 'DaemonSet', 'agent', 1, '5d8f').podHash, '5d8f');
    assert.deepEqual(cr('db-bbb', 'StatefulSet', 'db', 2).template?.containers, [{ name: 'app', init: false, image: 'db:1' }]);
    assert.equal(pod('db-2', 'StatefulSet', 'db', 'db-bbb').ownerUid, 'StatefulSet-db');
    assert.equal(pod('db-2', 'StatefulSet', 'db', 'db-bbb').revisionHash, 'db-bbb');
  });
});

describe('RolloutIndex with StatefulSets and DaemonSets', () => {
  function world(nsAnnotations: Record<string, string> = {}, flag = 600) {
    const idx = new RolloutIndex(undefined, undefined, flag);
    idx.setNamespace(ns(nsAnnotations));
    return idx;
  }

  it('observes a StatefulSet at the revision named by updateRevision, with only that revision\'s pods', () => {
    const idx = world();
    assert.deepEqual(idx.sets.applySet({ type: 'add', key: 'StatefulSet-db', facts: sts('db-bbb') }), ['StatefulSet-db']);
    assert.deepEqual(idx.sets.applyRevision({ type: 'add', key: 'cr-db-aaa', facts: cr('db-aaa', 'StatefulSet', 'db', 1, undefined, 'db:1') }), ['StatefulSet-db']);
    idx.sets.applyRevision({ type: 'add', key: 'cr-db-bbb', facts: cr('db-bbb', 'StatefulSet', 'db', 2, undefined, 'db:2') });
    assert.deepEqual(idx.applyPod({ type: 'add', key: 'pod-db-2', facts: pod('db-2', 'StatefulSet', 'db', 'db-bbb') }), ['StatefulSet-db']);
    idx.applyPod({ type: 'add', key: 'pod-db-1', facts: pod('db-1', 'StatefulSet', 'db', 'db-aaa') });
    const o = idx.observation('StatefulSet-db', 1)!;
    assert.equal(o.deployment.kind, 'StatefulSet');
    assert.equal(o.deployment.revision, 2);
    assert.equal(o.newRevision?.name, 'db-bbb');
    assert.equal(o.previousRevision?.name, 'db-aaa');
    assert.deepEqual(o.pods.map((p) => p.name), ['db-2']);
    // The rolling update may wait on a pod of another revision (machines/setRollingUpdate.ts).
    assert.deepEqual(o.otherPods?.map((p) => p.name), ['db-1']);
    assert.equal(o.progressDeadlineSeconds, 600);
    assert.deepEqual(idx.workloadUids(), ['StatefulSet-db']);
  });

  it("a DaemonSet's revision is its newest ControllerRevision", () => {
    const idx = world();
    idx.sets.applySet({ type: 'add', key: 'DaemonSet-agent', facts: ds() });
    idx.sets.applyRevision({ type: 'add', key: 'cr-a1', facts: cr('agent-a1', 'DaemonSet', 'agent', 1, 'a1') });
    idx.sets.applyRevision({ type: 'add', key: 'cr-a2', facts: cr('agent-a2', 'DaemonSet', 'agent', 2, 'a2') });
    idx.applyPod({ type: 'add', key: 'pod-x', facts: pod('agent-x', 'DaemonSet', 'agent', 'a2') });
    idx.applyPod({ type: 'add', key: 'pod-y', facts: pod('agent-y', 'DaemonSet', 'agent', 'a1') });
    const o = idx.observation('DaemonSet-agent', 1)!;
    assert.equal(o.deployment.revision, 2);
    assert.deepEqual(o.pods.map((p) => p.name), ['agent-x']);
  });

  it('kubectl rollout undo renumbers a revision: its old number is kept as history', () => {
    const idx = world();
    idx.sets.applySet({ type: 'add', key: 'DaemonSet-agent', facts: ds() });
    const first = cr('agent-a1', 'DaemonSet', 'agent', 1, 'a1');
    idx.sets.applyRevision({ type: 'add', key: 'cr-a1', facts: first });
    idx.sets.applyRevision({ type: 'add', key: 'cr-a2', facts: cr('agent-a2', 'DaemonSet', 'agent', 2, 'a2') });
    idx.sets.applyRevision({ type: 'update', key: 'cr-a1', old: first, facts: cr('agent-a1', 'DaemonSet', 'agent', 3, 'a1') });
    const o = idx.observation('DaemonSet-agent', 1)!;
    assert.equal(o.deployment.revision, 3);
    assert.deepEqual(o.newRevision?.revisionHistory, [1]);
    assert.equal(o.previousRevision?.name, 'agent-a2');
  });

  it("Hermod's deadline: the workload's annotation, else the namespace's, else the flag", () => {
    const idx = world({ 'hermod.uswitch.com/progress-deadline-seconds': '120' }, 300);
    idx.sets.applySet({ type: 'add', key: 'StatefulSet-db', facts: sts('db-bbb') });
    assert.equal(idx.observation('StatefulSet-db', 1)?.progressDeadlineSeconds, 120);
    idx.sets.applySet({ type: 'add', key: 'StatefulSet-db', facts: sts('db-bbb', { 'hermod.uswitch.com/progress-deadline-seconds': '45' }) });
    assert.equal(idx.observation('StatefulSet-db', 1)?.progressDeadlineSeconds, 45);
    const plain = world({}, 300);
    plain.sets.applySet({ type: 'add', key: 'StatefulSet-db', facts: sts('db-bbb') });
    assert.equal(plain.observation('StatefulSet-db', 1)?.progressDeadlineSeconds, 300);
  });

  it('a set whose revision is not cached yet has no revision (not a rollout yet); dropping the namespace forgets it', () => {
    const idx = world();
    idx.sets.applySet({ type: 'add', key: 'StatefulSet-db', facts: sts('db-ccc') });
    assert.equal(idx.observation('StatefulSet-db', 1)?.deployment.revision, null);
    idx.dropNamespaceObjects('shop');
    assert.equal(idx.observation('StatefulSet-db', 1), null);
    assert.deepEqual(idx.workloadUids(), []);
  });
});
