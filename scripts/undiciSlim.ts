/**
 * The esbuild plugin that gives the bundle a lazy index of undici (docs/adr/0007, "The import floor").
 *
 * undici's index.js requires all of undici when it is imported: the mock agents, the cache
 * stores, WebSocket, EventSource, the cookie helpers, eight interceptors. `hermod run` uses a
 * handful of dispatchers and fetch, and the rest cost about 40 ms of CPU at every start
 * (`require('undici')` against those files alone, Node 20). In the bundle, `undici` resolves to
 * a generated index instead: each name in DIRECT is a getter that loads only its own file, on
 * first use (fetch's file alone costs about 10 ms, and a proxy agent's load only with a proxy);
 * every other name undici exports is a getter that loads the real index.js on first use, so
 * nothing is missing, it is only loaded later. The tests (tsx, unbundled) use undici as it is.
 *
 * Like undici's index, the generated one adds the request API (`request`, `stream` ...) to
 * Dispatcher.prototype. Its `fetch` is lib/web/fetch's, without the index's wrapper (which only
 * appends the caller's stack to a fetch error's stack).
 *
 * If undici changes (an upgrade): `checkDirect` runs in the build and fails it when a file in
 * DIRECT moved or no longer exports the same value as the real index (fetch: a function).
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Plugin } from 'esbuild';
import { lazyExports } from './lazyExports.js';

/** The names `hermod run` may need, with the undici file and export that define each (null: the module itself). */
export const DIRECT: Readonly<Record<string, readonly [file: string, name: string | null]>> = {
  Dispatcher: ['undici/lib/dispatcher/dispatcher.js', null],
  Client: ['undici/lib/dispatcher/client.js', null],
  Agent: ['undici/lib/dispatcher/agent.js', null],
  ProxyAgent: ['undici/lib/dispatcher/proxy-agent.js', null],
  EnvHttpProxyAgent: ['undici/lib/dispatcher/env-http-proxy-agent.js', null],
  buildConnector: ['undici/lib/core/connect.js', null],
  errors: ['undici/lib/core/errors.js', null],
  getGlobalDispatcher: ['undici/lib/global.js', 'getGlobalDispatcher'],
  setGlobalDispatcher: ['undici/lib/global.js', 'setGlobalDispatcher'],
  fetch: ['undici/lib/web/fetch/index.js', 'fetch'],
};

const API = 'undici/lib/api/index.js';
const require = createRequire(import.meta.url);

/** Fails (throws, naming the export) if a DIRECT file is gone or exports something else than the real index. */
export function checkDirect(direct: typeof DIRECT = DIRECT): void {
  const real = require('undici') as Record<string, unknown>;
  for (const [name, [file, member]] of Object.entries(direct)) {
    let value: unknown;
    try {
      const mod = require(file) as Record<string, unknown>;
      value = member === null ? mod : mod[member];
    } catch (err) {
      throw new Error(`undici's ${name}: ${file} cannot be loaded (${String(err)}); update DIRECT in scripts/undiciSlim.ts`);
    }
    // The index wraps fetch; the rest it re-exports as they are.
    const same = name === 'fetch' ? typeof value === 'function' && typeof real[name] === 'function' : value === real[name];
    if (!same) throw new Error(`undici's ${name} is not ${file}'s ${member ?? 'module'} any more; update DIRECT in scripts/undiciSlim.ts`);
  }
}

/** The generated index's source: the request API at once, each DIRECT name from its file and every other name from the real index, on first use. */
export function lazyIndexSource(): string {
  const names = Object.keys(require('undici') as object).filter((n) => !(n in DIRECT));
  const lines = [
    "'use strict';",
    // Every dispatcher has the request API (`request`, `stream` ...) as soon as undici is imported.
    `Object.assign(require(${JSON.stringify(DIRECT['Dispatcher']![0])}).prototype, require(${JSON.stringify(API)}));`,
    ...Object.entries(DIRECT).map(
      ([name, [file, member]]) =>
        `Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, get: () => require(${JSON.stringify(file)})${member === null ? '' : `.${member}`} });`,
    ),
    // The bare specifier from this module resolves to the real index (onResolve skips this namespace).
    ...lazyExports('undici', names),
  ];
  return lines.join('\n');
}

export const lazyUndici: Plugin = {
  name: 'undici-lazy-index',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) => {
      if (args.namespace === 'hermod-undici') return undefined;
      return { path: require.resolve('undici'), namespace: 'hermod-undici' };
    });
    b.onLoad({ filter: /.*/, namespace: 'hermod-undici' }, (args) => ({ contents: lazyIndexSource(), resolveDir: dirname(args.path), loader: 'js' }));
  },
};
