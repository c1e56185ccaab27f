/**
 * The chart's unit suites, charts/hermod/tests/*_test.yaml, run by helm-unittest (built from Go
 * modules by scripts/setup-test-env.sh; test/support/helm.ts finds it). One node test per suite:
 * it fails when helm-unittest reports a failure, or when it ran fewer tests than the suite
 * defines (a skipped or unparsed test is not a pass). Without helm-unittest those tests skip and
 * say why.
 *
 * Without any tool: every option in values.yaml is set by some suite (add a suite, or a test to
 * one, with each new value), and no suite is named so that helm-unittest would never run it.
 * With helm: the packaged chart leaves the suites out (.helmignore).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { findHelm, findHelmUnittest } from '../support/helm.js';
import { at, isObj, type Obj } from '../support/objectPath.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const chartDir = join(root, 'charts/hermod');
const testsDir = join(chartDir, 'tests');
const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Obj;
const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as Obj;

const files = readdirSync(testsDir).sort();
const suites = files.filter((f) => f.endsWith('_test.yaml')).map((file) => ({ file, suite: parse(readFileSync(join(testsDir, file), 'utf8')) as Obj }));
const jobs = (suite: Obj): Obj[] => (Array.isArray(suite['tests']) ? suite['tests'].filter(isObj) : []);

/** The options of values.yaml: dotted paths down to where the schema stops describing fields. */
function options(): string[] {
  const out: string[] = [];
  const walk = (value: unknown, node: unknown, path: string): void => {
    const props = at(node, 'properties');
    if (!isObj(value) || !isObj(props) || Object.keys(value).length === 0) {
      out.push(path);
      return;
    }
    for (const [key, child] of Object.entries(value)) walk(child, props[key], path ? `${path}.${key}` : key);
  };
  walk(values, schema, '');
  return out;
}

/** Every dotted path a `set:` block names, objects flattened (`a: {b: 1}` names a and a.b). */
function setPaths(set: unknown, prefix = ''): string[] {
  if (!isObj(set)) return [];
  return Object.entries(set).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...setPaths(value, path)];
  });
}

describe('charts/hermod/tests (helm-unittest suites), read without helm', () => {
  it('has suites, each named *_test.yaml so that helm-unittest runs it', () => {
    assert.ok(suites.length > 0, 'no suite in charts/hermod/tests');
    assert.deepEqual(files.filter((f) => !f.endsWith('_test.yaml')), []);
    for (const { file, suite } of suites) {
      assert.ok(jobs(suite).length > 0, `${file} has no tests`);
      assert.equal(suite['skip'], undefined, `${file} is skipped`);
      for (const job of jobs(suite)) assert.equal(job['skip'], undefined, `${file}: "${String(job['it'])}" is skipped`);
    }
  });

  it('sets every option of values.yaml in some suite', () => {
    const set = new Set(suites.flatMap(({ suite }) => [suite['set'], ...jobs(suite).map((j) => j['set'])].flatMap((s) => setPaths(s))));
    const covered = (option: string): boolean => set.has(option) || [...set].some((p) => p.startsWith(`${option}.`));
    const untested = options().filter((o) => !covered(o));
    assert.deepEqual(untested, [], 'values.yaml options that no suite in charts/hermod/tests sets: add a test for each');
  });
});

const unittest = findHelmUnittest();
if (unittest.skip) console.warn(`chart-unittest.test.ts: SKIPPING the helm-unittest suites: ${unittest.skip}`);

const work = mkdtempSync(join(tmpdir(), 'hermod-chart-unittest-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe(`charts/hermod/tests run by helm-unittest${unittest.version ? ` ${unittest.version}` : ''}`, { skip: unittest.skip ?? false }, () => {
  // helm-unittest writes a __snapshot__ folder beside the suites: run it on a copy of the chart.
  const chart = join(work, 'hermod');
  before(() => cpSync(chartDir, chart, { recursive: true }));
  for (const { file, suite } of suites) {
    it(`${file}: ${String(suite['suite'])}`, () => {
      const out = spawnSync(unittest.path!, ['--strict', '--color=false', '--file', `tests/${file}`, chart], { encoding: 'utf8' });
      const report = `${out.stdout}${out.stderr}`;
      assert.equal(out.status, 0, report);
      const count = jobs(suite).length;
      // "Tests: 12 passed, 12 total": no failure, nothing skipped, every test of the file run.
      assert.match(out.stdout, new RegExp(`^Tests:\\s+${count} passed, ${count} total$`, 'm'), report);
    });
  }
});

const helm = findHelm();

describe('the packaged chart', { skip: helm.skip ?? false }, () => {
  it('leaves the unit suites out (.helmignore)', () => {
    const out = spawnSync(helm.path!, ['package', chartDir, '--destination', join(work, 'package')], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const archive = readdirSync(join(work, 'package')).find((f) => f.endsWith('.tgz'));
    assert.ok(archive, out.stdout);
    const listing = spawnSync('tar', ['-tzf', join(work, 'package', archive)], { encoding: 'utf8' });
    assert.equal(listing.status, 0, listing.stderr);
    const entries = listing.stdout.split('\n').filter(Boolean);
    assert.ok(entries.includes('hermod/templates/deployment.yaml'), entries.join('\n'));
    assert.deepEqual(entries.filter((e) => e.startsWith('hermod/tests/')), []);
  });
});
