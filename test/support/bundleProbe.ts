/**
 * For the tests of the build's plugins (scripts/clientNodeSlim.ts, scripts/undiciSlim.ts): bundle a
 * snippet as the build does and import it, and see whether a package's own code ran.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

/**
 * An esbuild plugin that makes each bundled file `matches` accepts set `globalThis[flag]` when it
 * runs; `ran(flag)` reads it (`forget(flag)` clears it before a bundle is imported).
 */
export function markRuns(flag: string, matches: (path: string) => boolean): Plugin {
  return {
    name: `mark-${flag}`,
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, (args) => {
        if (args.namespace !== 'file' || !matches(args.path)) return undefined;
        return { contents: `globalThis[${JSON.stringify(flag)}] = true;\n${readFileSync(args.path, 'utf8')}`, loader: 'js' };
      });
    },
  };
}

export const ran = (flag: string): boolean => (globalThis as Record<string, unknown>)[flag] === true;
export const forget = (flag: string): void => void delete (globalThis as Record<string, unknown>)[flag];

/** Bundles `source` (ESM, resolved from the repository) with `plugins` as the build does, and imports the result. */
export async function bundleAndImport<T = Record<string, unknown>>(source: string, plugins: Plugin[]): Promise<T> {
  const out = await build({
    stdin: { contents: source, resolveDir: process.cwd(), loader: 'js' },
    bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'silent', plugins,
    // As scripts/build.ts: bundled CommonJS calls require().
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  // A file, not a data: URL: the bundle's require() needs a file URL to resolve node: modules from.
  const dir = await mkdtemp(join(tmpdir(), 'hermod-bundle-probe-'));
  const file = join(dir, 'bundle.mjs');
  await writeFile(file, out.outputFiles[0]!.text);
  try {
    return (await import(pathToFileURL(file).href)) as T;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
