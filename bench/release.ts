/**
 * Benchmark of one message per release (issue 13, ADR 0010): how many Slack calls a release of
 * N workloads of one commit in one channel costs, grouped (--group-window-seconds 30) and not
 * (0). The real delivery layer and renderer, the real WebClient, the local Slack server with
 * Slack's limits on, on a SimulatedClock shared with the server (so minutes take
 * milliseconds; the figures are counts, not timings).
 *
 * Scenario per N: every workload starts within 2 s; each reports progress once (half its
 * pods ready) and its verdict between 20 s and 80 s later (spread evenly, the last one fails
 * when FAIL=1).
 *
 * Prints one JSON object per line: n, grouped, topLevel (messages in the channel),
 * posts (chat.postMessage: top-level and thread), updates (chat.update), callsPerWorkload.
 *
 * Run: node --import tsx --conditions=development bench/release.ts
 */
import { SimulatedClock } from 'xstate';
import { createDelivery } from '../src/actors/delivery/index.js';
import { createSlackApi, createSlackClient } from '../src/io/slack.js';
import { renderRollout } from '../src/machines/message.js';
import type { Notification, RolloutPhase, RolloutView } from '../src/machines/notification.js';
import { startSlackServer } from '../test/support/slack-server.js';

const EPOCH = 1_700_000_000_000;
const SHA = '0123456789abcdef0123456789abcdef01234567';
const FAIL = process.env['FAIL'] === '1';

function view(i: number, phase: RolloutPhase, startedAt: number, ready: number): RolloutView {
  const failing = phase === 'failing' || phase === 'failed';
  return {
    rolloutId: `uid-${i}/2`, namespace: 'shop', deployment: `svc-${i}`, revision: 2, previousRevision: 1, rolledBackTo: [], replicaSet: `svc-${i}-2`, phase,
    startedAt, endedAt: phase === 'progressing' ? null : startedAt + 60_000, adopted: false, progressDeadlineSeconds: 600,
    progress: { desired: 2, updated: 2, ready, available: ready, old: 2 - ready },
    diagnosis: failing ? { pods: 2, stuckPods: 2, problems: [{ source: 'container', reason: 'CrashLoopBackOff', container: 'app', exitCode: 1, count: 2 }] } : { pods: 2, stuckPods: 0, problems: [] },
    git: { sha: SHA, repo: 'https://github.com/my-org/shop' }, supersededBy: null, detail: null,
  };
}

async function run(n: number, windowMs: number) {
  const clock = new SimulatedClock();
  clock.set(EPOCH);
  const slack = await startSlackServer({ now: () => clock.now(), channels: [{ name: 'deploys' }] });
  const client = createSlackClient({ token: slack.token, slackApiUrl: slack.url, timeoutMs: 2000 });
  const render = { cluster: 'prod', gitAnnotationWarning: false, annotationNames: { commitSha: 'a', repoUrl: 'b' }, mode: 'update' as const };
  const delivery = createDelivery({ slack: createSlackApi(client), render: (v) => renderRollout(v, render), clock, releaseWindowMs: windowMs, cluster: 'prod' });
  const events: Array<{ at: number; n: Notification }> = [];
  const note = (v: RolloutView): Notification => ({ rolloutId: v.rolloutId, channel: 'deploys', alert: 'all', view: v });
  for (let i = 0; i < n; i++) {
    const start = EPOCH + Math.floor((2000 * i) / n);
    const end = start + 20_000 + Math.floor((60_000 * i) / n);
    const last = FAIL && i === n - 1;
    events.push({ at: start, n: note(view(i, 'progressing', start, 0)) });
    events.push({ at: start + 8_000, n: note(view(i, 'progressing', start, 1)) });
    events.push({ at: end, n: note(view(i, last ? 'failed' : 'succeeded', start, last ? 0 : 2)) });
  }
  events.sort((a, b) => a.at - b.at);
  const settle = async () => {
    for (let k = 0; k < 20_000; k++) {
      await new Promise((r) => setImmediate(r));
      if (delivery.pending().inFlight === 0) {
        await new Promise((r) => setImmediate(r));
        if (delivery.pending().inFlight === 0) return;
      }
    }
  };
  while (events.length > 0 || delivery.pending().total > 0) {
    while (events.length > 0 && (events[0]?.at ?? Infinity) <= clock.now()) delivery.notify((events.shift() as { n: Notification }).n);
    await settle();
    clock.increment(50);
  }
  await settle();
  const calls = slack.requests().filter((q) => q.method.startsWith('chat.') && q.outcome === 'ok');
  const posts = calls.filter((q) => q.method === 'chat.postMessage').length;
  const updates = calls.filter((q) => q.method === 'chat.update').length;
  const result = { n, grouped: windowMs > 0, failing: FAIL, topLevel: slack.messages('deploys').length, posts, updates, callsPerWorkload: Math.round(((posts + updates) / n) * 100) / 100 };
  delivery.stop();
  await slack.close();
  return result;
}

for (const n of [1, 10, 30, 50]) {
  for (const windowMs of [30_000, 0]) console.log(JSON.stringify(await run(n, windowMs)));
}
