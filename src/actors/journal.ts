/**
 * The write-through journal (issue 9): what must be durable before a Slack post counts as
 * done, kept beside the delivery snapshot in the same ConfigMap.
 *
 * - An INTENT is recorded (and made durable) before a rollout's first top-level post: a
 *   Hermod that finds an intent without a binding knows that post may have happened without
 *   an answer reaching anyone, and counts it (hermod_slack_possible_duplicates_total).
 * - A BINDING (rollout -> channel ID and message ts) is recorded as soon as Slack answers a
 *   top-level post, and made durable before the channel actor sees the answer. It is dropped
 *   once the delivery snapshot itself holds that ts.
 *
 * `merge` folds a stored journal into a delivery snapshot, so the restored channel actors edit
 * the message instead of posting again.
 */
import type { DeliverySnapshot } from './delivery/index.js';
import { channelKey } from './delivery/channels.js';
import { isFinalPhase, type RolloutPhase } from '../machines/notification.js';

const MAX_NAMES = 50_000;

export interface Intent {
  rolloutId: string;
  namespace: string;
  channel: string;
  at: number;
}

export interface Binding extends Intent {
  channelId: string;
  ts: string;
  phase: RolloutPhase;
  version: number;
}

/** What is stored: the delivery snapshot and the journal. */
export type PersistedState = DeliverySnapshot & {
  journal?: { intents: Intent[]; bindings: Binding[]; names?: Record<string, string> };
};

export interface Journal {
  intend(intent: Intent): void;
  bind(binding: Binding): void;
  /** The Deployment's name of a rollout (to edit its message after a deletion seen by nobody). */
  name(rolloutId: string, deployment: string): void;
  readonly names: ReadonlyMap<string, string>;
  /** The delivery snapshot with the journal beside it; bindings the snapshot already shows are dropped. */
  compose(snapshot: DeliverySnapshot): PersistedState;
  readonly size: number;
}

export function createJournal(): Journal {
  const intents = new Map<string, Intent>();
  const bindings = new Map<string, Binding>();
  const names = new Map<string, string>();
  return {
    name(rolloutId, deployment) {
      names.set(rolloutId, deployment);
      // Bounded: the oldest names (rollouts never recorded, or long over) go first.
      if (names.size > MAX_NAMES) names.delete(names.keys().next().value as string);
    },
    get names() {
      return names;
    },
    intend(intent) {
      if (!bindings.has(intent.rolloutId)) intents.set(intent.rolloutId, intent);
    },
    bind(binding) {
      intents.delete(binding.rolloutId);
      bindings.set(binding.rolloutId, binding);
    },
    compose(snapshot) {
      const recorded = new Set<string>();
      for (const c of snapshot.channels) {
        for (const r of c.rollouts) {
          const b = bindings.get(r.rolloutId);
          if (b !== undefined && r.ts === b.ts) bindings.delete(r.rolloutId);
          // The channel actor has the answer: an intent left would be a false alarm.
          if (r.ts !== null) intents.delete(r.rolloutId);
          if (r.sentPhase === null || !isFinalPhase(r.sentPhase)) recorded.add(r.rolloutId);
          // Its message is final: nothing will need the name again.
          else names.delete(r.rolloutId);
        }
      }
      for (const id of bindings.keys()) recorded.add(id);
      const kept = Object.fromEntries([...names].filter(([id]) => recorded.has(id)));
      return { ...snapshot, journal: { intents: [...intents.values()], bindings: [...bindings.values()], names: kept } };
    },
    get size() {
      return intents.size + bindings.size;
    },
  };
}

/**
 * A stored state made ready for createDelivery: bindings become the records' ts (a record
 * created if the snapshot lost it), and intents with no ts anywhere are returned as possible
 * duplicates (their post may have reached Slack; the new leader posts again).
 */
export function merge(stored: PersistedState | undefined): { snapshot: DeliverySnapshot | undefined; possibleDuplicates: Intent[]; names: Map<string, string> } {
  if (stored === undefined) return { snapshot: undefined, possibleDuplicates: [], names: new Map() };
  const { journal, ...rest } = stored;
  const snapshot = JSON.parse(JSON.stringify(rest)) as DeliverySnapshot;
  // A binding names its channel as the post did: by name, or by ID once the channel actor knew
  // it (a post restored from another process's queue). Either way it belongs to the channel
  // that holds its rollout, else to the channel of that name or ID: a second channel for the
  // same Slack channel would post the rollout again.
  const channelOf = (b: Binding) => {
    const same = (x: { channel: string; channelId: string | null }) =>
      channelKey(x.channel) === channelKey(b.channel) || x.channelId === b.channelId || channelKey(x.channel) === b.channelId;
    let c = snapshot.channels.find((x) => x.rollouts.some((r) => r.rolloutId === b.rolloutId)) ?? snapshot.channels.find(same);
    if (c === undefined) {
      c = { channel: b.channel, channelId: b.channelId, rollouts: [], finished: [], pending: [] };
      snapshot.channels.push(c);
    }
    return c;
  };
  for (const b of journal?.bindings ?? []) {
    const c = channelOf(b);
    c.channelId ??= b.channelId;
    const record = c.rollouts.find((r) => r.rolloutId === b.rolloutId);
    if (record === undefined) {
      c.rollouts.push({ rolloutId: b.rolloutId, namespace: b.namespace, channelId: b.channelId, ts: b.ts, sentPhase: b.phase, sentVersion: b.version, sentKey: null, threadKey: null, milestone: null });
    } else if (record.ts === null) {
      Object.assign(record, { channelId: b.channelId, ts: b.ts, sentPhase: b.phase, sentVersion: b.version, sentKey: null });
    }
  }
  const posted = new Set(snapshot.channels.flatMap((c) => c.rollouts.filter((r) => r.ts !== null).map((r) => r.rolloutId)));
  const possibleDuplicates = (journal?.intents ?? []).filter((i) => !posted.has(i.rolloutId));
  return { snapshot, possibleDuplicates, names: new Map(Object.entries(journal?.names ?? {})) };
}

/** Every rolloutId the state knows (records and finished lists). */
export function knownRollouts(snapshot: DeliverySnapshot | undefined): Set<string> {
  const ids = new Set<string>();
  for (const c of snapshot?.channels ?? []) {
    for (const r of c.rollouts) ids.add(r.rolloutId);
    for (const id of c.finished) ids.add(id);
  }
  return ids;
}

/** What a new leader learnt about the intents it found (see `settleIntents`). */
export interface SettledIntents {
  /** The stored state with every intent Slack's history answered turned into a binding or dropped. */
  stored: PersistedState | undefined;
  /** Posted: now bindings (the message is edited, not posted again). */
  found: Intent[];
  /** Never reached Slack: dropped (posting it is no duplicate). */
  absent: Intent[];
  /** The first failure of the lookup (e.g. `missing_scope`); the intents left stay possible duplicates. */
  failure: unknown;
}

/** How far before an intent a post may carry Slack's timestamp (clocks differ). */
const LOOKBACK_MS = 5 * 60_000;
/** Lookups per takeover at most; the intents beyond stay possible duplicates. */
const MAX_LOOKUPS = 20;

const isChannelId = (channel: string) => /^[CGD][A-Z0-9]{6,}$/.test(channel);

/**
 * Asks Slack's history about each intent (a first post that may have happened without its
 * answer being recorded): found, it becomes a binding; not there, it is dropped. Intents whose
 * channel ID is unknown (the channel's very first post), and every intent once a lookup failed
 * (no `channels:history` scope, ...), stay as they were: possible duplicates.
 */
export async function settleIntents(
  stored: PersistedState | undefined,
  find: ((req: { channelId: string; rolloutId: string; oldest: string }) => Promise<{ ts: string } | null>) | undefined,
): Promise<SettledIntents> {
  const intents = stored?.journal?.intents ?? [];
  if (stored === undefined || find === undefined || intents.length === 0) return { stored, found: [], absent: [], failure: null };
  const idOf = (channel: string) =>
    isChannelId(channel) ? channel : (stored.channels.find((c) => channelKey(c.channel) === channelKey(channel) && c.channelId !== null)?.channelId ?? null);
  const bindings = [...(stored.journal?.bindings ?? [])];
  const left: Intent[] = [];
  const found: Intent[] = [];
  const absent: Intent[] = [];
  let failure: unknown = null;
  let lookups = 0;
  for (const intent of intents) {
    const channelId = idOf(intent.channel);
    if (channelId === null || failure !== null || lookups >= MAX_LOOKUPS) {
      left.push(intent);
      continue;
    }
    lookups++;
    try {
      const oldest = ((intent.at - LOOKBACK_MS) / 1000).toFixed(6);
      const post = await find({ channelId, rolloutId: intent.rolloutId, oldest });
      if (post === null) {
        absent.push(intent);
      } else {
        found.push(intent);
        bindings.push({ ...intent, channelId, ts: post.ts, phase: 'progressing', version: 0 });
      }
    } catch (err) {
      failure = err;
      left.push(intent);
    }
  }
  return { stored: { ...stored, journal: { intents: left, bindings, ...(stored.journal?.names ? { names: stored.journal.names } : {}) } }, found, absent, failure };
}
