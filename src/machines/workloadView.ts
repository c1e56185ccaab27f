/**
 * The view model of a rollout (what its Slack message shows), built from the workload's latest
 * observation: pure, for the workload statechart (./deploymentMachine.ts) and for the repair
 * at takeover (src/actors/repair.ts). Also what counts as a visible change, so an unchanged
 * observation (a resync, an unrelated Pod) stays silent.
 */
import { kindOf, type RolloutObservation } from './facts.js';
import { diagnose, isStuckPod } from './diagnosis.js';
import { rolloutIdOf, type Diagnosis, type RolloutPhase, type RolloutView } from './notification.js';
import { blockedOn, type BlockingPod } from './setRollingUpdate.js';
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
 * The pod a StatefulSet's or DaemonSet's rolling update waits on, its Node, and whether it is
 * the stuck pod the update cannot get past (./setRollingUpdate.ts). Otherwise a StatefulSet's
 * lowest not-ready new ordinal; a DaemonSet's first stuck new pod (by name).
 */
function waitingOn(observation: RolloutObservation, blocked: BlockingPod | null): Pick<RolloutView, 'waitingOn' | 'waitingOnNode' | 'blockedBy'> {
  const w = observation.deployment;
  const newPods = observation.pods;
  if (blocked !== null) {
    return { waitingOn: blocked.pod.name, waitingOnNode: blocked.pod.node ?? null, blockedBy: blocked.staleRevision ? 'staleRevision' : 'stuck' };
  }
  const stuck = w.kind === 'DaemonSet' ? newPods.filter((p) => !p.deleting && isStuckPod(p)).sort((a, b) => (a.name < b.name ? -1 : 1))[0] : undefined;
  const name = stuck?.name ?? waitingOnPod(w, newPods);
  return { waitingOn: name, waitingOnNode: newPods.find((p) => p.name === name)?.node ?? null, blockedBy: null };
}

/**
 * The diagnosis shown: the new pods' problems, led by those of a stuck pod of another revision
 * the update waits on (its CrashLoopBackOff, exit code) when there is one; the counts stay the new pods'.
 */
function shownDiagnosis(observation: RolloutObservation, diagnosis: Diagnosis, blocked: BlockingPod | null): Diagnosis {
  if (blocked === null || !blocked.staleRevision) return diagnosis;
  const stale = diagnose({ deployment: observation.deployment, newReplicaSet: null, pods: [blocked.pod], warnings: [] });
  return { ...diagnosis, problems: [...stale.problems, ...diagnosis.problems] };
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
  const blocked = kind === 'Deployment' ? null : blockedOn(observation);
  const diagnosis = shownDiagnosis(observation, diagnosisOf(observation, base.startedAt), blocked);
  const templates = templatesOf(observation);
  return {
    rolloutId: rolloutIdOf(d.uid, revision),
    namespace: d.namespace,
    // Deployment views keep their shape from before other kinds were tracked.
    ...(kind === 'Deployment' ? {} : { kind, partition: partitionOf(d), ...waitingOn(observation, blocked) }),
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
    view.blockedBy,
  ]);
}
