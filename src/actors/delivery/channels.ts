/**
 * The channel registry: one channelMachine actor per Slack channel, created lazily with
 * `createActor(machine, { parent: root, systemId })` (not spawned: a plain Map keeps creation
 * O(1), see ADR 0003), and what the delivery layer reads from them: the pending summary,
 * drain, the restart-safe snapshot, and stopping them all.
 */
import { fnv1a } from '../../machines/hash.js';
import { createActor, type Actor, type AnyActorRef } from 'xstate';
import type { Logger } from '../logger.js';
import type { ChannelMachine } from '../../machines/channelMachine.js';
import type { ChannelConfig, ChannelEmitted, ChannelRestore } from '../../machines/channelTypes.js';
import type { ChannelState, DeliveryClock, DeliverySnapshot, DrainResult, PendingSummary } from './types.js';

type ChannelActor = Actor<ChannelMachine>;

/** One actor per channel; `#deploys` and `deploys` share it. */
export function channelKey(channel: string): string {
  return channel.trim().replace(/^#/, '');
}

function systemIdOf(key: string): string {
  return `slack.channel:${key}`;
}

function seedOf(key: string): number {
  return fnv1a(key) || 1;
}

export interface ChannelRegistryDeps {
  /** channelMachine with `callSlack` provided. */
  machine: ChannelMachine;
  /** The system's root (the update budget): the channels' parent, the only one that may stop them. */
  root: AnyActorRef;
  config: ChannelConfig;
  clock: DeliveryClock;
  log: Logger;
  onEmitted: (e: ChannelEmitted) => void;
}

export interface ChannelRegistry {
  /** The channel's actor, created on first use. */
  channelFor(channel: string): ChannelActor;
  /** Re-creates the channels of an earlier snapshot. */
  restore(snapshot: DeliverySnapshot): void;
  /** Every channel but `channel` (as annotated). */
  others(channel: string): ChannelActor[];
  /** Channel actors alive (for tests of the registry's bounds). */
  size(): number;
  pending(): PendingSummary;
  drain(timeoutMs: number): Promise<DrainResult>;
  snapshot(): DeliverySnapshot;
  /** Asks the root to stop every channel actor (their last state stays readable: `snapshot()`). */
  stopAll(): void;
}

export function createChannelRegistry(deps: ChannelRegistryDeps): ChannelRegistry {
  const { machine, root, config, clock, log, onEmitted } = deps;
  const channels = new Map<string, ChannelActor>();
  const changeListeners = new Set<() => void>();

  function createChannel(channel: string, restore?: ChannelRestore): ChannelActor {
    const key = channelKey(channel);
    const actor = createActor(machine, {
      parent: root,
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
    channelFor: (channel) => channels.get(channelKey(channel)) ?? createChannel(channel),

    restore(snapshot) {
      for (const c of snapshot.channels) {
        createChannel(c.channel, { channelId: c.channelId, rollouts: c.rollouts, finished: c.finished, pending: c.pending, ...(c.groups !== undefined ? { groups: c.groups } : {}) });
      }
    },

    others(channel) {
      const key = channelKey(channel);
      return [...channels].filter(([k]) => k !== key).map(([, actor]) => actor);
    },

    size: () => channels.size,

    pending,

    drain(timeoutMs) {
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

    snapshot() {
      const out: DeliverySnapshot = { version: 1, channels: [] };
      for (const actor of channels.values()) {
        const ctx = actor.getSnapshot().context;
        const groups = Object.values(ctx.groups ?? {});
        out.channels.push({ channel: ctx.channel, channelId: ctx.channelId, rollouts: Object.values(ctx.rollouts), finished: [...ctx.finished], pending: ctx.queue, ...(groups.length > 0 ? { groups } : {}) });
      }
      return JSON.parse(JSON.stringify(out)) as DeliverySnapshot;
    },

    stopAll() {
      // Channel actors are the root's (their parent's) to stop.
      root.send({ type: 'channels.stop', systemIds: [...channels.keys()].map(systemIdOf) });
      changeListeners.clear();
    },
  };
}
