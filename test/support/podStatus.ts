/**
 * The test playing the kubelet for one pod (KWOK plays it for the rest: test/cluster/kwok-stages.yaml,
 * whose stages never touch a Running pod again, so a status written here stays): a pod that starts
 * crash-looping after its rollout succeeded (the watch after success, issue 13), or one that stops
 * crash-looping (a StatefulSet or DaemonSet that recovers, issue 11).
 */
import assert from 'node:assert/strict';
import type { Harness } from './hermod-harness.js';

/** The pod's conditions as a kubelet writes them, Ready or not (ContainersNotReady). */
function conditions(now: string, ready: boolean): Array<Record<string, string>> {
  const notReady = { status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' };
  return ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
    type,
    ...(!ready && (type === 'Ready' || type === 'ContainersReady') ? notReady : { status: 'True' }),
    lastTransitionTime: now,
  }));
}

/** Merges `status` into the pod's status subresource. */
async function writeStatus(h: Harness, namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
  await h.api('PATCH', `/api/v1/namespaces/${namespace}/pods/${name}/status`, { status }, 'application/merge-patch+json');
}

/**
 * Makes one running pod of `app` crash-loop, as the kubelet would report it: CrashLoopBackOff
 * (exit 1), and labelled `sim.hermod.dev/failure=crashloop` so no normal stage makes it ready
 * again. The template is untouched: no new revision.
 */
export async function crashOnePod(h: Harness, namespace: string, app: string): Promise<string> {
  const pods = await h.api<{ items: Array<{ metadata: { name: string }; status?: { phase?: string } }> }>('GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=app%3D${app}`);
  const pod = pods.items.find((p) => p.status?.phase === 'Running');
  assert.ok(pod, `a running pod of ${namespace}/${app}`);
  const name = pod.metadata.name;
  await h.api('PATCH', `/api/v1/namespaces/${namespace}/pods/${name}`, { metadata: { labels: { 'sim.hermod.dev/failure': 'crashloop' } } }, 'application/merge-patch+json');
  const now = new Date().toISOString();
  await writeStatus(h, namespace, name, {
    conditions: conditions(now, false),
    containerStatuses: [
      {
        name: 'app',
        image: 'registry.example/app:1',
        imageID: '',
        ready: false,
        started: false,
        restartCount: 3,
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now } },
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 40s restarting failed container=app pod=${name}_${namespace}` } },
      },
    ],
  });
  return name;
}

/** Makes a pod Running and Ready, as a kubelet reports a container that stopped crashing (the database it waited for came up). */
export async function healPod(h: Harness, namespace: string, name: string): Promise<void> {
  const pod = await h.api<{ spec?: { containers?: Array<{ name: string; image: string }> } }>('GET', `/api/v1/namespaces/${namespace}/pods/${name}`);
  const now = new Date().toISOString();
  await writeStatus(h, namespace, name, {
    phase: 'Running',
    conditions: conditions(now, true),
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready: true,
      started: true,
      restartCount: 2,
      state: { running: { startedAt: now } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now } },
    })),
  });
}

/** The controller sees the pod unready: the Deployment has fewer available replicas than it wants. */
export async function waitUnavailable(h: Harness, namespace: string, name: string): Promise<void> {
  await h.waitFor(`${namespace}/${name} to lose an available replica`, async () => {
    const d = await h.getDeployment(namespace, name);
    return (d.status?.availableReplicas ?? 0) < (d.spec?.replicas ?? 0);
  });
}
