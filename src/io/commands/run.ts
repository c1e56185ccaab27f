/**
 * `hermod run`: wiring only. Configuration in, then: logger, Sentry, metrics, Slack delivery,
 * the supervisor and its Deployment actors, the ops HTTP server, the Kubernetes watches,
 * and signal handling. Nothing here decides anything about rollouts.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { createDelivery, type Delivery, type SlackApi } from '../../actors/delivery/index.js';
import { Supervisor } from '../../actors/supervisor.js';
import { renderRollout } from '../../machines/message.js';
import { annotationNames, redacted, type Config } from '../config.js';
import { reportPermanentFailure } from '../deliveryFailures.js';
import { dryRunSlackApi } from '../dryRun.js';
import { EXIT } from './exitCodes.js';
import { startOpsServer, type OpsServer } from '../http.js';
import { startInspector, type InspectorHandle } from '../inspect.js';
import { namespaceEventRecorder } from '../kube/events.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { createStateStore, stateNamespace, type StateStore } from '../kube/stateStore.js';
import { startWatcher, type Watcher } from '../kube/watcher.js';
import type { Logger as PinoLogger } from 'pino';
import type { Logger } from '../../actors/logger.js';
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
  /** How often changed delivery state is saved (default 5 s). */
  stateSaveIntervalMs?: number;
}

export interface Hermod {
  readonly config: Config;
  readonly logger: PinoLogger;
  readonly metrics: HermodMetrics;
  readonly supervisor: Supervisor;
  readonly delivery: Delivery;
  readonly watcher: Watcher;
  /** Port of /metrics, /livez, /readyz. */
  readonly port: number;
  /** Caches synced and not shutting down. */
  ready(): boolean;
  /**
   * Graceful stop: readiness off, watches stopped, actors stopped, pending Slack messages
   * given up to `drainMs` to go out, Sentry flushed, the HTTP server closed.
   */
  stop(options?: { drainMs?: number }): Promise<{ drained: boolean }>;
}

/** Starts Hermod and returns once its HTTP server listens; the watches sync in the background. */
export async function startHermod(config: Config, overrides: HermodOverrides = {}): Promise<Hermod> {
  const logger = overrides.logger ?? createLogger(config.level);
  logger.info({ version: VERSION, config: redacted(config) }, 'hermod starting');
  const secrets = [config.slackToken, config.sentryDsn].filter((s): s is string => s !== null);
  const reporter: ErrorReporter = startSentry({ dsn: config.sentryDsn, release: VERSION, clusterName: config.clusterName, secrets });
  const metrics = createMetrics();
  const kubeConfig = overrides.kubeConfig ?? loadKubeConfig(config.kubeconfig ?? undefined);
  const events = namespaceEventRecorder(kubeConfig, { logger });
  const inspector: InspectorHandle | null = config.inspect === null ? null : await startInspector(config.inspect);

  const slack = overrides.slack ?? (config.dryRun ? dryRunSlackApi(logger) : slackApiFor(config, logger));
  const renderOptions = {
    cluster: config.clusterName,
    gitAnnotationWarning: config.gitAnnotationWarning,
    annotationNames: annotationNames(config),
    mode: config.messageMode,
  };
  const stateNs = stateNamespace(config.stateNamespace);
  const store: StateStore | null =
    stateNs === null ? null : createStateStore({ kubeConfig, namespace: stateNs, logger: logger.child({ component: 'state' }) });
  if (store === null) logger.info({}, 'delivery state is not persisted: set --state-namespace');
  const snapshot = store === null ? undefined : await loadState(store, logger, reporter);
  const delivery = createDelivery({
    slack,
    ...(snapshot !== undefined ? { snapshot } : {}),
    render: (view) => renderRollout(view, renderOptions),
    mode: config.messageMode,
    logger: logger.child({ component: 'delivery' }),
    metrics: metrics.delivery,
    onPermanentFailure: (failure) => reportPermanentFailure(failure, { reporter, events }),
    onMessageRejected: (rejection) => reporter.report(new Error(`Slack rejected a message: ${rejection.error}`), { ...rejection }),
    ...(inspector !== null ? { inspect: inspector.inspect } : {}),
  });

  const supervisor = new Supervisor({
    failingGraceMs: config.failingGraceSeconds * 1000,
    onNotification: (notification) => delivery.notify(notification),
    metrics,
    logger: logger.child({ component: 'supervisor' }),
    reportError: (error, context) => reporter.report(error, context),
    ...(inspector !== null ? { inspect: inspector.inspect } : {}),
  }).start();

  const saver = store === null ? null : startStateSaver(store, delivery, { logger, reporter, intervalMs: overrides.stateSaveIntervalMs ?? 5_000 });

  let stopping = false;
  const ready = () => !stopping && watcher.ready() && supervisor.ready;
  let ops: OpsServer;
  try {
    ops = await startOpsServer({ port: config.metricsPort, host: overrides.host, registry: metrics.registry, ready });
  } catch (err) {
    saver?.stop();
    supervisor.stop();
    delivery.stop();
    throw err;
  }
  const watcher: Watcher = startWatcher({
    kubeConfig,
    sink: supervisor,
    annotations: annotationNames(config),
    logger: logger.child({ component: 'watch' }),
  });
  metrics.watchCaches(() => watcher.stats().objects);
  watcher.whenSynced().then(
    () => logger.info({ objects: watcher.stats().objects, deployments: supervisor.deploymentCount }, 'caches synced: watching'),
    () => {},
  );
  logger.info({ port: ops.port }, 'serving /metrics, /livez and /readyz');

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
          const result = await delivery.drain(options.drainMs ?? 20_000);
          if (!result.drained) logger.warn({ left: result.left }, 'stopping with Slack messages still pending');
          saver?.stop();
          // A last save, but an unreachable API server must not hold up the shutdown.
          if (saver !== null) await within(saver.flush(), 3_000);
          delivery.stop();
          logger.info({}, 'hermod stopped');
          return { drained: result.drained };
        } finally {
          inspector?.stop();
          await reporter.close(2_000);
          await ops.close();
        }
      })();
      return stopped;
    },
  };
}

/** The saved delivery state, or none: a store that cannot be read must not stop Hermod. */
async function loadState(store: StateStore, logger: Logger, reporter: ErrorReporter) {
  try {
    const loaded = await within(store.load(), 10_000);
    if (loaded === 'timeout') throw new Error('reading the saved delivery state timed out after 10 s');
    return loaded;
  } catch (err) {
    logger.error({ err, namespace: store.namespace, configMap: store.name }, 'cannot read saved delivery state: starting afresh');
    reporter.report(err as Error, { namespace: store.namespace, configMap: store.name });
    return undefined;
  }
}

/**
 * Saves the delivery snapshot when it changed (a cheap JSON comparison), every `intervalMs`.
 * A failed save is logged and reported, and retried on the next tick.
 */
function startStateSaver(
  store: StateStore,
  delivery: Delivery,
  deps: { logger: Logger; reporter: ErrorReporter; intervalMs: number },
): { stop(): void; flush(): Promise<void> } {
  let lastSaved: string | null = null;
  let saving: Promise<void> = Promise.resolve();
  let failing = false;
  const save = (): Promise<void> => {
    saving = saving.then(async () => {
      const snapshot = delivery.snapshot();
      const json = JSON.stringify(snapshot);
      if (json === lastSaved) return;
      try {
        await store.save(snapshot);
        lastSaved = json;
        if (failing) deps.logger.info({ namespace: store.namespace }, 'delivery state saved again');
        failing = false;
      } catch (err) {
        // Report the first failure of a streak only: every tick retries.
        if (!failing) deps.reporter.report(err as Error, { namespace: store.namespace, configMap: store.name });
        failing = true;
        deps.logger.error({ err, namespace: store.namespace, configMap: store.name }, 'cannot save delivery state: retrying');
      }
    });
    return saving;
  };
  const timer = setInterval(() => void save(), deps.intervalMs);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    flush: save,
  };
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
