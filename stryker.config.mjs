// @ts-check
import { readdirSync } from 'node:fs';
import process from 'node:process';

/** The fast tests that reach src/machines, by name (scripts/mutation.ts may narrow them with --tests). */
const FAST_TESTS = [
  'test/unit/bake-*.test.ts',
  'test/unit/changes-line*.test.ts',
  'test/unit/channel-machine*.test.ts',
  'test/unit/channel-policy*.test.ts',
  'test/unit/controller-revisions*.test.ts',
  'test/unit/crash-log*.test.ts',
  'test/unit/delivery.test.ts',
  'test/unit/delivery-bake.test.ts',
  'test/unit/delivery-slack-edge.test.ts',
  'test/unit/deployment-*.test.ts',
  'test/unit/diagnosis*.test.ts',
  'test/unit/election*.test.ts',
  'test/unit/hash*.test.ts',
  'test/unit/leader-machine*.test.ts',
  'test/unit/lease*.test.ts',
  'test/unit/machine-contracts.test.ts',
  'test/unit/mention*.test.ts',
  'test/unit/message*.test.ts',
  'test/unit/mrkdwn*.test.ts',
  'test/unit/release-*rules.test.ts',
  'test/unit/release-queue-*.test.ts',
  'test/unit/release-delivery.test.ts',
  'test/unit/release-leader.test.ts',
  'test/unit/rollout*.test.ts',
  'test/unit/set-*.test.ts',
  'test/unit/slack-advice*.test.ts',
  'test/unit/start-hold*.test.ts',
  'test/unit/supervisor*.test.ts',
  'test/unit/template-changes*.test.ts',
  'test/unit/update-budget*.test.ts',
  'test/unit/workload-*.test.ts',
];

/**
 * The slow files (1.3 to 5 CPU-seconds each), run last and in this order. A mutant runs the
 * files that reach it one after the other and stops at the first that fails, so a mutant a
 * rule test kills never starts these; only survivors (and what only these kill) pay for them.
 */
const SLOW_LAST = [
  'test/unit/crash-logs.test.ts',
  'test/unit/mrkdwn-properties.test.ts',
  'test/unit/election.test.ts',
  'test/unit/delivery-slack-edge.test.ts',
  'test/unit/release-delivery.test.ts',
  'test/unit/delivery-bake.test.ts',
  'test/unit/release-leader.test.ts',
  'test/unit/delivery.test.ts',
  'test/unit/channel-machine.test.ts',
  'test/unit/deployment-model.test.ts',
  'test/unit/workload-model.test.ts',
];

/** `dir/name*.test.ts` patterns (a `*` in the file name only) as the files they match, sorted. */
function expand(patterns) {
  const out = new Set();
  for (const pattern of patterns) {
    const slash = pattern.lastIndexOf('/');
    const dir = pattern.slice(0, slash);
    const re = new RegExp(`^${pattern.slice(slash + 1).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    for (const name of readdirSync(dir).sort()) if (re.test(name)) out.add(`${dir}/${name}`);
  }
  return [...out];
}

/**
 * Quick files about one module each, beside the `*-rules` files: the first file that reaches a
 * mutant should be the one most likely to kill it, its own module's tests, not a broad file
 * that happens to load it (the deployment-* files load every rule of a rollout).
 */
const ONE_MODULE = [
  'test/unit/channel-policy.test.ts',
  'test/unit/diagnosis.test.ts',
  'test/unit/hash.test.ts',
  'test/unit/mentions.test.ts',
  'test/unit/mrkdwn.test.ts',
  'test/unit/release-queue-accept.test.ts',
  'test/unit/rollout.test.ts',
  'test/unit/slack-advice.test.ts',
  'test/unit/update-budget.test.ts',
  'test/unit/workload-rollout.test.ts',
];

/**
 * Every file FAST_TESTS names, sorted: what a run without `--tests` uses, before `ordered`.
 * test/unit/mutation-config.test.ts checks that no rule test that loads src/machines is missing.
 */
export const FAST_TEST_FILES = expand(FAST_TESTS);

/**
 * The order the files run in for each mutant (the tap runner keeps the order of literal paths;
 * glob patterns would come back in directory-walk order, slow files first as often as not):
 * the rule tests (`*-rules`) and ONE_MODULE, then the other quick files, then SLOW_LAST.
 */
function ordered(files) {
  const rank = (f) => (SLOW_LAST.includes(f) ? 2 + SLOW_LAST.indexOf(f) : f.endsWith('-rules.test.ts') || ONE_MODULE.includes(f) ? 0 : 1);
  return [...files].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Mutation testing (issue 15): StrykerJS mutates every file of src/machines (the statecharts,
 * the rules and the pure delivery policy) and runs the fast tests (unit and model-based)
 * against each mutant through node:test + tsx (the tap runner). Run it with
 * `npm run test:mutation` (scripts/mutation.ts); see docs/testing-mutation.md.
 *
 * Per-test coverage: the tap runner treats each test FILE as one test and records which
 * mutants each file reaches, so a mutant runs only the files that execute it, in the order of
 * `ordered` (quick rule tests first), stopping at the first failure.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const config = {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  mutate: ['src/machines/**/*.ts'],
  coverageAnalysis: 'perTest',
  tap: {
    // Other unit files (kube, config, packaging, the local servers) never load a machine:
    // leaving them out keeps the dry run short.
    testFiles: ordered(process.env['HERMOD_MUTATION_TESTS'] === undefined ? FAST_TEST_FILES : expand(process.env['HERMOD_MUTATION_TESTS'].split(','))),
    // Plain Node on the JavaScript that `buildCommand` wrote beside each file (no tsx): the tap
    // runner still names the .ts file (coverage, the incremental file and --tests keep those names).
    nodeArgs: ['--conditions=development', '--test-reporter=tap', '-r', '{{hookFile}}', 'scripts/mutation-test-file.mjs', '{{testFile}}'],
  },
  // Once per run, in the sandbox after instrumentation: src/ and test/ to JavaScript (esbuild,
  // no bundling; scripts/mutation.ts). Mutant switching: one build holds every mutant.
  buildCommand: 'node --import tsx scripts/mutation.ts --build-sandbox',
  // What the sandbox copy does not need.
  ignorePatterns: ['dist', 'docs', 'charts', 'example', 'bench', 'reports', 'test/integration', 'test/cluster', 'test/demo', '.tmp', 'test-artifacts'],
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  incrementalFile: 'test/mutation/stryker-incremental.json',
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
export default config;
