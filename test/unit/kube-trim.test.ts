/**
 * trim.ts: Kubernetes objects as the API sends them (plain JSON) -> Hermod's facts.
 * The inputs are shaped like `kubectl get -o json` output of a real cluster, trimmed of
 * nothing: the point is that the functions pick the right fields out of the whole object.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoreV1Event, V1Deployment, V1Namespace, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import {
  eventLastSeen,
  isTrackedNamespace,
  trimDeployment,
  trimEvent,
  trimNamespace,
  trimPod,
  trimReplicaSet,
} from '../../src/io/kube/trim.js';

// The watch delivers JSON, where timestamps are strings; client-node's types say Date.
const raw = <T>(json: unknown): T => json as T;

const deploymentMidRollout = raw<V1Deployment>({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    annotations: {
      'deployment.kubernetes.io/revision': '7',
      'hermod.uswitch.com/alert': ' failure ',
      'hermod.uswitch.com/slack': ' #web-team ',
      'hermod.uswitch.com/gitsha': '3f2a9c1',
      'hermod.uswitch.com/gitrepo': 'https://github.com/acme/web',
      'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1","kind":"Deployment"}',
    },
    creationTimestamp: '2025-03-01T10:00:00Z',
    generation: 9,
    labels: { app: 'web' },
    managedFields: [{ manager: 'kubectl', operation: 'Update', time: '2025-03-01T10:00:00Z' }],
    name: 'web',
    namespace: 'shop',
    resourceVersion: '48213',
    uid: 'd-uid-1',
  },
  spec: {
    progressDeadlineSeconds: 120,
    replicas: 3,
    revisionHistoryLimit: 10,
    selector: { matchLabels: { app: 'web' } },
    strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ image: 'acme/web:3f2a9c1', name: 'web', ports: [{ containerPort: 8080 }] }] },
    },
  },
  status: {
    availableReplicas: 2,
    conditions: [
      {
        lastTransitionTime: '2025-03-01T09:00:00Z',
        lastUpdateTime: '2025-03-01T09:00:00Z',
        message: 'Deployment has minimum availability.',
        reason: 'MinimumReplicasAvailable',
        status: 'True',
        type: 'Available',
      },
      {
        lastTransitionTime: '2025-03-01T09:00:00Z',
        lastUpdateTime: '2025-03-01T10:00:05Z',
        message: 'ReplicaSet "web-6d4cf56db6" is progressing.',
        reason: 'ReplicaSetUpdated',
        status: 'True',
        type: 'Progressing',
      },
    ],
    observedGeneration: 9,
    readyReplicas: 3,
    replicas: 4,
    unavailableReplicas: 2,
    updatedReplicas: 1,
  },
});

describe('trimDeployment', () => {
  it('keeps the fields decisions and messages read, from a full object', () => {
    assert.deepEqual(trimDeployment(deploymentMidRollout), {
      uid: 'd-uid-1',
      namespace: 'shop',
      name: 'web',
      generation: 9,
      revision: 7,
      alert: 'failure',
      channel: '#web-team',
      git: { sha: '3f2a9c1', repo: 'https://github.com/acme/web' },
      spec: { replicas: 3, paused: false, progressDeadlineSeconds: 120 },
      status: {
        observedGeneration: 9,
        replicas: 4,
        updatedReplicas: 1,
        readyReplicas: 3,
        availableReplicas: 2,
        unavailableReplicas: 2,
        conditions: [
          {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: 'Deployment has minimum availability.',
            lastUpdateTime: '2025-03-01T09:00:00Z',
          },
          {
            type: 'Progressing',
            status: 'True',
            reason: 'ReplicaSetUpdated',
            message: 'ReplicaSet "web-6d4cf56db6" is progressing.',
            lastUpdateTime: '2025-03-01T10:00:05Z',
          },
        ],
      },
    });
  });

  it('reads the git annotations under the configured names only', () => {
    const d = raw<V1Deployment>({
      metadata: {
        uid: 'u',
        name: 'api',
        namespace: 'ns',
        annotations: { 'ci.acme.io/sha': 'abc123', 'ci.acme.io/repo': 'https://git.acme.io/api', 'hermod.uswitch.com/gitsha': 'ignored' },
      },
    });
    assert.deepEqual(trimDeployment(d, { commitSha: 'ci.acme.io/sha', repoUrl: 'ci.acme.io/repo' }).git, {
      sha: 'abc123',
      repo: 'https://git.acme.io/api',
    });
  });

  it('applies the API defaults to a Deployment just created (no status, no annotations)', () => {
    const created = raw<V1Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'fresh', namespace: 'ns', uid: 'u2', generation: 1, resourceVersion: '5' },
      spec: { selector: { matchLabels: { app: 'fresh' } }, template: { spec: { containers: [] } } },
    });
    const f = trimDeployment(created);
    assert.equal(f.revision, null);
    assert.deepEqual(f.git, {});
    assert.equal(f.alert, undefined);
    assert.deepEqual(f.spec, { replicas: 1, paused: false, progressDeadlineSeconds: 600 });
    assert.deepEqual(f.status, {
      observedGeneration: 0,
      replicas: 0,
      updatedReplicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      unavailableReplicas: 0,
      conditions: [],
    });
  });

  it('survives empty conditions, nulls and garbage where the original crashed', () => {
    const weird = raw<V1Deployment>({
      metadata: { name: 'w', namespace: 'ns', uid: 'u3', annotations: { 'deployment.kubernetes.io/revision': 'x1' } },
      spec: { replicas: 0, paused: true },
      status: { conditions: [], replicas: null, observedGeneration: 2 },
    });
    const f = trimDeployment(weird);
    assert.equal(f.revision, null, 'a non-numeric revision is no revision');
    assert.equal(f.spec.replicas, 0, 'an explicit 0 is kept, not defaulted');
    assert.equal(f.spec.paused, true);
    assert.deepEqual(f.status.conditions, []);
    assert.equal(f.status.replicas, 0);
    assert.equal(f.status.observedGeneration, 2);
    assert.doesNotThrow(() => trimDeployment(raw<V1Deployment>({})));
    assert.doesNotThrow(() => trimDeployment(null));
    assert.deepEqual(trimDeployment(raw<V1Deployment>({ status: { conditions: [null, { type: 'Progressing' }] } })).status.conditions, [
      { type: 'Progressing', status: 'Unknown' },
    ]);
  });

  it('ignores blank annotation values', () => {
    const d = raw<V1Deployment>({
      metadata: { annotations: { 'hermod.uswitch.com/alert': '  ', 'hermod.uswitch.com/gitsha': '' } },
    });
    const f = trimDeployment(d);
    assert.equal(f.alert, undefined);
    assert.deepEqual(f.git, {});
  });

  it('reads Date objects (client-node deserialised models) the same as strings', () => {
    const d = raw<V1Deployment>({
      metadata: { name: 'x' },
      status: {
        conditions: [
          { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', lastUpdateTime: new Date('2025-03-01T10:02:00Z') },
          { type: 'Available', status: 'False', lastTransitionTime: new Date('2025-03-01T10:00:00.250Z') },
        ],
      },
    });
    const [progressing, available] = trimDeployment(d).status.conditions;
    assert.equal(progressing?.lastUpdateTime, '2025-03-01T10:02:00Z');
    assert.equal(available?.lastUpdateTime, '2025-03-01T10:00:00.250Z');
  });
});

describe('trimReplicaSet', () => {
  const rs = raw<V1ReplicaSet>({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      annotations: {
        'deployment.kubernetes.io/desired-replicas': '3',
        'deployment.kubernetes.io/max-replicas': '4',
        'deployment.kubernetes.io/revision': '7',
        'deployment.kubernetes.io/revision-history': '2,5',
      },
      generation: 3,
      labels: { app: 'web', 'pod-template-hash': '6d4cf56db6' },
      name: 'web-6d4cf56db6',
      namespace: 'shop',
      ownerReferences: [
        { apiVersion: 'apps/v1', blockOwnerDeletion: true, controller: true, kind: 'Deployment', name: 'web', uid: 'd-uid-1' },
      ],
      resourceVersion: '48200',
      uid: 'rs-uid-7',
    },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [] } } },
    status: {
      availableReplicas: 0,
      conditions: [
        {
          lastTransitionTime: '2025-03-01T10:00:01Z',
          message: 'pods "web-6d4cf56db6-abcde" is forbidden: violates PodSecurity "restricted:latest": privileged',
          reason: 'FailedCreate',
          status: 'True',
          type: 'ReplicaFailure',
        },
      ],
      fullyLabeledReplicas: 0,
      observedGeneration: 3,
      replicas: 0,
    },
  });

  it('keeps revision, rollback history, owner and status', () => {
    assert.deepEqual(trimReplicaSet(rs), {
      uid: 'rs-uid-7',
      namespace: 'shop',
      name: 'web-6d4cf56db6',
      ownerUid: 'd-uid-1',
      revision: 7,
      revisionHistory: [2, 5],
      replicas: 3,
      status: {
        replicas: 0,
        readyReplicas: 0,
        availableReplicas: 0,
        conditions: [
          {
            type: 'ReplicaFailure',
            status: 'True',
            reason: 'FailedCreate',
            message: 'pods "web-6d4cf56db6-abcde" is forbidden: violates PodSecurity "restricted:latest": privileged',
            lastUpdateTime: '2025-03-01T10:00:01Z',
          },
        ],
      },
      template: { containers: [], fingerprint: {} },
    });
  });

  it('has no owner when the controller is not a Deployment, or is not the controller', () => {
    const foreign = raw<V1ReplicaSet>({
      metadata: {
        ownerReferences: [
          { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'web', uid: 'ro-1', controller: true },
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-1', controller: false },
        ],
      },
    });
    assert.equal(trimReplicaSet(foreign).ownerUid, undefined);
  });

  it('defaults a bare ReplicaSet', () => {
    const f = trimReplicaSet(raw<V1ReplicaSet>({ metadata: { name: 'r' } }));
    assert.equal(f.replicas, 1);
    assert.equal(f.revision, null);
    assert.deepEqual(f.revisionHistory, []);
    assert.deepEqual(f.status, { replicas: 0, readyReplicas: 0, availableReplicas: 0, conditions: [] });
  });
});

describe('trimPod', () => {
  const crashLooping = raw<V1Pod>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      creationTimestamp: '2025-03-01T10:00:02Z',
      generateName: 'web-6d4cf56db6-',
      labels: { app: 'web', 'pod-template-hash': '6d4cf56db6' },
      name: 'web-6d4cf56db6-x7k2p',
      namespace: 'shop',
      ownerReferences: [
        { apiVersion: 'apps/v1', blockOwnerDeletion: true, controller: true, kind: 'ReplicaSet', name: 'web-6d4cf56db6', uid: 'rs-uid-7' },
      ],
      resourceVersion: '48290',
      uid: 'pod-uid-1',
    },
    spec: {
      containers: [{ image: 'acme/web:3f2a9c1', name: 'web', resources: { limits: { memory: '64Mi' } } }],
      initContainers: [{ image: 'acme/migrate:3f2a9c1', name: 'migrate' }],
      nodeName: 'node-1',
    },
    status: {
      conditions: [
        { lastProbeTime: null, lastTransitionTime: '2025-03-01T10:00:04Z', status: 'True', type: 'Initialized' },
        {
          lastProbeTime: null,
          lastTransitionTime: '2025-03-01T10:00:02Z',
          message: 'containers with unready status: [web]',
          reason: 'ContainersNotReady',
          status: 'False',
          type: 'Ready',
        },
        { lastProbeTime: null, lastTransitionTime: '2025-03-01T10:00:02Z', status: 'True', type: 'PodScheduled' },
      ],
      containerStatuses: [
        {
          containerID: 'containerd://abc',
          image: 'docker.io/acme/web:3f2a9c1',
          imageID: 'docker.io/acme/web@sha256:0000',
          lastState: {
            terminated: {
              containerID: 'containerd://abc',
              exitCode: 137,
              finishedAt: '2025-03-01T10:01:10Z',
              reason: 'OOMKilled',
              startedAt: '2025-03-01T10:01:05Z',
            },
          },
          name: 'web',
          ready: false,
          restartCount: 4,
          started: false,
          state: {
            waiting: {
              message: 'back-off 1m20s restarting failed container=web pod=web-6d4cf56db6-x7k2p_shop(pod-uid-1)',
              reason: 'CrashLoopBackOff',
            },
          },
        },
      ],
      hostIP: '10.0.0.5',
      initContainerStatuses: [
        {
          containerID: 'containerd://def',
          image: 'docker.io/acme/migrate:3f2a9c1',
          imageID: 'docker.io/acme/migrate@sha256:1111',
          lastState: {},
          name: 'migrate',
          ready: true,
          restartCount: 0,
          state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: '2025-03-01T10:00:04Z' } },
        },
      ],
      phase: 'Running',
      podIP: '10.244.0.12',
      qosClass: 'Burstable',
      startTime: '2025-03-01T10:00:02Z',
    },
  });

  it('keeps phase, conditions and each container state, init containers first', () => {
    assert.deepEqual(trimPod(crashLooping), {
      uid: 'pod-uid-1',
      namespace: 'shop',
      name: 'web-6d4cf56db6-x7k2p',
      ownerUid: 'rs-uid-7',
      node: 'node-1',
      phase: 'Running',
      deleting: false,
      containers: [
        {
          name: 'migrate',
          init: true,
          ready: true,
          restartCount: 0,
          image: 'docker.io/acme/migrate:3f2a9c1',
          terminated: { reason: 'Completed', exitCode: 0 },
        },
        {
          name: 'web',
          init: false,
          ready: false,
          restartCount: 4,
          image: 'docker.io/acme/web:3f2a9c1',
          waiting: {
            reason: 'CrashLoopBackOff',
            message: 'back-off 1m20s restarting failed container=web pod=web-6d4cf56db6-x7k2p_shop(pod-uid-1)',
          },
          lastTerminated: { reason: 'OOMKilled', exitCode: 137 },
        },
      ],
      conditions: [
        { type: 'Initialized', status: 'True', lastUpdateTime: '2025-03-01T10:00:04Z' },
        {
          type: 'Ready',
          status: 'False',
          reason: 'ContainersNotReady',
          message: 'containers with unready status: [web]',
          lastUpdateTime: '2025-03-01T10:00:02Z',
        },
        { type: 'PodScheduled', status: 'True', lastUpdateTime: '2025-03-01T10:00:02Z' },
      ],
    });
  });

  it('treats a Pod without status as pending and notices deletion', () => {
    const f = trimPod(
      raw<V1Pod>({
        metadata: {
          name: 'p',
          namespace: 'ns',
          uid: 'pu',
          deletionTimestamp: '2025-03-01T10:05:00Z',
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'ru', controller: true }],
        },
      }),
    );
    assert.equal(f.phase, 'Pending');
    assert.equal(f.deleting, true);
    assert.equal(f.ownerUid, 'ru');
    assert.deepEqual(f.containers, []);
    assert.deepEqual(f.conditions, []);
  });

  it('reads an image pull failure', () => {
    const f = trimPod(
      raw<V1Pod>({
        metadata: { name: 'p', uid: 'pu' },
        status: {
          phase: 'Pending',
          containerStatuses: [
            {
              name: 'web',
              image: 'acme/web:nope',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "acme/web:nope"' } },
              lastState: {},
            },
          ],
        },
      }),
    );
    assert.deepEqual(f.containers[0]?.waiting, { reason: 'ImagePullBackOff', message: 'Back-off pulling image "acme/web:nope"' });
    assert.equal(f.containers[0]?.lastTerminated, undefined);
  });
});

describe('trimEvent', () => {
  const backoff = raw<CoreV1Event>({
    apiVersion: 'v1',
    count: 7,
    eventTime: null,
    firstTimestamp: '2025-03-01T10:00:30Z',
    involvedObject: {
      apiVersion: 'v1',
      fieldPath: 'spec.containers{web}',
      kind: 'Pod',
      name: 'web-6d4cf56db6-x7k2p',
      namespace: 'shop',
      resourceVersion: '48250',
      uid: 'pod-uid-1',
    },
    kind: 'Event',
    lastTimestamp: '2025-03-01T10:03:00Z',
    message: 'Back-off restarting failed container web in pod web-6d4cf56db6-x7k2p_shop(pod-uid-1)',
    metadata: { creationTimestamp: '2025-03-01T10:00:30Z', name: 'web-6d4cf56db6-x7k2p.17f8', namespace: 'shop', uid: 'ev-1', resourceVersion: '48300' },
    reason: 'BackOff',
    reportingComponent: 'kubelet',
    reportingInstance: 'node-1',
    source: { component: 'kubelet', host: 'node-1' },
    type: 'Warning',
  });

  it('keeps what it is about, why, how often and when last', () => {
    assert.deepEqual(trimEvent(backoff), {
      namespace: 'shop',
      involvedKind: 'Pod',
      involvedName: 'web-6d4cf56db6-x7k2p',
      involvedUid: 'pod-uid-1',
      reason: 'BackOff',
      message: 'Back-off restarting failed container web in pod web-6d4cf56db6-x7k2p_shop(pod-uid-1)',
      count: 7,
      lastSeen: Date.parse('2025-03-01T10:03:00Z'),
    });
  });

  it('reads events.k8s.io-style series and eventTime-only events', () => {
    const series = raw<CoreV1Event>({
      involvedObject: { kind: 'ReplicaSet', name: 'web-1', namespace: 'shop', uid: 'rs-1' },
      metadata: { namespace: 'shop', uid: 'e2' },
      reason: 'FailedCreate',
      message: 'quota exceeded',
      eventTime: '2025-03-01T10:00:00.123456Z',
      series: { count: 12, lastObservedTime: '2025-03-01T10:20:00.500000Z' },
      type: 'Warning',
    });
    const f = trimEvent(series);
    assert.equal(f.count, 12);
    assert.equal(f.lastSeen, Date.parse('2025-03-01T10:20:00.500Z'));
    const eventTimeOnly = raw<CoreV1Event>({ involvedObject: {}, metadata: {}, eventTime: '2025-03-01T11:00:00.000001Z' });
    assert.equal(eventLastSeen(eventTimeOnly), Date.parse('2025-03-01T11:00:00Z'));
  });

  it('is safe on an empty event', () => {
    assert.deepEqual(trimEvent(raw<CoreV1Event>({})), {
      namespace: '',
      involvedKind: '',
      involvedName: '',
      reason: '',
      message: '',
      count: 1,
      lastSeen: 0,
    });
  });
});

describe('trimNamespace', () => {
  it('is tracked only with a non-blank slack annotation; alert read alongside', () => {
    const ns = raw<V1Namespace>({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'shop',
        uid: 'ns-1',
        annotations: { 'hermod.uswitch.com/slack': ' #shop-deploys ', 'hermod.uswitch.com/alert': 'failure' },
        labels: { 'kubernetes.io/metadata.name': 'shop' },
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    assert.deepEqual(trimNamespace(ns), { uid: 'ns-1', name: 'shop', channel: '#shop-deploys', alert: 'failure' });
    assert.equal(isTrackedNamespace(ns), true);
    const blank = raw<V1Namespace>({ metadata: { name: 'x', annotations: { 'hermod.uswitch.com/slack': '   ' } } });
    assert.equal(isTrackedNamespace(blank), false);
    assert.deepEqual(trimNamespace(blank), { uid: '', name: 'x' });
    assert.equal(isTrackedNamespace(raw<V1Namespace>({ metadata: { name: 'y' } })), false);
  });
});
