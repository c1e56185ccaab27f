/**
 * The watch after success on the real control plane (issue 13, `--bake-seconds`): a
 * Deployment succeeds, then one of its pods starts crash-looping within the bake window ->
 * the same message is edited to "succeeded, then degraded" (red, the reason, the owners
 * mentioned) and hermod_rollouts_degraded_total counts it; a new rollout during the bake ends
 * the bake silently; a bake that ends quietly leaves the message green, and a crash after it is
 * no news.
 *
 * The pod is made to crash-loop the way KWOK's crashloop stage would (test/cluster/kwok-stages.yaml):
 * its status is patched to CrashLoopBackOff (exit 1) and it is labelled
 * `sim.hermod.dev/failure=crashloop`, so no normal stage makes it ready again. The template is
 * untouched: no new revision.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MENTION_ANNOTATION } from '../../src/machines/annotations.js';
import { messageColour, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';
import type { StoredMessage } from '../support/slack-server.js';
import { dump, GREEN, RED, waitForMessage } from '../support/scenario.js';

/** The bake window: long enough to make a pod crash inside it, short enough to see it end. */
const BAKE_SECONDS = 20;
const GRACE_SECONDS = 2;
const USER = 'U012AB3CD';

/** Makes one running pod of `app` crash-loop, as the kubelet would report it. */
async function crashOnePod(h: Harness, namespace: string, app: string): Promise<string> {
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
async function waitUnavailable(h: Harness, namespace: string, name: string): Promise<void> {
  await h.waitFor(`${namespace}/${name} to lose an available replica`, async () => {
    const d = await h.getDeployment(namespace, name);
    return (d.status?.availableReplicas ?? 0) < (d.spec?.replicas ?? 0);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function title(m: { text: string }): string {
  return m.text.split('\n')[0]!;
}

describe('the watch after success on the real control plane', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ channels: ['degrade', 'reroll', 'quiet'], flags: { failingGraceSeconds: GRACE_SECONDS, bakeSeconds: BAKE_SECONDS } });
  });
  after(async () => {
    await h?.stop();
  });

  it('a pod that crash-loops within the bake edits the same message to "succeeded, then degraded"; a new rollout ends the bake silently; a quiet bake stays green', async () => {
    const before = await h.metric('hermod_rollouts_degraded_total', { kind: 'Deployment' });

    const degrade = (async () => {
      await h.createNamespace('degrade', { [SLACK_ANNOTATION]: 'degrade', [MENTION_ANNOTATION]: USER });
      await h.createDeployment({ namespace: 'degrade', name: 'api' });
      await waitForMessage(h, 'degrade', 'api', 1, 'green', (m) => messageColour(m) === GREEN);
      await crashOnePod(h, 'degrade', 'api');
      // The thread reply follows the edit (the owners at its head: a new message, which notifies).
      const m = await waitForMessage(h, 'degrade', 'api', 1, 'degraded, with its thread reply', (x) => title(x).endsWith('succeeded, then degraded') && x.replies.length > 0);
      assert.equal(h.messages('degrade').length, 1, 'the same message, edited');
      assert.equal(messageColour(m), RED, dump(m));
      assert.ok(m.history.some((v) => messageColour(v) === GREEN), `it was green first: ${dump(m)}`);
      const text = JSON.stringify(m.attachments);
      assert.match(text, /Degraded (\d+s |\d+m( \d+s)? )?after it succeeded/, dump(m));
      assert.match(text, /CrashLoopBackOff/, dump(m));
      assert.equal(m.text.split('\n')[1], `<@${USER}>`, 'the owners are mentioned, as for a failure');
      assert.equal(m.replies.length, 1, dump(m));
      assert.ok(m.replies[0]!.history.at(-1)!.text.startsWith(`<@${USER}>`), JSON.stringify(m.replies[0]));
      // Final: the pod coming back is not said (no flapping back to green).
      return m.history.length;
    })();

    const reroll = (async () => {
      await h.createNamespace('reroll', { [SLACK_ANNOTATION]: 'reroll' });
      await h.createDeployment({ namespace: 'reroll', name: 'web' });
      await waitForMessage(h, 'reroll', 'web', 1, 'green', (m) => messageColour(m) === GREEN);
      // Revision 2 crash-loops: were the bake of revision 1 still on, it would judge these pods.
      await h.updateDeployment({ namespace: 'reroll', name: 'web', image: 'registry.example/app:2', failure: 'crashloop' });
      await waitForMessage(h, 'reroll', 'web', 2, 'failing', (m) => messageColour(m) === RED && title(m).endsWith('is failing'));
      await sleep((GRACE_SECONDS + 3) * 1000);
      const first = h.messages('reroll').find((m) => m.text.includes('(revision 1)'));
      assert.ok(first);
      assert.ok(first.history.every((v) => messageColour(v) !== RED), `revision 1 never turned red: ${dump(first)}`);
      assert.ok(title(first).endsWith('succeeded'), dump(first));
    })();

    const quiet = (async () => {
      await h.createNamespace('quiet', { [SLACK_ANNOTATION]: 'quiet' });
      await h.createDeployment({ namespace: 'quiet', name: 'db' });
      const green = await waitForMessage(h, 'quiet', 'db', 1, 'green', (m) => messageColour(m) === GREEN);
      const versions = green.history.length;
      await sleep((BAKE_SECONDS + 2) * 1000);
      // After the window: a crash is no news for this rollout.
      await crashOnePod(h, 'quiet', 'db');
      await waitUnavailable(h, 'quiet', 'db');
      await sleep((GRACE_SECONDS + 3) * 1000);
      const m = h.messages('quiet')[0] as StoredMessage;
      assert.equal(h.messages('quiet').length, 1);
      assert.equal(m.history.length, versions, `no edit after the bake: ${dump(m)}`);
      assert.equal(messageColour(m), GREEN);
    })();

    const [edits] = await Promise.all([degrade, reroll, quiet]);
    assert.equal(await h.metric('hermod_rollouts_degraded_total', { kind: 'Deployment' }), before + 1, 'one degradation counted');
    // Said once: the degraded message is not edited again.
    const m = h.messages('degrade')[0]!;
    assert.equal(m.history.length, edits, dump(m));
  });
});
