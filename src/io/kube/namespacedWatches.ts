/**
 * The workload watches of the tracked namespaces: one set of reflectors (Deployments,
 * ReplicaSets, StatefulSets, DaemonSets, ControllerRevisions, Pods, Warning events) per tracked namespace, started when it becomes tracked and
 * stopped when it stops (ADR 0007). What an untracked namespace holds is never listed, watched
 * or parsed, so Hermod's cost follows what it tracks, not the size of the cluster.
 *
 * Events from a set that has been stopped (a chunk already read when the namespace lost its
 * annotation) are ignored: handlers only ever see the current set of a namespace.
 */
import type { Logger } from '../../actors/logger.js';
import type { ReflectorStats } from './reflectorOptions.js';
import { createWorkloadReflectors, WORKLOAD_KINDS, type WorkloadKind, type WorkloadReflectorOptions, type WorkloadReflectors } from './reflectors.js';

/** Kinds a Hermod may lack RBAC for and still follow Deployments (added after the first release). */
const OPTIONAL_KINDS: ReadonlySet<WorkloadKind> = new Set(['statefulsets', 'daemonsets', 'controllerrevisions']);

export type NamespacedWatchOptions = Omit<WorkloadReflectorOptions, 'namespace' | 'on'> & {
  logger: Logger;
  on: WorkloadReflectorOptions['on'];
};

export class NamespacedWatches {
  private readonly sets = new Map<string, WorkloadReflectors>();
  /** Counters of sets already stopped, so statistics do not go backwards. */
  private readonly retired = new Map<WorkloadKind, ReflectorStats>();
  private readonly stopping = new Set<Promise<void>>();

  constructor(private readonly options: NamespacedWatchOptions) {}

  /** Starts watching a namespace's workloads (no-op if already watched). */
  start(namespace: string): void {
    if (this.sets.has(namespace)) return;
    const { on } = this.options;
    // Only the current set of the namespace reaches the handlers.
    const current = <E>(handler: (e: E) => void) => (e: E): void => {
      if (this.sets.get(namespace) === set) handler(e);
    };
    const set: WorkloadReflectors = createWorkloadReflectors({
      ...this.options,
      namespace,
      on: {
        deployment: current(on.deployment),
        replicaSet: current(on.replicaSet),
        statefulSet: current(on.statefulSet),
        daemonSet: current(on.daemonSet),
        controllerRevision: current(on.controllerRevision),
        pod: current(on.pod),
        event: current(on.event),
        listed: () => {
          if (this.sets.get(namespace) === set) on.listed();
        },
        forbidden: (kind) => {
          if (this.sets.get(namespace) !== set) return;
          this.reportForbidden(kind, namespace);
          // An optional kind refused no longer holds up the sync: check it again.
          on.listed();
        },
      },
    });
    this.sets.set(namespace, set);
    for (const kind of WORKLOAD_KINDS) set[kind].start();
  }

  /** Stops watching a namespace's workloads; the caller drops its cached objects. */
  stop(namespace: string): void {
    const set = this.sets.get(namespace);
    if (!set) return;
    this.sets.delete(namespace);
    for (const kind of WORKLOAD_KINDS) this.retire(kind, set[kind].stats());
    const stopped = Promise.all(WORKLOAD_KINDS.map((k) => set[k].stop())).then(() => undefined);
    this.stopping.add(stopped);
    void stopped.finally(() => this.stopping.delete(stopped));
  }

  /**
   * True when every watched namespace's reflectors have listed once, or, for the kinds added
   * after the first release (StatefulSets, DaemonSets, ControllerRevisions), were refused by
   * RBAC: an upgrade applied before its ClusterRole still follows Deployments (and says why the
   * rest is missing) rather than never becoming ready.
   */
  allSynced(): boolean {
    const ready = (set: WorkloadReflectors, k: WorkloadKind) => set[k].hasSynced || (OPTIONAL_KINDS.has(k) && set[k].forbidden);
    for (const set of this.sets.values()) if (!WORKLOAD_KINDS.every((k) => ready(set, k))) return false;
    return true;
  }

  private readonly refusedKinds = new Set<WorkloadKind>();

  /** Once per kind: what RBAC refuses, what it costs, what to do. */
  private reportForbidden(kind: WorkloadKind, namespace: string): void {
    if (this.refusedKinds.has(kind)) return;
    this.refusedKinds.add(kind);
    const cost = OPTIONAL_KINDS.has(kind)
      ? 'StatefulSets and DaemonSets are not followed until then; Deployments are'
      : 'Hermod does not become ready until then';
    this.options.logger.error(
      { kind, namespace },
      `Hermod may not list ${kind} (403 in namespace ${namespace}): apply this version's ClusterRole (example/clusterrole.yaml, or upgrade the chart; \`hermod check\` lists what is missing). ${cost}; it keeps retrying`,
    );
  }

  /** Namespaces watched now. */
  get size(): number {
    return this.sets.size;
  }

  /** Drops cached Warning events the predicate selects, in every namespace. */
  pruneEvents(predicate: Parameters<WorkloadReflectors['events']['prune']>[0]): void {
    for (const set of this.sets.values()) set.events.prune(predicate);
  }

  /**
   * Counters summed over the namespaces, per kind. `lastActivityMs` is the stalest live watch's
   * (a wedged watch in one namespace must show), null while none has made progress yet.
   */
  stats(): Record<WorkloadKind, ReflectorStats> {
    const out = {} as Record<WorkloadKind, ReflectorStats>;
    for (const kind of WORKLOAD_KINDS) {
      const sum = { ...(this.retired.get(kind) ?? zero()), objects: 0, openWatches: 0, lastActivityMs: null as number | null };
      for (const set of this.sets.values()) {
        const stats = set[kind].stats();
        add(sum, stats);
        if (stats.lastActivityMs !== null) sum.lastActivityMs = Math.min(sum.lastActivityMs ?? Infinity, stats.lastActivityMs);
      }
      out[kind] = sum;
    }
    return out;
  }

  /** Stops every watch; resolves when all loops have ended. */
  async stopAll(): Promise<void> {
    for (const namespace of [...this.sets.keys()]) this.stop(namespace);
    await Promise.all([...this.stopping]);
  }

  private retire(kind: WorkloadKind, stats: ReflectorStats): void {
    const sum = this.retired.get(kind) ?? zero();
    add(sum, { ...stats, objects: 0, openWatches: 0 });
    this.retired.set(kind, sum);
  }
}

function zero(): ReflectorStats {
  return { objects: 0, lists: 0, watches: 0, expired: 0, idleRestarts: 0, errors: 0, openWatches: 0, lastActivityMs: null };
}

function add(sum: ReflectorStats, s: ReflectorStats): void {
  sum.objects += s.objects;
  sum.lists += s.lists;
  sum.watches += s.watches;
  sum.expired += s.expired;
  sum.idleRestarts += s.idleRestarts;
  sum.errors += s.errors;
  sum.openWatches += s.openWatches;
}
