/**
 * Outbound HTTP for Slack and Sentry honours HTTPS_PROXY, HTTP_PROXY and NO_PROXY (and their
 * lower-case names), so Hermod works where egress goes through a proxy (issue 14).
 *
 * - Slack: @slack/web-api calls `fetch`; it is given undici's fetch over an EnvHttpProxyAgent,
 *   which picks the proxy per URL and honours NO_PROXY.
 * - Sentry: its transport takes one proxy URL; `proxyFor` makes the same choice for the DSN's
 *   host.
 * TLS trust comes from Node.js, so NODE_EXTRA_CA_CERTS covers an intercepting proxy's CA.
 */
import { EnvHttpProxyAgent, fetch as undiciFetch, type Dispatcher } from 'undici';

export interface ProxyEnv {
  httpProxy: string | undefined;
  httpsProxy: string | undefined;
  noProxy: string | undefined;
}

const pick = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const value = env[name] ?? env[name.toLowerCase()];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
};

/** The proxy settings in `env`; upper-case names win over lower-case ones. HTTPS_PROXY falls back to HTTP_PROXY. */
export function proxyEnv(env: NodeJS.ProcessEnv = process.env): ProxyEnv {
  const httpProxy = pick(env, 'HTTP_PROXY');
  return { httpProxy, httpsProxy: pick(env, 'HTTPS_PROXY') ?? httpProxy, noProxy: pick(env, 'NO_PROXY') };
}

/** True when NO_PROXY exempts `url`: `*`, a host, `host:port`, or a domain (`.example.com`, `*.example.com`, `example.com`). */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[|\](?=:|$)/g, ''));
    const name = (m?.[1] ?? entry).replace(/^\*?\./, '');
    if (m?.[2] !== undefined && m[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** The proxy URL to use for `url`, or undefined to connect directly. */
export function proxyFor(url: string | URL, env: ProxyEnv = proxyEnv()): string | undefined {
  const target = new URL(url);
  if (bypassesProxy(target, env.noProxy)) return undefined;
  return target.protocol === 'https:' ? env.httpsProxy : env.httpProxy;
}

/** An undici dispatcher that proxies as `env` says (a plain agent when no proxy is set). */
export function proxyDispatcher(env: ProxyEnv = proxyEnv()): Dispatcher {
  return new EnvHttpProxyAgent({
    ...(env.httpProxy !== undefined ? { httpProxy: env.httpProxy } : {}),
    ...(env.httpsProxy !== undefined ? { httpsProxy: env.httpsProxy } : {}),
    ...(env.noProxy !== undefined ? { noProxy: env.noProxy } : {}),
  });
}

/** A WHATWG fetch that goes through the proxy `env` names, for @slack/web-api's `fetch` option. */
export function proxyFetch(env: ProxyEnv = proxyEnv()): typeof globalThis.fetch {
  const dispatcher = proxyDispatcher(env);
  return ((input: Parameters<typeof globalThis.fetch>[0], init?: RequestInit) =>
    undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as typeof globalThis.fetch;
}
