/**
 * What Hermod costs on a large cluster, measured from outside the process (issue 10).
 *
 * Builds Hermod (`npm run build`: the esbuild bundle the image runs), starts the local control plane as the tests do
 * (test/support/cluster.ts) with an audit log of Hermod's own user, creates the workload
 * (namespaces, a share of them annotated for Slack, Deployments with KWOK pods that become
 * ready), then starts the BUILT Hermod as a child process (`node dist/src/io/commands/cli.js
 * run`) against the local Slack with Slack's limits on, and measures:
 *
 * - readySeconds: spawn -> /readyz answers 200;
 * - rssAtSyncBytes / rssSettledBytes: VmRSS from /proc at ready, and after the idle period;
 * - cpuSecondsToSync: utime+stime from /proc at ready (start-up and imports included);
 * - apiRequestsToSync: Hermod's requests in the API server's audit log up to ready (Hermod runs
 *   as its own user, so the workload creator and the controllers are not counted);
 * - idleCpuSecondsPer3Min: CPU over an idle period (from 3 s after ready), scaled to 3 minutes;
 * - watchesOpenSeconds: spawn -> every watch open (the API server's first answer to Hermod's WATCH
 *   of the Namespaces and of each kind in each tracked namespace, from the audit log; null if
 *   some never opened before the idle window ended);
 * - idleCpuSecondsPer3MinAfterWatchesOpen: the same idle period's CPU from the later of its start
 *   and every watch open, scaled to 3 minutes: what idling costs once start-up is over (the first
 *   figure includes the watches still opening after ready, if any);
 * - untrackedChurnCpuSeconds: CPU while N Deployments in UNtracked namespaces roll out;
 * - burst*: N rollouts over the tracked namespaces at once; for each, when the local Slack's
 *   records first show the success (patch -> visible), lost (never shown), duplicates (more than
 *   one top-level message for one rollout), and 429 answers.
 *
 * Prints the figures, then ONE JSON object on the last line.
 *
 * Flags: --deployments 5000 --namespaces 500 --tracked 50 --channels 10 --untracked-replicas 1
 *   --burst 300 --churn 300 --idle-seconds 180 --quick (200 Deployments / 20 namespaces / 4
 *   tracked, burst 30, churn 30, idle 20 s) --no-build --hermod-dir DIR (a checkout whose dist/ to run)
 *   --steady-idle-seconds N (a second idle window right after the first, past the sync's heap shrink:
 *   idleCpuSecondsPer3MinSteady; 480 after --idle-seconds 60 reaches past the first watch renewals)
 *   --cpu-prof-dir DIR (Hermod runs with --cpu-prof; the idle window's offsets are printed, to read the profile of that window).
 *   --node-flags='--max-semi-space-size=1 ...' (node/V8 flags Hermod runs with, given with '=': parseArgs refuses a
 *   separate value that starts with a dash; default: the image's, its Dockerfile's NODE_OPTIONS and ENTRYPOINT flags,
 *   so Hermod runs as clusters run it; --node-flags= runs it bare).
 * Run it under the cluster lock: flock /tmp/hermod-cluster.lock npm run bench:cluster -- --quick
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, TEST_USER, type TestCluster } from '../test/support/cluster.js';
import { imageNodeFlags } from '../test/support/dockerfile.js';
import { startSlackServer } from '../test/support/slack-server.js';
import { FOLLOWED_KINDS, SET_KINDS } from '../src/io/kube/reflectors.js';

const { values: flags } = parseArgs({
  options: {
    deployments: { type: 'string' },
    namespaces: { type: 'string' },
    tracked: { type: 'string' },
    channels: { type: 'string' },
    'untracked-replicas': { type: 'string' },
    burst: { type: 'string' },
    churn: { type: 'string' },
    'idle-seconds': { type: 'string' },
    'steady-idle-seconds': { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'hermod-dir': { type: 'string' },
    'cpu-prof-dir': { type: 'string' },
    'node-flags': { type: 'string' },
  },
});
const quick = flags.quick === true;
const num = (v: string | undefined, full: number, small: number): number => (v === undefined ? (quick ? small : full) : Number(v));
const DEPLOYMENTS = num(flags.deployments, 5000, 200);
const NAMESPACES = num(flags.namespaces, Math.max(1, Math.round(DEPLOYMENTS / 10)), 20);
const TRACKED = num(flags.tracked, Math.max(1, Math.round(NAMESPACES / 10)), 4);
const CHANNELS = num(flags.channels, 10, 4);
const UNTRACKED_REPLICAS = num(flags['untracked-replicas'], 1, 1);
const BURST = num(flags.burst, 300, 30);
const CHURN = num(flags.churn, 300, 30);
const IDLE_SECONDS = num(flags['idle-seconds'], 180, 20);
/** A second idle window right after the first (0: none): past V8's heap shrink after the sync, and, if long enough, the first watch renewals (300-600 s). */
const STEADY_IDLE_SECONDS = num(flags['steady-idle-seconds'], 0, 0);
const HERMOD_DIR = resolve(flags['hermod-dir'] ?? process.cwd());
/** The node flags Hermod runs with: --node-flags, else the image's (its Dockerfile's NODE_OPTIONS and ENTRYPOINT flags). */
const NODE_FLAGS = flags['node-flags'] ?? imageNodeFlags(HERMOD_DIR).join(' ');
/** The user Hermod runs as (TEST_USER of test/support/cluster.ts): its requests are the audited ones. */
const USER = TEST_USER;
const SLACK_ANNOTATION = 'hermod.uswitch.com/slack';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const log = (msg: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const nsName = (i: number): string => `bench-${String(i).padStart(4, '0')}`;
const isTrackedNs = (i: number): boolean => i < TRACKED;

/** Runs `fn` over `items` with at most `limit` calls at once. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** CPU seconds (user + system) and RSS bytes of a process, from /proc. */
async function procStats(pid: number): Promise<{ cpu: number; rss: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpu: ticks / 100, rss: rssKb * 1024 };
}

interface AuditEntry {
  auditID: string;
  stage: string;
  verb: string;
  objectRef?: { resource?: string; namespace?: string };
  user?: { username?: string };
  requestReceivedTimestamp: string;
  stageTimestamp?: string;
  responseStatus?: { code?: number };
}

/** For each collection Hermod watches (resource and namespace), when the API server first answered a WATCH of it (ms). */
async function firstWatchAnswers(auditPath: string): Promise<Map<string, number>> {
  const text = await readFile(auditPath, 'utf8').catch(() => '');
  const first = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const e = JSON.parse(line) as AuditEntry;
    if (e.user?.username !== USER || e.verb !== 'watch' || e.stage !== 'ResponseStarted' || e.responseStatus?.code !== 200) continue;
    const key = `${e.objectRef?.resource ?? '?'} ${e.objectRef?.namespace ?? ''}`;
    const at = Date.parse(e.stageTimestamp ?? e.requestReceivedTimestamp);
    if (at < (first.get(key) ?? Infinity)) first.set(key, at);
  }
  return first;
}

async function hermodRequests(auditPath: string, until: number): Promise<Map<string, number>> {
  const text = await readFile(auditPath, 'utf8').catch(() => '');
  const seen = new Set<string>();
  const byKind = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const e = JSON.parse(line) as AuditEntry;
    if (e.user?.username !== USER || seen.has(e.auditID)) continue;
    if (Date.parse(e.requestReceivedTimestamp) > until) continue;
    seen.add(e.auditID);
    const k = `${e.verb} ${e.objectRef?.resource ?? '?'}`;
    byKind.set(k, (byKind.get(k) ?? 0) + 1);
  }
  return byKind;
}

interface DeploymentItem {
  metadata: { name: string; namespace: string; uid: string; generation?: number };
  spec: { replicas?: number };
  status?: { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number };
}

async function listDeployments(cluster: TestCluster): Promise<DeploymentItem[]> {
  const out: DeploymentItem[] = [];
  let cont = '';
  do {
    const res = await cluster.request<{ items: DeploymentItem[]; metadata: { continue?: string } }>(
      'GET',
      `/apis/apps/v1/deployments?limit=1000${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
    );
    if (res.status !== 200) throw new Error(`listing Deployments: HTTP ${res.status}`);
    out.push(...res.body.items);
    cont = res.body.metadata.continue ?? '';
  } while (cont);
  return out;
}

const rolledOut = (d: DeploymentItem): boolean => {
  const want = d.spec.replicas ?? 1;
  const s = d.status ?? {};
  return (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1) && s.updatedReplicas === want && s.availableReplicas === want && s.replicas === want;
};

async function waitRolledOut(cluster: TestCluster, keys: Set<string> | null, what: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  // Nothing to wait for (e.g. --churn 0, or every namespace tracked): an empty list is not "not yet".
  if (keys !== null && keys.size === 0) return 0;
  for (;;) {
    const all = await listDeployments(cluster);
    const mine = keys === null ? all : all.filter((d) => keys.has(`${d.metadata.namespace}/${d.metadata.name}`));
    const done = mine.filter(rolledOut).length;
    if (done === mine.length && mine.length > 0) return (Date.now() - t0) / 1000;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: ${done} of ${mine.length} rolled out after ${timeoutMs / 1000} s`);
    log(`${what}: ${done}/${mine.length} rolled out`);
    await sleep(5000);
  }
}

function manifest(ns: string, name: string, replicas: number): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] } },
    },
  };
}

async function patchTemplate(cluster: TestCluster, ns: string, name: string, value: string): Promise<string> {
  const res = await cluster.request<DeploymentItem>(
    'PATCH',
    `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
    { spec: { template: { metadata: { annotations: { 'bench.hermod.dev/rollout': value } } } } },
    { contentType: 'application/merge-patch+json' },
  );
  if (res.status !== 200) throw new Error(`patching ${ns}/${name}: HTTP ${res.status}`);
  return res.body.metadata.uid;
}

async function main(): Promise<void> {
  const tStart = Date.now();
  if (flags['no-build'] !== true) {
    log(`building Hermod in ${HERMOD_DIR}`);
    const b = spawnSync('npm', ['run', 'build'], { cwd: HERMOD_DIR, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('build failed');
  }

  // The control plane, with an audit log of Hermod's user only (everyone else: level None).
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const work = await mkdtemp(join(tmpdir(), 'hermod-bench-'));
  const policy = join(work, 'audit-policy.yaml');
  const auditLog = join(work, 'audit.log');
  await writeFile(
    policy,
    ['apiVersion: audit.k8s.io/v1', 'kind: Policy', 'omitStages: ["RequestReceived"]', 'rules:', `- level: Metadata`, `  users: ["${USER}"]`, '- level: None', ''].join('\n'),
  );
  const cluster = await startCluster({
    apiServerArgs: [`--audit-policy-file=${policy}`, `--audit-log-path=${auditLog}`, '--audit-log-format=json', '--audit-log-maxsize=0'],
    // The controllers' default client limits (20 requests/s) would take most of an hour to roll out 5,000 Deployments.
    controllerManagerArgs: ['--kube-api-qps=400', '--kube-api-burst=800', '--concurrent-deployment-syncs=10', '--concurrent-replicaset-syncs=10'],
    log: (m) => log(`cluster: ${m}`),
  });
  let hermod: ChildProcess | undefined;
  const slackChannels = Array.from({ length: CHANNELS }, (_, i) => `deploys-${i}`);
  const slack = await startSlackServer({ channels: slackChannels.map((name) => ({ name })) });
  try {
    // Hermod runs as the cluster's non-admin user, bound to cluster-admin (this measures cost, not RBAC).
    const bind = await cluster.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'hermod-bench' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'User', name: USER, apiGroup: 'rbac.authorization.k8s.io' }],
    });
    if (bind.status !== 201) throw new Error(`binding hermod-test: HTTP ${bind.status}`);

    // The workload.
    const tWorkload = Date.now();
    log(`creating ${NAMESPACES} namespaces (${TRACKED} tracked) and ${DEPLOYMENTS} Deployments`);
    await pool(Array.from({ length: NAMESPACES }, (_, i) => i), 16, async (i) => {
      const annotations = isTrackedNs(i) ? { [SLACK_ANNOTATION]: slackChannels[i % CHANNELS]! } : {};
      const res = await cluster.request('POST', '/api/v1/namespaces', { metadata: { name: nsName(i), annotations } });
      if (res.status !== 201) throw new Error(`namespace ${nsName(i)}: HTTP ${res.status}`);
    });
    const deployments = Array.from({ length: DEPLOYMENTS }, (_, j) => ({ ns: j % NAMESPACES, name: `app-${String(Math.floor(j / NAMESPACES)).padStart(3, '0')}` }));
    await pool(deployments, 16, async ({ ns, name }) => {
      const replicas = isTrackedNs(ns) ? 1 : UNTRACKED_REPLICAS;
      for (let attempt = 0; ; attempt++) {
        const res = await cluster.request('POST', `/apis/apps/v1/namespaces/${nsName(ns)}/deployments`, manifest(nsName(ns), name, replicas));
        if (res.status === 201) return;
        if (attempt >= 5) throw new Error(`deployment ${nsName(ns)}/${name}: HTTP ${res.status}`);
        await sleep(1000);
      }
    });
    log(`created in ${round((Date.now() - tWorkload) / 1000, 1)} s; waiting for every pod to be ready`);
    await waitRolledOut(cluster, null, 'workload', 40 * 60_000);
    const workloadSeconds = (Date.now() - tWorkload) / 1000;
    log(`workload ready in ${round(workloadSeconds, 1)} s`);
    await sleep(5000); // let the controllers' last status writes land

    // Hermod, built, as a child process.
    const metricsPort = await freePort();
    const hermodLog = join(work, 'hermod.log');
    const out = createWriteStream(hermodLog);
    const t0 = Date.now();
    hermod = spawn(
      process.execPath,
      [...NODE_FLAGS.split(/\s+/).filter((f) => f !== ''), ...(flags['cpu-prof-dir'] !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof-dir']}`] : []), join(HERMOD_DIR, 'dist/src/io/commands/cli.js'), 'run', '--kubeconfig', cluster.userKubeconfigPath!, '--metrics-port', String(metricsPort), '--level', 'info'],
      { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', SLACK_TOKEN: slack.token, SLACK_API_URL: slack.url, CLUSTER_NAME: 'bench' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    hermod.stdout!.pipe(out);
    hermod.stderr!.pipe(out);
    const pid = hermod.pid!;
    let exited = false;
    hermod.on('exit', () => (exited = true));
    for (;;) {
      if (exited) throw new Error(`Hermod exited before ready; see ${hermodLog}`);
      const ok = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() - t0 > 120_000) throw new Error(`Hermod not ready after 120 s; see ${hermodLog}`);
      await sleep(10);
    }
    const readyAt = Date.now();
    const atSync = await procStats(pid);
    // Hermod's CPU every 250 ms until the idle window ends (from /proc: it costs Hermod nothing), to
    // read it at the moment every watch was open (told afterwards by the audit log, not by scraping Hermod).
    const cpuSamples: { at: number; cpu: number }[] = [{ at: readyAt, cpu: atSync.cpu }];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await sleep(250);
        cpuSamples.push({ at: Date.now(), cpu: (await procStats(pid)).cpu });
      }
    })();
    const readySeconds = (readyAt - t0) / 1000;
    log(`Hermod ready in ${round(readySeconds)} s, RSS ${round(atSync.rss / 2 ** 20, 1)} MiB, CPU ${round(atSync.cpu)} s`);
    await sleep(3000); // the audit log is written asynchronously
    const requests = await hermodRequests(auditLog, readyAt);
    const apiRequestsToSync = [...requests.values()].reduce((a, b) => a + b, 0);

    // Idle.
    const idle0 = await procStats(pid);
    const idleFrom = (Date.now() - t0) / 1000;
    await sleep(IDLE_SECONDS * 1000);
    const idle1 = await procStats(pid);
    const idleTo = Date.now();
    sampling = false;
    await sampler;
    if (flags['cpu-prof-dir'] !== undefined) log(`idle window: ${round(idleFrom, 2)} s to ${round((idleTo - t0) / 1000, 2)} s after spawn`);
    const idleCpuSecondsPer3Min = ((idle1.cpu - idle0.cpu) * 180) / IDLE_SECONDS;
    const rssSettled = idle1.rss;
    log(`idle ${IDLE_SECONDS} s: CPU ${round(idle1.cpu - idle0.cpu)} s, RSS ${round(rssSettled / 2 ** 20, 1)} MiB`);
    // Every watch open: the latest first answer (stage ResponseStarted, 200) among Hermod's watches of
    // the Namespaces, StatefulSets and DaemonSets (cluster-wide) and of the Deployments of each tracked
    // namespace (rollout details are watched only where a rollout needs them), from the audit log.
    const expectedWatches = 1 + SET_KINDS.length + FOLLOWED_KINDS.length * TRACKED;
    const watchOpenedAt = await firstWatchAnswers(auditLog);
    const openedAt = watchOpenedAt.size >= expectedWatches ? Math.max(...watchOpenedAt.values()) : null;
    const watchesOpenSeconds = openedAt === null ? null : (openedAt - t0) / 1000;
    // From the later of the idle window's start and every watch open (the first CPU sample after it), to the window's end.
    const from = openedAt === null ? null : openedAt <= t0 + idleFrom * 1000 ? { at: t0 + idleFrom * 1000, cpu: idle0.cpu } : cpuSamples.find((c) => c.at >= openedAt) ?? null;
    const idleCpuSecondsPer3MinAfterWatchesOpen = from === null || idleTo - from.at < 10_000 ? null : ((idle1.cpu - from.cpu) * 180 * 1000) / (idleTo - from.at);
    let idleCpuSecondsPer3MinSteady: number | null = null;
    if (STEADY_IDLE_SECONDS > 0) {
      const steady0 = await procStats(pid);
      await sleep(STEADY_IDLE_SECONDS * 1000);
      const steady1 = await procStats(pid);
      idleCpuSecondsPer3MinSteady = ((steady1.cpu - steady0.cpu) * 180) / STEADY_IDLE_SECONDS;
      log(`steady idle ${STEADY_IDLE_SECONDS} s (from ${round((idleTo - readyAt) / 1000)} s after ready): CPU ${round(steady1.cpu - steady0.cpu)} s, RSS ${round(steady1.rss / 2 ** 20, 1)} MiB`);
    }
    log(`every watch open (${watchOpenedAt.size} of ${expectedWatches}) ${watchesOpenSeconds === null ? 'not seen' : `${round(watchesOpenSeconds, 2)} s after spawn`}; idle CPU from then ${idleCpuSecondsPer3MinAfterWatchesOpen === null ? 'not measured' : `${round(idleCpuSecondsPer3MinAfterWatchesOpen, 3)} s per 3 min`}`);

    // Rollouts in UNtracked namespaces.
    const untracked = deployments.filter((d) => !isTrackedNs(d.ns)).slice(0, CHURN);
    const churn0 = await procStats(pid);
    await pool(untracked, 16, async (d) => {
      await patchTemplate(cluster, nsName(d.ns), d.name, 'churn');
    });
    await waitRolledOut(cluster, new Set(untracked.map((d) => `${nsName(d.ns)}/${d.name}`)), 'untracked churn', 20 * 60_000);
    await sleep(2000);
    const churn1 = await procStats(pid);
    const untrackedChurnCpuSeconds = churn1.cpu - churn0.cpu;
    log(`${untracked.length} rollouts in untracked namespaces: Hermod CPU ${round(untrackedChurnCpuSeconds)} s`);

    // The burst: rollouts over the tracked namespaces, spread evenly.
    const trackedDeps = deployments.filter((d) => isTrackedNs(d.ns));
    const burst = trackedDeps.slice(0, BURST);
    const patchedAt = new Map<string, number>();
    const burstStart = Date.now();
    await pool(burst, 32, async (d) => {
      const uid = await patchTemplate(cluster, nsName(d.ns), d.name, 'burst');
      patchedAt.set(uid, Date.now());
    });
    const visible = new Map<string, number>();
    const topLevel = new Map<string, number>();
    const collect = (): void => {
      visible.clear();
      topLevel.clear();
      for (const ch of slackChannels) {
        for (const m of slack.messages(ch)) {
          const id = String(m.metadata?.event_payload['rolloutId'] ?? '');
          const uid = id.split('/')[0] ?? '';
          if (!patchedAt.has(uid) || m.postedAt < burstStart) continue;
          topLevel.set(uid, (topLevel.get(uid) ?? 0) + 1);
          const v = m.history.find((h) => / succeeded$/.test(h.text));
          if (v !== undefined) visible.set(uid, Math.min(v.at, visible.get(uid) ?? Infinity));
        }
      }
    };
    const burstDeadline = Date.now() + 10 * 60_000;
    for (;;) {
      collect();
      if (visible.size >= patchedAt.size || Date.now() > burstDeadline) break;
      await sleep(1000);
    }
    await sleep(5000); // late duplicates
    collect();
    const delays = [...visible].map(([uid, at]) => (at - patchedAt.get(uid)!) / 1000).sort((a, b) => a - b);
    const burstMedianVisibleSeconds = delays.length ? delays[Math.floor((delays.length - 1) / 2)]! : NaN;
    const burstLastVisibleSeconds = delays.length ? delays[delays.length - 1]! : NaN;
    const burstLost = patchedAt.size - visible.size;
    const burstDuplicates = [...topLevel.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);
    const slackRequests = slack.requests().filter((r) => r.at >= burstStart);
    const burst429 = slackRequests.filter((r) => r.outcome === 'ratelimited').length;
    const byMethod = new Map<string, number>();
    for (const r of slackRequests) byMethod.set(`${r.method} ${r.outcome}`, (byMethod.get(`${r.method} ${r.outcome}`) ?? 0) + 1);
    const final = await procStats(pid);

    console.log('');
    console.log(`Hermod on a cluster of ${DEPLOYMENTS} Deployments in ${NAMESPACES} namespaces, ${TRACKED} tracked (${trackedDeps.length} Deployments), ${CHANNELS} channels; untracked Deployments have ${UNTRACKED_REPLICAS} pod(s) each; node flags: ${NODE_FLAGS === '' ? '(none)' : NODE_FLAGS}`);
    console.log(`  workload created and ready in ${round(workloadSeconds, 1)} s`);
    console.log(`  ready (spawn -> /readyz 200): ${round(readySeconds)} s`);
    console.log(`  RSS at sync ${round(atSync.rss / 2 ** 20, 1)} MiB, settled (after ${IDLE_SECONDS} s idle) ${round(rssSettled / 2 ** 20, 1)} MiB, at the end ${round(final.rss / 2 ** 20, 1)} MiB`);
    console.log(`  CPU to sync ${round(atSync.cpu)} s; idle ${round(idleCpuSecondsPer3Min, 3)} s per 3 min; ${untracked.length} untracked rollouts ${round(untrackedChurnCpuSeconds)} s`);
    console.log(`  API requests to sync: ${apiRequestsToSync}`);
    for (const [k, n] of [...requests].sort()) console.log(`    ${k}: ${n}`);
    console.log(`  burst of ${patchedAt.size} rollouts: success visible median ${round(burstMedianVisibleSeconds, 1)} s, last ${round(burstLastVisibleSeconds, 1)} s; lost ${burstLost}, duplicates ${burstDuplicates}, 429s ${burst429}`);
    for (const [k, n] of [...byMethod].sort()) console.log(`    ${k}: ${n}`);
    console.log(`  whole run ${round((Date.now() - tStart) / 1000, 1)} s; Hermod's log: ${hermodLog}`);
    console.log(
      JSON.stringify({
        deployments: DEPLOYMENTS,
        trackedNamespaces: TRACKED,
        readySeconds: round(readySeconds, 3),
        rssAtSyncBytes: atSync.rss,
        rssSettledBytes: rssSettled,
        cpuSecondsToSync: round(atSync.cpu, 2),
        apiRequestsToSync,
        idleCpuSecondsPer3Min: round(idleCpuSecondsPer3Min, 3),
        watchesOpenSeconds: watchesOpenSeconds === null ? null : round(watchesOpenSeconds, 3),
        idleCpuSecondsPer3MinAfterWatchesOpen: idleCpuSecondsPer3MinAfterWatchesOpen === null ? null : round(idleCpuSecondsPer3MinAfterWatchesOpen, 3),
        ...(idleCpuSecondsPer3MinSteady !== null ? { idleCpuSecondsPer3MinSteady: round(idleCpuSecondsPer3MinSteady, 3) } : {}),
        untrackedChurnCpuSeconds: round(untrackedChurnCpuSeconds, 2),
        burstMedianVisibleSeconds: round(burstMedianVisibleSeconds, 1),
        burstLastVisibleSeconds: round(burstLastVisibleSeconds, 1),
        burstLost,
        burstDuplicates,
        burst429,
      }),
    );
  } finally {
    if (hermod && hermod.exitCode === null) {
      hermod.kill('SIGTERM');
      await Promise.race([new Promise((r) => hermod!.once('exit', r)), sleep(10_000)]);
      if (hermod.exitCode === null) hermod.kill('SIGKILL');
    }
    await slack.close();
    await cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
