/**
 * One message per release on the real control plane (issue 13, ADR 0010): Deployments of one
 * commit (the commit-SHA annotation) in one channel, started within `--group-window-seconds`,
 * share one parent message with a row per workload; in its thread, a failing workload's own
 * message and ONE details reply listing the successes once the release is final. A release of
 * 10, a late joiner, a failure inside a group; every verdict is compared
 * with the controller's, read the way `kubectl rollout status` reads it.
 *
 * The harness turns grouping off for the other scenario files; this one turns it on (30 s).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deploymentManifest, messageColour, REPO_ANNOTATION, SHA_ANNOTATION, SLACK_ANNOTATION, startHarness, type DeploymentSpec, type Harness } from '../support/hermod-harness.js';
import type { StoredMessage } from '../support/slack-server.js';
import { controllerState, dump, GATE_PREFIX, GREEN, openGate, RED } from '../support/scenario.js';

const REPO = 'https://github.com/my-org/shop';
/** Progress deadline of the failing Deployment: short, so the file stays quick. */
const DEADLINE = 14;

const shaOf = (n: number) => `${String(n).repeat(7)}0123456789abcdef0123456789abcdef0`.slice(0, 40);
const shown = (m: StoredMessage | undefined) => JSON.stringify(m?.history.at(-1) ?? null);
const rolloutIds = (m: StoredMessage) => m.replies.map((r) => String(r.metadata?.event_payload['rolloutId'] ?? ''));
const isDetails = (r: StoredMessage) => /#details-\d+$/.test(String(r.metadata?.event_payload['rolloutId'] ?? ''));
/** The details reply lists the workload once: its kind, name, namespace, state and revision. */
const lists = (r: StoredMessage | undefined, ns: string, name: string) => (shown(r).split(`Deployment \`${name}\` in \`${ns}\`: done · revision`).length - 1) === 1;

/** The one top-level message of the channel once `accept` holds; fails when there are several. */
function parentWhen(h: Harness, channel: string, what: string, accept: (m: StoredMessage) => boolean, timeoutMs = 90_000): Promise<StoredMessage> {
  return h.waitFor(
    `#${channel}: ${what}`,
    () => {
      const top = h.messages(channel);
      assert.ok(top.length <= 1, `one message in #${channel}, got ${top.length}: ${top.map(dump).join('\n')}`);
      return top[0] !== undefined && accept(top[0]) ? top[0] : undefined;
    },
    timeoutMs,
  );
}

async function createGated(h: Harness, spec: DeploymentSpec, gate: string): Promise<void> {
  const manifest = deploymentManifest(spec) as { spec: { template: { spec: Record<string, unknown> } } };
  manifest.spec.template.spec.nodeSelector = { [GATE_PREFIX + gate]: 'open' };
  await h.api('POST', `/apis/apps/v1/namespaces/${spec.namespace}/deployments`, manifest);
}

describe('one message per release on the real control plane', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ channels: ['release', 'late-join', 'broken'], flags: { failingGraceSeconds: 2, groupWindowSeconds: 30 } });
  });
  after(async () => {
    await h?.stop();
  });

  it('a release of 10 Deployments of one commit: one parent, 10 rows, one details reply listing the 10', async () => {
    const ns = 'release';
    const sha = shaOf(1);
    const names = Array.from({ length: 10 }, (_, i) => `svc-${i}`);
    await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'release' });
    await Promise.all(names.map((name) => h.createDeployment({ namespace: ns, name, replicas: 1, annotations: { [SHA_ANNOTATION]: sha, [REPO_ANNOTATION]: REPO } })));
    const parent = await parentWhen(h, 'release', '10 of 10 done and the details reply', (m) => shown(m).includes('10 of 10 done') && m.replies.length >= 1);
    const last = shown(parent);
    assert.ok(last.includes(`<${REPO}/commit/${sha}|${sha.slice(0, 7)}>`), last);
    assert.ok(last.includes('on `test`'), last);
    assert.equal(messageColour(parent.history.at(-1)!), GREEN);
    for (const name of names) {
      // Hermod's verdict is kubectl's: the row says done only for a rollout kubectl calls complete.
      assert.equal(await controllerState(h, ns, name), 'complete');
      assert.ok(last.includes(`Deployment \`${name}\` in \`${ns}\`: done`), `${name}: ${last}`);
    }
    const ids = rolloutIds(parent);
    assert.equal(ids.length, 1, `one reply in the thread: ${ids.join(', ')}`);
    const details = parent.replies[0];
    assert.ok(details !== undefined && isDetails(details), ids.join(', '));
    assert.match(details.history.at(-1)?.text ?? '', /Details of 10 workloads/);
    for (const name of names) assert.ok(lists(details, ns, name), `${name} listed once: ${shown(details)}`);
    assert.equal(h.messages('release').length, 1);
  });

  it('a late joiner within the window joins the open group', async () => {
    const ns = 'late-join';
    const sha = shaOf(2);
    const annotations = { [SHA_ANNOTATION]: sha, [REPO_ANNOTATION]: REPO };
    await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'late-join' });
    await Promise.all(['web', 'api'].map((name) => createGated(h, { namespace: ns, name, replicas: 1, annotations }, 'release-late')));
    await parentWhen(h, 'late-join', 'the release of 2, rolling', (m) => shown(m).includes('0 of 2 done, 2 rolling'));
    // Seconds later (well within the 30 s window) a third workload of the same commit starts.
    await new Promise((r) => setTimeout(r, 3_000));
    await h.createDeployment({ namespace: ns, name: 'worker', replicas: 1, annotations });
    await parentWhen(h, 'late-join', 'the late joiner has a row', (m) => shown(m).includes('Deployment `worker`'));
    await openGate(h, 'release-late');
    const parent = await parentWhen(h, 'late-join', '3 of 3 done', (m) => shown(m).includes('3 of 3 done') && m.replies.length >= 1);
    for (const name of ['web', 'api', 'worker']) assert.equal(await controllerState(h, ns, name), 'complete');
    assert.equal(parent.replies.length, 1, rolloutIds(parent).join(', '));
    assert.ok(isDetails(parent.replies[0]!));
    for (const name of ['web', 'api', 'worker']) assert.ok(lists(parent.replies[0], ns, name), `${name}: ${shown(parent.replies[0])}`);
    assert.equal(messageColour(parent.history.at(-1)!), GREEN);
    assert.equal(h.messages('late-join').length, 1);
  });

  it('a failure inside a group: the worst colour, the reason on the row, the details in the thread', async () => {
    const ns = 'broken';
    const sha = shaOf(3);
    const annotations = { [SHA_ANNOTATION]: sha, [REPO_ANNOTATION]: REPO };
    await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'broken' });
    await Promise.all([
      h.createDeployment({ namespace: ns, name: 'fine-a', replicas: 1, annotations }),
      h.createDeployment({ namespace: ns, name: 'fine-b', replicas: 1, annotations }),
      h.createDeployment({ namespace: ns, name: 'crash', replicas: 1, failure: 'crashloop', progressDeadlineSeconds: DEADLINE, annotations }),
    ]);
    const failing = await parentWhen(h, 'broken', 'a failing row', (m) => /`crash` in `broken`: failing: `CrashLoopBackOff/.test(shown(m)));
    assert.equal(messageColour(failing.history.at(-1)!), RED);
    const parent = await parentWhen(h, 'broken', '2 of 3 done, 1 failed', (m) => shown(m).includes('2 of 3 done, 1 failed'), (DEADLINE + 60) * 1000);
    // kubectl's verdicts: the crash-looping one exceeded its deadline, the others are complete.
    assert.equal(await controllerState(h, ns, 'crash'), 'deadlineExceeded');
    for (const name of ['fine-a', 'fine-b']) assert.equal(await controllerState(h, ns, name), 'complete');
    const last = shown(parent);
    assert.equal(messageColour(parent.history.at(-1)!), RED);
    assert.match(last, /`crash` in `broken`: failed: `CrashLoopBackOff/);
    const crash = await h.waitFor('the crash details in the thread', () => h.messages('broken')[0]?.replies.find((r) => /`crash`.*failed/.test(r.history.at(-1)?.text ?? '')), 30_000);
    assert.match(JSON.stringify(crash.history.at(-1)), /CrashLoopBackOff/);
    assert.equal(crash.metadata?.event_payload['rolloutId'] !== undefined && !isDetails(crash), true, "the failure's own message");
    // The successes: listed in one details reply once every row is final, no post of their own.
    const details = await h.waitFor('the details reply', () => h.messages('broken')[0]?.replies.find(isDetails), 30_000);
    for (const name of ['fine-a', 'fine-b']) assert.ok(lists(details, ns, name), `${name}: ${shown(details)}`);
    assert.ok(!shown(details).includes('`crash`'), shown(details));
    const replies = h.messages('broken')[0]?.replies ?? [];
    assert.equal(replies.filter(isDetails).length, 1, rolloutIds(h.messages('broken')[0]!).join(', '));
    // Only the crash's messages (its own, its failure details) besides the details reply: no post per success.
    for (const r of replies.filter((x) => !isDetails(x))) assert.ok(!/fine-a|fine-b/.test(shown(r)), shown(r));
    assert.equal(h.messages('broken').length, 1);
  });
});
