/**
 * Hermod's view of the cluster: five reflectors (Namespaces, Deployments, ReplicaSets, Pods,
 * Warning Events) feeding a RolloutIndex, turned into RolloutObservations for a WatchSink.
 *
 * - Memory follows the tracked namespaces (those with a non-blank `hermod.uswitch.com/slack`
 *   annotation): workloads elsewhere are dropped at the door, and only trimmed facts are kept.
 * - When a namespace becomes tracked the namespaced reflectors relist, so its existing
 *   objects appear; when it stops being tracked its objects are dropped.
 * - Handlers only translate and enqueue: no API call per event, observations are assembled
 *   from the caches, and bursts for one Deployment are coalesced within one tick.
 * - Nothing reaches the sink before every reflector has listed once; then every tracked
 *   Deployment is observed and `sink.synced()` is called, once.
 * - Read-only: only LIST and WATCH requests are ever sent.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../../actors/logger.js';
import type { WatchSink } from '../../actors/watchSink.js';
import { DEFAULT_ANNOTATIONS, type AnnotationNames } from '../../machines/annotations.js';
import type { EventFacts } from '../../machines/facts.js';
import { DEFAULT_WARNING_MAX_AGE_MS, DEFAULT_WARNINGS_PER_OBJECT, RolloutIndex } from './caches.js';
import { KubeListWatchClient, type ListWatchClient } from './client.js';
import { NamespaceTracker } from './namespaceTracker.js';
import type { ReflectorControl, ReflectorStats, ReflectorTuning } from './reflector.js';
import { createReflectors, WORKLOAD_KINDS, type WatchedKind } from './reflectors.js';
import { SinkFeed } from './sinkFeed.js';

export interface WatcherOptions {
  kubeConfig: KubeConfig;
  sink: WatchSink;
  /** Names of the git annotations (flags `--commit-sha-annotation`, `--repo-url-annotation`). */
  annotations?: AnnotationNames;
  logger?: Logger;
  /** Clock (ms since the epoch) stamped on observations and used to age warnings. */
  now?: () => number;
  /** The API client; defaults to one over `kubeConfig`. */
  client?: ListWatchClient;
  /** Tuning shared by the five reflectors. */
  reflector?: ReflectorTuning;
  /** Warning events: how many per Pod/ReplicaSet (default 3) and how old at most (default 1 h). */
  warnings?: { perObject?: number; maxAgeMs?: number };
}

/** Statistics for metrics. */
export interface WatcherStats {
  synced: boolean;
  /** Cached objects per kind (namespaces: all; the others: tracked namespaces only). */
  objects: Record<WatchedKind, number>;
  /** Per-reflector counters (lists, watches, 410s, watchdog restarts, errors). */
  reflectors: Record<WatchedKind, ReflectorStats>;
  /** Observations handed to the sink so far. */
  observations: number;
}

/** A running watcher. */
export interface Watcher {
  /** True once every reflector has listed once and `sink.synced()` was called. */
  ready(): boolean;
  /** Resolves when ready; rejects if the watcher is stopped first. */
  whenSynced(): Promise<void>;
  /** Stops every watch; nothing reaches the sink afterwards. */
  stop(): Promise<void>;
  stats(): WatcherStats;
}

// How often Warning events older than the age limit are pruned from the cache.
const EVENT_SWEEP_MS = 5 * 60 * 1000;

/**
 * Starts watching in the background and returns at once. Failures are logged and retried
 * with backoff forever; `whenSynced()` tells when the world has been seen once.
 *
 * The jobs live apart: ./reflectors.ts (what is watched and kept), ./namespaceTracker.ts
 * (which namespaces count), ./sinkFeed.ts (coalescing and the sink), ./caches.ts (the
 * index observations are assembled from). This function wires them and owns the lifecycle.
 */
export function startWatcher(options: WatcherOptions): Watcher {
  const log = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const names = options.annotations ?? DEFAULT_ANNOTATIONS;
  const maxAgeMs = options.warnings?.maxAgeMs ?? DEFAULT_WARNING_MAX_AGE_MS;
  const index = new RolloutIndex({ perObject: options.warnings?.perObject ?? DEFAULT_WARNINGS_PER_OBJECT, maxAgeMs });
  const feed = new SinkFeed({ sink: options.sink, index, logger: log, now });

  let stopped = false;
  let synced = false;
  let resolveSynced!: () => void;
  let rejectSynced!: (err: Error) => void;
  const syncedPromise = new Promise<void>((resolve, reject) => {
    resolveSynced = resolve;
    rejectSynced = reject;
  });
  syncedPromise.catch(() => {}); // whoever awaits it sees the rejection; nobody else must.

  const namespaces = new NamespaceTracker({
    index,
    feed,
    logger: log,
    startWorkloads: () => {
      for (const kind of WORKLOAD_KINDS) reflectors[kind].start();
    },
    relistWorkloads: () => {
      for (const kind of WORKLOAD_KINDS) reflectors[kind].relist();
    },
    pruneWorkloads: (namespace) => {
      const inNamespace = (f: { namespace: string }): boolean => f.namespace === namespace;
      for (const kind of WORKLOAD_KINDS) reflectors[kind].prune(inNamespace);
    },
  });

  const reflectors = createReflectors({
    client: options.client ?? new KubeListWatchClient(options.kubeConfig),
    logger: log,
    ...(options.reflector !== undefined ? { tuning: options.reflector } : {}),
    annotations: names,
    isTracked: (namespace) => index.isTracked(namespace),
    isRecent: (lastSeen) => lastSeen >= now() - maxAgeMs,
    on: {
      namespace: (e) => namespaces.onEvent(e),
      namespacesListed: () => namespaces.onListed(),
      deployment: (e) => {
        if (e.type === 'delete') {
          index.applyDeployment(e);
          feed.forget(e.key);
          const { namespace, name, uid } = e.old;
          feed.deploymentDeleted({ namespace, name, uid });
          return;
        }
        feed.markDirty(index.applyDeployment(e));
      },
      replicaSet: (e) => feed.markDirty(index.applyReplicaSet(e)),
      pod: (e) => feed.markDirty(index.applyPod(e)),
      event: (e) => feed.markDirty(index.applyEvent(e)),
      workloadListed: checkSynced,
    },
  });
  const all: Record<WatchedKind, ReflectorControl> = reflectors;

  function checkSynced(): void {
    if (synced || stopped) return;
    if (!WORKLOAD_KINDS.every((k) => reflectors[k].hasSynced)) return;
    synced = true;
    const count = feed.goLive();
    log.info({ deployments: count, objects: index.counts() }, 'caches synced; observations are live');
    feed.synced();
    resolveSynced();
  }

  // Events the cluster keeps longer than the age limit would otherwise stay cached until deleted.
  const sweep = setInterval(() => {
    const oldest = now() - maxAgeMs;
    const stale = (ev: EventFacts): boolean => ev.lastSeen < oldest;
    for (const [key, ev] of index.events) if (stale(ev)) index.applyEvent({ type: 'delete', key, old: ev });
    reflectors.events.prune(stale);
  }, EVENT_SWEEP_MS);
  sweep.unref();

  reflectors.namespaces.start();
  log.info({ annotations: names }, 'watching namespaces, deployments, replicasets, pods and warning events');

  return {
    ready: () => synced,
    whenSynced: () => syncedPromise,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(sweep);
      namespaces.stop();
      feed.stop();
      if (!synced) rejectSynced(new Error('watcher stopped before its caches synced'));
      await Promise.all(Object.values(all).map((r) => r.stop()));
    },
    stats() {
      const objects = index.counts();
      const stats = {} as Record<WatchedKind, ReflectorStats>;
      for (const kind of Object.keys(all) as WatchedKind[]) stats[kind] = all[kind].stats();
      return { synced, objects, reflectors: stats, observations: feed.observations };
    },
  };
}
