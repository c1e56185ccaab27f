/**
 * Slack delivery: every rollout outcome reaches Slack, in order per rollout, under Slack's
 * rate limits, through outages, without a retry storm on permanent errors. The entry point
 * of src/actors/delivery/.
 *
 * Shape of the actor system (one system, one clock, one inspector):
 * - root: `updateBudgetMachine` (src/machines), the workspace's chat.update budget;
 * - one `channelMachine` actor per channel, kept by ./channels.ts.
 *
 * One file per job: ./slackCalls.ts calls Slack and maps the answers, ./report.ts turns what
 * the channels emit into logs, metrics and hooks, ./channels.ts is the channel registry
 * (drain, snapshot, stop). I/O is injected: `slack` (./slackApi.ts, implemented by
 * src/io/slack.ts), `render`, `logger`, `metrics`, hooks, the clock. Decisions are in
 * src/machines/channelPolicy.ts; see docs/adr/0003-slack-delivery.md for why.
 */
import { createActor, type AnyActorRef } from 'xstate';
import { silentLogger } from '../logger.js';
import { channelMachine } from '../../machines/channelMachine.js';
import { contentHash } from '../../machines/channelPolicy.js';
import { DEFAULT_CHANNEL_CONFIG, type ChannelConfig, type ChannelNotification } from '../../machines/channelTypes.js';
import type { SlackMessage } from '../../machines/message.js';
import type { Notification } from '../../machines/notification.js';
import { releaseInfoOf } from '../../machines/release.js';
import { DEFAULT_UPDATE_BURST, DEFAULT_UPDATE_INTERVAL_MS, updateBudgetMachine } from '../../machines/updateBudgetMachine.js';
import { createChannelRegistry } from './channels.js';
import { safelyWith } from './hooks.js';
import { reporter } from './report.js';
import { slackCallActor } from './slackCalls.js';
import type { Delivery, DeliveryClock, DeliveryOptions } from './types.js';

export { ROLLOUT_EVENT_TYPE, SlackCallError, isSlackCallError, type SlackApi } from './slackApi.js';
export type { FindPostRequest, PostMessageRequest, UpdateMessageRequest, RolloutMetadata } from './slackApi.js';
export type { SlackMethod } from '../../machines/channelTypes.js';
export type * from './types.js';

const realClock: DeliveryClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** Creates the delivery layer and its actor system. */
export function createDelivery(options: DeliveryOptions): Delivery {
  const log = options.logger ?? silentLogger;
  const metrics = options.metrics ?? {};
  const clock = options.clock ?? realClock;
  const now = options.now ?? (clock.now ? () => (clock.now as () => number).call(clock) : Date.now);
  const safely = safelyWith(log);
  const { updateIntervalMs, updateBurst, ...channelPacing } = options.pacing ?? {};
  const config: ChannelConfig = { ...DEFAULT_CHANNEL_CONFIG, ...channelPacing, mode: options.mode ?? 'update', releaseWindowMs: options.releaseWindowMs ?? 0 };
  const cluster = options.cluster ?? null;

  const root = createActor(updateBudgetMachine, {
    input: { intervalMs: updateIntervalMs ?? DEFAULT_UPDATE_INTERVAL_MS, burst: updateBurst ?? DEFAULT_UPDATE_BURST },
    clock,
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  root.start();

  const machine = channelMachine.provide({ actors: { callSlack: slackCallActor({ slack: options.slack, now, log, metrics, safely }) } });
  const channels = createChannelRegistry({
    machine,
    root: root as AnyActorRef,
    config,
    clock,
    log,
    onEmitted: reporter({
      log,
      metrics,
      safely,
      onPermanentFailure: options.onPermanentFailure,
      onMessageRejected: options.onMessageRejected,
      blockWorkspace: (channel, error) => {
        for (const actor of channels.others(channel)) actor.send({ type: 'workspace.blocked', error });
      },
    }),
  });
  if (options.snapshot) channels.restore(options.snapshot);
  let stopped = false;

  return {
    notify(n: Notification): void {
      if (stopped) {
        log.warn({ rolloutId: n.rolloutId, channel: n.channel }, 'Slack delivery is stopped; notification dropped');
        return;
      }
      let rendered: SlackMessage;
      try {
        rendered = options.render(n.view);
      } catch (err) {
        safely('metrics.dropped', () => metrics.dropped?.('render_error', 1));
        log.error({ err, rolloutId: n.rolloutId, channel: n.channel }, 'could not render the Slack message; dropped');
        return;
      }
      const message = { text: rendered.text, attachments: rendered.attachments };
      const thread = rendered.thread ?? null;
      const notification: ChannelNotification = {
        rolloutId: n.rolloutId,
        namespace: n.view.namespace,
        workload: n.view.deployment,
        phase: n.view.phase,
        alert: n.alert,
        message,
        thread,
        contentKey: contentHash(message),
        threadKey: thread === null ? null : contentHash(thread),
        notifiedAt: now(),
        // A success the bake still watches (issue 13): the channel keeps its record.
        ...(n.view.bakeUntil != null ? { bakeUntil: n.view.bakeUntil } : {}),
        // ...and remembers what a restarted Hermod needs to resume the watch (ADR 0011).
        ...(n.view.bakeUntil != null && n.view.endedAt !== null
          ? { bakeOrigin: { startedAt: n.view.startedAt, succeededAt: n.view.endedAt, previousRevision: n.view.previousRevision, adopted: n.view.adopted } }
          : {}),
      };
      const release = config.releaseWindowMs > 0 && config.mode === 'update' ? releaseInfoOf(n.view, n.alert, cluster) : null;
      if (release !== null) notification.release = release;
      channels.channelFor(n.channel).send({ type: 'rollout.notified', notification });
    },

    pending: () => channels.pending(),
    drain: (timeoutMs) => channels.drain(timeoutMs),
    snapshot: () => channels.snapshot(),

    stop(): void {
      if (stopped) return;
      stopped = true;
      channels.stopAll();
      root.stop();
    },
  };
}
