/**
 * `--inspect`: the actor system reports to a Stately inspector over WebSocket. A local
 * WebSocket server stands in for the inspector (`createInspectorServer` relays exactly these
 * records to the inspector UI). Hermod runs on the real control plane with the local Slack.
 *
 * "Off costs nothing" is checked in a fresh process with a module-resolution hook: without
 * --inspect, @statelyai/inspect is never even resolved; with it, it is (the control).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createActor, createMachine } from 'xstate';
import { WebSocket, WebSocketServer } from 'ws';
import { sanitizeContext, startInspector } from '../../src/io/inspect.js';
import { startInspectorServer, STATELY_INSPECTOR_URL } from '../../demo/inspector-server.js';
import { messageColour, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';

interface Record_ {
  type: string;
  sessionId: string;
  name?: string;
  event?: { type: string; [k: string]: unknown };
  snapshot?: { value?: unknown; context?: { rollout?: { phase?: string; revision?: number; channel?: string } | null; [k: string]: unknown } };
}

async function receiver(): Promise<{ url: string; records: Record_[]; raw: string[]; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const raw: string[] = [];
  const records: Record_[] = [];
  server.on('connection', (socket) =>
    socket.on('message', (data: Buffer) => {
      const text = data.toString();
      raw.push(text);
      records.push(JSON.parse(text) as Record_);
    }),
  );
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records,
    raw,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

/** Does any key named `key` hold an array, anywhere in `value`? */
function hasArrayNamed(value: unknown, key: string): boolean {
  if (Array.isArray(value)) return value.some((v) => hasArrayNamed(v, key));
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => (k === key && Array.isArray(v)) || hasArrayNamed(v, key));
}

/** A success's final state when no bake watches it (the harness runs with --bake-seconds 0). */
const SUCCEEDED = JSON.stringify({ succeeded: 'baked' });

describe('the Stately inspector', () => {
  let h: Harness;
  let inspector: Awaited<ReturnType<typeof receiver>>;
  before(async () => {
    inspector = await receiver();
    h = await startHarness({ channels: ['deploys'], flags: { inspect: inspector.url } });
  });
  after(async () => {
    await h?.stop();
    await inspector?.close();
  });

  it('receives the Deployment actor, its trimmed observations and its rollout phases', async () => {
    await h.createNamespace('shop', { [SLACK_ANNOTATION]: 'deploys' });
    await h.createDeployment({ namespace: 'shop', name: 'web', replicas: 2 });
    await h.waitFor('the rollout to succeed in Slack', () => h.messages('deploys').find((m) => messageColour(m) === '#36a64f'));

    const names = new Map<string, string>();
    const deploymentSession = await h.waitFor('the inspector to hear of actor shop/web and its verdict', () => {
      for (const r of inspector.records) if (r.type === '@xstate.actor' && r.name !== undefined) names.set(r.sessionId, r.name);
      const session = [...names].find(([, name]) => name === 'shop/web')?.[0];
      const done = inspector.records.some((r) => r.sessionId === session && r.type === '@xstate.snapshot' && JSON.stringify(r.snapshot?.value) === SUCCEEDED);
      return done ? session : undefined;
    });
    assert.ok([...names.values()].includes('supervisor'), `the supervisor is inspected too: ${[...names.values()].join(', ')}`);

    const ofDeployment = inspector.records.filter((r) => r.sessionId === deploymentSession);
    const observed = ofDeployment.filter((r) => r.type === '@xstate.event' && r.event?.type === 'deployment.observed');
    assert.ok(observed.length > 0, 'observations reach the inspector');
    // Observations are reduced to which Deployment and which revision.
    for (const r of observed) assert.deepEqual(r.event, { type: 'deployment.observed', deployment: 'shop/web', revision: r.event?.['revision'] });
    assert.ok(observed.some((r) => r.event?.['revision'] === 1));

    // Snapshots show the rollout's phase, not its view model: progressing, then the verdict.
    const phases = ofDeployment.flatMap((r) => (r.type === '@xstate.snapshot' && r.snapshot?.context?.rollout ? [r.snapshot.context.rollout.phase] : []));
    assert.ok(phases.includes('progressing'), JSON.stringify(phases));
    for (const r of ofDeployment) {
      const rollout = r.snapshot?.context?.rollout;
      if (rollout) assert.deepEqual(Object.keys(rollout).sort(), ['channel', 'phase', 'revision'], JSON.stringify(rollout));
    }
    const values = ofDeployment.flatMap((r) => (r.type === '@xstate.snapshot' ? [JSON.stringify(r.snapshot?.value)] : []));
    assert.ok(values.includes('{"active":"progressing"}'), values.join(' '));
    assert.equal(values.at(-1), SUCCEEDED);

    // Nothing sent carries Pod lists, from any actor.
    for (const r of inspector.records) assert.equal(hasArrayNamed(r, 'pods'), false, JSON.stringify(r).slice(0, 500));
    assert.ok(inspector.raw.every((text) => !text.includes('"pods":[')));
  });

  it('tolerates actors without a context (sanitizeContext passes them through)', () => {
    assert.equal(sanitizeContext(undefined as unknown as Record<string, unknown>), undefined);
    assert.deepEqual(sanitizeContext({ rollout: null, key: 'a/b' }), { rollout: null, key: 'a/b' });
  });

  it('off costs nothing: without --inspect the inspector library is never loaded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hermod-inspect-'));
    try {
      const hooks = join(dir, 'hooks.mjs');
      writeFileSync(
        hooks,
        [
          "import { appendFileSync } from 'node:fs';",
          'let log;',
          'export function initialize(data) { log = data.log; }',
          'export async function resolve(specifier, context, next) {',
          '  const result = await next(specifier, context);',
          "  appendFileSync(log, result.url + '\\n');",
          '  return result;',
          '}',
        ].join('\n'),
      );
      const register = join(dir, 'register.mjs');
      writeFileSync(
        register,
        `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log: process.env.RESOLVE_LOG } });\n`,
      );
      const main = join(dir, 'main.mts');
      const src = (p: string) => JSON.stringify(pathToFileURL(join(process.cwd(), p)).href);
      writeFileSync(
        main,
        [
          `const { resolveConfig } = await import(${src('src/io/config.ts')});`,
          `const { startHermod } = await import(${src('src/io/commands/run.ts')});`,
          'const flags = JSON.parse(process.env.HERMOD_FLAGS);',
          'const hermod = await startHermod(resolveConfig(flags, {}), { host: "127.0.0.1" });',
          'const deadline = Date.now() + 30000;',
          'while (!hermod.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));',
          'console.error(`READY ${hermod.ready()}`);',
          'await hermod.stop({ drainMs: 1000 });',
        ].join('\n'),
      );
      const resolvedIn = async (flags: Record<string, unknown>): Promise<string[]> => {
        const log = join(dir, `resolved-${Date.now()}.log`);
        writeFileSync(log, '');
        const child = spawn(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(register).href, main], {
          env: { ...process.env, RESOLVE_LOG: log, HERMOD_FLAGS: JSON.stringify({ kubeconfig: h.cluster.kubeconfigPath, metricsPort: 0, dryRun: true, level: 'warn', ...flags }) },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        assert.equal(code, 0, stderr);
        assert.match(stderr, /READY true/);
        return readFileSync(log, 'utf8').split('\n');
      };
      const isInspectorLibrary = (url: string) => url.includes('/node_modules/@statelyai/inspect/');

      const off = await resolvedIn({});
      assert.ok(off.some((url) => url.endsWith('/src/io/commands/run.ts')), 'the hook saw Hermod load');
      assert.ok(off.some((url) => url.includes('/node_modules/xstate/')), 'the hook saw the actor library load');
      assert.deepEqual(off.filter(isInspectorLibrary), [], 'no inspector code without --inspect');

      const on = await resolvedIn({ inspect: inspector.url });
      assert.ok(on.some(isInspectorLibrary), 'the control: with --inspect the inspector library is loaded');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the loopback inspector bridge (demo/inspector-server.ts) relays records to the browser page', async () => {
    const bridge = await startInspectorServer({ port: 0 });
    const browser = new WebSocket(bridge.wsUrl);
    const heard: Record_[] = [];
    browser.on('message', (data: Buffer) => heard.push(JSON.parse(data.toString()) as Record_));
    const opened = new Promise((resolve, reject) => browser.once('open', resolve).once('error', reject));
    try {
      const page = await (await fetch(bridge.pageUrl)).text();
      assert.ok(page.includes(`<iframe id="inspector" src="${STATELY_INSPECTOR_URL}">`), page);
      assert.ok(page.includes(JSON.stringify(bridge.wsUrl)), 'the page connects back to the bridge');
      await opened;

      // Hermod's own inspector adapter, as --inspect uses it, on a small machine.
      const hermodSide = await startInspector(bridge.wsUrl);
      const toggle = createMachine({ id: 'toggle', initial: 'off', states: { off: { on: { flip: 'on' } }, on: {} } });
      const actor = createActor(toggle, { inspect: hermodSide.inspect }).start();
      actor.send({ type: 'flip' });
      await h.waitFor('the browser side to get the records', () =>
        heard.some((r) => r.type === '@xstate.snapshot' && r.snapshot?.value === 'on') && heard.some((r) => r.type === '@xstate.actor' && r.name === 'toggle'),
      );
      actor.stop();
      hermodSide.stop();
    } finally {
      browser.terminate();
      await bridge.close();
    }
  });
});
