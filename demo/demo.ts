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
/** Without the page opened, the show starts after this long anyway. */
const SHOW_WAIT_MS = 15_000;
/** With --once (tests): a moment before the first rollout, and how long the finished show stays before the demo exits. */
const ONCE_DELAY_MS = 3_000;
const ONCE_LINGER_MS = 5_000;

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
  // The page stays up after the show until Ctrl-C; --once stops after it (tests).
  const once = flags['once'] === true;
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
    let pageOpened: () => void = () => {};
    const opened = new Promise<'opened'>((resolve) => (pageOpened = () => resolve('opened')));
    page = await startPageServer({ slack: harness.slack, port, narration: () => narration, onPageOpened: () => pageOpened() });
    console.log(`\n  Open the demo page: ${page.url}\n`);
    watch = watchSlack(harness.slack, (line) => console.log(line), { ansi: process.stdout.isTTY === true });
    let timer: NodeJS.Timeout | undefined;
    const waited = (ms: number) => new Promise<'waited'>((r) => (timer = setTimeout(() => r('waited'), ms)));
    if (once) console.log(`The show starts in ${ONCE_DELAY_MS / 1000} s: five scenes side by side, about half a minute.`);
    else console.log(`The show starts when you open the page, or in ${SHOW_WAIT_MS / 1000} s: five scenes side by side, about half a minute.`);
    const go = await Promise.race([...(once ? [] : [opened]), waited(once ? ONCE_DELAY_MS : SHOW_WAIT_MS), interruptedPromise.then(() => 'interrupted' as const)]);
    clearTimeout(timer);
    if (go === 'interrupted') return EXIT.ok;
    if (go === 'opened') console.log('The page is open: the show starts.');

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
    if (once) {
      console.log(`Stopping in ${ONCE_LINGER_MS / 1000} s (--once).`);
      await Promise.race([waited(ONCE_LINGER_MS), interruptedPromise]);
      clearTimeout(timer);
    } else {
      console.log(`The page stays up at ${page.url} with the whole show: press Ctrl-C to stop the demo.`);
      await interruptedPromise;
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
