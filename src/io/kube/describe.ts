/**
 * A Kubernetes API error in one line. client-node's ApiException (the typed APIs of `hermod
 * check`) carries the whole HTTP exchange in its message (`HTTP-Code: 403 Message: ... Body:
 * ... Headers: {...}`, kilobytes); Hermod's own KubeApiError (./errors.ts: the LIST/WATCH client
 * and ./objects.ts) is one line already. People need the status and the API server's own sentence.
 */
import { ApiException } from './clientNode.js';
import { KubeApiError } from './errors.js';
import { describeConnectionError } from '../netErrors.js';

/** `HTTP 403 Forbidden: configmaps "hermod-state" is forbidden: User "..." cannot get ...`, or null for other errors. */
export function kubeApiErrorSummary(err: unknown): string | null {
  if (err instanceof KubeApiError) return err.message;
  if (!(err instanceof ApiException)) return null;
  const e = err as ApiException<unknown>;
  let body: unknown = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      // Not JSON: keep the text.
    }
  }
  const status = typeof body === 'object' && body !== null ? (body as { reason?: unknown; message?: unknown }) : {};
  const reason = typeof status.reason === 'string' && status.reason !== '' ? ` ${status.reason}` : '';
  const message =
    typeof status.message === 'string' && status.message !== '' ? status.message : typeof body === 'string' && body.length < 300 ? body.trim() : '';
  return `HTTP ${e.code}${reason}${message !== '' ? `: ${message}` : ''}`;
}

/** One line for any error of a Kubernetes API call to `server`: the API's answer, or why it could not be reached. */
export function describeKubeError(err: unknown, server: string): string {
  return kubeApiErrorSummary(err) ?? describeConnectionError(err, server);
}
