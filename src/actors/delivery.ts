/**
 * Slack delivery: every rollout outcome reaches Slack, in order per rollout, under Slack's
 * rate limits, through outages, without a retry storm on permanent errors.
 *
 * Shape of the actor system (one system, one clock, one inspector):
 * - root: `updateBudgetMachine`, the workspace's chat.update budget;
 * - one `channelMachine` actor per channel, created lazily on the first notification with
 *   `createActor(machine, { parent: root, systemId })`. They are not spawned children: a
 *   plain Map keeps creation O(1) (spawned children are copied on every spawn), and the
 *   restart-safe state is our own small JSON (`snapshot()`), not xstate's persisted form.
 *
 * I/O is injected: `slack` (SlackApi, see src/io/slack.ts), `render`, `logger`, `metrics`,
 * hooks, the clock. Decisions are in src/machines/channelPolicy.ts; see
 * docs/adr/0003-slack-delivery.md for why.
 */
import { fnv1a } from '../machines/hash.js';
import { silentLogger, type Logger } from './logger.js';
import { createActor, fromPromise, type Actor, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import { channelMachine, methodOf, type ChannelEmitted, type ChannelRestore, type SlackMethod, type SlackOutcome } from '../machines/channelMachine.js';
import { DEFAULT_CHANNEL_CONFIG, contentHash, failureOfCall, type ChannelConfig, type ChannelNotification, type MessageMode, type PendingDelivery, type RolloutRecord, type SlackCall } from '../machines/channelPolicy.js';
import type { SlackMessage } from '../machines/message.js';
import type { PermanentScope, SlackFailure } from '../machines/slackFailure.js';
import type { Notification, RolloutPhase, RolloutView } from '../machines/notification.js';
import { DEFAULT_UPDATE_BURST, DEFAULT_UPDATE_INTERVAL_MS, updateBudgetMachine } from '../machines/updateBudgetMachine.js';
import { ROLLOUT_EVENT_TYPE, SlackCallError, type SlackApi } from './delivery/slackApi.js';

export { ROLLOUT_EVENT_TYPE, SlackCallError, isSlackCallError, type SlackApi } from './delivery/slackApi.js';
export type { PostMessageRequest, UpdateMessageRequest, RolloutMetadata } from './delivery/slackApi.js';
export type { SlackMethod } from '../machines/channelMachine.js';

/** Delivery logs through Hermod's one logger shape. */
export type DeliveryLogger = Logger;

/**
 * Metric callbacks; the wiring registers them with prom-client. Suggested names are on each.
 * Every callback is optional.
 */
export interface DeliveryMetrics {
  /** hermod_slack_requests_total{method,outcome}; outcome is `ok` or the error code. */
  slackRequest(method: SlackMethod, outcome: string): void;
  /** hermod_slack_rate_limited_total{channel} */
  rateLimited(channel: string): void;
  /** hermod_slack_retries_total{method} */
  retry(method: SlackMethod): void;
  /** hermod_slack_queue_depth{channel} (gauge) */
  queueDepth(channel: string, depth: number): void;
  /** hermod_slack_delivery_seconds (histogram): from notify() to Slack's ok. */
  deliverySeconds(seconds: number): void;
  /** hermod_slack_permanent_failures_total{error} */
  permanentFailure(error: string): void;
  /** hermod_slack_dropped_total{reason}: queue_full, permanent_error, channel_blocked, rejected, render_error. */
  dropped(reason: string, count: number): void;
  /** hermod_slack_possible_duplicates_total */
  possibleDuplicate(): void;
}

/** A channel (or the whole token) cannot be used. The wiring records a Kubernetes Event, Sentry, a metric. */
export interface PermanentFailure {
  /** The channel as annotated. */
  channel: string;
  /** Slack's error code, e.g. `channel_not_found`, `invalid_auth`. */
  error: string;
  /** `workspace`: the token itself failed (invalid_auth, token_revoked): every channel is affected. */
  scope: PermanentScope;
  /** The namespace of the rollout whose message failed (where to record the Event). */
  namespaceHint: string | null;
  /** Every namespace whose pending work was dropped. */
  namespaces: string[];
  rolloutId: string | null;
}

/** Slack refused a message's content; it was resent as plain text (or given up). */
export interface MessageRejection {
  channel: string;
  error: string;
  rolloutId: string;
  namespace: string;
  part: 'main' | 'thread';
  fallback: 'plain' | 'gave_up';
}

/** Timers for xstate (SimulatedClock fits). */
export interface DeliveryClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  now?(): number;
}

export type DeliveryPacing = Partial<Omit<ChannelConfig, 'mode'>> & {
  /** chat.update budget for the workspace: one per interval (default 1,250 ms)... */
  updateIntervalMs?: number;
  /** ...with this burst (default 5). */
  updateBurst?: number;
};

export interface DeliveryOptions {
  slack: SlackApi;
  /** Renders a view (src/machines/message.ts `renderRollout` with its options, bound by the wiring). */
  render: (view: RolloutView) => SlackMessage;
  /** `update` (default): one message per rollout, edited; `post`: a message per start/verdict. */
  mode?: MessageMode;
  logger?: DeliveryLogger;
  metrics?: Partial<DeliveryMetrics>;
  onPermanentFailure?: (failure: PermanentFailure) => void;
  onMessageRejected?: (rejection: MessageRejection) => void;
  clock?: DeliveryClock;
  /** ms since the epoch (default: clock.now, else Date.now). */
  now?: () => number;
  pacing?: DeliveryPacing;
  /** State from an earlier `snapshot()`. */
  snapshot?: DeliverySnapshot;
  /** xstate inspection of the delivery system (opt-in). */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

/** Restart-safe delivery state: small JSON. */
export interface DeliverySnapshot {
  version: 1;
  channels: Array<{
    channel: string;
    channelId: string | null;
    /** What Slack shows per rollout: rolloutId, channelId, ts, sent phase/version. */
    rollouts: RolloutRecord[];
    /** Recently finished rolloutIds (a late duplicate verdict is ignored). */
    finished: string[];
    /** Work not yet delivered (latest rendered content per rollout). */
    pending: PendingDelivery[];
  }>;
}

export type ChannelState = 'idle' | 'waiting' | 'sending' | 'backingOff' | 'blocked' | 'ready';

export interface PendingSummary {
  /** Pending rollouts over all channels. */
  total: number;
  /** Slack calls in flight. */
  inFlight: number;
  channels: Array<{ channel: string; depth: number; state: ChannelState; blockedError: string | null }>;
  rollouts: Array<{ channel: string; rolloutId: string; phase: RolloutPhase; final: boolean }>;
}

export interface DrainResult {
  /** True when every queue emptied before the timeout. */
  drained: boolean;
  left: PendingSummary;
}

export interface Delivery {
  /** Queue the latest view of a rollout for its channel. Never throws, never blocks. */
  notify(notification: Notification): void;
  pending(): PendingSummary;
  /** Wait until every queue is empty and nothing is in flight, or the timeout passes. */
  drain(timeoutMs: number): Promise<DrainResult>;
  snapshot(): DeliverySnapshot;
  /** Stop every actor (pending work stays in `snapshot()`). */
  stop(): void;
}


const realClock: DeliveryClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** One actor per channel; `#deploys` and `deploys` share it. */
function channelKey(channel: string): string {
  return channel.trim().replace(/^#/, '');
}

function systemIdOf(key: string): string {
  return `slack.channel:${key}`;
}

function seedOf(key: string): number {
  return fnv1a(key) || 1;
}

type ChannelActor = Actor<typeof channelMachine>;

/** Creates the delivery layer and its actor system. */
export function createDelivery(options: DeliveryOptions): Delivery {
  const log = options.logger ?? silentLogger;
  const metrics = options.metrics ?? {};
  const clock = options.clock ?? realClock;
  const now = options.now ?? (clock.now ? () => (clock.now as () => number).call(clock) : Date.now);
  const slack = options.slack;
  const { updateIntervalMs, updateBurst, ...channelPacing } = options.pacing ?? {};
  const config: ChannelConfig = {
    ...DEFAULT_CHANNEL_CONFIG,
    ...channelPacing,
    mode: options.mode ?? 'update',
  };

  const root = createActor(updateBudgetMachine, {
    input: { intervalMs: updateIntervalMs ?? DEFAULT_UPDATE_INTERVAL_MS, burst: updateBurst ?? DEFAULT_UPDATE_BURST },
    clock: clock as never,
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  root.start();

  const machine = channelMachine.provide({ actors: { callSlack: fromPromise<SlackOutcome, SlackCall>(({ input }) => callSlack(input)) } });
  const channels = new Map<string, ChannelActor>();
  const changeListeners = new Set<() => void>();
  let stopped = false;

  function safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log.error({ err, hook: what }, 'delivery hook threw');
    }
  }

  async function callSlack(call: SlackCall): Promise<SlackOutcome> {
    const method = methodOf(call);
    try {
      let outcome: SlackOutcome;
      switch (call.op) {
        case 'post': {
          const r = await slack.postMessage({
            channel: call.channel,
            text: call.message.text,
            attachments: call.message.attachments,
            metadata: { event_type: ROLLOUT_EVENT_TYPE, event_payload: { rolloutId: call.rolloutId, version: call.version } },
          });
          outcome = { kind: 'ok', channelId: r.channelId, ts: r.ts, at: now() };
          break;
        }
        case 'update':
          await slack.updateMessage({
            channelId: call.channelId,
            ts: call.ts,
            text: call.message.text,
            attachments: call.message.attachments,
            metadata: { event_type: ROLLOUT_EVENT_TYPE, event_payload: { rolloutId: call.rolloutId, version: call.version } },
          });
          outcome = { kind: 'ok', at: now() };
          break;
        case 'reply': {
          const req = { channel: call.channelId, threadTs: call.threadTs, text: call.message.text, ...(call.message.blocks ? { blocks: call.message.blocks } : {}) };
          const r = await slack.postMessage(req);
          outcome = { kind: 'ok', channelId: r.channelId, at: now() };
          break;
        }
      }
      safely('metrics.slackRequest', () => metrics.slackRequest?.(method, 'ok'));
      return outcome;
    } catch (err) {
      if (!(err instanceof SlackCallError)) log.warn({ err, method }, 'unexpected error from the Slack client; retrying');
      const failure: SlackFailure = err instanceof SlackCallError ? err.failure : { kind: 'transient', error: 'unknown' };
      safely('metrics.slackRequest', () => metrics.slackRequest?.(method, failure.error));
      return { ...failureOfCall(call, failure), at: now() };
    }
  }

  function onEmitted(e: ChannelEmitted): void {
    switch (e.type) {
      case 'delivered':
        if (e.op !== 'reply') safely('metrics.deliverySeconds', () => metrics.deliverySeconds?.(Math.max(0, e.at - e.notifiedAt) / 1000));
        log.debug({ channel: e.channel, rolloutId: e.rolloutId, op: e.op, final: e.final }, 'delivered to Slack');
        break;
      case 'skipped':
        log.debug({ channel: e.channel, rolloutId: e.rolloutId, reason: e.reason }, 'notification not sent');
        break;
      case 'dropped': {
        safely('metrics.dropped', () => metrics.dropped?.(e.reason, e.rollouts.length));
        const ids = e.rollouts.slice(0, 20).map((r) => r.rolloutId);
        // channel_blocked drops are counted, not logged one by one: the block was logged once.
        if (e.reason === 'channel_blocked') log.debug({ channel: e.channel, rolloutIds: ids }, 'dropped: channel blocked');
        else log.warn({ channel: e.channel, reason: e.reason, count: e.rollouts.length, rolloutIds: ids }, `dropped ${e.rollouts.length} pending Slack message(s): ${e.reason}`);
        break;
      }
      case 'rateLimited':
        safely('metrics.rateLimited', () => metrics.rateLimited?.(e.channel));
        log.info({ channel: e.channel, method: e.method, retryAfterSec: e.retryAfterSec }, 'Slack rate limit: waiting Retry-After');
        break;
      case 'retrying':
        safely('metrics.retry', () => metrics.retry?.(e.method));
        // Log the 1st, 2nd, 4th, 8th... attempt: an outage stays visible without flooding.
        if ((e.attempt & (e.attempt - 1)) === 0) {
          log.warn({ channel: e.channel, method: e.method, attempt: e.attempt, delayMs: e.delayMs, error: e.error, ambiguous: e.ambiguous }, 'Slack call failed; retrying');
        }
        break;
      case 'recovered':
        log.info({ channel: e.channel, attempts: e.attempts }, 'Slack reachable again');
        break;
      case 'permanentFailure': {
        safely('metrics.permanentFailure', () => metrics.permanentFailure?.(e.error));
        const failure: PermanentFailure = {
          channel: e.channel,
          error: e.error,
          scope: e.scope,
          namespaceHint: e.namespaces[0] ?? null,
          namespaces: e.namespaces,
          rolloutId: e.rolloutId,
        };
        if (e.scope === 'workspace') {
          log.error(
            { channel: e.channel, error: e.error, method: e.method },
            `Slack rejected Hermod's token (${e.error}): NO channel can be notified; dropping all pending messages. Check SLACK_TOKEN.`,
          );
          for (const [key, actor] of channels) if (key !== channelKey(e.channel)) actor.send({ type: 'workspace.blocked', error: e.error });
        } else {
          log.error(
            { channel: e.channel, error: e.error, method: e.method, namespaces: e.namespaces },
            `Slack channel ${e.channel} cannot be used (${e.error}); dropping its pending messages`,
          );
        }
        safely('onPermanentFailure', () => options.onPermanentFailure?.(failure));
        break;
      }
      case 'messageRejected':
        log.warn({ channel: e.channel, error: e.error, rolloutId: e.rolloutId, part: e.part, fallback: e.fallback }, `Slack rejected the message (${e.error})`);
        safely('onMessageRejected', () => options.onMessageRejected?.({ channel: e.channel, error: e.error, rolloutId: e.rolloutId, namespace: e.namespace, part: e.part, fallback: e.fallback }));
        break;
      case 'possibleDuplicate':
        safely('metrics.possibleDuplicate', () => metrics.possibleDuplicate?.());
        log.warn({ channel: e.channel, rolloutId: e.rolloutId, part: e.part }, 'a post timed out and is sent again: the message may appear twice');
        break;
      case 'queueDepth':
        safely('metrics.queueDepth', () => metrics.queueDepth?.(e.channel, e.depth));
        break;
    }
  }

  function createChannel(channel: string, restore?: ChannelRestore): ChannelActor {
    const key = channelKey(channel);
    const actor = createActor(machine, {
      parent: root as AnyActorRef,
      systemId: systemIdOf(key),
      input: { channel, systemId: systemIdOf(key), config, seed: seedOf(key), ...(restore ? { restore } : {}) },
    });
    actor.on('*', (e) => onEmitted(e as ChannelEmitted));
    actor.subscribe({
      next: () => {
        for (const l of changeListeners) l();
      },
      error: (err) => log.error({ err, channel }, 'Slack channel actor failed'),
    });
    channels.set(key, actor);
    actor.start();
    return actor;
  }

  function channelFor(channel: string): ChannelActor {
    return channels.get(channelKey(channel)) ?? createChannel(channel);
  }

  for (const c of options.snapshot?.channels ?? []) {
    createChannel(c.channel, { channelId: c.channelId, rollouts: c.rollouts, finished: c.finished, pending: c.pending });
  }

  function stateOf(actor: ChannelActor): ChannelState {
    const value = actor.getSnapshot().value as { delivery?: ChannelState };
    return value.delivery ?? 'idle';
  }

  function pending(): PendingSummary {
    const summary: PendingSummary = { total: 0, inFlight: 0, channels: [], rollouts: [] };
    for (const actor of channels.values()) {
      const ctx = actor.getSnapshot().context;
      const state = stateOf(actor);
      summary.total += ctx.queue.length;
      if (state === 'sending') summary.inFlight += 1;
      summary.channels.push({ channel: ctx.channel, depth: ctx.queue.length, state, blockedError: ctx.blockedError });
      for (const p of ctx.queue) summary.rollouts.push({ channel: ctx.channel, rolloutId: p.rolloutId, phase: p.phase, final: p.final });
    }
    return summary;
  }

  function isDrained(): boolean {
    for (const actor of channels.values()) {
      if (actor.getSnapshot().context.queue.length > 0 || stateOf(actor) === 'sending') return false;
    }
    return true;
  }

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
        phase: n.view.phase,
        alert: n.alert,
        message,
        thread,
        contentKey: contentHash(message),
        threadKey: thread === null ? null : contentHash(thread),
        notifiedAt: now(),
      };
      channelFor(n.channel).send({ type: 'rollout.notified', notification });
    },

    pending,

    drain(timeoutMs: number): Promise<DrainResult> {
      return new Promise((resolve) => {
        if (isDrained()) {
          resolve({ drained: true, left: pending() });
          return;
        }
        const finish = (drained: boolean): void => {
          changeListeners.delete(check);
          clock.clearTimeout(timer);
          resolve({ drained, left: pending() });
        };
        const check = (): void => {
          if (isDrained()) finish(true);
        };
        const timer = clock.setTimeout(() => finish(false), timeoutMs);
        changeListeners.add(check);
      });
    },

    snapshot(): DeliverySnapshot {
      const out: DeliverySnapshot = { version: 1, channels: [] };
      for (const actor of channels.values()) {
        const ctx = actor.getSnapshot().context;
        out.channels.push({ channel: ctx.channel, channelId: ctx.channelId, rollouts: Object.values(ctx.rollouts), finished: [...ctx.finished], pending: ctx.queue });
      }
      return JSON.parse(JSON.stringify(out)) as DeliverySnapshot;
    },

    stop(): void {
      if (stopped) return;
      stopped = true;
      // Channel actors are the root's (their parent's) to stop.
      root.send({ type: 'channels.stop', systemIds: [...channels.keys()].map(systemIdOf) });
      root.stop();
      changeListeners.clear();
    },
  };
}
