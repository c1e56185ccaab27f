/**
 * The view model of a rollout (what its Slack message shows), built from the workload's latest
 * observation: pure, for the workload statechart (./deploymentMachine.ts) and for the repair
 * at takeover (src/actors/repair.ts). Also what counts as a visible change, so an unchanged
 * observation (a resync, an unrelated Pod) stays silent.
 */
import { kindOf, type PodFacts, type RolloutObservation, type WorkloadFacts } from './facts.js';
import { diagnose, isStuckPod } from './diagnosis.js';
import type { Diagnosis, RolloutPhase, RolloutView } from './notification.js';
import { crashLogTarget } from './crashLog.js';
import { templateChanges } from './templateChanges.js';
import { deadlineSecondsOf, newRevisionName, observedProgress, partitionOf, rollbackHistory, templatesOf, waitingOnPod, workloadStatus } from './workloadRollout.js';

// diagnose() walks the Pods; several guards and actions of one transition ask about the same
// observation. The answer depends on the observation AND on the rollout's start (warnings seen
// before it are left out), so the cache is keyed on both: one observation object may reach
// actors whose rollouts started at different times.
const diagnoses = new WeakMap<RolloutObservation, { since: number | undefined; diagnosis: Diagnosis }>();
export function diagnosisOf(observation: RolloutObservation, since: number | undefined): Diagnosis {
  const cached = diagnoses.get(observation);
  if (cached !== undefined && cached.since === since) return cached.diagnosis;
  const diagnosis = diagnose(observation, since === undefined ? undefined : { since });
  diagnoses.set(observation, { since, diagnosis });
  return diagnosis;
}

/**
 * The pod a StatefulSet's or DaemonSet's rolling update waits on, and its Node: a StatefulSet's
 * lowest not-ready new ordinal; a DaemonSet's first stuck new pod (by name), which holds the
 * rollout's maxUnavailable while it crash-loops or cannot pull its image.
 */
function waitingOn(w: WorkloadFacts, newPods: readonly PodFacts[]): { waitingOn: string | null; waitingOnNode: string | null } {
  const stuck = w.kind === 'DaemonSet' ? newPods.filter((p) => !p.deleting && isStuckPod(p)).sort((a, b) => (a.name < b.name ? -1 : 1))[0] : undefined;
  const name = stuck?.name ?? waitingOnPod(w, newPods);
  return { waitingOn: name, waitingOnNode: newPods.find((p) => p.name === name)?.node ?? null };
}

/** The view of a rollout from its latest observation; `base` carries what only the start knows. */
export function viewFrom(
  observation: RolloutObservation,
  phase: RolloutPhase,
  base: Pick<RolloutView, 'startedAt' | 'previousRevision' | 'adopted'>,
): RolloutView {
  const d = observation.deployment;
  const kind = kindOf(d);
  const status = workloadStatus(d, observation.pods);
  const revision = d.revision ?? 0;
  const history = rollbackHistory(observation);
  const diagnosis = diagnosisOf(observation, base.startedAt);
  const templates = templatesOf(observation);
  return {
    rolloutId: `${d.uid}/${revision}`,
    namespace: d.namespace,
    // Deployment views keep their shape from before other kinds were tracked.
    ...(kind === 'Deployment' ? {} : { kind, partition: partitionOf(d), ...waitingOn(d, observation.pods) }),
    deployment: d.name,
    revision,
    previousRevision: base.previousRevision,
    rolledBackTo: history,
    replicaSet: newRevisionName(observation),
    phase,
    startedAt: base.startedAt,
    endedAt: null,
    adopted: base.adopted,
    progressDeadlineSeconds: deadlineSecondsOf(observation),
    progress: observedProgress(observation),
    diagnosis,
    git: d.git,
    supersededBy: null,
    detail: status.message,
    changes: templateChanges(templates.previous, templates.next, history),
    crashTarget: diagnosis.stuckPods > 0 ? crashLogTarget(observation.pods) : null,
    ...(observation.target.mentions !== undefined ? { mentions: observation.target.mentions } : {}),
  };
}

/** What a message shows, so unchanged observations (a resync, an unrelated Pod) stay silent. */
export function visibleState(view: RolloutView): string {
  return JSON.stringify([
    view.phase,
    view.progress,
    view.diagnosis,
    view.replicaSet,
    view.rolledBackTo,
    view.git,
    view.changes,
    view.crashTarget,
    view.mentions,
    view.partition,
    view.waitingOn,
    view.waitingOnNode,
  ]);
}
