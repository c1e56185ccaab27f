/**
 * Behaviour on the real control plane (8, 9, 10): where messages go. Several namespaces
 * post to several channels at once (by name, `#name` and channel ID) and unannotated
 * namespaces are never mentioned; `hermod.uswitch.com/alert: failure` on a namespace and on
 * a Deployment (the Deployment's annotation wins); a changed channel applies from the next
 * rollout while a rollout in flight finishes where it started.
 *
 * Scenarios run concurrently, each in its own namespaces and channels; the final test checks
 * every message of every scenario and the counters.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { trimDeployment } from '../../src/io/kube/trim.js';
import { rolloutStatus, type RolloutState } from '../../src/machines/rollout.js';
import {
  ALERT_ANNOTATION,
  messageColour,
  messageText,
  SLACK_ANNOTATION,
  startHarness,
  type DeploymentSpec,
  type Harness,
} from '../support/hermod-harness.js';
import type { StoredMessage } from '../support/slack-server.js';
import { GATE_PREFIX, GREEN, ORANGE, RED, controllerState, dump, everyVersion, openGate } from '../support/scenario.js';

/** Progress deadline of the failing Deployments: short, so the file stays quick. */
const DEADLINE = 14;
/** Time for a namespace change to reach Hermod's cache before the next Deployment change. */
const NAMESPACE_SETTLE_MS = 1_500;

/** The top-level messages of `channel` about `namespace/name` at `revision`. */
function messagesAbout(h: Harness, channel: string, namespace: string, name: string, revision: number): StoredMessage[] {
  return h.messages(channel).filter((m) => m.text.includes(`\`${name}\` (revision ${revision}) in \`${namespace}\``));
}

/** The one message about `namespace/name` at `revision` in `channel`; fails if there are several. */
function messageFor(h: Harness, channel: string, namespace: string, name: string, revision: number): StoredMessage | undefined {
  const found = messagesAbout(h, channel, namespace, name, revision);
  assert.ok(found.length <= 1, `one message per rollout, got ${found.length} for ${namespace}/${name} revision ${revision} in #${channel}`);
  return found[0];
}

function waitForColour(h: Harness, channel: string, namespace: string, name: string, revision: number, colour: string, timeoutMs = 60_000): Promise<StoredMessage> {
  return h.waitFor(
    `${namespace}/${name} revision ${revision} to turn ${colour} in #${channel}`,
    () => {
      const m = messageFor(h, channel, namespace, name, revision);
      return m !== undefined && messageColour(m) === colour ? m : undefined;
    },
    timeoutMs,
  );
}

function waitForFailed(h: Harness, channel: string, namespace: string, name: string, revision: number): Promise<StoredMessage> {
  return h.waitFor(
    `${namespace}/${name} revision ${revision} to fail in #${channel}`,
    () => {
      const m = messageFor(h, channel, namespace, name, revision);
      return m !== undefined && messageColour(m) === RED && m.text.endsWith('failed') ? m : undefined;
    },
    (DEADLINE + 40) * 1000,
  );
}



function waitForController(h: Harness, namespace: string, name: string, state: RolloutState, revision?: number): Promise<true> {
  return h.waitFor(
    `the controller to call ${namespace}/${name}${revision === undefined ? '' : ` revision ${revision}`} ${state}`,
    async () => {
      const d = await h.getDeployment(namespace, name);
      if (revision !== undefined && d.metadata?.annotations?.['deployment.kubernetes.io/revision'] !== String(revision)) return false;
      return rolloutStatus(trimDeployment(d)).state === state;
    },
    (DEADLINE + 40) * 1000,
  );
}



/** Namespaces that Hermod must never mention, and the Deployment names in them. */
const DARK_NAMESPACES = ['dark', 'blank', 'alert-only'];
const DARK_PREFIX = 'secret-';

describe('routing on the real control plane', () => {
  let h: Harness;
  let initial: { processed: number; success: number; failed: number };
  before(async () => {
    h = await startHarness({
      channels: ['alpha', 'beta', 'gamma', 'alerts-ns', 'alerts-dep', 'old-home', 'new-home', 'third-home', 'ns-home', 'team-api', 'team-api-2'],
      flags: { failingGraceSeconds: 2 },
    });
    initial = {
      processed: await h.metric('hermod_deployment_processed_total'),
      success: await h.metric('hermod_deployment_success_total'),
      failed: await h.metric('hermod_deployment_failed_total'),
    };
  });
  after(async () => {
    await h?.stop();
  });

  describe('scenarios', { concurrency: true }, () => {
    it('several namespaces post to several channels at once; unannotated namespaces are never mentioned', async () => {
      const betaId = h.slack.channels.get('beta')?.id;
      assert.ok(betaId !== undefined);
      // Two namespaces share #alpha; #beta is named once by name and once by ID; #gamma as `#gamma`.
      const routes: Record<string, string> = { shop: 'alpha', blog: 'alpha', pay: 'beta', search: betaId, ops: '#gamma' };
      const channelOf = (ns: string): string => h.slack.channels.get(routes[ns]!)!.name;
      const tracked = Object.keys(routes);
      await Promise.all([
        ...tracked.map((ns) => h.createNamespace(ns, { [SLACK_ANNOTATION]: routes[ns]! })),
        h.createNamespace('dark'),
        h.createNamespace('blank', { [SLACK_ANNOTATION]: '   ' }),
        h.createNamespace('alert-only', { [ALERT_ANNOTATION]: 'failure' }),
      ]);
      const names = ['web', 'worker'];
      const specs: DeploymentSpec[] = [
        ...tracked.flatMap((namespace) => names.map((name) => ({ namespace, name }))),
        ...DARK_NAMESPACES.flatMap((namespace) => names.map((name) => ({ namespace, name: DARK_PREFIX + name }))),
      ];

      // Every rollout starts at once.
      await Promise.all(specs.map((s) => h.createDeployment(s)));
      await Promise.all([
        ...tracked.flatMap((ns) => names.map((name) => waitForColour(h, channelOf(ns), ns, name, 1, GREEN))),
        ...DARK_NAMESPACES.flatMap((ns) => names.map((name) => waitForController(h, ns, DARK_PREFIX + name, 'complete', 1))),
      ]);

      // Each channel holds exactly the rollouts of its namespaces, one message each.
      const expected: Record<string, string[]> = {};
      for (const ns of tracked) for (const name of names) (expected[channelOf(ns)] ??= []).push(`${ns}/${name}@1`);
      for (const [channel, rollouts] of Object.entries(expected)) {
        const seen = h.messages(channel).map((m) => {
          const match = /`([^`]+)` \(revision (\d+)\) in `([^`]+)`/.exec(m.text);
          return match === null ? m.text : `${match[3]}/${match[1]}@${match[2]}`;
        });
        assert.deepEqual(seen.sort(), rollouts.sort(), `#${channel}`);
      }
      // Hermod keeps no actor for a Deployment it does not track.
      for (const ns of DARK_NAMESPACES) for (const name of names) assert.equal(h.hermod?.supervisor.deployment(ns, DARK_PREFIX + name), undefined);
    });

    it('alert: failure on a namespace posts only failures; a Deployment annotated otherwise posts everything', async () => {
      const ns = 'fail-ns';
      const channel = 'alerts-ns';
      await h.createNamespace(ns, { [SLACK_ANNOTATION]: channel, [ALERT_ANNOTATION]: 'failure' });
      await Promise.all([
        h.createDeployment({ namespace: ns, name: 'ok' }),
        h.createDeployment({ namespace: ns, name: 'bad', failure: 'crashloop', progressDeadlineSeconds: DEADLINE }),
        // The Deployment's annotation wins; any value but `failure` means everything is posted.
        h.createDeployment({ namespace: ns, name: 'loud', annotations: { [ALERT_ANNOTATION]: 'all' } }),
      ]);

      const loud = await waitForColour(h, channel, ns, 'loud', 1, GREEN);
      assert.equal(messageColour(loud.history[0]!), ORANGE, `the start was posted: ${dump(loud)}`);
      const bad = await waitForFailed(h, channel, ns, 'bad', 1);
      // Nothing was posted while the rollout was merely in progress: its first version is the failure.
      assert.equal(messageColour(bad.history[0]!), RED, dump(bad));
      assert.ok(bad.history[0]!.text.endsWith('is failing'), dump(bad));
      assert.match(messageText(bad), /CrashLoopBackOff/);
      assert.equal(await controllerState(h, ns, 'bad'), 'deadlineExceeded');
      // `ok` succeeded long before `bad` failed, in the same channel: not a word about it.
      assert.equal(await controllerState(h, ns, 'ok'), 'complete');
      assert.deepEqual(messagesAbout(h, channel, ns, 'ok', 1), []);
      assert.equal(h.messages(channel).length, 2);
    });

    it('alert: failure on one Deployment of an un-alerted namespace: its success is silent, its failure posted; siblings post everything', async () => {
      const ns = 'mixed';
      const channel = 'alerts-dep';
      await h.createNamespace(ns, { [SLACK_ANNOTATION]: channel });
      await Promise.all([
        h.createDeployment({ namespace: ns, name: 'quiet-ok', annotations: { [ALERT_ANNOTATION]: 'failure' } }),
        h.createDeployment({
          namespace: ns,
          name: 'quiet-bad',
          failure: 'crashloop',
          progressDeadlineSeconds: DEADLINE,
          annotations: { [ALERT_ANNOTATION]: 'failure' },
        }),
        h.createDeployment({ namespace: ns, name: 'sibling' }),
      ]);

      const sibling = await waitForColour(h, channel, ns, 'sibling', 1, GREEN);
      assert.equal(messageColour(sibling.history[0]!), ORANGE, dump(sibling));
      const bad = await waitForFailed(h, channel, ns, 'quiet-bad', 1);
      assert.equal(messageColour(bad.history[0]!), RED, dump(bad));
      assert.equal(await controllerState(h, ns, 'quiet-bad'), 'deadlineExceeded');
      assert.equal(await controllerState(h, ns, 'quiet-ok'), 'complete');
      assert.deepEqual(messagesAbout(h, channel, ns, 'quiet-ok', 1), []);
      assert.equal(h.messages(channel).length, 2);
    });

    it('a changed channel applies from the next rollout; a rollout in flight finishes in the channel it started in', async () => {
      const ns = 'moving';
      await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'old-home' });
      await h.createDeployment({ namespace: ns, name: 'web' });
      const first = await waitForColour(h, 'old-home', ns, 'web', 1, GREEN);
      const firstVersions = first.history.length;

      // Between rollouts: revision 2 goes to the new channel.
      await h.annotateNamespace(ns, { [SLACK_ANNOTATION]: 'new-home' });
      await sleep(NAMESPACE_SETTLE_MS);
      await h.updateDeployment({ namespace: ns, name: 'web', image: 'registry.example/app:2' });
      await waitForColour(h, 'new-home', ns, 'web', 2, GREEN);

      // During a rollout: revision 3 started in #new-home and finishes there; revision 4 goes to #third-home.
      await h.patchDeployment(ns, 'web', {
        spec: { template: { spec: { nodeSelector: { [GATE_PREFIX + ns]: 'open' }, containers: [{ name: 'app', image: 'registry.example/app:3' }] } } },
      });
      await waitForColour(h, 'new-home', ns, 'web', 3, ORANGE);
      await h.annotateNamespace(ns, { [SLACK_ANNOTATION]: 'third-home' });
      await sleep(NAMESPACE_SETTLE_MS);
      await openGate(h, ns);
      await waitForColour(h, 'new-home', ns, 'web', 3, GREEN);
      await h.patchDeployment(ns, 'web', { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/app:4' }] } } } });
      await waitForColour(h, 'third-home', ns, 'web', 4, GREEN);

      assert.equal(h.messages('old-home').length, 1, 'the old channel kept its one message');
      assert.equal(first.history.length, firstVersions, 'and it was not edited after the change');
      assert.deepEqual(
        h.messages('new-home').map((m) => /revision (\d+)/.exec(m.text)?.[1]),
        ['2', '3'],
      );
      assert.deepEqual(
        h.messages('third-home').map((m) => /revision (\d+)/.exec(m.text)?.[1]),
        ['4'],
      );
      assert.equal(await controllerState(h, ns, 'web'), 'complete');
    });
    it("a Deployment's own channel overrides its namespace's from the next rollout; it never tracks an untracked namespace (issue 13)", async () => {
      const ns = 'owned';
      const darkNs = 'dark-owned';
      await Promise.all([h.createNamespace(ns, { [SLACK_ANNOTATION]: 'ns-home' }), h.createNamespace(darkNs)]);
      await Promise.all([
        h.createDeployment({ namespace: ns, name: 'api', annotations: { [SLACK_ANNOTATION]: 'team-api' } }),
        h.createDeployment({ namespace: ns, name: 'web' }),
        // The namespace decides tracking (parity with the original): a Deployment's channel alone changes nothing.
        h.createDeployment({ namespace: darkNs, name: `${DARK_PREFIX}owned`, annotations: { [SLACK_ANNOTATION]: 'team-api' } }),
      ]);
      await Promise.all([
        waitForColour(h, 'team-api', ns, 'api', 1, GREEN),
        waitForColour(h, 'ns-home', ns, 'web', 1, GREEN),
        waitForController(h, darkNs, `${DARK_PREFIX}owned`, 'complete', 1),
      ]);

      // Mid-rollout, the Deployment's channel changes (a metadata edit, not a rollout): revision 2
      // finishes in the channel it started in; revision 3 goes to the new one.
      await h.patchDeployment(ns, 'api', {
        spec: { template: { spec: { nodeSelector: { [GATE_PREFIX + ns]: 'open' }, containers: [{ name: 'app', image: 'registry.example/app:2' }] } } },
      });
      const second = await waitForColour(h, 'team-api', ns, 'api', 2, ORANGE);
      await h.patchDeployment(ns, 'api', { metadata: { annotations: { [SLACK_ANNOTATION]: 'team-api-2' } } });
      await sleep(NAMESPACE_SETTLE_MS);
      await openGate(h, ns);
      await waitForColour(h, 'team-api', ns, 'api', 2, GREEN);
      await h.patchDeployment(ns, 'api', { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/app:3' }] } } } });
      await waitForColour(h, 'team-api-2', ns, 'api', 3, GREEN);

      assert.deepEqual(h.messages('team-api').map((m) => /revision (\d+)/.exec(m.text)?.[1]), ['1', '2'], dump(second));
      assert.deepEqual(h.messages('team-api-2').map((m) => /revision (\d+)/.exec(m.text)?.[1]), ['3']);
      assert.deepEqual(
        h.messages('ns-home').map((m) => /`([^`]+)` \(revision (\d+)\)/.exec(m.text)?.slice(1).join('@')),
        ['web@1'],
        'the namespace channel holds only the Deployment without its own channel',
      );
      assert.equal(h.hermod?.supervisor.deployment(darkNs, `${DARK_PREFIX}owned`), undefined);
    });
  });

  it('no message anywhere mentions an untracked namespace, and the counters count every rollout, posted or not', async () => {
    const versions = everyVersion(h);
    assert.ok(versions.length > 20, `saw ${versions.length} message versions`);
    for (const { channel, version } of versions) {
      const raw = JSON.stringify(version);
      assert.ok(!raw.includes(DARK_PREFIX), `#${channel} mentions an untracked Deployment: ${version.text}`);
      for (const ns of DARK_NAMESPACES) assert.ok(!raw.includes(`\`${ns}\``), `#${channel} mentions namespace ${ns}: ${version.text}`);
    }
    // Silent successes are rollouts too: 5 namespaces x 2 Deployments, 3 + 3 with alerts
    // (2 failed), 4 in `moving`, 3 + 1 in `owned`. The untracked namespaces count for nothing.
    assert.deepEqual(
      {
        processed: (await h.metric('hermod_deployment_processed_total')) - initial.processed,
        success: (await h.metric('hermod_deployment_success_total')) - initial.success,
        failed: (await h.metric('hermod_deployment_failed_total')) - initial.failed,
      },
      { processed: 10 + 6 + 4 + 4, success: 10 + 4 + 4 + 4, failed: 2 },
    );
    assert.equal(await h.metric('hermod_rollouts_in_progress'), 0);
    assert.equal(await h.metric('hermod_slack_permanent_failures_total'), 0);
  });
});
