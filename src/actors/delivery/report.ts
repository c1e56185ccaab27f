/**
 * Turns what the channel statecharts emit (ChannelEmitted) into log lines, metrics and the
 * wiring's hooks: the only place delivery talks to operators.
 */
import type { Logger } from '../logger.js';
import type { ChannelEmitted } from '../../machines/channelTypes.js';
import { slackFailureAdvice } from '../../machines/slackAdvice.js';
import type { Safely } from './hooks.js';
import type { DeliveryMetrics, MessageRejection, PermanentFailure } from './types.js';

export interface ReportDeps {
  log: Logger;
  metrics: Partial<DeliveryMetrics>;
  safely: Safely;
  onPermanentFailure?: ((failure: PermanentFailure) => void) | undefined;
  onMessageRejected?: ((rejection: MessageRejection) => void) | undefined;
  /** The token was refused on `channel`: block every other channel too. */
  blockWorkspace: (channel: string, error: string) => void;
}

/** The listener for every channel actor's emitted events. */
export function reporter(deps: ReportDeps): (e: ChannelEmitted) => void {
  const { log, metrics, safely } = deps;
  return (e: ChannelEmitted): void => {
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
          workloads: e.workloads,
          rolloutId: e.rolloutId,
        };
        // The one error line for a permanent failure (ADR 0003); the hook adds no other.
        const advice = slackFailureAdvice(failure);
        if (e.scope === 'workspace') {
          log.error(
            { channel: e.channel, error: e.error, method: e.method, scope: e.scope },
            `Slack delivery failed permanently (${e.error}): ${advice}; NO channel can be notified, all pending messages are dropped`,
          );
          deps.blockWorkspace(e.channel, e.error);
        } else {
          log.error(
            { channel: e.channel, error: e.error, method: e.method, scope: e.scope, namespaces: e.namespaces },
            `Slack delivery failed permanently (${e.error}): ${advice}; the channel's pending messages are dropped`,
          );
        }
        safely('onPermanentFailure', () => deps.onPermanentFailure?.(failure));
        break;
      }
      case 'messageRejected':
        log.warn({ channel: e.channel, error: e.error, rolloutId: e.rolloutId, part: e.part, fallback: e.fallback }, `Slack rejected the message (${e.error})`);
        safely('onMessageRejected', () => deps.onMessageRejected?.({ channel: e.channel, error: e.error, rolloutId: e.rolloutId, namespace: e.namespace, part: e.part, fallback: e.fallback }));
        break;
      case 'possibleDuplicate':
        safely('metrics.possibleDuplicate', () => metrics.possibleDuplicate?.());
        log.warn({ channel: e.channel, rolloutId: e.rolloutId, part: e.part }, 'a post timed out and is sent again: the message may appear twice');
        break;
      case 'queueDepth':
        safely('metrics.queueDepth', () => metrics.queueDepth?.(e.channel, e.depth));
        break;
    }
  };
}
