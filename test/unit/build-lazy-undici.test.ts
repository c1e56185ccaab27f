/**
 * The build's lazy index of undici (scripts/undiciSlim.ts): in the bundle, `undici` gives what
 * `hermod run` uses at once, from the same files as undici's own index, and every other name on
 * first use, by loading the real index then. Reads the installed undici, so an upgrade that
 * moves a file or an export fails here (and in the build), naming it.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { checkEager, EAGER, lazyIndexSource, lazyUndici } from '../../scripts/undiciSlim.js';
import { bundleAndImport, forget, markRuns, ran } from '../support/bundleProbe.js';

const require = createRequire(import.meta.url);
const REAL_INDEX = require.resolve('undici');

/** Set when undici's real index.js runs in a bundle. */
const REAL_INDEX_RAN = '__realUndiciIndexRan';
const markRealIndex = markRuns(REAL_INDEX_RAN, (path) => path === REAL_INDEX);

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
    forget(REAL_INDEX_RAN);
    const { get } = await bundleAndImport<{ get: (name: string) => unknown }>("import * as undici from 'undici'; export const get = (name) => undici[name];", [lazyUndici, markRealIndex]);
    for (const name of Object.keys(EAGER)) assert.ok(get(name) !== undefined, name);
    const Dispatcher = get('Dispatcher') as { prototype: Record<string, unknown> };
    assert.equal(typeof Dispatcher.prototype['request'], 'function', 'the request API is on Dispatcher.prototype');
    assert.equal(ran(REAL_INDEX_RAN), false, 'the real index has not run');
    assert.equal(typeof get('MockAgent'), 'function');
    assert.equal(ran(REAL_INDEX_RAN), true, 'a name outside EAGER loads the real index');
  });

  it('control: without the plugin the bundle runs the real index at import', async () => {
    forget(REAL_INDEX_RAN);
    await bundleAndImport("import * as undici from 'undici'; export const c = undici.Client;", [markRealIndex]);
    assert.equal(ran(REAL_INDEX_RAN), true);
  });
});
