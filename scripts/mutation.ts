/**
 * `npm run test:mutation`: StrykerJS over src/machines (stryker.config.mjs) against the fast
 * tests, then one JSON line with the totals (the last line of the output):
 *   {"mutants":N,"killed":N,"timedOut":N,"survived":N,"noCoverage":N,"score":NN.NN}
 *
 *   npm run test:mutation                                      every file of src/machines
 *   npm run test:mutation -- --mutate src/machines/rollout.ts  one file (any Stryker flag passes through)
 *   npm run test:mutation -- --tests 'test/unit/rollout*.test.ts,test/unit/deployment-machine.test.ts'
 *                                                              only these test files (comma-separated globs)
 *   npm run test:mutation -- --incremental                     only mutants whose code or tests changed
 *                                                              since test/mutation/stryker-incremental.json
 *   npm run test:mutation -- --report-only                     no run: summarise reports/mutation/mutation.json
 *
 * Before the totals it lists every surviving (or uncovered) mutant, then those that no row of
 * docs/testing-mutation.md explains ("not explained: ...", and their count), then the doc's rows
 * that match no survivor any more (scripts/mutationDoc.ts says how a row matches a mutant).
 *
 * Reports: reports/mutation/index.html and reports/mutation/mutation.json (git-ignored).
 * See docs/testing-mutation.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { explanationsIn, staleExplanations, unexplained } from './mutationDoc.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPORT = new URL('../reports/mutation/mutation.json', import.meta.url);
const DOC = new URL('../docs/testing-mutation.md', import.meta.url);

/** The Stryker mutation-testing-report-schema fields read here. */
interface Report {
  files: Record<
    string,
    {
      source: string;
      mutants: Array<{ status: string; mutatorName: string; replacement?: string; location: { start: { line: number; column: number }; end: { line: number; column: number } } }>;
    }
  >;
}

/** A surviving or uncovered mutant: where, which mutator, what it replaced (the first line of it) with what. */
export interface Survivor {
  status: 'survived' | 'nocoverage';
  file: string;
  line: number;
  column: number;
  mutator: string;
  original: string;
  replacement: string;
}

export function survivorList(report: Report): Survivor[] {
  const out: Survivor[] = [];
  for (const file of Object.keys(report.files).sort()) {
    const { source, mutants } = report.files[file]!;
    const lines = source.split('\n');
    for (const m of mutants) {
      if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
      const { start, end } = m.location;
      const line = lines[start.line - 1] ?? '';
      const original = line.slice(start.column - 1, end.line === start.line ? end.column - 1 : undefined).trim();
      const status = m.status === 'Survived' ? 'survived' : 'nocoverage';
      out.push({ status, file, line: start.line, column: start.column, mutator: m.mutatorName, original, replacement: m.replacement ?? '' });
    }
  }
  return out;
}

/** One line per surviving or uncovered mutant: where, which mutator, what it replaced with what. */
export function formatSurvivor(s: Survivor): string {
  return `${s.status} ${s.file}:${s.line}:${s.column} ${s.mutator}: ${JSON.stringify(s.original)} -> ${JSON.stringify(s.replacement)}`;
}

export interface Totals {
  mutants: number;
  killed: number;
  timedOut: number;
  survived: number;
  noCoverage: number;
  /** Detected (killed + timed out) over valid mutants, in percent, as Stryker computes it. */
  score: number;
}

export function totals(report: Report, only?: (file: string) => boolean): Totals {
  const t = { mutants: 0, killed: 0, timedOut: 0, survived: 0, noCoverage: 0, errors: 0 };
  for (const [file, { mutants }] of Object.entries(report.files)) {
    if (only !== undefined && !only(file)) continue;
    for (const m of mutants) {
      if (m.status === 'Ignored') continue;
      t.mutants++;
      if (m.status === 'Killed') t.killed++;
      else if (m.status === 'Timeout') t.timedOut++;
      else if (m.status === 'Survived') t.survived++;
      else if (m.status === 'NoCoverage') t.noCoverage++;
      else t.errors++; // CompileError, RuntimeError: not valid mutants, left out of the score
    }
  }
  const valid = t.killed + t.timedOut + t.survived + t.noCoverage;
  const score = valid === 0 ? 100 : Math.round(((t.killed + t.timedOut) / valid) * 10_000) / 100;
  return { mutants: t.mutants, killed: t.killed, timedOut: t.timedOut, survived: t.survived, noCoverage: t.noCoverage, score };
}

/** `--tests a,b` is ours (it becomes HERMOD_MUTATION_TESTS); every other argument goes to Stryker. */
function parseArgs(args: readonly string[]): { stryker: string[]; tests: string | undefined; reportOnly: boolean } {
  const stryker: string[] = [];
  let tests: string | undefined;
  let reportOnly = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--report-only') reportOnly = true;
    else if (arg === '--tests') tests = args[++i];
    else if (arg.startsWith('--tests=')) tests = arg.slice('--tests='.length);
    else stryker.push(arg);
  }
  return { stryker, tests, reportOnly };
}

async function main(): Promise<number> {
  const { stryker, tests, reportOnly } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  if (!reportOnly) {
    const code = await runStryker(stryker, tests);
    if (code !== 0) return code;
  }
  if (!existsSync(REPORT)) {
    console.error(`${fileURLToPath(REPORT)} does not exist: no run has written a report in this checkout (reports/ is git-ignored). Run npm run test:mutation (or -- --incremental) first.`);
    return 2;
  }
  const report = JSON.parse(readFileSync(REPORT, 'utf8')) as Report;
  const minutes = Math.round((Date.now() - started) / 600) / 100;
  const list = survivorList(report);
  for (const s of list) console.log(formatSurvivor(s));
  // Every survivor must be explained in docs/testing-mutation.md (scripts/mutationDoc.ts).
  const rows = explanationsIn(readFileSync(DOC, 'utf8'));
  const missing = unexplained(list, rows);
  for (const s of missing) console.log(`not explained: ${formatSurvivor(s)}`);
  console.log(`not explained in docs/testing-mutation.md: ${missing.length} of ${list.length} surviving or uncovered mutants`);
  const stale = staleExplanations(list, rows, Object.keys(report.files));
  for (const row of stale) console.log(`explains no survivor: ${row.files.join(', ')} line ${row.lineCell}: ${row.text.slice(0, 100)}`);
  console.log(`rows of docs/testing-mutation.md that explain no survivor: ${stale.length}`);
  for (const file of Object.keys(report.files).sort()) {
    console.log(`${file}: ${JSON.stringify(totals(report, (f) => f === file))}`);
  }
  if (!reportOnly) console.log(`duration: ${minutes} min`);
  console.log(JSON.stringify(totals(report)));
  return 0;
}

async function runStryker(stryker: readonly string[], tests: string | undefined): Promise<number> {
  const env = {
    ...process.env,
    // Property tests meet the same generated values for every mutant (see test/unit/mrkdwn-properties.test.ts).
    FC_SEED: process.env['FC_SEED'] ?? '1',
    // The model suites walk every 10th path and one path per model transition (test/support/modelPaths.ts).
    HERMOD_MODEL_PATH_STRIDE: process.env['HERMOD_MODEL_PATH_STRIDE'] ?? '10',
    ...(tests !== undefined ? { HERMOD_MUTATION_TESTS: tests } : {}),
  };
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run', ...stryker], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s === null ? 1 : 128))));
}

/** Every `.ts` file under `dir` (relative paths), declaration files left out. */
function typescriptUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

/**
 * Stryker's `buildCommand` (`node --import tsx scripts/mutation.ts --build-sandbox`), run once in
 * the sandbox after the mutants are instrumented into its copy of src/: every TypeScript file of
 * src/ and test/ becomes JavaScript beside it (esbuild, one file at a time, no bundling; the
 * imports already name `.js`), so each test file runs in plain Node
 * (scripts/mutation-test-file.mjs) instead of through tsx. Mutant switching puts every mutant in
 * that one build; which one is active is an environment variable of each test process.
 */
export async function buildSandbox(dir: string): Promise<number> {
  const { build } = await import('esbuild');
  const entryPoints = [...typescriptUnder(join(dir, 'src')), ...typescriptUnder(join(dir, 'test'))];
  await build({ entryPoints, outdir: dir, outbase: dir, bundle: false, format: 'esm', platform: 'node', target: 'node20.19', logLevel: 'warning' });
  console.log(`mutation sandbox: ${entryPoints.length} TypeScript files built to JavaScript`);
  return entryPoints.length;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--build-sandbox') await buildSandbox(process.cwd());
  else process.exitCode = await main();
}
