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
    .option('--keep', 'Keep running after the show, so the page stays up (Ctrl-C stops)')
    .action((flags: Record<string, unknown>) => {
      pending = runCommand(async () => (await import('./demo.js')).demo, flags);
    });
  cli.help();
  cli.version(VERSION);

  try {
    cli.parse(['node', 'hermod', ...argv], { run: true });
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
