/**
 * The demo's scripted show: real rollouts on the local control plane, each scene in its own
 * annotated namespace, reported by the Hermod that the harness runs. Scenes run side by side
 * (a little staggered), so the whole show takes about one progress deadline plus a few
 * seconds. Each scene waits on what reached the local Slack, so a scene that does not go as
 * scripted fails with the message it was waiting for.
 */
import { writeFile } from 'node:fs/promises';
import { criLog } from '../test/support/cluster.js';
import type { Harness } from '../test/support/hermod-harness.js';
import { messageColour, REPO_ANNOTATION, SHA_ANNOTATION, SLACK_ANNOTATION, type DeploymentSpec } from '../test/support/hermod-harness.js';
import type { StoredMessage } from '../test/support/slack-server.js';
import { GREEN, GREY, ORANGE, RED, rolloutUndo } from '../test/support/scenario.js';

export const SCENES = ['success', 'crashloop', 'imagepull', 'rollback', 'podsecurity'] as const;
export type SceneName = (typeof SCENES)[number];

/** The local Slack channels the show posts to (the harness creates them). */
export const SHOW_CHANNELS = ['deploys', 'payments', 'search', 'platform'] as const;

export const COLOURS = { orange: ORANGE, green: GREEN, red: RED, grey: GREY } as const;

const REPO = 'https://github.com/example-org/shop';

/** What the crashing payments/api printed before it died (KWOK serves it as the previous run's log). */
const CRASH_LOG = [
  '{"level":"info","msg":"payments-api 2.1.0 starting","port":8080}',
  '{"level":"info","msg":"connecting to postgres://payments@db:5432/payments password=s3cr3t-do-not-post"}',
  '{"level":"error","msg":"migration 0042_add_refunds failed: column \\"refund_id\\" does not exist"}',
  'Error: migration 0042_add_refunds failed',
  '    at migrate (/app/dist/db/migrate.js:88:11)',
  '    at async main (/app/dist/server.js:21:3)',
];

export interface ShowOptions {
  /** Which scenes, in this order (default: all of SCENES). */
  scenes?: readonly SceneName[];
  /** progressDeadlineSeconds of every Deployment in the show (default 20). */
  deadlineSeconds?: number;
  /** Pause between the starts of two scenes (default 1500 ms). */
  staggerMs?: number;
  /** One line per step of the story (default: nowhere). */
  narrate?: (line: string) => void;
  /** Stops the show: waiting scenes give up at once (Ctrl-C in the demo). */
  signal?: AbortSignal;
}

export interface ShowResult {
  ms: number;
  /** Scenes that did not go as scripted, with why. */
  failures: Array<{ scene: SceneName; error: Error }>;
}

/** A fake but well-formed commit per (app, version), so messages carry commit links. */
function sha(app: string, version: number): string {
  let h = 0x811c9dc5;
  for (const c of `${app}@${version}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return (h.toString(16).padStart(8, '0').repeat(5)).slice(0, 40);
}

function gitAnnotations(app: string, version: number): Record<string, string> {
  return { [SHA_ANNOTATION]: sha(app, version), [REPO_ANNOTATION]: REPO };
}

/** The one top-level message about `name`'s revision `revision` in `channel`. */
export function rolloutMessage(h: Harness, channel: string, name: string, revision: number): StoredMessage | undefined {
  return h.messages(channel).find((m) => m.text.includes(`Deployment \`${name}\` (revision ${revision})`));
}

type Phase = 'succeeded' | 'failing' | 'failed' | 'superseded';

function inPhase(m: StoredMessage | undefined, phase: Phase): boolean {
  if (m === undefined) return false;
  const colour = messageColour(m);
  switch (phase) {
    case 'succeeded':
      return colour === COLOURS.green;
    case 'failing':
      return colour === COLOURS.red;
    case 'failed':
      return colour === COLOURS.red && m.text.endsWith('failed');
    case 'superseded':
      return colour === COLOURS.grey && m.text.includes('superseded');
  }
}


interface SceneContext {
  h: Harness;
  deadline: number;
  say: (line: string) => void;
  /** Wait until the message for `name` revision `revision` is in `phase`. */
  until(channel: string, name: string, revision: number, phase: Phase): Promise<StoredMessage>;
}

const SCENE_TITLES: Record<SceneName, string> = {
  success: 'a successful rollout',
  crashloop: 'a crash-looping release',
  imagepull: 'an image that cannot be pulled',
  rollback: 'a bad release rolled back',
  podsecurity: 'a Pod Security refusal (details in the thread)',
};

const SCENE_RUNNERS: Record<SceneName, (c: SceneContext) => Promise<void>> = {
  async success({ h, deadline, say, until }) {
    const base: DeploymentSpec = { namespace: 'storefront', name: 'frontend', replicas: 3, progressDeadlineSeconds: deadline };
    await h.createNamespace('storefront', { [SLACK_ANNOTATION]: 'deploys' });
    say('storefront/frontend: first deploy (revision 1), 3 replicas');
    await h.createDeployment({ ...base, image: 'registry.example/shop/frontend:1.4.0', annotations: gitAnnotations('frontend', 1) });
    await until('deploys', 'frontend', 1, 'succeeded');
    say('storefront/frontend: release 1.5.0 (revision 2)');
    await h.updateDeployment({ ...base, image: 'registry.example/shop/frontend:1.5.0', annotations: gitAnnotations('frontend', 2) });
    await until('deploys', 'frontend', 2, 'succeeded');
    say('storefront/frontend: revision 2 is live, the message turned green');
  },

  async crashloop({ h, deadline, say, until }) {
    const base: DeploymentSpec = { namespace: 'payments', name: 'api', replicas: 2, progressDeadlineSeconds: deadline };
    await h.createNamespace('payments', { [SLACK_ANNOTATION]: 'payments' });
    say('payments/api: healthy revision 1');
    await h.createDeployment({ ...base, image: 'registry.example/payments/api:2.0.0', annotations: gitAnnotations('api', 1) });
    await until('payments', 'api', 1, 'succeeded');
    say(`payments/api: revision 2 crashes on start (exit code 1); progress deadline ${deadline}s`);
    const logs = h.cluster.containerLogs;
    if (logs !== undefined) await writeFile(logs.previous, criLog(CRASH_LOG));
    await h.updateDeployment({ ...base, image: 'registry.example/payments/api:2.1.0', failure: 'crashloop', annotations: gitAnnotations('api', 2) });
    await until('payments', 'api', 2, 'failing');
    say('payments/api: Hermod says "failing" early, before Kubernetes gives up');
    await until('payments', 'api', 2, 'failed');
    say('payments/api: progress deadline exceeded: failed, with the crash reason, what changed, commit links and the crash log in the thread');
  },

  async imagepull({ h, deadline, say, until }) {
    const base: DeploymentSpec = { namespace: 'search', name: 'indexer', replicas: 2, progressDeadlineSeconds: deadline };
    await h.createNamespace('search', { [SLACK_ANNOTATION]: 'search' });
    say('search/indexer: healthy revision 1');
    await h.createDeployment({ ...base, image: 'registry.example/search/indexer:7.2.0' });
    await until('search', 'indexer', 1, 'succeeded');
    say('search/indexer: revision 2 names an image tag that does not exist');
    await h.updateDeployment({ ...base, image: 'registry.example/search/indexer:7.3.0-typo', failure: 'imagepull' });
    await until('search', 'indexer', 2, 'failing');
    say('search/indexer: ImagePullBackOff reported while the rollout is still in progress');
    await until('search', 'indexer', 2, 'failed');
    say('search/indexer: failed at the progress deadline');
  },

  async rollback({ h, deadline, say, until }) {
    const base: DeploymentSpec = { namespace: 'checkout', name: 'web', replicas: 2, progressDeadlineSeconds: deadline };
    await h.createNamespace('checkout', { [SLACK_ANNOTATION]: 'deploys' });
    say('checkout/web: healthy revision 1');
    await h.createDeployment({ ...base, image: 'registry.example/shop/checkout:3.1.0', annotations: gitAnnotations('web', 1) });
    await until('deploys', 'web', 1, 'succeeded');
    say('checkout/web: revision 2 crash-loops');
    await h.updateDeployment({ ...base, image: 'registry.example/shop/checkout:3.2.0', failure: 'crashloop', annotations: gitAnnotations('web', 2) });
    await until('deploys', 'web', 2, 'failing');
    const to = await rolloutUndo(h, 'checkout', 'web');
    say(`checkout/web: the team sees "failing" and runs kubectl rollout undo (back to revision ${to})`);
    await until('deploys', 'web', 3, 'succeeded');
    await until('deploys', 'web', 2, 'superseded');
    say('checkout/web: revision 3 (a rollback to revision 1) succeeded; revision 2 is marked superseded');
  },

  async podsecurity({ h, deadline, say, until }) {
    await h.createNamespace('platform', { [SLACK_ANNOTATION]: 'platform' }, { 'pod-security.kubernetes.io/enforce': 'restricted' });
    say('platform/node-agent: a privileged Pod in a namespace that enforces Pod Security "restricted"');
    await h.createDeployment({
      namespace: 'platform',
      name: 'node-agent',
      replicas: 1,
      progressDeadlineSeconds: deadline,
      image: 'registry.example/platform/node-agent:0.9.0',
      container: { securityContext: { privileged: true } },
    });
    await until('platform', 'node-agent', 1, 'failing');
    say('platform/node-agent: the ReplicaSet cannot create Pods: failing');
    const failed = await until('platform', 'node-agent', 1, 'failed');
    say(`platform/node-agent: failed; ${failed.replies.length === 0 ? 'no thread reply' : 'the full refusal is in the thread'}`);
  },
};

/** Waits `ms`, or rejects as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs the show's scenes side by side and reports which did not go as scripted. */
export async function runShow(h: Harness, options: ShowOptions = {}): Promise<ShowResult> {
  const started = Date.now();
  const deadline = options.deadlineSeconds ?? 20;
  const stagger = options.staggerMs ?? 1500;
  const narrate = options.narrate ?? (() => {});
  const scenes = options.scenes ?? SCENES;
  const waitMs = (deadline + 60) * 1000;
  const signal = options.signal;
  const context = (scene: SceneName): SceneContext => ({
    h,
    deadline,
    say: (line) => {
      if (signal?.aborted !== true) narrate(line);
    },
    async until(channel, name, revision, phase) {
      const what = `#${channel}: ${name} revision ${revision} ${phase} (scene: ${SCENE_TITLES[scene]})`;
      const giveUp = Date.now() + waitMs;
      for (;;) {
        signal?.throwIfAborted();
        const m = rolloutMessage(h, channel, name, revision);
        if (inPhase(m, phase)) return m as StoredMessage;
        if (Date.now() > giveUp) throw new Error(`timed out after ${waitMs} ms waiting for ${what}`);
        await sleep(200, signal);
      }
    },
  });
  const runs = scenes.map(async (scene, i) => {
    await sleep(i * stagger, signal);
    narrate(`Scene: ${SCENE_TITLES[scene]}`);
    await SCENE_RUNNERS[scene](context(scene));
  });
  const results = await Promise.allSettled(runs);
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ scene: scenes[i] as SceneName, error: r.reason instanceof Error ? r.reason : new Error(String(r.reason)) }] : [],
  );
  return { ms: Date.now() - started, failures };
}

export function sceneTitle(scene: SceneName): string {
  return SCENE_TITLES[scene];
}
