/**
 * Reads the last lines of a container's PREVIOUS (crashed) run through the API server's
 * `pods/log` subresource (which proxies to the node's kubelet). Hermod needs `get` on
 * `pods/log` for it; without it, or when the pod or its previous run is gone, the answer is
 * a short reason instead of text, and the message goes on without the log.
 *
 * I/O only: what the lines mean, redaction and bounds live in src/machines/crashLog.ts.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { CrashLogTarget } from '../../machines/notification.js';
import { KubeApiError } from './errors.js';
import { KubeObjectClient } from './objects.js';

/** The log's text, or why it could not be read. */
export type PodLogResult = { text: string } | { unavailable: string };

/** Reads one container's previous-run log; never throws. */
export type PodLogReader = (target: CrashLogTarget) => Promise<PodLogResult>;

export interface PodLogReaderOptions {
  /** `tailLines`: only the last lines are sent. */
  tailLines: number;
  /** `limitBytes`: a bound on what the API server sends at all. */
  limitBytes: number;
  /** Give up after this long (a kubelet that does not answer). */
  timeoutMs?: number;
}

/** A PodLogReader: GET pods/log with previous=true. */
export function createPodLogReader(kubeConfig: KubeConfig, options: PodLogReaderOptions): PodLogReader {
  const api = new KubeObjectClient(kubeConfig);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return async (target) => {
    let timer: NodeJS.Timeout | undefined;
    // On timeout the request is cancelled too (its connection goes back to the pool, or closes).
    const abort = new AbortController();
    const timeout = new Promise<PodLogResult>((resolve) => {
      timer = setTimeout(() => {
        resolve({ unavailable: `no answer within ${timeoutMs / 1000} s` });
        abort.abort();
      }, timeoutMs);
    });
    const read = api
      .getText(`/api/v1/namespaces/${target.namespace}/pods/${target.pod}/log`, {
        params: { container: target.container, previous: true, tailLines: options.tailLines, limitBytes: options.limitBytes },
        signal: abort.signal,
      })
      .then((text): PodLogResult => ({ text }), (err: unknown) => ({ unavailable: reasonOf(err) }));
    try {
      return await Promise.race([read, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** A few words for the message: the HTTP status in words, never the server's full answer. */
export function reasonOf(err: unknown): string {
  if (err instanceof KubeApiError) {
    const code = err.statusCode;
    if (code === 403) return 'forbidden (403): Hermod needs get on pods/log';
    if (code === 404) return 'not found (404): the pod is gone';
    if (code === 400) return 'not available (400): the previous run left no log';
    return `the API server answered ${code}`;
  }
  return 'the API server could not be reached';
}
