/**
 * Rolling updates that cannot get past a stuck pod, on the real control plane (issue 11; the
 * rules are src/machines/setRollingUpdate.ts, read from the v1.37 controllers this cluster runs):
 * - a DaemonSet across three KWOK Nodes whose new revision crash-loops on one Node only, while
 *   its new pod on another Node is healthy: the controller updates no third Node (the stuck pod
 *   holds maxUnavailable), and Hermod says "is failing" long before its deadline, naming that
 *   pod and its Node;
 * - a StatefulSet (OrderedReady) reverted after a crash-looping revision: the controller waits
 *   for the broken pod of the unwanted revision and never replaces it (Kubernetes' "forced
 *   rollback" case); Hermod says so and how to get out, and the advised `kubectl delete pod`
 *   ends it green.
 * Each verdict is compared with kubectl's rule (src/machines/workloadRollout.ts) on the live object.
 *
 * KWOK plays the kubelet: the new template carries the crash-loop stage's label, so every new
 * pod starts crash-looping; the test heals the DaemonSet's FIRST new pod (test/support/podStatus.ts
 * `healPod`, as a kubelet reports a container that stopped crashing), so the revision crash-loops
 * on the second Node the controller picks, whichever that is, and nowhere else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { PROGRESS_DEADLINE_ANNOTATION } from '../../src/machines/annotations.js';
import { daemonSetStatus, statefulSetStatus } from '../../src/machines/workloadRollout.js';
import { trimDaemonSet, trimStatefulSet } from '../../src/io/kube/trimSets.js';
import { addFakeNodes } from '../support/fakeNodes.js';
import { healPod } from '../support/podStatus.js';
import { messageColour, messageText, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';
import { dump, GREEN, RED } from '../support/scenario.js';
import { createSet, deleteSet, everSaidFailed, getSet, messagesAbout, type SetKind, type SetSpec, updateSet, waitForColour } from '../support/workloadSets.js';

const NS = 'kinds-blocked';
/** Far beyond this file's runtime: every red here is the early rule, never the deadline. */
const LONG_DEADLINE = { [PROGRESS_DEADLINE_ANNOTATION]: '900' };

describe('rolling updates that cannot get past a stuck pod', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ channels: ['deploys'], flags: { failingGraceSeconds: 2 } });
    await h.createNamespace(NS, { [SLACK_ANNOTATION]: 'deploys' });
  });
  after(async () => {
    await h?.stop();
  });

  const about = (kind: SetKind, name: string, revision?: number) => messagesAbout(h, 'deploys', kind, name, revision);
  const verdict = (kind: SetKind, name: string, revision: number, colour: string) => waitForColour(h, 'deploys', kind, name, revision, colour);
  const podsOf = async (app: string) =>
    (await h.api<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=app%3D${app}`)).items.filter((p) => p.metadata?.deletionTimestamp == null);
  const isCrashLooping = (p: V1Pod) => (p.status?.containerStatuses ?? []).some((c) => c.state?.waiting?.reason === 'CrashLoopBackOff');
  const isNewRevision = (p: V1Pod) => p.metadata?.labels?.['sim.hermod.dev/failure'] === 'crashloop';

  it('a DaemonSet crash-looping on one Node while its other new pod is healthy is failing before the deadline, naming the pod and its Node', async () => {
    const nodes = await addFakeNodes(h, ['kwok-node-1', 'kwok-node-2']);
    try {
      const spec: SetSpec = { kind: 'DaemonSet', namespace: NS, name: 'split', maxUnavailable: 1, annotations: LONG_DEADLINE };
      await createSet(h, spec);
      await verdict('DaemonSet', 'split', 1, GREEN);

      await updateSet(h, { ...spec, image: 'registry.example/app:2', failure: 'crashloop' });
      // Heal the first new pod (healthy on its Node); the next new pod, on another Node, stays stuck.
      let healed: V1Pod | undefined;
      let stuck: V1Pod | undefined;
      const red = await h.waitFor(
        'split revision 2 failing on the second Node',
        async () => {
          const fresh = (await podsOf('split')).filter(isNewRevision);
          if (healed === undefined) {
            const first = fresh.find(isCrashLooping);
            if (first !== undefined) {
              await healPod(h, NS, first.metadata!.name!);
              healed = first;
            }
            return undefined;
          }
          stuck ??= fresh.find((p) => p.metadata?.name !== healed?.metadata?.name && isCrashLooping(p));
          if (stuck === undefined) return undefined;
          return about('DaemonSet', 'split', 2).find((m) => m.text.includes('is failing') && messageText(m).includes(`waits on pod \`${stuck?.metadata?.name}\``));
        },
        90_000,
      );
      const text = messageText(red);
      assert.notEqual(stuck?.spec?.nodeName, healed?.spec?.nodeName);
      assert.match(text, /1 of 2 new pods are stuck, and the rolling update cannot go past it/);
      assert.match(text, new RegExp(`waits on pod \`${stuck!.metadata!.name}\` on node \`${stuck!.spec!.nodeName}\`: no other Node is updated while it is unavailable`));
      assert.match(text, /CrashLoopBackOff/);
      assert.match(text, /2 of 3 pods, 1 ready/);
      assert.equal(messageColour(red), RED);
      assert.equal(everSaidFailed(red), false, 'failing early, not failed at the deadline');

      // kubectl's rule on the live object: not done; and the controller does not go on to the third Node.
      const live = async () => trimDaemonSet(await getSet(h, 'DaemonSet', NS, 'split'));
      assert.equal(daemonSetStatus(await live()).state, 'progressing');
      await new Promise((r) => setTimeout(r, 3_000));
      const after = await live();
      assert.equal(daemonSetStatus(after).state, 'progressing');
      assert.deepEqual([after.status.desiredNumberScheduled, after.status.updatedNumberScheduled, after.status.numberAvailable], [3, 2, 2], 'the third Node keeps its old pod');
      assert.equal((await podsOf('split')).filter(isNewRevision).length, 2);
    } finally {
      await deleteSet(h, 'DaemonSet', NS, 'split').catch(() => {});
      await h.waitFor('split pods gone', async () => (await podsOf('split')).length === 0, 60_000);
      await nodes.remove();
    }
  });

  it('a StatefulSet reverted while a pod of the broken revision crash-loops says the controller will not replace it, and deleting it ends green', async () => {
    const spec: SetSpec = { kind: 'StatefulSet', namespace: NS, name: 'ledger', replicas: 2, annotations: LONG_DEADLINE };
    await createSet(h, spec);
    await verdict('StatefulSet', 'ledger', 1, GREEN);
    await updateSet(h, { ...spec, image: 'registry.example/app:2', failure: 'crashloop' });
    await h.waitFor('ledger revision 2 failing', () => about('StatefulSet', 'ledger', 2).find((m) => m.text.includes('is failing')), 60_000);

    // kubectl rollout undo: the first template again. ledger-1 stays at the broken revision.
    await updateSet(h, spec);
    const red = await h.waitFor('ledger revision 3 failing', () => about('StatefulSet', 'ledger', 3).find((m) => m.text.includes('is failing')), 60_000);
    const text = messageText(red);
    assert.match(text, /back to revision 1/);
    assert.match(text, /The rolling update waits on a pod it will not replace/);
    assert.match(text, new RegExp(`Pod \`ledger-1\` on node \`${h.cluster.nodeName}\` is stuck on a revision that is no longer wanted; the StatefulSet controller will not replace it: \`kubectl delete pod ledger-1 -n ${NS}\``));
    assert.match(text, /CrashLoopBackOff/);

    // The live cluster agrees: kubectl waits, and the controller leaves ledger-1 at the broken revision.
    const live = async () => trimStatefulSet(await getSet(h, 'StatefulSet', NS, 'ledger'));
    await new Promise((r) => setTimeout(r, 3_000));
    const waiting = await live();
    assert.equal(statefulSetStatus(waiting).state, 'progressing');
    const broken = await h.api<V1Pod>('GET', `/api/v1/namespaces/${NS}/pods/ledger-1`);
    assert.notEqual(broken.metadata?.labels?.['controller-revision-hash'], waiting.status.updateRevision, 'not replaced');
    assert.ok(isCrashLooping(broken));

    // The advised way out.
    await h.api('DELETE', `/api/v1/namespaces/${NS}/pods/ledger-1`);
    const green = await verdict('StatefulSet', 'ledger', 3, GREEN);
    assert.equal(statefulSetStatus(await live()).state, 'complete', 'kubectl says it is done too');
    assert.equal(about('StatefulSet', 'ledger', 3).length, 1, 'one message, edited from red to green');
    assert.equal(everSaidFailed(green), false, dump(green));
  });
});
