/**
 * Which surviving mutants docs/testing-mutation.md explains (scripts/mutationDoc.ts): the rule
 * `npm run test:mutation -- --report-only` applies to list the survivors nobody explained.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Survivor } from '../../scripts/mutation.js';
import { explanationsIn, lineNumbers, staleExplanations, unexplained } from '../../scripts/mutationDoc.js';

function survivor(file: string, line: number, original: string, mutator = 'ConditionalExpression'): Survivor {
  return { status: 'survived', file: `src/machines/${file}`, line, column: 1, mutator, original, replacement: 'true' };
}

const DOC = [
  '## Surviving mutants',
  '',
  '### src/machines/rollout.ts',
  '',
  '| line | mutant | why |',
  '| ---: | --- | --- |',
  "| 32 | ConditionalExpression: `typeof n === 'number'` → `true` | Equivalent: `Number.isFinite` says no first. |",
  '| 40-41, 50 | `a \\|\\| b` → `a && b` | Equivalent. |',
  '',
  'Killed since:',
  '',
  '| lines | pinned by |',
  '| --- | --- |',
  '| 60 | `x > 0` |',
  '',
  '### src/machines/bake.ts, src/machines/bakePolicy.ts',
  '',
  '| line | mutant | why |',
  '| ---: | --- | --- |',
  '| `bakePolicy.ts` 22 | `c.to ?? \'\'` → `"Stryker was here!"` | Equivalent. |',
  '',
  '## Figures',
  '',
  '| line | mutant | why |',
  '| --- | --- | --- |',
  '| 99 | `y` | not a section of src/machines |',
].join('\n');

describe("the doc's explanation rows", () => {
  const rows = explanationsIn(DOC);

  it('a row explains a survivor of its section at one of its lines whose code it quotes', () => {
    assert.deepEqual(unexplained([survivor('rollout.ts', 32, "typeof n === 'number'")], rows), []);
  });

  it('the same code at another line is not explained (the row went stale when the code moved)', () => {
    const moved = survivor('rollout.ts', 33, "typeof n === 'number'");
    assert.deepEqual(unexplained([moved], rows), [moved]);
  });

  it('other code at the line is not explained (the row is about what was there)', () => {
    const other = survivor('rollout.ts', 32, 'n > 0', 'EqualityOperator');
    assert.deepEqual(unexplained([other], rows), [other]);
  });

  it('a part of a quoted condition is explained, and a quoted part of the mutated code; `\\|` is a `|`', () => {
    assert.deepEqual(unexplained([survivor('rollout.ts', 41, 'b'), survivor('rollout.ts', 50, 'a || b || c', 'LogicalOperator')], rows), []);
  });

  it('ranges and lists of lines: 40-41 and 50, not 42', () => {
    assert.deepEqual(lineNumbers('40-41, 50'), [40, 41, 50]);
    assert.deepEqual(lineNumbers('148–149'), [148, 149]);
    assert.deepEqual(lineNumbers('`changesLine.ts` 22'), [22]);
    const between = survivor('rollout.ts', 42, 'a');
    assert.deepEqual(unexplained([between], rows), [between]);
  });

  it('a row whose first cell names a file of its section is about that file only', () => {
    assert.deepEqual(unexplained([survivor('bakePolicy.ts', 22, "''", 'StringLiteral')], rows), []);
    const sameLineOtherFile = survivor('bake.ts', 22, "''", 'StringLiteral');
    assert.deepEqual(unexplained([sameLineOtherFile], rows), [sameLineOtherFile]);
  });

  it('only tables whose last column is "why", in sections of src/machines files, explain', () => {
    const killedTable = survivor('rollout.ts', 60, 'x > 0', 'EqualityOperator');
    const notASection = survivor('rollout.ts', 99, 'y');
    assert.deepEqual(unexplained([killedTable, notASection], rows), [killedTable, notASection]);
    assert.equal(rows.length, 3);
  });

  it('rows that explain no survivor of a reported file are stale; rows of files not in the report are not judged', () => {
    const stale = staleExplanations([survivor('rollout.ts', 32, "typeof n === 'number'")], rows, ['src/machines/rollout.ts']);
    assert.deepEqual(
      stale.map((r) => r.lineCell),
      ['40-41, 50'],
    );
  });
});
