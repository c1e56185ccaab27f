/**
 * The event-loop delay metrics (nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds),
 * sampled only while Hermod has work in flight: a rollout in progress or a Slack message waiting.
 *
 * prom-client samples the delay with a timer that fires whatever the process does; once a second
 * that was the largest part of an idle Hermod's CPU (ADR 0007, "Idle without a clock"). A delay
 * matters while a verdict is on its way, so the timer runs only then. Like prom-client, each
 * scrape reads the samples taken since the previous scrape and starts afresh; a scrape with no
 * sample (nothing was in flight) reports 0. nodejs_eventloop_lag_seconds, measured at scrape time,
 * stays prom-client's.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** The gauges and how each reads the histogram (nanoseconds). */
const GAUGES: readonly [name: string, help: string, read: (h: IntervalHistogram) => number][] = [
  ['nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.', (h) => h.min],
  ['nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.', (h) => h.max],
  ['nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.', (h) => h.mean],
  ['nodejs_eventloop_lag_stddev_seconds', 'The standard deviation of the recorded event loop delays.', (h) => h.stddev],
  ['nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.', (h) => h.percentile(50)],
  ['nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays.', (h) => h.percentile(90)],
  ['nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.', (h) => h.percentile(99)],
];

/** The names this module exports; prom-client's default metrics must leave them out. */
export const LOOP_DELAY_METRICS: readonly string[] = GAUGES.map(([name]) => name);

export interface LoopDelay {
  /** How much work is in flight under `source` (rollouts in progress, messages queued in a channel ...); sampling runs while any is above 0. */
  work(source: string, count: number): void;
  /** Whether the delay is being sampled now. */
  readonly sampling: boolean;
  stop(): void;
}

export function loopDelayMetrics(registry: Registry, options: { resolutionMs?: number } = {}): LoopDelay {
  const histogram = monitorEventLoopDelay({ resolution: options.resolutionMs ?? 1000 });
  const inFlight = new Map<string, number>();
  // As prom-client does: one gauge's collect sets them all from the samples since the last scrape, then starts afresh.
  const setAll = (): void => {
    GAUGES.forEach(([, , pick], i) => gauges[i]!.set(histogram.count === 0 ? 0 : pick(histogram) / 1e9));
    histogram.reset();
  };
  const gauges = GAUGES.map(
    ([name, help], i) =>
      new Gauge({
        name,
        help: `${help} Sampled once a second while a rollout is in progress or a Slack message waits; 0 when nothing was in flight since the last scrape.`,
        registers: [registry],
        ...(i === 0 ? { collect: setAll } : {}),
      }),
  );
  return {
    work(source, count) {
      if (count > 0) inFlight.set(source, count);
      else inFlight.delete(source);
      if (inFlight.size > 0) histogram.enable();
      else histogram.disable();
    },
    get sampling() {
      return inFlight.size > 0;
    },
    stop() {
      inFlight.clear();
      histogram.disable();
    },
  };
}
