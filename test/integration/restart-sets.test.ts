/**
 * Hermod restarted mid-rollout of a StatefulSet, on the real control plane with the local Slack
 * and persisted delivery state (issue 11), as test/integration/restart.test.ts does for a
 * Deployment. A StatefulSet has no progress deadline of its own: Hermod's counts from the
 * rollout's real start (its ControllerRevision's time), not from when a restarted Hermod adopted
 * it; and an undo done while no Hermod ran is still reported as going back to its revision.
 *
 * The rollout is held in flight by a gate (test/support/scenario.ts): its new Pod needs a Node
 * label no Node has, so it stays Pending.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1ControllerRevision } from '@kubernetes/client-node';
import { trimControllerRevision, trimStatefulSet } from '../../src/io/kube/trimSets.js';
import { PROGRESS_DEADLINE_ANNOTATION } from '../../src/machines/annotations.js';
import { statefulSetStatus } from '../../src/machines/workloadRollout.js';
import { messageColour, messageText, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';
import { dump, gateSelector, GREEN, ORANGE, RED } from '../support/scenario.js';
import { savedMessage, savedState } from '../support/savedState.js';
import type { StoredMessage } from '../support/slack-server.js';
import { createSet, getSet, updateSet, type SetSpec } from '../support/workloadSets.js';

const STATE_NS = 'hermod-system';
const NS = 'restart-sets';
const DEADLINE_SECONDS = 20;

/** Every top-level message about StatefulSet `db` at `revision`. */
const messagesFor = (h: Harness, revision: number): StoredMessage[] =>
  h.messages(NS).filter((m) => m.text.includes('StatefulSet `db`') && m.text.includes(`(revision ${revision})`));


/** The StatefulSet's ControllerRevision named `name`, as the API has it. */
async function revisionNamed(h: Harness, name: string): Promise<V1ControllerRevision> {
  return h.api<V1ControllerRevision>('GET', `/apis/apps/v1/namespaces/${NS}/controllerrevisions/${name}`);
}

describe('Hermod restarted mid-rollout of a StatefulSet, with persisted delivery state', () => {
  let h: Harness;
  // Parallel: a Pending pod does not block the controller from replacing it (OrderedReady would wait for it).
  const spec: SetSpec = {
    kind: 'StatefulSet',
    namespace: NS,
    name: 'db',
    replicas: 1,
    podManagementPolicy: 'Parallel',
    annotations: { [PROGRESS_DEADLINE_ANNOTATION]: String(DEADLINE_SECONDS) },
  };

  before(async () => {
    h = await startHarness({ channels: [NS], flags: { stateNamespace: STATE_NS, failingGraceSeconds: 2 }, startHermod: false });
    await h.createNamespace(STATE_NS);
    await h.startHermod();
  });

  after(async () => {
    await h?.stop();
  });

  it("counts Hermod's deadline from the revision's start: past it at the restart, the same message turns failed at once", async () => {
    await h.createNamespace(NS, { [SLACK_ANNOTATION]: NS });
    await createSet(h, spec);
    await h.waitFor('revision 1 green', () => messagesFor(h, 1).some((m) => messageColour(m) === GREEN));

    // Revision 2, held in flight by the gate.
    await updateSet(h, { ...spec, image: 'registry.example/app:2', nodeSelector: gateSelector('sts-restart') });
    const first = await h.waitFor('revision 2 orange', () => messagesFor(h, 2).find((m) => messageColour(m) === ORANGE));
    const uid = (await getSet(h, 'StatefulSet', NS, 'db')).metadata?.uid;
    const rolloutId = `${uid}/2`;
    const saved = await h
      .waitFor('the state ConfigMap to record the message', async () => savedMessage(await savedState(h.cluster, STATE_NS), rolloutId))
      .catch(async (err: Error) => {
        throw new Error(`${err.message}; ${rolloutId} ${first.ts}; saved: ${JSON.stringify(await savedState(h.cluster, STATE_NS))}`);
      });
    assert.equal(saved.ts, first.ts);

    await h.stopHermod();
    const versionsBefore = messagesFor(h, 2)[0]!.history.length;
    // Hermod is down while the deadline passes, counted from when the controller made revision 2.
    const live = await getSet(h, 'StatefulSet', NS, 'db');
    const created = trimControllerRevision(await revisionNamed(h, live.status?.updateRevision ?? '')).created;
    assert.ok(created !== undefined, 'the revision has a creationTimestamp');
    const pastDeadline = created + (DEADLINE_SECONDS + 2) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, pastDeadline - Date.now())));
    await h.startHermod();

    const failed = await h.waitFor('revision 2 failed', () => messagesFor(h, 2).find((m) => /on `test` failed/.test(m.text)), 60_000);
    assert.equal(messageColour(failed), RED, dump(failed));
    assert.equal(failed.ts, first.ts, 'the message Hermod posted before the restart');
    assert.equal(messagesFor(h, 2).length, 1, dump(failed));
    assert.match(messageText(failed), new RegExp(`Failed after ${DEADLINE_SECONDS} seconds\\* \\(Hermod's progress deadline\\)`));
    // Adopting it as if it started now would have turned it orange again and waited another deadline.
    const sinceRestart = failed.history.slice(versionsBefore);
    assert.ok(sinceRestart.length > 0 && sinceRestart.every((v) => messageColour(v) === RED), dump(failed));
    assert.notEqual(statefulSetStatus(trimStatefulSet(await getSet(h, 'StatefulSet', NS, 'db'))).state, 'complete', 'kubectl still waits');
  });

  it('an undo while no Hermod ran is reported as going back to revision 1', async () => {
    await h.stopHermod();
    const before = await getSet(h, 'StatefulSet', NS, 'db');
    const revisionOne = before.status?.currentRevision ?? '';
    // kubectl rollout undo: the first template again. The controller renumbers its ControllerRevision.
    const undoneAt = Date.now();
    await updateSet(h, spec);
    const renumbered = await h.waitFor('the first revision renumbered to 3', async () => {
      const cr = await revisionNamed(h, revisionOne);
      return cr.revision === 3 ? cr : undefined;
    });
    // What the adopted rollout's start rests on: a renumbering stamps the revision's managedFields time.
    const facts = trimControllerRevision(renumbered);
    assert.ok(facts.written !== undefined && facts.written >= Math.floor(undoneAt / 1000) * 1000, JSON.stringify(renumbered.metadata?.managedFields));
    assert.ok(facts.created !== undefined && facts.created < facts.written);

    await h.startHermod();
    // Adopted mid-rollout, or reported late if it finished before Hermod's caches synced: green either way.
    const back = await h.waitFor('revision 3 green', () => messagesFor(h, 3).find((m) => messageColour(m) === GREEN), 60_000);
    assert.match(messageText(back), /back to revision 1/, dump(back));
    assert.equal(statefulSetStatus(trimStatefulSet(await getSet(h, 'StatefulSet', NS, 'db'))).state, 'complete');
    assert.equal(messagesFor(h, 3).length, 1);
  });
});
