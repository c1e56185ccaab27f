/**
 * The rules of src/machines/changesLine.ts (measured under mutation in issue 15), one small
 * scenario each: how many image changes the line names and how the rest are counted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changesText } from '../../src/machines/changesLine.js';
import type { RolloutChanges } from '../../src/machines/notification.js';

function images(n: number): RolloutChanges {
  const list = Array.from({ length: n }, (_, i) => ({ container: `c${i + 1}`, init: false, from: `reg/app${i + 1}:1`, to: `reg/app${i + 1}:2` }));
  return { images: list, fields: [], moreFields: 0, changeCause: null, backTo: null };
}

describe('changesText: image changes', () => {
  it('four image changes are all named, nothing counted', () => {
    const text = changesText(images(4));
    assert.match(text, /`c4`/);
    assert.doesNotMatch(text, /more image/);
  });
  it('a fifth is counted, not named: "1 more image"', () => {
    const text = changesText(images(5));
    assert.match(text, /`c4`/);
    assert.doesNotMatch(text, /`c5`/);
    assert.match(text, /, 1 more image$/);
  });
  it('more than one left out: "2 more images"', () => assert.match(changesText(images(6)), /, 2 more images$/));
});
