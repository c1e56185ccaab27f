/**
 * Connections to the API server that carry requests as HTTP/2 streams, as client-go's do
 * (ADR 0007, "HTTP/2 to the API server").
 *
 * Hermod holds a watch open per kind and tracked namespace: over HTTP/1.1 each is a TLS
 * connection of its own (350 for 50 namespaces). Over HTTP/2 they are streams of a few
 * connections. undici can speak HTTP/2, but its own pool does not fit long-lived requests: a
 * connection sends one request at a time unless its `pipelining` is raised; every request sent
 * while a connection is still being made opens another one; a connected HTTP/2 connection is
 * handed any number of requests, though the server serves only so many streams at once
 * (SETTINGS_MAX_CONCURRENT_STREAMS; the rest wait for a stream to end, and a watch never ends);
 * and a write waits until every other request of its connection has ended. So here the
 * connections (undici Clients offering HTTP/2) are chosen per request:
 *
 * - a connection that speaks HTTP/2 carries up to `streamsPerConnection` requests at once (100:
 *   what the API server grants a client by default, and Go's initial limit); a request that
 *   finds them all full opens another connection;
 * - the requests that come while a connection is being made wait for it, and the first
 *   connection says which protocol the server chose (ALPN);
 * - a connection that speaks HTTP/1.1 (a server, or a proxy in front of it, without HTTP/2)
 *   carries one request at a time: a connection per request in flight, as before;
 * - a write is sent beside the watches (`h2Ready`);
 * - at most MAX_UNANSWERED requests wait for the server's answer at once.
 *
 * The pool does not tell a watch from other requests: a request's own `bodyTimeout` (a watch's
 * 0, set by ./client.ts) overrides the pool's `bodyTimeoutMs`.
 */
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { buildConnector, Client, Dispatcher } from 'undici';

/** Streams one connection carries at once (the API server's default grant; Go's initial limit). */
export const STREAMS_PER_CONNECTION = 100;

/**
 * Requests sent at once and not answered yet. 350 LISTs and WATCHes sent together (50 tracked
 * namespaces at start-up) got answers of 429 from the API server's priority and fairness queues
 * for a few of them; over HTTP/1.1 the connections each needed kept them apart.
 */
export const MAX_UNANSWERED = 32;

export interface Http2PoolOptions {
  /** TLS options of every connection (client-node's `createDispatcherOptions(...).connect`). */
  connect?: ConnectionOptions;
  streamsPerConnection?: number;
  maxUnanswered?: number;
  /** undici's limit on silence within a response body, for every request that sets none of its own (a watch sets 0); default undici's (300 s). */
  bodyTimeoutMs?: number;
}

interface Connection {
  readonly client: Client;
  /** Requests sent on it and not over yet. */
  inFlight: number;
  /** Being made (its first connect or a reconnect after an idle close). */
  connecting: boolean;
  /** What the server chose for it; unknown until it is made. */
  h2: boolean | undefined;
}

/** One origin: its connections, and what its server speaks (unknown until the first connection is made). */
interface Origin {
  protocol: 'unknown' | 'h2' | 'http/1.1';
  readonly connections: Connection[];
  /** Requests held while a connection is being made (HTTP/2 or not known yet). */
  readonly waiting: Array<() => void>;
}

const ENDS = ['onComplete', 'onError', 'onResponseEnd', 'onResponseError'];
const ANSWERS = ['onHeaders', 'onResponseStart', ...ENDS];

/**
 * The handler, telling `answered` once when the server has answered (response headers, or the
 * request ended or failed first) and `over` once when the request is over (ended or failed).
 * The callbacks are replaced on the handler itself, not on a wrapper: undici keeps a request's
 * state on the handler (`this`), and its `request` API reads it from the handler its abort
 * signal's listener closed over (with a wrapper, an aborted watch's stream stayed open).
 */
function observed(handler: Dispatcher.DispatchHandler, on: { answered: () => void; over: () => void }): Dispatcher.DispatchHandler {
  const fired = new Set<() => void>();
  const once = (fn: () => void): void => {
    if (fired.has(fn)) return;
    fired.add(fn);
    fn();
  };
  const callbacks = handler as unknown as Record<string, unknown>;
  // Only the callbacks the handler has: undici tells its old handler API from the new one by them.
  for (const name of ANSWERS) {
    const fn = callbacks[name];
    if (typeof fn !== 'function') continue;
    const ends = ENDS.includes(name);
    callbacks[name] = function (this: unknown, ...args: unknown[]): unknown {
      once(on.answered);
      if (ends) once(on.over);
      return (fn as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  return handler;
}

/**
 * The request as an HTTP/2 stream can be sent beside others: undici holds a request it does not
 * know to be idempotent (PUT, POST, PATCH, DELETE) until every other request of its connection
 * has ended, for fear of a retry, and over HTTP/2 the others include watches, which never end (a
 * Lease renewal would wait forever). A stream fails alone and nothing here is retried.
 */
function h2Ready(options: Dispatcher.DispatchOptions): Dispatcher.DispatchOptions {
  return { ...options, idempotent: true };
}

function isStreamed(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !(body instanceof Uint8Array) && Symbol.asyncIterator in body;
}

async function collect(body: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export class Http2Pool extends Dispatcher {
  readonly #origins = new Map<string, Origin>();
  readonly #connect: ConnectionOptions;
  readonly #streamsPerConnection: number;
  readonly #maxUnanswered: number;
  readonly #bodyTimeoutMs: number | undefined;
  /** Requests sent and not answered yet (a watch is answered when its stream opens). */
  #unanswered = 0;
  /** Requests held while #maxUnanswered others wait for their answer. */
  readonly #held: Array<() => void> = [];
  #closed = false;

  constructor(options: Http2PoolOptions = {}) {
    super();
    this.#connect = options.connect ?? {};
    this.#streamsPerConnection = options.streamsPerConnection ?? STREAMS_PER_CONNECTION;
    this.#maxUnanswered = options.maxUnanswered ?? MAX_UNANSWERED;
    this.#bodyTimeoutMs = options.bodyTimeoutMs;
  }

  /** Per origin: the protocol its server chose and the connections made (tests). */
  describe(): Array<{ origin: string; protocol: Origin['protocol']; connections: number }> {
    return [...this.#origins].map(([origin, o]) => ({ origin, protocol: o.protocol, connections: o.connections.length }));
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.#closed) {
      handler.onError?.(new Error('the connection pool to the API server is closed'));
      return false;
    }
    if (this.#unanswered >= this.#maxUnanswered) {
      // As many requests as the API server should take at once are waiting for its answer.
      this.#held.push(() => this.dispatch(options, handler));
      return true;
    }
    const key = String(options.origin ?? '');
    let origin = this.#origins.get(key);
    if (origin === undefined) {
      origin = { protocol: 'unknown', connections: [], waiting: [] };
      this.#origins.set(key, origin);
    }
    const live = origin.connections.filter((c) => !c.client.closed && !c.client.destroyed);
    if (live.length < origin.connections.length) origin.connections.splice(0, Infinity, ...live);
    const room = live.find((c) => !c.connecting && c.inFlight < this.#limit(c));
    if (room === undefined && origin.protocol !== 'http/1.1' && live.some((c) => c.connecting)) {
      // Over HTTP/2 (or not known yet) a connection being made will have room: wait for it
      // rather than open one more per request.
      origin.waiting.push(() => this.dispatch(options, handler));
      return true;
    }
    const connection = room ?? this.#connection(key, origin);
    connection.inFlight++;
    this.#unanswered++;
    const over = observed(handler, {
      answered: () => {
        this.#unanswered--;
        this.#held.shift()?.();
      },
      over: () => connection.inFlight--,
    });
    if (connection.h2 === false || !isStreamed(options.body)) return connection.client.dispatch(h2Ready(options), over);
    // A body given as a stream (fetch gives every body so; Hermod's own requests send a string) is read whole first: they are small
    // JSON objects, and undici would hold the request until every other stream had ended.
    collect(options.body as AsyncIterable<unknown>).then(
      (body) => connection.client.dispatch(h2Ready({ ...options, body }), over),
      (err: unknown) => over.onError?.(err instanceof Error ? err : new Error(String(err))),
    );
    return true;
  }

  #limit(connection: Connection): number {
    return connection.h2 === true ? this.#streamsPerConnection : 1;
  }

  #connection(key: string, origin: Origin): Connection {
    const connector = buildConnector({ ...this.#connect, allowH2: true } as buildConnector.BuildOptions);
    const known = origin.protocol === 'unknown' ? undefined : origin.protocol === 'h2';
    const connection: Connection = {
      connecting: true,
      inFlight: 0,
      h2: known,
      client: new Client(key, {
        allowH2: true,
        ...(this.#bodyTimeoutMs !== undefined ? { bodyTimeout: this.#bodyTimeoutMs } : {}),
        pipelining: known === true ? this.#streamsPerConnection : 1,
        connect: (opts, callback) => {
          connection.connecting = true;
          connector(opts, (err, socket) => {
            callback(err, socket as never);
            connection.connecting = false;
            if (err === null) {
              connection.h2 = (socket as TLSSocket).alpnProtocol === 'h2';
              connection.client.pipelining = this.#limit(connection);
              origin.protocol = connection.h2 ? 'h2' : 'http/1.1';
            }
            // Made or failed, the requests held go on (a failed one decides nothing: they try again),
            // once the client has told undici it can take more (its 'drain', a microtask away).
            setImmediate(() => {
              for (const go of origin.waiting.splice(0)) go();
            });
          });
        },
      }),
    };
    origin.connections.push(connection);
    return connection;
  }

  /** Lets the requests in flight finish, then closes every connection. */
  override async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#origins.values()].flatMap((o) => o.connections.map((c) => c.client.close())));
  }

  /** Cuts every connection (the requests in flight fail). */
  override async destroy(reason?: unknown): Promise<void> {
    this.#closed = true;
    const err = reason instanceof Error ? reason : null;
    await Promise.all([...this.#origins.values()].flatMap((o) => o.connections.map((c) => c.client.destroy(err))));
  }
}
