/**
 * Hermod's Prometheus metrics. The three counters keep the original's names and meaning
 * (hermod_deployment_processed_total counts rollouts started) and count Deployments only; the
 * rest are new, and the rollout metrics among them carry the workload's `kind` (issue 11).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeliveryMetrics } from '../actors/delivery/index.js';
import type { RolloutMetrics } from '../actors/supervisor.js';
import type { WorkloadKind } from '../machines/facts.js';
import type { RolloutPhase } from '../machines/notification.js';
import type { SlackHealth, StateHealth } from './health.js';
import { LOOP_DELAY_METRICS, loopDelayMetrics, type LoopDelay } from './loopDelay.js';
import type { ReflectorStats } from './kube/reflectorOptions.js';
import { VERSION } from './version.js';

/** What the health metrics read at scrape time. */
export interface HealthSources {
  watches: () => Record<string, ReflectorStats>;
  slack: SlackHealth;
  /** Null when delivery state is not persisted. */
  state: StateHealth | null;
  now?: () => number;
}

export interface HermodMetrics extends RolloutMetrics {
  registry: Registry;
  delivery: DeliveryMetrics;
  /** Report the watch caches' sizes (objects per kind) at scrape time. */
  watchCaches(read: () => Record<string, number>): void;
  /** hermod_leader (1 while this process leads) and hermod_leader_transitions_total (every change of it). */
  leader(leading: boolean): void;
  /** Export watch, Slack and state-store health, read at scrape time. */
  health(sources: HealthSources): void;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): HermodMetrics {
  const registry = new Registry();
  let loop: Pick<LoopDelay, 'work'> = { work: () => undefined };
  if (options.defaultMetrics ?? true) {
    // prom-client samples event-loop delay with a timer that never stops (10 ms by default; once a
    // second it was still most of an idle Hermod's CPU, ADR 0007): its timer is set past any
    // process's life and its delay gauges give way to ./loopDelay.ts's, sampled only under work.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 2 ** 31 - 1 });
    for (const name of LOOP_DELAY_METRICS) registry.removeSingleMetric(name);
    loop = loopDelayMetrics(registry);
  }
  let rolloutsInProgress = 0;
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
    help: 'Rollouts that ended, by how they ended (succeeded, failed, superseded, deleted, untracked, unfollowable) and workload kind.',
    labelNames: ['phase', 'kind'],
    registers: [registry],
  });
  const degraded = new Counter({
    name: 'hermod_rollouts_degraded_total',
    help: 'Rollouts that succeeded, then degraded within the bake window (--bake-seconds), by workload kind.',
    labelNames: ['kind'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'hermod_rollout_duration_seconds',
    help: 'Duration of rollouts from start to verdict, by outcome and workload kind.',
    labelNames: ['outcome', 'kind'],
    buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 3600],
    registers: [registry],
  });
  const inProgress = new Gauge({
    name: 'hermod_rollouts_in_progress',
    help: 'Rollouts started and not yet ended, by workload kind.',
    labelNames: ['kind'],
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
  new Gauge({
    name: 'hermod_build_info',
    help: 'Always 1; the labels say which Hermod and which Node.js run.',
    labelNames: ['version', 'nodejs'],
    registers: [registry],
  }).set({ version: VERSION, nodejs: process.version }, 1);
  let health: HealthSources | null = null;
  healthMetrics(registry, () => health);
  return {
    registry,
    delivery: deliveryMetrics(registry, loop),
    watchCaches(read) {
      readCaches = read;
    },
    health(sources) {
      health = sources;
    },
    rolloutStarted(kind: WorkloadKind = 'Deployment') {
      // The original's three counters mean Deployments, as they always did.
      if (kind === 'Deployment') processed.inc();
      inProgress.inc({ kind });
      loop.work('rollouts', ++rolloutsInProgress);
    },
    rolloutEnded(phase: RolloutPhase, durationSeconds: number, kind: WorkloadKind = 'Deployment') {
      inProgress.dec({ kind });
      loop.work('rollouts', --rolloutsInProgress);
      ended.inc({ phase, kind });
      if (kind === 'Deployment' && phase === 'succeeded') success.inc();
      if (kind === 'Deployment' && phase === 'failed') failed.inc();
      if (phase === 'succeeded' || phase === 'failed') duration.observe({ outcome: phase, kind }, durationSeconds);
    },
    rolloutDegraded(kind: WorkloadKind = 'Deployment') {
      degraded.inc({ kind });
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

function deliveryMetrics(registry: Registry, loop: Pick<LoopDelay, 'work'>): DeliveryMetrics {
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
    queueDepth: (channel, depth) => {
      queueDepth.set({ channel }, depth);
      loop.work(`slack:${channel}`, depth);
    },
    deliverySeconds: (seconds) => latency.observe(seconds),
    permanentFailure: (error) => permanent.inc({ error }),
    dropped: (reason, count) => dropped.inc({ reason }, count),
    possibleDuplicate: () => duplicates.inc(),
  };
}

/** Watch, Slack and state-store health, read at scrape time from whatever `read` returns. */
function healthMetrics(registry: Registry, read: () => HealthSources | null): void {
  const now = () => (read()?.now ?? Date.now)();
  // Counters kept by the reflectors themselves: exported as they are at scrape time.
  const fromWatches = (pick: (s: ReflectorStats) => number) =>
    function (this: Counter) {
      const sources = read();
      if (sources === null) return;
      this.reset();
      for (const [kind, stats] of Object.entries(sources.watches())) this.inc({ kind }, pick(stats));
    };
  new Counter({
    name: 'hermod_watch_errors_total',
    help: 'Failed LIST or WATCH requests, retried with backoff, by kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect: fromWatches((s) => s.errors),
  });
  new Counter({
    name: 'hermod_watch_restarts_total',
    help: 'Watches restarted by the idle watchdog, or relisted after 410 Gone, by kind and reason (idle, expired).',
    labelNames: ['kind', 'reason'],
    registers: [registry],
    collect() {
      const sources = read();
      if (sources === null) return;
      this.reset();
      for (const [kind, stats] of Object.entries(sources.watches())) {
        this.inc({ kind, reason: 'idle' }, stats.idleRestarts);
        this.inc({ kind, reason: 'expired' }, stats.expired);
      }
    },
  });
  new Gauge({
    name: 'hermod_watches_open',
    help: 'Watch streams open now, by kind (namespaces, statefulsets, daemonsets: one cluster-wide; deployments: one per tracked namespace; the rollout details: one per tracked namespace whose details are watched).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const sources = read();
      if (sources === null) return;
      for (const [kind, stats] of Object.entries(sources.watches())) this.set({ kind }, stats.openWatches);
    },
  });
  new Gauge({
    name: 'hermod_watch_seconds_since_activity',
    help: 'Seconds since the watch of a kind last made progress (a LIST, a WATCH opened, an event or a bookmark). /livez fails above 900.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const sources = read();
      if (sources === null) return;
      for (const [kind, stats] of Object.entries(sources.watches())) {
        if (stats.lastActivityMs !== null) this.set({ kind }, Math.max(0, (now() - stats.lastActivityMs) / 1000));
      }
    },
  });
  new Gauge({
    name: 'hermod_slack_seconds_since_success',
    help: 'Seconds since Slack last answered a call with ok (absent before the first success).',
    registers: [registry],
    collect() {
      const seconds = read()?.slack.secondsSinceSuccess();
      if (seconds !== null && seconds !== undefined) this.set(seconds);
    },
  });
  new Gauge({
    name: 'hermod_slack_token_rejected',
    help: '1 while Slack rejects the token (invalid_auth, token_revoked, ...): nothing can be posted. /readyz fails meanwhile.',
    registers: [registry],
    collect() {
      this.set(read()?.slack.tokenRejected != null ? 1 : 0);
    },
  });
  new Gauge({
    name: 'hermod_state_last_save_timestamp_seconds',
    help: 'When the delivery state ConfigMap was last saved (Unix time; absent before the first save or when not persisted).',
    registers: [registry],
    collect() {
      const at = read()?.state?.lastSaveMs;
      if (at !== null && at !== undefined) this.set(at / 1000);
    },
  });
  new Gauge({
    name: 'hermod_state_save_failing',
    help: '1 while the latest save of the delivery state ConfigMap failed (RBAC, API server).',
    registers: [registry],
    collect() {
      this.set(read()?.state?.failing === true ? 1 : 0);
    },
  });
  new Counter({
    name: 'hermod_state_save_failures_total',
    help: 'Failed saves of the delivery state ConfigMap.',
    registers: [registry],
    collect() {
      const state = read()?.state;
      if (state === null || state === undefined) return;
      this.reset();
      this.inc(state.failures);
    },
  });
}
