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
import type { CoreV1Event, KubeConfig, V1Deployment, V1Namespace, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { WatchSink } from '../../actors/watchSink.js';
import type { DeploymentFacts, EventFacts, PodFacts, ReplicaSetFacts } from '../../machines/facts.js';
import { DEFAULT_ANNOTATIONS, type AnnotationNames } from '../../machines/annotations.js';
import {
  DEFAULT_WARNING_MAX_AGE_MS,
  DEFAULT_WARNINGS_PER_OBJECT,
  RolloutIndex,
} from './caches.js';
import { KubeListWatchClient, type ListWatchClient } from './client.js';
import { silentLogger, type Logger } from '../../actors/logger.js';
import { Reflector, type ReflectorControl, type ReflectorEvent, type ReflectorStats, type ReflectorTuning } from './reflector.js';
import {
  controllerUid,
  eventLastSeen,
  trimDeployment,
  trimEvent,
  trimNamespace,
  trimPod,
  trimReplicaSet,
  type NamespaceFacts,
} from './trim.js';

/** The kinds Hermod watches, as named in statistics and logs. */
export type WatchedKind = 'namespaces' | 'deployments' | 'replicasets' | 'pods' | 'events';

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

const NAMESPACED: readonly WatchedKind[] = ['deployments', 'replicasets', 'pods', 'events'];
// How often Warning events older than the age limit are pruned from the cache.
const EVENT_SWEEP_MS = 5 * 60 * 1000;

/**
 * Starts watching in the background and returns at once. Failures are logged and retried
 * with backoff forever; `whenSynced()` tells when the world has been seen once.
 */
export function startWatcher(options: WatcherOptions): Watcher {
  const { sink } = options;
  const log = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const names = options.annotations ?? DEFAULT_ANNOTATIONS;
  const client = options.client ?? new KubeListWatchClient(options.kubeConfig);
  const maxAgeMs = options.warnings?.maxAgeMs ?? DEFAULT_WARNING_MAX_AGE_MS;
  const idx = new RolloutIndex({ perObject: options.warnings?.perObject ?? DEFAULT_WARNINGS_PER_OBJECT, maxAgeMs });

  let stopped = false;
  let synced = false;
  let namespacedStarted = false;
  let observations = 0;
  const dirty = new Set<string>();
  let flushScheduled: NodeJS.Immediate | undefined;
  let relistScheduled: NodeJS.Immediate | undefined;
  let resolveSynced!: () => void;
  let rejectSynced!: (err: Error) => void;
  const syncedPromise = new Promise<void>((resolve, reject) => {
    resolveSynced = resolve;
    rejectSynced = reject;
  });
  syncedPromise.catch(() => {}); // whoever awaits it sees the rejection; nobody else must.

  const common = { client, logger: log, ...options.reflector };
  const tracked = (namespace: string | undefined): boolean => namespace !== undefined && idx.isTracked(namespace);

  // ---- sink side: coalesced per Deployment, flushed within the same tick -------------------

  const markDirty = (uids: readonly string[]): void => {
    if (!synced || stopped || uids.length === 0) return;
    for (const uid of uids) dirty.add(uid);
    flushScheduled ??= setImmediate(flush);
  };

  function flush(): void {
    flushScheduled = undefined;
    if (stopped) return;
    const uids = [...dirty];
    dirty.clear();
    const at = now();
    for (const uid of uids) observe(uid, at);
  }

  function observe(uid: string, at: number): void {
    const obs = idx.observation(uid, at);
    if (!obs) return;
    observations++;
    try {
      sink.observe(obs);
    } catch (err) {
      log.error({ err, deployment: `${obs.deployment.namespace}/${obs.deployment.name}` }, 'sink.observe threw');
    }
  }

  function callSink(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log.error({ err }, `sink.${what} threw`);
    }
  }

  // ---- namespaces ---------------------------------------------------------------------------

  function onNamespace(e: ReflectorEvent<NamespaceFacts>): void {
    const before = e.type === 'add' ? undefined : e.old;
    const after = e.type === 'delete' ? undefined : e.facts;
    if (after) idx.setNamespace(after);
    else if (before) idx.deleteNamespace(before.name);
    const name = (after ?? before)?.name ?? '';
    const was = before?.channel !== undefined;
    const is = after?.channel !== undefined;
    if (!was && is) {
      log.info({ namespace: name, channel: after?.channel }, 'namespace tracked');
      // Its workloads were filtered out so far: list again so they appear.
      if (namespacedStarted) scheduleRelist();
    } else if (was && !is) {
      untrack(name);
    } else if (was && is && (before?.channel !== after?.channel || before?.alert !== after?.alert)) {
      // Target changes apply to the next message: re-observe so the actors learn them now.
      markDirty(idx.deploymentUidsIn(name));
    }
  }

  function untrack(namespace: string): void {
    log.info({ namespace }, 'namespace no longer tracked; dropping its cached objects');
    for (const uid of idx.deploymentUidsIn(namespace)) dirty.delete(uid);
    idx.dropNamespaceObjects(namespace);
    const inNamespace = (f: { namespace: string }): boolean => f.namespace === namespace;
    deployments.prune(inNamespace);
    replicaSets.prune(inNamespace);
    pods.prune(inNamespace);
    events.prune(inNamespace);
    if (synced && !stopped) callSink('namespaceUntracked', () => sink.namespaceUntracked(namespace, now()));
  }

  function scheduleRelist(): void {
    // One relist per burst of namespaces becoming tracked.
    relistScheduled ??= setImmediate(() => {
      relistScheduled = undefined;
      if (stopped) return;
      for (const r of [deployments, replicaSets, pods, events]) r.relist();
    });
  }

  // ---- reflectors ---------------------------------------------------------------------------

  const namespaces = new Reflector<V1Namespace, NamespaceFacts>({
    ...common,
    name: 'namespaces',
    path: '/api/v1/namespaces',
    transform: trimNamespace,
    onEvent: onNamespace,
    onListed: () => startNamespaced(),
  });

  const deployments = new Reflector<V1Deployment, DeploymentFacts>({
    ...common,
    name: 'deployments',
    path: '/apis/apps/v1/deployments',
    filter: (d) => tracked(d.metadata?.namespace),
    transform: (d) => trimDeployment(d, names),
    onEvent: (e) => {
      if (e.type === 'delete') {
        idx.applyDeployment(e);
        dirty.delete(e.key);
        const { namespace, name, uid } = e.old;
        if (synced && !stopped) callSink('deploymentDeleted', () => sink.deploymentDeleted({ namespace, name, uid }, now()));
        return;
      }
      markDirty(idx.applyDeployment(e));
    },
    onListed: checkSynced,
  });

  const replicaSets = new Reflector<V1ReplicaSet, ReplicaSetFacts>({
    ...common,
    name: 'replicasets',
    path: '/apis/apps/v1/replicasets',
    // Only ReplicaSets a Deployment controls can be a rollout's new ReplicaSet.
    filter: (rs) => tracked(rs.metadata?.namespace) && controllerUid(rs.metadata, 'Deployment') !== undefined,
    transform: trimReplicaSet,
    onEvent: (e) => markDirty(idx.applyReplicaSet(e)),
    onListed: checkSynced,
  });

  const pods = new Reflector<V1Pod, PodFacts>({
    ...common,
    name: 'pods',
    path: '/api/v1/pods',
    // Only Pods a ReplicaSet controls can belong to a rollout (not Jobs', StatefulSets', bare Pods).
    filter: (p) => tracked(p.metadata?.namespace) && controllerUid(p.metadata, 'ReplicaSet') !== undefined,
    transform: trimPod,
    onEvent: (e) => markDirty(idx.applyPod(e)),
    onListed: checkSynced,
  });

  const events = new Reflector<CoreV1Event, EventFacts>({
    ...common,
    name: 'events',
    path: '/api/v1/events',
    fieldSelector: 'type=Warning',
    filter: (ev) => {
      const kind = ev.involvedObject?.kind;
      if (kind !== 'Pod' && kind !== 'ReplicaSet') return false;
      if (!tracked(ev.metadata?.namespace ?? ev.involvedObject?.namespace)) return false;
      return eventLastSeen(ev) >= now() - maxAgeMs;
    },
    transform: trimEvent,
    onEvent: (e) => markDirty(idx.applyEvent(e)),
    onListed: checkSynced,
  });

  const byKind: Record<WatchedKind, ReflectorControl> = {
    namespaces,
    deployments,
    replicasets: replicaSets,
    pods,
    events,
  };

  function startNamespaced(): void {
    // Workloads are listed once namespaces are known, so the first lists filter correctly.
    if (namespacedStarted || stopped) return;
    namespacedStarted = true;
    for (const kind of NAMESPACED) byKind[kind].start();
  }

  function checkSynced(): void {
    if (synced || stopped) return;
    if (!NAMESPACED.every((k) => byKind[k].hasSynced)) return;
    synced = true;
    const at = now();
    let count = 0;
    for (const uid of idx.deployments.keys()) {
      observe(uid, at);
      count++;
    }
    log.info({ deployments: count, objects: idx.counts() }, 'caches synced; observations are live');
    callSink('synced', () => sink.synced());
    resolveSynced();
  }

  // Events the cluster keeps longer than the age limit would otherwise stay cached until deleted.
  const sweep = setInterval(() => {
    const oldest = now() - maxAgeMs;
    const stale = (ev: EventFacts): boolean => ev.lastSeen < oldest;
    for (const [key, ev] of idx.events) if (stale(ev)) idx.applyEvent({ type: 'delete', key, old: ev });
    events.prune(stale);
  }, EVENT_SWEEP_MS);
  sweep.unref();

  namespaces.start();
  log.info({ annotations: names }, 'watching namespaces, deployments, replicasets, pods and warning events');

  return {
    ready: () => synced,
    whenSynced: () => syncedPromise,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(sweep);
      if (flushScheduled) clearImmediate(flushScheduled);
      if (relistScheduled) clearImmediate(relistScheduled);
      dirty.clear();
      if (!synced) rejectSynced(new Error('watcher stopped before its caches synced'));
      await Promise.all(Object.values(byKind).map((r) => r.stop()));
    },
    stats() {
      const objects = idx.counts();
      const reflectors = {} as Record<WatchedKind, ReflectorStats>;
      for (const kind of Object.keys(byKind) as WatchedKind[]) reflectors[kind] = byKind[kind].stats();
      return { synced, objects, reflectors, observations };
    },
  };
}
