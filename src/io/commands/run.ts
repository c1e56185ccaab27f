/**
 * `hermod run`: wiring only. Configuration in, then: logger, Sentry, metrics, Slack delivery
 * under leader election (src/actors/leaderDelivery.ts, the Lease and the fenced state store),
 * the supervisor and its Deployment actors, the ops HTTP server, the Kubernetes watches,
 * and signal handling. Nothing here decides anything about rollouts.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { createDelivery, type SlackApi } from '../../actors/delivery/index.js';
import { createElection, type Election } from '../../actors/election.js';
import { createLeaderDelivery, type LeaderDelivery } from '../../actors/leaderDelivery.js';
import { observationTee } from '../../actors/observations.js';
import { Supervisor } from '../../actors/supervisor.js';
import { renderRollout } from '../../machines/message.js';
import { annotationNames, redacted, type Config } from '../config.js';
import { reportPermanentFailure } from '../deliveryFailures.js';
import { recordRefusedMention, reportRefusedMention } from '../refusedMentions.js';
import { dryRunSlackApi } from '../dryRun.js';
import { EXIT } from './exitCodes.js';
import { liveness, readiness, recordingOutcomes, SlackHealth, StateHealth } from '../health.js';
import { startOpsServer, type OpsServer } from '../http.js';
import { startInspector, type InspectorHandle } from '../inspect.js';
import { namespaceEventRecorder } from '../kube/events.js';
import { KubeConfigError } from '../kube/errors.js';
import { KUBECONFIG_ADVICE, loadKubeConfig } from '../kube/kubeconfig.js';
import { createLeaseApi, leaderElectionTiming, leaseIdentity } from '../kube/lease.js';
import { createPodLogReader } from '../kube/podLogs.js';
import { closeKubeConnections } from '../kube/pooledKubeConfig.js';
import { compileRedactions, CRASH_LOG_BYTES, DEFAULT_LOG_REDACTIONS } from '../../machines/crashLog.js';
import { createStateStore, stateNamespace, type StateStore } from '../kube/stateStore.js';
import { createStateWriter } from '../kube/stateWriter.js';
import { startWatcher, type Watcher } from '../kube/watcher.js';
import type { Logger as PinoLogger } from 'pino';
import { createLogger } from '../logger.js';
import { createMetrics, type HermodMetrics } from '../metrics.js';
import { startSentry, type ErrorReporter } from '../sentry.js';
import { createSlackApi, createSlackClient } from '../slack.js';
import { VERSION } from '../version.js';

/** Replace parts of the wiring (tests, the demo). Everything else comes from the configuration. */
export interface HermodOverrides {
  logger?: PinoLogger;
  kubeConfig?: KubeConfig;
  slack?: SlackApi;
  /** Bind the ops server to this host (default all interfaces, as in a Pod). */
  host?: string;
  /** The Lease holder identity (default: the Pod's name and a random suffix). */
  identity?: string;
}

export interface Hermod {
  readonly config: Config;
  readonly logger: PinoLogger;
  readonly metrics: HermodMetrics;
  readonly supervisor: Supervisor;
  readonly delivery: LeaderDelivery;
  readonly watcher: Watcher;
  /** Port of /metrics, /livez, /readyz. */
  readonly port: number;
  /** Caches synced and not shutting down. */
  ready(): boolean;
  /**
   * Graceful stop: readiness off, watches stopped, actors stopped, pending Slack messages
   * given up to `drainMs` to go out, the delivery state written, the Lease released (a
   * follower takes over within a retry period), Sentry flushed, the HTTP server and the
   * connections to the API server closed.
   */
  stop(options?: { drainMs?: number }): Promise<{ drained: boolean }>;
}

/** How long a leader drains on SIGTERM before it hands the rest over (see stop()). */
const HANDOVER_DRAIN_MS = 1_000;

/** Starts Hermod and returns once its HTTP server listens; the watches sync in the background. */
export async function startHermod(config: Config, overrides: HermodOverrides = {}): Promise<Hermod> {
  const logger = overrides.logger ?? createLogger(config.level, undefined, config.logFormat);
  logger.info({ version: VERSION, settings: redacted(config) }, 'hermod starting');
  const secrets = [config.slackToken, config.sentryDsn].filter((s): s is string => s !== null);
  const reporter: ErrorReporter = startSentry({ dsn: config.sentryDsn, release: VERSION, clusterName: config.clusterName, secrets });
  const metrics = createMetrics();
  const kubeConfig = overrides.kubeConfig ?? loadKubeConfig(config.kubeconfig ?? undefined);
  const events = namespaceEventRecorder(kubeConfig, { logger });
  const inspector: InspectorHandle | null = config.inspect === null ? null : await startInspector(config.inspect);

  const slackHealth = new SlackHealth(logger.child({ component: 'slack' }));
  const slack = recordingOutcomes(overrides.slack ?? (config.dryRun ? dryRunSlackApi(logger) : slackApiFor(config, logger)), (outcome) =>
    slackHealth.record(outcome),
  );
  // A rejected token stops every post, so no call would repeat the error line: a timer does.
  const reminder = setInterval(() => slackHealth.remind(), 60_000);
  reminder.unref();
  const renderOptions = {
    cluster: config.clusterName,
    gitAnnotationWarning: config.gitAnnotationWarning,
    annotationNames: annotationNames(config),
    mode: config.messageMode,
  };
  const stateNs = stateNamespace(config.stateNamespace);
  const timing = leaderElectionTiming(config, stateNs);
  const stateLogger = logger.child({ component: 'state' });
  const store: StateStore | null = stateNs === null ? null : createStateStore({ kubeConfig, namespace: stateNs, logger: stateLogger });
  const stateHealth = store === null ? null : new StateHealth();
  if (store === null) logger.info({}, 'delivery state is not persisted: set --state-namespace');
  if (stateNs !== null && timing === null) logger.warn({}, 'leader election is off (--leader-elect=false): run ONE Hermod only, or both post every rollout');

  let election: Election | null = null;
  const delivery = createLeaderDelivery({
    slack,
    store,
    makeDelivery: (gatedSlack, snapshot) =>
      createDelivery({
        slack: gatedSlack,
        ...(snapshot !== undefined ? { snapshot } : {}),
        render: (view) => renderRollout(view, renderOptions),
        mode: config.messageMode,
        releaseWindowMs: config.groupWindowSeconds * 1000,
        cluster: config.clusterName,
        logger: logger.child({ component: 'delivery' }),
        metrics: metrics.delivery,
        onPermanentFailure: (failure) => reportPermanentFailure(failure, { reporter, events }),
        onMessageRejected: (rejection) => reporter.report(new Error(`Slack rejected a message: ${rejection.error}`), { ...rejection }),
        ...(inspector !== null ? { inspect: inspector.inspect } : {}),
      }),
    makeWriter: (compose, resourceVersion) =>
      createStateWriter({
        store: store as StateStore,
        snapshot: compose,
        resourceVersion,
        logger: stateLogger,
        onFenced: (reason) => election?.fence(reason),
        onError: (err) => reporter.report(err as Error, { namespace: stateNs, configMap: store?.name }),
        onAttempt: (outcome) => (outcome === 'written' ? stateHealth?.saved() : stateHealth?.failed()),
      }),
    isLeader: () => election === null || election.isLeader(),
    observations: () => tee.latest(),
    whenSynced: () => watcher.whenSynced(),
    holdDetails: (uids) => watcher.holdDetails(uids),
    catchUpMs: config.catchUpSeconds * 1000,
    logger: logger.child({ component: 'leadership' }),
    onPossibleDuplicate: () => metrics.delivery.possibleDuplicate(),
    // A restart inside a success's bake window (ADR 0011); `supervisor` exists by the time a term leads.
    onKeptBakes: (bakes) => supervisor.resumeBakes(bakes),
    onError: (err, context) => reporter.report(err as Error, context),
  });

  const supervisor = new Supervisor({
    failingGraceMs: config.failingGraceSeconds * 1000,
    bakeMs: config.bakeSeconds * 1000,
    onNotification: (notification) => delivery.notify(notification),
    metrics,
    logger: logger.child({ component: 'supervisor' }),
    reportError: (error, context) => reporter.report(error, context),
    ...(config.logLines > 0
      ? {
          crashLogs: {
            read: createPodLogReader(kubeConfig, { tailLines: config.logLines, limitBytes: CRASH_LOG_BYTES }),
            lines: config.logLines,
            redactions: compileRedactions([...DEFAULT_LOG_REDACTIONS, ...config.logRedact]),
            logger: logger.child({ component: 'crash-log' }),
          },
        }
      : {}),
    ...(inspector !== null ? { inspect: inspector.inspect } : {}),
  }).start();
  const tee = observationTee(supervisor);

  let stopping = false;
  const readyVerdict = () => readiness({ synced: watcher.ready() && supervisor.ready, stopping, tokenRejected: slackHealth.tokenRejected });
  const ready = () => readyVerdict().ok;
  const live = () => liveness(lastActivity(watcher), Date.now());
  let ops: OpsServer;
  try {
    ops = await startOpsServer({ port: config.metricsPort, host: overrides.host, registry: metrics.registry, ready: readyVerdict, live });
  } catch (err) {
    clearInterval(reminder);
    supervisor.stop();
    delivery.stop();
    throw err;
  }
  const watcher: Watcher = startWatcher({
    kubeConfig,
    sink: tee,
    annotations: annotationNames(config),
    progressDeadlineSeconds: config.progressDeadlineSeconds,
    // A namespace's rollout details outlast its last rollout by a bake and the failing grace (a
    // bake resumed at a takeover too), plus a minute for a quick next rollout.
    detailLingerMs: (config.bakeSeconds + config.failingGraceSeconds + 60) * 1000,
    logger: logger.child({ component: 'watch' }),
    mentions: {
      policy: { allowBroadcast: config.allowBroadcastMentions },
      onRefused: (refused) => reportRefusedMention(refused, { logger, events, isLeader: () => election === null || election.isLeader() }),
    },
  });
  metrics.watchCaches(() => watcher.stats().objects);
  metrics.health({ watches: () => watcher.stats().reflectors, slack: slackHealth, state: stateHealth });
  watcher.whenSynced().then(
    () => logger.info({ objects: watcher.stats().objects, deployments: supervisor.deploymentCount }, 'caches synced: watching'),
    () => {},
  );
  logger.info({ port: ops.port }, 'serving /metrics, /livez and /readyz');

  metrics.leader(false);
  if (timing === null || stateNs === null) {
    metrics.leader(true);
    void delivery.lead();
  } else {
    const lease = createLeaseApi({ kubeConfig, namespace: stateNs });
    election = createElection({
      lease,
      identity: overrides.identity ?? leaseIdentity(),
      timing,
      logger: logger.child({ component: 'election' }),
      onStartedLeading: () => {
        metrics.leader(true);
        void delivery.lead();
        // Refusals seen while following were only logged: the leader records their Events.
        for (const refused of watcher.refusedMentions()) recordRefusedMention(refused, events);
      },
      onStoppedLeading: () => {
        metrics.leader(false);
        delivery.follow();
      },
    });
  }

  let stopped: Promise<{ drained: boolean }> | null = null;
  return {
    config,
    logger,
    metrics,
    supervisor,
    delivery,
    watcher,
    port: ops.port,
    ready,
    stop(options = {}) {
      stopped ??= (async () => {
        stopping = true;
        try {
          await watcher.stop();
          supervisor.stop();
          const drainMs = options.drainMs ?? 20_000;
          // With an election the next leader has the same work, warm: a short drain, then the
          // calls in flight answered and recorded, the state written and the Lease released, so
          // a rolling update hands over within seconds. Alone, everything decided is drained.
          const result = await delivery.drain(election === null ? drainMs : Math.min(drainMs, HANDOVER_DRAIN_MS));
          if (!result.drained) logger.warn({ left: result.left }, election === null ? 'stopping with Slack messages still pending' : 'handing pending Slack messages over to the next leader');
          // An unreachable API server must not hold up the shutdown.
          const written = election === null ? within(delivery.flush(), 3_000) : within(delivery.handOver(3_000), 6_000);
          if ((await written) !== true) logger.warn({}, 'stopping without the last delivery state written');
          if (election !== null) await within(election.release(), 3_000);
          delivery.stop();
          metrics.leader(false);
          logger.info({}, 'hermod stopped');
          return { drained: result.drained };
        } finally {
          clearInterval(reminder);
          inspector?.stop();
          await reporter.close(2_000);
          await ops.close();
          // Last: the Lease release and the state write above use these connections.
          await closeKubeConnections(kubeConfig);
        }
      })();
      return stopped;
    },
  };
}

/** When each watch last made progress, for /livez. */
function lastActivity(watcher: Watcher): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [kind, stats] of Object.entries(watcher.stats().reflectors)) out[kind] = stats.lastActivityMs;
  return out;
}

/** The promise's value, or 'timeout' after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function slackApiFor(config: Config, logger: PinoLogger): SlackApi {
  if (config.slackToken === null) throw new Error('SLACK_TOKEN is not set');
  return createSlackApi(createSlackClient({ token: config.slackToken, slackApiUrl: config.slackApiUrl, logger: logger.child({ component: 'slack' }) }));
}

/** The CLI command: start, then wait for SIGTERM/SIGINT and stop gracefully. */
export async function run(config: Config): Promise<number> {
  if (config.slackToken === null && !config.dryRun) {
    console.error(
      [
        'hermod: SLACK_TOKEN is not set.',
        '  Create a Slack app from slack-app-manifest.yaml, install it to your workspace, and export its bot token:',
        '    export SLACK_TOKEN=xoxb-...',
        '  Or try Hermod without Slack: --dry-run logs the messages it would send,',
        '  and `npm start` without SLACK_TOKEN runs the embedded demo (local cluster and local Slack).',
      ].join('\n'),
    );
    return EXIT.usage;
  }
  let hermod: Hermod;
  try {
    hermod = await startHermod(config);
  } catch (err) {
    if (err instanceof KubeConfigError) {
      console.error(`hermod: ${err.message}\n${KUBECONFIG_ADVICE}`);
      return EXIT.usage;
    }
    console.error(`hermod: cannot start: ${(err as Error).message}`);
    return EXIT.failure;
  }
  return new Promise<number>((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      hermod.logger.info({ signal }, 'shutting down');
      // Stay inside the 30 s termination grace period: 20 s of draining, then the rest.
      hermod.stop({ drainMs: 20_000 }).then(
        () => resolve(EXIT.ok),
        (err: unknown) => {
          hermod.logger.error({ err }, 'error while stopping');
          resolve(EXIT.failure);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
}
