/**
 * A real Kubernetes control plane for Hermod's tests.
 *
 * startCluster() builds (once per machine, cached; see test/cluster/build.sh)
 * and starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
 * KWOK (which plays the kubelet for one fake Node) on loopback ports, and
 * returns a TestCluster describing it. Every component runs in its own process
 * group and is killed on stop(), on exit of the test process, on SIGINT /
 * SIGTERM / SIGHUP, and (through a small reaper process) even when the test
 * process is SIGKILLed.
 *
 * With HERMOD_TEST_KUBECONFIG set, startCluster() starts nothing and returns a
 * TestCluster for that existing cluster (kind, minikube, ...) instead.
 *
 * Environment:
 *   HERMOD_TEST_KUBECONFIG   use this existing cluster instead of starting one
 *   HERMOD_CLUSTER_BIN       directory with prebuilt `kube` and `kwok` (skips build.sh)
 *   HERMOD_CACHE_DIR         cache root for build.sh (default ~/.cache/hermod)
 *   HERMOD_KEEP_CLUSTER_DIR  if set, stop() keeps the temp dir (logs, etcd data)
 *
 * Node built-ins only (the external-cluster path loads @kubernetes/client-node,
 * already a project dependency, to read an arbitrary kubeconfig).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const clusterDir = path.resolve(here, '../cluster');

/** The non-admin user whose static token every local cluster accepts. */
export const TEST_USER = 'hermod-test';
/** Name of the fake Node that KWOK keeps Ready. */
export const FAKE_NODE = 'kwok-node-0';
/**
 * A fake Node KWOK keeps Ready (it runs with --manage-all-nodes): the one every local cluster
 * has, and any a test adds (test/support/fakeNodes.ts). No NoSchedule taint, so workloads need
 * no toleration.
 */
export function fakeNodeManifest(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    spec: {},
  };
}

/** Pod label that selects a failure stage in test/cluster/kwok-stages.yaml. */
export const FAILURE_LABEL = 'sim.hermod.dev/failure';
export type SimulatedFailure = 'crashloop' | 'imagepull' | 'neverready' | 'oomkilled';

export interface StartClusterOptions {
  /** Directory holding `kube` and `kwok`; default: $HERMOD_CLUSTER_BIN, else the output of build.sh. */
  binDir?: string;
  /** Progress messages (default: to stderr, prefixed "[cluster]"). */
  log?: (message: string) => void;
  /** Limit for the whole start once binaries exist (default 120 s). */
  startTimeoutMs?: number;
  /**
   * kube-apiserver's watch cache (default on, as in production). Turn it off to
   * have watches served straight from etcd, so that compactEtcd() makes an old
   * resourceVersion answer 410 Gone at once.
   */
  watchCache?: boolean;
  /** Extra kube-apiserver flags, e.g. ['--feature-gates=...']. */
  apiServerArgs?: string[];
  /** Extra kube-controller-manager flags, e.g. ['--kube-api-qps=500'] (bench/cluster.ts). */
  controllerManagerArgs?: string[];
  /** Extra kube-scheduler flags. */
  schedulerArgs?: string[];
}

export interface RequestOptions {
  /** Bearer token to use instead of the admin's (e.g. cluster.userToken). */
  token?: string;
  headers?: Record<string, string>;
  /** Content-Type of the body (default application/json; use application/merge-patch+json etc. for PATCH). */
  contentType?: string;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the answer is JSON, else the raw text. */
  body: T;
}

export interface TestCluster {
  /** 'local' for a control plane started here, 'external' for HERMOD_TEST_KUBECONFIG. */
  kind: 'local' | 'external';
  /** https://127.0.0.1:<port> */
  server: string;
  /** Admin kubeconfig (group system:masters for a local cluster). */
  kubeconfigPath: string;
  /** Admin bearer token (undefined for an external cluster that authenticates otherwise). */
  token: string | undefined;
  /** PEM of the CA that signed the API server's serving certificate. */
  caPem: string | undefined;
  /** The same, base64 (kubeconfig certificate-authority-data). */
  caData: string | undefined;
  /** Bearer token of user `hermod-test` (only group system:authenticated; no RBAC grants). Local only. */
  userToken: string | undefined;
  /** Kubeconfig for `hermod-test`. Local only. */
  userKubeconfigPath: string | undefined;
  /** Write a kubeconfig for `token` (named `name`) and return its path. */
  kubeconfigFor(token: string, name?: string): Promise<string>;
  /** One API request with the admin's credentials (or opts.token), trusting the cluster's CA. */
  request<T = unknown>(method: string, apiPath: string, body?: unknown, opts?: RequestOptions): Promise<ApiResponse<T>>;
  /** Name of the fake Node that pods are scheduled to. */
  nodeName: string;
  /** Directory of the components' logs (local only; '' for external). */
  logsDir: string;
  /** Temp dir holding logs, certs, etcd data (local only; '' for external). */
  dir: string;
  /** Milliseconds startCluster() took (build excluded). */
  startMs: number;
  /**
   * The files KWOK's kubelet server serves as every container's log (`pods/log`), in the CRI
   * log format (see criLog): `current` for the running instance, `previous` for `previous=true`.
   * Local only (undefined for an external cluster).
   */
  containerLogs: { current: string; previous: string } | undefined;
  /** Stop every component and remove the temp dir. Idempotent; a no-op for external clusters. */
  stop(): Promise<void>;
  /** Stop kube-apiserver and start it again on the same port (watches break). Local only. */
  restartApiServer(): Promise<void>;
  /**
   * Compact etcd at its current revision (watches from older resourceVersions
   * get 410 Gone once the apiserver's watch cache no longer covers them: start
   * the cluster with watchCache: false, or restart the apiserver). Returns the
   * compacted revision. Local only.
   */
  compactEtcd(): Promise<number>;
}

// ---------------------------------------------------------------------------
// Process bookkeeping and cleanup on exit

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  done: boolean;
}

const liveClusters = new Set<LocalCluster>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const c of liveClusters) c.killAllSync('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      process.removeListener(signal, handler);
      const clusters = [...liveClusters];
      for (const c of clusters) c.killAllSync('SIGTERM');
      const deadline = Date.now() + 3000;
      const poll = (): void => {
        if (clusters.some((c) => c.anyAlive()) && Date.now() < deadline) {
          setTimeout(poll, 50);
          return;
        }
        for (const c of clusters) c.killAllSync('SIGKILL');
        // Let the default behaviour (or other listeners) take over.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      };
      poll();
    };
    process.on(signal, handler);
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------
// Small HTTP helpers (node:http / node:https only)

interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  ca?: string;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Only for health probes of loopback components with throwaway self-signed certs. */
  insecure?: boolean;
  timeoutMs?: number;
}

function rawRequest(url: string, req: RawRequest = {}): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const options: https.RequestOptions = {
      method: req.method ?? 'GET',
      headers: req.headers ?? {},
      agent: false,
      timeout: req.timeoutMs ?? 10_000,
    };
    if (u.protocol === 'https:') {
      if (req.ca) options.ca = req.ca;
      if (req.cert) options.cert = req.cert;
      if (req.key) options.key = req.key;
      if (req.insecure) options.rejectUnauthorized = false;
    }
    const mod = u.protocol === 'https:' ? https : http;
    const r = mod.request(u, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error(`timeout requesting ${url}`)));
    r.on('error', reject);
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

/** Raised by a wait's check when waiting longer is pointless (the process died). */
class FatalStartError extends Error {}

async function waitFor(what: string, deadline: number, check: () => Promise<boolean>, onTimeout?: () => string): Promise<void> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof FatalStartError) throw err;
      lastError = err;
    }
    await delay(100);
  }
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out waiting for ${what}${detail}${onTimeout ? `\n${onTimeout()}` : ''}`);
}

/**
 * Lines in the CRI container log format KWOK's kubelet server reads (what containerd writes):
 * `<RFC 3339 time> stdout F <line>`.
 */
export function criLog(lines: readonly string[], at = new Date()): string {
  return lines.map((line) => `${at.toISOString()} stdout F ${line}\n`).join('');
}

/** Free loopback TCP ports, all distinct (listeners are held until all are picked). */
async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const addr = server.address();
      if (addr === null || typeof addr === 'string') throw new Error('cannot pick a free port');
      ports.push(addr.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

function tail(file: string, lines = 30): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function kubeconfigJson(server: string, caData: string, user: string, token: string): string {
  // JSON is valid YAML: kubectl and @kubernetes/client-node read it as a kubeconfig.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'hermod-test', cluster: { server, 'certificate-authority-data': caData } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: user, context: { cluster: 'hermod-test', user, namespace: 'default' } }],
      'current-context': user,
      preferences: {},
    },
    null,
    2,
  );
}

function parseBody<T>(headers: IncomingHttpHeaders, text: string): T {
  const type = headers['content-type'] ?? '';
  if (type.includes('json') && text.length > 0) {
    try {
      return JSON.parse(text) as T;
    } catch {
      // a watch stream: several JSON documents, one a line
    }
  }
  return text as T;
}

// ---------------------------------------------------------------------------
// Binaries

async function resolveBinDir(opts: StartClusterOptions, log: (m: string) => void): Promise<string> {
  const fromEnv = process.env.HERMOD_CLUSTER_BIN;
  const dir = opts.binDir ?? (fromEnv ? path.resolve(fromEnv) : undefined);
  if (dir) {
    for (const b of ['kube', 'kwok']) {
      if (!existsSync(path.join(dir, b))) throw new Error(`${path.join(dir, b)} not found (binDir / HERMOD_CLUSTER_BIN)`);
    }
    return dir;
  }
  return runBuild(log);
}

let buildPromise: Promise<string> | undefined;

/** Run test/cluster/build.sh (once per process) and return the bin dir it prints last. */
export function runBuild(log: (m: string) => void = defaultLog): Promise<string> {
  buildPromise ??= new Promise<string>((resolve, reject) => {
    const script = path.join(clusterDir, 'build.sh');
    const started = Date.now();
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    // Progress of a (possibly long) cold build goes straight to our stderr.
    child.stderr.on('data', (c: Buffer) => process.stderr.write(c));
    child.on('error', reject);
    child.on('exit', (code) => {
      const lines = out.trim().split('\n');
      const bin = lines[lines.length - 1]?.trim() ?? '';
      if (code === 0 && bin && existsSync(path.join(bin, 'kube'))) {
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        log(`control plane binaries: ${bin} (build.sh took ${secs}s)`);
        resolve(bin);
      } else {
        reject(new Error(`test/cluster/build.sh failed (exit ${code}); see its output above`));
      }
    });
  });
  buildPromise.catch(() => (buildPromise = undefined));
  return buildPromise;
}

function defaultLog(message: string): void {
  process.stderr.write(`[cluster] ${message}\n`);
}

// ---------------------------------------------------------------------------
// Local cluster

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  /** KWOK's kubelet server (container logs). */
  kubelet: number;
}

class LocalCluster implements TestCluster {
  readonly kind = 'local' as const;
  server = '';
  kubeconfigPath = '';
  token: string;
  caPem: string | undefined;
  caData: string | undefined;
  userToken: string;
  userKubeconfigPath = '';
  nodeName = FAKE_NODE;
  logsDir: string;
  startMs = 0;
  containerLogs: { current: string; previous: string } | undefined;

  private procs = new Map<string, Proc>();
  private reaper: ChildProcess | undefined;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private ports!: Ports;
  private apiServerArgs: string[] = [];

  constructor(
    readonly dir: string,
    private readonly bin: string,
    private readonly log: (m: string) => void,
    private readonly opts: StartClusterOptions,
  ) {
    this.logsDir = path.join(dir, 'logs');
    this.token = randomBytes(24).toString('hex');
    this.userToken = randomBytes(24).toString('hex');
  }

  // -- lifecycle ------------------------------------------------------------

  async start(): Promise<void> {
    const t0 = Date.now();
    const deadline = t0 + (this.opts.startTimeoutMs ?? 120_000);
    await mkdir(this.logsDir, { recursive: true });
    const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kubelet] = await freePorts(6);
    this.ports = { etcdClient: etcdClient!, etcdPeer: etcdPeer!, apiserver: apiserver!, controllerManager: controllerManager!, scheduler: scheduler!, kubelet: kubelet! };
    this.server = `https://127.0.0.1:${this.ports.apiserver}`;
    this.startReaper();

    // Service-account signing key pair and static tokens.
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const pki = path.join(this.dir, 'pki');
    await mkdir(pki, { recursive: true });
    await writeFile(path.join(pki, 'sa.pub'), publicKey);
    await writeFile(path.join(pki, 'sa.key'), privateKey, { mode: 0o600 });
    // token,user,uid,"group1,group2"
    await writeFile(
      path.join(pki, 'tokens.csv'),
      `${this.token},admin,hermod-admin,"system:masters"\n${this.userToken},${TEST_USER},${TEST_USER}\n`,
      { mode: 0o600 },
    );

    // etcd
    const etcdUrl = `http://127.0.0.1:${this.ports.etcdClient}`;
    const peerUrl = `http://127.0.0.1:${this.ports.etcdPeer}`;
    this.spawn('etcd', [
      'etcd',
      '--name=hermod',
      `--data-dir=${path.join(this.dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=hermod=${peerUrl}`,
      '--initial-cluster-state=new',
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);
    await this.waitHealthy('etcd', deadline, async () => {
      const r = await rawRequest(`${etcdUrl}/health`, { timeoutMs: 2000 });
      return r.status === 200 && /"health":\s*"true"/.test(r.text);
    });
    this.log(`etcd ready on ${etcdUrl} (${Date.now() - t0} ms)`);

    // kube-apiserver
    this.apiServerArgs = [
      'apiserver',
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // The default (lease) reconciler refuses a loopback advertise address; the
      // `kubernetes` Service's endpoints are of no use to the tests anyway.
      '--endpoint-reconciler-type=none',
      `--secure-port=${this.ports.apiserver}`,
      `--cert-dir=${path.join(this.dir, 'apiserver-certs')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${path.join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${path.join(pki, 'sa.key')}`,
      '--authorization-mode=RBAC',
      `--token-auth-file=${path.join(pki, 'tokens.csv')}`,
      // ServiceAccount: no token controller runs; TaintNodesByCondition: no
      // node-lifecycle controller runs to lift the not-ready taint it adds.
      '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
      '--allow-privileged=true',
      '--profiling=false',
      // pods/log is proxied to the fake Node's kubelet endpoint (KWOK on loopback): reach it by IP.
      '--kubelet-preferred-address-types=InternalIP',
      // On SIGTERM, end open watches within 1 s (clients see the stream close,
      // as in a rolling restart) instead of waiting for them to time out.
      '--shutdown-watch-termination-grace-period=1s',
      ...(this.opts.watchCache === false ? ['--watch-cache=false'] : []),
      ...(this.opts.apiServerArgs ?? []),
    ];
    await this.startApiServer(deadline);
    this.log(`kube-apiserver ready on ${this.server} (${Date.now() - t0} ms)`);

    this.kubeconfigPath = path.join(this.dir, 'kubeconfig');
    await writeFile(this.kubeconfigPath, kubeconfigJson(this.server, this.caData!, 'admin', this.token), { mode: 0o600 });
    this.userKubeconfigPath = await this.kubeconfigFor(this.userToken, TEST_USER);

    // kube-controller-manager and kube-scheduler
    const kc = this.kubeconfigPath;
    this.spawn('kube-controller-manager', [
      'controller-manager',
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${this.ports.controllerManager}`,
      `--cert-dir=${path.join(this.dir, 'controller-manager-certs')}`,
      '--controllers=' +
        [
          'deployment-controller',
          'replicaset-controller',
          'statefulset-controller',
          'daemonset-controller',
          'job-controller',
          'cronjob-controller',
          'garbage-collector-controller',
          'namespace-controller',
          'serviceaccount-controller',
          'resourcequota-controller',
          'clusterrole-aggregation-controller',
        ].join(','),
      ...(this.opts.controllerManagerArgs ?? []),
    ]);
    this.spawn('kube-scheduler', [
      'scheduler',
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${this.ports.scheduler}`,
      `--cert-dir=${path.join(this.dir, 'scheduler-certs')}`,
      ...(this.opts.schedulerArgs ?? []),
    ]);

    // kwok (plays the kubelet)
    const kwokDir = path.join(this.dir, 'kwok');
    await mkdir(kwokDir, { recursive: true });
    // Container logs: KWOK's kubelet server (on loopback; the Node's InternalIP and kubelet
    // port point at it) serves these two files for every container (a ClusterLogs rule).
    this.containerLogs = { current: path.join(kwokDir, 'container.log'), previous: path.join(kwokDir, 'container-previous.log') };
    await writeFile(this.containerLogs.current, '');
    await writeFile(this.containerLogs.previous, '');
    const logsConfig = path.join(kwokDir, 'container-logs.yaml');
    await writeFile(
      logsConfig,
      JSON.stringify({
        apiVersion: 'kwok.x-k8s.io/v1alpha1',
        kind: 'ClusterLogs',
        metadata: { name: 'every-container' },
        spec: { logs: [{ logsFile: this.containerLogs.current, previousLogsFile: this.containerLogs.previous }] },
      }),
    );
    const startKwok = () =>
      this.spawn(
        'kwok',
        [
          `--kubeconfig=${kc}`,
          `--config=${path.join(clusterDir, 'kwok-stages.yaml')}`,
          `--config=${logsConfig}`,
          '--manage-all-nodes=true',
          '--cidr=10.244.0.0/16',
          '--node-ip=127.0.0.1',
          `--node-port=${this.ports.kubelet}`,
          `--server-address=127.0.0.1:${this.ports.kubelet}`,
        ],
        { KWOK_WORKDIR: kwokDir },
        path.join(this.bin, 'kwok'),
      );
    startKwok();

    // The fake Node. No NoSchedule taint, so workloads need no toleration.
    const created = await this.request('POST', '/api/v1/nodes', fakeNodeManifest(FAKE_NODE));
    if (created.status !== 201) throw new Error(`creating Node ${FAKE_NODE}: HTTP ${created.status} ${JSON.stringify(created.body)}`);

    await Promise.all([
      this.waitHealthy('kube-controller-manager', deadline, async () => {
        const r = await rawRequest(`https://127.0.0.1:${this.ports.controllerManager}/healthz`, { insecure: true, timeoutMs: 2000 });
        return r.status === 200;
      }),
      this.waitHealthy('kube-scheduler', deadline, async () => {
        const r = await rawRequest(`https://127.0.0.1:${this.ports.scheduler}/healthz`, { insecure: true, timeoutMs: 2000 });
        return r.status === 200;
      }),
      this.waitKwokReady(deadline, startKwok),
      this.waitHealthy('namespace default', deadline, async () => (await this.request('GET', '/api/v1/namespaces/default')).status === 200, 'kube-apiserver'),
    ]);
    this.startMs = Date.now() - t0;
    this.log(`cluster ready in ${this.startMs} ms (logs: ${this.logsDir})`);
  }

  private async startApiServer(deadline: number): Promise<void> {
    this.spawn('kube-apiserver', this.apiServerArgs);
    const certFile = path.join(this.dir, 'apiserver-certs', 'apiserver.crt');
    // The apiserver writes its self-signed serving cert (with the CA that
    // signed it) into --cert-dir before it serves.
    await this.waitHealthy('kube-apiserver serving certificate', deadline, async () => existsSync(certFile), 'kube-apiserver');
    if (!this.caPem) {
      await waitFor('a complete certificate file', deadline, async () => /END CERTIFICATE/.test(await readFile(certFile, 'utf8')));
      this.caPem = await readFile(certFile, 'utf8');
      this.caData = Buffer.from(this.caPem).toString('base64');
    }
    await this.waitHealthy('kube-apiserver /readyz', deadline, async () => {
      const r = await rawRequest(`${this.server}/readyz`, { ca: this.caPem, headers: { Authorization: `Bearer ${this.token}` }, timeoutMs: 5000 });
      return r.status === 200;
    }, 'kube-apiserver');
  }

  private spawn(name: string, args: string[], env: Record<string, string> = {}, binary = path.join(this.bin, 'kube')): Proc {
    const logFile = path.join(this.logsDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const childEnv: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      // etcd reads ETCD_* as flags; KUBECONFIG must not leak into components.
      if (k.startsWith('ETCD_') || k === 'KUBECONFIG') continue;
      childEnv[k] = v;
    }
    let child: ChildProcess;
    try {
      child = spawn(binary, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...childEnv, ...env } });
    } finally {
      closeSync(fd);
    }
    child.unref();
    const proc: Proc = {
      name,
      child,
      done: false,
      exited: new Promise((resolve) => {
        child.on('exit', (code) => {
          proc.done = true;
          if (!this.stopped && this.procs.get(name) === proc) this.log(`${name} exited unexpectedly (code ${code}); see ${logFile}`);
          resolve(code);
        });
        child.on('error', (err) => {
          proc.done = true;
          this.log(`${name} failed to start: ${err.message}`);
          resolve(null);
        });
      }),
    };
    this.procs.set(name, proc);
    this.writePids();
    return proc;
  }

  /**
   * The fake Node Ready. KWOK 0.8 can die at start-up on a data race of its own (a "concurrent
   * map writes" while it registers its CEL types): it is started again, up to twice.
   */
  private async waitKwokReady(deadline: number, startKwok: () => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.waitHealthy(`Node ${FAKE_NODE} Ready (kwok)`, deadline, async () => {
          const r = await this.request<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', `/api/v1/nodes/${FAKE_NODE}`);
          return r.status === 200 && (r.body.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
        }, 'kwok');
        return;
      } catch (err) {
        if (this.procs.get('kwok')?.done !== true || attempt >= 3) throw err;
        this.log(`kwok exited during start-up; starting it again (attempt ${attempt + 1} of 3)`);
        startKwok();
      }
    }
  }

  private async waitHealthy(what: string, deadline: number, check: () => Promise<boolean>, proc?: string): Promise<void> {
    const name = proc ?? what;
    await waitFor(
      what,
      deadline,
      async () => {
        const p = this.procs.get(name);
        if (p?.done) throw new FatalStartError(`${name} exited during start-up`);
        return check();
      },
      () => `--- last lines of ${name}.log ---\n${tail(path.join(this.logsDir, `${name}.log`))}`,
    ).catch((err: unknown) => {
      if (err instanceof FatalStartError) {
        throw new Error(`${err.message}\n--- last lines of ${name}.log ---\n${tail(path.join(this.logsDir, `${name}.log`))}`);
      }
      throw err;
    });
  }

  // -- cleanup ----------------------------------------------------------------

  private pidFile(): string {
    return path.join(this.dir, 'pgids');
  }

  private writePids(): void {
    const pids = [...this.procs.values()].filter((p) => !p.done && p.child.pid).map((p) => p.child.pid);
    // Synchronous, so the reaper never reads a half-written file.
    try {
      writeFileSync(this.pidFile(), pids.join('\n') + '\n');
    } catch {
      // the dir is gone: stopping
    }
  }

  /**
   * A detached shell that outlives a SIGKILLed test process: when our pid
   * disappears it kills the components' process groups and removes the dir.
   */
  private startReaper(): void {
    const keep = process.env.HERMOD_KEEP_CLUSTER_DIR ? '1' : '';
    const script = [
      'parent=$1; pidfile=$2; dir=$3; keep=$4',
      'while kill -0 "$parent" 2>/dev/null; do sleep 1; done',
      'pgids=$(cat "$pidfile" 2>/dev/null)',
      'for g in $pgids; do kill -TERM -"$g" 2>/dev/null; done',
      'sleep 3',
      'for g in $pgids; do kill -KILL -"$g" 2>/dev/null; done',
      '[ -z "$keep" ] && rm -rf "$dir"',
      'exit 0',
    ].join('\n');
    this.reaper = spawn('sh', ['-c', script, 'hermod-cluster-reaper', String(process.pid), this.pidFile(), this.dir, keep], {
      detached: true,
      stdio: 'ignore',
    });
    this.reaper.unref();
  }

  anyAlive(): boolean {
    return [...this.procs.values()].some((p) => !p.done);
  }

  /**
   * Signal every component. The reaper is left running (it removes the temp
   * dir once this process is gone) unless killReaper is set.
   */
  killAllSync(signal: NodeJS.Signals, killReaper = false): void {
    this.stopped = true;
    for (const p of this.procs.values()) if (!p.done) killGroup(p.child.pid, signal);
    if (killReaper) killGroup(this.reaper?.pid, 'SIGKILL');
  }

  private async stopProc(p: Proc, graceMs = 5000): Promise<void> {
    if (p.done) return;
    killGroup(p.child.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    // Poll with a ref'd timer: the child itself is unref'd and would not keep us alive.
    while (!p.done && Date.now() < deadline) await delay(25);
    if (!p.done) {
      killGroup(p.child.pid, 'SIGKILL');
      while (!p.done) await delay(25);
    } else {
      // Make sure nothing of its group is left behind.
      killGroup(p.child.pid, 'SIGKILL');
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      // Reverse start order: clients first, etcd last.
      const order = ['kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
      for (const name of order) {
        const p = this.procs.get(name);
        if (p) await this.stopProc(p);
      }
      killGroup(this.reaper?.pid, 'SIGKILL');
      liveClusters.delete(this);
      if (!process.env.HERMOD_KEEP_CLUSTER_DIR) {
        await rm(this.dir, { recursive: true, force: true });
      } else {
        this.log(`kept ${this.dir}`);
      }
    })();
    return this.stopping;
  }

  // -- test hooks ---------------------------------------------------------------

  async restartApiServer(): Promise<void> {
    if (this.stopped) throw new Error('cluster is stopped');
    const p = this.procs.get('kube-apiserver');
    if (p) {
      this.procs.delete('kube-apiserver');
      await this.stopProc(p, 10_000);
    }
    const t0 = Date.now();
    fsAppend(path.join(this.logsDir, 'kube-apiserver.log'), `\n===== hermod test harness: restarting kube-apiserver at ${new Date().toISOString()} =====\n`);
    await this.startApiServer(Date.now() + 60_000);
    this.log(`kube-apiserver restarted in ${Date.now() - t0} ms`);
  }

  async compactEtcd(): Promise<number> {
    const etcdUrl = `http://127.0.0.1:${this.ports.etcdClient}`;
    const post = async (p: string, body: unknown): Promise<Record<string, unknown>> => {
      const r = await rawRequest(`${etcdUrl}${p}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
      if (r.status !== 200) throw new Error(`etcd ${p}: HTTP ${r.status} ${r.text}`);
      return JSON.parse(r.text) as Record<string, unknown>;
    };
    // Any range answer carries the store's current revision in its header.
    const range = await post('/v3/kv/range', { key: Buffer.from('/registry/').toString('base64'), limit: 1 });
    const header = range.header as { revision?: string } | undefined;
    const revision = Number(header?.revision);
    if (!Number.isFinite(revision) || revision <= 0) throw new Error(`etcd returned no revision: ${JSON.stringify(range)}`);
    await post('/v3/kv/compaction', { revision: String(revision), physical: true });
    this.log(`etcd compacted at revision ${revision}`);
    return revision;
  }

  // -- API access -----------------------------------------------------------------

  async kubeconfigFor(token: string, name = 'user'): Promise<string> {
    const file = path.join(this.dir, `kubeconfig-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
    await writeFile(file, kubeconfigJson(this.server, this.caData ?? '', name, token), { mode: 0o600 });
    return file;
  }

  async request<T = unknown>(method: string, apiPath: string, body?: unknown, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${opts.token ?? this.token}`, ...opts.headers };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['Content-Type'] = opts.contentType ?? 'application/json';
    }
    const r = await rawRequest(`${this.server}${apiPath}`, { method, headers, body: payload, ca: this.caPem, timeoutMs: 30_000 });
    return { status: r.status, headers: r.headers, body: parseBody<T>(r.headers, r.text) };
  }
}


function fsAppend(file: string, text: string): void {
  try {
    const fd = openSync(file, 'a');
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  } catch {
    // logging only
  }
}

// ---------------------------------------------------------------------------
// External cluster (HERMOD_TEST_KUBECONFIG)

async function externalCluster(kubeconfigPath: string, log: (m: string) => void): Promise<TestCluster> {
  const t0 = Date.now();
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`HERMOD_TEST_KUBECONFIG=${kubeconfigPath}: no current cluster`);
  const user = kc.getCurrentUser();
  const caPem = cluster.caData ? Buffer.from(cluster.caData, 'base64').toString('utf8') : cluster.caFile ? readFileSync(cluster.caFile, 'utf8') : undefined;
  const unsupported = (what: string) => async (): Promise<never> => {
    throw new Error(`${what} is not supported on an existing cluster (HERMOD_TEST_KUBECONFIG is set)`);
  };

  const request = async <T = unknown>(method: string, apiPath: string, body?: unknown, opts: RequestOptions = {}): Promise<ApiResponse<T>> => {
    const httpsOpts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(httpsOpts);
    const headers: Record<string, string> = { Accept: 'application/json' };
    for (const [k, v] of Object.entries(httpsOpts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    Object.assign(headers, opts.headers);
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['Content-Type'] = opts.contentType ?? 'application/json';
    }
    const r = await rawRequest(`${cluster.server.replace(/\/$/, '')}${apiPath}`, {
      method,
      headers,
      body: payload,
      ca: typeof httpsOpts.ca === 'string' ? httpsOpts.ca : httpsOpts.ca ? String(httpsOpts.ca) : caPem,
      cert: httpsOpts.cert as string | Buffer | undefined,
      key: httpsOpts.key as string | Buffer | undefined,
      insecure: cluster.skipTLSVerify,
      timeoutMs: 30_000,
    });
    return { status: r.status, headers: r.headers, body: parseBody<T>(r.headers, r.text) };
  };

  const tc: TestCluster = {
    kind: 'external',
    server: cluster.server,
    kubeconfigPath,
    token: user?.token,
    caPem,
    caData: caPem ? Buffer.from(caPem).toString('base64') : undefined,
    userToken: undefined,
    userKubeconfigPath: undefined,
    async kubeconfigFor(token: string, name = 'user'): Promise<string> {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'hermod-kubeconfig-'));
      const file = path.join(dir, 'kubeconfig');
      await writeFile(file, kubeconfigJson(cluster.server, tc.caData ?? '', name, token), { mode: 0o600 });
      return file;
    },
    request,
    nodeName: '',
    containerLogs: undefined,
    logsDir: '',
    dir: '',
    startMs: 0,
    async stop() {},
    restartApiServer: unsupported('restartApiServer()'),
    compactEtcd: unsupported('compactEtcd()'),
  };
  const ready = await request('GET', '/readyz');
  if (ready.status !== 200) throw new Error(`HERMOD_TEST_KUBECONFIG cluster ${cluster.server}: /readyz answered HTTP ${ready.status}`);
  tc.startMs = Date.now() - t0;
  log(`using the existing cluster ${cluster.server} from HERMOD_TEST_KUBECONFIG`);
  return tc;
}

// ---------------------------------------------------------------------------

/**
 * Start a fresh control plane (or attach to HERMOD_TEST_KUBECONFIG). Always
 * call stop() (e.g. in an after() hook); the process-exit hooks are a safety net.
 */
export async function startCluster(opts: StartClusterOptions = {}): Promise<TestCluster> {
  const log = opts.log ?? defaultLog;
  const external = process.env.HERMOD_TEST_KUBECONFIG;
  if (external) return externalCluster(path.resolve(external), log);

  const bin = await resolveBinDir(opts, log);
  installExitHooks();
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hermod-cluster-'));
    const cluster = new LocalCluster(dir, bin, log, opts);
    liveClusters.add(cluster);
    try {
      await cluster.start();
      return cluster;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const logs = readdirSafe(cluster.logsDir);
      liveClusters.delete(cluster);
      // Ports are picked free, then bound by the components a moment later:
      // another process may take one in between. Try once more with new ports.
      if (attempt === 1 && /address already in use/i.test(message)) {
        log(`a port was taken during start-up; retrying (${message.split('\n')[0]})`);
        await cluster.stop();
        continue;
      }
      // Keep the dir (logs) for the post-mortem: the reaper would remove it.
      cluster.killAllSync('SIGKILL', true);
      throw new Error(`starting the test cluster failed: ${message}\ncomponent logs kept in ${cluster.logsDir} (${logs})`);
    }
  }
}

function readdirSafe(dir: string): string {
  try {
    return readdirSync(dir).join(', ');
  } catch {
    return 'none';
  }
}
