/**
 * The channel statechart's `callSlack` actor: makes the Slack call a SlackCall describes over
 * the injected SlackApi and answers with a SlackOutcome. Never rejects: a failure is the
 * edge's classification (src/machines/slackFailure.ts), adjusted by the channel policy.
 */
import { fromPromise } from 'xstate';
import type { Logger } from '../logger.js';
import { failureOfCall } from '../../machines/channelPolicy.js';
import { methodOf, type SlackCall, type SlackOutcome } from '../../machines/channelTypes.js';
import type { SlackFailure } from '../../machines/slackFailure.js';
import { ROLLOUT_EVENT_TYPE, SlackCallError, type RolloutMetadata, type SlackApi } from './slackApi.js';
import type { Safely } from './hooks.js';
import type { DeliveryMetrics } from './types.js';

export interface SlackCallDeps {
  slack: SlackApi;
  now: () => number;
  log: Logger;
  metrics: Partial<DeliveryMetrics>;
  safely: Safely;
}

function metadataOf(call: { rolloutId: string; version: number }): RolloutMetadata {
  return { event_type: ROLLOUT_EVENT_TYPE, event_payload: { rolloutId: call.rolloutId, version: call.version } };
}

/** One Slack call: its answer, or its classified failure, as the statechart's outcome. */
export async function callSlack(call: SlackCall, deps: SlackCallDeps): Promise<SlackOutcome> {
  const { slack, now, log, metrics, safely } = deps;
  const method = methodOf(call);
  try {
    let outcome: SlackOutcome;
    switch (call.op) {
      case 'post': {
        const r = await slack.postMessage({
          channel: call.channel,
          text: call.message.text,
          attachments: call.message.attachments,
          metadata: metadataOf(call),
          ...(call.threadTs !== undefined ? { threadTs: call.threadTs } : {}),
        });
        outcome = { kind: 'ok', channelId: r.channelId, ts: r.ts, at: now() };
        // One info line per message that reached Slack: where it is and what it shows.
        log.info({ channel: call.channel, channelId: r.channelId, ts: r.ts, rolloutId: call.rolloutId, state: call.phase }, 'posted to Slack');
        break;
      }
      case 'update':
        await slack.updateMessage({ channelId: call.channelId, ts: call.ts, text: call.message.text, attachments: call.message.attachments, metadata: metadataOf(call) });
        outcome = { kind: 'ok', at: now() };
        log.info({ channelId: call.channelId, ts: call.ts, rolloutId: call.rolloutId, state: call.phase }, 'updated in Slack');
        break;
      case 'reply': {
        if (call.replyTs !== null) {
          // Blocks sent even when empty, so a plain-text fallback clears the old ones.
          await slack.updateMessage({ channelId: call.channelId, ts: call.replyTs, text: call.message.text, attachments: [], blocks: call.message.blocks ?? [] });
          outcome = { kind: 'ok', at: now() };
          break;
        }
        const req = { channel: call.channelId, threadTs: call.threadTs, text: call.message.text, ...(call.message.blocks ? { blocks: call.message.blocks } : {}) };
        const r = await slack.postMessage(req);
        outcome = { kind: 'ok', channelId: r.channelId, ts: r.ts, at: now() };
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

/** The `callSlack` actor to provide to channelMachine. */
export function slackCallActor(deps: SlackCallDeps) {
  return fromPromise<SlackOutcome, SlackCall>(({ input }) => callSlack(input, deps));
}
