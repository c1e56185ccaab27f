/**
 * The data a channel actor holds and exchanges, in one place: its config, the notifications
 * it receives, its pending items and records (what Slack shows), the Slack calls it makes and
 * their outcomes, its events and what it emits, and the context it starts with. Behaviour
 * lives beside it: the rules in ./channelPolicy.ts, the statechart in ./channelMachine.ts.
 */
import type { DoneActorEvent, ErrorActorEvent } from 'xstate';
import type { BakeOrigin } from './bake.js';
import type { AlertLevel } from './facts.js';
import type { MessageMode, SlackMessage, SlackThreadReply } from './message.js';
import type { RolloutPhase } from './notification.js';
import type { ReleaseGroup, ReleaseInfo } from './release.js';
import type { PermanentScope, SlackFailure } from './slackFailure.js';

/** The message body the machine sends (a SlackMessage without its thread). */
export type MessageContent = Pick<SlackMessage, 'text' | 'attachments'>;

/** Tunables of one channel's queue (numbers only: part of the serialisable context). */
export interface ChannelConfig {
  mode: MessageMode;
  /** chat.postMessage pacing per channel: one token per interval... */
  postIntervalMs: number;
  /** ...up to this many saved up (a short burst). */
  postBurst: number;
  /** Transient-error backoff: first delay, doubled per attempt up to the cap, with jitter. */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** After a permanent error the channel drops its work and rests this long before trying again. */
  blockedForMs: number;
  /** Pending rollouts per channel before the oldest progress update is dropped. */
  queueCap: number;
  /** Rollouts with a visible message remembered per channel (least recently used evicted first). */
  recordCap: number;
  /** Recently finished rolloutIds remembered, so a late duplicate verdict does not re-post. */
  finishedCap: number;
  /**
   * Rollouts of one commit that start within this window share one parent message (issue 13,
   * ./release.ts); 0 (the default here; the product's is `--group-window-seconds`) turns it off.
   */
  releaseWindowMs: number;
  /**
   * After an edit of a release's parent, its next edit waits this long, so the rows' changes
   * of a release spread over minutes coalesce into a handful of edits (members' own messages
   * in the thread are not held).
   */
  releaseEditIntervalMs: number;
  /**
   * A busy channel holds new start messages back (./startHold.ts): while it has an edit to
   * make, or while it shows this many rollouts progressing...
   */
  startHoldOpenMessages: number;
  /** ...but never longer than this. */
  startHoldMaxMs: number;
}

export const DEFAULT_CHANNEL_CONFIG: ChannelConfig = {
  mode: 'update',
  // Why 1,050 ms: Slack allows about one message per second per channel; 5% under it keeps
  // network jitter from turning into 429s.
  postIntervalMs: 1050,
  postBurst: 3,
  backoffBaseMs: 1000,
  backoffCapMs: 60_000,
  blockedForMs: 5 * 60_000,
  queueCap: 1000,
  recordCap: 5000,
  finishedCap: 1000,
  releaseWindowMs: 0,
  releaseEditIntervalMs: 10_000,
  // Why 3 and 30 s: three starts per channel are already three edits owed to the workspace's
  // 50 a minute; most rollouts of a burst end within half a minute (ADR 0003 "Held starts").
  startHoldOpenMessages: 3,
  startHoldMaxMs: 30_000,
};

/** What the delivery layer hands a channel: a rendered notification. */
export interface ChannelNotification {
  rolloutId: string;
  namespace: string;
  /** The workload's name (a Deployment), where a permanent failure is also recorded (issue 13). */
  workload?: string;
  phase: RolloutPhase;
  alert: AlertLevel;
  message: MessageContent;
  thread: SlackThreadReply | null;
  /** Hash of `message`: an unchanged render needs no request. */
  contentKey: string;
  /** Hash of `thread`: a thread reply is posted once per distinct content. */
  threadKey: string | null;
  /** ms, when notify() was called (for the delivery latency metric). */
  notifiedAt: number;
  /** Its release (commit SHA, row), when it has a commit SHA and grouping is on (issue 13). */
  release?: ReleaseInfo;
  /** A success the bake still watches (issue 13): until when (ms); its record is kept for a degraded edit. */
  bakeUntil?: number;
  /** With `bakeUntil`: what a restarted Hermod needs to resume the watch of this success (ADR 0011). */
  bakeOrigin?: BakeOrigin;
}

/** One rollout's waiting work: the latest content to show. */
export interface PendingDelivery {
  rolloutId: string;
  namespace: string;
  /** As in ChannelNotification; absent in snapshots written before issue 13. */
  workload?: string;
  phase: RolloutPhase;
  final: boolean;
  /** Per-rollout counter of accepted notifications; carried in the message metadata. */
  version: number;
  message: MessageContent;
  contentKey: string;
  thread: SlackThreadReply | null;
  threadKey: string | null;
  notifiedAt: number;
  /** Slack rejected the rich message: send plain text instead. */
  plain: boolean;
  /** A release member: its message goes in the thread of this rollout's (the group's anchor's) message. */
  parent?: string;
  /** As in ChannelNotification: a success the bake still watches (absent otherwise and in older snapshots). */
  bakeUntil?: number;
  bakeOrigin?: BakeOrigin;
  /** A start message held back has waited `startHoldMaxMs`: it goes now (./startHold.ts). */
  holdReleased?: true;
}

/** What Slack shows for one rollout in this channel (the restart-safe part). */
export interface RolloutRecord {
  rolloutId: string;
  namespace: string;
  channelId: string | null;
  /** The message's ts (the latest one in `post` mode); null until posted. */
  ts: string | null;
  sentPhase: RolloutPhase | null;
  /** Version of the content Slack shows (0: nothing yet). */
  sentVersion: number;
  /** Hash of the content Slack shows. */
  sentKey: string | null;
  /** Hash of the thread reply already posted. */
  threadKey: string | null;
  /**
   * The ts of Hermod's one reply in the message's thread; null until posted. Newer thread
   * content (a crash log read late, a fuller problem list) edits it instead of replying again.
   * Absent from records saved before Hermod kept it (read as null).
   */
  replyTs?: string | null;
  /** `post` mode: the milestone last posted (started, succeeded, failed). */
  milestone: Milestone | null;
  /**
   * Kept after a success until its bake ends (issue 13, ./bakePolicy.ts): until when (ms).
   * Absent for every other record and in snapshots written before.
   */
  bakeUntil?: number;
  /**
   * With `bakeUntil`: the success's times as its message shows them, so a restarted Hermod with
   * no warm follower resumes the watch (ADR 0011). Absent in snapshots written before.
   */
  bakeOrigin?: BakeOrigin;
}

/** `post` mode posts once per milestone, like the original (see channelPolicy `milestoneOf`). */
export type Milestone = 'started' | 'succeeded' | 'failed' | 'ended' | 'degraded';

/** The queue-and-records part of a channel's context. */
export interface ChannelQueue {
  queue: PendingDelivery[];
  rollouts: Record<string, RolloutRecord>;
  finished: string[];
  /** Release groups by anchor rolloutId (./release.ts); absent when none was ever made. */
  groups?: Record<string, ReleaseGroup>;
}

/** The Slack calls the machine makes. */
export type SlackCall =
  | {
      op: 'post';
      rolloutId: string;
      /** Channel as annotated until Slack told us its ID. */
      channel: string;
      /** A release member's message: posted in the parent message's thread. */
      threadTs?: string;
      message: MessageContent;
      contentKey: string;
      phase: RolloutPhase;
      version: number;
      notifiedAt: number;
      final: boolean;
    }
  | {
      op: 'update';
      rolloutId: string;
      channelId: string;
      ts: string;
      message: MessageContent;
      contentKey: string;
      phase: RolloutPhase;
      version: number;
      notifiedAt: number;
      final: boolean;
    }
  | {
      op: 'reply';
      rolloutId: string;
      channelId: string;
      threadTs: string;
      message: SlackThreadReply;
      threadKey: string;
      /** The reply already in the thread, edited with chat.update; null posts the first one. */
      replyTs: string | null;
    };

/**
 * How a Slack call ended: `ok`, or a failure in the one vocabulary of ./slackFailure.ts
 * (classified by the edge, src/io/slack.ts, then ./channelPolicy.ts `failureOfCall`).
 */
export type SlackOutcome = { kind: 'ok'; channelId?: string; ts?: string; at: number } | (SlackFailure & { at: number });

/** The Slack method of a call (a metric label). */
export type SlackMethod = 'chat.postMessage' | 'chat.update';

export function methodOf(call: SlackCall): SlackMethod {
  return isEdit(call) ? 'chat.update' : 'chat.postMessage';
}

/** The call edits a message Slack shows (the rollout's message, or its thread reply). */
export function isEdit(call: SlackCall): boolean {
  return call.op === 'update' || (call.op === 'reply' && call.replyTs !== null);
}

/** Restart-safe state of one channel (see delivery.snapshot()). */
export interface ChannelRestore {
  channelId: string | null;
  rollouts: RolloutRecord[];
  finished: string[];
  pending: PendingDelivery[];
  /** Release groups (absent in snapshots written before issue 13's grouping). */
  groups?: ReleaseGroup[];
}

export interface ChannelInput {
  /** The channel as annotated (`#deploys`, `deploys` or an ID). */
  channel: string;
  /** This actor's systemId, so the budget actor can answer. */
  systemId: string;
  config?: Partial<ChannelConfig>;
  /** Seed of the jitter generator (differs per channel so retries spread out). */
  seed?: number;
  restore?: ChannelRestore;
}

export interface ChannelContext extends ChannelQueue {
  channel: string;
  channelId: string | null;
  systemId: string;
  config: ChannelConfig;
  /** chat.postMessage tokens available now. */
  tokens: number;
  /** The workspace chat.update budget: asked for, or granted and not used yet. */
  updateGrant: 'none' | 'requested' | 'granted';
  inFlight: SlackCall | null;
  /** Consecutive failed attempts (reset by any success). */
  attempt: number;
  retryDelayMs: number;
  seed: number;
  /** The permanent error that blocked the channel. */
  blockedError: string | null;
  /** Last queue depth reported, so depth is emitted only when it changes. */
  reportedDepth: number;
  /** A release's parent was edited less than `releaseEditIntervalMs` ago: its next edit waits. */
  releaseHold: boolean;
  /**
   * Start messages are held back (./startHold.ts): decided once on each entry to `delivery.ready`
   * and read by its transitions and `sending`'s entry; stale in every other state.
   */
  startsHeld: boolean;
}

/** The context a channel actor starts with: its config over the defaults, and what a restart restored. */
export function initialChannelContext(input: ChannelInput): ChannelContext {
  const config = { ...DEFAULT_CHANNEL_CONFIG, ...input.config };
  const r = input.restore;
  return {
    channel: input.channel,
    channelId: r?.channelId ?? null,
    systemId: input.systemId,
    config,
    queue: r?.pending ?? [],
    rollouts: Object.fromEntries((r?.rollouts ?? []).map((x) => [x.rolloutId, x])),
    finished: r?.finished ?? [],
    ...(r?.groups !== undefined && r.groups.length > 0 ? { groups: Object.fromEntries(r.groups.map((g) => [g.anchor, g])) } : {}),
    tokens: config.postBurst,
    updateGrant: 'none',
    inFlight: null,
    attempt: 0,
    retryDelayMs: 0,
    seed: input.seed ?? 0x2545f491,
    blockedError: null,
    reportedDepth: -1,
    releaseHold: false,
    startsHeld: false,
  };
}

/** The invoked Slack call's id: its answer is `xstate.done.actor.slackCall`. */
export const SLACK_CALL = 'slackCall';
export const SLACK_DONE = `xstate.done.actor.${SLACK_CALL}` as const;
export const SLACK_ERROR = `xstate.error.actor.${SLACK_CALL}` as const;

export type ChannelEvent =
  | { type: 'rollout.notified'; notification: ChannelNotification }
  | { type: 'budget.granted' }
  | { type: 'workspace.blocked'; error: string }
  | { type: 'token.added' }
  | { type: 'token.taken' }
  | { type: 'release.edited' }
  | { type: 'release.open' }
  | { type: 'starts.held' }
  | { type: 'starts.released' }
  | DoneActorEvent<SlackOutcome, typeof SLACK_CALL>
  | ErrorActorEvent<unknown, typeof SLACK_CALL>;

/** Events to the parent (the workspace budget). */
export type BudgetEvent =
  | { type: 'budget.request'; systemId: string }
  /** An update call finished: the budget's refill clock may start. */
  | { type: 'budget.spent' }
  | { type: 'budget.penalty'; retryAfterMs: number };

/** A workload whose work a channel dropped: where its owners look for why. */
export interface WorkloadRef {
  namespace: string;
  name: string;
}

export type DroppedRollout = { rolloutId: string; namespace: string; final: boolean };

/** What the machine reports; the delivery layer turns these into logs, metrics and hooks. */
export type ChannelEmitted =
  | { type: 'delivered'; channel: string; rolloutId: string; op: 'post' | 'update' | 'reply'; notifiedAt: number; at: number; final: boolean }
  | { type: 'skipped'; channel: string; rolloutId: string; reason: 'late' | 'alert' | 'milestone' | 'unchanged' }
  | { type: 'dropped'; channel: string; reason: 'queue_full' | 'permanent_error' | 'channel_blocked' | 'rejected'; rollouts: DroppedRollout[] }
  | { type: 'rateLimited'; channel: string; method: SlackMethod; retryAfterSec: number }
  | { type: 'retrying'; channel: string; method: SlackMethod; attempt: number; delayMs: number; error: string; ambiguous: boolean }
  | { type: 'recovered'; channel: string; attempts: number }
  | { type: 'permanentFailure'; channel: string; method: SlackMethod; error: string; scope: PermanentScope; rolloutId: string | null; namespaces: string[]; workloads: WorkloadRef[] }
  | { type: 'messageRejected'; channel: string; error: string; rolloutId: string; namespace: string; part: 'main' | 'thread'; fallback: 'plain' | 'gave_up' }
  | { type: 'possibleDuplicate'; channel: string; rolloutId: string; part: 'main' | 'thread' }
  | { type: 'queueDepth'; channel: string; depth: number };
