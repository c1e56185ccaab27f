/**
 * The BUILT Hermod (`npm run build`: the esbuild bundle in dist/ that package.json "bin", the
 * image and bench:cluster run), against the test control plane and the local Slack: --version,
 * `check`, `notify-test`, `run --log-format text` to a synced, ready state and a clean SIGTERM,
 * and what it loads from node_modules, seen by a module-resolution hook: nothing for `--version`
 * and `run` (every dependency they use is bundled), @sentry/node only when SENTRY_ENDPOINT is set.
 * The demo from the bundle is left to `hermod demo` in cli.test.ts's source run: the bundle's
 * demo entry only resolves demo/demo.ts by the same relative path (checked here).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { VERSION } from '../../src/io/version.js';
import { SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';
import { imageNodeFlags } from '../support/dockerfile.js';

const ROOT = process.cwd();
const CLI = join(ROOT, 'dist/src/io/commands/cli.js');

/** The environment without anything that configures Hermod, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('HERMOD_') || ['SLACK_TOKEN', 'SLACK_API_URL', 'SENTRY_ENDPOINT', 'CLUSTER_NAME', 'KUBECONFIG', 'NODE_OPTIONS'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

interface Running {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** `node [--import hook] <the image's node flags> dist/.../cli.js ...args`, as the image starts it. */
function start(args: string[], env: NodeJS.ProcessEnv, hook?: string): Running {
  const preload = hook === undefined ? [] : ['--import', `data:text/javascript,import{register}from"node:module";register(${JSON.stringify(pathToFileURL(hook).href)})`];
  const child = spawn(process.execPath, [...preload, ...imageNodeFlags(ROOT), CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(pattern);
        if (m !== null) return m;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} in the output (exit ${child.exitCode}):\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

async function run(args: string[], env: NodeJS.ProcessEnv, hook?: string): Promise<{ code: number | null; output: string }> {
  const p = start(args, env, hook);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 60_000);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, output: p.output() };
}

/** The packages a process resolved from node_modules, as the hook printed them. */
const loadedPackages = (output: string): Set<string> =>
  new Set([...output.matchAll(/^hermod-resolved .*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)].map((m) => m[1]!));

describe('the built bundle (npm run build)', { timeout: 10 * 60_000 }, () => {
  let h: Harness;
  let dir: string;
  let hook: string;

  before(async () => {
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, `${build.stdout}\n${build.stderr}`);
    dir = mkdtempSync(join(tmpdir(), 'hermod-bundle-'));
    hook = join(dir, 'hook.mjs');
    writeFileSync(hook, [
      'export async function resolve(specifier, context, next) {',
      '  const resolved = await next(specifier, context);',
      "  if (resolved.url.includes('/node_modules/')) process._rawDebug(`hermod-resolved ${resolved.url}`);",
      '  return resolved;',
      '}',
    ].join('\n'));
    h = await startHarness({ channels: ['deploys'], startHermod: false });
    await h.createNamespace('bundled', { [SLACK_ANNOTATION]: 'deploys' });
  });
  after(async () => {
    await h?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const slackEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => cleanEnv({ SLACK_TOKEN: h.slack.token, SLACK_API_URL: h.slack.url, ...extra });

  it('is one entry per command plus shared chunks, with source maps, and client-node inside', () => {
    const commands = readdirSync(join(ROOT, 'dist/src/io/commands')).filter((f) => f.endsWith('.js')).sort();
    assert.deepEqual(commands, ['check.js', 'cli.js', 'demo.js', 'notifySlack.js', 'run.js']);
    for (const file of commands) assert.ok(existsSync(join(ROOT, 'dist/src/io/commands', `${file}.map`)), `${file}.map`);
    const all = [...commands.map((f) => join(ROOT, 'dist/src/io/commands', f)), ...readdirSync(join(ROOT, 'dist/chunks')).filter((f) => f.endsWith('.js')).map((f) => join(ROOT, 'dist/chunks', f))];
    const text = all.map((f) => readFileSync(f, 'utf8')).join('\n');
    assert.doesNotMatch(text, /from\s*["']@kubernetes\/client-node/, 'client-node is bundled, not imported');
    assert.doesNotMatch(text, /(^|[;\n])\s*import\s*[^(]*["']@sentry\/node["']/m, 'no static import of @sentry/node');
    assert.match(text, /import\(\s*["']@sentry\/node["']\s*\)/, 'Sentry is imported dynamically');
    // `hermod demo` finds demo/ from its own file, as it did from tsc's output.
    assert.match(readFileSync(join(ROOT, 'dist/src/io/commands/demo.js'), 'utf8'), /\.\.\/\.\.\/\.\.\/demo\/demo\.ts/);
  });

  it('--version prints the version, loading nothing from node_modules', async () => {
    const { code, output } = await run(['--version'], cleanEnv(), hook);
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`hermod/${VERSION.replace(/\./g, '\\.')} `));
    assert.deepEqual([...loadedPackages(output)], []);
  });

  it('check against the test cluster and the local Slack passes', async () => {
    const { code, output } = await run(['check', '--kubeconfig', h.cluster.kubeconfigPath], slackEnv());
    assert.equal(code, 0, output);
    assert.match(output, /ok {4}may list apps\/deployments/);
    assert.match(output, /ok {4}bundled -> deploys$/m);
    assert.match(output, /All checks passed\./);
  });

  it('notify-test posts a test message', async () => {
    const before = h.messages('deploys').length;
    const { code, output } = await run(['notify-test', '--channel', 'deploys'], slackEnv());
    assert.equal(code, 0, output);
    assert.equal(h.messages('deploys').length, before + 1);
  });

  it('run --log-format text: readable lines, ready, a rollout posted, exit 0 on SIGTERM; nothing imported from node_modules', async () => {
    const p = start(['run', '--log-format', 'text', '--kubeconfig', h.cluster.kubeconfigPath, '--metrics-port', '0'], slackEnv(), hook);
    try {
      const [, port] = await p.waitFor(/serving \/metrics, \/livez and \/readyz.*?port: (\d+)/s);
      await p.waitFor(/caches synced: watching/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      await h.createDeployment({ namespace: 'bundled', name: 'web', replicas: 1 });
      await h.waitFor('the rollout in Slack', () => h.messages('deploys').some((m) => /Deployment `web`/.test(m.text ?? '')));
    } finally {
      p.child.kill('SIGTERM');
    }
    assert.equal(await p.exited, 0, p.output());
    assert.match(p.output(), /INFO.*hermod starting/, 'pino-pretty lines, not JSON');
    // pino-pretty, the one package a text log needs from node_modules, is required on first use (src/io/logger.ts): no import to see.
    assert.deepEqual([...loadedPackages(p.output())], []);
  });

  it('with SENTRY_ENDPOINT set, @sentry/node is loaded', async () => {
    const { code, output } = await run(['run', '--kubeconfig', join(dir, 'no-such-kubeconfig')], slackEnv({ SENTRY_ENDPOINT: 'http://key@127.0.0.1:9/1' }), hook);
    assert.equal(code, 2, output);
    assert.ok(loadedPackages(output).has('@sentry/node'), output);
  });
});
