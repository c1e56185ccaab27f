/**
 * Hermod's Prometheus metrics. The three counters keep the original's names and meaning
 * (hermod_deployment_processed_total counts rollouts started); the rest are new.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeliveryMetrics } from '../actors/delivery/index.js';
import type { RolloutMetrics } from '../actors/supervisor.js';
import type { RolloutPhase } from '../machines/notification.js';

export interface HermodMetrics extends RolloutMetrics {
  registry: Registry;
  delivery: DeliveryMetrics;
  /** Report the watch caches' sizes (objects per kind) at scrape time. */
  watchCaches(read: () => Record<string, number>): void;
  /** hermod_leader (1 while this process leads) and hermod_leader_transitions_total (every change of it). */
  leader(leading: boolean): void;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): HermodMetrics {
  const registry = new Registry();
  // prom-client samples event-loop delay with a 10 ms timer by default: 100 wake-ups a second,
  // most of an idle Hermod's CPU (ADR 0007). One sample a second keeps nodejs_eventloop_lag_*.
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  const processed = new Counter({
    name: 'hermod_deployment_processed_total',
    help: 'The total number of deployments processed (rollouts started, including rollouts adopted at start-up).',
    registers: [registry],
  });
  const success = new Counter({
    name: 'hermod_deployment_success_total',
    help: 'The total number of successful deployments processed.',
    registers: [registry],
  });
  const failed = new Counter({
    name: 'hermod_deployment_failed_total',
    help: 'The total number of failed deployments processed.',
    registers: [registry],
  });
  const ended = new Counter({
    name: 'hermod_rollouts_ended_total',
    help: 'Rollouts that ended, by how they ended (succeeded, failed, superseded, deleted, untracked).',
    labelNames: ['phase'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'hermod_rollout_duration_seconds',
    help: 'Duration of rollouts from start to verdict.',
    labelNames: ['outcome'],
    buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 3600],
    registers: [registry],
  });
  const inProgress = new Gauge({
    name: 'hermod_rollouts_in_progress',
    help: 'Rollouts started and not yet ended.',
    registers: [registry],
  });
  const tracked = new Gauge({
    name: 'hermod_deployments_tracked',
    help: 'Deployments in annotated namespaces that Hermod tracks.',
    registers: [registry],
  });
  const leader = new Gauge({
    name: 'hermod_leader',
    help: '1 while this Hermod leads (posts to Slack and writes state), 0 while it follows.',
    registers: [registry],
  });
  const leaderTransitions = new Counter({
    name: 'hermod_leader_transitions_total',
    help: 'Times this Hermod started or stopped leading.',
    registers: [registry],
  });
  let leading = false;
  let readCaches: (() => Record<string, number>) | null = null;
  new Gauge({
    name: 'hermod_watch_cache_objects',
    help: 'Objects held in the watch caches, by kind (namespaced kinds: tracked namespaces only).',
    labelNames: ['kind'],
    registers: [registry],
    // Read at scrape time: the caches change far more often than Prometheus looks.
    collect() {
      if (readCaches === null) return;
      for (const [kind, count] of Object.entries(readCaches())) this.set({ kind }, count);
    },
  });
  return {
    registry,
    delivery: deliveryMetrics(registry),
    watchCaches(read) {
      readCaches = read;
    },
    rolloutStarted() {
      processed.inc();
      inProgress.inc();
    },
    rolloutEnded(phase: RolloutPhase, durationSeconds: number) {
      inProgress.dec();
      ended.inc({ phase });
      if (phase === 'succeeded') success.inc();
      if (phase === 'failed') failed.inc();
      if (phase === 'succeeded' || phase === 'failed') duration.observe({ outcome: phase }, durationSeconds);
    },
    deploymentsTracked(count: number) {
      tracked.set(count);
    },
    leader(now: boolean) {
      if (now !== leading) leaderTransitions.inc();
      leading = now;
      leader.set(now ? 1 : 0);
    },
  };
}

function deliveryMetrics(registry: Registry): DeliveryMetrics {
  const requests = new Counter({
    name: 'hermod_slack_requests_total',
    help: 'Slack Web API requests by method and outcome (ok, or the error code).',
    labelNames: ['method', 'outcome'],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'hermod_slack_rate_limited_total',
    help: 'Slack answers of 429 (rate limited), by channel.',
    labelNames: ['channel'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'hermod_slack_retries_total',
    help: 'Slack requests retried after a transient error or a rate limit, by method.',
    labelNames: ['method'],
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: 'hermod_slack_queue_depth',
    help: 'Rollout messages waiting to be delivered, by channel.',
    labelNames: ['channel'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'hermod_slack_delivery_seconds',
    help: 'Seconds from a rollout change to Slack accepting its message.',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const permanent = new Counter({
    name: 'hermod_slack_permanent_failures_total',
    help: 'Slack errors that retrying cannot fix (channel_not_found, not_in_channel, invalid_auth, ...), by error.',
    labelNames: ['error'],
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'hermod_slack_dropped_total',
    help: 'Rollout messages given up, by reason (queue_full drops progress updates only, never a verdict).',
    labelNames: ['reason'],
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'hermod_slack_possible_duplicates_total',
    help: 'Posts that may show twice: re-posts after an ambiguous timeout, and posts of a previous leader whose answer was never recorded.',
    registers: [registry],
  });
  return {
    slackRequest: (method, outcome) => requests.inc({ method, outcome }),
    rateLimited: (channel) => rateLimited.inc({ channel }),
    retry: (method) => retries.inc({ method }),
    queueDepth: (channel, depth) => queueDepth.set({ channel }, depth),
    deliverySeconds: (seconds) => latency.observe(seconds),
    permanentFailure: (error) => permanent.inc({ error }),
    dropped: (reason, count) => dropped.inc({ reason }, count),
    possibleDuplicate: () => duplicates.inc(),
  };
}
