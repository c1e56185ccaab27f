/**
 * Behaviour on the real control plane (2, 3, 4): failed rollouts. The real deployment and
 * ReplicaSet controllers, PodSecurity admission and KWOK's failure stages produce the
 * statuses; Hermod runs in-process with its real watches and delivery; the assertions read
 * what reached the local Slack (every version of every message) and Hermod's metrics, and
 * compare Hermod's verdict with the controller's status read the way kubectl reads it.
 *
 * Independent scenarios run concurrently, each in its own namespace and channel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { trimDeployment } from '../../src/io/kube/trim.js';
import { findCondition, PROGRESS_DEADLINE_EXCEEDED, type RolloutState } from '../../src/machines/rollout.js';
import {
  messageColour,
  messageText,
  REPO_ANNOTATION,
  SHA_ANNOTATION,
  SLACK_ANNOTATION,
  startHarness,
  type DeploymentSpec,
  type Harness,
} from '../support/hermod-harness.js';
import type { MessageVersion, StoredMessage } from '../support/slack-server.js';
import { GREEN, ORANGE, RED, controllerState, dump } from '../support/scenario.js';

/** Short enough to keep the file quick, long enough that "failing" clearly comes first. */
const DEADLINE = 14;
const GRACE_SECONDS = 2;

const SHA = '4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39';
const REPO = 'https://github.com/example-org/shop-api';

/** What a version shows: its top-level text and its attachment blocks. */
function shown(v: Pick<MessageVersion, 'text' | 'attachments'>): string {
  return messageText(v);
}

function colourOf(v: Pick<MessageVersion, 'attachments'>): string | undefined {
  return messageColour(v);
}

/** The one top-level message of `channel` about `revision`; fails if there are several. */
function messageFor(h: Harness, channel: string, revision: number): StoredMessage | undefined {
  const found = h.messages(channel).filter((m) => m.text.includes(`(revision ${revision})`));
  assert.ok(found.length <= 1, `one message per rollout, got ${found.length} for revision ${revision} in #${channel}`);
  return found[0];
}


/** When the controller set Progressing=False/ProgressDeadlineExceeded (its own timestamp, whole seconds). */
async function deadlineExceededAt(h: Harness, namespace: string, name: string): Promise<number> {
  const facts = trimDeployment(await h.getDeployment(namespace, name));
  const progressing = findCondition(facts.status.conditions, 'Progressing');
  assert.equal(progressing?.reason, PROGRESS_DEADLINE_EXCEEDED, JSON.stringify(progressing));
  const raw = (await h.getDeployment(namespace, name)).status?.conditions?.find((c) => c.type === 'Progressing')?.lastTransitionTime;
  assert.ok(raw !== undefined, 'Progressing has a lastTransitionTime');
  return new Date(raw as unknown as string).getTime();
}

/** A Deployment healthy at revision 1, then a broken revision 2 (the usual bad deploy). */
async function healthyThenBroken(h: Harness, channel: string, broken: DeploymentSpec): Promise<void> {
  const healthy: DeploymentSpec = { ...broken, failure: undefined, image: 'registry.example/app:1', container: undefined };
  await h.createDeployment(healthy);
  await h.waitFor(`${broken.namespace}/${broken.name} revision 1 to succeed`, () => colourOf(messageFor(h, channel, 1) ?? {}) === GREEN);
  await h.updateDeployment({ ...broken, image: broken.image ?? 'registry.example/app:2' });
}

/** Waits for the rollout's final red version and returns the message. */
async function waitForFailed(h: Harness, channel: string, revision: number): Promise<StoredMessage> {
  return h.waitFor(
    `#${channel} revision ${revision} to fail`,
    () => {
      const m = messageFor(h, channel, revision);
      return m !== undefined && colourOf(m) === RED && m.text.includes('failed') ? m : undefined;
    },
    (DEADLINE + 30) * 1000,
  );
}

/**
 * Watches a rollout that should turn "failing" before the deadline: returns the failing
 * version and the controller's state read right after it was seen.
 */
async function waitForFailing(
  h: Harness,
  channel: string,
  revision: number,
  namespace: string,
  name: string,
): Promise<{ version: MessageVersion; stateThen: RolloutState }> {
  const version = await h.waitFor(
    `#${channel} revision ${revision} to be failing`,
    () => messageFor(h, channel, revision)?.history.find((v) => colourOf(v) === RED && v.text.includes('is failing')),
    (DEADLINE + 30) * 1000,
  );
  return { version, stateThen: await controllerState(h, namespace, name) };
}



interface Counters {
  processed: number;
  success: number;
  failed: number;
}

async function counters(h: Harness): Promise<Counters> {
  return {
    processed: await h.metric('hermod_deployment_processed_total'),
    success: await h.metric('hermod_deployment_success_total'),
    failed: await h.metric('hermod_deployment_failed_total'),
  };
}

describe('failed rollouts on the real control plane', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      channels: ['crash', 'nogit', 'pull', 'unready', 'oom', 'psa', 'warn'],
      flags: { failingGraceSeconds: GRACE_SECONDS },
    });
  });
  after(async () => {
    await h?.stop();
  });

  it('reports crash loops, image pull errors, OOM kills and never-ready pods; early where stuck, failed at the deadline', async () => {
    const before = await counters(h);

    // 2. A crash-looping revision with git annotations: failing early, failed at the deadline with links.
    const crash = (async () => {
      await h.createNamespace('crash', { [SLACK_ANNOTATION]: 'crash' });
      const spec: DeploymentSpec = {
        namespace: 'crash',
        name: 'api',
        progressDeadlineSeconds: DEADLINE,
        failure: 'crashloop',
        annotations: { [SHA_ANNOTATION]: SHA, [REPO_ANNOTATION]: REPO },
      };
      await healthyThenBroken(h, 'crash', spec);
      const failing = await waitForFailing(h, 'crash', 2, 'crash', 'api');
      const failed = await waitForFailed(h, 'crash', 2);
      const flippedAt = await deadlineExceededAt(h, 'crash', 'api');

      // The early warning came before the controller gave up, while it still called the rollout in progress.
      assert.equal(failing.stateThen, 'progressing');
      assert.ok(failing.version.at < flippedAt, `failing posted at ${failing.version.at}, deadline exceeded at ${flippedAt}`);
      const early = shown(failing.version);
      assert.match(early, /CrashLoopBackOff/);
      assert.match(early, /exit code 1\b/);
      assert.match(early, /Kubernetes declares the rollout failed once its progress deadline/);

      // The verdict: red, deadline, the same problem, the commit and pull-request links.
      const final = messageText(failed);
      assert.match(final, new RegExp(`Failed after ${DEADLINE} seconds`));
      assert.match(final, /CrashLoopBackOff/);
      assert.match(final, /exit code 1\b/);
      assert.ok(final.includes(`<${REPO}/commit/${SHA}|${SHA.slice(0, 7)}>`), final);
      assert.ok(final.includes(`<${REPO}/pulls?q=${SHA}|search>`), final);
      assert.ok(!final.includes('No commit links'), 'no warning without the flag');

      // Order of versions: orange first, red failing, red failed; never green.
      const colours = failed.history.map(colourOf);
      assert.equal(colours[0], ORANGE, dump(failed));
      assert.ok(!colours.includes(GREEN), dump(failed));
      const firstFailing = failed.history.findIndex((v) => v.text.includes('is failing'));
      const firstFailed = failed.history.findIndex((v) => v.text.endsWith('failed'));
      assert.ok(firstFailing > 0 && firstFailed > firstFailing, dump(failed));
      assert.equal(await controllerState(h, 'crash', 'api'), 'deadlineExceeded');
    })();

    // 2. Missing git annotations without --git-annotation-warning: no links and no warning.
    const nogit = (async () => {
      await h.createNamespace('nogit', { [SLACK_ANNOTATION]: 'nogit' });
      await healthyThenBroken(h, 'nogit', { namespace: 'nogit', name: 'api', progressDeadlineSeconds: DEADLINE, failure: 'crashloop' });
      const failed = await waitForFailed(h, 'nogit', 2);
      const final = messageText(failed);
      assert.ok(!final.includes('/commit/') && !final.includes('Pull Request'), final);
      assert.ok(!final.includes('No commit links'), final);
      assert.equal(await controllerState(h, 'nogit', 'api'), 'deadlineExceeded');
    })();

    // 3. ImagePullBackOff: stuck, so failing early; failed at the deadline.
    const pull = (async () => {
      await h.createNamespace('pull', { [SLACK_ANNOTATION]: 'pull' });
      await healthyThenBroken(h, 'pull', {
        namespace: 'pull',
        name: 'web',
        progressDeadlineSeconds: DEADLINE,
        failure: 'imagepull',
        image: 'registry.example/missing:404',
      });
      const failing = await waitForFailing(h, 'pull', 2, 'pull', 'web');
      assert.equal(failing.stateThen, 'progressing');
      assert.match(shown(failing.version), /ImagePullBackOff/);
      const failed = await waitForFailed(h, 'pull', 2);
      const final = messageText(failed);
      assert.match(final, /ImagePullBackOff/);
      assert.ok(final.includes('Back-off pulling image \\"registry.example/missing:404\\"'), final);
      assert.ok(failing.version.at < (await deadlineExceededAt(h, 'pull', 'web')));
      assert.equal(await controllerState(h, 'pull', 'web'), 'deadlineExceeded');
    })();

    // 3. Never ready: running but not ready is not stuck, so no early failing; failed at the deadline.
    const unready = (async () => {
      await h.createNamespace('unready', { [SLACK_ANNOTATION]: 'unready' });
      await healthyThenBroken(h, 'unready', { namespace: 'unready', name: 'web', progressDeadlineSeconds: DEADLINE, failure: 'neverready' });
      const failed = await waitForFailed(h, 'unready', 2);
      const versions = failed.history;
      for (const v of versions.slice(0, -1)) assert.equal(colourOf(v), ORANGE, `only the verdict is red: ${dump(failed)}`);
      assert.ok(!versions.some((v) => v.text.includes('is failing')), dump(failed));
      const final = messageText(failed);
      assert.match(final, /ContainersNotReady/);
      assert.match(final, /containers with unready status: \[app\]/);
      assert.equal(await controllerState(h, 'unready', 'web'), 'deadlineExceeded');
    })();

    // 3. OOMKilled: exit code 137 and the termination reason are visible, early and at the end.
    const oom = (async () => {
      await h.createNamespace('oom', { [SLACK_ANNOTATION]: 'oom' });
      await healthyThenBroken(h, 'oom', { namespace: 'oom', name: 'worker', progressDeadlineSeconds: DEADLINE, failure: 'oomkilled' });
      const failing = await waitForFailing(h, 'oom', 2, 'oom', 'worker');
      assert.equal(failing.stateThen, 'progressing');
      for (const text of [shown(failing.version), messageText(await waitForFailed(h, 'oom', 2))]) {
        assert.match(text, /exit code 137/);
        assert.match(text, /OOMKilled/);
      }
      assert.equal(await controllerState(h, 'oom', 'worker'), 'deadlineExceeded');
    })();

    // 4. FailedCreate without Pods: PodSecurity "restricted" forbids a privileged template.
    const psa = (async () => {
      await h.createNamespace('psa', { [SLACK_ANNOTATION]: 'psa' }, { 'pod-security.kubernetes.io/enforce': 'restricted' });
      await h.createDeployment({
        namespace: 'psa',
        name: 'priv',
        progressDeadlineSeconds: DEADLINE,
        container: { securityContext: { privileged: true } },
      });
      const failing = await waitForFailing(h, 'psa', 1, 'psa', 'priv');
      assert.equal(failing.stateThen, 'progressing');
      assert.match(shown(failing.version), /cannot create pods/);
      const failed = await waitForFailed(h, 'psa', 1);
      const final = messageText(failed);
      // The ReplicaSet's own words, as the controller recorded them.
      const rs = await h.api<{ items: Array<{ status?: { conditions?: Array<{ type: string; message?: string }> } }> }>(
        'GET',
        '/apis/apps/v1/namespaces/psa/replicasets',
      );
      const refusal = rs.items[0]?.status?.conditions?.find((c) => c.type === 'ReplicaFailure')?.message ?? '';
      assert.match(refusal, /forbidden: violates PodSecurity "restricted/);
      assert.match(final, /ReplicaFailure|FailedCreate/);
      assert.match(final, /is forbidden: violates PodSecurity \\"restricted:/);
      assert.match(final, /privileged/);
      const pods = await h.api<{ items: unknown[] }>('GET', '/api/v1/namespaces/psa/pods');
      assert.equal(pods.items.length, 0, 'no pod was ever created');
      assert.equal(await controllerState(h, 'psa', 'priv'), 'deadlineExceeded');
      // A refusal longer than the main message shows (500 characters) goes, whole, to the thread.
      const inThread = failed.replies.map((r) => JSON.stringify(r.blocks ?? []) + r.text).join('\n');
      if (refusal.length > 500) {
        assert.equal(failed.replies.length, 1, 'one thread reply');
        assert.match(inThread, /Failure details for Deployment `priv` \(revision 1\)/);
        // The refusal ends with the seccomp advice: cut from the main message, whole in the thread.
        const ending = refusal.slice(-40).replace(/"/g, '\\"');
        assert.ok(inThread.includes(ending), `the end of the refusal is in the thread: ${inThread}`);
        assert.ok(!final.includes(ending), `the main message shows it shortened: ${final}`);
        assert.match(final, /truncated, \d+ more characters/);
        assert.match(final, /details are in the thread|full error messages are in the thread/);
      } else {
        assert.equal(failed.replies.length, 0);
      }
    })();

    const results = await Promise.allSettled([crash, nogit, pull, unready, oom, psa]);
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length > 0) throw failures.length === 1 ? failures[0] : new AggregateError(failures, `${failures.length} scenarios failed`);

    // Counters: five healthy revisions and six broken rollouts started; five succeeded, six failed.
    const now = await counters(h);
    assert.deepEqual(
      { processed: now.processed - before.processed, success: now.success - before.success, failed: now.failed - before.failed },
      { processed: 11, success: 5, failed: 6 },
    );
    assert.equal(await h.metric('hermod_rollouts_ended_total', { phase: 'failed' }), 6);
    assert.equal(await h.metric('hermod_rollout_duration_seconds', { outcome: 'failed' }, 'hermod_rollout_duration_seconds_count'), 6);
    assert.equal(await h.metric('hermod_rollouts_in_progress'), 0);
  });

  it('warns about missing git annotations with --git-annotation-warning', async () => {
    const earlier = ['crash', 'nogit', 'pull', 'unready', 'oom', 'psa'];
    const requestsBefore = h.slack.requests().length;
    await h.stopHermod();
    await h.startHermod({ gitAnnotationWarning: true });

    await h.createNamespace('warn', { [SLACK_ANNOTATION]: 'warn' });
    await h.createDeployment({ namespace: 'warn', name: 'none', progressDeadlineSeconds: DEADLINE, failure: 'crashloop' });
    await h.createDeployment({
      namespace: 'warn',
      name: 'shaonly',
      progressDeadlineSeconds: DEADLINE,
      failure: 'crashloop',
      annotations: { [SHA_ANNOTATION]: SHA },
    });
    await h.createDeployment({
      namespace: 'warn',
      name: 'both',
      progressDeadlineSeconds: DEADLINE,
      failure: 'crashloop',
      annotations: { [SHA_ANNOTATION]: SHA, [REPO_ANNOTATION]: REPO },
    });
    const failedOf = (name: string) =>
      h.waitFor(
        `warn/${name} to fail`,
        () => h.messages('warn').find((m) => m.text.includes(`\`${name}\``) && colourOf(m) === RED && m.text.endsWith('failed')),
        (DEADLINE + 30) * 1000,
      );
    const [none, shaonly, both] = await Promise.all([failedOf('none'), failedOf('shaonly'), failedOf('both')]);

    assert.ok(
      messageText(none).includes(`No commit links: the Deployment does not have the \`${SHA_ANNOTATION}\` and \`${REPO_ANNOTATION}\` annotations`),
      messageText(none),
    );
    assert.ok(messageText(shaonly).includes(`the Deployment does not have the \`${REPO_ANNOTATION}\` annotation.`), messageText(shaonly));
    assert.ok(!messageText(both).includes('No commit links'), messageText(both));
    assert.ok(messageText(both).includes(`${REPO}/commit/${SHA}`));
    // The warning is part of failure messages only; the early failing version has it too.
    const noneFailing = none.history.find((v) => v.text.includes('is failing'));
    assert.ok(noneFailing !== undefined && shown(noneFailing).includes('No commit links'), dump(none));
    assert.ok(!shown(none.history[0]!).includes('No commit links'), 'not in the in-progress message');
    for (const name of ['none', 'shaonly', 'both']) assert.equal(await controllerState(h, 'warn', name), 'deadlineExceeded');

    // The failed rollouts of the first test are history: the restarted Hermod neither posted nor counted them.
    const touched = h.slack
      .requests()
      .slice(requestsBefore)
      .filter((r) => earlier.some((c) => r.channel === c || r.channelId === h.slack.channels.get(c)?.id));
    assert.deepEqual(touched, [], 'finished rollouts were not announced again after the restart');
    assert.equal(await h.metric('hermod_deployment_processed_total'), 3);
    assert.equal(await h.metric('hermod_deployment_failed_total'), 3);
  });
});
