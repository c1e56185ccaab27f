/**
 * The indexes over the reflectors' trimmed facts, and the assembly of a RolloutObservation
 * from them. No I/O: the watcher feeds reflector events in and asks for observations, so
 * a failure's details come from memory, never from a LIST per failure.
 *
 *   Deployment --(uid = RS owner)--> ReplicaSets --(uid = Pod owner)--> Pods
 *   StatefulSets, DaemonSets and their ControllerRevisions: ./setIndex.ts; their Pods are here too.
 *   Warning Events are indexed by the uid of the Pod, ReplicaSet or set they are about.
 */
import type {
  AlertLevel,
  DeploymentFacts,
  EventFacts,
  NotifyTarget,
  PodFacts,
  ReplicaSetFacts,
  RolloutObservation,
} from '../../machines/facts.js';
import { parseMentions, type MentionPolicy } from '../../machines/mentions.js';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS, isPodOfRevision, resolveProgressDeadlineSeconds } from '../../machines/workloadRollout.js';
import type { ReflectorEvent } from './factStore.js';
import { index, unindex } from './multiIndex.js';
import { SetIndex } from './setIndex.js';
import type { NamespaceFacts } from './trim.js';

/** How many Warning events per Pod or ReplicaSet an observation carries (newest first). */
export const DEFAULT_WARNINGS_PER_OBJECT = 3;
/** Warning events older than this are left out of observations and pruned from the cache. */
export const DEFAULT_WARNING_MAX_AGE_MS = 60 * 60 * 1000;
/** Upper bound on the warnings of one observation, whatever the number of Pods. */
export const MAX_WARNINGS_PER_OBSERVATION = 50;

export interface WarningPolicy {
  perObject: number;
  maxAgeMs: number;
}

/** The default mention policy: IDs only, no `here` or `channel`. */
export const NO_BROADCAST: Readonly<MentionPolicy> = Object.freeze({ allowBroadcast: false });

/**
 * The target of a Deployment: null unless its namespace is tracked (the namespace's channel
 * annotation alone decides); then the Deployment's own channel and alert annotations win over
 * the namespace's. The actor reads the channel when a rollout starts, so a change applies from
 * the next rollout.
 */
export function resolveTarget(
  ns: NamespaceFacts,
  deployment: Pick<DeploymentFacts, 'channel' | 'alert' | 'mention'>,
  mentionPolicy: MentionPolicy = NO_BROADCAST,
): NotifyTarget | null {
  if (ns.channel === undefined) return null;
  const target: NotifyTarget = { channel: deployment.channel ?? ns.channel, alert: alertLevel(deployment.alert ?? ns.alert) };
  // A refused value means no mention (the watch layer reports why, once per value: ./mentionAudit.ts).
  const mention = deployment.mention ?? ns.mention;
  const parsed = mention === undefined ? null : parseMentions(mention, mentionPolicy);
  if (parsed?.ok === true && parsed.mentions.length > 0) target.mentions = parsed.mentions;
  return target;
}

/** `failure` (any case, surrounding blanks ignored) = post only failures; anything else = all. */
export function alertLevel(value: string | undefined): AlertLevel {
  return value?.trim().toLowerCase() === 'failure' ? 'failure' : 'all';
}

export class RolloutIndex {
  /** Every namespace by name (tracked or not: it is how tracking changes are seen). */
  readonly namespaces = new Map<string, NamespaceFacts>();
  readonly deployments = new Map<string, DeploymentFacts>();
  readonly replicaSets = new Map<string, ReplicaSetFacts>();
  readonly pods = new Map<string, PodFacts>();
  /** Keyed by the Event's own uid. */
  readonly events = new Map<string, EventFacts>();
  private readonly deploymentsByNamespace = new Map<string, Set<string>>();
  private readonly replicaSetsByOwner = new Map<string, Set<string>>();
  private readonly podsByOwner = new Map<string, Set<string>>();
  private readonly eventsByInvolved = new Map<string, Set<string>>();
  /** StatefulSets, DaemonSets and their ControllerRevisions. */
  readonly sets = new SetIndex();

  constructor(
    private readonly warnings: WarningPolicy = {
      perObject: DEFAULT_WARNINGS_PER_OBJECT,
      maxAgeMs: DEFAULT_WARNING_MAX_AGE_MS,
    },
    private readonly mentionPolicy: MentionPolicy = NO_BROADCAST,
    /** `--progress-deadline-seconds`: Hermod's deadline for StatefulSets and DaemonSets without the annotation. */
    private readonly progressDeadlineSeconds: number = DEFAULT_PROGRESS_DEADLINE_SECONDS,
  ) {}

  /** uids of every tracked workload (Deployments, StatefulSets, DaemonSets). */
  workloadUids(): string[] {
    return [...this.deployments.keys(), ...this.sets.sets.keys()];
  }

  /** True when the namespace carries a non-blank slack annotation. */
  isTracked(namespace: string): boolean {
    return this.namespaces.get(namespace)?.channel !== undefined;
  }

  /** Records a namespace (add/update); returns the previous facts. */
  setNamespace(ns: NamespaceFacts): NamespaceFacts | undefined {
    const prev = this.namespaces.get(ns.name);
    this.namespaces.set(ns.name, ns);
    return prev;
  }

  deleteNamespace(name: string): NamespaceFacts | undefined {
    const prev = this.namespaces.get(name);
    this.namespaces.delete(name);
    return prev;
  }

  /** uids of the Deployments in a namespace. */
  deploymentUidsIn(namespace: string): string[] {
    return [...(this.deploymentsByNamespace.get(namespace) ?? [])];
  }

  /**
   * Forgets everything cached for a namespace's workloads (it is no longer tracked). The
   * namespace's own facts stay: they are how it can become tracked again.
   */
  dropNamespaceObjects(namespace: string): void {
    for (const uid of this.deploymentUidsIn(namespace)) {
      const d = this.deployments.get(uid);
      if (d) this.applyDeployment({ type: 'delete', key: uid, old: d });
    }
    this.dropNamespaceDetails(namespace);
    this.sets.dropNamespace(namespace);
  }

  /**
   * Forgets a namespace's rollout details (ReplicaSets, Pods, Warning events, ControllerRevisions):
   * their watches stopped (./detailDemand.ts), and the next ones list them again.
   */
  dropNamespaceDetails(namespace: string): void {
    for (const [uid, rs] of this.replicaSets) {
      if (rs.namespace === namespace) this.applyReplicaSet({ type: 'delete', key: uid, old: rs });
    }
    for (const [uid, pod] of this.pods) {
      if (pod.namespace === namespace) this.applyPod({ type: 'delete', key: uid, old: pod });
    }
    for (const [key, ev] of this.events) {
      if (ev.namespace === namespace) this.applyEvent({ type: 'delete', key, old: ev });
    }
    this.sets.dropRevisions(namespace);
  }

  /** The namespace of a tracked workload (Deployment, StatefulSet, DaemonSet). */
  namespaceOf(uid: string): string | undefined {
    return this.deployments.get(uid)?.namespace ?? this.sets.sets.get(uid)?.namespace;
  }

  /** Applies a Deployment change; returns the uids of Deployments to observe again. */
  applyDeployment(e: ReflectorEvent<DeploymentFacts>): string[] {
    if (e.type === 'delete') {
      this.deployments.delete(e.key);
      unindex(this.deploymentsByNamespace, e.old.namespace, e.key);
      return [];
    }
    if (e.type === 'update' && e.old.namespace !== e.facts.namespace) {
      unindex(this.deploymentsByNamespace, e.old.namespace, e.key);
    }
    this.deployments.set(e.key, e.facts);
    index(this.deploymentsByNamespace, e.facts.namespace, e.key);
    return [e.key];
  }

  /** Applies a ReplicaSet change; returns the owning Deployment if this is (or was) its new ReplicaSet. */
  applyReplicaSet(e: ReflectorEvent<ReplicaSetFacts>): string[] {
    const old = e.type === 'add' ? undefined : e.old;
    const now = e.type === 'delete' ? undefined : e.facts;
    if (old?.ownerUid !== undefined && old.ownerUid !== now?.ownerUid) unindex(this.replicaSetsByOwner, old.ownerUid, e.key);
    if (now) {
      this.replicaSets.set(e.key, now);
      if (now.ownerUid !== undefined) index(this.replicaSetsByOwner, now.ownerUid, e.key);
    } else {
      this.replicaSets.delete(e.key);
    }
    const affected = new Set<string>();
    for (const rs of [old, now]) {
      if (rs?.ownerUid === undefined) continue;
      const d = this.deployments.get(rs.ownerUid);
      if (d && d.revision !== null && rs.revision === d.revision) affected.add(d.uid);
    }
    return [...affected];
  }

  /** Applies a Pod change; returns the Deployment whose new ReplicaSet owns (or owned) the Pod. */
  applyPod(e: ReflectorEvent<PodFacts>): string[] {
    const old = e.type === 'add' ? undefined : e.old;
    const now = e.type === 'delete' ? undefined : e.facts;
    if (old?.ownerUid !== undefined && old.ownerUid !== now?.ownerUid) unindex(this.podsByOwner, old.ownerUid, e.key);
    if (now) {
      this.pods.set(e.key, now);
      if (now.ownerUid !== undefined) index(this.podsByOwner, now.ownerUid, e.key);
    } else {
      this.pods.delete(e.key);
    }
    const affected = new Set<string>();
    for (const p of [old, now]) {
      const d = p?.ownerUid === undefined ? undefined : (this.deploymentOfNewReplicaSet(p.ownerUid) ?? this.trackedSet(p.ownerUid));
      if (d) affected.add(d);
    }
    return [...affected];
  }

  /** Applies a Warning Event change; returns the Deployment it concerns, if any. */
  applyEvent(e: ReflectorEvent<EventFacts>): string[] {
    const old = e.type === 'add' ? undefined : e.old;
    const now = e.type === 'delete' ? undefined : e.facts;
    if (old?.involvedUid !== undefined && old.involvedUid !== now?.involvedUid) {
      unindex(this.eventsByInvolved, old.involvedUid, e.key);
    }
    if (now) {
      this.events.set(e.key, now);
      if (now.involvedUid !== undefined) index(this.eventsByInvolved, now.involvedUid, e.key);
    } else {
      this.events.delete(e.key);
    }
    // A removed event changes nothing worth a message; a new or repeated one may.
    if (!now?.involvedUid) return [];
    const d = this.deploymentOfInvolved(now.involvedKind, now.involvedUid);
    return d === undefined ? [] : [d];
  }

  /** The ReplicaSet whose revision equals the Deployment's, if the controller made it. */
  newReplicaSet(deployment: DeploymentFacts): ReplicaSetFacts | null {
    if (deployment.revision === null) return null;
    let found: ReplicaSetFacts | null = null;
    for (const uid of this.replicaSetsByOwner.get(deployment.uid) ?? []) {
      const rs = this.replicaSets.get(uid);
      if (rs?.revision !== deployment.revision) continue;
      // Two ReplicaSets with one revision should not exist; prefer a stable choice if they do.
      if (found === null || rs.name < found.name) found = rs;
    }
    return found;
  }

  /** The Deployment's ReplicaSet with the highest revision below the current one: what the rollout replaces. */
  previousReplicaSet(deployment: DeploymentFacts): ReplicaSetFacts | null {
    if (deployment.revision === null) return null;
    let found: ReplicaSetFacts | null = null;
    for (const uid of this.replicaSetsByOwner.get(deployment.uid) ?? []) {
      const rs = this.replicaSets.get(uid);
      if (rs?.revision == null || rs.revision >= deployment.revision) continue;
      if (found === null || (found.revision ?? 0) < rs.revision) found = rs;
    }
    return found;
  }

  /** Pods owned by a ReplicaSet, by name. */
  podsOf(replicaSetUid: string): PodFacts[] {
    const out: PodFacts[] = [];
    for (const uid of this.podsByOwner.get(replicaSetUid) ?? []) {
      const p = this.pods.get(uid);
      if (p) out.push(p);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Recent warnings about the given objects: at most `perObject` per object, none older
   * than `maxAgeMs` before `at`, newest first, at most MAX_WARNINGS_PER_OBSERVATION.
   */
  warningsAbout(uids: readonly string[], at: number): EventFacts[] {
    const out: EventFacts[] = [];
    const oldest = at - this.warnings.maxAgeMs;
    for (const uid of uids) {
      const recent: EventFacts[] = [];
      for (const key of this.eventsByInvolved.get(uid) ?? []) {
        const ev = this.events.get(key);
        if (ev && ev.lastSeen >= oldest) recent.push(ev);
      }
      recent.sort((a, b) => b.lastSeen - a.lastSeen);
      out.push(...recent.slice(0, this.warnings.perObject));
    }
    out.sort((a, b) => b.lastSeen - a.lastSeen);
    return out.slice(0, MAX_WARNINGS_PER_OBSERVATION);
  }

  /**
   * Everything the Deployment's actor needs, from the caches; null when the Deployment is
   * unknown or its namespace is not tracked.
   */
  observation(deploymentUid: string, at: number): RolloutObservation | null {
    const deployment = this.deployments.get(deploymentUid);
    if (!deployment) return this.setObservation(deploymentUid, at);
    const ns = this.namespaces.get(deployment.namespace);
    const target = ns ? resolveTarget(ns, deployment, this.mentionPolicy) : null;
    if (!target) return null;
    const newReplicaSet = this.newReplicaSet(deployment);
    const pods = newReplicaSet ? this.podsOf(newReplicaSet.uid) : [];
    const warnings = newReplicaSet ? this.warningsAbout([newReplicaSet.uid, ...pods.map((p) => p.uid)], at) : [];
    const previousReplicaSet = this.previousReplicaSet(deployment);
    return { at, deployment, newReplicaSet, previousReplicaSet, pods, warnings, target };
  }

  /**
   * A StatefulSet's or DaemonSet's observation: its new ControllerRevision, that revision's Pods
   * (label controller-revision-hash) and the Warning events about them and the set, and
   * Hermod's deadline for it.
   */
  private setObservation(uid: string, at: number): RolloutObservation | null {
    const resolved = this.sets.resolve(uid);
    if (resolved === null) return null;
    const { set, newRevision, previousRevision } = resolved;
    const ns = this.namespaces.get(set.namespace);
    const target = ns ? resolveTarget(ns, set, this.mentionPolicy) : null;
    if (!ns || !target) return null;
    // The new revision's pods, and the others: a StatefulSet's rolling update may wait on one of those (machines/setRollingUpdate.ts).
    const pods: PodFacts[] = [];
    const otherPods: PodFacts[] = [];
    if (newRevision !== null) for (const p of this.podsOf(uid)) (isPodOfRevision(p, newRevision) ? pods : otherPods).push(p);
    const warnings = this.warningsAbout([uid, ...pods.map((p) => p.uid)], at);
    const progressDeadlineSeconds = resolveProgressDeadlineSeconds({
      workload: set.progressDeadlineAnnotation,
      namespace: ns.progressDeadline,
      flag: this.progressDeadlineSeconds,
    });
    return { at, deployment: set, newReplicaSet: null, newRevision, previousRevision, pods, otherPods, warnings, target, progressDeadlineSeconds };
  }

  /** Object counts per kind (for metrics). */
  counts(): Record<'namespaces' | 'deployments' | 'replicasets' | 'pods' | 'events' | 'statefulsets' | 'daemonsets' | 'controllerrevisions', number> {
    return {
      namespaces: this.namespaces.size,
      deployments: this.deployments.size,
      replicasets: this.replicaSets.size,
      pods: this.pods.size,
      events: this.events.size,
      ...this.sets.counts(),
    };
  }

  /** The uid itself when it is a tracked StatefulSet or DaemonSet. */
  private trackedSet(uid: string): string | undefined {
    return this.sets.isSet(uid) ? uid : undefined;
  }

  private deploymentOfNewReplicaSet(replicaSetUid: string): string | undefined {
    const rs = this.replicaSets.get(replicaSetUid);
    if (rs?.ownerUid === undefined) return undefined;
    const d = this.deployments.get(rs.ownerUid);
    return d && d.revision !== null && rs.revision === d.revision ? d.uid : undefined;
  }

  private deploymentOfInvolved(kind: string, uid: string): string | undefined {
    if (kind === 'ReplicaSet') return this.deploymentOfNewReplicaSet(uid);
    if (kind === 'StatefulSet' || kind === 'DaemonSet') return this.trackedSet(uid);
    if (kind === 'Pod') {
      const owner = this.pods.get(uid)?.ownerUid;
      return owner === undefined ? undefined : (this.deploymentOfNewReplicaSet(owner) ?? this.trackedSet(owner));
    }
    return undefined;
  }
}
