/**
 * Where the tests find helm and helm-unittest: the lookup scripts/setup-test-env.sh uses when
 * it decides whether to build them, with the versions of scripts/test-tools.env.
 *
 * helm: $HELM when set (taken as given); else the build in the tools cache,
 * ${HERMOD_CACHE_DIR:-~/.cache/hermod}/tools/helm-<version>/helm; else a `helm` on PATH whose
 * version is exactly the approved one. Any other helm (the v3.22 an older setup put in
 * ~/go/bin, say) is not taken. helm-unittest: $HELM_UNITTEST when set, else the tools cache,
 * .../tools/helm-unittest-<version>/helm-unittest.
 *
 * When a tool is missing the result says why, for the test's skip reason: the setup script's
 * own words when its build failed (it leaves them in <dir>/build-failed.txt), else what to run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** scripts/test-tools.env: KEY=value lines, # comments. */
export function toolVersions(text = readFileSync(join(root, 'scripts/test-tools.env'), 'utf8')): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(\S+)\s*$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

const versions = toolVersions();
function version(key: string): string {
  const v = versions[key];
  if (!v) throw new Error(`scripts/test-tools.env has no ${key}`);
  return v;
}
export const HELM_VERSION = version('HELM_VERSION');
export const HELM_UNITTEST_VERSION = version('HELM_UNITTEST_VERSION');

export const toolsDir = join(process.env['HERMOD_CACHE_DIR'] || join(homedir(), '.cache', 'hermod'), 'tools');

export type Found =
  | { readonly path: string; readonly version: string; readonly skip?: undefined }
  | { readonly path?: undefined; readonly version?: undefined; readonly skip: string };

/** The version a helm binary reports, or undefined when it does not run. */
function helmVersion(path: string): string | undefined {
  const out = spawnSync(path, ['version', '--template', '{{.Version}}'], { encoding: 'utf8' });
  return out.error || out.status !== 0 ? undefined : out.stdout.trim();
}

/** What the setup script said when it could not build a tool, or what to run. */
function missing(name: string, want: string, dir: string, also = ''): string {
  const failed = join(dir, 'build-failed.txt');
  if (existsSync(failed)) return `${name} ${want} could not be built by scripts/setup-test-env.sh: ${readFileSync(failed, 'utf8').trim().replace(/\s*\n\s*/g, ' | ')}`;
  return `${name} ${want} not found at ${dir}${also}: run bash scripts/setup-test-env.sh`;
}

export function findHelm(): Found {
  const given = process.env['HELM'];
  if (given) {
    const v = helmVersion(given);
    return v === undefined ? { skip: `HELM=${given} does not run` } : { path: given, version: v };
  }
  const dir = join(toolsDir, `helm-${HELM_VERSION}`);
  const cached = join(dir, 'helm');
  const v = helmVersion(cached);
  if (v !== undefined) return { path: cached, version: v };
  const onPath = helmVersion('helm');
  if (onPath === HELM_VERSION) return { path: 'helm', version: onPath };
  return { skip: missing('helm', HELM_VERSION, dir, onPath === undefined ? ' (HELM unset, none on PATH)' : ` (HELM unset; the helm on PATH is ${onPath}, not the approved version)`) };
}

export function findHelmUnittest(): Found {
  const given = process.env['HELM_UNITTEST'];
  const dir = join(toolsDir, `helm-unittest-${HELM_UNITTEST_VERSION}`);
  const path = given || join(dir, 'helm-unittest');
  const out = spawnSync(path, ['--help'], { encoding: 'utf8' });
  if (!out.error && out.status === 0) return { path, version: given ? 'as given by HELM_UNITTEST' : HELM_UNITTEST_VERSION };
  return { skip: given ? `HELM_UNITTEST=${given} does not run` : missing('helm-unittest', HELM_UNITTEST_VERSION, dir) };
}
