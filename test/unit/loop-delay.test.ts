/**
 * The event-loop delay metrics (src/io/loopDelay.ts): sampled while work is in flight, not while
 * Hermod idles (an idle process then has no timer waking it up), reset at each scrape, and they
 * replace prom-client's own gauges of the same names in createMetrics().
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { LOOP_DELAY_METRICS, loopDelayMetrics } from '../../src/io/loopDelay.js';
import { createMetrics } from '../../src/io/metrics.js';

/** Keeps the event loop busy for `ms`. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

async function gauges(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of await registry.getMetricsAsJSON()) if (m.name.startsWith('nodejs_eventloop_lag')) out[m.name] = Number(m.values[0]?.value ?? NaN);
  return out;
}

/** Sleeps a few sampling periods, stalls the loop for 150 ms, lets the stall be recorded. */
async function stall(): Promise<void> {
  await sleep(40);
  block(150);
  await sleep(40);
}

describe('event-loop delay metrics (src/io/loopDelay.ts)', () => {
  it('samples nothing while no work is in flight: a stall then shows as 0', async () => {
    const registry = new Registry();
    const loop = loopDelayMetrics(registry, { resolutionMs: 10 });
    assert.equal(loop.sampling, false);
    await stall();
    const g = await gauges(registry);
    assert.deepEqual(Object.keys(g).sort(), [...LOOP_DELAY_METRICS].sort());
    for (const name of LOOP_DELAY_METRICS) assert.equal(g[name], 0, name);
    loop.stop();
  });

  it('samples while work is in flight: a stall shows in max and p99, and a scrape starts afresh', async () => {
    const registry = new Registry();
    const loop = loopDelayMetrics(registry, { resolutionMs: 10 });
    loop.work('rollouts', 1);
    assert.equal(loop.sampling, true);
    await stall();
    const g = await gauges(registry);
    assert.ok(g['nodejs_eventloop_lag_max_seconds']! >= 0.1, `max ${g['nodejs_eventloop_lag_max_seconds']}`);
    assert.ok(g['nodejs_eventloop_lag_p99_seconds']! >= 0.1, `p99 ${g['nodejs_eventloop_lag_p99_seconds']}`);
    assert.ok(g['nodejs_eventloop_lag_min_seconds']! < 0.1, `min ${g['nodejs_eventloop_lag_min_seconds']}`);
    // The next scrape reads only what came after this one: no stall since.
    loop.work('rollouts', 0);
    const next = await gauges(registry);
    assert.ok(next['nodejs_eventloop_lag_max_seconds']! < 0.1, `max after the scrape ${next['nodejs_eventloop_lag_max_seconds']}`);
    loop.stop();
  });

  it('stops sampling when the last source of work has none left', async () => {
    const registry = new Registry();
    const loop = loopDelayMetrics(registry, { resolutionMs: 10 });
    loop.work('rollouts', 2);
    loop.work('slack:#deploys', 3);
    loop.work('rollouts', 0);
    assert.equal(loop.sampling, true, 'a channel still has messages waiting');
    loop.work('slack:#deploys', 0);
    assert.equal(loop.sampling, false);
    await gauges(registry); // drop what was sampled so far
    await stall();
    assert.equal((await gauges(registry))['nodejs_eventloop_lag_max_seconds'], 0);
    loop.stop();
  });

  it("createMetrics exports each delay gauge once, Hermod's, and keeps prom-client's nodejs_eventloop_lag_seconds", async () => {
    const { registry } = createMetrics();
    const metrics = await registry.getMetricsAsJSON();
    for (const name of LOOP_DELAY_METRICS) {
      const found = metrics.filter((m) => m.name === name);
      assert.equal(found.length, 1, name);
      assert.match(found[0]!.help, /while a rollout is in progress or a Slack message waits/, name);
    }
    assert.ok(metrics.some((m) => m.name === 'nodejs_eventloop_lag_seconds'));
  });

  it('createMetrics samples while a rollout is in progress, not after it ended', async () => {
    const metrics = createMetrics();
    metrics.rolloutStarted('Deployment');
    await sleep(1100); // the first sample a second after sampling starts
    block(300);
    await sleep(1100);
    const during = await gauges(metrics.registry);
    assert.ok(during['nodejs_eventloop_lag_max_seconds']! >= 0.25, `max ${during['nodejs_eventloop_lag_max_seconds']}`);
    metrics.rolloutEnded('succeeded', 1, 'Deployment');
    block(300);
    await sleep(1100);
    assert.equal((await gauges(metrics.registry))['nodejs_eventloop_lag_max_seconds'], 0);
  });
});
