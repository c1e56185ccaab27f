/**
 * Hermod restarted mid-rollout, on the real control plane with the local Slack: with its
 * delivery state persisted (--state-namespace), the restarted Hermod adopts the rollout and
 * edits the SAME message, which ends green; nothing is posted twice. The state lives in the
 * ConfigMap hermod-state in Hermod's own namespace and nowhere else.
 *
 * The rollout is held in flight by a "gate" (as in scenarios-lifecycle.test.ts): its new Pod
 * needs a Node label the fake Node lacks, so it stays Pending until the test adds the label.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STATE_KEY } from '../../src/io/kube/stateEncoding.js';
import { messageColour, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';
import { savedMessage, savedState } from '../support/savedState.js';
import type { StoredMessage } from '../support/slack-server.js';
import { dump, gateSelector, GREEN, openGate, ORANGE } from '../support/scenario.js';

const STATE_NS = 'hermod-system';
const NS = 'restart';

interface ConfigMap {
  metadata: { name: string; namespace: string };
  data?: Record<string, string>;
}

/** Every top-level message about `web` at `revision`. */
const messagesFor = (h: Harness, revision: number): StoredMessage[] =>
  h.messages(NS).filter((m) => m.text.includes(`\`web\` (revision ${revision})`));



describe('Hermod restarted mid-rollout, with persisted delivery state', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({ channels: [NS], flags: { stateNamespace: STATE_NS, failingGraceSeconds: 2 }, startHermod: false });
    await h.createNamespace(STATE_NS);
    await h.startHermod();
  });

  after(async () => {
    await h?.stop();
  });

  it('edits the same Slack message after the restart, and it ends green', async () => {
    await h.createNamespace(NS, { [SLACK_ANNOTATION]: NS });
    await h.createDeployment({ namespace: NS, name: 'web', replicas: 1 });
    await h.waitFor('revision 1 green', () => messagesFor(h, 1).some((m) => messageColour(m) === GREEN));
    const annotationsBefore = (await h.getDeployment(NS, 'web')).metadata?.annotations;

    // Revision 2, held in flight by the gate.
    await h.patchDeployment(NS, 'web', {
      spec: { template: { spec: { nodeSelector: gateSelector('restart'), containers: [{ name: 'app', image: 'registry.example/app:2' }] } } },
    });
    const first = await h.waitFor('revision 2 orange', () => messagesFor(h, 2).find((m) => messageColour(m) === ORANGE));
    const uid = (await h.getDeployment(NS, 'web')).metadata?.uid;
    const rolloutId = `${uid}/2`;
    // The periodic save has recorded where the message is.
    // In the channel's record, or still in the journal's binding (written before the channel
    // actor saw Slack's answer; a restart merges it the same way, and with fast writes no later
    // change may come to rewrite it as a record before the restart).
    const saved = await h.waitFor('the state ConfigMap to record the message', async () =>
      savedMessage(await savedState(h.cluster, STATE_NS), rolloutId),
    );
    assert.equal(saved.ts, first.ts);

    await h.stopHermod();
    const postsBefore = h.slack.requests().filter((r) => r.method === 'chat.postMessage').length;
    await h.startHermod();

    await openGate(h, 'restart');
    const done = await h.waitFor('revision 2 green', () => messagesFor(h, 2).find((m) => messageColour(m) === GREEN));

    assert.equal(messagesFor(h, 2).length, 1, `one message for the rollout: ${h.messages(NS).map((m) => m.text).join(' | ')}`);
    assert.equal(done.ts, first.ts, 'the message Hermod posted before the restart');
    assert.equal(messageColour(done.history[0]!), ORANGE, dump(done));
    assert.ok(done.history.length >= 2, dump(done));
    assert.equal(h.messages(NS).length, 2, 'revision 1 and revision 2, nothing else');
    const postsAfter = h.slack.requests().filter((r) => r.method === 'chat.postMessage').length;
    assert.equal(postsAfter, postsBefore, 'the restarted Hermod posted nothing new');

    // The state lives in Hermod's own namespace, and nowhere else.
    // A delivered verdict moves the rollout from the records to the finished list.
    await h.waitFor('the saved state to show the rollout finished', async () =>
      (await savedState(h.cluster, STATE_NS))?.channels.some((c) => c.finished.includes(rolloutId)),
    );
    const all = await h.cluster.request<{ items: ConfigMap[] }>('GET', '/api/v1/configmaps');
    const hermods = all.body.items.filter((c) => c.data?.[STATE_KEY] !== undefined || c.metadata.name === 'hermod-state');
    assert.deepEqual(hermods.map((c) => `${c.metadata.namespace}/${c.metadata.name}`), [`${STATE_NS}/hermod-state`]);
    const inUserNs = await h.cluster.request<{ items: ConfigMap[] }>('GET', `/api/v1/namespaces/${NS}/configmaps`);
    assert.deepEqual(inUserNs.body.items.map((c) => c.metadata.name).filter((n) => n !== 'kube-root-ca.crt'), []);
    const annotationsAfter = (await h.getDeployment(NS, 'web')).metadata?.annotations ?? {};
    assert.deepEqual(
      Object.keys(annotationsAfter).filter((k) => k !== 'deployment.kubernetes.io/revision'),
      Object.keys(annotationsBefore ?? {}).filter((k) => k !== 'deployment.kubernetes.io/revision'),
      'Hermod wrote nothing on the Deployment',
    );
  });
});
