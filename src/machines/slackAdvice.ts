/**
 * What to tell the user when Slack refuses Hermod for good: what to say, not how to log it.
 * Pure; imported by whoever reports a permanent failure (the delivery layer's log line, the
 * Kubernetes Event the wiring records).
 */
import { SLACK_ANNOTATION } from './annotations.js';
import type { PermanentScope } from './slackFailure.js';

export interface PermanentFailureFacts {
  /** The channel as annotated. */
  channel: string;
  /** Slack's error code, e.g. `channel_not_found`, `invalid_auth`. */
  error: string;
  scope: PermanentScope;
}

/** One short imperative sentence: what someone has to change so that Slack accepts Hermod again. */
export function slackFailureAdvice(failure: PermanentFailureFacts): string {
  if (failure.scope === 'workspace') return 'the Slack token was refused: check SLACK_TOKEN';
  switch (failure.error) {
    case 'not_in_channel':
      return `invite the Hermod app to ${failure.channel}`;
    case 'channel_not_found':
      return `check the channel in the ${SLACK_ANNOTATION} annotation ("${failure.channel}")`;
    default:
      return `Slack refused channel "${failure.channel}"`;
  }
}
