/**
 * Optional error reporting to Sentry (SENTRY_ENDPOINT, the original's variable). Only
 * Hermod's own errors are sent: failed Slack calls, failed watches, actor failures. The
 * SDK's tracing and HTTP instrumentation stay off: Hermod needs error events, not spans
 * added to every Kubernetes and Slack request. The Slack token is scrubbed from every event.
 */
import * as Sentry from '@sentry/node';

export interface ErrorReporter {
  report(error: unknown, context?: Record<string, unknown>): void;
  /** Send what is queued; call before exiting. */
  close(timeoutMs: number): Promise<void>;
}

/** A reporter that drops everything: Sentry is optional. */
export const noReporter: ErrorReporter = {
  report() {},
  close: async () => {},
};

/** Replace every occurrence of each secret in a JSON-able value. */
export function scrub<T>(value: T, secrets: readonly string[]): T {
  const live = secrets.filter((s) => s.length >= 8);
  if (live.length === 0) return value;
  let text = JSON.stringify(value);
  if (text === undefined) return value;
  for (const secret of live) text = text.split(secret).join('[redacted]');
  return JSON.parse(text) as T;
}

export function startSentry(options: { dsn: string | null; release: string; clusterName: string | null; secrets: readonly string[] }): ErrorReporter {
  if (options.dsn === null) return noReporter;
  Sentry.init({
    dsn: options.dsn,
    release: `hermod@${options.release}`,
    environment: options.clusterName ?? undefined,
    defaultIntegrations: false,
    integrations: [
      Sentry.onUncaughtExceptionIntegration(),
      Sentry.onUnhandledRejectionIntegration(),
      Sentry.linkedErrorsIntegration(),
      Sentry.dedupeIntegration(),
    ],
    sendDefaultPii: false,
    beforeSend: (event) => scrub(event, options.secrets),
    beforeBreadcrumb: () => null,
  });
  if (options.clusterName !== null) Sentry.setTag('cluster', options.clusterName);
  return {
    report(error, context = {}) {
      Sentry.withScope((scope) => {
        for (const [key, value] of Object.entries(context)) {
          if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') scope.setTag(key, String(value));
        }
        scope.setContext('hermod', context);
        Sentry.captureException(error);
      });
    },
    async close(timeoutMs) {
      await Sentry.close(timeoutMs);
    },
  };
}
