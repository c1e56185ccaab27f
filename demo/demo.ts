/**
 * `hermod demo` (`npm start` without SLACK_TOKEN, `npm run demo`): a local control plane and
 * a local Slack workspace, the real Hermod between them, a scripted show of rollouts, the
 * changes printed in the terminal as they reach Slack, and a web page on loopback that
 * renders the workspace as Slack would. Ctrl-C stops everything.
 *
 * Loaded by src/io/commands/demo.ts from a source checkout only (the image has no demo/ or test/).
 */
import type { Config } from '../src/io/config.js';
import { EXIT } from '../src/io/commands/exitCodes.js';
import { startHarness, type Harness } from '../test/support/hermod-harness.js';
import { startPageServer, type PageServer } from './pageServer.js';
import { watchSlack, type SlackWatch } from './progress.js';
import { runShow, SHOW_CHANNELS } from './show.js';

/** The demo's failing grace: short, so "failing" shows up a few seconds into a bad rollout. */
const DEMO_GRACE_SECONDS = 3;
/** A moment to open the page before the first rollout. */
const SHOW_DELAY_MS = 3_000;
/** How long the finished show stays on the page before the demo exits (without --keep). */
const LINGER_MS = 5_000;

/** Hermod flags the demo passes on (the rest would point Hermod elsewhere: kubeconfig, ports, dry run). */
function hermodFlags(config: Config, flags: Record<string, unknown>): Record<string, unknown> {
  return {
    level: config.level === 'info' ? 'debug' : config.level,
    messageMode: config.messageMode,
    gitAnnotationWarning: config.gitAnnotationWarning,
    repoUrlAnnotation: config.repoUrlAnnotation,
    commitShaAnnotation: config.commitShaAnnotation,
    // The user's grace wins when given; the production default (60 s) would make a slow show.
    failingGraceSeconds: flags['failingGraceSeconds'] !== undefined ? config.failingGraceSeconds : DEMO_GRACE_SECONDS,
    ...(config.inspect !== null ? { inspect: config.inspect } : {}),
  };
}

function portFlag(flags: Record<string, unknown>): number {
  const raw = flags['demoPort'];
  if (raw === undefined) return 0;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`--demo-port must be a port number from 0 to 65535, got "${String(raw)}"`);
  return port;
}

/** Runs the demo; resolves with the process exit code. */
export async function runDemo(config: Config, flags: Record<string, unknown>): Promise<number> {
  let port: number;
  try {
    port = portFlag(flags);
  } catch (err) {
    console.error(`hermod demo: ${(err as Error).message}`);
    return EXIT.usage;
  }
  const keep = flags['keep'] === true;
  const started = Date.now();
  const narration: string[] = [];
  const say = (line: string): void => {
    // Print the Slack changes that led here first, so the terminal reads in order.
    watch?.flush();
    narration.push(line);
    console.log(`  ▶ ${line}`);
  };

  let harness: Harness | null = null;
  let page: PageServer | null = null;
  let watch: SlackWatch | null = null;
  let stopping: Promise<void> | null = null;
  const abort = new AbortController();
  let interrupted: (() => void) | null = null;
  const interruptedPromise = new Promise<void>((resolve) => {
    interrupted = () => {
      abort.abort(new Error('the demo was interrupted'));
      resolve();
    };
  });

  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      watch?.flush();
      watch?.stop();
      await page?.close();
      await harness?.stop();
    })());
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      console.log(`\n${signal} again: exiting now`);
      process.exit(130);
    }
    signalled = true;
    console.log(`\n${signal}: stopping the demo (Hermod, the local Slack, the control plane)…`);
    interrupted?.();
  };
  // \`on\`, not \`once\`: while this listener stays, the cluster's own signal hook (which kills
  // the control plane at once) does not re-raise the signal and end the process mid-stop.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    console.log('Starting the local control plane (etcd, kube-apiserver, controllers, KWOK) and the local Slack…');
    console.log('(the first run builds the control plane from Go modules: a few minutes)');
    const starting = startHarness({ channels: [...SHOW_CHANNELS], flags: hermodFlags(config, flags), env: { CLUSTER_NAME: 'demo' } });
    const first = await Promise.race([starting.then((h) => ({ h })), interruptedPromise.then(() => null)]);
    if (first === null) {
      // Started anyway in the background: stop it once it is up (or has failed).
      await starting.then((h) => h.stop(), () => {});
      return EXIT.ok;
    }
    harness = first.h;
    const running = harness.hermod;
    console.log(
      `Hermod is running against the local cluster (${harness.cluster.server}) and the local Slack (${harness.slack.url}); ` +
        `metrics on http://127.0.0.1:${running?.port ?? '?'}/metrics${config.inspect !== null ? `; inspector: ${config.inspect}` : ''}`,
    );
    page = await startPageServer({ slack: harness.slack, port, narration: () => narration });
    console.log(`\n  Open the demo page: ${page.url}\n`);
    watch = watchSlack(harness.slack, (line) => console.log(line), { ansi: process.stdout.isTTY === true });
    console.log(`The show starts in ${SHOW_DELAY_MS / 1000} s: five scenes side by side, about half a minute.`);
    const go = await Promise.race([new Promise((r) => setTimeout(() => r(true), SHOW_DELAY_MS)), interruptedPromise.then(() => false)]);
    if (go === false) return EXIT.ok;

    const show = runShow(harness, { narrate: say, signal: abort.signal });
    const outcome = await Promise.race([show, interruptedPromise.then(() => null)]);
    if (outcome === null) return EXIT.ok;
    watch.flush();
    const seconds = (outcome.ms / 1000).toFixed(0);
    if (outcome.failures.length > 0) {
      for (const f of outcome.failures) console.error(`  ✗ scene "${f.scene}" did not go as scripted: ${f.error.message}`);
      console.error(`The show finished in ${seconds} s with ${outcome.failures.length} problem(s).`);
    } else {
      console.log(`\nThe show is over (${seconds} s, ${watch.changes} Slack changes; ${((Date.now() - started) / 1000).toFixed(0)} s in all).`);
    }
    if (keep) {
      console.log(`The page stays up at ${page.url} : Ctrl-C to stop.`);
      await interruptedPromise;
    } else {
      console.log(`Stopping in ${LINGER_MS / 1000} s (run with --keep to keep the page up).`);
      await Promise.race([new Promise((r) => setTimeout(r, LINGER_MS)), interruptedPromise]);
    }
    return outcome.failures.length > 0 ? EXIT.failure : EXIT.ok;
  } catch (err) {
    console.error(`hermod demo: ${(err as Error).message}`);
    return EXIT.failure;
  } finally {
    abort.abort(new Error('the demo is over'));
    await stopAll().catch((err: unknown) => console.error(`hermod demo: while stopping: ${(err as Error).message}`));
    // The signal listeners stay until the process ends: the cluster's own signal hook
    // re-raises the signal (killing the process) when no other listener is left.
    console.log('Demo stopped.');
  }
}
