/**
 * The demo's scripted show: real rollouts on the local control plane, each scene in its own
 * annotated namespace, reported by the Hermod that the harness runs. Scenes run side by side
 * (a little staggered), so the whole show takes about one progress deadline plus a few
 * seconds. Each scene waits on what reached the local Slack, so a scene that does not go as
 * scripted fails with the message it was waiting for.
 */
import { writeFile } from 'node:fs/promises';
import { criLog, type SimulatedFailure } from '../test/support/cluster.js';
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

/** One release of a scene's Deployment: its image, how KWOK fails its Pods, what the show says. */
interface Release {
  image: string;
  failure?: SimulatedFailure;
  say: string;
  /** Runs just before the release is applied (e.g. the crash log KWOK will serve). */
  before?: () => Promise<void>;
}

/**
 * The opening most scenes share: the namespace sends to `channel`, revision 1 rolls out and
 * its message turns green, then revision 2 is applied. With `git`, each revision carries the
 * commit and repository annotations.
 */
async function twoReleases(
  { h, deadline, say, until }: SceneContext,
  s: { namespace: string; name: string; channel: string; replicas: number; git: boolean; first: Release; second: Release },
): Promise<void> {
  const base: DeploymentSpec = { namespace: s.namespace, name: s.name, replicas: s.replicas, progressDeadlineSeconds: deadline };
  const apply = async (r: Release, revision: number, action: (spec: DeploymentSpec) => Promise<void>): Promise<void> => {
    say(`${s.namespace}/${s.name}: ${r.say}`);
    await r.before?.();
    await action({ ...base, image: r.image, failure: r.failure, annotations: s.git ? gitAnnotations(s.name, revision) : undefined });
  };
  await h.createNamespace(s.namespace, { [SLACK_ANNOTATION]: s.channel });
  await apply(s.first, 1, (spec) => h.createDeployment(spec));
  await until(s.channel, s.name, 1, 'succeeded');
  await apply(s.second, 2, (spec) => h.updateDeployment(spec));
}

const SCENE_RUNNERS: Record<SceneName, (c: SceneContext) => Promise<void>> = {
  async success(c) {
    await twoReleases(c, {
      namespace: 'storefront', name: 'frontend', channel: 'deploys', replicas: 3, git: true,
      first: { image: 'registry.example/shop/frontend:1.4.0', say: 'first deploy (revision 1), 3 replicas' },
      second: { image: 'registry.example/shop/frontend:1.5.0', say: 'release 1.5.0 (revision 2)' },
    });
    await c.until('deploys', 'frontend', 2, 'succeeded');
    c.say('storefront/frontend: revision 2 is live, the message turned green');
  },

  async crashloop(c) {
    const logs = c.h.cluster.containerLogs;
    await twoReleases(c, {
      namespace: 'payments', name: 'api', channel: 'payments', replicas: 2, git: true,
      first: { image: 'registry.example/payments/api:2.0.0', say: 'healthy revision 1' },
      second: {
        image: 'registry.example/payments/api:2.1.0',
        failure: 'crashloop',
        say: `revision 2 crashes on start (exit code 1); progress deadline ${c.deadline}s`,
        before: async () => {
          if (logs !== undefined) await writeFile(logs.previous, criLog(CRASH_LOG));
        },
      },
    });
    await c.until('payments', 'api', 2, 'failing');
    c.say('payments/api: Hermod says "failing" early, before Kubernetes gives up');
    await c.until('payments', 'api', 2, 'failed');
    c.say('payments/api: progress deadline exceeded: failed, with the crash reason, what changed, commit links and the crash log in the thread');
  },

  async imagepull(c) {
    await twoReleases(c, {
      namespace: 'search', name: 'indexer', channel: 'search', replicas: 2, git: false,
      first: { image: 'registry.example/search/indexer:7.2.0', say: 'healthy revision 1' },
      second: { image: 'registry.example/search/indexer:7.3.0-typo', failure: 'imagepull', say: 'revision 2 names an image tag that does not exist' },
    });
    await c.until('search', 'indexer', 2, 'failing');
    c.say('search/indexer: ImagePullBackOff reported while the rollout is still in progress');
    await c.until('search', 'indexer', 2, 'failed');
    c.say('search/indexer: failed at the progress deadline');
  },

  async rollback(c) {
    await twoReleases(c, {
      namespace: 'checkout', name: 'web', channel: 'deploys', replicas: 2, git: true,
      first: { image: 'registry.example/shop/checkout:3.1.0', say: 'healthy revision 1' },
      second: { image: 'registry.example/shop/checkout:3.2.0', failure: 'crashloop', say: 'revision 2 crash-loops' },
    });
    await c.until('deploys', 'web', 2, 'failing');
    const to = await rolloutUndo(c.h, 'checkout', 'web');
    c.say(`checkout/web: the team sees "failing" and runs kubectl rollout undo (back to revision ${to})`);
    await c.until('deploys', 'web', 3, 'succeeded');
    await c.until('deploys', 'web', 2, 'superseded');
    c.say('checkout/web: revision 3 (a rollback to revision 1) succeeded; revision 2 is marked superseded');
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
