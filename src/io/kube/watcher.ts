/**
 * Hermod's view of the cluster: reflectors of Namespaces (cluster-wide), of the workloads
 * (per tracked namespace) and of their rollouts' details (per tracked namespace, on demand)
 * feeding a RolloutIndex, turned into RolloutObservations for a WatchSink.
 *
 * - Cost follows the tracked namespaces (those with a non-blank `hermod.uswitch.com/slack`
 *   annotation, ADR 0007) and what rolls out there: Namespaces, StatefulSets and DaemonSets
 *   are watched cluster-wide (the sets of tracked namespaces kept), Deployments in tracked
 *   namespaces, ReplicaSets,
 *   ControllerRevisions, Pods and Warning events in a tracked namespace while a rollout there
 *   needs them (./detailDemand.ts), each with its own list+watch; only trimmed facts are kept.
 * - When a namespace becomes tracked its watches start, so its existing objects appear; when
 *   it stops being tracked they stop and its objects are dropped.
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
import type { MentionPolicy } from '../../machines/mentions.js';
import { DEFAULT_WARNING_MAX_AGE_MS, DEFAULT_WARNINGS_PER_OBJECT, NO_BROADCAST, RolloutIndex } from './caches.js';
import { KubeListWatchClient, type ListWatchClient } from './client.js';
import { NamespaceTracker } from './namespaceTracker.js';
import { forbiddenMessage, NamespacedWatches, SETS_NOT_FOLLOWED } from './namespacedWatches.js';
import type { ReflectorEvent } from './factStore.js';
import type { ReflectorStats, ReflectorTuning } from './reflectorOptions.js';
import { MentionAudit, type RefusedMention } from './mentionAudit.js';
import type { SetFacts } from './setIndex.js';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS } from '../../machines/workloadRollout.js';
import { createNamespaceReflector, createSetReflectors, SET_KINDS, type WatchedKind } from './reflectors.js';
import { SinkFeed } from './sinkFeed.js';
import { DetailDemand } from './detailDemand.js';

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
  /** Tuning shared by every reflector. */
  reflector?: ReflectorTuning;
  /** Warning events: how many per Pod/ReplicaSet (default 3) and how old at most (default 1 h). */
  warnings?: { perObject?: number; maxAgeMs?: number };
  /**
   * The `hermod.uswitch.com/mention` rule (`--allow-broadcast-mentions`; default IDs only) and
   * who hears about a refused value (the wiring records an Event and logs; default: logged here).
   */
  mentions?: { policy?: MentionPolicy; onRefused?: (refused: RefusedMention) => void };
  /** `--progress-deadline-seconds`: Hermod's deadline for StatefulSets and DaemonSets (default 600). */
  progressDeadlineSeconds?: number;
  /**
   * How long a namespace's rollout details stay watched once nothing needs them (ms; default 2
   * minutes). The wiring makes it outlast a success's bake and the failing grace.
   */
  detailLingerMs?: number;
}

/** Statistics for metrics. */
export interface WatcherStats {
  synced: boolean;
  /** Cached objects per kind (namespaces: all; the others: tracked namespaces only). */
  objects: Record<WatchedKind, number>;
  /** Per-kind counters (lists, watches, 410s, watchdog restarts, errors), summed over namespaces. */
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
  /** The `hermod.uswitch.com/mention` values refused now, on tracked namespaces and their Deployments. */
  refusedMentions(): RefusedMention[];
  /**
   * Holds the rollout details of these workloads' namespaces watched (a takeover's repair and
   * kept bakes read them); resolves, once they are listed and their workloads observed again,
   * with the release. Unknown workloads are skipped.
   */
  holdDetails(uids: Iterable<string>): Promise<() => void>;
}

// How often Warning events older than the age limit are pruned from the cache.
const EVENT_SWEEP_MS = 5 * 60 * 1000;
/** How long rollout details stay watched once nothing needs them, unless told (ms). */
export const DEFAULT_DETAIL_LINGER_MS = 2 * 60 * 1000;
// How often details nothing needs any more are looked for.
const DETAIL_SWEEP_MS = 15 * 1000;

/**
 * Starts watching in the background and returns at once. Failures are logged and retried
 * with backoff forever; `whenSynced()` tells when the world has been seen once.
 *
 * The jobs live apart: ./reflectors.ts (what is watched and kept), ./namespacedWatches.ts (the
 * watches of each tracked namespace), ./namespaceTracker.ts
 * (which namespaces count), ./sinkFeed.ts (coalescing and the sink), ./caches.ts (the
 * index observations are assembled from). This function wires them and owns the lifecycle.
 */
export function startWatcher(options: WatcherOptions): Watcher {
  const log = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const names = options.annotations ?? DEFAULT_ANNOTATIONS;
  const maxAgeMs = options.warnings?.maxAgeMs ?? DEFAULT_WARNING_MAX_AGE_MS;
  const mentionPolicy = options.mentions?.policy ?? NO_BROADCAST;
  const index = new RolloutIndex(
    { perObject: options.warnings?.perObject ?? DEFAULT_WARNINGS_PER_OBJECT, maxAgeMs },
    mentionPolicy,
    options.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
  );
  const audit = new MentionAudit(
    mentionPolicy,
    options.mentions?.onRefused ?? ((r) => log.warn({ kind: r.kind, namespace: r.namespace, name: r.name, reason: r.reason }, 'mention annotation refused')),
  );
  const feed = new SinkFeed({
    sink: options.sink,
    index,
    logger: log,
    now,
    viewComplete: (uid) => {
      const namespace = index.namespaceOf(uid);
      return namespace === undefined || workloads.details(namespace) !== 'listing';
    },
  });

  let stopped = false;
  let synced = false;
  let resolveSynced!: () => void;
  let rejectSynced!: (err: Error) => void;
  const syncedPromise = new Promise<void>((resolve, reject) => {
    resolveSynced = resolve;
    rejectSynced = reject;
  });
  syncedPromise.catch(() => {}); // whoever awaits it sees the rejection; nobody else must.

  const client = options.client ?? new KubeListWatchClient(options.kubeConfig);
  const workloads = new NamespacedWatches({
    client,
    logger: log,
    ...(options.reflector !== undefined ? { tuning: options.reflector } : {}),
    annotations: names,
    isRecent: (lastSeen) => lastSeen >= now() - maxAgeMs,
    on: {
      deployment: (e) => {
        audit.deployment(e);
        demand.workload(e);
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
      controllerRevision: (e) => feed.markDirty(index.sets.applyRevision(e)),
      pod: (e) => feed.markDirty(index.applyPod(e)),
      event: (e) => feed.markDirty(index.applyEvent(e)),
      listed: checkSynced,
      detailsListed: () => {
        feed.release();
        // After the feed's flush (scheduled first): the held workloads have been observed again.
        setImmediate(checkHolds);
      },
    },
  });

  const demand = new DetailDemand({
    lingerMs: options.detailLingerMs ?? DEFAULT_DETAIL_LINGER_MS,
    now,
    start: (namespace) => workloads.startDetails(namespace),
    stop: (namespace) => {
      workloads.stopDetails(namespace);
      index.dropNamespaceDetails(namespace);
    },
  });

  const holdWaiters: Array<{ namespaces: string[]; resolve: () => void }> = [];
  function checkHolds(): void {
    for (let i = holdWaiters.length - 1; i >= 0; i--) {
      const waiter = holdWaiters[i]!;
      if (stopped || waiter.namespaces.every((ns) => workloads.details(ns) !== 'listing')) {
        holdWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  const sets = createSetReflectors({
    client,
    logger: log,
    ...(options.reflector !== undefined ? { tuning: options.reflector } : {}),
    annotations: names,
    isTracked: (namespace) => index.isTracked(namespace),
    on: {
      statefulSet: (e) => setChanged(e),
      daemonSet: (e) => setChanged(e),
      listed: checkSynced,
      forbidden: (kind) => {
        log.error({ kind }, forbiddenMessage(`${kind} cluster-wide (403)`, SETS_NOT_FOLLOWED));
        checkSynced();
      },
    },
  });
  let setsStarted = false;

  function setChanged(e: ReflectorEvent<SetFacts>): void {
    audit.deployment(e);
    demand.workload(e);
    if (e.type === 'delete') {
      index.sets.applySet(e);
      feed.forget(e.key);
      const { namespace, name, uid, kind } = e.old;
      feed.deploymentDeleted({ namespace, name, uid, kind });
      return;
    }
    feed.markDirty(index.sets.applySet(e));
  }

  const namespaces = new NamespaceTracker({
    index,
    feed,
    logger: log,
    watchWorkloads: (namespace) => {
      workloads.start(namespace);
      // Its sets were dropped at the door until now.
      if (setsStarted) for (const kind of SET_KINDS) sets[kind].relist();
    },
    unwatchWorkloads: (namespace) => {
      workloads.stop(namespace);
      // Dropped from the caches quietly: untracking is not deleting.
      for (const kind of SET_KINDS) sets[kind].prune((set) => set.namespace === namespace);
      demand.forgetNamespace(namespace);
      audit.forgetNamespace(namespace);
      // It may have been the last namespace still listing; check once its objects are dropped.
      queueMicrotask(checkSynced);
    },
  });

  const namespaceReflector = createNamespaceReflector({
    client,
    logger: log,
    ...(options.reflector !== undefined ? { tuning: options.reflector } : {}),
    on: {
      namespace: (e) => {
        audit.namespace(e);
        namespaces.onEvent(e);
      },
      listed: () => {
        namespaces.onListed();
        // The set watches keep what tracked namespaces hold: start them once those are known.
        if (!setsStarted && !stopped) {
          setsStarted = true;
          for (const kind of SET_KINDS) sets[kind].start();
        }
        checkSynced();
      },
    },
  });

  function checkSynced(): void {
    if (synced || stopped) return;
    // Every namespace is known, and every tracked namespace's workloads have been listed once.
    if (!namespaces.hasListed || !workloads.allSynced()) return;
    // StatefulSets and DaemonSets were added after the first release: refused by RBAC, they do not hold up the sync.
    if (!SET_KINDS.every((kind) => sets[kind].hasSynced || sets[kind].forbidden)) return;
    synced = true;
    const count = feed.goLive();
    log.info({ deployments: count, trackedNamespaces: workloads.size, objects: index.counts() }, 'caches synced; observations are live');
    feed.synced();
    resolveSynced();
  }

  // Events the cluster keeps longer than the age limit would otherwise stay cached until deleted.
  const sweep = setInterval(() => {
    const oldest = now() - maxAgeMs;
    const stale = (ev: EventFacts): boolean => ev.lastSeen < oldest;
    for (const [key, ev] of index.events) if (stale(ev)) index.applyEvent({ type: 'delete', key, old: ev });
    workloads.pruneEvents(stale);
  }, EVENT_SWEEP_MS);
  sweep.unref();
  const detailSweep = setInterval(() => demand.sweep(), DETAIL_SWEEP_MS);
  detailSweep.unref();

  namespaceReflector.start();
  log.info(
    { annotations: names },
    'watching namespaces, statefulsets and daemonsets cluster-wide; deployments in each tracked namespace; replicasets, controllerrevisions, pods and warning events there while a rollout needs them',
  );

  return {
    ready: () => synced,
    whenSynced: () => syncedPromise,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(sweep);
      clearInterval(detailSweep);
      namespaces.stop();
      feed.stop();
      if (!synced) rejectSynced(new Error('watcher stopped before its caches synced'));
      await Promise.all([namespaceReflector.stop(), workloads.stopAll(), ...SET_KINDS.map((kind) => sets[kind].stop())]);
      checkHolds();
    },
    async holdDetails(uids) {
      const namespaces = new Set<string>();
      for (const uid of uids) {
        const namespace = index.namespaceOf(uid);
        if (namespace !== undefined) namespaces.add(namespace);
      }
      const release = demand.hold(namespaces);
      await new Promise<void>((resolve) => {
        holdWaiters.push({ namespaces: [...namespaces], resolve });
        checkHolds();
      });
      return release;
    },
    refusedMentions: () => audit.refusals(),
    stats() {
      const objects = index.counts();
      const stats: Record<WatchedKind, ReflectorStats> = {
        namespaces: namespaceReflector.stats(),
        ...workloads.stats(),
        statefulsets: sets.statefulsets.stats(),
        daemonsets: sets.daemonsets.stats(),
      };
      return { synced, objects, reflectors: stats, observations: feed.observations };
    },
  };
}
