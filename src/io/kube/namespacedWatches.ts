/**
 * The watches of the tracked namespaces (ADR 0007). Per tracked namespace:
 * - its Deployments, started when it becomes tracked and stopped when it stops (StatefulSets
 *   and DaemonSets are watched cluster-wide: ./reflectors.ts `createSetReflectors`);
 * - its rollout details (ReplicaSets, ControllerRevisions, Pods, Warning events), started and
 *   stopped on demand (`startDetails`, `stopDetails`; ./detailDemand.ts decides when), each
 *   time with fresh reflectors that list before they watch.
 * What an untracked namespace holds is never listed, watched or parsed, and a quiet tracked
 * namespace costs one watch, so Hermod's cost follows what it tracks and what rolls out.
 *
 * Events from reflectors that have been stopped (a chunk already read when the namespace lost
 * its annotation, or its details were stopped) are ignored: handlers only ever see the current
 * reflectors of a namespace.
 */
import type { Logger } from '../../actors/logger.js';
import type { ReflectorStats } from './reflectorOptions.js';
import {
  createDetailReflectors,
  createFollowedReflectors,
  DETAIL_KINDS,
  FOLLOWED_KINDS,
  WORKLOAD_KINDS,
  type DetailReflectors,
  type FollowedReflectors,
  type WorkloadKind,
  type WorkloadReflectorOptions,
} from './reflectors.js';

/** Kinds a Hermod may lack RBAC for and still follow Deployments (added after the first release). */
const OPTIONAL_KINDS: ReadonlySet<WorkloadKind> = new Set(['controllerrevisions']);

export type NamespacedWatchOptions = Omit<WorkloadReflectorOptions, 'namespace' | 'on'> & {
  logger: Logger;
  on: WorkloadReflectorOptions['on'] & {
    /** Every detail reflector of the namespace has listed once since `startDetails`. */
    detailsListed?(namespace: string): void;
  };
};

interface Watched {
  workloads: FollowedReflectors;
  details: DetailReflectors | null;
}

type AnyReflectors = Partial<Record<WorkloadKind, { hasSynced: boolean; forbidden: boolean; stats(): ReflectorStats; start(): void; stop(): Promise<void> }>>;

export class NamespacedWatches {
  private readonly namespaces = new Map<string, Watched>();
  /** Counters of reflectors already stopped, so statistics do not go backwards. */
  private readonly retired = new Map<WorkloadKind, ReflectorStats>();
  private readonly stopping = new Set<Promise<void>>();

  constructor(private readonly options: NamespacedWatchOptions) {}

  /** Starts watching a namespace's workloads (no-op if already watched). */
  start(namespace: string): void {
    if (this.namespaces.has(namespace)) return;
    const watched: Watched = {
      workloads: createFollowedReflectors(this.reflectorOptions(namespace, () => this.namespaces.get(namespace) === watched)),
      details: null,
    };
    this.namespaces.set(namespace, watched);
    for (const kind of FOLLOWED_KINDS) watched.workloads[kind].start();
  }

  /** Stops watching a namespace (workloads and details); the caller drops its cached objects. */
  stop(namespace: string): void {
    const watched = this.namespaces.get(namespace);
    if (!watched) return;
    this.namespaces.delete(namespace);
    this.retireAll(watched.workloads);
    if (watched.details) this.retireAll(watched.details);
  }

  /** Starts watching a tracked namespace's rollout details (no-op if watched or untracked). */
  startDetails(namespace: string): void {
    const watched = this.namespaces.get(namespace);
    if (!watched || watched.details) return;
    const details: DetailReflectors = createDetailReflectors(
      this.reflectorOptions(namespace, () => this.namespaces.get(namespace) === watched && watched.details === details, () => {
        if (DETAIL_KINDS.every((k) => details[k].hasSynced || (OPTIONAL_KINDS.has(k) && details[k].forbidden))) this.options.on.detailsListed?.(namespace);
      }),
    );
    watched.details = details;
    for (const kind of DETAIL_KINDS) details[kind].start();
  }

  /** Stops watching a namespace's rollout details; the caller drops the cached objects. */
  stopDetails(namespace: string): void {
    const watched = this.namespaces.get(namespace);
    if (!watched?.details) return;
    const details = watched.details;
    watched.details = null;
    this.retireAll(details);
  }

  /** Whether the namespace's details are watched, and whether they have listed. */
  details(namespace: string): 'off' | 'listing' | 'listed' {
    const details = this.namespaces.get(namespace)?.details;
    if (!details) return 'off';
    return this.ready(details) ? 'listed' : 'listing';
  }

  /**
   * True when every watched namespace's reflectors have listed once, or, for the kind added
   * after the first release (ControllerRevisions), were refused by RBAC: an upgrade applied before its ClusterRole still follows Deployments (and says why the
   * rest is missing) rather than never becoming ready.
   */
  allSynced(): boolean {
    for (const { workloads, details } of this.namespaces.values()) {
      if (!this.ready(workloads) || (details !== null && !this.ready(details))) return false;
    }
    return true;
  }

  private ready(reflectors: AnyReflectors): boolean {
    return Object.entries(reflectors).every(([k, r]) => r.hasSynced || (OPTIONAL_KINDS.has(k as WorkloadKind) && r.forbidden));
  }

  private readonly refusedKinds = new Set<WorkloadKind>();

  /** Once per kind: what RBAC refuses, what it costs, what to do. */
  private reportForbidden(kind: WorkloadKind, namespace: string): void {
    if (this.refusedKinds.has(kind)) return;
    this.refusedKinds.add(kind);
    const cost = OPTIONAL_KINDS.has(kind)
      ? SETS_NOT_FOLLOWED
      : kind === 'deployments'
        ? 'Hermod does not become ready until then'
        : 'rollouts in a namespace whose details it lacks are not reported until then (nor is Hermod ready while one is under way at start)';
    this.options.logger.error({ kind, namespace }, forbiddenMessage(`${kind} (403 in namespace ${namespace})`, cost));
  }

  /** Namespaces watched now. */
  get size(): number {
    return this.namespaces.size;
  }

  /** Namespaces whose rollout details are watched now. */
  get detailed(): number {
    let n = 0;
    for (const w of this.namespaces.values()) if (w.details) n++;
    return n;
  }

  /** Drops cached Warning events the predicate selects, in every namespace. */
  pruneEvents(predicate: Parameters<DetailReflectors['events']['prune']>[0]): void {
    for (const { details } of this.namespaces.values()) details?.events.prune(predicate);
  }

  /**
   * Counters summed over the namespaces, per kind. `lastActivityMs` is the stalest live watch's
   * (a wedged watch in one namespace must show), null while none has made progress yet.
   */
  stats(): Record<WorkloadKind, ReflectorStats> {
    const out = {} as Record<WorkloadKind, ReflectorStats>;
    for (const kind of WORKLOAD_KINDS) out[kind] = { ...(this.retired.get(kind) ?? zero()), objects: 0, openWatches: 0, lastActivityMs: null };
    for (const { workloads, details } of this.namespaces.values()) {
      for (const [kind, reflector] of Object.entries({ ...workloads, ...details }) as Array<[WorkloadKind, { stats(): ReflectorStats }]>) {
        const sum = out[kind];
        const stats = reflector.stats();
        add(sum, stats);
        if (stats.lastActivityMs !== null) sum.lastActivityMs = Math.min(sum.lastActivityMs ?? Infinity, stats.lastActivityMs);
      }
    }
    return out;
  }

  /** Stops every watch; resolves when all loops have ended. */
  async stopAll(): Promise<void> {
    for (const namespace of [...this.namespaces.keys()]) this.stop(namespace);
    await Promise.all([...this.stopping]);
  }

  /** The handlers of one namespace's reflectors: only the current ones reach the watcher. */
  private reflectorOptions(namespace: string, isCurrent: () => boolean, onListed?: () => void): WorkloadReflectorOptions {
    const { on } = this.options;
    const current = <E>(handler: (e: E) => void) => (e: E): void => {
      if (isCurrent()) handler(e);
    };
    return {
      ...this.options,
      namespace,
      on: {
        deployment: current(on.deployment),
        replicaSet: current(on.replicaSet),
        controllerRevision: current(on.controllerRevision),
        pod: current(on.pod),
        event: current(on.event),
        listed: () => {
          if (!isCurrent()) return;
          onListed?.();
          on.listed();
        },
        forbidden: (kind) => {
          if (!isCurrent()) return;
          this.reportForbidden(kind, namespace);
          // An optional kind refused no longer holds up the sync: check it again.
          onListed?.();
          on.listed();
        },
      },
    };
  }

  private retireAll(reflectors: AnyReflectors): void {
    const entries = Object.entries(reflectors) as Array<[WorkloadKind, NonNullable<AnyReflectors[WorkloadKind]>]>;
    for (const [kind, r] of entries) this.retire(kind, r.stats());
    const stopped = Promise.all(entries.map(([, r]) => r.stop())).then(() => undefined);
    this.stopping.add(stopped);
    void stopped.finally(() => this.stopping.delete(stopped));
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

/** What a refused StatefulSet, DaemonSet or ControllerRevision list costs (`forbiddenMessage`'s `cost`). */
export const SETS_NOT_FOLLOWED = 'StatefulSets and DaemonSets are not followed until then; Deployments are';

/** What a 403 on a LIST (`refused`: the kind and where) means and what to do; `cost`: what is missing meanwhile. */
export function forbiddenMessage(refused: string, cost: string): string {
  return `Hermod may not list ${refused}: apply this version's ClusterRole (example/clusterrole.yaml, or upgrade the chart; \`hermod check\` lists what is missing). ${cost}; it keeps retrying`;
}
