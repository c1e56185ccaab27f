/**
 * The real container image, built and run (issue 14): scripts/image-build.sh builds the
 * Dockerfile with buildah on local Debian-made bases, and this file runs the result with
 * podman the way a restricted Pod runs it (runc, read-only root, uid 65532, every capability
 * dropped, the sandbox's ulimits) against the local control plane with a ServiceAccount
 * token bound by example/'s RBAC, and the local Slack, over the host's loopback
 * (--network host). It checks /livez, /readyz, one rollout delivered to Slack from inside the
 * container, and a clean exit on SIGTERM.
 *
 * Where the image cannot be built or run (no root, no apt-get, no podman), every test skips
 * with the exact reason, printed loudly. Run it through the cluster lock (README, Testing).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { messageColour, messageText, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';
import { GREEN } from '../support/scenario.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(root, 'test-artifacts');
const CANNOT_RUN = 3; // scripts/image-build.sh: "cannot build here"
const CONTAINER = `hermod-image-test-${process.pid}`;
const RUNTIME_FLAGS = ['--runtime', 'runc', '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=4096:4096'];

interface Built {
  image?: string;
  skip?: string;
  ms: number;
}

/** Runs scripts/image-build.sh, its progress streamed to stderr; the image, or why it cannot run here. */
async function buildImage(): Promise<Built> {
  const started = Date.now();
  if (process.platform !== 'linux') return { skip: `images are built with buildah and run with podman on Linux only (this is ${process.platform})`, ms: 0 };
  const child = spawn('bash', [join(root, 'scripts/image-build.sh')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    process.stderr.write(d);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const ms = Date.now() - started;
  if (code === CANNOT_RUN) return { skip: stderr.trim().split('\n').at(-1) ?? 'scripts/image-build.sh cannot run here', ms };
  assert.equal(code, 0, `scripts/image-build.sh failed (exit ${code}):\n${stderr.slice(-4000)}`);
  return { image: stdout.trim().split('\n').at(-1)!, ms };
}

const built = await buildImage();
if (built.skip) {
  const line = '!'.repeat(100);
  console.warn(`\n${line}\nimage.test.ts: SKIPPED, the real image is NOT tested on this machine: ${built.skip}\n${line}\n`);
}

function podman(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync('podman', args, { encoding: 'utf8', timeout: 120_000 });
  return { status: out.status, stdout: out.stdout.trim(), stderr: out.stderr.trim() };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function status(url: string): Promise<number | undefined> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return undefined;
  }
}

describe('the container image, run like a restricted Pod', { skip: built.skip ?? false, timeout: 10 * 60_000 }, () => {
  let h: Harness;
  let port: number;
  let work: string;

  before(async () => {
    console.error(`[image] scripts/image-build.sh took ${(built.ms / 1000).toFixed(1)} s`);
    h = await startHarness({ channels: ['deploys'], startHermod: false });
    // example/'s install set, minus the Deployment (podman plays the kubelet here).
    for (const file of ['namespace.yaml', 'serviceaccount.yaml', 'clusterrole.yaml', 'clusterrolebinding.yaml', 'role.yaml', 'rolebinding.yaml']) {
      for (const doc of parseAllDocuments(readFileSync(join(root, 'example', file), 'utf8'))) {
        const m = doc.toJS() as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
        const plural = `${m.kind.toLowerCase()}s`.replace(/ys$/, 'ies');
        const base = m.apiVersion.includes('/') ? `/apis/${m.apiVersion}` : `/api/${m.apiVersion}`;
        const ns = m.metadata.namespace ? `/namespaces/${m.metadata.namespace}` : '';
        await h.api('PATCH', `${base}${ns}/${plural}/${m.metadata.name}?fieldManager=image-test&force=true`, m, 'application/apply-patch+yaml');
      }
    }
    const token = await h.api<{ status: { token: string } }>('POST', '/api/v1/namespaces/hermod-system/serviceaccounts/hermod/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    // A kubeconfig with the CA inline, readable by uid 65532 (a test-only token).
    work = mkdtempSync(join(tmpdir(), 'hermod-image-'));
    chmodSync(work, 0o755);
    const kubeconfig = join(work, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'test', cluster: { server: h.cluster.server, 'certificate-authority-data': h.cluster.caData } }],
        users: [{ name: 'hermod', user: { token: token.status.token } }],
        contexts: [{ name: 'hermod', context: { cluster: 'test', user: 'hermod' } }],
        'current-context': 'hermod',
      }),
      { mode: 0o644 },
    );
    port = await freePort();
    podman('rm', '--force', CONTAINER);
    const run = podman(
      'run', '--detach', '--name', CONTAINER, ...RUNTIME_FLAGS, '--network', 'host',
      '--read-only', '--user', '65532:65532', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
      '--tmpfs', '/tmp:rw,size=16m,mode=1777',
      '--volume', `${kubeconfig}:/etc/hermod/kubeconfig:ro`,
      '--env', `SLACK_TOKEN=${h.slack.token}`, '--env', `SLACK_API_URL=${h.slack.url}`,
      '--env', 'CLUSTER_NAME=image-test', '--env', 'POD_NAMESPACE=hermod-system',
      built.image!,
      'run', '--kubeconfig', '/etc/hermod/kubeconfig', `--metrics-port=${port}`,
    );
    assert.equal(run.status, 0, `podman run: ${run.stderr}`);
  });

  after(async () => {
    if (h === undefined) return;
    mkdirSync(ARTIFACTS, { recursive: true });
    const logs = podman('logs', CONTAINER);
    writeFileSync(join(ARTIFACTS, `image-${process.pid}.log`), `${logs.stdout}\n${logs.stderr}\n`);
    podman('rm', '--force', CONTAINER);
    if (work) rmSync(work, { recursive: true, force: true });
    await h.stop();
  });

  it('runs as uid 65532 with a read-only root, no capabilities and no new privileges', () => {
    // What the kernel says about the container's PID 1 (node itself), not what podman was asked.
    const pid = podman('inspect', CONTAINER, '--format', '{{.State.Pid}}').stdout;
    assert.match(pid, /^[1-9]\d*$/, 'the container is running');
    const status = new Map(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').map((l) => [l.split(':')[0]!, l.slice(l.indexOf(':') + 1).trim()]));
    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^\/nodejs\/bin\/node\0/, 'node is PID 1');
    assert.match(status.get('Uid') ?? '', /^65532\s+65532\s+65532\s+65532$/);
    assert.match(status.get('Gid') ?? '', /^65532\s+65532\s+65532\s+65532$/);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(status.get(set), '0000000000000000', set);
    assert.equal(status.get('NoNewPrivs'), '1');
    const rootMount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[4] === '/');
    assert.ok(rootMount, 'the container has a root mount');
    assert.match(rootMount[5] ?? '', /(^|,)ro(,|$)/, `the root filesystem is mounted read-only: ${rootMount.join(' ')}`);
    const labels = podman('image', 'inspect', built.image!, '--format', '{{json .Labels}}');
    const oci = JSON.parse(labels.stdout) as Record<string, string>;
    assert.equal(oci['org.opencontainers.image.title'], 'hermod');
    assert.match(oci['org.opencontainers.image.revision'] ?? '', /^[0-9a-f]{40}$|^unknown$/);
    assert.match(oci['org.opencontainers.image.base.name'] ?? '', /hermod-base\/node\d+-runtime/);
  });

  it('serves /livez at once and /readyz once its caches have synced', async () => {
    await h.waitFor('/livez 200', async () => (await status(`http://127.0.0.1:${port}/livez`)) === 200, 60_000);
    await h.waitFor('/readyz 200', async () => (await status(`http://127.0.0.1:${port}/readyz`)) === 200, 60_000);
  });

  it('delivers a rollout to Slack from inside the container', async () => {
    await h.createNamespace('image-shop', { [SLACK_ANNOTATION]: 'deploys' });
    await h.createDeployment({ namespace: 'image-shop', name: 'web', replicas: 1 });
    const done = await h.waitFor('the rollout to turn green in #deploys', () => h.messages('deploys').find((m) => messageColour(m) === GREEN), 90_000);
    assert.match(messageText(done), /web/);
    assert.match(messageText(done), /image-test/, 'CLUSTER_NAME reached the message');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /^hermod_deployment_success_total(\{[^}]*\})? 1$/m);
  });

  it('exits 0 on SIGTERM', () => {
    const started = Date.now();
    const stop = podman('stop', '--time', '35', CONTAINER);
    assert.equal(stop.status, 0, stop.stderr);
    console.error(`[image] stopped in ${Date.now() - started} ms`);
    const exit = podman('inspect', CONTAINER, '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}');
    assert.equal(exit.stdout, '0 false', `exit code and OOM: ${exit.stdout}; logs:\n${podman('logs', '--tail', '20', CONTAINER).stderr}`);
  });
});
