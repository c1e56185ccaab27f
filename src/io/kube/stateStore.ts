/**
 * Restart-safe Slack delivery: the delivery snapshot (which Slack message shows which rollout)
 * kept in one ConfigMap in Hermod's OWN namespace, so a restarted Hermod edits the message of
 * an in-flight rollout instead of posting a second one. Never written anywhere else: users'
 * workloads stay untouched (see docs/adr/0005-restart-safe-delivery.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import type { DeliverySnapshot } from '../../actors/delivery/index.js';
import { FINAL_PHASES } from '../../machines/notification.js';
import type { Logger } from '../../actors/logger.js';
import { KubeObjectClient, statusOf } from './objects.js';
import { decodeState, encodeState, PLAIN_MAX_BYTES, STATE_GZ_KEY, STATE_KEY, type EncodedState } from './stateEncoding.js';

/** The ConfigMap's name; example/role.yaml and the chart grant get/update on this name only. */
export const DEFAULT_STATE_NAME = 'hermod-state';
/** Well under the 1 MiB ConfigMap limit (which counts every key, and metadata besides); the size as stored (./stateEncoding.ts). */
export const MAX_STATE_BYTES = 512 * 1024;
/**
 * What the bindings of in-flight rollouts may take beyond MAX_STATE_BYTES: they are dropped
 * only past this, the most a ConfigMap can hold with room for its metadata (issue 9: never
 * drop the binding of an in-flight rollout while it can be kept).
 */
export const HARD_MAX_STATE_BYTES = 960 * 1024;
/** Where a Pod finds its own namespace. */
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface StateStore {
  readonly namespace: string;
  readonly name: string;
  /** The saved snapshot; undefined when there is none or it cannot be used (logged, never thrown). */
  load(): Promise<DeliverySnapshot | undefined>;
  /**
   * Create or replace the ConfigMap, unfenced (last write wins). `hermod run` never uses it
   * (it writes through `write`, fenced, see ADR 0006); kept for tools and tests. Rejects on API errors.
   */
  save(snapshot: DeliverySnapshot): Promise<void>;
  /**
   * The saved snapshot (undefined when absent or unusable, logged) and the resourceVersion the
   * next fenced write must carry (null: no ConfigMap yet). Rejects on API errors other than 404.
   */
  read(): Promise<StoredState>;
  /**
   * A fenced write: update the ConfigMap only if it is still at `resourceVersion`, or create it
   * only if absent (null). `fenced` when someone else wrote it since (409, or gone): the caller
   * is no longer the writer and must stop, never retry blindly. Rejects on other API errors,
   * after checking whether the write landed anyway (then it resolves `written`).
   */
  write(snapshot: DeliverySnapshot, resourceVersion: string | null): Promise<WriteResult>;
}

export interface StoredState {
  snapshot: DeliverySnapshot | undefined;
  resourceVersion: string | null;
}

export type WriteResult = { kind: 'written'; resourceVersion: string } | { kind: 'fenced'; reason: string };

export interface StateStoreOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name?: string;
  logger: Logger;
  /** Size cap of the stored JSON in bytes (default MAX_STATE_BYTES). */
  maxBytes?: number;
}

/**
 * The namespace to keep state in: the configured one, else POD_NAMESPACE (the downward API),
 * else the in-cluster service account's namespace file; null when none (persistence off).
 */
export function stateNamespace(
  configured: string | null,
  env: NodeJS.ProcessEnv = process.env,
  namespaceFile: string = SERVICE_ACCOUNT_NAMESPACE_FILE,
): string | null {
  if (configured !== null && configured !== '') return configured;
  const fromEnv = env['POD_NAMESPACE']?.trim();
  if (fromEnv) return fromEnv;
  if (!existsSync(namespaceFile)) return null;
  const fromFile = readFileSync(namespaceFile, 'utf8').trim();
  return fromFile === '' ? null : fromFile;
}

/** A usable snapshot from stored JSON, or the reason it is not usable. */
export function parseSnapshot(text: string): { snapshot: DeliverySnapshot } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problem: `not JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null) return { problem: 'not an object' };
  const record = value as { version?: unknown; channels?: unknown };
  if (record.version !== 1) return { problem: `unknown version ${JSON.stringify(record.version)}` };
  if (!Array.isArray(record.channels)) return { problem: 'channels is not a list' };
  for (const c of record.channels as unknown[]) {
    const ch = c as Record<string, unknown> | null;
    const ok =
      typeof ch === 'object' && ch !== null && typeof ch['channel'] === 'string' &&
      Array.isArray(ch['rollouts']) && Array.isArray(ch['finished']) && Array.isArray(ch['pending']);
    if (!ok) return { problem: 'a channel entry lacks channel, rollouts, finished or pending' };
  }
  return { snapshot: value as DeliverySnapshot };
}

/**
 * The snapshot within `maxBytes` as stored (plain JSON while small, gzip'd beyond
 * `plainMaxBytes`: ./stateEncoding.ts). What Slack shows (channel IDs, message ts) matters
 * most; if too large, drop first the finished lists, then pending progress updates, then all
 * pending work, then records of rollouts that already ended. The records of rollouts still in
 * flight are kept up to `hardMaxBytes`, and only past that are the oldest dropped.
 */
export function fitSnapshot(
  snapshot: DeliverySnapshot,
  maxBytes: number = MAX_STATE_BYTES,
  hardMaxBytes: number = Math.max(maxBytes, HARD_MAX_STATE_BYTES),
  plainMaxBytes: number = PLAIN_MAX_BYTES,
): { json: string; dropped: string[]; encoded: EncodedState } {
  const work = JSON.parse(JSON.stringify(snapshot)) as DeliverySnapshot;
  const dropped: string[] = [];
  let last: { json: string; encoded: EncodedState } | null = null;
  const encoded = () => {
    const json = JSON.stringify(work);
    if (last?.json !== json) last = { json, encoded: encodeState(json, plainMaxBytes) };
    return last;
  };
  const size = () => encoded().encoded.bytes;
  const steps: Array<[string, () => void]> = [
    ['finished', () => work.channels.forEach((c) => (c.finished = []))],
    ['pending progress', () => work.channels.forEach((c) => (c.pending = c.pending.filter((p) => p.final)))],
    ['pending', () => work.channels.forEach((c) => (c.pending = []))],
    ['ended rollouts', () => work.channels.forEach((c) => (c.rollouts = c.rollouts.filter((r) => r.sentPhase === null || !FINAL_PHASES.has(r.sentPhase))))],
  ];
  for (const [what, drop] of steps) {
    if (size() <= maxBytes) break;
    drop();
    dropped.push(what);
  }
  while (size() > hardMaxBytes && work.channels.some((c) => c.rollouts.length > 0)) {
    // Halve the records of every channel, keeping the latest (the delivery appends new ones).
    work.channels.forEach((c) => (c.rollouts = c.rollouts.slice(Math.ceil(c.rollouts.length / 2))));
    if (!dropped.includes('oldest rollouts')) dropped.push('oldest rollouts');
  }
  return { ...encoded(), dropped };
}

/** The ConfigMap holds exactly this JSON (a write whose answer was lost landed). */
const landed = (configMap: V1ConfigMap, json: string): boolean => {
  try {
    return decodeState(configMap) === json;
  } catch {
    return false;
  }
};

/** A ConfigMap-backed StateStore; see the module comment. */
export function createStateStore(options: StateStoreOptions): StateStore {
  const { namespace, logger } = options;
  const name = options.name ?? DEFAULT_STATE_NAME;
  const maxBytes = options.maxBytes ?? MAX_STATE_BYTES;
  const api = new KubeObjectClient(options.kubeConfig);
  const where = { namespace, configMap: name };

  const bodyOf = (encoded: EncodedState, resourceVersion?: string): V1ConfigMap => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name, namespace, labels: { 'app.kubernetes.io/name': 'hermod', 'app.kubernetes.io/component': 'state' },
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    },
    ...(encoded.data !== undefined ? { data: encoded.data } : {}),
    ...(encoded.binaryData !== undefined ? { binaryData: encoded.binaryData } : {}),
  });
  const fit = (snapshot: DeliverySnapshot): { json: string; encoded: EncodedState } => {
    const { json, encoded, dropped } = fitSnapshot(snapshot, maxBytes);
    if (dropped.length > 0) logger.warn({ ...where, dropped, bytes: encoded.bytes }, 'delivery state too large: dropped some of it');
    return { json, encoded };
  };
  /** The ConfigMap, or null when absent. */
  const get = async (): Promise<V1ConfigMap | null> => {
    try {
      return await api.get<V1ConfigMap>(`/api/v1/namespaces/${namespace}/configmaps/${name}`);
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  };

  const read = async (): Promise<StoredState> => {
    const configMap = await get();
    if (configMap === null) {
      logger.info(where, 'no saved delivery state: starting afresh');
      return { snapshot: undefined, resourceVersion: null };
    }
    const resourceVersion = configMap.metadata?.resourceVersion ?? null;
    let text: string | undefined;
    try {
      text = decodeState(configMap);
    } catch (err) {
      logger.warn({ ...where, err }, `saved delivery state's ${STATE_GZ_KEY} cannot be unpacked: ignored`);
      return { snapshot: undefined, resourceVersion };
    }
    if (text === undefined) {
      logger.warn(where, `saved delivery state has neither ${STATE_KEY} nor ${STATE_GZ_KEY}: ignored`);
      return { snapshot: undefined, resourceVersion };
    }
    const parsed = parseSnapshot(text);
    if ('problem' in parsed) {
      logger.warn({ ...where, problem: parsed.problem }, 'saved delivery state is unusable: ignored');
      return { snapshot: undefined, resourceVersion };
    }
    const rollouts = parsed.snapshot.channels.reduce((n, c) => n + c.rollouts.length, 0);
    logger.info({ ...where, channels: parsed.snapshot.channels.length, rollouts }, 'restored delivery state');
    return { snapshot: parsed.snapshot, resourceVersion };
  };

  return {
    namespace,
    name,
    read,
    async load() {
      return (await read()).snapshot;
    },
    async write(snapshot, resourceVersion) {
      const { json, encoded } = fit(snapshot);
      try {
        const written =
          resourceVersion === null
            ? await api.create(`/api/v1/namespaces/${namespace}/configmaps`, bodyOf(encoded))
            : await api.replace(`/api/v1/namespaces/${namespace}/configmaps/${name}`, bodyOf(encoded, resourceVersion));
        const version = written.metadata?.resourceVersion;
        if (version === undefined) throw new Error(`the API server returned ConfigMap ${namespace}/${name} without a resourceVersion`);
        return { kind: 'written', resourceVersion: version };
      } catch (err) {
        const status = statusOf(err);
        if (status === 409) return { kind: 'fenced', reason: resourceVersion === null ? 'created by another writer' : `changed since resourceVersion ${resourceVersion}` };
        if (status === 404) return { kind: 'fenced', reason: 'deleted since it was read' };
        // No answer (a timeout, a reset): the write may have landed. Look before the caller retries
        // with a resourceVersion that would then be stale and fence a writer that did nothing wrong.
        const now = await get().catch(() => undefined);
        const version = now?.metadata?.resourceVersion;
        if (now != null && version !== undefined && version !== resourceVersion && landed(now, json)) return { kind: 'written', resourceVersion: version };
        if (now === null && resourceVersion !== null) return { kind: 'fenced', reason: 'deleted since it was read' };
        if (now != null && version !== resourceVersion) return { kind: 'fenced', reason: `changed since resourceVersion ${resourceVersion ?? '(absent)'}` };
        throw err;
      }
    },
    async save(snapshot) {
      const body = bodyOf(fit(snapshot).encoded);
      try {
        // No resourceVersion: one Hermod writes this, last write wins.
        await api.replace(`/api/v1/namespaces/${namespace}/configmaps/${name}`, body);
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
        await api.create(`/api/v1/namespaces/${namespace}/configmaps`, body);
      }
    },
  };
}
