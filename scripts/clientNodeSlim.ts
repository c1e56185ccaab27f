/**
 * The esbuild plugin that keeps client-node's generated models out of `hermod run`'s bundle
 * (docs/adr/0007, "No typed API in `hermod run`"), and the check that they stay out.
 *
 * client-node's dist/config.js (the KubeConfig) imports its generated index only for
 * `createConfiguration` and `ServerConfiguration`, but that index re-exports every API class and
 * model (`export * from './models/all.js'`), and esbuild keeps them all: it cannot prove that a
 * class with static members has no side effects. About 575 KB of JavaScript and 20-30 MB of RSS
 * for a process that never deserialises a model. The plugin gives config.js a slim index instead,
 * holding only what config.js imports (SLIM_GEN_INDEX). Only config.js's import is redirected:
 * `hermod check`'s typed APIs import the real index through the package's barrel and get it, in
 * check's own chunks.
 *
 * config.js also imports the SOCKS client and agent (LAZY_IMPORTS) for a kubeconfig's `socks5://`
 * proxy-url, and they and their dependencies (ip-address, smart-buffer) cost about 8 ms of CPU at
 * every start of `hermod run`. The plugin gives config.js a module for each whose names load the
 * package on first use, so a cluster reached without a SOCKS proxy never loads it.
 *
 * If client-node changes (an upgrade):
 * - config.js imports another name from './gen/index.js': esbuild fails the build ("No matching
 *   export"), and test/unit/build-slim-gen.test.ts, which reads config.js's import, fails first
 *   naming it. Add it to SLIM_GEN_INDEX with the file that defines it.
 * - config.js imports other names from 'socks' or 'socks-proxy-agent': the same test fails naming
 *   them; add them to LAZY_IMPORTS.
 * - config.js stops importing './gen/index.js' or moves: the plugin would do nothing; the same
 *   test fails, and the build's own check (runGenModules) fails if models come back into run.js.
 */
import { dirname, join, sep } from 'node:path';
import type { Metafile, Plugin } from 'esbuild';
import { lazyExports } from './lazyExports.js';

/** What client-node 2.0.1's dist/config.js imports from './gen/index.js', and the file in dist/gen/ defining each. */
export const SLIM_GEN_INDEX: Readonly<Record<string, string>> = {
  createConfiguration: './configuration.js',
  ServerConfiguration: './servers.js',
};

/** What config.js imports from the SOCKS packages, given to it on first use. */
export const LAZY_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  'socks-proxy-agent': ['SocksProxyAgent'],
  socks: ['SocksClient'],
};

/** The importer whose './gen/index.js' is redirected. */
export const CONFIG_JS = join('@kubernetes', 'client-node', 'dist', 'config.js');

/** The slim module's source: SLIM_GEN_INDEX's names, each from its own file. */
export const slimGenIndexSource = (): string =>
  Object.entries(SLIM_GEN_INDEX)
    .map(([name, file]) => `export { ${name} } from ${JSON.stringify(file)};`)
    .join('\n');

export const slimGenIndex: Plugin = {
  name: 'client-node-slim-gen-index',
  setup(b) {
    b.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) => {
      if (!args.importer.endsWith(sep + CONFIG_JS)) return undefined;
      return { path: join(dirname(args.importer), 'gen', 'hermod-slim-index.js'), namespace: 'hermod-slim-gen' };
    });
    b.onLoad({ filter: /.*/, namespace: 'hermod-slim-gen' }, (args) => ({ contents: slimGenIndexSource(), resolveDir: dirname(args.path), loader: 'js' }));
    const lazy = new RegExp(`^(${Object.keys(LAZY_IMPORTS).map((s) => s.replace(/[-/]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter: lazy }, (args) => {
      if (!args.importer.endsWith(sep + CONFIG_JS)) return undefined;
      return { path: args.path, namespace: 'hermod-lazy-import', pluginData: { resolveDir: dirname(args.importer) } };
    });
    // The module's own require() of the package resolves as usual (its importer is not config.js).
    b.onLoad({ filter: /.*/, namespace: 'hermod-lazy-import' }, (args) => ({
      contents: ["'use strict';", ...lazyExports(args.path, LAZY_IMPORTS[args.path]!)].join('\n'),
      resolveDir: (args.pluginData as { resolveDir: string }).resolveDir,
      loader: 'js',
    }));
  },
};

/**
 * The client-node generated models and API classes an entry loads when imported: the inputs of
 * its output file and of every chunk it imports statically (dynamic imports are loaded only when
 * called). Empty for `hermod run`, or the build fails.
 */
export function genModulesLoadedBy(metafile: Metafile, entryOutput: string): string[] {
  const seen = new Set<string>();
  const found = new Set<string>();
  const visit = (output: string): void => {
    if (seen.has(output)) return;
    seen.add(output);
    const out = metafile.outputs[output];
    if (out === undefined) throw new Error(`no output ${output} in the metafile`);
    for (const input of Object.keys(out.inputs)) {
      if (/client-node\/dist\/gen\/(models|apis|types)\//.test(input) && !input.endsWith('/gen/apis/exception.js')) found.add(input);
    }
    for (const imp of out.imports) if (imp.kind === 'import-statement' && !imp.external) visit(imp.path);
  };
  visit(entryOutput);
  return [...found].sort();
}
