/**
 * Repair and catch-up at start and at every takeover (issue 9), from the persisted state and
 * the synced watch caches. Pure: it returns the notifications to deliver.
 *
 * - A persisted message whose rollout is still in flight is left to the Deployment actor
 *   (it adopts the rollout and the delivery edits the message, as after any restart).
 * - A persisted message whose rollout ended while no Hermod ran is edited to its final state:
 *   succeeded or failed (the same revision, as `kubectl rollout status` reads it), superseded
 *   (a newer revision), deleted (the Deployment is gone).
 * - A rollout of a workload the state knows that started and ended entirely while no Hermod
 *   ran (a revision newer than every record) gets one message in its final state, marked as
 *   reported late, if it ended within `catchUpMs` (0: never). Workloads never recorded are not
 *   announced.
 */
import { viewFrom } from '../machines/workloadView.js';
import { isDeploymentFacts, type RolloutObservation } from '../machines/facts.js';
import { isFinalPhase, rolloutIdOf, splitRolloutId, type Notification, type RolloutPhase, type RolloutView } from '../machines/notification.js';
import { adoptedRolloutStart } from '../machines/controllerRevisions.js';
import { progressDeadlineExceeded } from '../machines/rollout.js';
import { deadlinePassed, deadlineSecondsOf, hasOwnDeadline, lateCatchUpNote, ownDeadlineDetail, workloadStatus, type VerdictSource } from '../machines/workloadRollout.js';
import type { DeliverySnapshot } from './delivery/index.js';

export interface RepairInput {
  snapshot: DeliverySnapshot | undefined;
  /** Deployment names of recorded rollouts (the journal keeps them), for a deleted Deployment's message. */
  names: ReadonlyMap<string, string>;
  /** The latest observation of every Deployment, by uid (synced caches). */
  observations: ReadonlyMap<string, RolloutObservation>;
  /** Rollouts this process already has a notification for: the live path covers them. */
  covered: ReadonlySet<string>;
  now: number;
  catchUpMs: number;
}

/** When a StatefulSet's or DaemonSet's rollout started: when its new ControllerRevision was made (else now). */
function setRolloutStart(observation: RolloutObservation, now: number): number {
  return adoptedRolloutStart(observation.newRevision, now);
}

/** The verdict of a workload at rest at `now`, or null while it is still rolling out. */
function verdictOf(observation: RolloutObservation, now: number): 'succeeded' | 'failed' | null {
  const w = observation.deployment;
  if (workloadStatus(w).state === 'complete') return 'succeeded';
  if (isDeploymentFacts(w)) return progressDeadlineExceeded(w) ? 'failed' : null;
  // StatefulSets and DaemonSets fail at Hermod's own deadline, counted from their revision's start.
  return deadlinePassed(w, now, setRolloutStart(observation, now), deadlineSecondsOf(observation)) ? 'failed' : null;
}

/**
 * When the verdict came, and who gave it: a Deployment's Progressing condition's last change
 * (the controller); a StatefulSet's or DaemonSet's failure when Hermod's deadline passed. Else
 * `fallback` (now), as found by Hermod: a StatefulSet's or DaemonSet's status keeps no time of completion.
 */
function verdictTime(observation: RolloutObservation, fallback: number, verdict?: 'succeeded' | 'failed' | null): { at: number; source: VerdictSource } {
  const w = observation.deployment;
  if (verdict === 'failed' && hasOwnDeadline(w.kind ?? 'Deployment')) {
    return { at: Math.min(fallback, setRolloutStart(observation, fallback) + deadlineSecondsOf(observation) * 1000), source: 'deadline' };
  }
  const condition = isDeploymentFacts(w) ? w.status.conditions.find((c) => c.type === 'Progressing') : undefined;
  const at = condition?.lastUpdateTime === undefined ? NaN : Date.parse(condition.lastUpdateTime);
  return Number.isNaN(at) ? { at: fallback, source: 'observed' } : { at, source: 'controller' };
}

function finalView(observation: RolloutObservation, phase: RolloutPhase, at: number): RolloutView {
  // A StatefulSet's or DaemonSet's start is known from its revision; a Deployment's is not kept.
  const own = hasOwnDeadline(observation.deployment.kind ?? 'Deployment');
  const startedAt = own ? Math.min(at, setRolloutStart(observation, at)) : at;
  const view = { ...viewFrom(observation, phase, { startedAt, previousRevision: null, adopted: true }), endedAt: at };
  return phase === 'failed' && own ? { ...view, detail: ownDeadlineDetail(view) } : view;
}

/** The notifications that bring Slack up to date; see the module comment. */
export function repairNotifications(input: RepairInput): Notification[] {
  const out: Notification[] = [];
  const known = new Set<string>();
  const knownUids = new Set<string>();
  for (const c of input.snapshot?.channels ?? []) {
    for (const id of [...c.rollouts.map((r) => r.rolloutId), ...c.finished]) {
      known.add(id);
      knownUids.add(splitRolloutId(id).uid);
    }
  }
  const channelOfUid = new Map<string, string>();
  for (const c of input.snapshot?.channels ?? []) {
    for (const r of c.rollouts) {
      const { uid, revision } = splitRolloutId(r.rolloutId);
      channelOfUid.set(uid, c.channel);
      if (r.ts === null || (r.sentPhase !== null && isFinalPhase(r.sentPhase)) || input.covered.has(r.rolloutId)) continue;
      const observation = input.observations.get(uid);
      if (observation === undefined) {
        const name = input.names.get(r.rolloutId);
        if (name !== undefined) out.push({ rolloutId: r.rolloutId, channel: c.channel, alert: 'all', view: deletedView(r.rolloutId, r.namespace, name, revision, input.now) });
        continue;
      }
      const current = observation.deployment.revision ?? 0;
      const base = { rolloutId: r.rolloutId, channel: c.channel, alert: observation.target.alert };
      if (current > revision) {
        const { at } = verdictTime(observation, input.now);
        const view = { ...finalView(observation, 'superseded', at), rolloutId: r.rolloutId, revision, replicaSet: null, supersededBy: current };
        out.push({ ...base, view });
        continue;
      }
      const verdict = current === revision ? verdictOf(observation, input.now) : null;
      if (verdict !== null) out.push({ ...base, view: finalView(observation, verdict, verdictTime(observation, input.now, verdict).at) });
    }
  }
  if (input.catchUpMs <= 0) return out;
  for (const [uid, observation] of input.observations) {
    if (!knownUids.has(uid)) continue;
    const rolloutId = rolloutIdOf(uid, observation.deployment.revision);
    if (known.has(rolloutId) || input.covered.has(rolloutId)) continue;
    const verdict = verdictOf(observation, input.now);
    if (verdict === null) continue;
    const { at, source } = verdictTime(observation, input.now, verdict);
    if (input.now - at > input.catchUpMs) continue;
    const view = finalView(observation, verdict, at);
    const note = lateCatchUpNote(verdict, source, at);
    out.push({ rolloutId, channel: channelOfUid.get(uid) ?? observation.target.channel, alert: observation.target.alert, view: { ...view, detail: view.detail === null ? note : `${note} ${view.detail}` } });
  }
  return out;
}

function deletedView(rolloutId: string, namespace: string, deployment: string, revision: number, now: number): RolloutView {
  return {
    rolloutId, namespace, deployment, revision, previousRevision: null, rolledBackTo: [], replicaSet: null, phase: 'deleted',
    startedAt: now, endedAt: now, adopted: true, progressDeadlineSeconds: 600,
    progress: { desired: 0, updated: 0, ready: 0, available: 0, old: 0 },
    diagnosis: { pods: 0, stuckPods: 0, problems: [] },
    git: {}, supersededBy: null, detail: 'The Deployment was deleted while no Hermod was running.',
  };
}
