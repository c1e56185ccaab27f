/**
 * The sample of model paths that mutation runs walk (test/support/modelPaths.ts): every path
 * without a stride; with one, every n-th path and still every transition of the model.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMachine } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { modelPaths } from '../support/modelPaths.js';

const model = createMachine({
  id: 'small',
  initial: 'a',
  states: {
    a: { on: { GO: 'b', SKIP: 'c' } },
    b: { on: { GO: 'c', BACK: 'a', STOP: 'd' } },
    c: { on: { BACK: 'b', STOP: 'd' } },
    d: { type: 'final' },
  },
});
const paths = createTestModel(model).getSimplePaths();

/** Every "state -> event" a set of paths takes. */
function taken(ps: typeof paths): Set<string> {
  const out = new Set<string>();
  for (const p of ps) {
    let before = '';
    for (const s of p.steps) {
      out.add(`${before} -> ${s.event.type}`);
      before = JSON.stringify(s.state.value);
    }
  }
  return out;
}

describe('model paths under mutation testing', () => {
  it('without a stride (or a stride of 1) every path is walked, in order', () => {
    assert.deepEqual(modelPaths(paths, 1), paths);
    assert.deepEqual(modelPaths(paths, Number.NaN), paths);
  });

  it('with a stride, every n-th path is walked and every transition of the model still is', () => {
    const sample = modelPaths(paths, 4);
    for (let i = 0; i < paths.length; i += 4) assert.ok(sample.includes(paths[i]!), `path ${i}`);
    assert.ok(sample.length < paths.length, `${sample.length} of ${paths.length}`);
    assert.deepEqual([...taken(sample)].sort(), [...taken(paths)].sort());
  });

  it('a stride larger than the paths walks the first path and one path per transition it misses', () => {
    const sample = modelPaths(paths, 1_000);
    assert.equal(sample[0], paths[0]);
    assert.deepEqual([...taken(sample)].sort(), [...taken(paths)].sort());
  });
});
