/**
 * Behaviour on the real control plane (1): a successful rollout is one Slack message,
 * updated in place to succeeded, and the original's counters move.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rolloutStatus } from '../../src/machines/rollout.js';
import { trimDeployment } from '../../src/io/kube/trim.js';
import { messageColour, messageText, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';

describe('a successful rollout on the real control plane', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ channels: ['deploys'] });
  });
  after(async () => {
    await h?.stop();
  });

  it('posts one message per rollout and updates it in place to succeeded', async () => {
    await h.createNamespace('shop', { [SLACK_ANNOTATION]: 'deploys' });
    await h.createDeployment({ namespace: 'shop', name: 'web', replicas: 2 });
    await h.waitFor('revision 1 to succeed', () => h.messages('deploys').find((m) => messageColour(m) === '#36a64f'));
    await h.updateDeployment({ namespace: 'shop', name: 'web', replicas: 2, image: 'registry.example/app:2' });
    const done = await h.waitFor('revision 2 to succeed', () =>
      h.messages('deploys').find((m) => messageColour(m) === '#36a64f' && messageText(m).includes('revision 2')),
    );
    // One message for revision 2, first orange (in progress), edited to green: never a second post.
    const forRevision2 = h.messages('deploys').filter((m) => messageText(m).includes('revision 2'));
    assert.equal(forRevision2.length, 1, JSON.stringify(forRevision2.map((m) => m.text)));
    assert.equal((done.history[0]?.attachments?.[0] as { color?: string }).color, '#e69500');
    assert.ok(done.history.length >= 2, 'the message was updated in place');
    // Hermod's verdict agrees with the controller's status read the way kubectl reads it.
    const deployment = await h.getDeployment('shop', 'web');
    assert.equal(rolloutStatus(trimDeployment(deployment)).state, 'complete');
    assert.equal(await h.metric('hermod_deployment_processed_total'), 2);
    assert.equal(await h.metric('hermod_deployment_success_total'), 2);
    assert.equal(await h.metric('hermod_deployment_failed_total'), 0);
  });
});
