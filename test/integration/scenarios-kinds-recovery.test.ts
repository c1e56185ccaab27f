/**
 * StatefulSets and DaemonSets on the real control plane, continued (issue 11): rollouts that go
 * red and recover (never "failed"), a DaemonSet rolling out node by node across three KWOK
 * Nodes, and a StatefulSet whose new pods PodSecurity refuses (FailedCreate). Each verdict is
 * compared with kubectl's rule (src/machines/workloadRollout.ts) applied to the live object.
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
import { dump, GREEN, GREY, ORANGE } from '../support/scenario.js';
import { createSet, deleteSet, everSaidFailed, getSet, messagesAbout, type SetKind, type SetSpec, updateSet, waitForColour } from '../support/workloadSets.js';

const NS = 'kinds-recovery';
const PSA_NS = 'kinds-psa';
/** Long enough that a recovery within this file never meets Hermod's deadline. */
const LONG_DEADLINE = { [PROGRESS_DEADLINE_ANNOTATION]: '900' };

describe('StatefulSets and DaemonSets that recover, on several Nodes, refused by PodSecurity', () => {
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
  const failing = (kind: SetKind, name: string, revision: number) =>
    h.waitFor(`${kind} ${name} revision ${revision} failing`, () => about(kind, name, revision).find((m) => m.text.includes('is failing')), 60_000);
  const stsState = async (namespace: string, name: string) => statefulSetStatus(trimStatefulSet(await getSet(h, 'StatefulSet', namespace, name))).state;
  const dsState = async (name: string) => daemonSetStatus(trimDaemonSet(await getSet(h, 'DaemonSet', NS, name))).state;
  const podsOf = async (namespace: string, app: string) =>
    (await h.api<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=app%3D${app}`)).items.filter((p) => p.metadata?.deletionTimestamp == null);
  const isCrashLooping = (p: V1Pod) => (p.status?.containerStatuses ?? []).some((c) => c.state?.waiting?.reason === 'CrashLoopBackOff');

  it('a crash-looping StatefulSet revision is failing, then green once its pods become ready: never failed', async () => {
    const spec: SetSpec = { kind: 'StatefulSet', namespace: NS, name: 'heal', replicas: 2, annotations: LONG_DEADLINE };
    await createSet(h, spec);
    await verdict('StatefulSet', 'heal', 1, GREEN);
    await updateSet(h, { ...spec, image: 'registry.example/app:2', failure: 'crashloop' });
    const red = await failing('StatefulSet', 'heal', 2);
    const broken = (await podsOf(NS, 'heal')).find((p) => p.metadata?.name === 'heal-1');
    assert.match(messageText(red), new RegExp(`waits on pod \`heal-1\` on node \`${broken?.spec?.nodeName}\``));
    assert.match(messageText(red), /CrashLoopBackOff/);
    assert.notEqual(await stsState(NS, 'heal'), 'complete');

    // The crash loop ends by itself (what it waited for came up): each new pod turns ready as it crashes.
    const done = await h.waitFor(
      'heal revision 2 green',
      async () => {
        for (const p of await podsOf(NS, 'heal')) if (isCrashLooping(p)) await healPod(h, NS, p.metadata!.name!);
        return about('StatefulSet', 'heal', 2).find((m) => messageColour(m) === GREEN);
      },
      90_000,
    );
    assert.equal(await stsState(NS, 'heal'), 'complete', 'kubectl says it is done too');
    assert.equal(about('StatefulSet', 'heal', 2).length, 1, 'one message, edited from red to green');
    assert.equal(everSaidFailed(done), false, dump(done));
    assert.ok(done.history.some((v) => v.text.includes('is failing')), dump(done));
  });

  it('a DaemonSet across three Nodes goes node by node; a crash-looping pod is named with its Node; a new template recovers it', async () => {
    const nodes = await addFakeNodes(h, ['kwok-node-1', 'kwok-node-2']);
    try {
      const spec: SetSpec = { kind: 'DaemonSet', namespace: NS, name: 'fleet', maxUnavailable: 1, annotations: LONG_DEADLINE };
      await createSet(h, spec);
      const first = await verdict('DaemonSet', 'fleet', 1, GREEN);
      assert.match(messageText(first), /3 replicas/);
      assert.equal((await getSet(h, 'DaemonSet', NS, 'fleet')).status?.desiredNumberScheduled, 3);

      // A new template, one Node at a time (maxUnavailable 1), as the live object shows while it goes.
      await updateSet(h, { ...spec, image: 'registry.example/app:2' });
      let mostUnavailable = 0;
      const updatedCounts = new Set<number>();
      const second = await h.waitFor(
        'fleet revision 2 green',
        async () => {
          const ds = await getSet(h, 'DaemonSet', NS, 'fleet');
          if ((ds.status?.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 0)) {
            mostUnavailable = Math.max(mostUnavailable, (ds.status?.desiredNumberScheduled ?? 0) - (ds.status?.numberAvailable ?? 0));
            updatedCounts.add(ds.status?.updatedNumberScheduled ?? 0);
          }
          return about('DaemonSet', 'fleet', 2).find((m) => messageColour(m) === GREEN);
        },
        90_000,
      );
      assert.ok(mostUnavailable <= 1, `at most one Node without an available pod at a time (saw ${mostUnavailable})`);
      assert.equal(await dsState('fleet'), 'complete');
      assert.match(messageText(second), /3 replicas/);
      assert.ok(second.history.some((v) => messageColour(v) === ORANGE && /of 3 pods/.test(messageText(v))), dump(second));

      // A crash-looping revision: the controller replaces one Node's pod, which never becomes available, and stops there.
      await updateSet(h, { ...spec, image: 'registry.example/app:3', failure: 'crashloop' });
      const red = await failing('DaemonSet', 'fleet', 3);
      const crashing = (await podsOf(NS, 'fleet')).filter((p) => p.metadata?.labels?.['sim.hermod.dev/failure'] === 'crashloop');
      assert.equal(crashing.length, 1, 'the rollout stopped at the first Node');
      const pod = crashing[0]!;
      assert.match(messageText(red), new RegExp(`waits on pod \`${pod.metadata?.name}\` on node \`${pod.spec?.nodeName}\``));
      assert.match(messageText(red), /1 of 3 pods/);
      assert.notEqual(await dsState('fleet'), 'complete');

      // The fix: a new template; the broken rollout is superseded, never failed.
      await updateSet(h, { ...spec, image: 'registry.example/app:4' });
      await verdict('DaemonSet', 'fleet', 4, GREEN);
      assert.equal(await dsState('fleet'), 'complete');
      const superseded = await verdict('DaemonSet', 'fleet', 3, GREY);
      assert.equal(everSaidFailed(superseded), false, dump(superseded));
    } finally {
      await deleteSet(h, 'DaemonSet', NS, 'fleet').catch(() => {});
      await h.waitFor('fleet pods gone', async () => (await podsOf(NS, 'fleet')).length === 0, 60_000);
      await nodes.remove();
    }
    const left = await h.api<{ items: Array<{ metadata: { name: string } }> }>('GET', '/api/v1/nodes');
    assert.deepEqual(left.items.map((n) => n.metadata.name), [h.cluster.nodeName], 'only the cluster\'s own Node is left');
  });

  it('a StatefulSet whose new pods PodSecurity refuses is failing with the refusal (FailedCreate); reverting the template recovers it', async () => {
    await h.createNamespace(PSA_NS, { [SLACK_ANNOTATION]: 'deploys' }, { 'pod-security.kubernetes.io/enforce': 'baseline' });
    const spec: SetSpec = { kind: 'StatefulSet', namespace: PSA_NS, name: 'vault', replicas: 2, annotations: LONG_DEADLINE };
    await createSet(h, spec);
    await verdict('StatefulSet', 'vault', 1, GREEN);
    await updateSet(h, { ...spec, container: { securityContext: { privileged: true } } });
    const red = await failing('StatefulSet', 'vault', 2);
    const text = messageText(red);
    assert.match(text, /The new revision cannot create pods/);
    assert.match(text, /FailedCreate/);
    assert.match(text, /violates PodSecurity/);
    assert.match(text, /privileged/);
    assert.notEqual(await stsState(PSA_NS, 'vault'), 'complete');

    // kubectl rollout undo: the first template again.
    await updateSet(h, spec);
    const back = await verdict('StatefulSet', 'vault', 3, GREEN);
    assert.match(messageText(back), /back to revision 1/);
    assert.equal(await stsState(PSA_NS, 'vault'), 'complete');
    const superseded = await verdict('StatefulSet', 'vault', 2, GREY);
    assert.equal(everSaidFailed(superseded), false, dump(superseded));
  });
});
