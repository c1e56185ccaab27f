import type { RolloutObservation, WorkloadKind } from '../machines/facts.js';

/**
 * What the Kubernetes watch layer (src/io/kube) hands to the actor system. Implementations
 * only translate and enqueue: they never do I/O and never block the watch.
 */
export interface WatchSink {
  /**
   * The Deployment, its new ReplicaSet, that ReplicaSet's Pods or their Warning events
   * changed (or the caches were (re)listed). Level-based: the same observation twice is harmless.
   */
  observe(observation: RolloutObservation): void;
  /** The workload was deleted (uid identifies which incarnation; `kind` absent means a Deployment). */
  deploymentDeleted(ref: { namespace: string; name: string; uid: string; kind?: WorkloadKind }, at: number): void;
  /** The namespace lost its `hermod.uswitch.com/slack` annotation (or was deleted). */
  namespaceUntracked(namespace: string, at: number): void;
  /** Every watch has listed once: from now on observations are live. Called once. */
  synced(): void;
}
