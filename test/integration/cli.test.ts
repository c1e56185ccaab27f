/**
 * The `hermod` command line as a user runs it: real processes (`node --import tsx
 * src/io/commands/cli.ts ...`, and `scripts/start.ts` behind `npm start`), the real test control
 * plane and the local Slack. Exit codes: 0 ok, 1 failure, 2 usage, 3 check found problems.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OPTIONS } from '../../src/io/config.js';
import { VERSION } from '../../src/io/version.js';
import { MENTION_ANNOTATION } from '../../src/machines/annotations.js';
import { SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';

const ROOT = process.cwd();
const CLI = join(ROOT, 'src/io/commands/cli.ts');
const START = join(ROOT, 'scripts/start.ts');

/** The environment without anything that configures Hermod, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('HERMOD_') || ['SLACK_TOKEN', 'SLACK_API_URL', 'SENTRY_ENDPOINT', 'CLUSTER_NAME', 'KUBECONFIG'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** Resolves once stdout+stderr match `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

function start(script: string, args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = (out + err).match(pattern);
        if (m !== null) return m;
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no ${pattern} in the output (exit ${child.exitCode}):\n${out}\n${err}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** Runs to completion (killed after `timeoutMs`). */
async function run(args: string[], env: NodeJS.ProcessEnv = cleanEnv(), script = CLI, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = start(script, args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

describe('hermod without a cluster', () => {
  it('--help lists the commands and every flag of the configuration table, with its environment variable', async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    for (const command of ['[run]', 'check', 'notify-test', 'demo']) assert.match(stdout, new RegExp(`^\\s+${command.replace(/[[\]]/g, '\\$&')}\\s`, 'm'), command);
    for (const spec of OPTIONS) {
      if (spec.flag === null) continue;
      assert.ok(stdout.includes(`--${spec.flag}`), `--${spec.flag} in --help`);
      if (spec.env !== null) assert.ok(stdout.includes(`Env: ${spec.env}.`), `${spec.env} in --help`);
    }
    assert.ok(!stdout.includes('Env: null'), 'a flag without an environment variable names none');
  });

  it('demo --help lists its own flags', async () => {
    const { code, stdout } = await run(['demo', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /--demo-port <port>/);
    assert.match(stdout, /--keep/);
  });

  it('--version prints the version', async () => {
    const { code, stdout } = await run(['--version']);
    assert.equal(code, 0);
    assert.ok(stdout.includes(`hermod/${VERSION}`), stdout);
  });

  it('a bad --level exits 2 naming --level and the allowed values', async () => {
    const { code, stderr } = await run(['--level', 'loud', '--dry-run']);
    assert.equal(code, 2);
    assert.match(stderr, /--level must be one of debug, info, warn, error, got "loud"/);
  });

  it('an unknown flag exits 2, named as typed, and points at --help', async () => {
    const { code, stderr } = await run(['check', '--bogus-flag']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown option --bogus-flag for check/);
    assert.match(stderr, /hermod --help/);
  });

  it('an unknown command exits 2 with a suggestion and starts nothing (hermod chek)', async () => {
    const { code, stdout, stderr } = await run(['chek', '--dry-run', '--metrics-port', '0'], cleanEnv({ SLACK_TOKEN: 'xoxb-not-used' }));
    assert.equal(code, 2);
    assert.match(stderr, /unknown command "chek": did you mean check\?/);
    assert.equal(stdout, '', 'the notifier did not start');
  });

  it('a negative number gets the range message, not "unknown option -5"', async () => {
    const { code, stderr } = await run(['--failing-grace-seconds', '-5', '--dry-run']);
    assert.equal(code, 2);
    assert.match(stderr, /--failing-grace-seconds must be a whole number from 0 to 86400, got "-5"/);
  });

  it('--help lists the environment variables', async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    for (const name of ['SLACK_TOKEN', 'SENTRY_ENDPOINT', 'CLUSTER_NAME', 'POD_NAMESPACE', 'HTTPS_PROXY', 'NO_PROXY', 'NODE_EXTRA_CA_CERTS']) assert.ok(stdout.includes(name), name);
  });

  it('a kubeconfig that does not exist exits 2 and says what to do', async () => {
    const { code, stderr } = await run(['--kubeconfig', '/nonexistent/kubeconfig'], cleanEnv({ SLACK_TOKEN: 'xoxb-not-used' }));
    assert.equal(code, 2);
    assert.match(stderr, /--kubeconfig \/nonexistent\/kubeconfig: file does not exist/);
    assert.match(stderr, /Give Hermod a cluster/);
  });

  it('check names the host, the cause and what to do when the cluster and Slack cannot be reached', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hermod-cli-'));
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
    );
    try {
      const { code, stdout } = await run(['check', '--kubeconfig', kubeconfig], cleanEnv({ SLACK_TOKEN: 'xoxb-1', SLACK_API_URL: `http://127.0.0.1:${port}/api/` }));
      assert.equal(code, 3);
      assert.match(stdout, new RegExp(`FAIL  auth.test: cannot reach 127\\.0\\.0\\.1:${port}: connection refused \\(ECONNREFUSED\\): check the address`));
      assert.match(stdout, new RegExp(`FAIL  cannot reach 127\\.0\\.0\\.1:${port}: connection refused`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('run without SLACK_TOKEN exits 2 and says how to provide one', async () => {
    const { code, stderr } = await run(['run']);
    assert.equal(code, 2);
    assert.match(stderr, /SLACK_TOKEN is not set/);
    assert.match(stderr, /export SLACK_TOKEN=xoxb-/);
    assert.match(stderr, /--dry-run/);
  });

  it('npm start (scripts/start.ts): the demo without SLACK_TOKEN, hermod run with one', async () => {
    // A bad demo flag ends the demo before it starts a cluster: enough to see which command ran.
    const demo = await run(['--demo-port', 'none'], cleanEnv(), START);
    assert.equal(demo.code, 2);
    assert.match(demo.stdout, /^No SLACK_TOKEN: starting the embedded demo \(local control plane and local Slack\)…$/m);
    assert.match(demo.stderr, /--demo-port must be a port number/);

    const withToken = await run(['--level', 'loud'], cleanEnv({ SLACK_TOKEN: 'xoxb-anything' }), START);
    assert.equal(withToken.code, 2);
    assert.ok(!withToken.stdout.includes('embedded demo'), withToken.stdout);
    assert.match(withToken.stderr, /--level must be one of/);

    const dryRun = await run(['--dry-run', '--level', 'loud'], cleanEnv(), START);
    assert.equal(dryRun.code, 2, 'a dry run is `hermod run`, not the demo');
    assert.ok(!dryRun.stdout.includes('embedded demo'), dryRun.stdout);

    const passThrough = await run(['--version'], cleanEnv(), START);
    assert.equal(passThrough.code, 0);
    assert.ok(passThrough.stdout.includes(`hermod/${VERSION}`));
  });
});

describe('hermod against the test cluster and the local Slack', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ channels: ['deploys', 'alerts'], startHermod: false });
    await h.createNamespace('shop', { [SLACK_ANNOTATION]: 'deploys' });
    await h.createNamespace('payments', { [SLACK_ANNOTATION]: 'alerts', 'hermod.uswitch.com/alert': 'failure' });
  });
  after(async () => {
    await h?.stop();
  });

  const slackEnv = (): NodeJS.ProcessEnv => cleanEnv({ SLACK_TOKEN: h.slack.token, SLACK_API_URL: h.slack.url });

  it('check with the admin kubeconfig passes and lists the annotated namespaces with their channels', async () => {
    const { code, stdout } = await run(['check', '--kubeconfig', h.cluster.kubeconfigPath, '--state-namespace', 'hermod-system'], slackEnv());
    assert.equal(code, 0, stdout);
    assert.match(stdout, /ok {4}token works: bot hermod/);
    assert.match(stdout, /ok {4}channels:history granted/);
    assert.match(stdout, /ok {4}checked as \S+/);
    assert.match(stdout, /ok {4}may update configmaps\/hermod-state in hermod-system$/m);
    assert.match(stdout, /ok {4}may create coordination\.k8s\.io\/leases in hermod-system$/m);
    assert.match(stdout, /ok {4}may list apps\/deployments/);
    assert.match(stdout, /ok {4}may create events/);
    assert.match(stdout, /ok {4}may get pods\/log/);
    assert.match(stdout, /ok {4}shop -> deploys$/m);
    assert.match(stdout, /ok {4}payments -> alerts \(failures only\)$/m);
    assert.match(stdout, /All checks passed\./);
  });

  it('check names a refused mention annotation on a watched namespace and exits 3; a valid one is counted (issue 13)', async () => {
    await h.createNamespace('owners-ok', { [SLACK_ANNOTATION]: 'deploys', [MENTION_ANNOTATION]: 'U012AB3CD, S0614TZR7' });
    await h.createNamespace('owners-bad', { [SLACK_ANNOTATION]: 'deploys', [MENTION_ANNOTATION]: 'here' });
    try {
      const { code, stdout } = await run(['check', '--kubeconfig', h.cluster.kubeconfigPath, '--state-namespace', 'hermod-system'], slackEnv());
      assert.equal(code, 3, stdout);
      assert.match(stdout, /ok {4}owners-ok -> deploys, mentioning 2 on failure$/m);
      assert.match(stdout, /FAIL {2}owners-bad: hermod\.uswitch\.com\/mention is refused: "here" pings the whole channel: it is allowed only with --allow-broadcast-mentions; failures are posted without a mention$/m);
      const allowed = await run(['check', '--kubeconfig', h.cluster.kubeconfigPath, '--state-namespace', 'hermod-system', '--allow-broadcast-mentions'], slackEnv());
      assert.equal(allowed.code, 0, allowed.stdout);
      assert.match(allowed.stdout, /ok {4}owners-bad -> deploys, mentioning 1 on failure$/m);
    } finally {
      // The other checks expect only their own namespaces to be watched.
      await h.annotateNamespace('owners-ok', { [SLACK_ANNOTATION]: null });
      await h.annotateNamespace('owners-bad', { [SLACK_ANNOTATION]: null });
    }
  });

  it('check as a user without RBAC exits 3 naming the missing permissions', async () => {
    assert.ok(h.cluster.userKubeconfigPath !== undefined, 'a local cluster has the hermod-test user');
    const { code, stdout } = await run(['check', '--kubeconfig', h.cluster.userKubeconfigPath, '--state-namespace', 'hermod-system'], slackEnv());
    assert.equal(code, 3, stdout);
    for (const missing of ['list namespaces', 'watch pods', 'list apps/deployments', 'watch apps/replicasets', 'create events', 'get pods/log']) {
      assert.ok(stdout.includes(`FAIL  may not ${missing}: grant it`), `${missing}:\n${stdout}`);
    }
    for (const missing of ['get configmaps/hermod-state', 'update coordination.k8s.io/leases/hermod-leader', 'create coordination.k8s.io/leases']) {
      assert.ok(stdout.includes(`FAIL  may not ${missing} in hermod-system: grant it with a Role`), `${missing}:\n${stdout}`);
    }
    assert.match(stdout, /ok {4}checked as hermod-test/);
    assert.match(stdout, /FAIL {2}list namespaces: HTTP 403 Forbidden: namespaces is forbidden/);
    assert.doesNotMatch(stdout, /HTTP-Code|Headers:/, 'no raw HTTP dump');
    assert.match(stdout, /problem\(s\) found/);
  });

  it('check with a token Slack does not know exits 3 naming the Slack error', async () => {
    const { code, stdout } = await run(['check', '--kubeconfig', h.cluster.kubeconfigPath], cleanEnv({ SLACK_TOKEN: 'xoxb-not-a-real-token', SLACK_API_URL: h.slack.url }));
    assert.equal(code, 3, stdout);
    assert.match(stdout, /FAIL {2}auth\.test: Slack answered invalid_auth: the Slack token was refused: check SLACK_TOKEN/);
  });

  it('notify-test --channel deploys posts a test message to the local Slack', async () => {
    const before = h.messages('deploys').length;
    const { code, stdout, stderr } = await run(['notify-test', '--channel', 'deploys'], slackEnv());
    assert.equal(code, 0, stderr);
    assert.match(stdout, /posted a test message to deploys \(channel ID C\w+, ts \d+\.\d+\)/);
    const messages = h.messages('deploys');
    assert.equal(messages.length, before + 1);
    assert.match(messages.at(-1)?.text ?? '', /Hermod can post in this channel/);
  });

  it('run with a token Slack rejects: an error line, /readyz 503 naming it, hermod_slack_token_rejected 1, /livez 200', async () => {
    const p = start(CLI, ['run', '--kubeconfig', h.cluster.kubeconfigPath, '--metrics-port', '0'], cleanEnv({ SLACK_TOKEN: 'xoxb-not-a-real-token', SLACK_API_URL: h.slack.url }));
    try {
      const [, port] = await p.waitFor(/"port":(\d+),"msg":"serving/);
      await p.waitFor(/caches synced: watching/);
      await h.createDeployment({ namespace: 'shop', name: 'rejected', replicas: 1 });
      await p.waitFor(/"level":"error".*Slack rejects the token \(invalid_auth\): nothing can be posted until SLACK_TOKEN is replaced/);
      const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(readyz.status, 503);
      assert.match(await readyz.text(), /Slack rejects the token \(invalid_auth\): replace SLACK_TOKEN/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/livez`)).status, 200, 'a Slack problem never fails liveness');
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /^hermod_slack_token_rejected 1$/m);
      assert.match(metrics, /^hermod_build_info\{version="[^"]+",nodejs="v[^"]+"\} 1$/m);
      assert.match(metrics, /^hermod_watch_seconds_since_activity\{kind="deployments"\} \d/m);
    } finally {
      p.child.kill('SIGTERM');
    }
    assert.equal(await p.exited, 0, p.stderr());
  });

  it('notify-test to a channel Slack does not know gives the advice run gives', async () => {
    const { code, stderr } = await run(['notify-test', '--channel', 'no-such-channel'], slackEnv());
    assert.equal(code, 1);
    assert.match(stderr, /Slack answered channel_not_found: check the channel in the hermod\.uswitch\.com\/slack annotation \("no-such-channel"\)/);
  });

  it('notify-test without --channel exits 2', async () => {
    const { code, stderr } = await run(['notify-test'], slackEnv());
    assert.equal(code, 2);
    assert.match(stderr, /--channel <name or ID> is required/);
  });

  it('run --dry-run logs the messages it would post for a rollout, without a token and without calling Slack', async () => {
    const requestsBefore = h.slack.requests().length;
    const p = start(CLI, ['run', '--dry-run', '--kubeconfig', h.cluster.kubeconfigPath, '--metrics-port', '0'], cleanEnv({ SLACK_API_URL: h.slack.url }));
    try {
      await p.waitFor(/caches synced: watching/);
      await h.createDeployment({ namespace: 'shop', name: 'dry', replicas: 1 });
      await p.waitFor(/dry run: would post to deploys: :hourglass_flowing_sand: Rolling out Deployment `dry` \(revision 1\) in `shop`/);
      await p.waitFor(/dry run: would update deploys \S+ :white_check_mark: Rollout of Deployment `dry` \(revision 1\) in `shop` succeeded/);
    } finally {
      p.child.kill('SIGTERM');
    }
    assert.equal(await p.exited, 0, p.stderr());
    const lines = p
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"dryRun":true') && l.includes('"method":"chat.'))
      .map((l) => JSON.parse(l) as { method: string; attachments?: Array<{ color: string }> });
    assert.equal(lines[0]?.method, 'chat.postMessage');
    assert.equal(lines.at(-1)?.attachments?.[0]?.color, '#36a64f', 'the logged message carries the full attachment');
    assert.equal(h.slack.requests().length, requestsBefore, 'a dry run sends nothing to Slack');
  });

  it('demo --once: the whole show, each Slack change printed, then a clean exit 0', async () => {
    const { code, stdout, stderr } = await run(['demo', '--once'], cleanEnv(), CLI, 240_000);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /Open the demo page: http:\/\/127\.0\.0\.1:\d+\//);
    for (const scene of ['a successful rollout', 'a crash-looping release', 'an image that cannot be pulled', 'a bad release rolled back', 'a Pod Security refusal']) {
      assert.ok(stdout.includes(`▶ Scene: ${scene}`), scene);
    }
    assert.match(stdout, /#payments +edit \d+ +▌ ❌ Rollout of Deployment `api` \(revision 2\) in `payments` on `demo` failed/);
    assert.match(stdout, /#deploys +edit \d+ +▌ ⏩ Rollout of Deployment `web` \(revision 2\) in `checkout` on `demo` was superseded by revision 3/);
    assert.match(stdout, /#platform +reply +▌ Failure details for Deployment `node-agent`/);
    assert.match(stdout, /The show is over \(\d+ s, \d+ Slack changes/);
    assert.match(stdout, /Demo stopped\./);
    assert.ok(!stderr.includes('did not go as scripted'), stderr);
  });

  it('demo: the show starts when the page is opened, the page stays up after it; Ctrl-C stops Hermod, the local Slack and the control plane, and exits 0', async () => {
    const p = start(CLI, ['demo'], cleanEnv());
    try {
      const [, logs] = await p.waitFor(/\(logs: (\S+)\/logs\)/, 180_000);
      const [, url] = await p.waitFor(/Open the demo page: (http:\/\/127\.0\.0\.1:\d+\/)/);
      const state = (await (await fetch(`${url}state`)).json()) as { channels: Array<{ name: string }> };
      assert.deepEqual(state.channels.map((c) => c.name), ['deploys', 'payments', 'search', 'platform']);
      await p.waitFor(/The show starts when you open the page, or in 15 s/);
      assert.equal((await fetch(url!)).status, 200);
      await p.waitFor(/The page is open: the show starts\./, 5_000);
      await p.waitFor(/#deploys +posted /);
      await p.waitFor(/The page stays up at http:\S+ with the whole show: press Ctrl-C to stop the demo\./, 120_000);
      await new Promise((r) => setTimeout(r, 6_000)); // longer than --once would linger
      assert.equal((await fetch(`${url}state`)).status, 200, 'the page is still served after the show');
      p.child.kill('SIGINT');
      assert.equal(await p.exited, 0, p.stderr());
      assert.match(p.stdout(), /SIGINT: stopping the demo/);
      assert.match(p.stdout(), /Demo stopped\./);
      assert.equal(existsSync(logs!), false, `the control plane's directory ${logs} was removed by its stop()`);
      await assert.rejects(fetch(`${url}state`), 'the page server is closed');
    } finally {
      p.child.kill('SIGKILL');
    }
  });
});
