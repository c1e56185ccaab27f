/**
 * Behaviour on the real control plane (6, 7, 13): rollouts started the ways people start
 * them (`kubectl rollout restart`, `kubectl rollout undo` done through the API the way
 * kubectl does it), a new revision while the previous one is still rolling out, and hostile
 * annotation values and channel names. Assertions read what reached the local Slack (every
 * version of every message) and Hermod's metrics, and compare Hermod's verdicts with the
 * controller's status read the way kubectl reads it.
 *
 * The three scenarios run concurrently, each in its own namespaces and channel; the
 * counters are checked once all of them are done.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ALERT_ANNOTATION,
  messageColour,
  messageText,
  REPO_ANNOTATION,
  SHA_ANNOTATION,
  SLACK_ANNOTATION,
  startHarness,
  type DeploymentSpec,
  type Harness,
} from '../support/hermod-harness.js';
import { FAILURE_LABEL } from '../support/cluster.js';
import type { StoredMessage } from '../support/slack-server.js';
import { GREEN, GREY, ORANGE, RED, controllerState, dump, everyVersion, rolloutRestart, rolloutUndo, messageFor } from '../support/scenario.js';



function waitForColour(h: Harness, channel: string, name: string, revision: number, colour: string, timeoutMs = 60_000): Promise<StoredMessage> {
  return h.waitFor(
    `${name} revision ${revision} to turn ${colour} in #${channel}`,
    () => {
      const m = messageFor(h, channel, name, revision);
      return m !== undefined && messageColour(m) === colour ? m : undefined;
    },
    timeoutMs,
  );
}








/**
 * Raw mrkdwn control sequences: a mention (`<!channel>`, `<!here>`, `<!everyone>`,
 * `<!subteam^…>`), a user or channel reference, or a link to a non-http URL. `<!date^…>` is
 * Hermod's own footer.
 */
const CONTROL = /<!(?!date\^)|<@|<#|<(?!https?:\/\/)[a-z][a-z0-9+.-]*:/i;

interface Counters {
  processed: number;
  success: number;
  failed: number;
  superseded: number;
}

async function counters(h: Harness): Promise<Counters> {
  const running = h.hermod;
  if (running === null) throw new Error('Hermod is not running');
  const ended = await running.metrics.registry.getSingleMetricAsString('hermod_rollouts_ended_total');
  const superseded = ended
    .split('\n')
    .filter((line) => line.startsWith('hermod_rollouts_ended_total{') && line.includes('phase="superseded"'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  return {
    processed: await h.metric('hermod_deployment_processed_total'),
    success: await h.metric('hermod_deployment_success_total'),
    failed: await h.metric('hermod_deployment_failed_total'),
    superseded,
  };
}

describe('rollouts on the real control plane', () => {
  let h: Harness;
  let initial: Counters;
  before(async () => {
    h = await startHarness({ channels: ['restart', 'super', 'hostile'], flags: { failingGraceSeconds: 2 } });
    initial = await counters(h);
  });
  after(async () => {
    await h?.stop();
  });

  describe('scenarios', { concurrency: true }, () => {
    it('rollout restart and rollout undo are rollouts of their own; undo says which revision it returned to', async () => {
      const ns = 'restart';
      await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'restart' });
      const shaOf = (n: number): string => `${n}`.repeat(40);
      const spec = (image: number): DeploymentSpec => ({
        namespace: ns,
        name: 'web',
        image: `registry.example/app:${image}`,
        annotations: { [SHA_ANNOTATION]: shaOf(image), [REPO_ANNOTATION]: 'https://github.com/example-org/web' },
      });

      await h.createDeployment(spec(1));
      await waitForColour(h, ns, 'web', 1, GREEN);
      await h.updateDeployment(spec(2));
      await waitForColour(h, ns, 'web', 2, GREEN);

      // kubectl rollout restart: revision 3, same image, no rollback.
      await rolloutRestart(h, ns, 'web');
      const restarted = await waitForColour(h, ns, 'web', 3, GREEN);
      assert.ok(!messageText(restarted).includes('rollback'), messageText(restarted));
      assert.match(messageText(restarted), /revision 3 \(was 2\)/);
      // Same image: what changed is the template annotation `kubectl rollout restart` sets.
      assert.ok(messageText(restarted).includes('pod template changed: `metadata.annotations[kubectl.kubernetes.io/restartedAt]`'), messageText(restarted));
      assert.equal(await controllerState(h, ns, 'web'), 'complete');

      // kubectl rollout undo: back to revision 2's template, which becomes revision 4.
      assert.equal(await rolloutUndo(h, ns, 'web'), 2);
      const undone = await waitForColour(h, ns, 'web', 4, GREEN);
      assert.match(messageText(undone), /revision 4 \(was 3\) · [^"]*back to revision 2/);
      assert.equal(await controllerState(h, ns, 'web'), 'complete');

      // kubectl rollout undo --to-revision=1: revision 5, with revision 1's commit again.
      assert.equal(await rolloutUndo(h, ns, 'web', 1), 1);
      const first = await waitForColour(h, ns, 'web', 5, GREEN);
      assert.match(messageText(first), /revision 5 \(was 4\) · [^"]*back to revision 1/);
      assert.ok(messageText(first).includes(`/commit/${shaOf(1)}|${shaOf(1).slice(0, 7)}>`), messageText(first));
      const live = await h.getDeployment(ns, 'web');
      assert.equal(live.spec?.template.spec?.containers[0]?.image, 'registry.example/app:1');
      assert.equal(await controllerState(h, ns, 'web'), 'complete');

      // Five rollouts, five messages, each started orange and ended green.
      const all = h.messages(ns);
      assert.equal(all.length, 5, JSON.stringify(all.map((m) => m.text)));
      for (const m of all) {
        assert.equal(messageColour(m.history[0]!), ORANGE, dump(m));
        assert.equal(messageColour(m), GREEN, dump(m));
      }
    });

    it('a new revision while the previous one is still rolling out supersedes it', async () => {
      const ns = 'super';
      await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'super' });
      const supersede = async (name: string, stuck: DeploymentSpec['failure'], wait: (m: StoredMessage) => boolean): Promise<void> => {
        const spec: DeploymentSpec = { namespace: ns, name, progressDeadlineSeconds: 120 };
        await h.createDeployment(spec);
        await waitForColour(h, ns, name, 1, GREEN);
        await h.updateDeployment({ ...spec, image: 'registry.example/app:2', failure: stuck });
        await h.waitFor(`${name} revision 2 to be under way`, () => {
          const m = messageFor(h, ns, name, 2);
          return m !== undefined && wait(m);
        });
        assert.equal(await controllerState(h, ns, name), 'progressing');
        // The fix: a good image, and the failure label removed (a merge patch keeps map keys unless set to null).
        await h.patchDeployment(ns, name, {
          spec: { template: { metadata: { labels: { [FAILURE_LABEL]: null } }, spec: { containers: [{ name: 'app', image: 'registry.example/app:3' }] } } },
        });

        const old = await waitForColour(h, ns, name, 2, GREY);
        assert.match(old.text, /was superseded by revision 3$/);
        assert.match(messageText(old), /revision 2 \(was 1\) · took /);
        const fixed = await waitForColour(h, ns, name, 3, GREEN);
        assert.match(messageText(fixed), /revision 3 \(was 2\)/);
        assert.equal(await controllerState(h, ns, name), 'complete');
        // The superseded message never claimed a verdict.
        assert.ok(!old.history.some((v) => messageColour(v) === GREEN || v.text.endsWith('failed')), dump(old));
      };
      await Promise.all([
        // Pods running but never ready: still progressing when revision 3 comes.
        supersede('slow', 'neverready', (m) => messageText(m).includes(': 1 of 2 pods')),
        // Crash-looping: already reported failing (red) when the fix comes.
        supersede('fix', 'crashloop', (m) => messageColour(m) === RED && m.text.endsWith('is failing')),
      ]);
      const slow = messageFor(h, ns, 'slow', 2)!;
      assert.ok(slow.history.slice(0, -1).every((v) => messageColour(v) === ORANGE), dump(slow));
    });

    it('hostile annotation values and channel names neither escape as mentions nor stop Hermod', async () => {
      const ns = 'hostile';
      await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'hostile' });
      const long = 'long.name-' + 'a1'.repeat(26) + 'z'; // 63 characters: the longest a label value allows
      const veryLong = '<!here> '.repeat(400) + 'x'.repeat(5000);
      const crashing = (name: string, sha: string, repo: string): DeploymentSpec => ({
        namespace: ns,
        name,
        failure: 'crashloop',
        progressDeadlineSeconds: 10,
        annotations: { [SHA_ANNOTATION]: sha, [REPO_ANNOTATION]: repo },
      });
      const deployments: DeploymentSpec[] = [
        crashing(long, '<!channel>', '<@U123>'),
        crashing('amp', '&', veryLong),
        crashing('fence', '```<!channel>```', 'https://github.com/o/r'),
        {
          namespace: ns,
          name: 'emoji',
          annotations: {
            [SHA_ANNOTATION]: '🚀 déploiement ✓ <!everyone> `<@U123>` 🇬🇧',
            [REPO_ANNOTATION]: 'https://example.com/<@U123>|click',
            [ALERT_ANNOTATION]: '<!channel>',
          },
        },
        { namespace: ns, name: 'plain', annotations: { [SHA_ANNOTATION]: 'a'.repeat(5000), [REPO_ANNOTATION]: 'javascript:alert(1)//<!subteam^S1>' } },
      ];
      // Channel names nobody can post to: Slack refuses them, Hermod carries on.
      const badChannels = ['<!channel>', '<@U123> #hostile', '#déploiements-🚀'];
      await Promise.all(badChannels.map((channel, i) => h.createNamespace(`chan-${i}`, { [SLACK_ANNOTATION]: channel })));
      await Promise.all([
        ...deployments.map((d) => h.createDeployment(d)),
        ...badChannels.map((_, i) => h.createDeployment({ namespace: `chan-${i}`, name: 'web' })),
      ]);

      const failedOf = (name: string): Promise<StoredMessage> =>
        h.waitFor(`${name} to fail`, () => {
          const m = messageFor(h, ns, name, 1);
          return m !== undefined && messageColour(m) === RED && m.text.endsWith('failed') ? m : undefined;
        });
      const [longFailed, ampFailed, fenceFailed] = await Promise.all([failedOf(long), failedOf('amp'), failedOf('fence')]);
      const [emoji, plain] = await Promise.all([waitForColour(h, ns, 'emoji', 1, GREEN), waitForColour(h, ns, 'plain', 1, GREEN)]);

      // The values are shown, escaped, as text.
      assert.ok(messageText(longFailed).includes('Commit: `&lt;!channel&gt;`'), messageText(longFailed));
      assert.ok(messageText(longFailed).includes(`\`${long}\``));
      assert.ok(messageText(ampFailed).includes('Commit: `&amp;`'), messageText(ampFailed));
      assert.ok(messageText(fenceFailed).includes('&lt;!channel&gt;'), messageText(fenceFailed));
      assert.ok(!messageText(fenceFailed).includes('``````'), 'backticks in a value cannot close the code span');
      assert.ok(messageText(emoji).includes('🚀 déploiement ✓ &lt;!everyone&gt;'), messageText(emoji));
      assert.ok(!messageText(emoji).includes('<https://example.com'), 'no link from a repo URL with <, > or |');
      assert.ok(!messageText(plain).includes('<javascript'), messageText(plain));
      assert.ok(messageText(plain).includes('a'.repeat(40) + '…'), 'a 5,000-character SHA is cut with a marker');
      for (const d of deployments.slice(0, 3)) assert.equal(await controllerState(h, ns, d.name), 'deadlineExceeded');
      for (const d of deployments.slice(3)) assert.equal(await controllerState(h, ns, d.name), 'complete');

      // The unpostable channels got nothing (Slack refused) and no other channel got their rollouts.
      await h.waitFor('the bad channels to be tried', () =>
        badChannels.every((c) => h.slack.requests().some((r) => r.channel === c && r.outcome === 'channel_not_found')),
      );
      for (const c of h.slack.channels.list()) {
        assert.ok(!h.messages(c.id).some((m) => m.text.includes('`chan-')), `#${c.name} got a rollout of a bad-channel namespace`);
      }

      // Hermod is still up and still reporting: a later rollout is posted and succeeds.
      assert.equal(h.hermod?.ready(), true);
      const readyz = await fetch(`http://127.0.0.1:${h.hermod!.port}/readyz`);
      assert.equal(readyz.status, 200);
      await h.updateDeployment({ ...deployments[4]!, image: 'registry.example/app:2' });
      await waitForColour(h, ns, 'plain', 2, GREEN);
      assert.equal(await controllerState(h, ns, 'plain'), 'complete');
    });
  });

  it('never lets a raw mention through, and the counters add up over every scenario', async () => {
    const versions = everyVersion(h);
    assert.ok(versions.length > 20, `saw ${versions.length} message versions`);
    for (const { channel, version } of versions) {
      const raw = JSON.stringify({ text: version.text, blocks: version.blocks ?? [], attachments: version.attachments ?? [] });
      const hit = CONTROL.exec(raw);
      assert.equal(hit, null, `#${channel}: raw control sequence ${hit?.[0]} in ${raw.slice(Math.max(0, (hit?.index ?? 0) - 80), (hit?.index ?? 0) + 80)}`);
    }
    const now = await counters(h);
    // restart: 5 rollouts, 5 successes. super: 2 x (1, 2 superseded, 3) = 6 rollouts, 4 successes.
    // hostile: 3 failed, 2 + 1 successes, 3 successes in the bad-channel namespaces.
    assert.deepEqual(
      {
        processed: now.processed - initial.processed,
        success: now.success - initial.success,
        failed: now.failed - initial.failed,
        superseded: now.superseded - initial.superseded,
      },
      { processed: 5 + 6 + 9, success: 5 + 4 + 6, failed: 3, superseded: 2 },
    );
    assert.equal(await h.metric('hermod_rollouts_in_progress'), 0);
  });
});
