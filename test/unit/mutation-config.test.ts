/**
 * The mutation run's test list (stryker.config.mjs, FAST_TESTS) misses no unit test that loads
 * src/machines (issue 15): a glob once left out release-queue-accept.test.ts, and the mutants
 * its rule tests kill counted as survivors. A unit file that loads a machine module (a value
 * import, directly or through test/support) is either in the list or in NOT_MUTATION_TESTS
 * below, with the reason.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { FAST_TEST_FILES } from '../../stryker.config.mjs';

/**
 * Unit files that load src/machines but are left out of the mutation run, on purpose: each is
 * about the I/O layer, the chart or the whole process, and reads a constant or two of
 * src/machines, or (leak.test.ts) runs 10,000 rollouts through the actors for every mutant it
 * would reach.
 */
const NOT_MUTATION_TESTS: Record<string, string> = {
  // The Helm chart's values against the CLI's options; reads only the list of message modes.
  'test/unit/chart.test.ts': 'the chart against the config, one constant of message.ts',
  // The memory check of the long-running parts: 10,000 rollouts through the supervisor, delivery and renderer.
  'test/unit/leak.test.ts': 'memory over many rollouts through the actors',
  // The kube layer's namespaced watches against a local API server; reads the default annotation names.
  'test/unit/namespaced-watches.test.ts': 'the kube layer against a local API server',
};

/** The module specifiers a TypeScript file loads at run time (`import type` and all-type imports left out). */
export function valueImports(source: string): string[] {
  const out: string[] = [];
  const statement = /^[ \t]*(?:import|export)\s+(type\s+)?(?:([^'";]*?)\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(statement)) {
    if (m[1] !== undefined) continue;
    const clause = m[2];
    if (clause !== undefined) {
      const braces = /^\{([^}]*)\}$/.exec(clause.trim());
      const names = braces?.[1]?.split(',').map((n) => n.trim()).filter((n) => n !== '');
      if (names !== undefined && names.length > 0 && names.every((n) => n.startsWith('type '))) continue;
    }
    out.push(m[3]!);
  }
  for (const m of source.matchAll(/(?:^|[=(\s])import\(\s*['"]([^'"]+)['"]\s*\)/gm)) out.push(m[1]!);
  return out;
}

/** A relative `.js` specifier as the repository path of its TypeScript source. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return normalize(join(dirname(from), specifier)).replace(/\.js$/, '.ts');
}

/** Whether `file` loads a module of src/machines, itself or through the test/support files it loads. */
export function loadsMachines(file: string, read: (path: string) => string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  for (const specifier of valueImports(read(file))) {
    const target = resolveSpecifier(file, specifier);
    if (target === undefined) continue;
    if (target.startsWith('src/machines/')) return true;
    if (target.startsWith('test/support/') && loadsMachines(target, read, seen)) return true;
  }
  return false;
}

const readSource = (path: string): string => readFileSync(path, 'utf8');
const unitFiles = readdirSync('test/unit')
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => relative('.', join('test/unit', f)))
  .sort();

describe('the mutation run lists every unit test that loads src/machines', () => {
  it('each unit file that loads a machine module is in FAST_TESTS or named, with its reason, in NOT_MUTATION_TESTS', () => {
    const missing = unitFiles.filter((f) => loadsMachines(f, readSource) && !FAST_TEST_FILES.includes(f) && !(f in NOT_MUTATION_TESTS));
    assert.deepEqual(missing, [], 'add them to FAST_TESTS in stryker.config.mjs (or to NOT_MUTATION_TESTS with the reason)');
  });

  it('each exclusion names a unit file that exists, loads a machine module and is not in the list anyway', () => {
    for (const file of Object.keys(NOT_MUTATION_TESTS)) {
      assert.ok(unitFiles.includes(file), `${file} does not exist`);
      assert.ok(loadsMachines(file, readSource), `${file} loads no machine module: no need to exclude it`);
      assert.ok(!FAST_TEST_FILES.includes(file), `${file} is in FAST_TESTS and excluded`);
    }
  });
});

describe('which imports load a module', () => {
  it('value imports count; `import type` and imports of types only do not', () => {
    const source = [
      "import { a } from '../../src/machines/a.js';",
      "import type { B } from '../../src/machines/b.js';",
      "import { type C, type D } from '../../src/machines/c.js';",
      "import { type E, f } from '../../src/machines/e.js';",
      "import * as g from './g.js';",
      "import './side-effect.js';",
      "export { h } from './h.js';",
      "const i = await import('./i.js');",
    ].join('\n');
    assert.deepEqual(valueImports(source), ['../../src/machines/a.js', '../../src/machines/e.js', './g.js', './side-effect.js', './h.js', './i.js']);
  });

  it('a machine module loaded through test/support counts; one loaded through src/actors does not', () => {
    const files: Record<string, string> = {
      'test/unit/x.test.ts': "import { helper } from '../support/helper.js';",
      'test/support/helper.ts': "import { other } from './other.js';",
      'test/support/other.ts': "import { rule } from '../../src/machines/rule.js';",
      'test/unit/y.test.ts': "import { actor } from '../../src/actors/actor.js';",
    };
    const read = (path: string): string => files[path] ?? '';
    assert.equal(loadsMachines('test/unit/x.test.ts', read), true);
    assert.equal(loadsMachines('test/unit/y.test.ts', read), false);
  });
});
