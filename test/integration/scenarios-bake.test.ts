/**
 * The watch after success on the real control plane (issue 13, `--bake-seconds`): a
 * Deployment succeeds, then one of its pods starts crash-looping within the bake window ->
 * the same message is edited to "succeeded, then degraded" (red, the reason, the owners
 * mentioned) and hermod_rollouts_degraded_total counts it; a new rollout during the bake ends
 * the bake silently; a bake that ends quietly leaves the message green, and a crash after it is
 * no news. Then a release of two whose member degrades after the release's parent is final.
 *
 * The pod is made to crash-loop by test/support/podStatus.ts (the template is untouched: no new
 * revision).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MENTION_ANNOTATION } from '../../src/machines/annotations.js';
import { messageColour, REPO_ANNOTATION, SHA_ANNOTATION, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';
import type { StoredMessage } from '../support/slack-server.js';
import { crashOnePod, waitUnavailable } from '../support/podStatus.js';
import { dump, GREEN, RED, waitForMessage } from '../support/scenario.js';

/** The bake window: long enough to make a pod crash inside it, short enough to see it end. */
const BAKE_SECONDS = 20;
const GRACE_SECONDS = 2;
const USER = 'U012AB3CD';

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

/**
 * A degradation after a release's parent is final (ADR 0010, ADR 0011): two Deployments of one
 * commit in one channel, grouping on, the bake on. Both succeed (the parent final, its details
 * reply posted); then one of them crash-loops within its bake: the parent is edited (its row
 * red, with the reason), the member's own message goes into the thread (its owners mentioned),
 * the details reply is not posted again, nothing at the top level.
 */
describe('a degradation after a release is final, on the real control plane', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ channels: ['release-bake'], flags: { failingGraceSeconds: GRACE_SECONDS, bakeSeconds: 90, groupWindowSeconds: 30 } });
  });
  after(async () => {
    await h?.stop();
  });

  it('the parent row turns "succeeded, then degraded", the member\'s message goes into the thread, nothing is duplicated', async () => {
    const ns = 'release-bake';
    const sha = '4444444abcdef0123456789abcdef0123456789a';
    const annotations = { [SHA_ANNOTATION]: sha, [REPO_ANNOTATION]: 'https://github.com/my-org/shop' };
    const before = await h.metric('hermod_rollouts_degraded_total', { kind: 'Deployment' });
    await h.createNamespace(ns, { [SLACK_ANNOTATION]: ns, [MENTION_ANNOTATION]: USER });
    await Promise.all(['front', 'back'].map((name) => h.createDeployment({ namespace: ns, name, replicas: 1, annotations })));
    const shown = (m: StoredMessage | undefined) => JSON.stringify(m?.history.at(-1) ?? null);
    const isDetails = (r: StoredMessage) => /#details-\d+$/.test(String(r.metadata?.event_payload['rolloutId'] ?? ''));
    const final = await h.waitFor('the release final, its details reply posted', () => {
      const top = h.messages(ns);
      assert.ok(top.length <= 1, `one message: ${top.map(dump).join('\n')}`);
      return top[0] !== undefined && shown(top[0]).includes('2 of 2 done') && top[0].replies.some(isDetails) ? top[0] : undefined;
    });
    const details = final.replies.find(isDetails)!;
    const detailsVersions = details.history.length;
    assert.equal(final.replies.length, 1, 'the details reply only');

    await crashOnePod(h, ns, 'back');
    const parent = await h.waitFor('the parent row of back degraded', () => {
      const top = h.messages(ns);
      return top.length === 1 && /`back` in `release-bake`: succeeded, then degraded/.test(shown(top[0])) ? top[0] : undefined;
    });
    assert.equal(messageColour(parent!.history.at(-1)!), RED, dump(parent!));
    assert.match(shown(parent), /CrashLoopBackOff/);
    assert.match(shown(parent), /`front` in `release-bake`: done/);
    const own = await h.waitFor("back's own message in the thread", () => h.messages(ns)[0]?.replies.find((r) => !isDetails(r) && r.metadata !== undefined));
    assert.match(shown(own), /`back`.*succeeded, then degraded/);
    assert.ok(own.history.at(-1)!.text.includes(`<@${USER}>`), `the owners mentioned: ${shown(own)}`);
    await sleep((GRACE_SECONDS + 3) * 1000);
    const replies = h.messages(ns)[0]!.replies;
    assert.equal(replies.filter(isDetails).length, 1, 'the details reply not posted again');
    assert.equal(replies.find(isDetails)!.history.length, detailsVersions, 'nor edited');
    assert.equal(replies.filter((r) => r.metadata !== undefined && !isDetails(r)).length, 1, "back's own message, once");
    assert.equal(h.messages(ns).length, 1, 'nothing at the top level');
    assert.equal(await h.metric('hermod_rollouts_degraded_total', { kind: 'Deployment' }), before + 1);
  });
});
