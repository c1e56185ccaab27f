/**
 * Where Hermod's cluster credentials come from, in this order:
 *   1. `--kubeconfig PATH` (explicit);
 *   2. `KUBECONFIG`, a list of files separated by ':' (';' on Windows) merged like kubectl
 *      does: missing files are skipped, the first file to define a name wins, the first
 *      current-context wins;
 *   3. in-cluster (service account token) when `KUBERNETES_SERVICE_HOST` is set;
 *   4. `~/.kube/config`.
 * When none applies the error names every place that was tried. The KubeConfig returned shares
 * one connection pool between all its requests (./pooledKubeConfig.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from './clientNode.js';
import { KubeConfigError } from './errors.js';
import { PooledKubeConfig } from './pooledKubeConfig.js';

/** What to do about a KubeConfigError, for the command line (exit 2). */
export const KUBECONFIG_ADVICE =
  '  Give Hermod a cluster: --kubeconfig PATH, or KUBECONFIG, or run it in a Pod with a service account (see docs/deploying.md).';

/** The service account mount kubelet provides to every Pod. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadKubeConfigOptions {
  /** Environment to read KUBECONFIG and KUBERNETES_SERVICE_HOST from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Home directory for ~/.kube/config. Default os.homedir(). */
  homeDir?: string;
  /** Prefix of the service account mount (tests). Default '' (the real mount). */
  inClusterPrefix?: string;
}

/**
 * HTTP/2 to the API server unless `DISABLE_HTTP2` is set to anything (client-go's switch, for
 * a load balancer in front of the API server that mishandles HTTP/2): then one HTTP/1.1
 * connection per concurrent request, as before.
 */
function http2Wanted(env: NodeJS.ProcessEnv): boolean {
  return (env.DISABLE_HTTP2 ?? '') === '';
}

/**
 * Loads the kubeconfig Hermod uses.
 * @param path the `--kubeconfig` flag; empty or undefined = look elsewhere.
 * @throws KubeConfigError naming what was tried, or why the file found is unusable.
 */
export function loadKubeConfig(path?: string, options: LoadKubeConfigOptions = {}): PooledKubeConfig {
  const env = options.env ?? process.env;
  const tried: string[] = [];

  if (path !== undefined && path.trim() !== '') {
    if (!existsSync(path)) throw new KubeConfigError(`--kubeconfig ${path}: file does not exist`);
    return validated(loadFiles([path], env), `--kubeconfig ${path}`);
  }
  tried.push('--kubeconfig (not given)');

  const list = env.KUBECONFIG;
  if (list !== undefined && list.trim() !== '') {
    const files = list.split(delimiter).filter((f) => f.trim() !== '');
    const present = files.filter((f) => existsSync(f) && statSync(f).isFile() && statSync(f).size > 0);
    if (present.length === 0) {
      throw new KubeConfigError(`KUBECONFIG=${list}: none of these files exists or has content`);
    }
    return validated(loadFiles(present, env), `KUBECONFIG=${list}`);
  }
  tried.push('KUBECONFIG (not set)');

  const host = env.KUBERNETES_SERVICE_HOST;
  if (host !== undefined && host !== '') {
    const prefix = options.inClusterPrefix ?? '';
    const token = `${prefix}${SERVICE_ACCOUNT_DIR}/token`;
    if (!existsSync(token)) {
      throw new KubeConfigError(
        `in-cluster config: KUBERNETES_SERVICE_HOST is set but the service account token ${token} does not exist ` +
          '(is automountServiceAccountToken disabled?)',
      );
    }
    const kc = new PooledKubeConfig({ http2: http2Wanted(env) });
    // client-node reads the token file on every request, so rotated (bound) tokens are picked up.
    kc.loadFromCluster(prefix);
    return validated(kc, 'in-cluster config');
  }
  tried.push('in-cluster (KUBERNETES_SERVICE_HOST not set)');

  const home = options.homeDir ?? safeHomedir();
  if (home) {
    const file = join(home, '.kube', 'config');
    if (existsSync(file)) return validated(loadFiles([file], env), file);
    tried.push(`${file} (does not exist)`);
  } else {
    tried.push('~/.kube/config (no home directory)');
  }

  throw new KubeConfigError(`no Kubernetes configuration found; tried: ${tried.join('; ')}`);
}

/** Loads and merges kubeconfig files with kubectl's rules (first definition of a name wins). */
function loadFiles(files: readonly string[], env: NodeJS.ProcessEnv): PooledKubeConfig {
  const merged = new PooledKubeConfig({ http2: http2Wanted(env) });
  let first = true;
  for (const file of files) {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new KubeConfigError(`${file}: cannot be read as a kubeconfig: ${(err as Error).message}`);
    }
    if (first) {
      merged.loadFromOptions({
        clusters: kc.clusters,
        users: kc.users,
        contexts: kc.contexts,
        currentContext: kc.currentContext,
      });
      first = false;
      continue;
    }
    if (!merged.currentContext && kc.currentContext) merged.setCurrentContext(kc.currentContext);
    for (const c of kc.clusters) if (!merged.getCluster(c.name)) merged.addCluster(c);
    for (const u of kc.users) if (!merged.getUser(u.name)) merged.addUser(u);
    for (const x of kc.contexts) if (!merged.getContextObject(x.name)) merged.addContext(x);
  }
  return merged;
}

function validated(kc: PooledKubeConfig, source: string): PooledKubeConfig {
  if (!kc.currentContext) throw new KubeConfigError(`${source}: no current-context is set`);
  if (!kc.getContextObject(kc.currentContext)) {
    throw new KubeConfigError(`${source}: current-context "${kc.currentContext}" is not defined`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeConfigError(`${source}: context "${kc.currentContext}" names no known cluster`);
  if (!cluster.server) throw new KubeConfigError(`${source}: cluster "${cluster.name}" has no server`);
  return kc;
}

function safeHomedir(): string | undefined {
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}
