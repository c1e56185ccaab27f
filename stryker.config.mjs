// @ts-check
import process from 'node:process';

/** The fast tests that reach src/machines (scripts/mutation.ts may narrow them with --tests). */
const FAST_TESTS = [
  'test/unit/channel-machine*.test.ts',
  'test/unit/channel-policy*.test.ts',
  'test/unit/crash-log*.test.ts',
  'test/unit/delivery.test.ts',
  'test/unit/delivery-slack-edge.test.ts',
  'test/unit/deployment-*.test.ts',
  'test/unit/diagnosis*.test.ts',
  'test/unit/election*.test.ts',
  'test/unit/facts*.test.ts',
  'test/unit/hash*.test.ts',
  'test/unit/leader-machine*.test.ts',
  'test/unit/lease*.test.ts',
  'test/unit/mention*.test.ts',
  'test/unit/message*.test.ts',
  'test/unit/mrkdwn*.test.ts',
  'test/unit/notification*.test.ts',
  'test/unit/rollout*.test.ts',
  'test/unit/slack-advice*.test.ts',
  'test/unit/supervisor*.test.ts',
  'test/unit/template-changes*.test.ts',
  'test/unit/update-budget*.test.ts',
];

/**
 * Mutation testing (issue 15): StrykerJS mutates every file of src/machines (the statecharts,
 * the rules and the pure delivery policy) and runs the fast tests (unit and model-based)
 * against each mutant through node:test + tsx (the tap runner). Run it with
 * `npm run test:mutation` (scripts/mutation.ts); see docs/testing-mutation.md.
 *
 * Per-test coverage: the tap runner treats each test FILE as one test and records which
 * mutants each file reaches, so a mutant runs only the files that execute it.
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
    testFiles: process.env['HERMOD_MUTATION_TESTS']?.split(',') ?? FAST_TESTS,
    nodeArgs: ['--import', 'tsx', '--conditions=development', '--test-reporter=tap', '-r', '{{hookFile}}', '{{testFile}}'],
  },
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
