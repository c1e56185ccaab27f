/**
 * Mentions on failure on the real control plane (issue 13): `hermod.uswitch.com/mention` on a
 * namespace and on a Deployment (the Deployment's wins) mentions the owners in the channel
 * message and at the head of its thread reply once the rollout is failing or failed, never on success; hostile or mistaken values
 * are refused with a Warning Event on the object that carries them, and the rollout is
 * reported without a mention.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CoreV1Event } from '@kubernetes/client-node';
import { MENTION_ANNOTATION } from '../../src/machines/annotations.js';
import { messageColour, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';
import type { StoredMessage } from '../support/slack-server.js';
import { dump, everyVersion, GREEN, RED, waitForMessage } from '../support/scenario.js';

/** Progress deadline of the failing Deployments: short, so the file stays quick. */
const DEADLINE = 14;
const USER = 'U012AB3CD';
const GROUP = 'S0614TZR7';

function failed(m: StoredMessage): boolean {
  return messageColour(m) === RED && m.text.split('\n')[0]!.endsWith('failed');
}

/** The second line of a message version's text: the mentions, or undefined. */
function mentionsOf(version: { text: string }): string | undefined {
  return version.text.split('\n')[1];
}

async function refusals(h: Harness, namespace: string): Promise<CoreV1Event[]> {
  const list = await h.api<{ items: CoreV1Event[] }>('GET', `/api/v1/namespaces/${namespace}/events`);
  return list.items.filter((e) => e.reason === 'InvalidMentionAnnotation');
}

describe('mentions on failure on the real control plane', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ channels: ['owners', 'hostile'], flags: { failingGraceSeconds: 2 } });
  });
  after(async () => {
    await h?.stop();
  });

  it('the namespace mentions its group; a Deployment its own owner; only once failing or failed, never on success', async () => {
    const ns = 'owners';
    await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'owners', [MENTION_ANNOTATION]: GROUP });
    await Promise.all([
      h.createDeployment({ namespace: ns, name: 'crash-own', failure: 'crashloop', progressDeadlineSeconds: DEADLINE, annotations: { [MENTION_ANNOTATION]: ` ${USER} ` } }),
      h.createDeployment({ namespace: ns, name: 'crash-ns', failure: 'crashloop', progressDeadlineSeconds: DEADLINE }),
      h.createDeployment({ namespace: ns, name: 'fine', annotations: { [MENTION_ANNOTATION]: USER } }),
    ]);
    const fine = await waitForMessage(h, 'owners', 'fine', 1, 'green', (m) => messageColour(m) === GREEN);
    const own = await waitForMessage(h, 'owners', 'crash-own', 1, 'failed', failed, (DEADLINE + 40) * 1000);
    const inherited = await waitForMessage(h, 'owners', 'crash-ns', 1, 'failed', failed, (DEADLINE + 40) * 1000);

    assert.equal(mentionsOf(own), `<@${USER}>`, dump(own));
    assert.equal(mentionsOf(inherited), `<!subteam^${GROUP}>`, dump(inherited));
    for (const m of [own, inherited]) {
      // Orange versions carry no mention; from the first red one (failing) on, every version does.
      const first = m.history.findIndex((v) => mentionsOf(v) !== undefined);
      assert.ok(first >= 0, dump(m));
      assert.ok(m.history.slice(0, first).every((v) => messageColour(v) !== RED), dump(m));
      assert.ok(m.history.slice(first).every((v) => messageColour(v) === RED && mentionsOf(v) === mentionsOf(m)), dump(m));
      assert.ok(m.history[first]!.text.split('\n')[0]!.endsWith('is failing'), dump(m));
      // The one thread reply, posted when it turned red (a new message, which Slack notifies where
      // an edit may not), names them first.
      assert.equal(m.replies.length, 1, dump(m));
      assert.ok(m.replies[0]!.history[0]!.text.startsWith(`${mentionsOf(m)} Failure details for Deployment`), JSON.stringify(m.replies[0]!.history[0]));
    }
    assert.ok(fine.history.every((v) => mentionsOf(v) === undefined), `no mention on success: ${dump(fine)}`);
    assert.deepEqual(await refusals(h, ns), [], 'valid values are not refused');
  });

  it('hostile and mistaken values are refused with a Warning Event on their object; the failure is reported without a mention', async () => {
    const ns = 'hostile';
    await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'hostile', [MENTION_ANNOTATION]: '@platform-team' });
    const bad: Record<string, string> = {
      everyone: `<!everyone> ${USER}`,
      broadcast: 'here',
      markup: `<@${USER}|alice>`,
    };
    await Promise.all(
      Object.entries(bad).map(([name, value]) =>
        h.createDeployment({ namespace: ns, name, failure: 'crashloop', progressDeadlineSeconds: DEADLINE, annotations: { [MENTION_ANNOTATION]: value } }),
      ),
    );
    const events = await h.waitFor('an InvalidMentionAnnotation Event on the namespace and each Deployment', async () => {
      const found = await refusals(h, ns);
      return found.length >= 4 ? found : undefined;
    });
    const about = events.map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}`).sort();
    assert.deepEqual(about, ['Deployment/broadcast', 'Deployment/everyone', 'Deployment/markup', `Namespace/${ns}`], 'one Event per object');
    for (const e of events) {
      assert.equal(e.type, 'Warning');
      assert.match(e.message ?? '', /Hermod refused the hermod\.uswitch\.com\/mention annotation/);
    }
    const broadcast = events.find((e) => e.involvedObject.name === 'broadcast');
    assert.match(broadcast?.message ?? '', /"here" pings the whole channel: it is allowed only with --allow-broadcast-mentions/);
    const deployment = events.find((e) => e.involvedObject.name === 'everyone');
    assert.equal(deployment?.involvedObject.apiVersion, 'apps/v1');
    assert.ok(deployment?.involvedObject.uid, 'the Event names the Deployment by uid too');

    // A refused Deployment value does not fall back to the namespace's (refused as well here): no mention at all.
    const messages = await Promise.all(Object.keys(bad).map((name) => waitForMessage(h, 'hostile', name, 1, 'failed', failed, (DEADLINE + 40) * 1000)));
    for (const m of messages) assert.ok(m.history.every((v) => mentionsOf(v) === undefined), dump(m));
    for (const { version } of everyVersion(h)) {
      const raw = JSON.stringify(version);
      for (const ping of ['<!everyone>', '<!here>', '<!channel>', `<@${USER}|`]) assert.ok(!raw.includes(ping), `${ping} reached Slack: ${version.text}`);
    }
    // Still one Event per object: later changes of the same Deployments did not repeat them.
    assert.equal((await refusals(h, ns)).length, 4);
  });

  it('under leader election, a refused value present before Hermod starts gets its Event once Hermod leads', async () => {
    const stateNs = 'hermod-mentions';
    await h.stopHermod();
    await Promise.all([
      h.createNamespace(stateNs),
      h.createNamespace('before-start', { [SLACK_ANNOTATION]: 'owners', [MENTION_ANNOTATION]: 'bob' }),
    ]);
    // The caches sync (and see the value) before the Lease is won: the leader records what stands.
    await h.startHermod({ stateNamespace: stateNs });
    await h.waitFor('Hermod to lead', async () => (await h.metric('hermod_leader')) === 1);
    const [event, ...more] = await h.waitFor('an InvalidMentionAnnotation Event on namespace before-start', async () => {
      const found = await refusals(h, 'before-start');
      return found.length > 0 ? found : undefined;
    });
    assert.equal(more.length, 0, JSON.stringify(more));
    assert.deepEqual({ kind: event?.involvedObject.kind, name: event?.involvedObject.name }, { kind: 'Namespace', name: 'before-start' });
    assert.match(event?.message ?? '', /"bob" is not a Slack user ID/);
  });
});
