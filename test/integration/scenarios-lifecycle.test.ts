/**
 * Behaviour on the real control plane (5, 8): what is NOT a rollout (scaling, an HPA-style
 * change of the /scale subresource, metadata edits), and what happens to a rollout over its
 * life: paused and resumed, its Deployment deleted, its namespace untracked, and a
 * namespace that becomes tracked while its Deployments are at rest.
 *
 * Rollouts that must stay in flight until the test lets them finish are held by a "gate": a
 * nodeSelector on a label the fake Node does not have yet. The new Pod stays Pending
 * (Unschedulable: not a stuck container, so the message stays orange) until the test puts
 * the label on the Node.
 *
 * Scenarios run concurrently, each in its own namespace and channel; the counters are
 * checked once all of them are done.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { V1Deployment } from '@kubernetes/client-node';
import type { RolloutState } from '../../src/machines/rollout.js';
import { deploymentManifest, messageColour, messageText, SHA_ANNOTATION, SLACK_ANNOTATION, startHarness, type DeploymentSpec, type Harness } from '../support/hermod-harness.js';
import type { StoredMessage } from '../support/slack-server.js';
import { GATE_PREFIX, GREEN, GREY, ORANGE, controllerState, dump, openGate, messageFor, waitForMessage } from '../support/scenario.js';

/** How long "nothing happened" is watched for, once the cluster has settled. */
const QUIET_MS = 3_000;



const isColour = (colour: string) => (m: StoredMessage) => messageColour(m) === colour;


/** Every Slack request about `channel` (by name or by its ID). */
function requestsFor(h: Harness, channel: string): number {
  const id = h.slack.channels.get(channel)?.id;
  return h.slack.requests().filter((r) => r.channel === channel || (id !== undefined && r.channelId === id)).length;
}


function waitForController(h: Harness, namespace: string, name: string, state: RolloutState): Promise<true> {
  return h.waitFor(`the controller to call ${namespace}/${name} ${state}`, async () => (await controllerState(h, namespace, name)) === state);
}

/** The controller has observed the latest spec and every replica is updated, ready and available. */
function settledAt(d: V1Deployment, replicas: number): boolean {
  const s = d.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.replicas ?? 0) === replicas &&
    (s.updatedReplicas ?? 0) === replicas &&
    (s.readyReplicas ?? 0) === replicas &&
    (s.availableReplicas ?? 0) === replicas
  );
}

/** Pods of this template need the gate's label on a Node: they stay Pending until `openGate`. */
function gatedTemplate(gate: string, image: string): Record<string, unknown> {
  return { template: { spec: { nodeSelector: { [GATE_PREFIX + gate]: 'open' }, containers: [{ name: 'app', image }] } } };
}

async function createGated(h: Harness, spec: DeploymentSpec, gate: string): Promise<void> {
  const manifest = deploymentManifest(spec) as { spec: { template: { spec: Record<string, unknown> } } };
  manifest.spec.template.spec.nodeSelector = { [GATE_PREFIX + gate]: 'open' };
  await h.api('POST', `/apis/apps/v1/namespaces/${spec.namespace}/deployments`, manifest);
}



describe('the life of rollouts on the real control plane', () => {
  let h: Harness;
  let initial: { processed: number; success: number };
  before(async () => {
    h = await startHarness({ channels: ['quiet', 'paused', 'gone', 'untrack', 'late'], flags: { failingGraceSeconds: 2 } });
    initial = { processed: await h.metric('hermod_deployment_processed_total'), success: await h.metric('hermod_deployment_success_total') };
  });
  after(async () => {
    await h?.stop();
  });

  describe('scenarios', { concurrency: true }, () => {
    it('scaling, an HPA-style /scale change and metadata edits post nothing; the next real rollout does', async () => {
      const ns = 'quiet';
      await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'quiet' });
      await h.createDeployment({ namespace: ns, name: 'web', replicas: 2 });
      await h.createDeployment({ namespace: ns, name: 'barrier', replicas: 1 });
      const first = await waitForMessage(h, ns, 'web', 1, 'green', isColour(GREEN));
      await waitForMessage(h, ns, 'barrier', 1, 'green', isColour(GREEN));
      const versions = first.history.length;
      const aboutWeb = (): StoredMessage[] => h.messages(ns).filter((m) => m.text.includes('`web`'));
      let barrier = 1;

      /** Apply a change and wait until the controller settled and Hermod has seen everything up to then. */
      const silently = async (what: string, change: () => Promise<unknown>, replicas: number): Promise<void> => {
        await change();
        await h.waitFor(`${what}: the controller to settle at ${replicas} replicas`, async () => settledAt(await h.getDeployment(ns, 'web'), replicas));
        // The barrier: a rollout of a sibling started after the change settled. Deployments come
        // on one watch stream, in order, and a channel posts in order: once the barrier's message
        // is in Slack, anything Hermod had to say about the change would be there too.
        barrier += 1;
        await h.updateDeployment({ namespace: ns, name: 'barrier', replicas: 1, image: `registry.example/app:${barrier}` });
        await waitForMessage(h, ns, 'barrier', barrier, 'green', isColour(GREEN));
        await sleep(1_000);
        assert.equal(aboutWeb().length, 1, `${what}: no new message about web`);
        assert.equal(first.history.length, versions, `${what}: the message was not edited`);
        const live = await h.getDeployment(ns, 'web');
        assert.equal(live.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1', `${what}: still revision 1`);
        assert.equal(await controllerState(h, ns, 'web'), 'complete');
      };

      await silently('scale to 4', () => h.patchDeployment(ns, 'web', { spec: { replicas: 4 } }), 4);
      // What an HPA does: write the /scale subresource, not the Deployment.
      await silently(
        'HPA-style scale to 1',
        () => h.api('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/web/scale`, { spec: { replicas: 1 } }, 'application/merge-patch+json'),
        1,
      );
      await silently(
        'labels and annotations',
        () =>
          h.patchDeployment(ns, 'web', {
            metadata: { labels: { team: 'payments', tier: 'web' }, annotations: { 'example.com/owner': 'payments', [SHA_ANNOTATION]: 'b'.repeat(40) } },
          }),
        1,
      );
      const actor = h.hermod?.supervisor.deployment(ns, 'web');
      assert.deepEqual(actor?.getSnapshot().value, { succeeded: 'baked' }, 'the Deployment actor is still at rest after revision 1');

      // A new template is a rollout, posted as revision 2.
      await h.updateDeployment({ namespace: ns, name: 'web', replicas: 1, image: 'registry.example/app:2' });
      const second = await waitForMessage(h, ns, 'web', 2, 'green', isColour(GREEN));
      assert.match(messageText(second), /revision 2 \(was 1\)/);
      assert.ok(messageText(second).includes('`app` `1` → `2`'), `what changed: ${messageText(second)}`);
      assert.equal(aboutWeb().length, 2);
    });

    it('a paused rollout says so, holds its verdict while paused, and completes in the same message once resumed', async () => {
      const ns = 'paused';
      await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'paused' });
      await h.createDeployment({ namespace: ns, name: 'web', replicas: 2 });
      await waitForMessage(h, ns, 'web', 1, 'green', isColour(GREEN));

      await h.patchDeployment(ns, 'web', { spec: gatedTemplate(ns, 'registry.example/app:2') });
      await waitForMessage(h, ns, 'web', 2, 'in progress', isColour(ORANGE));
      await h.patchDeployment(ns, 'web', { spec: { paused: true } });
      const paused = await waitForMessage(h, ns, 'web', 2, 'paused', (m) => m.text.endsWith('is paused'));
      assert.equal(messageColour(paused), ORANGE);
      assert.match(messageText(paused), /Paused: the rollout continues once the Deployment is resumed/);
      const progressing = (await h.getDeployment(ns, 'web')).status?.conditions?.find((c) => c.type === 'Progressing');
      assert.equal(progressing?.reason, 'DeploymentPaused', 'the controller saw the pause');

      // The new Pod can start now, but a paused Deployment does not move on: no verdict yet.
      await openGate(h, ns);
      await h.waitFor('the new Pod to be ready', async () => ((await h.getDeployment(ns, 'web')).status?.readyReplicas ?? 0) >= 3);
      await sleep(QUIET_MS);
      const held = messageFor(h, ns, 'web', 2)!;
      assert.ok(held.text.endsWith('is paused'), dump(held));
      assert.equal(await controllerState(h, ns, 'web'), 'progressing');

      await h.patchDeployment(ns, 'web', { spec: { paused: false } });
      const done = await waitForMessage(h, ns, 'web', 2, 'green', isColour(GREEN));
      assert.equal(await controllerState(h, ns, 'web'), 'complete');
      const texts = done.history.map((v) => v.text);
      const pausedAt = texts.findIndex((t) => t.endsWith('is paused'));
      assert.ok(pausedAt > 0 && texts.at(-1)?.endsWith('succeeded') === true, dump(done));
      assert.equal(messageColour(done.history[0]!), ORANGE, dump(done));
      assert.equal(h.messages(ns).length, 2, 'one message per rollout');
    });

    it('a Deployment deleted mid-rollout ends its message with "deleted"', async () => {
      const ns = 'gone';
      await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'gone' });
      await createGated(h, { namespace: ns, name: 'web' }, ns);
      const started = await waitForMessage(h, ns, 'web', 1, 'in progress', isColour(ORANGE));
      // Created while Hermod watches (a moment after its namespace): seen from its start, not adopted.
      assert.ok(!messageText(started).includes('adopted'), messageText(started));
      // The controller writes the revision and the observed generation in separate updates: Hermod
      // may show the rollout before the controller's status has caught up with its spec.
      await waitForController(h, ns, 'web', 'progressing');
      await h.deleteDeployment(ns, 'web');

      const ended = await waitForMessage(h, ns, 'web', 1, 'deleted', (m) => m.text.endsWith('stopped: the Deployment was deleted'));
      assert.equal(messageColour(ended), GREY);
      assert.match(messageText(ended), /stopped: the Deployment was deleted\n/);
      const versions = ended.history.length;
      await sleep(QUIET_MS);
      assert.equal(messageFor(h, ns, 'web', 1)?.history.length, versions, 'nothing after the last word');
      assert.equal(h.messages(ns).length, 1);
      assert.equal(h.hermod?.supervisor.deployment(ns, 'web'), undefined, 'its actor is gone');
    });

    it('a namespace that loses its annotation mid-rollout: the message says Hermod stopped tracking, then silence', async () => {
      const ns = 'untrack';
      await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'untrack' });
      await createGated(h, { namespace: ns, name: 'web' }, ns);
      await waitForMessage(h, ns, 'web', 1, 'in progress', isColour(ORANGE));
      await h.annotateNamespace(ns, { [SLACK_ANNOTATION]: null });

      const ended = await waitForMessage(h, ns, 'web', 1, 'untracked', (m) => /stopped tracking/.test(m.text));
      assert.equal(messageColour(ended), GREY);
      assert.match(messageText(ended), /Hermod stopped tracking Deployment `web` \(revision 1\) in `untrack`[\s\S]*lost the `hermod\.uswitch\.com\/slack` annotation/);
      const requests = requestsFor(h, ns);

      // The rollout completes and a later one runs: Hermod says nothing about either, anywhere.
      await openGate(h, ns);
      await waitForController(h, ns, 'web', 'complete');
      await h.updateDeployment({ namespace: ns, name: 'web', image: 'registry.example/app:2' });
      await h.waitFor('revision 2 to be observed by the controller', async () => (await h.getDeployment(ns, 'web')).metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2');
      await waitForController(h, ns, 'web', 'complete');
      await sleep(QUIET_MS);
      assert.equal(requestsFor(h, ns), requests, 'no Slack request after the last word');
      assert.equal(messageFor(h, ns, 'web', 1)?.history.length, ended.history.length);
      for (const channel of h.slack.channels.list()) {
        assert.ok(!h.messages(channel.id).some((m) => m.text.includes('(revision 2) in `untrack`')), `#${channel.name} heard of revision 2`);
      }
      assert.equal(h.hermod?.supervisor.deployment(ns, 'web'), undefined, 'no actor for an untracked namespace');
    });

    it('a namespace annotated at run time: Deployments at rest are not announced, the next rollout is', async () => {
      const ns = 'late';
      await h.createNamespace(ns);
      await h.createDeployment({ namespace: ns, name: 'a' });
      await h.createDeployment({ namespace: ns, name: 'b' });
      // b's first revision rolls out before its second: an update racing the create can be folded
      // by the controller into revision 1.
      await waitForController(h, ns, 'b', 'complete');
      await h.updateDeployment({ namespace: ns, name: 'b', image: 'registry.example/app:2' });
      await h.waitFor('revision 2 of late/b', async () => (await h.getDeployment(ns, 'b')).metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2');
      await Promise.all([waitForController(h, ns, 'a', 'complete'), waitForController(h, ns, 'b', 'complete')]);

      await h.annotateNamespace(ns, { [SLACK_ANNOTATION]: 'late' });
      await h.waitFor('Hermod to track late/a and late/b', () => h.hermod?.supervisor.deployment(ns, 'a') && h.hermod.supervisor.deployment(ns, 'b'));
      await sleep(QUIET_MS);
      assert.equal(requestsFor(h, ns), 0, 'Deployments at rest are not announced');
      for (const name of ['a', 'b']) assert.equal(h.hermod?.supervisor.deployment(ns, name)?.getSnapshot().value, 'idle', `${name} is at rest`);

      await h.updateDeployment({ namespace: ns, name: 'a', image: 'registry.example/app:2' });
      const next = await waitForMessage(h, ns, 'a', 2, 'green', isColour(GREEN));
      assert.match(messageText(next), /revision 2 \(was 1\)/);
      assert.ok(!messageText(next).includes('adopted'), 'a rollout seen from its start is not adopted');
      assert.equal(h.messages(ns).length, 1, JSON.stringify(h.messages(ns).map((m) => m.text)));
    });
  });

  it('the counters add up over every scenario', async () => {
    // quiet 2 + 4 (barrier), paused 2, late 1 rollouts succeeded; gone and untrack 1 each, ended otherwise.
    assert.equal((await h.metric('hermod_deployment_processed_total')) - initial.processed, 11);
    assert.equal((await h.metric('hermod_deployment_success_total')) - initial.success, 9);
    assert.equal(await h.metric('hermod_deployment_failed_total'), 0);
    assert.equal(await h.metric('hermod_rollouts_ended_total', { phase: 'deleted' }), 1);
    assert.equal(await h.metric('hermod_rollouts_ended_total', { phase: 'untracked' }), 1);
    assert.equal(await h.metric('hermod_rollouts_in_progress'), 0);
    // quiet/web, quiet/barrier, paused/web, late/a, late/b: the deleted and the untracked ones are forgotten.
    assert.equal(await h.metric('hermod_deployments_tracked'), 5);
  });
});
