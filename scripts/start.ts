/**
 * `npm start`: the embedded default. With SLACK_TOKEN (or --dry-run) it is `hermod run`;
 * without, it is `hermod demo` (a local control plane and a local Slack), so a first
 * `npm ci && npm start` shows Hermod working instead of an error. An explicit command
 * (`npm start -- check`, `npm start -- --help`) is passed through as given.
 */
import { main } from '../src/io/commands/cli.js';

const COMMANDS = new Set(['run', 'check', 'notify-test', 'demo']);
const PASS_THROUGH_FLAGS = new Set(['--help', '-h', '--version', '-v']);
const TRUE = new Set(['true', '1', 'yes', 'on']);

/** What `npm start -- ARGS` runs: the hermod argv, and whether the demo was chosen for want of a token. */
function startArgs(args: readonly string[], env: NodeJS.ProcessEnv): { argv: string[]; implicitDemo: boolean } {
  const first = args[0];
  if (first !== undefined && (COMMANDS.has(first) || PASS_THROUGH_FLAGS.has(first))) return { argv: [...args], implicitDemo: false };
  const dryRunFlag = args.some((a) => a === '--dry-run' || (a.startsWith('--dry-run=') && TRUE.has(a.slice('--dry-run='.length).toLowerCase())));
  const dryRunEnv = TRUE.has((env['HERMOD_DRY_RUN'] ?? '').trim().toLowerCase());
  const token = (env['SLACK_TOKEN'] ?? '').trim() !== '';
  if (token || dryRunFlag || dryRunEnv) return { argv: ['run', ...args], implicitDemo: false };
  return { argv: ['demo', ...args], implicitDemo: true };
}

const { argv, implicitDemo } = startArgs(process.argv.slice(2), process.env);
if (implicitDemo) {
  console.log('No SLACK_TOKEN: starting the embedded demo (local control plane and local Slack)…');
}
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error('hermod: fatal:', err);
    process.exitCode = 1;
  },
);
