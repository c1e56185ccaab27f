/**
 * Feeds synthetic Deployment observations through the real supervisor and Deployment
 * statecharts (no Slack, no cluster) and prints how fast and how small the actor system is.
 *
 *   npm run bench:actors
 *
 * Targets (issue 2): 10,000 actors across 500 namespaces created in under 2 s; over 50,000
 * status updates per second on one core; under 5 KiB of heap per idle actor.
 * The last line is one JSON object: { createSeconds, eventsPerSecond, heapBytesPerActor, ... }.
 */
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/actors/logger.js';
import { Supervisor } from '../src/actors/supervisor.js';
import { observation } from '../test/support/observations.js';

const NAMESPACES = 500;
const DEPLOYMENTS = 10_000;
const UPDATES = 200_000;


function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with node --expose-gc (npm run bench:actors does)');
  collect();
  collect();
}

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

let notifications = 0;
const supervisor = new Supervisor({
  failingGraceMs: 60_000,
  logger: silentLogger,
  onNotification: () => {
    notifications += 1;
  },
}).start();

// Pre-build the observations so the figures measure the actor system, not the fixtures.
const names = Array.from({ length: DEPLOYMENTS }, (_, i) => ({ namespace: `ns-${i % NAMESPACES}`, name: `app-${i}`, uid: `uid-${i}` }));
const initial = names.map((n) => observation({ ...n, revision: 1, replicas: 3, updated: 3, available: 3, at: 0 }));

const heapBefore = heapUsed();
let t0 = performance.now();
for (const o of initial) supervisor.observe(o);
supervisor.synced();
const createSeconds = (performance.now() - t0) / 1000;
const heapAfter = heapUsed();
if (supervisor.deploymentCount !== DEPLOYMENTS) throw new Error(`expected ${DEPLOYMENTS} actors, have ${supervisor.deploymentCount}`);
const heapBytesPerActor = (heapAfter - heapBefore) / DEPLOYMENTS;

// Status updates: a mix of resyncs (same revision), scale changes and real rollouts.
const updates = Array.from({ length: UPDATES }, (_, i) => {
  const n = names[i % DEPLOYMENTS]!;
  const round = Math.floor(i / DEPLOYMENTS);
  // Every 5th round, every 10th Deployment rolls out a new revision; it completes the next round.
  const rolling = round % 5 === 1 && i % 10 === 0;
  const revision = 1 + Math.floor((round + 3) / 5);
  return rolling
    ? observation({ ...n, revision: revision + 1, replicas: 3, updated: 1, available: 3, old: 3, at: i })
    : observation({ ...n, revision, replicas: 3 + (round % 2), updated: 3, available: 3, at: i });
});
t0 = performance.now();
for (const u of updates) supervisor.observe(u);
const updateSeconds = (performance.now() - t0) / 1000;
const eventsPerSecond = UPDATES / updateSeconds;

supervisor.stop();

const result = {
  deployments: DEPLOYMENTS,
  namespaces: NAMESPACES,
  createSeconds: Number(createSeconds.toFixed(3)),
  updates: UPDATES,
  eventsPerSecond: Math.round(eventsPerSecond),
  heapBytesPerActor: Math.round(heapBytesPerActor),
  notifications,
};
console.log(`created ${DEPLOYMENTS} Deployment actors across ${NAMESPACES} namespaces in ${result.createSeconds} s (target < 2 s)`);
console.log(`routed ${UPDATES} status updates at ${result.eventsPerSecond.toLocaleString('en')} events/s (target > 50,000/s)`);
console.log(`heap per idle actor: ${(result.heapBytesPerActor / 1024).toFixed(2)} KiB (target < 5 KiB)`);
console.log(`rollout notifications emitted: ${notifications}`);
console.log(JSON.stringify(result));
