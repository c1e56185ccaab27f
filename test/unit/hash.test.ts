import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fnv1a } from '../../src/machines/hash.js';
import { contentHash } from '../../src/machines/channelPolicy.js';

describe('fnv1a', () => {
  it('matches the published 32-bit FNV-1a test vectors', () => {
    // From the FNV reference test suite (http://www.isthe.com/chongo/src/fnv/test_fnv.c).
    assert.equal(fnv1a(''), 0x811c9dc5);
    assert.equal(fnv1a('a'), 0xe40c292c);
    assert.equal(fnv1a('foobar'), 0xbf9cf968);
  });

  it('is what contentHash keys content on', () => {
    const text = JSON.stringify({ text: 'hello' });
    assert.equal(contentHash({ text: 'hello' }), `${fnv1a(text).toString(16)}:${text.length}`);
  });
});
