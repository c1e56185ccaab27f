/**
 * The two Kubernetes API calls a reflector makes, LIST (one page) and WATCH (a stream of
 * events), and the one request every other call is made of (`sendKubeRequest`, used by
 * ./objects.ts for single objects). @kubernetes/client-node's KubeConfig applies authentication
 * and TLS (`applySecurityAuthentication`: headers, and the pooled dispatcher of
 * ./pooledKubeConfig.ts); the request itself goes out through undici's `request` on that
 * dispatcher, not through `fetch` (client-node's `IsomorphicFetchHttpLibrary`): fetch's Request,
 * Headers and WHATWG streams cost about a third of a millisecond of CPU per request, measured,
 * which for the 700 LISTs and WATCHes of 50 tracked namespaces was a quarter of the CPU to sync,
 * and a watch's events are read from a Node stream instead of a web stream (docs/adr/0007, "CPU
 * and memory at sync"). Bodies are parsed as plain JSON: no model deserialisation, so LIST and
 * WATCH hand the same shapes to the trim functions.
 *
 * Why not client-node's `Watch`: it aborts any watch that is quiet for 30 s (a private,
 * fixed inactivity timeout), which on a quiet cluster turns every watch into a reconnect
 * loop; Hermod's reflector has its own, configurable watchdog instead (see ADR 0002).
 */
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import { HttpMethod, RequestContext, type KubeConfig } from './clientNode.js';
import { KubeApiError, KubeError, ResourceExpiredError } from './errors.js';
import { VERSION } from '../version.js';

/** Sent with every request, as client-go sends its own: the API server's audit log names Hermod. */
export const USER_AGENT = `hermod/${VERSION}`;

/** An answer of the API server: its status and its body, to read whole (`text()`) or as it streams. */
export type KubeResponse = Dispatcher.ResponseData;

/** One line of a watch stream. */
export interface WatchEvent {
  /** ADDED | MODIFIED | DELETED | BOOKMARK | ERROR */
  type: string;
  object: unknown;
}

/** One page of a LIST. */
export interface ListPage {
  items: unknown[];
  /** metadata.resourceVersion of the list: the snapshot every page belongs to. */
  resourceVersion: string;
  /** metadata.continue; absent or empty on the last page. */
  continue?: string;
}

export type QueryParams = Record<string, string | number | boolean | undefined>;

/** What a reflector needs from the API server. */
export interface ListWatchClient {
  /** GET one page of a collection. Rejects with KubeApiError (ResourceExpiredError for 410). */
  list(path: string, params: QueryParams, signal: AbortSignal): Promise<ListPage>;
  /**
   * GET a collection with watch=true and call onEvent for each line. Resolves when the
   * server ends the stream; rejects on HTTP errors, transport errors, abort, or whatever
   * onEvent throws (the stream is then cancelled).
   */
  watch(path: string, params: QueryParams, signal: AbortSignal, onEvent: (event: WatchEvent) => void, onOpen?: () => void): Promise<void>;
}

/** ListWatchClient over a client-node KubeConfig. Read-only: it only ever sends GET. */
export class KubeListWatchClient implements ListWatchClient {
  constructor(private readonly kubeConfig: KubeConfig) {}

  async list(path: string, params: QueryParams, signal: AbortSignal): Promise<ListPage> {
    const res = await this.send(path, params, signal);
    if (res.statusCode !== 200) throw await apiError(res, `LIST ${path}`);
    const text = await res.body.text();
    let body: { items?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new KubeError(`LIST ${path}: response is not JSON`);
    }
    const page: ListPage = {
      items: Array.isArray(body.items) ? body.items : [],
      resourceVersion: typeof body.metadata?.resourceVersion === 'string' ? body.metadata.resourceVersion : '',
    };
    if (typeof body.metadata?.continue === 'string' && body.metadata.continue !== '') page.continue = body.metadata.continue;
    return page;
  }

  async watch(
    path: string,
    params: QueryParams,
    signal: AbortSignal,
    onEvent: (event: WatchEvent) => void,
    onOpen?: () => void,
  ): Promise<void> {
    // A WATCH is silent for minutes when nothing changes (an Event watch gets no bookmarks) and
    // ends at the term it asked for: undici's limit on silence (300 s) ended every quiet watch
    // as a failure. The reflector's watchdog times it instead (ADR 0002).
    const res = await this.send(path, { ...params, watch: true }, signal, 0);
    if (res.statusCode !== 200) throw await apiError(res, `WATCH ${path}`);
    onOpen?.();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let start = 0;
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n', start)) {
          const line = buffer.slice(start, nl);
          start = nl + 1;
          if (line.trim() !== '') onEvent(parseWatchLine(line, path));
        }
        buffer = buffer.slice(start);
      }
      buffer += decoder.decode();
      if (buffer.trim() !== '') onEvent(parseWatchLine(buffer, path));
    } finally {
      // Ends the stream (over HTTP/2 only this request's) whether we finished, failed or were aborted.
      res.body.destroy();
    }
  }

  private send(path: string, params: QueryParams, signal: AbortSignal, bodyTimeoutMs?: number): Promise<KubeResponse> {
    return sendKubeRequest(this.kubeConfig, { method: 'GET', path, params, signal, ...(bodyTimeoutMs !== undefined ? { bodyTimeoutMs } : {}) });
  }
}

/** One HTTP request to the API server. */
export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path from the server's root, e.g. `/api/v1/namespaces/ns/configmaps/name`. */
  path: string;
  params?: QueryParams;
  signal?: AbortSignal;
  /** Sent as JSON (with `contentType`, default application/json). */
  body?: unknown;
  contentType?: string;
  /** Default application/json. */
  accept?: string;
  /**
   * The longest silence allowed within the response body, in ms; 0 = a body may be silent for
   * as long as it runs (a WATCH). Default: the dispatcher's (undici's 300 s).
   */
  bodyTimeoutMs?: number;
}

/**
 * Sends one request with the KubeConfig's authentication, TLS and (pooled) connection; the
 * response whatever its status, for the caller to read (or `body.destroy()`).
 */
export async function sendKubeRequest(kubeConfig: KubeConfig, request: KubeRequest): Promise<KubeResponse> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new KubeError('kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + request.path);
  for (const [k, v] of Object.entries(request.params ?? {})) {
    if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  }
  // client-node's request context only collects what its authentication adds: headers, the dispatcher.
  const ctx = new RequestContext(url.toString(), HttpMethod[request.method]);
  ctx.setHeaderParam('Accept', request.accept ?? 'application/json');
  ctx.setHeaderParam('User-Agent', USER_AGENT);
  let body: string | undefined;
  if (request.body !== undefined) {
    ctx.setHeaderParam('Content-Type', request.contentType ?? 'application/json');
    body = JSON.stringify(request.body);
  }
  await kubeConfig.applySecurityAuthentication(ctx);
  const dispatcher = (ctx.getDispatcher() as Dispatcher | undefined) ?? getGlobalDispatcher();
  const target = new URL(ctx.getUrl());
  return dispatcher.request({
    origin: target.origin,
    path: `${target.pathname}${target.search}`,
    method: request.method,
    headers: ctx.getHeaders(),
    ...(body !== undefined ? { body } : {}),
    ...(request.signal !== undefined ? { signal: request.signal } : {}),
    // Per request, so it holds whatever the dispatcher: the HTTP/2 pool, client-node's proxy or SOCKS agent.
    ...(request.bodyTimeoutMs !== undefined ? { bodyTimeout: request.bodyTimeoutMs } : {}),
  });
}

function parseWatchLine(line: string, path: string): WatchEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new KubeError(`WATCH ${path}: malformed event line`);
  }
  const ev = parsed as { type?: unknown; object?: unknown } | null;
  if (ev === null || typeof ev !== 'object' || typeof ev.type !== 'string') {
    throw new KubeError(`WATCH ${path}: event without a type`);
  }
  return { type: ev.type, object: ev.object };
}

/** The error for a non-success answer, read from the `Status` body when there is one. */
export async function apiError(res: KubeResponse, what: string): Promise<KubeApiError> {
  let reason: string | undefined;
  let message = '';
  try {
    const status = JSON.parse(await res.body.text()) as { reason?: unknown; message?: unknown };
    if (typeof status.reason === 'string') reason = status.reason;
    if (typeof status.message === 'string') message = status.message;
  } catch {
    // Not a Status object (a proxy's HTML page, an empty body): the status code says enough.
  }
  const text = `${what}: HTTP ${res.statusCode}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`;
  return res.statusCode === 410 ? new ResourceExpiredError(text, reason) : new KubeApiError(text, res.statusCode, reason);
}

/** The error a watch ERROR event stands for (its object is a `Status`). */
export function watchStatusError(object: unknown, path: string): KubeApiError {
  const status = (object ?? {}) as { code?: unknown; reason?: unknown; message?: unknown };
  const code = typeof status.code === 'number' ? status.code : 500;
  const reason = typeof status.reason === 'string' ? status.reason : undefined;
  const message = typeof status.message === 'string' ? status.message : 'watch ERROR event';
  const text = `WATCH ${path}: ERROR event ${code}${reason ? ` ${reason}` : ''}: ${message}`;
  return code === 410 ? new ResourceExpiredError(text, reason) : new KubeApiError(text, code, reason);
}
