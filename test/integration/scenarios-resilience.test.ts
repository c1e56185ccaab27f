/**
 * Behaviour on the real control plane (11, 12, and the delivery proofs of issue 4 that
 * involve rollouts): Hermod started while rollouts are under way, Slack channels that cannot
 * take messages, a Slack outage while a rollout finishes, the API server restarted under a
 * running Hermod; and Hermod's operations endpoints and metrics format throughout.
 *
 * Rollouts that must stay in flight until the test lets them finish are held by a "gate": a
 * nodeSelector on a label the fake Node does not have yet. The new Pod stays Pending
 * (Unschedulable: not a stuck container, so the message stays orange) until the test puts
 * the label on the Node.
 *
 * Order: the adoption test starts Hermod (everything before it happens without Hermod);
 * the channel and outage scenarios then run concurrently; the API server restart runs alone,
 * as it interrupts every client of the cluster; the metrics checks come last, when every
 * metric has samples.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { CoreV1Event } from '@kubernetes/client-node';
import { trimDeployment } from '../../src/io/kube/trim.js';
import { rolloutStatus, type RolloutState } from '../../src/machines/rollout.js';
import { messageColour, messageText, SLACK_ANNOTATION, startHarness, type DeploymentSpec, type Harness } from '../support/hermod-harness.js';
import type { StoredMessage } from '../support/slack-server.js';
import { GATE_PREFIX, GREEN, ORANGE, RED, controllerState, dump, openGate, messageFor, waitForMessage, REVISION_ANNOTATION } from '../support/scenario.js';

/** Progress deadline of the rollout that is adopted and then fails: Hermod starts a few seconds into it. */
const DEADLINE = 12;
/** The shortest Slack outage of the outage scenario. */
const OUTAGE_MS = 8_000;
const PROMTOOL = '/usr/bin/promtool';



const isColour = (colour: string) => (m: StoredMessage) => messageColour(m) === colour;



function waitForController(h: Harness, namespace: string, name: string, revision: number, state: RolloutState, timeoutMs = 60_000): Promise<true> {
  return h.waitFor(
    `the controller to call ${namespace}/${name} revision ${revision} ${state}`,
    async () => {
      const d = await h.getDeployment(namespace, name);
      return d.metadata?.annotations?.[REVISION_ANNOTATION] === String(revision) && rolloutStatus(trimDeployment(d)).state === state;
    },
    timeoutMs,
  );
}

/** A merge patch that starts a rollout whose Pods wait for `gate`. */
function gatedRollout(gate: string, image: string): Record<string, unknown> {
  return { spec: { template: { spec: { nodeSelector: { [GATE_PREFIX + gate]: 'open' }, containers: [{ name: 'app', image }] } } } };
}


/** Slack requests about `channel` (by name or ID). */
function requestsFor(h: Harness, channel: string): ReturnType<Harness['slack']['requests']> {
  const id = h.slack.channels.get(channel)?.id;
  return h.slack.requests().filter((r) => r.channel === channel || (id !== undefined && r.channelId === id));
}


/** GET one of Hermod's ops endpoints. */
async function ops(h: Harness, path: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const running = h.hermod;
  if (running === null) throw new Error('Hermod is not running');
  const res = await fetch(`http://127.0.0.1:${running.port}${path}`, init);
  return { status: res.status, body: await res.text() };
}

/** Warning Events Hermod recorded on a namespace (or, with `kind`, on its objects of that kind) because Slack refused its channel. */
async function deliveryEvents(h: Harness, namespace: string, kind = 'Namespace'): Promise<CoreV1Event[]> {
  const list = await h.api<{ items: CoreV1Event[] }>('GET', `/api/v1/namespaces/${namespace}/events`);
  return list.items.filter((e) => e.reason === 'SlackDeliveryFailed' && e.involvedObject.kind === kind);
}

/** Sum of the `watches` counters of Hermod's reflectors (each restart of a watch counts one). */
function watchesStarted(h: Harness): number {
  const running = h.hermod;
  if (running === null) throw new Error('Hermod is not running');
  return Object.values(running.watcher.stats().reflectors).reduce((n, r) => n + r.watches, 0);
}

/**
 * A TCP relay between Hermod and the API server that the test can sever: Hermod alone loses
 * the API server (open connections reset, new ones refused) while the controllers, the test
 * and everything else keep working. TLS passes through untouched.
 */
class ApiRelay {
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((client) => this.accept(client));
  private severed = false;
  url = '';

  constructor(private readonly target: URL) {}

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  sever(): void {
    this.severed = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.severed = false;
  }

  async close(): Promise<void> {
    this.sever();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.severed) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(this.target.port), this.target.hostname);
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(socket);
      socket.on('error', () => other.destroy());
      socket.on('close', () => {
        this.sockets.delete(socket);
        other.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  }
}

/** The admin kubeconfig (JSON, as the local cluster writes it) with its server replaced. */
function kubeconfigVia(h: Harness, server: string): string {
  const config = JSON.parse(readFileSync(h.cluster.kubeconfigPath, 'utf8')) as { clusters: Array<{ cluster: { server: string } }> };
  for (const c of config.clusters) c.cluster.server = server;
  const file = join(h.cluster.dir, 'kubeconfig-hermod-relay');
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

/** Completed LISTs of Hermod's Deployment reflector (initial, after 410, on request). */
function deploymentLists(h: Harness): number {
  const running = h.hermod;
  if (running === null) throw new Error('Hermod is not running');
  return running.watcher.stats().reflectors.deployments.lists;
}

describe('resilience on the real control plane', () => {
  let h: Harness;
  /** Hermod's own way to the API server (local cluster only): the test can cut it. */
  let relay: ApiRelay | null = null;
  before(async () => {
    h = await startHarness({ channels: ['adopt', 'healthy', 'outage', 'severed', 'apirestart'], flags: { failingGraceSeconds: 2 }, startHermod: false });
    // A channel that exists but that the bot was never invited to.
    h.slack.channels.create({ name: 'private-room', member: false });
    if (h.cluster.kind === 'local') {
      relay = new ApiRelay(new URL(h.cluster.server));
      await relay.start();
    }
  });
  after(async () => {
    try {
      await h?.stop();
    } finally {
      await relay?.close();
    }
  });

  it('started while rollouts are under way: adopts and reports each once; finished Deployments are not announced', async () => {
    const ns = 'adopt';
    await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'adopt' });
    const spec = (name: string, extra: Partial<DeploymentSpec> = {}): DeploymentSpec => ({ namespace: ns, name, ...extra });
    await Promise.all(['done', 'twice', 'inflight', 'doomed'].map((name) => h.createDeployment(spec(name))));
    await Promise.all(['done', 'twice', 'inflight', 'doomed'].map((name) => waitForController(h, ns, name, 1, 'complete')));
    // `twice`: a second rollout, finished. `inflight`: held by its gate. `doomed`: never ready, fails at its deadline.
    await h.updateDeployment(spec('twice', { image: 'registry.example/app:2' }));
    await h.patchDeployment(ns, 'inflight', gatedRollout(ns, 'registry.example/app:2'));
    await waitForController(h, ns, 'twice', 2, 'complete');
    await h.updateDeployment(spec('doomed', { image: 'registry.example/app:2', failure: 'neverready', progressDeadlineSeconds: DEADLINE }));
    await Promise.all(['inflight', 'doomed'].map((name) => waitForController(h, ns, name, 2, 'progressing')));
    assert.equal(h.hermod === null, true, 'Hermod is not running yet');

    await h.startHermod(relay === null ? {} : { kubeconfig: kubeconfigVia(h, relay.url) });
    assert.deepEqual(await ops(h, '/readyz'), { status: 200, body: 'ok\n' });
    assert.equal((await ops(h, '/livez')).status, 200);

    const adopted = await waitForMessage(h, ns, 'inflight', 2, 'in progress', isColour(ORANGE));
    assert.match(messageText(adopted), /adopted: Hermod started watching mid-rollout/);
    await openGate(h, ns);
    const succeeded = await waitForMessage(h, ns, 'inflight', 2, 'green', isColour(GREEN));
    assert.match(messageText(succeeded), /took at least /);
    assert.equal(await controllerState(h, ns, 'inflight'), 'complete');

    const failed = await waitForMessage(h, ns, 'doomed', 2, 'failed', (m) => messageColour(m) === RED && m.text.endsWith('failed'), (DEADLINE + 40) * 1000);
    assert.match(messageText(failed), /adopted: Hermod started watching mid-rollout/);
    assert.equal(await controllerState(h, ns, 'doomed'), 'deadlineExceeded');
    for (const m of [succeeded, failed]) assert.equal(messageColour(m.history[0]!), ORANGE, dump(m));

    // Two messages, one per rollout under way; the finished Deployments are known and quiet.
    assert.deepEqual(
      h.messages(ns).map((m) => /`([^`]+)` \(revision (\d+)\)/.exec(m.text)?.slice(1).join('@')).sort(),
      ['doomed@2', 'inflight@2'],
    );
    for (const name of ['done', 'twice']) {
      assert.ok(!h.messages(ns).some((m) => m.text.includes(`\`${name}\``)), `${name} was announced`);
      assert.equal(h.hermod?.supervisor.deployment(ns, name)?.getSnapshot().value, 'idle', `${name} is known and at rest`);
    }
    assert.equal(await h.metric('hermod_deployment_processed_total'), 2);
    assert.equal(await h.metric('hermod_deployment_success_total'), 1);
    assert.equal(await h.metric('hermod_deployment_failed_total'), 1);
    assert.equal(await h.metric('hermod_rollouts_in_progress'), 0);
  });

  describe('Slack trouble', { concurrency: true }, () => {
    it('a wrong channel: a Warning Event on its namespace and on the Deployment, a metric, no retry storm; other namespaces are delivered', async () => {
      const cases = [
        { namespace: 'nowhere', channel: 'no-such-channel', error: 'channel_not_found', advice: /check the channel in the hermod\.uswitch\.com\/slack annotation/ },
        { namespace: 'uninvited', channel: 'private-room', error: 'not_in_channel', advice: /invite the Hermod app to private-room/ },
      ];
      await Promise.all([
        ...cases.map((c) => h.createNamespace(c.namespace, { [SLACK_ANNOTATION]: c.channel })),
        h.createNamespace('healthy', { [SLACK_ANNOTATION]: 'healthy' }),
      ]);
      await Promise.all([...cases.map((c) => h.createDeployment({ namespace: c.namespace, name: 'web' })), h.createDeployment({ namespace: 'healthy', name: 'web' })]);

      const healthy = await waitForMessage(h, 'healthy', 'web', 1, 'green', isColour(GREEN));
      assert.equal(messageColour(healthy.history[0]!), ORANGE, dump(healthy));
      for (const c of cases) {
        const [event, ...more] = await h.waitFor(`a SlackDeliveryFailed Event in ${c.namespace}`, async () => {
          const events = await deliveryEvents(h, c.namespace);
          return events.length > 0 ? events : undefined;
        });
        assert.equal(more.length, 0, `one Event, not one per attempt: ${JSON.stringify(more)}`);
        assert.equal(event?.type, 'Warning');
        assert.deepEqual({ kind: event?.involvedObject.kind, name: event?.involvedObject.name }, { kind: 'Namespace', name: c.namespace });
        assert.ok(event?.message?.includes(`"${c.channel}"`) && event.message.includes(c.error), event?.message);
        assert.match(event?.message ?? '', c.advice);
        // The same on the Deployment whose message was dropped: `kubectl describe deployment` says why (issue 13).
        const [onDeployment, ...moreOnDeployments] = await h.waitFor(`a SlackDeliveryFailed Event on ${c.namespace}/web`, async () => {
          const events = await deliveryEvents(h, c.namespace, 'Deployment');
          return events.length > 0 ? events : undefined;
        });
        assert.equal(moreOnDeployments.length, 0, JSON.stringify(moreOnDeployments));
        assert.deepEqual(
          { type: onDeployment?.type, apiVersion: onDeployment?.involvedObject.apiVersion, name: onDeployment?.involvedObject.name, message: onDeployment?.message },
          { type: 'Warning', apiVersion: 'apps/v1', name: 'web', message: event?.message },
        );
        assert.ok((await h.metric('hermod_slack_permanent_failures_total', { error: c.error })) >= 1, `hermod_slack_permanent_failures_total{error="${c.error}"}`);
      }

      // The rollouts in the bad namespaces finished; Slack saw one attempt each, no retry storm.
      for (const c of cases) await waitForController(h, c.namespace, 'web', 1, 'complete');
      await sleep(2_000);
      for (const c of cases) {
        const attempts = requestsFor(h, c.channel);
        assert.ok(attempts.length >= 1 && attempts.length <= 2, `#${c.channel}: ${JSON.stringify(attempts)}`);
        assert.ok(attempts.every((r) => r.outcome === c.error), JSON.stringify(attempts));
        assert.equal(h.messages(c.channel).length, 0);
      }
      // Nothing of theirs leaked into a channel that works.
      assert.equal(h.messages('healthy').length, 1);
    });

    it('a Slack outage while a rollout finishes: the verdict is delivered once Slack is back, exactly once', async (t) => {
      const ns = 'outage';
      await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'outage' });
      await h.createDeployment({ namespace: ns, name: 'web' });
      await waitForMessage(h, ns, 'web', 1, 'green', isColour(GREEN));
      await h.patchDeployment(ns, 'web', gatedRollout(ns, 'registry.example/app:2'));
      await waitForMessage(h, ns, 'web', 2, 'in progress', isColour(ORANGE));
      const retriesBefore = await h.metric('hermod_slack_retries_total');

      const from = h.slack.requests().length;
      const started = Date.now();
      const outage = h.slack.faults.outage({ channels: [ns] });
      try {
        await openGate(h, ns);
        await waitForController(h, ns, 'web', 2, 'complete');
        await h.waitFor('Hermod to try during the outage', () =>
          requestsFor(h, ns).some((r) => r.seq > from && r.outcome === 'http_503'),
        );
        // Liveness and readiness never depend on Slack.
        assert.equal((await ops(h, '/livez')).status, 200);
        assert.equal((await ops(h, '/readyz')).status, 200);
        await sleep(Math.max(0, OUTAGE_MS - (Date.now() - started)));
        assert.ok(!isColour(GREEN)(messageFor(h, ns, 'web', 2)!), 'nothing got through the outage');
      } finally {
        outage.clear();
      }
      const endedAt = Date.now();

      const done = await waitForMessage(h, ns, 'web', 2, 'green after the outage', isColour(GREEN), 120_000);
      const failedDuring = requestsFor(h, ns).filter((r) => r.seq > from && r.outcome === 'http_503').length;
      assert.ok(failedDuring >= 1);
      const greenAt = done.history.find((v) => messageColour(v) === GREEN)?.at ?? NaN;
      t.diagnostic(`${failedDuring} calls failed during the ${((endedAt - started) / 1000).toFixed(1)} s outage; the verdict arrived ${((greenAt - endedAt) / 1000).toFixed(1)} s after it`);
      assert.ok((await h.metric('hermod_slack_retries_total')) > retriesBefore, 'the failed calls were retried');
      await sleep(2_000);
      // Exactly once: one message per rollout, one post each, one green version.
      assert.equal(h.messages(ns).length, 2, JSON.stringify(h.messages(ns).map((m) => m.text)));
      const posts = requestsFor(h, ns).filter((r) => r.method === 'chat.postMessage' && r.outcome === 'ok');
      assert.equal(posts.length, 2, JSON.stringify(posts));
      assert.equal(done.history.filter((v) => messageColour(v) === GREEN).length, 1, dump(done));
      assert.equal(messageColour(done.history[0]!), ORANGE, dump(done));
    });
  });

  it('cut off from the API server while a rollout finishes: the verdict is reported once Hermod is back', async (t) => {
    if (relay === null) return t.skip('needs the local control plane (a relay in front of its API server)');
    const ns = 'severed';
    await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'severed' });
    await h.createDeployment({ namespace: ns, name: 'web' });
    await waitForMessage(h, ns, 'web', 1, 'green', isColour(GREEN));
    await h.patchDeployment(ns, 'web', gatedRollout(ns, 'registry.example/app:2'));
    await waitForMessage(h, ns, 'web', 2, 'in progress', isColour(ORANGE));
    const watchesBefore = watchesStarted(h);

    relay.sever();
    try {
      // The whole rollout finishes while Hermod cannot see the cluster.
      await openGate(h, ns);
      await waitForController(h, ns, 'web', 2, 'complete');
      await sleep(2_000);
      assert.ok(!isColour(GREEN)(messageFor(h, ns, 'web', 2)!), 'Hermod saw nothing while cut off');
      assert.equal((await ops(h, '/livez')).status, 200);
    } finally {
      relay.restore();
    }
    const done = await waitForMessage(h, ns, 'web', 2, 'green once Hermod is back', isColour(GREEN), 120_000);
    assert.ok(watchesStarted(h) > watchesBefore, 'the watches were re-established');
    assert.equal(messageColour(done.history[0]!), ORANGE, dump(done));
    assert.equal(h.messages(ns).length, 2, JSON.stringify(h.messages(ns).map((m) => m.text)));
  });

  it('the API server restarts under a running Hermod mid-rollout: the watches recover and the rollout is reported to its verdict', async (t) => {
    if (h.cluster.kind !== 'local') return t.skip('needs the local control plane (restartApiServer)');
    const ns = 'apirestart';
    await h.createNamespace(ns, { [SLACK_ANNOTATION]: 'apirestart' });
    await h.createDeployment({ namespace: ns, name: 'web' });
    await waitForMessage(h, ns, 'web', 1, 'green', isColour(GREEN));
    await h.patchDeployment(ns, 'web', gatedRollout(ns, 'registry.example/app:2'));
    await waitForMessage(h, ns, 'web', 2, 'in progress', isColour(ORANGE));
    const watchesBefore = watchesStarted(h);
    const listsBefore = deploymentLists(h);

    // In the background, all through the restart: liveness, when Hermod's Deployment cache was
    // listed again, and when the controller called the rollout complete.
    const live: number[] = [];
    const timeline: { relisted?: number; complete?: number } = {};
    let watching = true;
    const monitor = (async () => {
      while (watching) {
        live.push((await ops(h, '/livez')).status);
        if (timeline.relisted === undefined && deploymentLists(h) > listsBefore) timeline.relisted = Date.now();
        if (timeline.complete === undefined && (await controllerState(h, ns, 'web').catch(() => null)) === 'complete') timeline.complete = Date.now();
        await sleep(100);
      }
    })();
    let restartedAt = 0;
    try {
      // The Pods may start now: the rollout moves on through the restart, as the components
      // reconnect (Hermod among them).
      await openGate(h, ns);
      await h.cluster.restartApiServer();
      restartedAt = Date.now();
      await waitForController(h, ns, 'web', 2, 'complete');
      timeline.complete ??= Date.now();
    } finally {
      watching = false;
      await monitor;
    }
    const at = (ms: number | undefined): string => (ms === undefined ? 'never' : `${((ms - restartedAt) / 1000).toFixed(1)} s`);
    t.diagnostic(`after the API server was back: Hermod listed Deployments again at ${at(timeline.relisted)}, the controller said complete at ${at(timeline.complete)}`);
    assert.ok(live.length > 0 && live.every((s) => s === 200), `/livez during the restart: ${live.join(',')}`);

    const done = await waitForMessage(h, ns, 'web', 2, 'green', isColour(GREEN), 120_000);
    assert.equal(messageColour(done.history[0]!), ORANGE, dump(done));
    assert.ok(watchesStarted(h) > watchesBefore, 'the watches were re-established');

    // Watching again, not only relisted once: a new rollout is followed from its start.
    await h.patchDeployment(ns, 'web', { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/app:3' }] } } } });
    const third = await waitForMessage(h, ns, 'web', 3, 'green', isColour(GREEN));
    assert.match(messageText(third), /revision 3 \(was 2\)/);
    assert.equal(h.messages(ns).length, 3);
    assert.equal((await ops(h, '/readyz')).status, 200);
  });

  it('serves /livez, /readyz and /metrics; Hermod\'s metrics pass promtool; the counters add up', async () => {
    assert.deepEqual(await ops(h, '/livez'), { status: 200, body: 'ok\n' });
    assert.deepEqual(await ops(h, '/readyz'), { status: 200, body: 'ok\n' });
    assert.equal((await ops(h, '/nope')).status, 404);
    assert.equal((await ops(h, '/metrics', { method: 'POST' })).status, 405);

    const metrics = await ops(h, '/metrics');
    assert.equal(metrics.status, 200);
    const own = metrics.body.split('\n').filter((line) => /^(# (HELP|TYPE) )?hermod_/.test(line));
    for (const family of [
      'hermod_deployment_processed_total',
      'hermod_deployment_success_total',
      'hermod_deployment_failed_total',
      'hermod_rollouts_ended_total',
      'hermod_rollout_duration_seconds',
      'hermod_rollouts_in_progress',
      'hermod_deployments_tracked',
      'hermod_watch_cache_objects',
      'hermod_slack_requests_total',
      'hermod_slack_retries_total',
      'hermod_slack_queue_depth',
      'hermod_slack_delivery_seconds',
      'hermod_slack_permanent_failures_total',
      'hermod_slack_dropped_total',
    ]) {
      assert.ok(own.some((line) => line.startsWith(`# TYPE ${family} `)), `${family} is exported`);
    }
    assert.ok(
      existsSync(PROMTOOL),
      `${PROMTOOL} is missing: run scripts/setup-test-env.sh (it installs the Debian package prometheus, which provides promtool)`,
    );
    const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: own.join('\n') + '\n', encoding: 'utf8' });
    assert.equal(lint.error, undefined, String(lint.error));
    assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);
    assert.equal(`${lint.stdout}${lint.stderr}`.trim(), '');

    // adopt 2 (1 + 1 failed); healthy, nowhere, uninvited 3; outage 2; severed 2 and apirestart 3 (local cluster only).
    const localOnly = h.cluster.kind === 'local' ? 2 + 3 : 0;
    assert.equal(await h.metric('hermod_deployment_processed_total'), 7 + localOnly);
    assert.equal(await h.metric('hermod_deployment_success_total'), 6 + localOnly);
    assert.equal(await h.metric('hermod_deployment_failed_total'), 1);
    assert.equal(await h.metric('hermod_rollouts_in_progress'), 0);
    // One permanent failure per wrong channel, however many rollouts went there.
    assert.equal(await h.metric('hermod_slack_permanent_failures_total'), 2);
  });
});
