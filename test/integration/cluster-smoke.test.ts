/**
 * Smoke test of the test control plane (test/support/cluster.ts): a real
 * kube-apiserver + controller-manager + scheduler + KWOK roll a Deployment out,
 * and the KWOK failure stages drive a crash-looping Deployment into
 * ProgressDeadlineExceeded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FAILURE_LABEL, TEST_USER, startCluster, type TestCluster } from '../support/cluster.js';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface Deployment {
  metadata: { generation?: number; resourceVersion?: string };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: Condition[];
  };
}
interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state?: { waiting?: { reason?: string; message?: string }; running?: unknown };
  lastState?: { terminated?: { exitCode?: number; reason?: string } };
}
interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
  status?: { phase?: string; conditions?: Condition[]; containerStatuses?: ContainerStatus[] };
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

function deployment(name: string, podLabels: Record<string, string>, extra: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...podLabels } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
      },
      ...extra,
    },
  };
}

describe('test control plane', () => {
  let cluster: TestCluster;
  const ns = `smoke-${Date.now().toString(36)}`;

  before(async () => {
    const t0 = Date.now();
    cluster = await startCluster();
    console.log(`cluster (${cluster.kind}) started in ${cluster.startMs} ms (${Date.now() - t0} ms including the build check) at ${cluster.server}`);
  });

  after(async () => {
    if (cluster) await cluster.stop();
  });

  it('serves the pinned Kubernetes version and RBAC for the test user', async () => {
    const version = await cluster.request<{ gitVersion: string }>('GET', '/version');
    assert.equal(version.status, 200);
    console.log(`kube-apiserver reports ${version.body.gitVersion}`);
    if (cluster.kind === 'local') assert.match(version.body.gitVersion, /^v1\.\d+\.\d+$/);

    const created = await cluster.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    assert.equal(created.status, 201, JSON.stringify(created.body));

    if (cluster.userToken) {
      const denied = await cluster.request('GET', `/api/v1/namespaces/${ns}/pods`, undefined, { token: cluster.userToken });
      assert.equal(denied.status, 403, `${TEST_USER} must not list pods without a RoleBinding`);
      const review = await cluster.request<{ status: { userInfo: { username: string; groups: string[] } } }>(
        'POST',
        '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
        { token: cluster.userToken },
      );
      assert.equal(review.status, 201);
      assert.equal(review.body.status.userInfo.username, TEST_USER);
      assert.deepEqual(review.body.status.userInfo.groups, ['system:authenticated']);
    }
  });

  it('rolls a Deployment out to completion', async () => {
    const t0 = Date.now();
    const created = await cluster.request('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment('web', {}));
    assert.equal(created.status, 201, JSON.stringify(created.body));

    let sawProgressing = false;
    const done = await eventually('deployment web to complete', 60_000, async () => {
      const r = await cluster.request<Deployment>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/web`);
      const d = r.body;
      const s = d.status ?? {};
      if ((s.replicas ?? 0) > 0 && (s.availableReplicas ?? 0) < 2) sawProgressing = true;
      const complete =
        (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1) &&
        s.replicas === 2 &&
        s.updatedReplicas === 2 &&
        s.availableReplicas === 2;
      return complete ? d : undefined;
    });
    const progressing = done.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(progressing?.reason, 'NewReplicaSetAvailable');
    assert.ok(sawProgressing, 'the rollout should be observable while in progress (pods become Ready after a delay)');

    const pods = await cluster.request<{ items: Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dweb`);
    assert.equal(pods.body.items.length, 2);
    for (const p of pods.body.items) {
      assert.equal(p.status?.phase, 'Running');
      if (cluster.kind === 'local') assert.equal(p.spec.nodeName, cluster.nodeName);
    }
    console.log(`deployment web rolled out in ${Date.now() - t0} ms`);
  });

  it('simulates CrashLoopBackOff and the controller reports ProgressDeadlineExceeded', async () => {
    const t0 = Date.now();
    const created = await cluster.request(
      'POST',
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      deployment('crasher', { [FAILURE_LABEL]: 'crashloop' }, { replicas: 1, progressDeadlineSeconds: 10 }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));

    const pod = await eventually('a crash-looping pod', 30_000, async () => {
      const r = await cluster.request<{ items: Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dcrasher`);
      return r.body.items.find((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff');
    });
    const cs = pod.status!.containerStatuses![0]!;
    assert.ok(cs.restartCount > 0);
    assert.equal(cs.ready, false);
    assert.match(cs.state?.waiting?.message ?? '', /^back-off 10s restarting failed container=app /);
    assert.equal(cs.lastState?.terminated?.exitCode, 1);
    assert.equal(cs.lastState?.terminated?.reason, 'Error');
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    console.log(`pod ${pod.metadata.name} in CrashLoopBackOff after ${Date.now() - t0} ms`);

    const cond = await eventually('ProgressDeadlineExceeded', 60_000, async () => {
      const r = await cluster.request<Deployment>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/crasher`);
      const c = r.body.status?.conditions?.find((x) => x.type === 'Progressing');
      return c?.status === 'False' ? c : undefined;
    });
    assert.equal(cond.reason, 'ProgressDeadlineExceeded');
    console.log(`deployment crasher: Progressing=False/${cond.reason} after ${Date.now() - t0} ms`);
  });

  it('simulates ImagePullBackOff, OOMKilled and never-ready containers', async () => {
    const cases = {
      imagepull: (p: Pod) => {
        const cs = p.status?.containerStatuses?.[0];
        if (cs?.state?.waiting?.reason !== 'ImagePullBackOff') return false;
        assert.equal(p.status?.phase, 'Pending');
        assert.equal(cs.state.waiting.message, 'Back-off pulling image "nginx:1.27"');
        return true;
      },
      oomkilled: (p: Pod) => {
        const cs = p.status?.containerStatuses?.[0];
        if (cs?.state?.waiting?.reason !== 'CrashLoopBackOff') return false;
        assert.equal(cs.lastState?.terminated?.reason, 'OOMKilled');
        assert.equal(cs.lastState?.terminated?.exitCode, 137);
        assert.ok(cs.restartCount > 0);
        return true;
      },
      neverready: (p: Pod) => {
        const cs = p.status?.containerStatuses?.[0];
        if (!cs?.state?.running) return false;
        assert.equal(cs.ready, false);
        assert.equal(p.status?.phase, 'Running');
        assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
        return true;
      },
    } satisfies Record<string, (p: Pod) => boolean>;

    for (const failure of Object.keys(cases)) {
      const r = await cluster.request('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment(failure, { [FAILURE_LABEL]: failure }, { replicas: 1 }));
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    for (const [failure, check] of Object.entries(cases)) {
      await eventually(`a pod simulating ${failure}`, 30_000, async () => {
        const r = await cluster.request<{ items: Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods?labelSelector=app%3D${failure}`);
        return r.body.items.find(check);
      });
      const d = await cluster.request<Deployment>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/${failure}`);
      assert.equal(d.body.status?.availableReplicas ?? 0, 0, `${failure}: no replica may become available`);
    }
  });

  it('restarts the apiserver and compacts etcd so that an old watch gets 410 Gone', { skip: process.env.HERMOD_TEST_KUBECONFIG ? 'needs a local cluster' : false }, async () => {
    const before = await cluster.request<{ metadata: { resourceVersion: string } }>('GET', `/api/v1/namespaces/${ns}/configmaps`);
    const oldRv = before.body.metadata.resourceVersion;
    for (let i = 0; i < 3; i++) {
      const r = await cluster.request('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { i: String(i) } });
      assert.equal(r.status, 201);
    }
    const revision = await cluster.compactEtcd();
    assert.ok(revision > Number(oldRv));

    const t0 = Date.now();
    await cluster.restartApiServer();
    console.log(`kube-apiserver restarted in ${Date.now() - t0} ms`);

    const watch = await cluster.request<string>('GET', `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${oldRv}&timeoutSeconds=2`);
    // Either the request fails outright with 410, or the stream carries an ERROR event with code 410.
    const text = typeof watch.body === 'string' ? watch.body : JSON.stringify(watch.body);
    assert.ok(watch.status === 410 || /"code":\s*410/.test(text), `expected 410 Gone, got HTTP ${watch.status}: ${text.slice(0, 300)}`);

    // The cluster keeps working after the restart.
    const list = await cluster.request<{ items: unknown[] }>('GET', `/api/v1/namespaces/${ns}/configmaps`);
    assert.equal(list.status, 200);
    assert.ok(list.body.items.length >= 3);
  });
});
