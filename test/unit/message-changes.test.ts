import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { trimReplicaSet } from '../../src/io/kube/trim.js';
import { MAX_FINGERPRINT_PATHS, MORE_FIELDS_PATH, trimTemplate } from '../../src/io/kube/trimTemplate.js';
import type { ReplicaSetFacts } from '../../src/machines/facts.js';
import { changesText } from '../../src/machines/changesLine.js';
import { MAX_CHANGED_FIELDS, parseImage, shortImage, templateChanges } from '../../src/machines/templateChanges.js';

function template(over: { image?: string; initImage?: string; env?: string; annotations?: Record<string, string>; labels?: Record<string, string> } = {}): V1PodTemplateSpec {
  return {
    metadata: { labels: { app: 'api', 'pod-template-hash': 'abc', ...over.labels }, ...(over.annotations ? { annotations: over.annotations } : {}) },
    spec: {
      initContainers: [{ name: 'migrate', image: over.initImage ?? 'ghcr.io/org/migrate:1.2.0' }],
      containers: [{ name: 'api', image: over.image ?? 'ghcr.io/org/api:1.2.0', env: [{ name: 'LEVEL', value: over.env ?? 'info' }] }],
    },
  };
}

function rs(t: V1PodTemplateSpec, revision: number, annotations: Record<string, string> = {}): ReplicaSetFacts {
  const obj: V1ReplicaSet = {
    metadata: { name: `api-${revision}`, namespace: 'shop', uid: `rs-${revision}`, annotations: { 'deployment.kubernetes.io/revision': String(revision), ...annotations } },
    spec: { selector: {}, template: t },
  };
  return trimReplicaSet(obj);
}

describe('trimTemplate: a small fingerprint of the pod template', () => {
  it('keeps container names and images, init containers first, and hashes the other fields by path', () => {
    const t = trimTemplate(template());
    assert.deepEqual(t.containers, [
      { name: 'migrate', init: true, image: 'ghcr.io/org/migrate:1.2.0' },
      { name: 'api', init: false, image: 'ghcr.io/org/api:1.2.0' },
    ]);
    assert.deepEqual(Object.keys(t.fingerprint), ['metadata.labels', 'spec.containers[api].env']);
  });

  it('ignores the pod-template-hash label and images; equal values hash equal whatever their key order', () => {
    const a = trimTemplate(template({ labels: { 'pod-template-hash': 'one' }, image: 'x:1' }));
    const b = trimTemplate(template({ labels: { 'pod-template-hash': 'two' }, image: 'x:2' }));
    assert.deepEqual(a.fingerprint, b.fingerprint);
    const c = trimTemplate({ spec: { containers: [{ name: 'api', resources: { limits: { cpu: '1', memory: '1Gi' } } }] } });
    const d = trimTemplate({ spec: { containers: [{ resources: { limits: { memory: '1Gi', cpu: '1' } }, name: 'api' }] } });
    assert.deepEqual(c.fingerprint, d.fingerprint);
  });

  it('stays small: at most MAX_FINGERPRINT_PATHS paths, the rest share one', () => {
    const annotations = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`a/${String(i).padStart(3, '0')}`, 'v'.repeat(1000)]));
    const t = trimTemplate(template({ annotations }));
    assert.equal(Object.keys(t.fingerprint).length, MAX_FINGERPRINT_PATHS);
    assert.ok(MORE_FIELDS_PATH in t.fingerprint);
    assert.ok(JSON.stringify(t).length < 4000, `${JSON.stringify(t).length}`);
  });

  it('carries kubernetes.io/change-cause from the ReplicaSet', () => {
    assert.equal(rs(template(), 2, { 'kubernetes.io/change-cause': 'bump api to 1.3.0' }).template?.changeCause, 'bump api to 1.3.0');
    assert.equal(rs(template(), 2).template?.changeCause, undefined);
  });
});

describe('templateChanges: what a rollout changed', () => {
  it('names each changed image, init containers too', () => {
    const c = templateChanges(rs(template(), 1), rs(template({ image: 'ghcr.io/org/api:1.3.0', initImage: 'ghcr.io/org/migrate:1.3.0' }), 2));
    assert.deepEqual(c?.images, [
      { container: 'migrate', init: true, from: 'ghcr.io/org/migrate:1.2.0', to: 'ghcr.io/org/migrate:1.3.0' },
      { container: 'api', init: false, from: 'ghcr.io/org/api:1.2.0', to: 'ghcr.io/org/api:1.3.0' },
    ]);
    assert.deepEqual(c?.fields, [], 'an image change says enough');
    assert.equal(changesText(c), 'init `migrate` `1.2.0` → `1.3.0`, `api` `1.2.0` → `1.3.0`');
  });

  it('without an image change: "pod template changed" with the changed paths', () => {
    const c = templateChanges(rs(template(), 1), rs(template({ env: 'debug', annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' } }), 2));
    assert.deepEqual(c?.fields, ['metadata.annotations[kubectl.kubernetes.io/restartedAt]', 'spec.containers[api].env']);
    assert.equal(changesText(c), 'pod template changed: `metadata.annotations[kubectl.kubernetes.io/restartedAt]`, `spec.containers[api].env`');
  });

  it('caps the changed paths and counts the rest', () => {
    const before = rs(template({ annotations: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'a'])) }), 1);
    const after = rs(template({ annotations: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'b'])) }), 2);
    const c = templateChanges(before, after);
    assert.equal(c?.fields.length, MAX_CHANGED_FIELDS);
    assert.equal(c?.moreFields, 9 - MAX_CHANGED_FIELDS);
    assert.ok(changesText(c).endsWith(' and 4 more'));
  });

  it('adds the change-cause and a rollback\'s target revision', () => {
    const c = templateChanges(rs(template({ image: 'ghcr.io/org/api:1.3.0' }), 4), rs(template(), 5, { 'kubernetes.io/change-cause': 'undo <!channel>' }), [2, 3]);
    assert.equal(c?.backTo, 3);
    assert.equal(changesText(c), 'back to revision 3 · `api` `1.3.0` → `1.2.0` · change-cause `undo &lt;!channel&gt;`');
  });

  it('says nothing when nothing is known, and names added and removed containers', () => {
    assert.equal(templateChanges(null, rs(template(), 1)), null);
    assert.equal(templateChanges(rs(template(), 1), rs(template(), 2)), null, 'identical templates');
    const sidecar = trimReplicaSet({ metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'api', image: 'ghcr.io/org/api:1.2.0' }, { name: 'proxy', image: 'envoy:1.30' }] } } } });
    const c = templateChanges(rs(template(), 1), sidecar);
    assert.equal(changesText(c), 'init `migrate` removed, `proxy` added (`envoy:1.30`)');
  });
});

describe('shortImage: the tag, or a short digest', () => {
  it('shows the tag when the repository stays, the name too when it changes', () => {
    assert.equal(shortImage('registry:5000/org/api:1.3', 'registry:5000/org/api:1.2'), '1.3');
    assert.equal(shortImage('nginx:1.27', 'caddy:2'), 'nginx:1.27');
    assert.equal(shortImage('nginx', 'nginx:1.26'), 'latest');
    assert.deepEqual(parseImage('registry:5000/org/api'), { repository: 'registry:5000/org/api', tag: null, digest: null });
  });

  it('shows a short digest when the tags do not tell the builds apart', () => {
    const a = 'ghcr.io/org/api:main@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
    const b = 'ghcr.io/org/api:main@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210';
    assert.equal(shortImage(a, b), '@0123456789ab');
    assert.equal(shortImage('ghcr.io/org/api@sha256:fedcba9876543210', 'ghcr.io/org/api:1'), '@fedcba987654');
  });
});
