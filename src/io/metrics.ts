/**
 * Hermod's Prometheus metrics. The three counters keep the original's names and meaning
 * (hermod_deployment_processed_total counts rollouts started); the rest are new.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RolloutMetrics } from '../actors/supervisor.js';
import type { RolloutPhase } from '../machines/notification.js';

export interface HermodMetrics extends RolloutMetrics {
  registry: Registry;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): HermodMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
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
  return {
    registry,
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
  };
}
