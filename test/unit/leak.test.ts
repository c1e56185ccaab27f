/**
 * Leak test for the long-running parts: 10,000 Deployments each roll out, are announced in
 * Slack and are deleted, through the real supervisor (src/actors/supervisor.ts), the real
 * delivery (src/actors/delivery/) and the real renderer, over the shipped dry-run SlackApi
 * (src/io/dryRun.ts: no network). Afterwards every registry must be back to empty: the
 * supervisor's map of Deployment actors, their timers in the actor system, each channel's
 * queue and records (only the bounded ring of finished rollout ids stays), and, once delivery
 * stops, the delivery system's keyed actors and timers.
 *
 * Channel actors are not reaped while Hermod runs (one per annotated channel, about 4.5 KiB
 * each, ADR 0003); what must not grow per rollout is their content.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { createDelivery } from '../../src/actors/delivery/index.js';
import { silentLogger } from '../../src/actors/logger.js';
import { Supervisor } from '../../src/actors/supervisor.js';
import { dryRunSlackApi } from '../../src/io/dryRun.js';
import { createLogger } from '../../src/io/logger.js';
import { DEFAULT_CHANNEL_CONFIG } from '../../src/machines/channelTypes.js';
import { renderRollout } from '../../src/machines/message.js';
import { observation } from '../support/observations.js';

type AnySystem = AnyActorRef['system'];

const DEPLOYMENTS = 10_000;
const CHANNELS = 50;

/** Timers the actor system still holds (xstate keeps them in the system's snapshot). */
function scheduledEvents(system: AnySystem): number {
  return Object.keys((system as unknown as { _snapshot: { _scheduledEvents: object } })._snapshot._scheduledEvents).length;
}

describe('leaks', () => {
  it(`${DEPLOYMENTS} Deployments rolled out, announced and deleted leave every registry empty`, async () => {
    let deliverySystem: AnySystem | undefined;
    const delivery = createDelivery({
      slack: dryRunSlackApi(createLogger('error')),
      render: (view) => renderRollout(view, { cluster: null, gitAnnotationWarning: false, annotationNames: { commitSha: 'sha', repoUrl: 'repo' }, mode: 'update' }),
      // Slack's pacing is not under test here: a burst big enough for every call.
      pacing: { postBurst: DEPLOYMENTS * 2, postIntervalMs: 1, updateBurst: DEPLOYMENTS * 4, updateIntervalMs: 1 },
      inspect: (e: InspectionEvent) => {
        deliverySystem ??= (e.actorRef as AnyActorRef).system;
      },
    });
    let notified = 0;
    const supervisor = new Supervisor({
      failingGraceMs: 60_000,
      logger: silentLogger,
      onNotification: (n) => {
        notified += 1;
        delivery.notify(n);
      },
    }).start();
    supervisor.synced();

    for (let i = 0; i < DEPLOYMENTS; i++) {
      const d = { namespace: `ns-${i % 97}`, name: `app-${i}`, uid: `u${i}`, channel: `deploys-${i % CHANNELS}` };
      supervisor.observe(observation({ ...d, revision: 2, updated: 1, available: 2, old: 2, at: 1 }));
      supervisor.observe(observation({ ...d, revision: 2, updated: 2, available: 2, at: 2 }));
      supervisor.deploymentDeleted(d, 3);
    }

    assert.equal(notified, DEPLOYMENTS * 2, 'each rollout started and ended');
    assert.equal(supervisor.deploymentCount, 0);
    for (let i = 0; i < DEPLOYMENTS; i += 997) assert.equal(supervisor.deployment(`ns-${i % 97}`, `app-${i}`), undefined);
    assert.deepEqual(supervisor.root.getSnapshot().children, {});
    assert.equal(scheduledEvents(supervisor.root.system), 0, 'no timer of a reaped Deployment actor is left');

    const { drained, left } = await delivery.drain(60_000);
    assert.ok(drained, JSON.stringify(left.channels.filter((c) => c.depth > 0)));
    const snapshot = delivery.snapshot();
    assert.equal(snapshot.channels.length, CHANNELS);
    for (const c of snapshot.channels) {
      assert.deepEqual([c.channel, c.pending, c.rollouts], [c.channel, [], []], 'nothing pending, no record of a finished rollout');
      assert.ok(c.finished.length <= DEFAULT_CHANNEL_CONFIG.finishedCap, `${c.channel}: ${c.finished.length} finished ids`);
    }

    supervisor.stop();
    delivery.stop();
    assert.ok(deliverySystem, 'the delivery system was inspected');
    assert.deepEqual(Object.keys(deliverySystem.getAll()), [], 'no channel actor left in the delivery system');
    assert.equal(scheduledEvents(deliverySystem), 0, 'no pacing or budget timer left');
    assert.equal(scheduledEvents(supervisor.root.system), 0);
  });
});
