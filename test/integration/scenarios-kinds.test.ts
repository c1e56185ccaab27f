/**
 * StatefulSets and DaemonSets on the real control plane (issue 11): the statefulset and
 * daemonset controllers run, KWOK plays the kubelet. Each verdict Hermod posts is compared
 * with kubectl's rule (src/machines/workloadRollout.ts) applied to the live object.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PROGRESS_DEADLINE_ANNOTATION } from '../../src/machines/annotations.js';
import { daemonSetStatus, statefulSetStatus } from '../../src/machines/workloadRollout.js';
import { trimDaemonSet, trimStatefulSet } from '../../src/io/kube/trimSets.js';
import { messageColour, messageText, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';
import { createSet, deleteSet, getSet, messagesAbout, patchSet, type SetKind, type SetSpec, updateSet, waitForColour } from '../support/workloadSets.js';
import { GREEN, GREY, RED } from '../support/scenario.js';

const NS = 'kinds';

describe('StatefulSets and DaemonSets on the real control plane', () => {
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
  const stsStatus = async (name: string) => statefulSetStatus(trimStatefulSet(await getSet(h, 'StatefulSet', NS, name))).state;
  const dsStatus = async (name: string) => daemonSetStatus(trimDaemonSet(await getSet(h, 'DaemonSet', NS, name))).state;

  it('a StatefulSet: first rollout, template change, restart and undo each get one message with the right verdict; scaling is silent', async () => {
    const spec: SetSpec = { kind: 'StatefulSet', namespace: NS, name: 'db', replicas: 2 };
    await createSet(h, spec);
    await verdict('StatefulSet', 'db', 1, GREEN);
    assert.equal(await stsStatus('db'), 'complete');

    await updateSet(h, { ...spec, image: 'registry.example/app:2' });
    const second = await verdict('StatefulSet', 'db', 2, GREEN);
    assert.equal(await stsStatus('db'), 'complete');
    assert.match(messageText(second), /`1` → `2`/);
    assert.equal(about('StatefulSet', 'db', 2).length, 1, 'one message per rollout, edited in place');

    await updateSet(h, { ...spec, image: 'registry.example/app:2', templateAnnotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-06T00:00:00Z' } });
    await verdict('StatefulSet', 'db', 3, GREEN);

    // kubectl rollout undo --to-revision=1: the first template again; its ControllerRevision is renumbered.
    await updateSet(h, spec);
    const undo = await verdict('StatefulSet', 'db', 4, GREEN);
    assert.match(messageText(undo), /back to revision 1/);
    assert.equal(await stsStatus('db'), 'complete');

    const before = h.messages('deploys').length;
    await patchSet(h, 'StatefulSet', NS, 'db', { spec: { replicas: 3 } });
    await h.waitFor('db scaled to 3 ready', async () => (await getSet(h, 'StatefulSet', NS, 'db')).status?.readyReplicas === 3);
    // Hermod saw the scale (its caches follow the API within a tick); a last observation would have posted by now.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(h.messages('deploys').length, before, 'scaling is not a rollout');
    assert.equal(await h.metric('hermod_rollouts_ended_total', { kind: 'StatefulSet', phase: 'succeeded' }), 4);
    // The original's counters count Deployments only.
    assert.equal(await h.metric('hermod_deployment_success_total'), 0);
  });

  it('a partitioned StatefulSet rollout ends green as partitioned rollout complete, with the partition shown', async () => {
    const spec: SetSpec = { kind: 'StatefulSet', namespace: NS, name: 'canary', replicas: 3 };
    await createSet(h, spec);
    await verdict('StatefulSet', 'canary', 1, GREEN);
    await updateSet(h, { ...spec, partition: 2, image: 'registry.example/app:2' });
    const done = await verdict('StatefulSet', 'canary', 2, GREEN);
    assert.match(messageText(done), /partitioned rollout complete: 1 of 3 pods updated, partition 2/);
    const live = trimStatefulSet(await getSet(h, 'StatefulSet', NS, 'canary'));
    assert.equal(statefulSetStatus(live).state, 'complete');
    assert.equal(live.status.updatedReplicas, 1);
  });

  it("a crash-looping StatefulSet revision is failing, names the pod it waits on, then fails at Hermod's deadline", async () => {
    const spec: SetSpec = { kind: 'StatefulSet', namespace: NS, name: 'crash', replicas: 2, annotations: { [PROGRESS_DEADLINE_ANNOTATION]: '20' } };
    await createSet(h, spec);
    await verdict('StatefulSet', 'crash', 1, GREEN);
    await updateSet(h, { ...spec, image: 'registry.example/app:2', failure: 'crashloop' });
    const failing = await h.waitFor('crash revision 2 failing', () => about('StatefulSet', 'crash', 2).find((m) => m.text.includes('is failing')), 60_000);
    assert.match(messageText(failing), /CrashLoopBackOff/);
    assert.match(messageText(failing), /waits on pod `crash-1`/);
    const failed = await h.waitFor('crash revision 2 failed', () => about('StatefulSet', 'crash', 2).find((m) => m.text.includes('failed')), 60_000);
    assert.equal(messageColour(failed), RED);
    assert.match(messageText(failed), /Failed after 20 seconds\* \(Hermod's progress deadline\)/);
    assert.notEqual(await stsStatus('crash'), 'complete', 'kubectl would still be waiting');
  });

  it('an OnDelete StatefulSet rollout is said once to be unfollowable, then nothing more', async () => {
    const spec: SetSpec = { kind: 'StatefulSet', namespace: NS, name: 'manual', replicas: 2, strategy: 'OnDelete' };
    await createSet(h, spec);
    await h.waitFor('manual pods ready', async () => (await getSet(h, 'StatefulSet', NS, 'manual')).status?.readyReplicas === 2);
    await updateSet(h, { ...spec, image: 'registry.example/app:2' });
    const said = await verdict('StatefulSet', 'manual', 2, GREY);
    assert.match(said.text, /cannot be followed \(OnDelete\)/);
    assert.equal(await stsStatus('manual'), 'notFollowable');
    await new Promise((r) => setTimeout(r, 2_000));
    // Its creation (revision 1) and the template change: each said once, in grey.
    assert.deepEqual(about('StatefulSet', 'manual').map(messageColour), [GREY, GREY]);
    assert.equal(about('StatefulSet', 'manual', 2).length, 1);
    assert.equal(about('StatefulSet', 'manual', 2)[0]?.history.length, said.history.length, 'never edited again');
  });

  it('a DaemonSet: first rollout, template change and restart succeed; a crash loop fails at the deadline; deleted mid-rollout', async () => {
    const spec: SetSpec = { kind: 'DaemonSet', namespace: NS, name: 'agent', annotations: { [PROGRESS_DEADLINE_ANNOTATION]: '20' } };
    await createSet(h, spec);
    await verdict('DaemonSet', 'agent', 1, GREEN);
    await updateSet(h, { ...spec, image: 'registry.example/app:2' });
    await verdict('DaemonSet', 'agent', 2, GREEN);
    assert.equal(await dsStatus('agent'), 'complete');
    await updateSet(h, { ...spec, image: 'registry.example/app:2', templateAnnotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-06T00:00:00Z' } });
    await verdict('DaemonSet', 'agent', 3, GREEN);

    await updateSet(h, { ...spec, image: 'registry.example/app:3', failure: 'crashloop' });
    await h.waitFor('agent revision 4 failing', () => about('DaemonSet', 'agent', 4).find((m) => m.text.includes('is failing')), 60_000);
    const failed = await h.waitFor('agent revision 4 failed', () => about('DaemonSet', 'agent', 4).find((m) => m.text.includes('failed')), 60_000);
    assert.equal(messageColour(failed), RED);
    assert.match(messageText(failed), /CrashLoopBackOff/);
    assert.match(messageText(failed), /Failed after 20 seconds\* \(Hermod's progress deadline\)/);
    assert.notEqual(await dsStatus('agent'), 'complete');

    await updateSet(h, { ...spec, image: 'registry.example/app:4', failure: 'crashloop' });
    await h.waitFor('agent revision 5 in progress', () => about('DaemonSet', 'agent', 5)[0]);
    await deleteSet(h, 'DaemonSet', NS, 'agent');
    const deleted = await h.waitFor('agent revision 5 deleted', () => about('DaemonSet', 'agent', 5).find((m) => m.text.includes('the DaemonSet was deleted')), 30_000);
    assert.equal(messageColour(deleted), GREY);
  });
});
