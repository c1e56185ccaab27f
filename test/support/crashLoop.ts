/**
 * Makes a running pod crash-loop after its rollout succeeded, the way KWOK's crashloop stage
 * would (test/cluster/kwok-stages.yaml): its status is patched to CrashLoopBackOff (exit 1) and
 * it is labelled `sim.hermod.dev/failure=crashloop`, so no normal stage makes it ready again. The
 * template is untouched: no new revision. For the watch after success (issue 13).
 */
import assert from 'node:assert/strict';
import type { Harness } from './hermod-harness.js';

/** Makes one running pod of `app` crash-loop, as the kubelet would report it. */
export async function crashOnePod(h: Harness, namespace: string, app: string): Promise<string> {
  const pods = await h.api<{ items: Array<{ metadata: { name: string }; status?: { phase?: string } }> }>('GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=app%3D${app}`);
  const pod = pods.items.find((p) => p.status?.phase === 'Running');
  assert.ok(pod, `a running pod of ${namespace}/${app}`);
  const name = pod.metadata.name;
  await h.api('PATCH', `/api/v1/namespaces/${namespace}/pods/${name}`, { metadata: { labels: { 'sim.hermod.dev/failure': 'crashloop' } } }, 'application/merge-patch+json');
  const now = new Date().toISOString();
  const notReady = 'containers with unready status: [app]';
  await h.api(
    'PATCH',
    `/api/v1/namespaces/${namespace}/pods/${name}/status`,
    {
      status: {
        conditions: [
          { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: now },
          { type: 'Initialized', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: notReady, lastTransitionTime: now },
          { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: notReady, lastTransitionTime: now },
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        ],
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
      },
    },
    'application/merge-patch+json',
  );
  return name;
}

/** The controller sees the pod unready: the Deployment has fewer available replicas than it wants. */
export async function waitUnavailable(h: Harness, namespace: string, name: string): Promise<void> {
  await h.waitFor(`${namespace}/${name} to lose an available replica`, async () => {
    const d = await h.getDeployment(namespace, name);
    return (d.status?.availableReplicas ?? 0) < (d.spec?.replicas ?? 0);
  });
}
