/**
 * What a Hermod under test has saved in its state ConfigMap (ADR 0005/0006), read back from the
 * real API server by the restart tests.
 */
import type { PersistedState } from '../../src/actors/journal.js';
import { decodeState } from '../../src/io/kube/stateEncoding.js';
import type { TestCluster } from './cluster.js';

/** The persisted state in ConfigMap hermod-state of `namespace`, or undefined before the first save. */
export async function savedState(cluster: TestCluster, namespace: string): Promise<PersistedState | undefined> {
  const res = await cluster.request<{ data?: Record<string, string>; binaryData?: Record<string, string> }>(
    'GET',
    `/api/v1/namespaces/${namespace}/configmaps/hermod-state`,
  );
  if (res.status === 404) return undefined;
  const text = decodeState(res.body);
  return text === undefined ? undefined : (JSON.parse(text) as PersistedState);
}

/**
 * Where the saved state says rollout `rolloutId`'s message is: in its channel's record, or still
 * in the journal's binding (written before the channel actor saw Slack's answer; a restart merges
 * both the same way, and no later write may come to copy a binding into the record before it).
 */
export function savedMessage(state: PersistedState | undefined, rolloutId: string): { ts: string | null } | undefined {
  const places = [...(state?.channels.flatMap((c) => c.rollouts) ?? []), ...(state?.journal?.bindings ?? [])];
  return places.find((r) => r.rolloutId === rolloutId && r.ts !== null);
}
