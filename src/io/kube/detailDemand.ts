/**
 * When a tracked namespace's rollout details (ReplicaSets, ControllerRevisions, Pods, Warning
 * events) are watched (ADR 0007 "Rollout details on demand"):
 *
 * - from the moment one of its workloads needs them (machines/workloadRollout.ts
 *   `needsRolloutDetails`: a Deployment rolling out, any StatefulSet or DaemonSet), or someone
 *   holds them (at a takeover the repair and the kept bakes read them);
 * - until `lingerMs` after the last of those ended: the verdict's observation, the bake after a
 *   success and a quick next rollout find them still listed.
 *
 * It decides only; `start` and `stop` do the watching (./namespacedWatches.ts) and the dropping.
 */
import type { WorkloadFacts } from '../../machines/facts.js';
import { needsRolloutDetails } from '../../machines/workloadRollout.js';
import type { ReflectorEvent } from './factStore.js';

export interface DetailDemandOptions {
  /** How long details stay watched once nothing needs them (ms). */
  lingerMs: number;
  now: () => number;
  start(namespace: string): void;
  stop(namespace: string): void;
}

export class DetailDemand {
  /** Per namespace: the workloads that need its details now. */
  private readonly needing = new Map<string, Set<string>>();
  /** Per namespace: how many holds are taken. */
  private readonly holds = new Map<string, number>();
  /** Namespaces whose details are watched, with when the last need ended (null: needed now). */
  private readonly watched = new Map<string, number | null>();

  constructor(private readonly options: DetailDemandOptions) {}

  /** A workload's reflector event. */
  workload(e: ReflectorEvent<WorkloadFacts>): void {
    const old = e.type === 'add' ? undefined : e.old;
    const now = e.type === 'delete' ? undefined : e.facts;
    if (old !== undefined && old.namespace !== now?.namespace) this.needs(old.namespace, e.key, false);
    if (now !== undefined) this.needs(now.namespace, e.key, needsRolloutDetails(now));
  }

  /** Holds the namespaces' details watched until the returned release is called (once). */
  hold(namespaces: Iterable<string>): () => void {
    const held = [...new Set(namespaces)];
    for (const ns of held) {
      this.holds.set(ns, (this.holds.get(ns) ?? 0) + 1);
      this.update(ns);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const ns of held) {
        const left = (this.holds.get(ns) ?? 1) - 1;
        if (left > 0) this.holds.set(ns, left);
        else this.holds.delete(ns);
        this.update(ns);
      }
    };
  }

  /** The namespace is no longer tracked: its watches are gone with it. */
  forgetNamespace(namespace: string): void {
    this.needing.delete(namespace);
    this.watched.delete(namespace);
  }

  /** Stops the details nothing has needed for `lingerMs`. Called periodically. */
  sweep(): void {
    const now = this.options.now();
    for (const [ns, endedAt] of this.watched) {
      if (endedAt === null || now - endedAt < this.options.lingerMs) continue;
      this.watched.delete(ns);
      this.options.stop(ns);
    }
  }

  /** Namespaces whose details are watched now. */
  get size(): number {
    return this.watched.size;
  }

  private needs(namespace: string, uid: string, needed: boolean): void {
    let set = this.needing.get(namespace);
    if (needed) {
      if (set?.has(uid) === true) return;
      if (set === undefined) this.needing.set(namespace, (set = new Set()));
      set.add(uid);
    } else {
      if (set?.delete(uid) !== true) return;
      if (set.size === 0) this.needing.delete(namespace);
    }
    this.update(namespace);
  }

  private update(namespace: string): void {
    const wanted = this.needing.has(namespace) || this.holds.has(namespace);
    const state = this.watched.get(namespace);
    if (wanted && state !== null) {
      this.watched.set(namespace, null);
      if (state === undefined) this.options.start(namespace);
    } else if (!wanted && state === null) {
      this.watched.set(namespace, this.options.now());
    }
  }
}
