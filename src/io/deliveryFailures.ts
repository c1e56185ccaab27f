/**
 * What Hermod does when Slack refuses a channel (or the token) for good (the delivery layer
 * has logged the one error line with the advice): one Sentry report, and a Warning Event on each namespace that routes to the
 * channel and on each workload whose message was dropped, where their owners look.
 */
import type { PermanentFailure } from '../actors/delivery/index.js';
import { slackFailureAdvice } from '../machines/slackAdvice.js';
import type { NamespaceEventRecorder } from './kube/events.js';
import type { ErrorReporter } from './sentry.js';

/** A channel cannot take messages: say so once where the namespace's owners look, and to Sentry. */
export function reportPermanentFailure(
  failure: PermanentFailure,
  deps: { reporter: ErrorReporter; events: Pick<NamespaceEventRecorder, 'warn' | 'warnOn'> },
): void {
  // The delivery layer has logged the one error line (with the same advice); no second one here.
  const advice = slackFailureAdvice(failure);
  deps.reporter.report(new Error(`Slack ${failure.error} for channel ${failure.channel}`), {
    channel: failure.channel,
    error: failure.error,
    scope: failure.scope,
  });
  const message = `Hermod cannot post to Slack channel "${failure.channel}": ${failure.error} (${advice}).`;
  for (const namespace of failure.namespaces) void deps.events.warn(namespace, 'SlackDeliveryFailed', message);
  // Also on each workload whose message was dropped, so `kubectl describe deployment` says why nothing was posted (issue 13).
  for (const w of failure.workloads) void deps.events.warnOn({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: w.namespace, name: w.name }, 'SlackDeliveryFailed', message);
}
