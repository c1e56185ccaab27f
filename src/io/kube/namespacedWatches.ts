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
import type { ReflectorStats } from './reflector.js';
import { createWorkloadReflectors, WORKLOAD_KINDS, type WorkloadKind, type WorkloadReflectorOptions, type WorkloadReflectors } from './reflectors.js';

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

  /** True when every watched namespace's reflectors have listed once. */
  allSynced(): boolean {
    for (const set of this.sets.values()) if (!WORKLOAD_KINDS.every((k) => set[k].hasSynced)) return false;
    return true;
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
      const sum = { ...(this.retired.get(kind) ?? zero()), objects: 0, lastActivityMs: null as number | null };
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
    add(sum, { ...stats, objects: 0 });
    this.retired.set(kind, sum);
  }
}

function zero(): ReflectorStats {
  return { objects: 0, lists: 0, watches: 0, expired: 0, idleRestarts: 0, errors: 0, lastActivityMs: null };
}

function add(sum: ReflectorStats, s: ReflectorStats): void {
  sum.objects += s.objects;
  sum.lists += s.lists;
  sum.watches += s.watches;
  sum.expired += s.expired;
  sum.idleRestarts += s.idleRestarts;
  sum.errors += s.errors;
}
