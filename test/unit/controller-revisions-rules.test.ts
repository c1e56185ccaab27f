/**
 * The rules of src/machines/controllerRevisions.ts (issue 11, measured under mutation in issue
 * 15), one small scenario each: when a revision's rollout started, the start of an adopted
 * rollout, and which number an undo Hermod did not watch took a revision from.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adoptedRolloutStart, inferredRollbackFrom, revisionStartedAt, withRollbackHistory } from '../../src/machines/controllerRevisions.js';
import type { ControllerRevisionFacts } from '../../src/machines/facts.js';

function rev(revision: number, created?: number, extra: Partial<ControllerRevisionFacts> = {}): ControllerRevisionFacts {
  return { uid: `uid-${revision}`, namespace: 'shop', name: `web-${revision}`, revision, revisionHistory: [], podHash: `h${revision}`, ...(created !== undefined ? { created } : {}), ...extra };
}

describe('revisionStartedAt: the later of creation and the last write', () => {
  it('creation alone', () => assert.equal(revisionStartedAt(rev(3, 5_000)), 5_000));
  it('the last write alone (an undo stamps only managedFields)', () => assert.equal(revisionStartedAt(rev(3, undefined, { written: 7_000 })), 7_000));
  it('written after creation: the write', () => assert.equal(revisionStartedAt(rev(3, 5_000, { written: 7_000 })), 7_000));
  it('written before creation (clock skew): the creation', () => assert.equal(revisionStartedAt(rev(3, 5_000, { written: 4_000 })), 5_000));
  it('a time that is not finite is ignored', () => assert.equal(revisionStartedAt(rev(3, Number.NaN, { written: 7_000 })), 7_000));
  it('an infinite write is ignored', () => assert.equal(revisionStartedAt(rev(3, 5_000, { written: Number.POSITIVE_INFINITY })), 5_000));
  it('neither: unknown', () => assert.equal(revisionStartedAt(rev(3)), undefined));
  it('no revision: unknown', () => assert.equal(revisionStartedAt(null), undefined));
});

describe('adoptedRolloutStart: when the revision was made, never after Hermod saw it', () => {
  it('made before Hermod saw it: then', () => assert.equal(adoptedRolloutStart(rev(3, 5_000), 9_000), 5_000));
  it('stamped after Hermod saw it: when Hermod saw it', () => assert.equal(adoptedRolloutStart(rev(3, 12_000), 9_000), 9_000));
  it('the revision says nothing: when Hermod saw it', () => assert.equal(adoptedRolloutStart(rev(3), 9_000), 9_000));
});

describe('inferredRollbackFrom: the number an undo took the target from', () => {
  // Revisions 1..4 made in order; an undo to the template of revision 2 renumbers it to 5: 2 is missing.
  const undone = rev(5, 2_000, { uid: 'uid-two' });
  const others = [rev(1, 1_000), rev(3, 3_000), rev(4, 4_000)];
  it('one number missing below it, and a lower revision made after it: that number', () => assert.equal(inferredRollbackFrom(undone, [...others, undone]), 2));
  it('the missing number is the last below it', () => {
    const target = rev(4, 1_500, { uid: 'uid-x' });
    assert.equal(inferredRollbackFrom(target, [rev(1, 1_000), rev(2, 2_000), target]), 3);
  });
  it('the missing number is the first', () => {
    const target = rev(4, 500, { uid: 'uid-x' });
    assert.equal(inferredRollbackFrom(target, [rev(2, 2_000), rev(3, 3_000), target]), 1);
  });
  it('the revisions may come in any order', () => assert.equal(inferredRollbackFrom(undone, [rev(4, 4_000), undone, rev(3, 3_000), rev(1, 1_000)]), 2));
  it('not renumbered (every lower revision is older): null', () => assert.equal(inferredRollbackFrom(rev(5, 9_000), [rev(1, 1_000), rev(3, 3_000), rev(4, 4_000)]), null));
  it('a tie in creation time proves nothing', () => assert.equal(inferredRollbackFrom(rev(5, 4_000, { uid: 'uid-two' }), [rev(1, 1_000), rev(3, 3_000), rev(4, 4_000)]), null));
  it('only a LOWER revision made later counts, not a higher one', () =>
    assert.equal(inferredRollbackFrom(rev(3, 2_000, { uid: 'uid-x' }), [rev(1, 1_000), rev(4, 4_000)]), null));
  it('a revision with the same number made later does not count', () =>
    assert.equal(inferredRollbackFrom(rev(3, 2_000, { uid: 'uid-x' }), [rev(1, 1_000), rev(3, 4_000, { uid: 'uid-y' })]), null));
  it('the target itself does not count, even under another number', () =>
    assert.equal(inferredRollbackFrom(rev(4, 2_000, { uid: 'uid-x' }), [rev(1, 1_000), rev(2, 9_000, { uid: 'uid-x' })]), null));
  it('a lower revision without a creation time does not count', () =>
    assert.equal(inferredRollbackFrom(rev(3, 2_000, { uid: 'uid-x' }), [rev(1), rev(1, 1_000, { uid: 'uid-1b' })]), null));
  it('the target without a creation time: null', () => assert.equal(inferredRollbackFrom(rev(5, undefined, { uid: 'uid-two' }), others), null));
  it('a target numbered 1 or 2 cannot have been renumbered from below with one number missing', () => {
    assert.equal(inferredRollbackFrom(rev(2, 500, { uid: 'uid-x' }), [rev(1, 1_000)]), null);
    assert.equal(inferredRollbackFrom(rev(1, 500, { uid: 'uid-x' }), [rev(0, 1_000)]), null);
  });
  it('a target number that is not an integer: null', () => assert.equal(inferredRollbackFrom(rev(4.5, 500, { uid: 'uid-x' }), [rev(1, 1_000), rev(2, 2_000), rev(3, 3_000)]), null));
  it('two numbers missing (pruned history): null', () => assert.equal(inferredRollbackFrom(undone, [rev(3, 3_000), rev(4, 4_000)]), null));
  it('numbers below 1 or not integers are not counted as present', () => {
    assert.equal(inferredRollbackFrom(undone, [rev(0, 6_000), rev(3, 3_000), rev(4, 4_000)]), null);
    assert.equal(inferredRollbackFrom(undone, [rev(2.5, 6_000), rev(3, 3_000), rev(4, 4_000)]), null);
  });
  it('numbers above the target are not counted', () => assert.equal(inferredRollbackFrom(rev(4, 500, { uid: 'uid-x' }), [rev(2, 2_000), rev(6, 6_000), rev(7, 7_000)]), null));
  it('numbers are compared as numbers (10 after 9), not as text', () => {
    const target = rev(11, 500, { uid: 'uid-x' });
    const present = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter((n) => n !== 9).map((n) => rev(n, n * 1_000));
    assert.equal(inferredRollbackFrom(target, [...present.reverse(), target]), 9);
  });
});

describe('withRollbackHistory', () => {
  const undone = rev(5, 2_000, { uid: 'uid-two' });
  const revisions = [rev(1, 1_000), rev(3, 3_000), rev(4, 4_000), undone];
  it('adds the inferred number', () => assert.deepEqual(withRollbackHistory(undone, revisions).revisionHistory, [2]));
  it('keeps a history Hermod saw, the same object', () => {
    const seen = { ...undone, revisionHistory: [1] };
    assert.equal(withRollbackHistory(seen, revisions), seen);
  });
  it('nothing to infer: the same object, never changed', () => {
    const target = rev(5, 9_000);
    assert.equal(withRollbackHistory(target, [rev(1, 1_000), target]), target);
    assert.deepEqual(target.revisionHistory, []);
  });
});
