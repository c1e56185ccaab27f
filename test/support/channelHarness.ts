/**
 * A channel statechart on a SimulatedClock with a scripted in-memory Slack, shared by
 * channel-machine.test.ts and channel-machine-rules.test.ts. `callSlack` is provided as the
 * delivery layer does; the script can fail any call, and threads keep one reply per rollout,
 * edited in place (issue 12).
 */
import { SimulatedClock, createActor, fromPromise, type Actor } from 'xstate';
import { channelMachine } from '../../src/machines/channelMachine.js';
import type { ChannelConfig, ChannelEmitted, ChannelNotification, SlackCall, SlackOutcome } from '../../src/machines/channelTypes.js';
import type { RolloutPhase } from '../../src/machines/notification.js';
import { updateBudgetMachine } from '../../src/machines/updateBudgetMachine.js';
import { note as channelNote, type NoteOptions } from './channelFixtures.js';
import { SHA } from './rolloutViews.js';

/** An outcome before the fake stamps its time (Omit distributed over the union). */
export type Answer = SlackOutcome extends infer O ? (O extends SlackOutcome ? Omit<O, 'at'> : never) : never;
export type Script = (call: SlackCall) => Answer | null;

interface FakeMessage {
  channelId: string;
  ts: string;
  rolloutId: string;
  versions: number[];
  texts: string[];
  /** What the thread shows: each reply's latest text, oldest reply first. */
  replies: string[];
  replyTs: string[];
}

/** An in-memory Slack answering the machine's calls; `script` can fail any call. */
export class ScriptedSlack {
  readonly calls: Array<SlackCall & { at: number }> = [];
  readonly messages: FakeMessage[] = [];
  private ts = 1;
  script: Script = () => null;
  /** Apply the call even when the script fails it (a timeout after Slack posted). */
  commitFailures = false;

  constructor(private readonly clock: SimulatedClock) {}

  readonly actor = fromPromise<SlackOutcome, SlackCall>(async ({ input }) => this.handle(input));

  private apply(call: SlackCall): Answer {
    switch (call.op) {
      case 'post': {
        const channelId = call.channel.startsWith('C') ? call.channel : `C_${call.channel.replace(/^#/, '')}`;
        const m: FakeMessage = { channelId, ts: `${this.ts++}.000000`, rolloutId: call.rolloutId, versions: [call.version], texts: [call.message.text], replies: [], replyTs: [] };
        this.messages.push(m);
        return { kind: 'ok', channelId, ts: m.ts };
      }
      case 'update': {
        const m = this.messages.find((x) => x.channelId === call.channelId && x.ts === call.ts);
        if (m === undefined) return { kind: 'messageGone', error: 'message_not_found' };
        m.versions.push(call.version);
        m.texts.push(call.message.text);
        return { kind: 'ok' };
      }
      case 'reply': {
        const m = this.messages.find((x) => x.channelId === call.channelId && x.ts === call.threadTs);
        if (m === undefined) return { kind: 'messageGone', error: 'thread_not_found' };
        if (call.replyTs !== null) {
          const i = m.replyTs.indexOf(call.replyTs);
          if (i === -1) return { kind: 'messageGone', error: 'message_not_found' };
          m.replies[i] = call.message.text;
          return { kind: 'ok' };
        }
        const ts = `${this.ts++}.000000`;
        m.replies.push(call.message.text);
        m.replyTs.push(ts);
        return { kind: 'ok', channelId: call.channelId, ts };
      }
    }
  }

  private async handle(call: SlackCall): Promise<SlackOutcome> {
    this.calls.push({ ...call, at: this.clock.now() });
    const scripted = this.script(call);
    if (scripted !== null) {
      if (this.commitFailures) this.apply(call);
      return { ...scripted, at: this.clock.now() } as SlackOutcome;
    }
    return { ...this.apply(call), at: this.clock.now() } as SlackOutcome;
  }

  byRollout(rolloutId: string): FakeMessage[] {
    return this.messages.filter((m) => m.rolloutId === rolloutId);
  }
}

/** A notification whose message has a colour bar (so the plain-text fallback shows), notified at 0 unless told; its workload is `web-<rolloutId>`. */
export function note(rolloutId: string, phase: RolloutPhase, opts: NoteOptions = {}): ChannelNotification {
  return { ...channelNote(rolloutId, phase, { attachments: [{ color: '#000000', blocks: [] }], at: 0, ...opts }), workload: `web-${rolloutId}` };
}

/** `note`, as a rollout of the release of commit SHA that started at `startedAt` (notified then too). */
export function ofRelease(rolloutId: string, phase: RolloutPhase, startedAt = 0): ChannelNotification {
  const n = note(rolloutId, phase, { at: startedAt });
  const row = { rolloutId, namespace: n.namespace, kind: 'Deployment' as const, workload: `web-${rolloutId}`, revision: 2, phase, reason: null, alert: 'all' as const, failedOnce: false, mentions: [] };
  return { ...n, release: { sha: SHA, repo: null, cluster: null, startedAt, row } };
}

export type ChannelActor = Actor<typeof channelMachine>;

export function harness(config: Partial<ChannelConfig> = {}, budget = { intervalMs: 1250, burst: 5 }) {
  const clock = new SimulatedClock();
  const slack = new ScriptedSlack(clock);
  const root = createActor(updateBudgetMachine, { clock, input: budget });
  root.start();
  const emitted: ChannelEmitted[] = [];
  const machine = channelMachine.provide({ actors: { callSlack: slack.actor } });
  const channels = new Map<string, ChannelActor>();
  const channel = (name: string): ChannelActor => {
    let a = channels.get(name);
    if (a === undefined) {
      a = createActor(machine, { parent: root, systemId: `ch:${name}`, input: { channel: name, systemId: `ch:${name}`, config: { postIntervalMs: 1000, postBurst: 3, ...config }, seed: name.length + 7 } });
      a.on('*', (e) => emitted.push(e as ChannelEmitted));
      a.start();
      channels.set(name, a);
    }
    return a;
  };
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  const send = async (name: string, n: ChannelNotification): Promise<void> => {
    channel(name).send({ type: 'rollout.notified', notification: n });
    await flush();
  };
  /** Moves simulated time in small steps so timers fire at their time. */
  const advance = async (ms: number, step = 50): Promise<void> => {
    for (let t = 0; t < ms; t += step) {
      clock.increment(Math.min(step, ms - t));
      await flush();
    }
  };
  const state = (name: string): string => (channel(name).getSnapshot().value as { delivery: string }).delivery;
  const of = <T extends ChannelEmitted['type']>(type: T) => emitted.filter((e): e is Extract<ChannelEmitted, { type: T }> => e.type === type);
  return { clock, slack, root, channel, send, advance, flush, emitted, of, state };
}
