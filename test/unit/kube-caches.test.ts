/**
 * RolloutIndex: which Deployment a change concerns, and the observation assembled for it
 * from the caches (new ReplicaSet by revision, its Pods only, recent warnings, target).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoreV1Event, V1Deployment, V1Namespace, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { RolloutIndex, alertLevel } from '../../src/io/kube/caches.js';
import { trimDeployment, trimEvent, trimNamespace, trimPod, trimReplicaSet } from '../../src/io/kube/trim.js';

const raw = <T>(json: unknown): T => json as T;
const T0 = Date.parse('2025-03-01T10:00:00Z');

const ns = (name: string, annotations: Record<string, string> = {}) =>
  trimNamespace(raw<V1Namespace>({ metadata: { name, uid: `ns-${name}`, annotations } }));
const dep = (name: string, revision: number | null, annotations: Record<string, string> = {}, namespace = 'shop') =>
  trimDeployment(
    raw<V1Deployment>({
      metadata: {
        name,
        namespace,
        uid: `d-${name}`,
        annotations: revision === null ? annotations : { ...annotations, 'deployment.kubernetes.io/revision': String(revision) },
      },
      spec: { replicas: 2 },
    }),
  );
const rs = (name: string, owner: string, revision: number, namespace = 'shop') =>
  trimReplicaSet(
    raw<V1ReplicaSet>({
      metadata: {
        name,
        namespace,
        uid: `rs-${name}`,
        annotations: { 'deployment.kubernetes.io/revision': String(revision) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: owner, uid: `d-${owner}`, controller: true }],
      },
    }),
  );
const pod = (name: string, owner: string, namespace = 'shop') =>
  trimPod(
    raw<V1Pod>({
      metadata: {
        name,
        namespace,
        uid: `p-${name}`,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: `rs-${owner}`, controller: true }],
      },
      status: { phase: 'Running' },
    }),
  );
const warning = (uid: string, kind: 'Pod' | 'ReplicaSet', about: string, reason: string, lastSeen: number) =>
  trimEvent(
    raw<CoreV1Event>({
      metadata: { namespace: 'shop', uid },
      involvedObject: { kind, name: about, namespace: 'shop', uid: kind === 'Pod' ? `p-${about}` : `rs-${about}` },
      reason,
      message: `${reason} about ${about}`,
      type: 'Warning',
      lastTimestamp: new Date(lastSeen).toISOString(),
    }),
  );

function world(): RolloutIndex {
  const idx = new RolloutIndex({ perObject: 2, maxAgeMs: 60 * 60 * 1000 });
  idx.setNamespace(ns('shop', { 'hermod.uswitch.com/slack': '#shop' }));
  idx.applyDeployment({ type: 'add', key: 'd-web', facts: dep('web', 3) });
  idx.applyReplicaSet({ type: 'add', key: 'rs-web-old', facts: rs('web-old', 'web', 2) });
  idx.applyReplicaSet({ type: 'add', key: 'rs-web-new', facts: rs('web-new', 'web', 3) });
  idx.applyPod({ type: 'add', key: 'p-old-1', facts: pod('old-1', 'web-old') });
  idx.applyPod({ type: 'add', key: 'p-new-2', facts: pod('new-2', 'web-new') });
  idx.applyPod({ type: 'add', key: 'p-new-1', facts: pod('new-1', 'web-new') });
  return idx;
}

describe('RolloutIndex', () => {
  it('assembles the observation from the new ReplicaSet (by revision) and its Pods only', () => {
    const idx = world();
    const obs = idx.observation('d-web', T0);
    assert.ok(obs);
    assert.equal(obs.at, T0);
    assert.equal(obs.deployment.name, 'web');
    assert.equal(obs.newReplicaSet?.name, 'web-new');
    assert.deepEqual(obs.pods.map((p) => p.name), ['new-1', 'new-2']);
    assert.deepEqual(obs.warnings, []);
    assert.deepEqual(obs.target, { channel: '#shop', alert: 'all' });
  });

  it('has no new ReplicaSet before the controller made it (or set the revision)', () => {
    const idx = world();
    idx.applyDeployment({ type: 'update', key: 'd-web', facts: dep('web', 4), old: dep('web', 3) });
    const obs = idx.observation('d-web', T0);
    assert.equal(obs?.newReplicaSet, null);
    assert.deepEqual(obs?.pods, []);
    idx.applyDeployment({ type: 'add', key: 'd-fresh', facts: dep('fresh', null) });
    assert.equal(idx.observation('d-fresh', T0)?.newReplicaSet, null);
  });

  it('says which Deployment a change concerns: only its new ReplicaSet and that set\'s Pods count', () => {
    const idx = world();
    assert.deepEqual(idx.applyPod({ type: 'update', key: 'p-new-1', facts: pod('new-1', 'web-new'), old: pod('new-1', 'web-new') }), ['d-web']);
    assert.deepEqual(idx.applyPod({ type: 'update', key: 'p-old-1', facts: pod('old-1', 'web-old'), old: pod('old-1', 'web-old') }), []);
    assert.deepEqual(idx.applyPod({ type: 'delete', key: 'p-new-2', old: pod('new-2', 'web-new') }), ['d-web']);
    assert.deepEqual(idx.applyReplicaSet({ type: 'update', key: 'rs-web-old', facts: rs('web-old', 'web', 2), old: rs('web-old', 'web', 2) }), []);
    assert.deepEqual(idx.applyReplicaSet({ type: 'update', key: 'rs-web-new', facts: rs('web-new', 'web', 3), old: rs('web-new', 'web', 3) }), ['d-web']);
    // An orphan Pod (its ReplicaSet is not cached) concerns nobody yet.
    assert.deepEqual(idx.applyPod({ type: 'add', key: 'p-x', facts: pod('x', 'nobody') }), []);
    assert.deepEqual(idx.observation('d-web', T0)?.pods.map((p) => p.name), ['new-1']);
  });

  it('warnings: about the new ReplicaSet and its Pods, recent only, a few per object, newest first', () => {
    const idx = world();
    const add = (e: ReturnType<typeof warning>, key: string) => idx.applyEvent({ type: 'add', key, facts: e });
    assert.deepEqual(add(warning('e1', 'Pod', 'new-1', 'BackOff', T0 - 60_000), 'e1'), ['d-web']);
    add(warning('e2', 'Pod', 'new-1', 'Failed', T0 - 30_000), 'e2');
    add(warning('e3', 'Pod', 'new-1', 'Unhealthy', T0 - 10_000), 'e3');
    add(warning('e4', 'ReplicaSet', 'web-new', 'FailedCreate', T0 - 5_000), 'e4');
    assert.deepEqual(add(warning('e5', 'Pod', 'old-1', 'BackOff', T0), 'e5'), [], 'old pods do not concern the rollout');
    add(warning('e6', 'Pod', 'new-2', 'FailedMount', T0 - 2 * 60 * 60 * 1000), 'e6');
    const obs = idx.observation('d-web', T0);
    assert.deepEqual(
      obs?.warnings.map((w) => `${w.involvedName}:${w.reason}`),
      ['web-new:FailedCreate', 'new-1:Unhealthy', 'new-1:Failed'],
      'two per object (BackOff is the third for new-1), the 2 h old one left out, old-1 not about this rollout',
    );
  });

  it('target: the Deployment\'s alert annotation wins over the namespace\'s', () => {
    const idx = world();
    idx.setNamespace(ns('shop', { 'hermod.uswitch.com/slack': '#shop', 'hermod.uswitch.com/alert': 'failure' }));
    assert.deepEqual(idx.observation('d-web', T0)?.target, { channel: '#shop', alert: 'failure' });
    idx.applyDeployment({ type: 'update', key: 'd-web', facts: dep('web', 3, { 'hermod.uswitch.com/alert': 'all' }), old: dep('web', 3) });
    assert.deepEqual(idx.observation('d-web', T0)?.target, { channel: '#shop', alert: 'all' });
    assert.equal(alertLevel(' Failure '), 'failure');
    assert.equal(alertLevel('failures'), 'all');
    assert.equal(alertLevel(undefined), 'all');
  });

  it("target: the Deployment's channel annotation wins over the namespace's, but never tracks by itself (issue 13)", () => {
    const idx = world();
    idx.setNamespace(ns('shop', { 'hermod.uswitch.com/slack': '#shop' }));
    idx.applyDeployment({ type: 'update', key: 'd-web', facts: dep('web', 3, { 'hermod.uswitch.com/slack': ' web-team ' }), old: dep('web', 3) });
    assert.deepEqual(idx.observation('d-web', T0)?.target, { channel: 'web-team', alert: 'all' });
    // A blank value on the Deployment falls back to the namespace's channel.
    idx.applyDeployment({ type: 'update', key: 'd-web', facts: dep('web', 3, { 'hermod.uswitch.com/slack': '  ' }), old: dep('web', 3) });
    assert.deepEqual(idx.observation('d-web', T0)?.target, { channel: '#shop', alert: 'all' });
    // Parity with the original: the namespace decides tracking, whatever the Deployment says.
    idx.applyDeployment({ type: 'update', key: 'd-web', facts: dep('web', 3, { 'hermod.uswitch.com/slack': 'web-team' }), old: dep('web', 3) });
    idx.setNamespace(ns('shop'));
    assert.equal(idx.observation('d-web', T0), null);
  });

  it("target: mentions from the namespace's or the Deployment's annotation (the Deployment's wins); a refused value mentions no one (issue 13)", () => {
    const idx = world();
    const mention = (value: string) => ({ 'hermod.uswitch.com/mention': value });
    idx.setNamespace(ns('shop', { 'hermod.uswitch.com/slack': '#shop', ...mention('S0614TZR7') }));
    assert.deepEqual(idx.observation('d-web', T0)?.target.mentions, ['<!subteam^S0614TZR7>']);
    idx.applyDeployment({ type: 'update', key: 'd-web', facts: dep('web', 3, mention('U012AB3CD W0123ABCDEF')), old: dep('web', 3) });
    assert.deepEqual(idx.observation('d-web', T0)?.target.mentions, ['<@U012AB3CD>', '<@W0123ABCDEF>']);
    // A refused value on the Deployment does not fall back to the namespace's: the owners said something else.
    idx.applyDeployment({ type: 'update', key: 'd-web', facts: dep('web', 3, mention('<!everyone>')), old: dep('web', 3) });
    assert.deepEqual(idx.observation('d-web', T0)?.target, { channel: '#shop', alert: 'all' });
    idx.applyDeployment({ type: 'update', key: 'd-web', facts: dep('web', 3, mention('here')), old: dep('web', 3) });
    assert.equal(idx.observation('d-web', T0)?.target.mentions, undefined);
    const broadcasting = new RolloutIndex(undefined, { allowBroadcast: true });
    broadcasting.setNamespace(ns('shop', { 'hermod.uswitch.com/slack': '#shop' }));
    broadcasting.applyDeployment({ type: 'add', key: 'd-web', facts: dep('web', 3, mention('here')) });
    assert.deepEqual(broadcasting.observation('d-web', T0)?.target.mentions, ['<!here>']);
  });

  it('no observation for an untracked namespace or an unknown Deployment', () => {
    const idx = world();
    idx.setNamespace(ns('shop'));
    assert.equal(idx.isTracked('shop'), false);
    assert.equal(idx.observation('d-web', T0), null);
    assert.equal(idx.observation('d-nope', T0), null);
  });

  it('dropNamespaceObjects forgets the namespace\'s workloads but not the namespace', () => {
    const idx = world();
    idx.applyEvent({ type: 'add', key: 'e1', facts: warning('e1', 'Pod', 'new-1', 'BackOff', T0) });
    idx.setNamespace(ns('other', { 'hermod.uswitch.com/slack': '#other' }));
    idx.applyDeployment({ type: 'add', key: 'd-api', facts: dep('api', 1, {}, 'other') });
    idx.dropNamespaceObjects('shop');
    assert.deepEqual(idx.counts(), { namespaces: 2, deployments: 1, replicasets: 0, pods: 0, events: 0, statefulsets: 0, daemonsets: 0, controllerrevisions: 0 });
    assert.deepEqual(idx.deploymentUidsIn('shop'), []);
    assert.deepEqual(idx.deploymentUidsIn('other'), ['d-api']);
  });
});
