/**
 * Benchmark of Slack delivery: the real delivery layer, the real WebClient, the local Slack
 * server with Slack's limits on, in real time.
 *
 * Scenario: a burst of ROLLOUTS rollouts across CHANNELS channels. Every rollout starts at
 * once; after VERDICT_AFTER_MS every rollout ends (a seventh fail). Some starts are on Slack
 * by then (their verdict is a chat.update), the others are still queued (their start is
 * coalesced away and the verdict is posted once).
 *
 * Prints figures, then ONE JSON object on the last line:
 *   rollouts, channels, slackCallsPerRollout, lastMessageSeconds (last verdict -> last
 *   message), minimumSeconds (the least time Slack's limits allow for the calls still needed
 *   after the last verdict), lost (must be 0), duplicates.
 *
 * Environment: BENCH_ROLLOUTS (300), BENCH_CHANNELS (10), BENCH_VERDICT_AFTER_MS (5000).
 * Run: npm run bench:delivery
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { createDelivery, type DeliveryMetrics } from '../src/actors/delivery/index.js';
import { createSlackApi, createSlackClient } from '../src/io/slack.js';
import type { SlackMessage } from '../src/machines/message.js';
import type { Notification, RolloutPhase, RolloutView } from '../src/machines/notification.js';
import { DEFAULT_LIMITS, startSlackServer } from '../test/support/slack-server.js';

const ROLLOUTS = Number(process.env['BENCH_ROLLOUTS'] ?? 300);
const CHANNELS = Number(process.env['BENCH_CHANNELS'] ?? 10);
const VERDICT_AFTER_MS = Number(process.env['BENCH_VERDICT_AFTER_MS'] ?? 5000);

function view(i: number, phase: RolloutPhase): RolloutView {
  const now = Date.now();
  return {
    rolloutId: `uid-${i}/2`,
    namespace: `team-${i % CHANNELS}`,
    deployment: `app-${i}`,
    revision: 2,
    previousRevision: 1,
    rolledBackTo: [],
    replicaSet: `app-${i}-5d9f`,
    phase,
    startedAt: now,
    endedAt: phase === 'progressing' ? null : now,
    adopted: false,
    progressDeadlineSeconds: 600,
    progress: { desired: 3, updated: 3, ready: phase === 'succeeded' ? 3 : 1, available: 3, old: 0 },
    diagnosis: { pods: 3, stuckPods: phase === 'failed' ? 3 : 0, problems: [] },
    git: {},
    supersededBy: null,
    detail: null,
  };
}

/** A small stand-in renderer: the benchmark measures delivery, not rendering. */
function render(v: RolloutView): SlackMessage {
  const text = `${v.deployment} in ${v.namespace}: ${v.phase}`;
  return { text, attachments: [{ color: v.phase === 'failed' ? '#e60000' : '#36a64f', blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] }], thread: null };
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const names = Array.from({ length: CHANNELS }, (_, i) => `deploys-${i}`);
  const slack = await startSlackServer({ channels: names.map((name) => ({ name })) });
  const latencies: number[] = [];
  const counters = new Map<string, number>();
  const bump = (k: string, n = 1): void => {
    counters.set(k, (counters.get(k) ?? 0) + n);
  };
  const metrics: Partial<DeliveryMetrics> = {
    deliverySeconds: (s) => latencies.push(s),
    rateLimited: () => bump('rateLimited'),
    retry: () => bump('retries'),
    dropped: (reason, n) => bump(`dropped ${reason}`, n),
    possibleDuplicate: () => bump('possibleDuplicates'),
  };
  const client = createSlackClient({ token: slack.token, slackApiUrl: slack.url });
  const delivery = createDelivery({ slack: createSlackApi(client), render, metrics });
  const channelOf = (i: number): string => `#${names[i % CHANNELS]}`;
  const verdictOf = (i: number): RolloutPhase => (i % 7 === 0 ? 'failed' : 'succeeded');
  const note = (i: number, phase: RolloutPhase): Notification => ({ rolloutId: `uid-${i}/2`, channel: channelOf(i), alert: 'all', view: view(i, phase) });

  const t0 = Date.now();
  for (let i = 0; i < ROLLOUTS; i++) delivery.notify(note(i, 'progressing'));
  await sleep(VERDICT_AFTER_MS);
  for (let i = 0; i < ROLLOUTS; i++) delivery.notify(note(i, verdictOf(i)));
  const lastVerdictAt = Date.now();
  const drained = await delivery.drain(30 * 60_000);
  const doneAt = Date.now();

  // What Slack shows, from the server's own records.
  const requests = slack.requests();
  const okChanges = requests.filter((r) => r.outcome === 'ok' && (r.method === 'chat.postMessage' || r.method === 'chat.update'));
  const lastMessageAt = Math.max(...okChanges.map((r) => r.at));
  const byRollout = new Map<string, number>();
  let lost = 0;
  for (const name of names) {
    for (const m of slack.messages(name)) {
      const id = String(m.metadata?.event_payload['rolloutId']);
      byRollout.set(id, (byRollout.get(id) ?? 0) + 1);
    }
  }
  const duplicates = [...byRollout.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);
  for (let i = 0; i < ROLLOUTS; i++) {
    const id = `uid-${i}/2`;
    const shown = names.flatMap((n) => slack.messages(n)).filter((m) => m.metadata?.event_payload['rolloutId'] === id).at(-1);
    if (shown === undefined || !shown.text.endsWith(`: ${verdictOf(i)}`)) lost += 1;
  }

  // The least time Slack's limits allow for what was still needed at the last verdict:
  // a post per rollout not yet on Slack (per channel, 1/s after a burst), an update per
  // rollout already on Slack (per workspace, 50/min after a burst), buckets assumed full.
  const visibleAt = new Set(
    requests.filter((r) => r.method === 'chat.postMessage' && r.outcome === 'ok' && r.at <= lastVerdictAt).map((r) => `${r.channelId}/${r.ts}`),
  );
  const visibleRollouts = new Set<string>();
  const postsNeeded = new Map<string, number>();
  for (const name of names) {
    for (const m of slack.messages(name)) if (visibleAt.has(`${m.channel}/${m.ts}`)) visibleRollouts.add(String(m.metadata?.event_payload['rolloutId']));
  }
  for (let i = 0; i < ROLLOUTS; i++) {
    if (!visibleRollouts.has(`uid-${i}/2`)) postsNeeded.set(channelOf(i), (postsNeeded.get(channelOf(i)) ?? 0) + 1);
  }
  const postSeconds = Math.max(0, ...[...postsNeeded.values()].map((n) => Math.max(0, n - DEFAULT_LIMITS.postMessageBurst) / DEFAULT_LIMITS.postMessagePerSecond));
  const updateSeconds = (Math.max(0, visibleRollouts.size - DEFAULT_LIMITS.updateBurst) * 60) / DEFAULT_LIMITS.updatesPerMinute;
  const minimumSeconds = Math.max(postSeconds, updateSeconds);

  const byMethod = new Map<string, number>();
  for (const r of requests) byMethod.set(`${r.method} ${r.outcome}`, (byMethod.get(`${r.method} ${r.outcome}`) ?? 0) + 1);

  // Cost of idle channel actors (many channels must be cheap).
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const idle = 2000;
  const tIdle = performance.now();
  for (let i = 0; i < idle; i++) {
    // alert=failure + progressing: nothing is sent, but the channel actor exists.
    delivery.notify({ rolloutId: `idle-${i}/1`, channel: `idle-${i}`, alert: 'failure', view: view(i, 'progressing') });
  }
  const idleMs = performance.now() - tIdle;
  gc();
  const perChannelKiB = (process.memoryUsage().heapUsed - heapBefore) / idle / 1024;

  delivery.stop();
  await slack.close();

  console.log(`Slack delivery benchmark: ${ROLLOUTS} rollouts into ${CHANNELS} channels, verdicts ${VERDICT_AFTER_MS} ms after the starts`);
  console.log(`  Slack limits (local server): chat.postMessage ${DEFAULT_LIMITS.postMessagePerSecond}/s per channel (burst ${DEFAULT_LIMITS.postMessageBurst}), chat.update ${DEFAULT_LIMITS.updatesPerMinute}/min per workspace (burst ${DEFAULT_LIMITS.updateBurst})`);
  console.log(`  drained: ${drained.drained} after ${round((doneAt - t0) / 1000, 1)} s`);
  console.log(`  requests: ${requests.length} (${round(requests.length / ROLLOUTS)} per rollout)`);
  for (const [k, n] of [...byMethod].sort()) console.log(`    ${k}: ${n}`);
  console.log(`  starts on Slack before the verdicts: ${visibleRollouts.size}; coalesced into a single verdict post: ${ROLLOUTS - visibleRollouts.size}`);
  console.log(`  last verdict -> last message: ${round((lastMessageAt - lastVerdictAt) / 1000)} s (Slack's limits allow at best ${round(minimumSeconds)} s: posts ${round(postSeconds)} s, updates ${round(updateSeconds)} s)`);
  console.log(`  delivery latency (notify -> Slack ok), all messages: p50 ${round(percentile(latencies, 50))} s, p95 ${round(percentile(latencies, 95))} s, max ${round(Math.max(0, ...latencies))} s`);
  console.log(`  429s: ${counters.get('rateLimited') ?? 0}, retries: ${counters.get('retries') ?? 0}, dropped: ${[...counters].filter(([k]) => k.startsWith('dropped')).reduce((n, [, v]) => n + v, 0)}`);
  console.log(`  lost verdicts: ${lost}, duplicate messages: ${duplicates}`);
  console.log(`  idle channel actors: ${idle} created in ${round(idleMs, 1)} ms, about ${round(perChannelKiB, 1)} KiB each`);
  console.log(
    JSON.stringify({
      rollouts: ROLLOUTS,
      channels: CHANNELS,
      slackCallsPerRollout: round(requests.length / ROLLOUTS, 3),
      lastMessageSeconds: round((lastMessageAt - lastVerdictAt) / 1000),
      minimumSeconds: round(minimumSeconds),
      lost,
      duplicates,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
