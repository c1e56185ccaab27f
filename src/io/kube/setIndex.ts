/**
 * The index of StatefulSets, DaemonSets and their ControllerRevisions (issue 11), beside the
 * Deployment index in ./caches.ts, which owns Pods and Warning events and asks this one about
 * the sets. No I/O.
 *
 *   StatefulSet/DaemonSet --(uid = revision owner)--> ControllerRevisions
 *   StatefulSet/DaemonSet --(uid = Pod owner)--> Pods, of the new revision by controller-revision-hash
 */
import type { ControllerRevisionFacts, DaemonSetFacts, StatefulSetFacts } from '../../machines/facts.js';
import { withRollbackHistory } from '../../machines/controllerRevisions.js';
import { replacedRevision, targetRevision } from '../../machines/workloadRollout.js';
import { index, unindex } from './multiIndex.js';
import type { ReflectorEvent } from './factStore.js';

export type SetFacts = StatefulSetFacts | DaemonSetFacts;

/** Most earlier revision numbers remembered per ControllerRevision (rollbacks seen while watching). */
const MAX_HISTORY = 10;

export class SetIndex {
  /** StatefulSets and DaemonSets by uid. */
  readonly sets = new Map<string, SetFacts>();
  readonly revisions = new Map<string, ControllerRevisionFacts>();
  private readonly revisionsByOwner = new Map<string, Set<string>>();

  /** Applies a StatefulSet or DaemonSet change; returns the uids to observe again. */
  applySet(e: ReflectorEvent<SetFacts>): string[] {
    if (e.type === 'delete') {
      this.sets.delete(e.key);
      return [];
    }
    this.sets.set(e.key, e.facts);
    return [e.key];
  }

  /**
   * Applies a ControllerRevision change; returns its owner to observe again. `kubectl rollout
   * undo` renumbers an existing revision: the number it had is kept as its history, so the
   * message can say which revision the rollout went back to.
   */
  applyRevision(e: ReflectorEvent<ControllerRevisionFacts>): string[] {
    const old = e.type === 'add' ? undefined : e.old;
    let now = e.type === 'delete' ? undefined : e.facts;
    if (old?.ownerUid !== undefined && old.ownerUid !== now?.ownerUid) unindex(this.revisionsByOwner, old.ownerUid, e.key);
    if (now !== undefined) {
      if (old !== undefined && old.revision !== now.revision && old.revision > 0) {
        now = { ...now, revisionHistory: [...old.revisionHistory, old.revision].slice(-MAX_HISTORY) };
      } else if (old !== undefined) {
        now = { ...now, revisionHistory: old.revisionHistory };
      }
      this.revisions.set(e.key, now);
      if (now.ownerUid !== undefined) index(this.revisionsByOwner, now.ownerUid, e.key);
    } else {
      this.revisions.delete(e.key);
    }
    const owners = new Set<string>();
    for (const r of [old, now]) if (r?.ownerUid !== undefined && this.sets.has(r.ownerUid)) owners.add(r.ownerUid);
    return [...owners];
  }

  /** The ControllerRevisions a set owns. */
  revisionsOf(ownerUid: string): ControllerRevisionFacts[] {
    const out: ControllerRevisionFacts[] = [];
    for (const key of this.revisionsByOwner.get(ownerUid) ?? []) {
      const r = this.revisions.get(key);
      if (r) out.push(r);
    }
    return out;
  }

  /**
   * The set with its `revision` filled in from the revision it rolls out to, that revision and
   * the one it replaces; null when the uid is not a tracked set. An undo Hermod did not watch is
   * recognised from the owner's revisions when they allow it (machines/controllerRevisions.ts).
   */
  resolve(uid: string): { set: SetFacts; newRevision: ControllerRevisionFacts | null; previousRevision: ControllerRevisionFacts | null } | null {
    const set = this.sets.get(uid);
    if (set === undefined) return null;
    const revisions = this.revisionsOf(uid);
    const target = targetRevision(set, revisions);
    const newRevision = target === null ? null : withRollbackHistory(target, revisions);
    // A copy: facts that came from the cache are never changed.
    return { set: { ...set, revision: newRevision?.revision ?? null }, newRevision, previousRevision: replacedRevision(newRevision, revisions) };
  }

  /** True when `uid` is a tracked StatefulSet or DaemonSet. */
  isSet(uid: string): boolean {
    return this.sets.has(uid);
  }

  /** Forgets every set and revision of a namespace; returns the sets dropped. */
  dropNamespace(namespace: string): SetFacts[] {
    const dropped: SetFacts[] = [];
    for (const [uid, set] of this.sets) {
      if (set.namespace !== namespace) continue;
      this.sets.delete(uid);
      dropped.push(set);
    }
    this.dropRevisions(namespace);
    return dropped;
  }

  /** Forgets a namespace's ControllerRevisions (its details are no longer watched). */
  dropRevisions(namespace: string): void {
    for (const [key, r] of this.revisions) if (r.namespace === namespace) this.applyRevision({ type: 'delete', key, old: r });
  }

  counts(): { statefulsets: number; daemonsets: number; controllerrevisions: number } {
    let statefulsets = 0;
    for (const s of this.sets.values()) if (s.kind === 'StatefulSet') statefulsets++;
    return { statefulsets, daemonsets: this.sets.size - statefulsets, controllerrevisions: this.revisions.size };
  }
}
