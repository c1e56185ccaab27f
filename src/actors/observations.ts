/**
 * A WatchSink in front of the supervisor that keeps the latest observation of every tracked
 * Deployment by uid: what repair and catch-up (./repair.ts) read at a takeover. It forwards
 * everything unchanged.
 */
import type { RolloutObservation } from '../machines/facts.js';
import type { WatchSink } from './watchSink.js';

export interface ObservationTee extends WatchSink {
  /** The latest observation of every tracked Deployment, by uid. */
  latest(): ReadonlyMap<string, RolloutObservation>;
}

export function observationTee(sink: WatchSink): ObservationTee {
  const byUid = new Map<string, RolloutObservation>();
  return {
    observe(observation) {
      byUid.set(observation.deployment.uid, observation);
      sink.observe(observation);
    },
    deploymentDeleted(ref, at) {
      byUid.delete(ref.uid);
      sink.deploymentDeleted(ref, at);
    },
    namespaceUntracked(namespace, at) {
      for (const [uid, o] of byUid) if (o.deployment.namespace === namespace) byUid.delete(uid);
      sink.namespaceUntracked(namespace, at);
    },
    synced() {
      sink.synced();
    },
    latest: () => byUid,
  };
}
