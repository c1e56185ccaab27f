/**
 * The build's slim generated index for client-node's config.js (scripts/clientNodeSlim.ts): it
 * must export every name config.js imports from './gen/index.js', each from a file that defines
 * it, or `hermod run`'s bundle breaks (or, without the redirect, loads every model again). Reads
 * the installed client-node, so an upgrade that changes config.js's import fails here, loudly.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { build } from 'esbuild';
import { genModulesLoadedBy, LAZY_IMPORTS, SLIM_GEN_INDEX, slimGenIndex, slimGenIndexSource } from '../../scripts/clientNodeSlim.js';
import { bundleAndImport, forget, markRuns, ran } from '../support/bundleProbe.js';

const require = createRequire(import.meta.url);
const DIST = dirname(require.resolve('@kubernetes/client-node'));
const GEN = join(DIST, 'gen');

/** The names config.js imports from `specifier` (null when it no longer imports it). */
function configImports(specifier: string): string[] | null {
  const source = readFileSync(join(DIST, 'config.js'), 'utf8');
  const quoted = specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const m = new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*['"]${quoted}['"]`).exec(source);
  if (m === null) return null;
  return m[1]!.split(',').map((s) => s.trim().split(/\s+as\s+/)[0]!).filter((s) => s !== '').sort();
}

describe('the slim generated index for client-node config.js (scripts/clientNodeSlim.ts)', () => {
  it('config.js still imports ./gen/index.js, and exactly the names the slim index has', () => {
    const names = configImports('./gen/index.js');
    assert.notEqual(names, null, "client-node's dist/config.js no longer imports './gen/index.js': update scripts/clientNodeSlim.ts");
    assert.deepEqual(names, Object.keys(SLIM_GEN_INDEX).sort(), 'config.js imports other names from ./gen/index.js: update SLIM_GEN_INDEX');
  });

  it('each slim export is defined by the file it is taken from, as the real index has it', async () => {
    const real = (await import(pathToFileURL(join(GEN, 'index.js')).href)) as Record<string, unknown>;
    for (const [name, file] of Object.entries(SLIM_GEN_INDEX)) {
      const mod = (await import(pathToFileURL(join(GEN, file)).href)) as Record<string, unknown>;
      assert.equal(typeof mod[name], 'function', `${file} exports ${name}`);
      assert.equal(mod[name], real[name], `${name} in ${file} is the index's`);
    }
    assert.equal(slimGenIndexSource().split('\n').length, Object.keys(SLIM_GEN_INDEX).length);
  });

  it('a bundle of the KubeConfig with the plugin has no generated model, and without it has them', async () => {
    const bundle = async (plugins: (typeof slimGenIndex)[]) =>
      build({
        stdin: { contents: "export { KubeConfig } from '@kubernetes/client-node/dist/config.js';", resolveDir: process.cwd(), loader: 'js' },
        bundle: true, write: false, format: 'esm', platform: 'node', outfile: 'out/k.js', metafile: true, logLevel: 'silent', plugins,
      });
    const slim = await bundle([slimGenIndex]);
    assert.deepEqual(genModulesLoadedBy(slim.metafile, 'out/k.js'), []);
    const full = await bundle([]);
    assert.ok(genModulesLoadedBy(full.metafile, 'out/k.js').length > 100, 'control: without the plugin the models are in');
  });
});

/** Set when the SOCKS packages' own code runs in a bundle. */
const SOCKS_RAN = '__socksRan';
const markSocks = markRuns(SOCKS_RAN, (path) => /node_modules[\\/](socks|socks-proxy-agent)[\\/]/.test(path));

describe('the SOCKS packages config.js imports, loaded on first use (scripts/clientNodeSlim.ts)', () => {
  it('config.js imports exactly the names LAZY_IMPORTS gives, and each package exports them', () => {
    for (const [specifier, names] of Object.entries(LAZY_IMPORTS)) {
      assert.deepEqual(configImports(specifier), [...names].sort(), `config.js's import from ${specifier}: update LAZY_IMPORTS`);
      const real = require(specifier) as Record<string, unknown>;
      for (const name of names) assert.equal(typeof real[name], 'function', `${specifier} exports ${name}`);
    }
  });

  it('a bundle of the KubeConfig runs no SOCKS code at import, and loads it for a socks5 proxy-url', async () => {
    forget(SOCKS_RAN);
    const mod = await bundleAndImport<{ KubeConfig: new () => unknown }>("export { KubeConfig } from '@kubernetes/client-node/dist/config.js';", [slimGenIndex, markSocks]);
    assert.equal(typeof mod.KubeConfig, 'function');
    assert.equal(ran(SOCKS_RAN), false, 'no SOCKS code ran at import');
    // A socks5 proxy-url makes client-node build its SOCKS agent: the lazy name loads the package.
    const kc = new mod.KubeConfig() as { loadFromOptions(o: unknown): void; createAgent(c: unknown, a: unknown): { constructor: { name: string } }; getCurrentCluster(): unknown };
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', proxyUrl: 'socks5://127.0.0.1:1080', skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const agent = kc.createAgent(kc.getCurrentCluster(), {});
    assert.equal(agent.constructor.name, 'SocksProxyAgent');
    assert.equal(ran(SOCKS_RAN), true, 'a socks5 proxy-url loads the SOCKS packages');
  });
});

describe('where src/ imports client-node from', () => {
  it('values only through src/io/kube/clientNode.ts (deep paths) and `hermod check`; types anywhere', () => {
    const files = (readdirSync('src', { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join('src', f));
    const offenders: string[] = [];
    for (const file of files) {
      const code = readFileSync(file, 'utf8');
      for (const m of code.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s*['"](@kubernetes\/client-node[^'"]*)['"]/gm)) {
        if (m[2] !== undefined) continue; // `import type`: erased
        const allowed = file === join('src', 'io', 'kube', 'clientNode.ts') ? m[3] !== '@kubernetes/client-node' : file === join('src', 'io', 'commands', 'check.ts');
        if (!allowed) offenders.push(`${file}: ${m[0].replace(/\s+/g, ' ')}`);
      }
    }
    assert.deepEqual(offenders, [], 'import client-node values through src/io/kube/clientNode.ts');
    assert.ok(files.includes(join('src', 'io', 'kube', 'clientNode.ts')), 'control: the scan sees clientNode.ts');
  });
});
