#!/usr/bin/env node
/**
 * The `hermod` command line. `main` is wiring only: parse flags, resolve the configuration,
 * hand over to the command. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or
 * configuration, 3 `hermod check` found problems.
 */
import { cac } from 'cac';
import { fileURLToPath } from 'node:url';
import { OPTIONS, ConfigError, resolveConfig, type Config } from '../config.js';
import { VERSION } from '../version.js';
import { preflight, type CommandSpec } from './argv.js';
import { EXIT } from './exitCodes.js';

type Command = (config: Config, args: Record<string, unknown>) => Promise<number>;

/** Register every flag of the configuration table on a command, with its env variable and default in the help. */
function withConfigFlags<T extends { option(raw: string, description: string): T }>(command: T): T {
  for (const spec of OPTIONS) {
    if (spec.flag === null) continue;
    const raw = spec.kind === 'boolean' ? `--${spec.flag}` : `--${spec.flag} <value>`;
    const values = spec.values ? ` (${spec.values.join('|')})` : '';
    const empty = spec.default === null || spec.default === false || (Array.isArray(spec.default) && spec.default.length === 0);
    const fallback = empty ? '' : ` [default: ${String(spec.default)}]`;
    const env = spec.env === null ? '' : ` Env: ${spec.env}.`;
    command.option(raw, `${spec.description}${values}${env}${fallback}`);
  }
  return command;
}

const CONFIG_VALUE_FLAGS = OPTIONS.filter((o) => o.flag !== null && o.kind !== 'boolean').map((o) => o.flag as string);
const CONFIG_BOOLEAN_FLAGS = OPTIONS.filter((o) => o.flag !== null && o.kind === 'boolean').map((o) => o.flag as string);

/** The commands and the flags each accepts, for the checks made before cac parses (./argv.ts). */
export const COMMANDS: readonly CommandSpec[] = [
  { name: 'run', valueFlags: CONFIG_VALUE_FLAGS, booleanFlags: CONFIG_BOOLEAN_FLAGS },
  { name: 'check', valueFlags: CONFIG_VALUE_FLAGS, booleanFlags: CONFIG_BOOLEAN_FLAGS },
  { name: 'notify-test', valueFlags: [...CONFIG_VALUE_FLAGS, 'channel'], booleanFlags: CONFIG_BOOLEAN_FLAGS },
  { name: 'demo', valueFlags: [...CONFIG_VALUE_FLAGS, 'demo-port'], booleanFlags: [...CONFIG_BOOLEAN_FLAGS, 'keep', 'once'] },
];

/** Environment variables read outside the flag table, listed by --help. */
export const ENVIRONMENT_HELP: readonly (readonly [string, string])[] = [
  ['SLACK_TOKEN', 'Slack bot token (xoxb-...). Required unless --dry-run.'],
  ['SENTRY_ENDPOINT', "Sentry DSN; Hermod reports its own errors there when set."],
  ['CLUSTER_NAME', 'Cluster name shown in Slack messages.'],
  ['POD_NAMESPACE', "Hermod's own namespace when --state-namespace is not given (set from the downward API)."],
  ['KUBECONFIG', 'Kubeconfig files (a list, merged like kubectl) when --kubeconfig is not given.'],
  ['HTTPS_PROXY, HTTP_PROXY, NO_PROXY', 'Proxy for Slack and Sentry (lower-case names too); NO_PROXY lists hosts reached directly.'],
  ['NODE_EXTRA_CA_CERTS', 'A PEM file of extra CA certificates (an intercepting proxy, a private Slack or Sentry endpoint).'],
  ['SLACK_API_URL', 'Slack Web API base URL (tests and the demo).'],
];

/**
 * Stack traces are mapped to src/ through the bundle's source maps only when Sentry will read
 * them: Node loads every loaded chunk's map when they are on, about 75 ms of CPU and 11 MB at
 * start (docs/adr/0007, "Start-up CPU"). Called before the command's code is imported, so its
 * chunks are mapped. `NODE_OPTIONS=--enable-source-maps` turns them on for every run.
 */
export function enableSourceMapsFor(config: Pick<Config, 'sentryDsn'>, proc: Pick<NodeJS.Process, 'setSourceMapsEnabled'> = process): void {
  if (config.sentryDsn !== null) proc.setSourceMapsEnabled(true);
}

async function runCommand(load: () => Promise<Command>, flags: Record<string, unknown>): Promise<number> {
  let config: Config;
  try {
    config = resolveConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`hermod: ${err.message}`);
      return EXIT.usage;
    }
    throw err;
  }
  enableSourceMapsFor(config);
  const command = await load();
  return command(config, flags);
}

export async function main(argv: string[]): Promise<number> {
  const cli = cac('hermod');
  let pending: Promise<number> | null = null;

  withConfigFlags(cli.command('[run]', 'Watch the cluster and post rollouts to Slack (the default command)')).action((_: unknown, flags: Record<string, unknown>) => {
    pending = runCommand(async () => (await import('./run.js')).run, flags);
  });
  withConfigFlags(cli.command('check', 'Check the Slack token, the cluster connection and RBAC, and list the watched namespaces')).action(
    (flags: Record<string, unknown>) => {
      pending = runCommand(async () => (await import('./check.js')).check, flags);
    },
  );
  withConfigFlags(cli.command('notify-test', 'Post a test message to a Slack channel').option('--channel <channel>', 'Channel name or ID')).action(
    (flags: Record<string, unknown>) => {
      pending = runCommand(async () => (await import('./notifySlack.js')).notifySlack, flags);
    },
  );
  withConfigFlags(cli.command('demo', 'Run Hermod against a local control plane and a local Slack, with a scripted show (source checkout only)'))
    .option('--demo-port <port>', 'Port of the demo web page on 127.0.0.1 (default: any free port)')
    .option('--keep', 'Keep the page up after the show until Ctrl-C (the default; accepted for compatibility)')
    .option('--once', 'Start the show after 3 s and exit 5 s after it ends (tests), instead of waiting for the page and staying up')
    .action((flags: Record<string, unknown>) => {
      pending = runCommand(async () => (await import('./demo.js')).demo, flags);
    });
  cli.help((sections) => [
    ...sections,
    {
      title: 'Environment',
      body: ENVIRONMENT_HELP.map(([name, text]) => `  ${name.padEnd(36)}${text}`).join('\n'),
    },
  ]);
  cli.version(VERSION);

  const checked = preflight(argv, COMMANDS, 'run');
  if (!checked.ok) {
    console.error(`hermod: ${checked.message}`);
    console.error('Run `hermod --help` for the commands and flags.');
    return EXIT.usage;
  }
  try {
    cli.parse(['node', 'hermod', ...checked.argv], { run: true });
  } catch (err) {
    console.error(`hermod: ${err instanceof Error ? err.message : String(err)}`);
    console.error('Run `hermod --help` for the commands and flags.');
    return EXIT.usage;
  }
  if (pending === null) return EXIT.ok; // --help or --version
  return pending;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error('hermod: fatal:', err);
      process.exitCode = EXIT.failure;
    },
  );
}
