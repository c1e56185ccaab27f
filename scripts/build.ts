/**
 * `npm run build`: the production CLI in dist/, bundled by esbuild (docs/adr/0008, "the bundle").
 *
 * Every dependency is bundled but the few loaded only when a feature needs them (EXTERNAL):
 * client-node's 2,742 files (one per generated model, loaded even for the kubeconfig loader)
 * become one chunk, which roughly halves what importing `hermod run` costs, and bundling
 * @slack/web-api, prom-client, undici, xstate, cac and pino too took another quarter off the
 * import's wall time (docs/adr/0007, "The import floor"). @sentry/node stays in node_modules
 * (run.ts imports it dynamically, only when SENTRY_ENDPOINT is set, and its instrumentation
 * hooks modules as Node loads them), as do @statelyai/inspect (`--inspect` only) and pino-pretty
 * (`--log-format text` only, required on first use by src/io/logger.ts).
 *
 * client-node's generated models and API classes stay out of `hermod run`: its config.js gets a
 * slim generated index (./clientNodeSlim.ts explains why and what breaks when client-node
 * changes), and the build fails if run.js or a chunk it imports still holds any of them. The
 * SOCKS packages config.js imports (./clientNodeSlim.ts) and the parts of undici Hermod does not
 * use at start (./undiciSlim.ts) are bundled but loaded on first use.
 *
 * Each command is an entry point at the path tsc gave it (dist/src/io/commands/<command>.js), so
 * package.json "bin", the image's entrypoint and `hermod demo`'s path to demo/ are unchanged;
 * code shared between commands goes to dist/chunks/. Source maps point at src/ (used when
 * SENTRY_ENDPOINT is set, see src/io/commands/cli.ts, or with --enable-source-maps).
 * Typechecking is `npm run typecheck`, not the build's job.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { genModulesLoadedBy, slimGenIndex } from './clientNodeSlim.js';
import { checkDirect, lazyUndici } from './undiciSlim.js';

/** The dependencies loaded from node_modules, each only when a feature needs it (@slack/types is types only); the rest are bundled. */
const EXTERNAL = ['@sentry/node', '@statelyai/inspect', 'pino-pretty', '@slack/types'];

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
const bundled = Object.keys(pkg.dependencies).filter((name) => !EXTERNAL.includes(name));
const external = Object.keys(pkg.dependencies).filter((name) => EXTERNAL.includes(name));

checkDirect();
rmSync('dist', { recursive: true, force: true });
const result = await build({
  entryPoints: ['cli', 'run', 'check', 'notifySlack', 'demo'].map((command) => `src/io/commands/${command}.ts`),
  outbase: '.',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: true,
  // Subpaths too: marking `@sentry/node` external marks `@sentry/node/preload` as well.
  external,
  // Bundled CommonJS (client-node's socks, form-data, ws ...) calls require(): give ESM one.
  banner: { js: "import { createRequire as __hermodCreateRequire } from 'node:module'; const require = __hermodCreateRequire(import.meta.url);" },
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
  plugins: [slimGenIndex, lazyUndici],
});
// HERMOD_BUILD_METAFILE=FILE keeps esbuild's metafile (what each output holds), e.g. for esbuild's analyzer.
if (process.env['HERMOD_BUILD_METAFILE']) writeFileSync(process.env['HERMOD_BUILD_METAFILE'], JSON.stringify(result.metafile));
const genInRun = genModulesLoadedBy(result.metafile, 'dist/src/io/commands/run.js');
if (genInRun.length > 0) {
  console.error(`hermod run loads ${genInRun.length} of client-node's generated modules, e.g. ${genInRun.slice(0, 5).join(', ')}: see scripts/clientNodeSlim.ts`);
  process.exit(1);
}
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
const bytes = outputs.reduce((sum, [, out]) => sum + out.bytes, 0);
console.log(`dist/: ${outputs.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB of JavaScript (bundled: ${bundled.join(', ')}; external: ${external.join(', ')})`);
