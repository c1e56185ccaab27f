/**
 * The build's lazy index of undici (scripts/undiciSlim.ts): in the bundle, `undici` gives what
 * `hermod run` uses from the same files as undici's own index, each file loaded on first use, and
 * every other name on first use, by loading the real index then. Reads the installed undici, so an upgrade that
 * moves a file or an export fails here (and in the build), naming it.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { checkDirect, DIRECT, lazyIndexSource, lazyUndici } from '../../scripts/undiciSlim.js';
import { bundleAndImport, forget, markRuns, ran } from '../support/bundleProbe.js';

const require = createRequire(import.meta.url);
const REAL_INDEX = require.resolve('undici');

/** Set when undici's real index.js runs in a bundle. */
const REAL_INDEX_RAN = '__realUndiciIndexRan';
const markRealIndex = markRuns(REAL_INDEX_RAN, (path) => path === REAL_INDEX);
/** Set when undici's fetch (lib/web/fetch/index.js, a DIRECT file) runs in a bundle. */
const FETCH_RAN = '__undiciFetchRan';
const FETCH_FILE = require.resolve(DIRECT['fetch']![0]);
const markFetch = markRuns(FETCH_RAN, (path) => path === FETCH_FILE);

describe("the lazy undici index of the bundle (scripts/undiciSlim.ts)", () => {
  it("each direct name is the installed undici's own, from the file DIRECT names; a wrong file or export fails the check", () => {
    assert.doesNotThrow(() => checkDirect());
    assert.throws(() => checkDirect({ Client: ['undici/lib/dispatcher/pool.js', null] }), /undici's Client is not undici\/lib\/dispatcher\/pool\.js's module/);
    assert.throws(() => checkDirect({ Agent: ['undici/lib/no-such-file.js', null] }), /undici's Agent: undici\/lib\/no-such-file\.js cannot be loaded/);
  });

  it('offers every name the real index exports', () => {
    const source = lazyIndexSource();
    for (const name of Object.keys(require('undici') as object)) assert.ok(source.includes(JSON.stringify(name)) || name in DIRECT, `${name} missing`);
  });

  it('in a bundle, the direct names and the request API work without running the real index; a direct file runs on first use of its name; another name runs the real index', async () => {
    forget(REAL_INDEX_RAN);
    forget(FETCH_RAN);
    const { get } = await bundleAndImport<{ get: (name: string) => unknown }>("import * as undici from 'undici'; export const get = (name) => undici[name];", [lazyUndici, markRealIndex, markFetch]);
    assert.equal(ran(FETCH_RAN), false, 'fetch has not run at import');
    assert.equal(typeof get('fetch'), 'function');
    assert.equal(ran(FETCH_RAN), true, 'reading fetch runs its file');
    for (const name of Object.keys(DIRECT)) assert.ok(get(name) !== undefined, name);
    const Dispatcher = get('Dispatcher') as { prototype: Record<string, unknown> };
    assert.equal(typeof Dispatcher.prototype['request'], 'function', 'the request API is on Dispatcher.prototype');
    assert.equal(ran(REAL_INDEX_RAN), false, 'the real index has not run');
    assert.equal(typeof get('MockAgent'), 'function');
    assert.equal(ran(REAL_INDEX_RAN), true, 'a name outside DIRECT loads the real index');
  });

  it('control: without the plugin the bundle runs the real index at import', async () => {
    forget(REAL_INDEX_RAN);
    await bundleAndImport("import * as undici from 'undici'; export const c = undici.Client;", [markRealIndex]);
    assert.equal(ran(REAL_INDEX_RAN), true);
  });
});
