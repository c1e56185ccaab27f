/**
 * Optional error reporting to Sentry (SENTRY_ENDPOINT, the original's variable). Only
 * Hermod's own errors are sent: failed Slack calls, failed watches, actor failures. The
 * SDK's tracing and HTTP instrumentation stay off: Hermod needs error events, not spans
 * added to every Kubernetes and Slack request. The Slack token is scrubbed from every event.
 *
 * The SDK (with its OpenTelemetry dependencies, about 35 MB and 0.2 s to load) is imported
 * only when SENTRY_ENDPOINT is set (ADR 0007); errors reported while it loads are queued.
 */
import type * as SentryNamespace from '@sentry/node';
import { proxyEnv, proxyFor, type ProxyEnv } from './proxy.js';

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

/** The DSN's ingest URL (`https://KEY@host/PROJECT` -> `https://host/`), for the proxy choice. */
function ingestUrl(dsn: string): string | null {
  try {
    const url = new URL(dsn);
    return `${url.protocol}//${url.host}/`;
  } catch {
    return null;
  }
}

type SentryModule = typeof SentryNamespace;

export function startSentry(options: {
  dsn: string | null;
  release: string;
  clusterName: string | null;
  secrets: readonly string[];
  /** Default: HTTPS_PROXY, HTTP_PROXY, NO_PROXY from the environment (./proxy.ts). */
  proxy?: ProxyEnv;
}): ErrorReporter {
  if (options.dsn === null) return noReporter;
  const dsn = options.dsn;
  const ingest = ingestUrl(dsn);
  const proxy = ingest === null ? undefined : proxyFor(ingest, options.proxy ?? proxyEnv());
  let sdk: SentryModule | undefined;
  const queued: [unknown, Record<string, unknown>][] = [];
  const send = (Sentry: SentryModule, error: unknown, context: Record<string, unknown>): void => {
    Sentry.withScope((scope) => {
      for (const [key, value] of Object.entries(context)) {
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') scope.setTag(key, String(value));
      }
      scope.setContext('hermod', context);
      Sentry.captureException(error);
    });
  };
  const loading = import('@sentry/node').then((Sentry) => {
    Sentry.init({
      dsn,
      // The SDK reads only the lower-case variables and a simplified no_proxy: Hermod decides.
      ...(proxy !== undefined ? { transportOptions: { proxy } } : {}),
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
    sdk = Sentry;
    for (const [error, context] of queued.splice(0)) send(Sentry, error, context);
  });
  loading.catch(() => queued.splice(0)); // Sentry is optional: an SDK that fails to load reports nothing.
  return {
    report(error, context = {}) {
      if (sdk) send(sdk, error, context);
      else queued.push([error, context]);
    },
    async close(timeoutMs) {
      // If the SDK never loaded, there is nothing to flush; its failure is not Hermod's error.
      const Sentry = await loading.then(() => sdk, () => undefined);
      await Sentry?.close(timeoutMs);
    },
  };
}
