/**
 * Hermod on the real test control plane with the local Slack: the harness of the behaviour
 * suite (test/integration/scenarios-*.test.ts) and of the demo. Hermod runs in-process
 * through `startHermod` with its real watches, actors, delivery and @slack/web-api client;
 * only its configuration points it at the local cluster and Slack.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import pino from 'pino';
import { resolveConfig } from '../../src/io/config.js';
import { createLogger } from '../../src/io/logger.js';
import { startHermod, type Hermod } from '../../src/io/commands/run.js';
import { FAILURE_LABEL, startCluster, type SimulatedFailure, type TestCluster } from './cluster.js';
import { startSlackServer, type SlackServer, type StoredMessage } from './slack-server.js';

// The annotation names as Hermod itself knows them (the git ones at their default names).
export {
  ALERT_ANNOTATION,
  DEFAULT_COMMIT_SHA_ANNOTATION as SHA_ANNOTATION,
  DEFAULT_REPO_URL_ANNOTATION as REPO_ANNOTATION,
  SLACK_ANNOTATION,
} from '../../src/machines/annotations.js';

export interface DeploymentSpec {
  namespace: string;
  name: string;
  replicas?: number;
  image?: string;
  /** Pods of this template go through a KWOK failure stage. */
  failure?: SimulatedFailure;
  progressDeadlineSeconds?: number;
  annotations?: Record<string, string>;
  /** Extra pod template labels (a change of them is a new template, so a new revision). */
  podLabels?: Record<string, string>;
  /** Extra container fields, e.g. a privileged securityContext. */
  container?: Record<string, unknown>;
  paused?: boolean;
}

export function deploymentManifest(spec: DeploymentSpec): Record<string, unknown> {
  const labels = { app: spec.name, ...(spec.failure ? { [FAILURE_LABEL]: spec.failure } : {}), ...spec.podLabels };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: spec.name, namespace: spec.namespace, annotations: spec.annotations ?? {} },
    spec: {
      replicas: spec.replicas ?? 2,
      progressDeadlineSeconds: spec.progressDeadlineSeconds ?? 600,
      paused: spec.paused ?? false,
      selector: { matchLabels: { app: spec.name } },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'app', image: spec.image ?? 'registry.example/app:1', ...spec.container }] },
      },
    },
  };
}

export interface HarnessOptions {
  /** Channels the local Slack workspace has (the bot is a member of each). */
  channels?: string[];
  /**
   * Hermod's flags (camelCase as cac gives them), e.g. { failingGraceSeconds: 3 }. The harness
   * turns release grouping off (`groupWindowSeconds: 0`; the product's default is 30): the
   * scenarios before issue 13 create several Deployments of one commit in one channel and
   * expect a message each. scenarios-release.test.ts turns it on.
   */
  flags?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Start Hermod now (default) or later with `startHermod()`. */
  startHermod?: boolean;
  /** Share a cluster started elsewhere (the caller stops it). */
  cluster?: TestCluster;
}

export interface Harness {
  cluster: TestCluster;
  slack: SlackServer;
  hermod: Hermod | null;
  /** Start Hermod (again, after `stopHermod`), wait until its caches have synced. */
  startHermod(flags?: Record<string, unknown>): Promise<Hermod>;
  stopHermod(): Promise<void>;
  /** POST/PUT/PATCH/DELETE through the admin credentials; throws on a non-2xx answer. */
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  createNamespace(name: string, annotations?: Record<string, string>, labels?: Record<string, string>): Promise<void>;
  /** Merge-patch the namespace's annotations (null removes one). */
  annotateNamespace(name: string, annotations: Record<string, string | null>): Promise<void>;
  createDeployment(spec: DeploymentSpec): Promise<void>;
  /** Replace the Deployment's spec with the manifest of `spec` (a new template starts a rollout). */
  updateDeployment(spec: DeploymentSpec): Promise<void>;
  patchDeployment(namespace: string, name: string, patch: Record<string, unknown>): Promise<void>;
  deleteDeployment(namespace: string, name: string): Promise<void>;
  /** The Deployment as the API server has it now. */
  getDeployment(namespace: string, name: string): Promise<V1Deployment>;
  /** Top-level messages of a channel, oldest first. */
  messages(channel: string): StoredMessage[];
  /** Poll `probe` until it returns something other than undefined/false/null. */
  waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T>;
  /**
   * The current value of one of Hermod's metrics: the sum of the samples named `sample`
   * (default `name`; e.g. a histogram's `_count`) whose labels include `labels`.
   */
  metric(name: string, labels?: Record<string, string>, sample?: string): Promise<number>;
  stop(): Promise<void>;
}

/** The text a message shows now: top-level text plus every attachment block's text. */
export function messageText(message: { text: string; attachments?: unknown[] }): string {
  return [message.text, JSON.stringify(message.attachments ?? [])].join('\n');
}

/** The colour bar of a message now. */
export function messageColour(message: { attachments?: unknown[] }): string | undefined {
  return (message.attachments?.[0] as { color?: string } | undefined)?.color;
}

const ARTIFACTS = join(process.cwd(), 'test-artifacts');

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const cluster = options.cluster ?? (await startCluster());
  const slack = await startSlackServer();
  for (const name of options.channels ?? ['deploys']) slack.channels.create({ name, member: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  let hermod: Hermod | null = null;
  let runs = 0;

  const api = async <T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> => {
    const res = await cluster.request<T>(method, path, body, contentType === undefined ? {} : { contentType });
    if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const waitFor: Harness['waitFor'] = async (what, probe, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const harness: Harness = {
    cluster,
    slack,
    get hermod() {
      return hermod;
    },
    async startHermod(flags = {}) {
      const config = resolveConfig(
        // Release grouping and the watch after success (issue 13) are off unless a test asks for
        // them: the scenarios written before them post one message per rollout, and some make a
        // succeeded Deployment's pods unhealthy on purpose.
        { kubeconfig: cluster.kubeconfigPath, metricsPort: 0, level: 'debug', groupWindowSeconds: 0, bakeSeconds: 0, ...options.flags, ...flags },
        { SLACK_TOKEN: slack.token, SLACK_API_URL: slack.url, CLUSTER_NAME: 'test', ...options.env },
      );
      runs += 1;
      const logFile = join(ARTIFACTS, `hermod-${process.pid}-${Date.now()}-${runs}.log`);
      const logger = createLogger(config.level, pino.destination({ dest: logFile, sync: true }));
      hermod = await startHermod(config, { logger, host: '127.0.0.1' });
      const started = hermod;
      await waitFor('Hermod to sync its caches', () => started.ready(), 30_000);
      return started;
    },
    async stopHermod() {
      await hermod?.stop({ drainMs: 5_000 });
      hermod = null;
    },
    api,
    async createNamespace(name, annotations = {}, labels = {}) {
      await api('POST', '/api/v1/namespaces', { metadata: { name, annotations, labels } });
    },
    async annotateNamespace(name, annotations) {
      await api('PATCH', `/api/v1/namespaces/${name}`, { metadata: { annotations } }, 'application/merge-patch+json');
    },
    async createDeployment(spec) {
      await api('POST', `/apis/apps/v1/namespaces/${spec.namespace}/deployments`, deploymentManifest(spec));
    },
    async updateDeployment(spec) {
      const manifest = deploymentManifest(spec) as { spec: unknown; metadata: { annotations: Record<string, string> } };
      await api(
        'PATCH',
        `/apis/apps/v1/namespaces/${spec.namespace}/deployments/${spec.name}`,
        { metadata: { annotations: manifest.metadata.annotations }, spec: manifest.spec },
        'application/merge-patch+json',
      );
    },
    async patchDeployment(namespace, name, patch) {
      await api('PATCH', `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`, patch, 'application/merge-patch+json');
    },
    async deleteDeployment(namespace, name) {
      await api('DELETE', `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
    },
    getDeployment: (namespace, name) => api<V1Deployment>('GET', `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`),
    messages: (channel) => slack.messages(channel),
    waitFor,
    async metric(name, labels = {}, sample = name) {
      const running = hermod;
      if (running === null) throw new Error('Hermod is not running');
      const text = await running.metrics.registry.getSingleMetricAsString(name);
      const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
      return text
        .split('\n')
        .filter((line) => line.split(/[{ ]/, 1)[0] === sample && wanted.every((w) => line.includes(w)))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    },
    async stop() {
      try {
        await harness.stopHermod();
      } finally {
        await slack.close();
        if (options.cluster === undefined) await cluster.stop();
      }
    },
  };
  if (options.startHermod ?? true) await harness.startHermod();
  return harness;
}
