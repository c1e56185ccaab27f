/**
 * The public surface of the delivery layer: options, hooks, metrics, snapshot and summary
 * shapes. Implemented by ./index.ts `createDelivery`.
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { Logger } from '../logger.js';
import type { ChannelConfig, PendingDelivery, RolloutRecord, SlackMethod, WorkloadRef } from '../../machines/channelTypes.js';
import type { MessageMode } from '../../machines/message.js';
import type { SlackMessage } from '../../machines/message.js';
import type { Notification, RolloutPhase, RolloutView } from '../../machines/notification.js';
import type { ReleaseGroup } from '../../machines/release.js';
import type { PermanentScope } from '../../machines/slackFailure.js';
import type { SlackApi } from './slackApi.js';

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
  /** Every workload (a Deployment) whose pending work was dropped: its owners look there too (issue 13). */
  workloads: WorkloadRef[];
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
  /**
   * Rollouts of one commit (the commit-SHA annotation) in one channel that start within this
   * many ms share one parent message (issue 13, src/machines/release.ts); 0 or absent: off.
   * Only in `update` mode.
   */
  releaseWindowMs?: number;
  /** CLUSTER_NAME, for a release's title. */
  cluster?: string | null;
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
    /** Open release groups (issue 13): which rollouts share a parent message, and its ts. */
    groups?: ReleaseGroup[];
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
