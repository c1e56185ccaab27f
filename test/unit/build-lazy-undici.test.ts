/**
 * The build's lazy index of undici (scripts/undiciSlim.ts): in the bundle, `undici` gives what
 * `hermod run` uses at once, from the same files as undici's own index, and every other name on
 * first use, by loading the real index then. Reads the installed undici, so an upgrade that
 * moves a file or an export fails here (and in the build), naming it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { build, type Plugin } from 'esbuild';
import { checkEager, EAGER, lazyIndexSource, lazyUndici } from '../../scripts/undiciSlim.js';

const require = createRequire(import.meta.url);
const REAL_INDEX = require.resolve('undici');

/** Marks, in the bundle, when undici's real index.js runs. */
const markRealIndex: Plugin = {
  name: 'mark-real-undici-index',
  setup(b) {
    b.onLoad({ filter: /undici[\\/]index\.js$/ }, async (args) => {
      if (args.path !== REAL_INDEX || args.namespace !== 'file') return undefined;
      return { contents: `globalThis.__realUndiciIndexRan = true;\n${await readFile(args.path, 'utf8')}`, loader: 'js' };
    });
  },
};

/** Bundles `source` (which imports undici) with the given plugins and imports the result. */
async function bundleAndImport(source: string, plugins: Plugin[]): Promise<Record<string, unknown>> {
  const out = await build({
    stdin: { contents: source, resolveDir: process.cwd(), loader: 'js' },
    bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'silent', plugins,
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  // A file, not a data: URL: the bundle's require() needs a file URL to resolve node: modules from.
  const dir = await mkdtemp(join(tmpdir(), 'hermod-lazy-undici-'));
  const file = join(dir, 'bundle.mjs');
  await writeFile(file, out.outputFiles[0]!.text);
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("the lazy undici index of the bundle (scripts/undiciSlim.ts)", () => {
  it("each eager name is the installed undici's own, from the file EAGER names; a wrong file or export fails the check", () => {
    assert.doesNotThrow(() => checkEager());
    assert.throws(() => checkEager({ Client: ['undici/lib/dispatcher/pool.js', null] }), /undici's Client is not undici\/lib\/dispatcher\/pool\.js's module/);
    assert.throws(() => checkEager({ Agent: ['undici/lib/no-such-file.js', null] }), /undici's Agent: undici\/lib\/no-such-file\.js cannot be loaded/);
  });

  it('offers every name the real index exports', () => {
    const source = lazyIndexSource();
    for (const name of Object.keys(require('undici') as object)) assert.ok(source.includes(JSON.stringify(name)) || name in EAGER, `${name} missing`);
  });

  it('in a bundle, the eager names and the request API work without running the real index; another name runs it on first use', async () => {
    delete (globalThis as Record<string, unknown>)['__realUndiciIndexRan'];
    const mod = await bundleAndImport(
      "import * as undici from 'undici'; export const get = (name) => undici[name]; export const ran = () => globalThis.__realUndiciIndexRan === true;",
      [lazyUndici, markRealIndex],
    );
    const get = mod['get'] as (name: string) => unknown;
    const ran = mod['ran'] as () => boolean;
    for (const name of Object.keys(EAGER)) assert.ok(get(name) !== undefined, name);
    const Dispatcher = get('Dispatcher') as { prototype: Record<string, unknown> };
    assert.equal(typeof Dispatcher.prototype['request'], 'function', 'the request API is on Dispatcher.prototype');
    assert.equal(ran(), false, 'the real index has not run');
    assert.equal(typeof get('MockAgent'), 'function');
    assert.equal(ran(), true, 'a name outside EAGER loads the real index');
  });

  it('control: without the plugin the bundle runs the real index at import', async () => {
    delete (globalThis as Record<string, unknown>)['__realUndiciIndexRan'];
    const mod = await bundleAndImport("import * as undici from 'undici'; export const ran = () => globalThis.__realUndiciIndexRan === true; export const c = undici.Client;", [markRealIndex]);
    assert.equal((mod['ran'] as () => boolean)(), true);
  });
});
