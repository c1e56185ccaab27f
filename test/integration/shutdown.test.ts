/**
 * Graceful shutdown with a real process: `hermod run` against the test control plane and the
 * local Slack, SIGTERM right after Hermod has decided a rollout's verdict but before Slack
 * has it (Slack is made slow). The process must stay not-ready while it drains, deliver the
 * decided message, and exit 0 inside Kubernetes' default 30 s termination grace period
 * (the test plays the kubelet: SIGKILL at 30 s).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COLOURS } from '../../demo/show.js';
import { messageColour, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';

const GRACE_PERIOD_MS = 30_000;
const SLOW_SLACK_MS = 3_000;

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

describe('graceful shutdown of hermod run', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ channels: ['deploys'], startHermod: false });
    await h.createNamespace('shop', { [SLACK_ANNOTATION]: 'deploys' });
  });
  after(async () => {
    await h?.stop();
  });

  it('SIGTERM after a verdict is decided: not ready while draining, the verdict reaches Slack, exit 0 within the grace period', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, SLACK_TOKEN: h.slack.token, SLACK_API_URL: h.slack.url, CLUSTER_NAME: 'test' };
    delete env['HERMOD_METRICS_PORT'];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(process.cwd(), 'src/io/commands/cli.ts'), 'run', '--kubeconfig', h.cluster.kubeconfigPath, '--metrics-port', '0', '--level', 'debug'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const logs = (): LogLine[] =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
    const logged = (what: string, match: (l: LogLine) => boolean) =>
      h.waitFor(`the log line: ${what}\n${stderr}`, () => (child.exitCode === null ? logs().find(match) : Promise.reject(new Error(`hermod exited ${child.exitCode}: ${stderr}`))), 60_000);

    try {
      const serving = await logged('serving /metrics', (l) => l.msg.startsWith('serving /metrics'));
      const base = `http://127.0.0.1:${String(serving['port'])}`;
      await logged('caches synced', (l) => l.msg.startsWith('caches synced'));
      assert.equal((await fetch(`${base}/readyz`)).status, 200);

      // Slack answers chat.update slowly, so the verdict is still on its way when SIGTERM comes.
      h.slack.faults.slow({ methods: ['chat.update'], delayMs: SLOW_SLACK_MS });
      await h.createDeployment({ namespace: 'shop', name: 'web', replicas: 2 });
      await logged('the verdict', (l) => l.msg === 'rollout ended: succeeded' && l['deployment'] === 'shop/web');
      const message = h.messages('deploys')[0];
      assert.ok(message !== undefined, 'the rollout was announced');
      assert.notEqual(messageColour(message), COLOURS.green, 'the verdict has not reached Slack yet when SIGTERM is sent');

      const signalledAt = Date.now();
      child.kill('SIGTERM');
      const kubelet = setTimeout(() => child.kill('SIGKILL'), GRACE_PERIOD_MS);
      // While it drains: not ready (no new traffic), but alive (no restart).
      const readyz = await h.waitFor('/readyz to answer 503', async () => ((await fetch(`${base}/readyz`)).status === 503 ? true : undefined), 5_000);
      assert.equal(readyz, true);
      assert.equal((await fetch(`${base}/livez`)).status, 200);

      const code = await exited;
      clearTimeout(kubelet);
      const tookMs = Date.now() - signalledAt;
      assert.equal(code, 0, `exit code (killed at the end of the grace period if null); stderr:\n${stderr}`);
      console.log(`shutdown took ${tookMs} ms with Slack answering chat.update in ${SLOW_SLACK_MS} ms`);

      // The decided verdict was delivered before the process ended.
      const final = h.messages('deploys')[0];
      assert.equal(messageColour(final ?? {}), COLOURS.green, JSON.stringify(final?.history.map((v) => messageColour(v))));
      assert.match(final?.text ?? '', /succeeded/);
      const messages = logs().map((l) => l.msg);
      assert.ok(messages.includes('shutting down'));
      assert.ok(messages.includes('hermod stopped'), messages.join('\n'));
      assert.ok(!messages.includes('stopping with Slack messages still pending'), messages.join('\n'));
      await assert.rejects(fetch(`${base}/livez`), 'the ops server is closed after the stop');
    } finally {
      h.slack.faults.clear();
      child.kill('SIGKILL');
    }
  });
});
