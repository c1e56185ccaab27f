/**
 * Delivery under leader election (issue 9). It implements the Delivery the supervisor
 * notifies, and decides which process may talk to Slack and write state:
 *
 * - Every process keeps the latest notification of every rollout (warm, bounded), whatever
 *   its role. A follower delivers nothing and writes nothing.
 * - `lead()` (the election says this process leads): a fenced read of the state, each intent
 *   without an answer looked up in Slack's history where the token may read it (found: edited;
 *   absent: posted; unknown: counted as a possible duplicate), the journal merged in, a delivery
 *   created from it, then the warm notifications replayed and the repair/catch-up of
 *   ./repair.ts once the caches are synced.
 * - `follow()` (renew failed, fenced, released): the delivery stops at once; nothing in
 *   flight may reach Slack through the gate, and no write is made.
 * - Write-through: a rollout's first top-level post records an intent, durable before the
 *   call; Slack's answer (channel ID, ts) is recorded and durable before the channel actor
 *   sees it. Everything else is written within the writer's window (250 ms).
 */
import { isSlackCallError, SlackCallError, type Delivery, type DeliverySnapshot, type DrainResult, type PendingSummary, type SlackApi } from './delivery/index.js';
import { createJournal, merge, settleIntents, type Journal, type PersistedState } from './journal.js';
import { silentLogger, type Logger } from './logger.js';
import { repairNotifications } from './repair.js';
import type { KeptBake } from '../machines/bake.js';
import { keptBakes } from '../machines/bakePolicy.js';
import type { RolloutObservation } from '../machines/facts.js';
import { isFinalPhase, splitRolloutId, type Notification } from '../machines/notification.js';
import type { SlackMethod } from '../machines/channelTypes.js';

/** The fenced store (src/io/kube/stateStore.ts). */
export interface FencedStore {
  read(): Promise<{ snapshot: PersistedState | undefined; resourceVersion: string | null }>;
}

/** The write-through writer (src/io/kube/stateWriter.ts), made per term. */
export interface TermWriter {
  persist(): Promise<'durable' | 'fenced' | 'stopped'>;
  flush(): Promise<'durable' | 'fenced' | 'stopped'>;
  stop(): void;
}

export interface LeaderDeliveryOptions {
  /** createDelivery with the wiring's options bound. */
  makeDelivery: (slack: SlackApi, snapshot: DeliverySnapshot | undefined) => Delivery;
  slack: SlackApi;
  /** null: nothing is persisted (no namespace). */
  store: FencedStore | null;
  /** A writer for one term, starting at `resourceVersion`; `compose` is the state to write. */
  makeWriter: (compose: () => PersistedState, resourceVersion: string | null) => TermWriter;
  /** The election's check, made right before every Slack call (true without an election). */
  isLeader: () => boolean;
  /** The latest observation of every Deployment, by uid. */
  observations: () => ReadonlyMap<string, RolloutObservation>;
  whenSynced: () => Promise<void>;
  /**
   * Holds the rollout details of these workloads watched; resolves once their observations
   * carry them, with the release (the watcher's `holdDetails`). Absent: nothing to hold.
   */
  holdDetails?: (uids: ReadonlySet<string>) => Promise<() => void>;
  catchUpMs: number;
  now?: () => number;
  logger?: Logger;
  onPossibleDuplicate?: () => void;
  /**
   * At takeover, once the caches have synced: the bakes the state kept whose window is still
   * open, each with its workload's latest observation (the supervisor's `resumeBakes`; ADR 0011).
   */
  onKeptBakes?: (bakes: Array<{ bake: KeptBake; observation: RolloutObservation }>) => void;
  onError?: (err: unknown, context: Record<string, unknown>) => void;
}

export interface LeaderDelivery extends Delivery {
  /** This process leads from now on: load, repair, deliver. */
  lead(): Promise<void>;
  /** It does not lead anymore: stop delivering at once. */
  follow(): void;
  /** The state written now (shutdown, after the drain); false when it could not be. */
  flush(): Promise<boolean>;
  /**
   * Graceful hand-over (SIGTERM with an election): no new Slack call starts, the calls in
   * flight get up to `timeoutMs` to be answered and recorded, then the state is written. What
   * was still queued is the next leader's: it has the same notifications, warm. False when
   * the state could not be written.
   */
  handOver(timeoutMs: number): Promise<boolean>;
  /** Delivering now (the term's delivery is up). */
  readonly delivering: boolean;
}

/** Notifications of ended rollouts older than this are not replayed unless the state still waits for them. */
const REPLAY_FINAL_MS = 10 * 60_000;
const MAX_WARM = 20_000;

const EMPTY: PendingSummary = { total: 0, inFlight: 0, channels: [], rollouts: [] };

export function createLeaderDelivery(options: LeaderDeliveryOptions): LeaderDelivery {
  const log = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const warm = new Map<string, { n: Notification; at: number }>();
  let term = 0;
  let inner: Delivery | null = null;
  let writer: TermWriter | null = null;
  let journal: Journal = createJournal();
  let stopped = false;
  /** Slack calls under way through the gate (answered or not). */
  let calls = 0;
  const counted = async <T>(call: () => Promise<T>): Promise<T> => {
    calls++;
    try {
      return await call();
    } finally {
      calls--;
    }
  };

  const notLeader = (method: SlackMethod) => new SlackCallError(method, { kind: 'transient', error: 'not_leader' });

  /** The Slack API of one term: nothing passes once the term is over. */
  const gated = (myTerm: number, termJournal: Journal, termWriter: TermWriter | null): SlackApi => {
    const open = () => myTerm === term && !stopped && options.isLeader();
    const durable = async (method: SlackMethod) => {
      if (termWriter === null) return;
      const result = await termWriter.persist();
      if (result !== 'durable' || !open()) throw notLeader(method);
    };
    return {
      async postMessage(req) {
        if (!open()) throw notLeader('chat.postMessage');
        // A rollout's own message carries its metadata: top-level, or a release member's in the
        // parent's thread (issue 13; bound like a top-level post, no intent: the history lookup
        // sees top-level messages only). A failure-details reply carries none.
        const rolloutId = req.metadata?.event_payload.rolloutId;
        const seen = rolloutId === undefined ? undefined : warm.get(rolloutId)?.n;
        const about = { rolloutId: rolloutId ?? '', namespace: seen?.view.namespace ?? '', channel: seen?.channel ?? req.channel, at: now() };
        if (rolloutId !== undefined && req.threadTs === undefined) {
          termJournal.intend(about);
          await durable('chat.postMessage');
        }
        const answer = await counted(() => options.slack.postMessage(req));
        if (rolloutId !== undefined) {
          // Never final here: the next leader edits the message once more rather than trust an old phase.
          termJournal.bind({ ...about, channelId: answer.channelId, ts: answer.ts, phase: 'progressing', version: req.metadata?.event_payload.version ?? 0 });
          await durable('chat.postMessage');
        }
        return answer;
      },
      async updateMessage(req) {
        if (!open()) throw notLeader('chat.update');
        await counted(() => options.slack.updateMessage(req));
        void termWriter?.persist();
      },
    };
  };

  const remember = (n: Notification) => {
    warm.delete(n.rolloutId);
    warm.set(n.rolloutId, { n, at: now() });
    journal.name(n.rolloutId, n.view.deployment);
    if (warm.size <= MAX_WARM) return;
    // Bounded: the oldest ended rollouts go first, then the oldest of all.
    for (const [id, w] of warm) {
      if (warm.size <= MAX_WARM) return;
      if (isFinalPhase(w.n.view.phase)) warm.delete(id);
    }
    while (warm.size > MAX_WARM) warm.delete(warm.keys().next().value as string);
  };

  /** Which warm notifications the new term delivers (see REPLAY_FINAL_MS). */
  const toReplay = (snapshot: DeliverySnapshot | undefined): Notification[] => {
    const records = new Map<string, { final: boolean }>();
    const finished = new Set<string>();
    for (const c of snapshot?.channels ?? []) {
      // A record kept for a bake (issue 13) still waits: a degraded verdict, or the bake's end.
      for (const r of c.rollouts) records.set(r.rolloutId, { final: r.sentPhase !== null && isFinalPhase(r.sentPhase) && r.ts !== null && r.bakeUntil == null });
      for (const id of c.finished) finished.add(id);
    }
    const out: Notification[] = [];
    for (const { n, at } of warm.values()) {
      if (finished.has(n.rolloutId)) continue;
      const record = records.get(n.rolloutId);
      if (!isFinalPhase(n.view.phase)) out.push(n);
      else if (record !== undefined ? !record.final : now() - at < REPLAY_FINAL_MS) out.push(n);
    }
    return out;
  };

  const stopTerm = () => {
    term++;
    const [d, w] = [inner, writer];
    inner = null;
    writer = null;
    d?.stop();
    w?.stop();
  };

  return {
    async lead() {
      stopTerm();
      const myTerm = term;
      const current = () => myTerm === term && !stopped;
      let stored: Awaited<ReturnType<FencedStore['read']>> = { snapshot: undefined, resourceVersion: null };
      for (let delayMs = 500; options.store !== null; delayMs = Math.min(delayMs * 2, 5_000)) {
        try {
          stored = await options.store.read();
          break;
        } catch (err) {
          log.error({ err, retryInMs: delayMs }, 'cannot read the delivery state at takeover: retrying');
          options.onError?.(err, { during: 'takeover read' });
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          if (!current()) return;
        }
      }
      if (!current()) return;
      const settled = await settleIntents(stored.snapshot, options.slack.findRolloutPost?.bind(options.slack));
      if (!current()) return;
      for (const intent of settled.found) log.info({ rolloutId: intent.rolloutId, channel: intent.channel }, 'found in the channel history a post an earlier leader made without recording it: it is edited, not sent again');
      for (const intent of settled.absent) log.info({ rolloutId: intent.rolloutId, channel: intent.channel }, 'a post an earlier leader intended never reached Slack: it is sent now');
      if (settled.failure !== null) {
        const slackError = isSlackCallError(settled.failure) ? settled.failure.failure.error : String(settled.failure);
        log.warn({ slackError }, 'cannot search the channel history for posts an earlier leader may have made (grant the Slack app channels:history and groups:history to close this window): they are sent again');
      }
      const merged = merge(settled.stored);
      for (const intent of merged.possibleDuplicates) {
        options.onPossibleDuplicate?.();
        log.warn({ rolloutId: intent.rolloutId, channel: intent.channel }, 'a post may have reached Slack without its answer being recorded: it is sent again and may appear twice');
      }
      const termJournal = createJournal();
      for (const [id, name] of [...merged.names, ...journal.names]) termJournal.name(id, name);
      journal = termJournal;
      let delivery: Delivery | null = null;
      const termWriter = options.store === null ? null : options.makeWriter(() => termJournal.compose(delivery?.snapshot() ?? merged.snapshot ?? { version: 1, channels: [] }), stored.resourceVersion);
      delivery = options.makeDelivery(gated(myTerm, termJournal, termWriter), merged.snapshot);
      inner = delivery;
      writer = termWriter;
      const replay = toReplay(merged.snapshot);
      log.info({ restored: merged.snapshot?.channels.reduce((k, c) => k + c.rollouts.length, 0) ?? 0, replayed: replay.length, possibleDuplicates: merged.possibleDuplicates.length }, 'leading: delivery state loaded');
      for (const n of replay) delivery.notify(n);
      // The intents just counted are cleared by the first write.
      if (merged.possibleDuplicates.length + settled.found.length + settled.absent.length > 0) void termWriter?.persist();
      await options.whenSynced().catch(() => undefined);
      if (!current()) return;
      // The repair and the kept bakes read the details (ReplicaSets, Pods) of every workload the state records.
      const releaseDetails = (await options.holdDetails?.(recordedWorkloads(merged.snapshot, termJournal.names))) ?? (() => {});
      if (!current()) {
        releaseDetails();
        return;
      }
      const covered = new Set(warm.keys());
      const repairs = repairNotifications({
        snapshot: merged.snapshot,
        names: termJournal.names,
        observations: options.observations(),
        covered,
        now: now(),
        catchUpMs: options.catchUpMs,
      });
      if (repairs.length > 0) log.info({ count: repairs.length, rollouts: repairs.slice(0, 20).map((n) => `${n.view.namespace}/${n.view.deployment}#${n.view.revision}:${n.view.phase}`) }, 'repair: bringing Slack up to date');
      for (const n of repairs) {
        remember(n);
        delivery.notify(n);
      }
      // A restart inside a success's bake window: its workload's actor may watch the rest of it.
      const observations = options.observations();
      const kept = keptBakes(merged.snapshot?.channels ?? [], now());
      const bakes = kept.flatMap((bake) => {
        const observation = observations.get(splitRolloutId(bake.rolloutId).uid);
        return observation === undefined ? [] : [{ bake, observation }];
      });
      if (kept.length > 0) {
        log.info({ kept: kept.length, handed: bakes.length, rollouts: bakes.slice(0, 20).map((b) => b.bake.rolloutId) }, 'kept bakes handed to their workloads: a watch after success resumes if the workload has not rolled again');
        if (bakes.length > 0) options.onKeptBakes?.(bakes);
      }
      // The resumed bakes keep them while they last: the watcher lingers longer than a bake.
      releaseDetails();
    },

    follow() {
      if (inner !== null) log.info({}, 'following: delivery stopped');
      stopTerm();
    },

    async flush() {
      if (writer === null) return true;
      return (await writer.flush()) === 'durable';
    },

    async handOver(timeoutMs) {
      const d = inner;
      inner = null;
      d?.stop();
      const deadline = now() + timeoutMs;
      while (calls > 0 && now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      if (writer === null) return true;
      return (await writer.flush()) === 'durable';
    },

    get delivering() {
      return inner !== null;
    },

    notify(n) {
      remember(n);
      inner?.notify(n);
    },
    pending: () => inner?.pending() ?? EMPTY,
    drain: (timeoutMs): Promise<DrainResult> => inner?.drain(timeoutMs) ?? Promise.resolve({ drained: true, left: EMPTY }),
    snapshot: () => inner?.snapshot() ?? { version: 1, channels: [] },
    stop() {
      if (stopped) return;
      stopTerm();
      stopped = true;
    },
  };
}

/** The uids of the workloads the delivery state and the journal record a rollout of. */
function recordedWorkloads(snapshot: DeliverySnapshot | undefined, names: ReadonlyMap<string, string>): Set<string> {
  const uids = new Set<string>();
  for (const c of snapshot?.channels ?? []) {
    for (const r of c.rollouts) uids.add(splitRolloutId(r.rolloutId).uid);
    for (const p of c.pending) uids.add(splitRolloutId(p.rolloutId).uid);
  }
  for (const rolloutId of names.keys()) uids.add(splitRolloutId(rolloutId).uid);
  return uids;
}
