/**
 * A KubeConfig whose requests share their connections to the API server.
 *
 * @kubernetes/client-node 2.0.1 builds a NEW undici Agent for every request
 * (`applySecurityAuthentication` -> the private `createDispatcher`), so every LIST page, WATCH,
 * Event, Lease and ConfigMap call paid a TCP and TLS handshake, and the agents were never
 * closed (ADR 0007). Here `createDispatcher` is memoised by what the agent is made from (the
 * public `createDispatcherOptions`: the TLS material, the proxy or SOCKS URL), so one agent
 * serves every request of Hermod's own ListWatchClient (./client.ts) and of the typed APIs
 * (`makeApiClient(CoreV1Api)` ...) made from this KubeConfig. The agent itself is client-node's
 * own (plain, proxy or SOCKS), so proxy-url and socks keep working.
 *
 * The options are read again on every request (client-node reads certificate files each
 * time) and compared with the last by content, so a rotated client certificate or CA makes a
 * new agent and the old one is retired, closed gracefully (its requests in flight, a watch for
 * instance, finish on it) after a short grace so a request that was handed the old agent a
 * moment earlier still gets to send. `close()` ends them all at shutdown.
 */
import type { AgentOptions } from 'node:https';
import { isDeepStrictEqual } from 'node:util';
import type { Cluster } from '@kubernetes/client-node';
import { KubeConfig } from './clientNode.js';
import { Http2Pool } from './http2Pool.js';

/** What Hermod needs of an undici Dispatcher (client-node's undici, whatever its version). */
interface Pooled {
  close(): Promise<void>;
  destroy(): Promise<void>;
}

type CreateDispatcher = (cluster: Cluster | null, agentOptions: AgentOptions) => Pooled | undefined;

/** How long a retired agent stays open for requests that were handed it just before it was replaced. */
const RETIRE_GRACE_MS = 5_000;
/** How long `close()` lets requests still in flight finish before their connections are cut. */
const CLOSE_GRACE_MS = 1_000;

/** The private method of client-node's KubeConfig that makes one agent per request. */
function clientNodeCreateDispatcher(): CreateDispatcher {
  const create = (KubeConfig.prototype as unknown as { createDispatcher?: unknown }).createDispatcher;
  if (typeof create !== 'function') {
    // A client-node upgrade renamed it: fail where the tests see it, not silently unpooled.
    throw new Error('@kubernetes/client-node KubeConfig has no createDispatcher: update src/io/kube/pooledKubeConfig.ts');
  }
  return create as CreateDispatcher;
}

export class PooledKubeConfig extends KubeConfig {
  #current: { options: unknown; dispatcher: Pooled | undefined } | null = null;
  readonly #retired = new Map<Pooled, NodeJS.Timeout>();
  #made = 0;
  readonly #retireGraceMs: number;
  readonly #http2: boolean;
  readonly #bodyTimeoutMs: number | undefined;

  /**
   * @param options.retireGraceMs how long a replaced agent stays open (default 5 s; tests).
   * @param options.http2 offer HTTP/2 on direct connections (default true; `DISABLE_HTTP2`, see kubeconfig.ts).
   * @param options.bodyTimeoutMs the HTTP/2 pool's limit on silence in a response body (default undici's 300 s; tests).
   */
  constructor(options: { retireGraceMs?: number; http2?: boolean; bodyTimeoutMs?: number } = {}) {
    super();
    this.#retireGraceMs = options.retireGraceMs ?? RETIRE_GRACE_MS;
    this.#http2 = options.http2 ?? true;
    this.#bodyTimeoutMs = options.bodyTimeoutMs;
    const create = clientNodeCreateDispatcher();
    // An own property shadows the prototype's private method for every caller of
    // applySecurityAuthentication: client.ts and the generated API clients alike.
    Object.defineProperty(this, 'createDispatcher', {
      value: (cluster: Cluster | null, agentOptions: AgentOptions): Pooled | undefined => {
        const options = this.createDispatcherOptions(cluster, agentOptions);
        // Compared by content (Buffers byte by byte): a few microseconds, where hashing them took 0.1 ms a request.
        if (this.#current !== null && isDeepStrictEqual(this.#current.options, options)) return this.#current.dispatcher;
        // Direct connections offer HTTP/2 (ALPN), as client-go does: every LIST, WATCH and
        // single-object call becomes a stream of one connection instead of a connection each.
        const dispatcher =
          options.type === 'agent' && this.#http2
            ? new Http2Pool({ connect: options.connect, ...(this.#bodyTimeoutMs !== undefined ? { bodyTimeoutMs: this.#bodyTimeoutMs } : {}) })
            : create.call(this, cluster, agentOptions);
        if (dispatcher !== undefined) this.#made++;
        if (this.#current?.dispatcher !== undefined) this.#retire(this.#current.dispatcher);
        this.#current = { options, dispatcher };
        return dispatcher;
      },
    });
  }

  /** How many agents this KubeConfig has made (one per distinct set of options; tests, metrics). */
  get agentsMade(): number {
    return this.#made;
  }

  /**
   * Closes every agent: requests still in flight get CLOSE_GRACE_MS, then their connections are
   * cut. A request made afterwards gets a new agent.
   */
  async close(): Promise<void> {
    const all = [...this.#retired.keys()];
    for (const timer of this.#retired.values()) clearTimeout(timer);
    this.#retired.clear();
    if (this.#current?.dispatcher !== undefined) all.push(this.#current.dispatcher);
    this.#current = null;
    await Promise.all(all.map((d) => closeWithin(d, CLOSE_GRACE_MS)));
  }

  #retire(dispatcher: Pooled): void {
    const timer = setTimeout(() => {
      this.#retired.delete(dispatcher);
      // Graceful: a watch still streaming on it ends on its own (server timeout, abort).
      dispatcher.close().catch(() => {});
    }, this.#retireGraceMs);
    timer.unref();
    this.#retired.set(dispatcher, timer);
  }
}

/** Closes gracefully, or destroys after `ms`. */
async function closeWithin(dispatcher: Pooled, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    const outcome = await Promise.race([dispatcher.close().then(() => 'closed' as const, () => 'closed' as const), late]);
    if (outcome === 'late') await dispatcher.destroy().catch(() => {});
  } finally {
    clearTimeout(timer);
  }
}

/** Closes the KubeConfig's pooled connections, if it pools them (a test's plain KubeConfig does not). */
export async function closeKubeConnections(kubeConfig: KubeConfig): Promise<void> {
  if (kubeConfig instanceof PooledKubeConfig) await kubeConfig.close();
}
