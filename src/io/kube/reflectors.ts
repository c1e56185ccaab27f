/**
 * The reflector table: the five kinds Hermod watches, each with its API path, what it keeps
 * (the filter: tracked namespaces only, and only objects that can belong to a rollout) and
 * how it is trimmed. Handlers are passed in; this file decides nothing about what happens next.
 */
import type { CoreV1Event, V1Deployment, V1Namespace, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Logger } from '../../actors/logger.js';
import type { AnnotationNames } from '../../machines/annotations.js';
import type { DeploymentFacts, EventFacts, PodFacts, ReplicaSetFacts } from '../../machines/facts.js';
import type { ListWatchClient } from './client.js';
import { Reflector, type ReflectorEvent, type ReflectorTuning } from './reflector.js';
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

/** The namespaced kinds: watched once the namespaces are known, filtered to tracked namespaces. */
export const WORKLOAD_KINDS = ['deployments', 'replicasets', 'pods', 'events'] as const satisfies readonly WatchedKind[];

export interface ReflectorTable {
  namespaces: Reflector<V1Namespace, NamespaceFacts>;
  deployments: Reflector<V1Deployment, DeploymentFacts>;
  replicasets: Reflector<V1ReplicaSet, ReplicaSetFacts>;
  pods: Reflector<V1Pod, PodFacts>;
  events: Reflector<CoreV1Event, EventFacts>;
}

export interface ReflectorTableOptions {
  client: ListWatchClient;
  logger: Logger;
  tuning?: ReflectorTuning;
  /** The git annotation names read from Deployments. */
  annotations: AnnotationNames;
  /** True when the namespace is tracked (its workloads are kept). */
  isTracked(namespace: string): boolean;
  /** True when a Warning event last seen at `lastSeen` (ms) is recent enough to keep. */
  isRecent(lastSeen: number): boolean;
  on: {
    namespace(e: ReflectorEvent<NamespaceFacts>): void;
    namespacesListed(): void;
    deployment(e: ReflectorEvent<DeploymentFacts>): void;
    replicaSet(e: ReflectorEvent<ReplicaSetFacts>): void;
    pod(e: ReflectorEvent<PodFacts>): void;
    event(e: ReflectorEvent<EventFacts>): void;
    /** One of the workload kinds listed. */
    workloadListed(): void;
  };
}

export function createReflectors(options: ReflectorTableOptions): ReflectorTable {
  const { on, annotations } = options;
  const common = { client: options.client, logger: options.logger, ...options.tuning };
  const tracked = (namespace: string | undefined): boolean => namespace !== undefined && options.isTracked(namespace);
  return {
    namespaces: new Reflector<V1Namespace, NamespaceFacts>({
      ...common,
      name: 'namespaces',
      path: '/api/v1/namespaces',
      transform: trimNamespace,
      onEvent: on.namespace,
      onListed: on.namespacesListed,
    }),
    deployments: new Reflector<V1Deployment, DeploymentFacts>({
      ...common,
      name: 'deployments',
      path: '/apis/apps/v1/deployments',
      filter: (d) => tracked(d.metadata?.namespace),
      transform: (d) => trimDeployment(d, annotations),
      onEvent: on.deployment,
      onListed: on.workloadListed,
    }),
    replicasets: new Reflector<V1ReplicaSet, ReplicaSetFacts>({
      ...common,
      name: 'replicasets',
      path: '/apis/apps/v1/replicasets',
      // Only ReplicaSets a Deployment controls can be a rollout's new ReplicaSet.
      filter: (rs) => tracked(rs.metadata?.namespace) && controllerUid(rs.metadata, 'Deployment') !== undefined,
      transform: trimReplicaSet,
      onEvent: on.replicaSet,
      onListed: on.workloadListed,
    }),
    pods: new Reflector<V1Pod, PodFacts>({
      ...common,
      name: 'pods',
      path: '/api/v1/pods',
      // Only Pods a ReplicaSet controls can belong to a rollout (not Jobs', StatefulSets', bare Pods).
      filter: (p) => tracked(p.metadata?.namespace) && controllerUid(p.metadata, 'ReplicaSet') !== undefined,
      transform: trimPod,
      onEvent: on.pod,
      onListed: on.workloadListed,
    }),
    events: new Reflector<CoreV1Event, EventFacts>({
      ...common,
      name: 'events',
      path: '/api/v1/events',
      fieldSelector: 'type=Warning',
      filter: (ev) => {
        const kind = ev.involvedObject?.kind;
        if (kind !== 'Pod' && kind !== 'ReplicaSet') return false;
        if (!tracked(ev.metadata?.namespace ?? ev.involvedObject?.namespace)) return false;
        return options.isRecent(eventLastSeen(ev));
      },
      transform: trimEvent,
      onEvent: on.event,
      onListed: on.workloadListed,
    }),
  };
}
