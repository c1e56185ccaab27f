/**
 * The failover scenario of issue 9, shared by test/integration/failover.test.ts and
 * bench/failover.ts: two real `hermod run` processes with leader election on the test control
 * plane and the local Slack, many concurrent rollouts (successes and failures), kill -9 of the
 * leader right after Slack answered a post, SIGTERM handovers, the killed instance started
 * again, and a stretch with no Hermod running while rollouts start and end.
 *
 * What it measures, from the local Slack's records and the controller's verdicts (read as
 * kubectl reads them): lost (a rollout without a message, or whose latest verdict is not
 * shown), duplicates (extra top-level messages of one rollout), orphaned (an ended rollout
 * whose message is not final), failover and handover times.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messageColour, SLACK_ANNOTATION, type Harness } from './hermod-harness.js';
import { controllerState, GREEN, GREY, RED } from './scenario.js';
import type { SimulatedFailure } from './cluster.js';
import type { StoredMessage } from './slack-server.js';

export const STATE_NS = 'hermod-failover';
const LEASE = { duration: 4, renew: 3, retry: 1 };

export interface LogLine {
  msg: string;
  /** ISO 8601 (Hermod's logger). */
  time: string;
  [key: string]: unknown;
}

export interface HermodProcess {
  name: string;
  child: ChildProcessWithoutNullStreams;
  logs(): LogLine[];
  stderr(): string;
  exited: Promise<number | null>;
  alive(): boolean;
}

/** `extraArgs`: more flags after the scenario's own (e.g. `--bake-seconds 90`). */
export function spawnHermod(h: Harness, name: string, extraArgs: readonly string[] = []): HermodProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, SLACK_TOKEN: h.slack.token, SLACK_API_URL: h.slack.url, CLUSTER_NAME: 'test', POD_NAME: name };
  delete env['HERMOD_METRICS_PORT'];
  const args = [
    '--import', 'tsx', join(process.cwd(), 'src/io/commands/cli.ts'), 'run',
    '--kubeconfig', h.cluster.kubeconfigPath, '--metrics-port', '0', '--state-namespace', STATE_NS,
    '--leader-elect-lease-duration', String(LEASE.duration), '--leader-elect-renew-deadline', String(LEASE.renew),
    '--leader-elect-retry-period', String(LEASE.retry), '--failing-grace-seconds', '2', '--level', 'info',
    ...extraArgs,
  ];
  const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let parsed: LogLine[] = [];
  let parsedUpTo = 0;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    name,
    child,
    logs() {
      const end = stdout.lastIndexOf('\n') + 1;
      if (end > parsedUpTo) {
        const lines = stdout.slice(parsedUpTo, end).split('\n').filter((l) => l.startsWith('{'));
        parsed = [...parsed, ...lines.map((l) => JSON.parse(l) as LogLine)];
        parsedUpTo = end;
      }
      return parsed;
    },
    stderr: () => stderr,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

/** The process leads now, by its own log: the last leadership line says so. */
export function leads(p: HermodProcess): boolean {
  if (!p.alive()) return false;
  const last = p.logs().filter((l) => l.msg.startsWith('leading: this Hermod delivers') || l.msg.startsWith('stopped leading')).at(-1);
  return last?.msg.startsWith('leading') === true;
}

export interface FailoverOptions {
  /** Deployments created at the start (each one rollout). */
  deployments: number;
  /**
   * Rounds of new revisions, each ending with: `kill`, kill -9 of the leader right after Slack
   * answered one of its posts (between the answer and the state write, if it lands there);
   * `kill-random`, kill -9 at a random moment up to 3 s after a post; `term`, SIGTERM.
   */
  rounds: Array<'kill' | 'kill-random' | 'term'>;
  /** Deployments given a new revision per round. */
  batch: number;
  /** Every n-th rollout fails (crash loop, then its progress deadline). */
  failEvery: number;
  log?: (line: string) => void;
}

export interface FailoverResult {
  rollouts: number;
  kills: number;
  lost: number;
  duplicates: number;
  orphaned: number;
  failoverSecondsP50: number;
  failoverSecondsMax: number;
  handoverSecondsMax: number;
  problems: string[];
  possibleDuplicates: number;
  /** First posts of a killed leader that the next one found in the channel history and edited. */
  recovered: number;
}

const DEADLINE = 12;
const ended = (state: string) => state === 'complete' || state === 'deadlineExceeded';

/** Runs the scenario on a harness whose Hermod is not started; stops every process it started. */
export async function runFailover(h: Harness, options: FailoverOptions): Promise<FailoverResult> {
  const log = options.log ?? (() => {});
  const NS = 'ha';
  await h.createNamespace(STATE_NS);
  await h.createNamespace(NS, { [SLACK_ANNOTATION]: NS });
  const procs: HermodProcess[] = [];
  const all: HermodProcess[] = [];
  const start = (name: string) => {
    const p = spawnHermod(h, name);
    procs.push(p);
    all.push(p);
    return p;
  };
  const alive = () => procs.filter((p) => p.alive());
  const leader = () => alive().find(leads);
  const synced = (p: HermodProcess) => h.waitFor(`${p.name} synced\n${p.stderr()}`, () => p.logs().some((l) => l.msg.startsWith('caches synced')), 90_000);
  const posts = () => h.slack.requests().filter((r) => r.method === 'chat.postMessage' && r.threadTs === undefined).length;

  // Every rollout the script started: name -> revisions (the template's version).
  const revisions = new Map<string, number>();
  let rolloutCount = 0;
  let serial = 0;
  const template = (name: string) => {
    serial++;
    const failure: SimulatedFailure | undefined = serial % options.failEvery === 0 ? 'crashloop' : undefined;
    return { namespace: NS, name, replicas: 2, progressDeadlineSeconds: DEADLINE, image: `registry.example/app:${serial}`, ...(failure ? { failure } : {}) };
  };
  const names = Array.from({ length: options.deployments }, (_, i) => `app-${String(i).padStart(3, '0')}`);
  const failovers: number[] = [];
  const handovers: number[] = [];
  let kills = 0;

  try {
    let a = start('hermod-a');
    await h.waitFor('hermod-a to lead', () => leads(a), 90_000);
    let b = start('hermod-b');
    await synced(b);
    log('two Hermods up: hermod-a leads');

    await Promise.all(
      names.map(async (name) => {
        await h.createDeployment(template(name));
        revisions.set(name, 1);
        rolloutCount++;
      }),
    );

    let cursor = 0;
    for (const [i, action] of options.rounds.entries()) {
      if (i > 0) {
        const batch = Array.from({ length: options.batch }, () => names[cursor++ % names.length] as string);
        await Promise.all(
          [...new Set(batch)].map(async (name) => {
            await h.updateDeployment(template(name));
            revisions.set(name, (revisions.get(name) ?? 0) + 1);
            rolloutCount++;
          }),
        );
      }
      const current = await h.waitFor('a leader', leader, 60_000);
      // Right after Slack answered a post of this leader.
      const before = posts();
      await h.waitFor('a post in this round', () => posts() > before, 60_000).catch(() => undefined);
      if (action === 'kill-random') await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 3_000)));
      const at = Date.now();
      const other = alive().find((p) => p !== current);
      current.child.kill(action === 'term' ? 'SIGTERM' : 'SIGKILL');
      if (action !== 'term') kills++;
      log(`round ${i}: ${action} of ${current.name} after ${posts()} posts`);
      // The new leader's first Slack call (the old one may still call Slack while it drains after SIGTERM).
      if (other !== undefined) {
        const tookOver = await h
          .waitFor(`${other.name} to lead`, () => (leads(other) ? other.logs().filter((l) => l.msg.startsWith('leading: this Hermod delivers')).at(-1) : undefined), (LEASE.duration + 30) * 1000)
          .catch(() => undefined);
        if (tookOver !== undefined) {
          const since = Date.parse(tookOver.time);
          const first = await h.waitFor('the new leader to call Slack', () => h.slack.requests().find((r) => r.at >= since), 10_000).catch(() => undefined);
          (action === 'term' ? handovers : failovers).push(((first?.at ?? since) - at) / 1000);
        }
      }
      await current.exited;
      // The killed instance started again.
      const again = start(current.name);
      if (current === a) a = again;
      else b = again;
      await synced(again);
    }

    // A stretch with no Hermod running while rollouts start and end.
    const last = await h.waitFor('a leader', leader, 60_000);
    for (const p of alive()) p.child.kill(p === last ? 'SIGKILL' : 'SIGTERM');
    kills++;
    await Promise.all(all.map((p) => p.exited));
    const quiet = names.slice(0, Math.min(options.batch, names.length));
    await Promise.all(
      quiet.map(async (name) => {
        await h.updateDeployment({ ...template(name), failure: undefined } as ReturnType<typeof template>);
        revisions.set(name, (revisions.get(name) ?? 0) + 1);
        rolloutCount++;
      }),
    );
    await h.waitFor('the rollouts of the quiet stretch to end', async () => {
      for (const name of quiet) if (!ended(await controllerState(h, NS, name))) return false;
      return true;
    }, 90_000);
    log('quiet stretch over: starting both again');
    a = start('hermod-a');
    b = start('hermod-b');

    // Every rollout ends; then every message shows its verdict.
    await h.waitFor('every rollout to end', async () => {
      for (const name of names) if (!ended(await controllerState(h, NS, name))) return false;
      return true;
    }, 180_000);
    const verdicts = new Map<string, string>();
    const uids = new Map<string, string>();
    for (const name of names) {
      verdicts.set(name, await controllerState(h, NS, name));
      uids.set(name, (await h.getDeployment(NS, name)).metadata?.uid ?? '');
    }
    const settle = () => judge(h.messages(NS), names, uids, revisions, verdicts);
    await h.waitFor('every message to show its verdict', () => settle().problems.length === 0, 90_000).catch(() => undefined);
    const verdict = settle();
    if (verdict.duplicates > 0) explainDuplicates(h, all, names, uids, revisions, log);
    const possibleDuplicates = all.flatMap((p) => p.logs()).filter((l) => l.msg.startsWith('a post may have reached Slack')).length;
    const recovered = all.flatMap((p) => p.logs()).filter((l) => l.msg.startsWith('found in the channel history a post')).length;
    const sorted = [...failovers].sort((x, y) => x - y);
    return {
      rollouts: rolloutCount,
      kills,
      ...verdict,
      possibleDuplicates,
      recovered,
      failoverSecondsP50: sorted.length === 0 ? NaN : (sorted[Math.floor((sorted.length - 1) / 2)] as number),
      failoverSecondsMax: sorted.length === 0 ? NaN : Math.max(...sorted),
      handoverSecondsMax: handovers.length === 0 ? NaN : Math.max(...handovers),
    };
  } finally {
    for (const p of all) if (p.alive()) p.child.kill('SIGKILL');
    await Promise.all(all.map((p) => p.exited));
  }
}

/**
 * For every rollout with more than one top-level message: when Slack stored each post and what
 * every process logged about that rollout, and where all the logs were written (to find the window).
 */
function explainDuplicates(h: Harness, all: HermodProcess[], names: string[], uids: Map<string, string>, revisions: Map<string, number>, log: (line: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hermod-failover-'));
  all.forEach((p, i) => writeFileSync(join(dir, `${i}-${p.name}.log`), p.logs().map((l) => JSON.stringify(l)).join('\n')));
  log(`duplicates: every process's log is in ${dir}`);
  const messages = h.messages('ha');
  for (const name of names) {
    for (let revision = 1; revision <= (revisions.get(name) ?? 1); revision++) {
      const id = `${uids.get(name) ?? ''}/${revision}`;
      const mine = messages.filter((m) => (m.metadata?.event_payload as { rolloutId?: string } | undefined)?.rolloutId === id);
      if (mine.length < 2) continue;
      log(`${name}#${revision} (${id}): posted at ${mine.map((m) => new Date(Number(m.ts) * 1000).toISOString()).join(', ')}`);
      for (const [i, p] of all.entries()) {
        for (const l of p.logs()) if (JSON.stringify(l).includes(id)) log(`  ${i}-${p.name} ${l.time} ${l.msg}`);
      }
    }
  }
}

/** Lost, duplicated and orphaned rollouts from Slack's records; see the module comment. */
export function judge(
  messages: StoredMessage[],
  names: string[],
  uids: Map<string, string>,
  revisions: Map<string, number>,
  verdicts: Map<string, string>,
): { lost: number; duplicates: number; orphaned: number; problems: string[] } {
  const byRollout = new Map<string, StoredMessage[]>();
  for (const m of messages) {
    const id = (m.metadata?.event_payload as { rolloutId?: string } | undefined)?.rolloutId;
    if (id === undefined) continue;
    byRollout.set(id, [...(byRollout.get(id) ?? []), m]);
  }
  let lost = 0;
  let duplicates = 0;
  let orphaned = 0;
  const problems: string[] = [];
  for (const name of names) {
    const uid = uids.get(name) ?? '';
    const latest = revisions.get(name) ?? 1;
    // The controller's revision numbers count templates: the script's n-th template is revision n.
    for (let revision = 1; revision <= latest; revision++) {
      const found = byRollout.get(`${uid}/${revision}`) ?? [];
      const shown = found.at(-1);
      if (found.length > 1) {
        duplicates += found.length - 1;
        problems.push(`${name}#${revision}: ${found.length} top-level messages`);
      }
      if (shown === undefined) {
        // The script never supersedes a revision while no Hermod runs: every revision was seen.
        lost++;
        problems.push(`${name}#${revision}: no message`);
        continue;
      }
      const colour = messageColour(shown);
      const text = JSON.stringify(shown.attachments ?? []) + shown.text;
      // Red is final only as the failed verdict ("Failed after N seconds"), not while failing.
      const final = colour === GREEN || colour === GREY || (colour === RED && /failed after \d+ seconds/i.test(text));
      if (!final) {
        orphaned++;
        problems.push(`${name}#${revision}: not final (${colour})`);
        continue;
      }
      if (revision === latest) {
        const want = verdicts.get(name) === 'complete' ? GREEN : RED;
        if (colour !== want) {
          lost++;
          problems.push(`${name}#${revision}: shows ${colour}, the controller says ${verdicts.get(name)}`);
        }
      }
    }
  }
  return { lost, duplicates, orphaned, problems };
}
