/**
 * The reflector table: what Hermod watches, where, what it keeps and how it is trimmed.
 *
 * - Namespaces: one cluster-wide watch (their facts are a uid, a name and two annotation values);
 *   it decides which namespaces are tracked.
 * - Deployments: one list+watch per TRACKED namespace, started when the namespace becomes
 *   tracked and stopped when it stops being tracked (ADR 0007), so none of an untracked
 *   namespace is ever sent to Hermod.
 * - StatefulSets and DaemonSets: one cluster-wide list+watch each, keeping those of tracked
 *   namespaces (a cluster holds few, next to its Deployments; ADR 0007
 *   "StatefulSets and DaemonSets watched cluster-wide"): two standing watches instead of two per
 *   tracked namespace.
 * - A rollout's details (ReplicaSets, the sets' ControllerRevisions, Pods, Warning events): one
 *   list+watch of each per tracked namespace while one of its rollouts needs them
 *   (./detailDemand.ts). Within a namespace only objects that can belong to a rollout are kept.
 *
 * Handlers are passed in; this file decides nothing about what happens next.
 */
import type {
  CoreV1Event,
  V1ControllerRevision,
  V1DaemonSet,
  V1Deployment,
  V1Namespace,
  V1Pod,
  V1ReplicaSet,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { Logger } from '../../actors/logger.js';
import type { AnnotationNames } from '../../machines/annotations.js';
import type { ControllerRevisionFacts, DaemonSetFacts, DeploymentFacts, EventFacts, PodFacts, ReplicaSetFacts, StatefulSetFacts } from '../../machines/facts.js';
import type { ListWatchClient } from './client.js';
import type { ReflectorEvent } from './factStore.js';
import { Reflector } from './reflector.js';
import type { ReflectorTuning } from './reflectorOptions.js';
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
import { revisionOwner, trimControllerRevision, trimDaemonSet, trimStatefulSet } from './trimSets.js';

/** The kinds Hermod watches, as named in statistics and logs. */
export type WatchedKind =
  | 'namespaces'
  | 'deployments'
  | 'replicasets'
  | 'statefulsets'
  | 'daemonsets'
  | 'controllerrevisions'
  | 'pods'
  | 'events';

/** Watched in each tracked namespace as long as it is tracked. */
export const FOLLOWED_KINDS = ['deployments'] as const satisfies readonly WatchedKind[];
/** Watched cluster-wide, keeping those of tracked namespaces. */
export const SET_KINDS = ['statefulsets', 'daemonsets'] as const satisfies readonly WatchedKind[];
export type SetKind = (typeof SET_KINDS)[number];
/**
 * A rollout's details (its ReplicaSets or ControllerRevisions, Pods, Warning events): watched in
 * a tracked namespace only while one of its rollouts needs them (./detailDemand.ts, ADR 0007
 * "Rollout details on demand").
 */
export const DETAIL_KINDS = ['replicasets', 'controllerrevisions', 'pods', 'events'] as const satisfies readonly WatchedKind[];
/** The namespaced kinds. */
export const WORKLOAD_KINDS = [...FOLLOWED_KINDS, ...SET_KINDS, ...DETAIL_KINDS] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];
export type FollowedKind = (typeof FOLLOWED_KINDS)[number];
export type DetailKind = (typeof DETAIL_KINDS)[number];

/** The reflectors of the workloads of one tracked namespace. */
export interface FollowedReflectors {
  deployments: Reflector<V1Deployment, DeploymentFacts>;
}

/** The cluster-wide reflectors of StatefulSets and DaemonSets. */
export interface SetReflectors {
  statefulsets: Reflector<V1StatefulSet, StatefulSetFacts>;
  daemonsets: Reflector<V1DaemonSet, DaemonSetFacts>;
}

/** The reflectors of the rollout details of one tracked namespace. */
export interface DetailReflectors {
  replicasets: Reflector<V1ReplicaSet, ReplicaSetFacts>;
  controllerrevisions: Reflector<V1ControllerRevision, ControllerRevisionFacts>;
  pods: Reflector<V1Pod, PodFacts>;
  events: Reflector<CoreV1Event, EventFacts>;
}

interface Common {
  client: ListWatchClient;
  logger: Logger;
  tuning?: ReflectorTuning;
}

export function createNamespaceReflector(
  options: Common & { on: { namespace(e: ReflectorEvent<NamespaceFacts>): void; listed(): void } },
): Reflector<V1Namespace, NamespaceFacts> {
  return new Reflector<V1Namespace, NamespaceFacts>({
    client: options.client,
    logger: options.logger,
    watchTimeoutSeconds: STANDING_WATCH_TERM_SECONDS,
    ...options.tuning,
    name: 'namespaces',
    path: '/api/v1/namespaces',
    transform: trimNamespace,
    onEvent: options.on.namespace,
    onListed: options.on.listed,
  });
}

export interface WorkloadReflectorOptions extends Common {
  namespace: string;
  /** The git annotation names read from Deployments. */
  annotations: AnnotationNames;
  /** True when a Warning event last seen at `lastSeen` (ms) is recent enough to keep. */
  isRecent(lastSeen: number): boolean;
  on: {
    deployment(e: ReflectorEvent<DeploymentFacts>): void;
    replicaSet(e: ReflectorEvent<ReplicaSetFacts>): void;
    controllerRevision(e: ReflectorEvent<ControllerRevisionFacts>): void;
    pod(e: ReflectorEvent<PodFacts>): void;
    event(e: ReflectorEvent<EventFacts>): void;
    /** One of them listed. */
    listed(): void;
    /** One of them was refused its LIST (403): RBAC lacks its kind. */
    forbidden?(kind: WorkloadKind): void;
  };
}

/**
 * The watch term (s) of the standing watches (Namespaces, StatefulSets and DaemonSets
 * cluster-wide, Deployments per tracked namespace): the API server's own default for a watch that names
 * none (`--min-request-timeout`, 1800 s, times 1 to 2), not client-go's 5 to 10 minutes. Those
 * watches are open all the time and get a bookmark a minute; each renewal is a request, and at
 * 151 watches client-go's terms meant about 20 a minute while nothing changed (ADR 0007).
 */
const STANDING_WATCH_TERM_SECONDS: readonly [number, number] = [1800, 3600];

/** The Warning-event watch's idle limit: longer than the longest watch term the reflector asks for (600 s). */
const EVENTS_IDLE_TIMEOUT_MS = 660_000;

function commonOptions(options: WorkloadReflectorOptions) {
  return (kind: WorkloadKind) => ({
    client: options.client,
    logger: options.logger,
    ...options.tuning,
    onListed: options.on.listed,
    onForbidden: () => options.on.forbidden?.(kind),
  });
}

/** The workload reflectors of one tracked namespace (not started). */
export function createFollowedReflectors(options: WorkloadReflectorOptions): FollowedReflectors {
  const { on, annotations, namespace } = options;
  const ns = encodeURIComponent(namespace);
  const common = (kind: FollowedKind) => ({ watchTimeoutSeconds: STANDING_WATCH_TERM_SECONDS, ...commonOptions(options)(kind) });
  return {
    deployments: new Reflector<V1Deployment, DeploymentFacts>({
      ...common('deployments'),
      name: `deployments/${namespace}`,
      path: `/apis/apps/v1/namespaces/${ns}/deployments`,
      transform: (d) => trimDeployment(d, annotations),
      onEvent: on.deployment,
    }),
  };
}

export interface SetReflectorOptions extends Common {
  annotations: AnnotationNames;
  /** True when the namespace is tracked: the sets of the others are dropped at the door. */
  isTracked(namespace: string): boolean;
  on: {
    statefulSet(e: ReflectorEvent<StatefulSetFacts>): void;
    daemonSet(e: ReflectorEvent<DaemonSetFacts>): void;
    listed(): void;
    forbidden(kind: SetKind): void;
  };
}

/**
 * The cluster-wide StatefulSet and DaemonSet reflectors (not started). A namespace that becomes
 * tracked needs them relisted (its sets were dropped at the door until then); one that stops
 * being tracked needs its sets pruned from their caches.
 */
export function createSetReflectors(options: SetReflectorOptions): SetReflectors {
  const { on, annotations } = options;
  const common = (kind: SetKind) => ({
    client: options.client,
    logger: options.logger,
    watchTimeoutSeconds: STANDING_WATCH_TERM_SECONDS,
    ...options.tuning,
    name: kind,
    path: `/apis/apps/v1/${kind}`,
    filter: (raw: V1StatefulSet | V1DaemonSet) => options.isTracked(raw.metadata?.namespace ?? ''),
    onListed: on.listed,
    onForbidden: () => on.forbidden(kind),
  });
  return {
    statefulsets: new Reflector<V1StatefulSet, StatefulSetFacts>({
      ...common('statefulsets'),
      transform: (s) => trimStatefulSet(s, annotations),
      onEvent: on.statefulSet,
    }),
    daemonsets: new Reflector<V1DaemonSet, DaemonSetFacts>({
      ...common('daemonsets'),
      transform: (d) => trimDaemonSet(d, annotations),
      onEvent: on.daemonSet,
    }),
  };
}

/** The rollout-detail reflectors of one tracked namespace (not started). */
export function createDetailReflectors(options: WorkloadReflectorOptions): DetailReflectors {
  const { on, namespace } = options;
  const ns = encodeURIComponent(namespace);
  const common = commonOptions(options);
  return {
    replicasets: new Reflector<V1ReplicaSet, ReplicaSetFacts>({
      ...common('replicasets'),
      name: `replicasets/${namespace}`,
      path: `/apis/apps/v1/namespaces/${ns}/replicasets`,
      // Only ReplicaSets a Deployment controls can be a rollout's new ReplicaSet.
      filter: (rs) => controllerUid(rs.metadata, 'Deployment') !== undefined,
      transform: trimReplicaSet,
      onEvent: on.replicaSet,
    }),
    controllerrevisions: new Reflector<V1ControllerRevision, ControllerRevisionFacts>({
      ...common('controllerrevisions'),
      name: `controllerrevisions/${namespace}`,
      path: `/apis/apps/v1/namespaces/${ns}/controllerrevisions`,
      // The history of StatefulSets and DaemonSets: which revision a rollout goes to, and what it changed.
      filter: (cr) => revisionOwner(cr.metadata) !== undefined,
      transform: trimControllerRevision,
      onEvent: on.controllerRevision,
    }),
    pods: new Reflector<V1Pod, PodFacts>({
      ...common('pods'),
      name: `pods/${namespace}`,
      path: `/api/v1/namespaces/${ns}/pods`,
      // Only Pods a ReplicaSet, StatefulSet or DaemonSet controls can belong to a rollout (not Jobs', bare Pods).
      filter: (p) => ['ReplicaSet', 'StatefulSet', 'DaemonSet'].some((kind) => controllerUid(p.metadata, kind) !== undefined),
      transform: trimPod,
      onEvent: on.pod,
    }),
    events: new Reflector<CoreV1Event, EventFacts>({
      ...common('events'),
      name: `events/${namespace}`,
      path: `/api/v1/namespaces/${ns}/events`,
      fieldSelector: 'type=Warning',
      // The API server sends no bookmarks on this watch (at 10,000 Deployments, all 100 of a
      // bench's quiet namespaces were silent for 300 s): silence is normal until the server
      // ends the watch at its term, so the watchdog waits longer than the longest term.
      idleTimeoutMs: options.tuning?.idleTimeoutMs ?? EVENTS_IDLE_TIMEOUT_MS,
      filter: (ev) => {
        const kind = ev.involvedObject?.kind;
        if (kind !== 'Pod' && kind !== 'ReplicaSet' && kind !== 'StatefulSet' && kind !== 'DaemonSet') return false;
        return options.isRecent(eventLastSeen(ev));
      },
      transform: trimEvent,
      onEvent: on.event,
    }),
  };
}
