/**
 * The watch after success through the delivery layer (issue 13): createDelivery ->
 * src/io/slack.ts -> the real @slack/web-api client -> the local Slack server. A success the
 * bake watches keeps its message's record, so "succeeded, then degraded" edits the same
 * message, also after a restart from the snapshot; the bake's quiet end costs no request.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SimulatedClock } from 'xstate';
import { createDelivery, type Delivery, type DeliverySnapshot } from '../../src/actors/delivery/index.js';
import { createSlackApi, createSlackClient } from '../../src/io/slack.js';
import type { SlackMessage } from '../../src/machines/message.js';
import type { Notification, RolloutPhase, RolloutView } from '../../src/machines/notification.js';
import { startSlackServer, type SlackServer } from '../support/slack-server.js';

const EPOCH = 1_700_000_000_000;
const BAKE_UNTIL = EPOCH + 300_000;

function view(phase: RolloutPhase, bakeUntil: number | null = null): RolloutView {
  return {
    rolloutId: 'uid-web/2', namespace: 'shop', deployment: 'web', revision: 2, previousRevision: 1, rolledBackTo: [], replicaSet: 'web-rs2',
    phase, startedAt: EPOCH - 10_000, endedAt: EPOCH, adopted: false, progressDeadlineSeconds: 600,
    progress: { desired: 2, updated: 2, ready: 2, available: 2, old: 0 }, diagnosis: { pods: 2, stuckPods: 0, problems: [] },
    git: {}, supersededBy: null, detail: null, ...(bakeUntil !== null ? { bakeUntil } : { bakeUntil: null }),
  };
}

function note(phase: RolloutPhase, bakeUntil: number | null = null): Notification {
  return { rolloutId: 'uid-web/2', channel: 'deploys', alert: 'all', view: view(phase, bakeUntil) };
}

/** The message shows the phase only: the bake deadline is never rendered. */
function render(v: RolloutView): SlackMessage {
  return { text: `web ${v.phase}`, attachments: [], thread: null };
}

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers) await c();
});

async function rig() {
  const clock = new SimulatedClock();
  clock.set(EPOCH);
  const slack = await startSlackServer({ now: () => clock.now(), channels: [{ name: 'deploys' }] });
  const client = createSlackClient({ token: slack.token, slackApiUrl: slack.url, timeoutMs: 2000 });
  const deliveries: Delivery[] = [];
  const make = (snapshot?: DeliverySnapshot) => {
    const d = createDelivery({ slack: createSlackApi(client), render, clock, ...(snapshot ? { snapshot } : {}) });
    deliveries.push(d);
    return d;
  };
  const settle = async (d: Delivery) => {
    for (let i = 0; i < 200; i++) {
      clock.increment(50);
      for (let j = 0; j < 20; j++) await new Promise((r) => setImmediate(r));
      if (d.pending().total === 0 && d.pending().inFlight === 0) return;
    }
    throw new Error(`not drained: ${JSON.stringify(d.pending())}`);
  };
  closers.push(async () => {
    for (const d of deliveries) d.stop();
    await slack.close();
  });
  return { clock, slack, make, settle };
}

function methods(slack: SlackServer): string[] {
  return slack.requests().map((r) => r.method);
}

describe('delivery of a success the bake watches', () => {
  it('degraded edits the same message; the record is then forgotten', async () => {
    const { slack, make, settle } = await rig();
    const d = make();
    d.notify(note('succeeded', BAKE_UNTIL));
    await settle(d);
    assert.equal(d.snapshot().channels[0]?.rollouts[0]?.bakeUntil, BAKE_UNTIL, 'kept, with its bake deadline');
    d.notify(note('degraded'));
    await settle(d);
    const messages = slack.messages('deploys');
    assert.equal(messages.length, 1);
    assert.deepEqual(messages[0]?.history.map((h) => h.text), ['web succeeded', 'web degraded']);
    assert.deepEqual(methods(slack), ['chat.postMessage', 'chat.update']);
    assert.deepEqual(d.snapshot().channels[0]?.rollouts, []);
    assert.deepEqual(d.snapshot().channels[0]?.finished, ['uid-web/2']);
  });

  it('the bake ends quietly: no request, the record forgotten', async () => {
    const { slack, make, settle } = await rig();
    const d = make();
    d.notify(note('succeeded', BAKE_UNTIL));
    await settle(d);
    d.notify(note('succeeded'));
    await settle(d);
    assert.deepEqual(methods(slack), ['chat.postMessage']);
    assert.deepEqual(d.snapshot().channels[0]?.rollouts, []);
    assert.deepEqual(d.snapshot().channels[0]?.finished, ['uid-web/2']);
  });

  it('a restart from the snapshot keeps the record: degraded still edits the same message', async () => {
    const { slack, make, settle } = await rig();
    const first = make();
    first.notify(note('succeeded', BAKE_UNTIL));
    await settle(first);
    const snapshot = first.snapshot();
    first.stop();
    const second = make(JSON.parse(JSON.stringify(snapshot)) as DeliverySnapshot);
    second.notify(note('degraded'));
    await settle(second);
    assert.equal(slack.messages('deploys').length, 1);
    assert.deepEqual(slack.messages('deploys')[0]?.history.map((h) => h.text), ['web succeeded', 'web degraded']);
  });
});
