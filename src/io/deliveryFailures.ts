/**
 * What Hermod does when Slack refuses a channel (or the token) for good: one log line with
 * advice, one Sentry report, and a Warning Event on each namespace that routes to the
 * channel, where that namespace's owners look.
 */
import type { PermanentFailure } from '../actors/delivery.js';
import type { Logger } from '../actors/logger.js';
import { SLACK_ANNOTATION } from '../machines/annotations.js';
import type { NamespaceEventRecorder } from './kube/events.js';
import type { ErrorReporter } from './sentry.js';

/** A channel cannot take messages: say so once where the namespace's owners look, and to Sentry. */
export function reportPermanentFailure(
  failure: PermanentFailure,
  deps: { logger: Logger; reporter: ErrorReporter; events: Pick<NamespaceEventRecorder, 'warn'> },
): void {
  const advice =
    failure.scope === 'workspace'
      ? 'the Slack token was refused: check SLACK_TOKEN'
      : failure.error === 'not_in_channel'
        ? `invite the Hermod app to ${failure.channel}`
        : failure.error === 'channel_not_found'
          ? `check the channel in the ${SLACK_ANNOTATION} annotation ("${failure.channel}")`
          : `Slack refused channel "${failure.channel}"`;
  deps.logger.error({ channel: failure.channel, error: failure.error, namespaces: failure.namespaces }, `Slack delivery failed permanently: ${advice}`);
  deps.reporter.report(new Error(`Slack ${failure.error} for channel ${failure.channel}`), {
    channel: failure.channel,
    error: failure.error,
    scope: failure.scope,
  });
  for (const namespace of failure.namespaces) {
    void deps.events.warn(namespace, 'SlackDeliveryFailed', `Hermod cannot post to Slack channel "${failure.channel}": ${failure.error} (${advice}).`);
  }
}
