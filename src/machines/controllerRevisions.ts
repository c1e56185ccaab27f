/**
 * What a StatefulSet's or DaemonSet's ControllerRevisions tell on their own, without Hermod
 * having watched them change (issue 11): when the rollout to a revision started (for a rollout
 * adopted at start-up or takeover, and for the repair of one that ended while no Hermod ran),
 * and which revision an undo went back to. Pure: facts in, numbers out; "unknown" is an answer.
 */
import type { ControllerRevisionFacts } from './facts.js';

/**
 * When the rollout to `revision` started, as the API server recorded it: the later of its
 * creation and its last write by the controller. A new template makes a new ControllerRevision
 * (creationTimestamp); `kubectl rollout undo` makes the controller renumber an old one, which
 * leaves its creationTimestamp alone and stamps only its managedFields time. Undefined when the
 * revision carries neither.
 */
export function revisionStartedAt(revision: ControllerRevisionFacts | null | undefined): number | undefined {
  if (revision == null) return undefined;
  let at: number | undefined;
  for (const t of [revision.created, revision.written]) {
    if (t !== undefined && Number.isFinite(t) && (at === undefined || t > at)) at = t;
  }
  return at;
}

/**
 * The start of a rollout Hermod did not see begin (adopted at start-up or takeover): when its
 * revision was made (see {@link revisionStartedAt}), never later than `seenAt`, when Hermod
 * first saw it; `seenAt` when the revision does not say.
 */
export function adoptedRolloutStart(revision: ControllerRevisionFacts | null | undefined, seenAt: number): number {
  const at = revisionStartedAt(revision);
  return at === undefined ? seenAt : Math.min(at, seenAt);
}

/**
 * The revision number `target` had before an undo renumbered it, read from its owner's
 * revisions alone (for an undo Hermod did not watch), or null when that cannot be known.
 *
 * - Renumbered at all: a revision with a lower number was created after it (numbers are handed
 *   out as max + 1 when a revision is made, so a later one always got a higher number than
 *   every revision then present). Timestamps have whole seconds: a tie proves nothing.
 * - Which number: the controller never hands a number out twice, so the one the target left
 *   is missing below it. Revisions pruned by `revisionHistoryLimit`, and earlier undos, leave
 *   numbers missing too: only when exactly one number is missing is it the target's.
 */
export function inferredRollbackFrom(target: ControllerRevisionFacts, revisions: readonly ControllerRevisionFacts[]): number | null {
  const created = target.created;
  if (created === undefined || !Number.isInteger(target.revision) || target.revision < 2) return null;
  const renumbered = revisions.some((r) => r.uid !== target.uid && r.revision < target.revision && r.created !== undefined && r.created > created);
  if (!renumbered) return null;
  const below = [...new Set(revisions.map((r) => r.revision))].filter((n) => Number.isInteger(n) && n >= 1 && n < target.revision).sort((a, b) => a - b);
  if (below.length !== target.revision - 2) return null;
  // Exactly one number in 1..target-1 is missing: the first gap in the sorted list, or the last number.
  for (let i = 0; i < below.length; i++) if (below[i] !== i + 1) return i + 1;
  return target.revision - 1;
}

/**
 * The target revision with its earlier numbers: those Hermod saw while it watched, else the
 * one inferred from the owner's revisions ({@link inferredRollbackFrom}). A copy when it adds
 * anything: facts from a cache are never changed.
 */
export function withRollbackHistory(target: ControllerRevisionFacts, revisions: readonly ControllerRevisionFacts[]): ControllerRevisionFacts {
  if (target.revisionHistory.length > 0) return target;
  const from = inferredRollbackFrom(target, revisions);
  return from === null ? target : { ...target, revisionHistory: [from] };
}
