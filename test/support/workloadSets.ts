/**
 * StatefulSet and DaemonSet manifests and calls for the integration tests (issue 11), beside
 * the Deployment helpers of ./hermod-harness.ts. Every call goes through the harness's admin API.
 */
import type { V1DaemonSet, V1StatefulSet } from '@kubernetes/client-node';
import { FAILURE_LABEL } from './cluster.js';
import { messageColour, type Harness } from './hermod-harness.js';
import type { StoredMessage } from './slack-server.js';

export type SetKind = 'StatefulSet' | 'DaemonSet';

export interface SetSpec {
  kind: SetKind;
  namespace: string;
  name: string;
  /** StatefulSets only (DaemonSets run one pod per Node). */
  replicas?: number;
  image?: string;
  /** A KWOK failure stage for the pods (`crashloop`, ...). */
  failure?: string;
  /** `RollingUpdate` (default) or `OnDelete`. */
  strategy?: 'RollingUpdate' | 'OnDelete';
  /** StatefulSets: rollingUpdate.partition. */
  partition?: number;
  annotations?: Record<string, string>;
  /** Pod template annotations (`kubectl rollout restart` sets one). */
  templateAnnotations?: Record<string, string>;
  /** Extra container fields, e.g. a privileged securityContext. */
  container?: Record<string, unknown>;
  /** The pod template's nodeSelector (a gate that holds the rollout open: test/support/scenario.ts). */
  nodeSelector?: Record<string, string>;
  /** StatefulSets: `OrderedReady` (the default) or `Parallel`. */
  podManagementPolicy?: 'OrderedReady' | 'Parallel';
  /** DaemonSets: rollingUpdate.maxUnavailable (the API's default is 1). */
  maxUnavailable?: number;
}

const plural = (kind: SetKind): string => (kind === 'StatefulSet' ? 'statefulsets' : 'daemonsets');

export function setPath(kind: SetKind, namespace: string, name?: string): string {
  return `/apis/apps/v1/namespaces/${namespace}/${plural(kind)}${name === undefined ? '' : `/${name}`}`;
}

export function setManifest(spec: SetSpec): Record<string, unknown> {
  const labels = { app: spec.name, ...(spec.failure ? { [FAILURE_LABEL]: spec.failure } : {}) };
  const strategy = spec.strategy ?? 'RollingUpdate';
  const template = {
    metadata: { labels, annotations: spec.templateAnnotations ?? {} },
    spec: {
      containers: [{ name: 'app', image: spec.image ?? 'registry.example/app:1', ...spec.container }],
      ...(spec.nodeSelector !== undefined ? { nodeSelector: spec.nodeSelector } : {}),
    },
  };
  const common = { selector: { matchLabels: { app: spec.name } }, template };
  const body =
    spec.kind === 'StatefulSet'
      ? {
          ...common,
          replicas: spec.replicas ?? 2,
          serviceName: spec.name,
          ...(spec.podManagementPolicy !== undefined ? { podManagementPolicy: spec.podManagementPolicy } : {}),
          updateStrategy: strategy === 'OnDelete' ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { partition: spec.partition ?? 0 } },
        }
      : {
          ...common,
          updateStrategy:
            strategy === 'OnDelete'
              ? { type: 'OnDelete' }
              : { type: 'RollingUpdate', ...(spec.maxUnavailable !== undefined ? { rollingUpdate: { maxUnavailable: spec.maxUnavailable } } : {}) },
        };
  return { apiVersion: 'apps/v1', kind: spec.kind, metadata: { name: spec.name, namespace: spec.namespace, annotations: spec.annotations ?? {} }, spec: body };
}

export async function createSet(h: Harness, spec: SetSpec): Promise<void> {
  await h.api('POST', setPath(spec.kind, spec.namespace), setManifest(spec));
}

/** Replaces the set's spec with that of `spec` (a new template starts a rollout). */
export async function updateSet(h: Harness, spec: SetSpec): Promise<void> {
  await h.api('PUT', setPath(spec.kind, spec.namespace, spec.name), { ...setManifest(spec), metadata: await metadataOf(h, spec) });
}

async function metadataOf(h: Harness, spec: SetSpec): Promise<Record<string, unknown>> {
  const live = await getSet(h, spec.kind, spec.namespace, spec.name);
  return { ...live.metadata, annotations: spec.annotations ?? {} } as Record<string, unknown>;
}

export async function patchSet(h: Harness, kind: SetKind, namespace: string, name: string, patch: Record<string, unknown>): Promise<void> {
  await h.api('PATCH', setPath(kind, namespace, name), patch, 'application/merge-patch+json');
}

export async function deleteSet(h: Harness, kind: SetKind, namespace: string, name: string): Promise<void> {
  await h.api('DELETE', setPath(kind, namespace, name));
}

export function getSet(h: Harness, kind: 'StatefulSet', namespace: string, name: string): Promise<V1StatefulSet>;
export function getSet(h: Harness, kind: 'DaemonSet', namespace: string, name: string): Promise<V1DaemonSet>;
export function getSet(h: Harness, kind: SetKind, namespace: string, name: string): Promise<V1StatefulSet | V1DaemonSet>;
export function getSet(h: Harness, kind: SetKind, namespace: string, name: string): Promise<V1StatefulSet | V1DaemonSet> {
  return h.api<V1StatefulSet | V1DaemonSet>('GET', setPath(kind, namespace, name));
}

/** The messages in `channel` about `kind` `name` (at `revision`, when given). */
export function messagesAbout(h: Harness, channel: string, kind: SetKind, name: string, revision?: number): StoredMessage[] {
  return h.messages(channel).filter((m) => m.text.includes(`${kind} \`${name}\``) && (revision === undefined || m.text.includes(`(revision ${revision})`)));
}

/** Waits (90 s at most) for the message about `kind` `name` at `revision` to show `colour`. */
export function waitForColour(h: Harness, channel: string, kind: SetKind, name: string, revision: number, colour: string): Promise<StoredMessage> {
  return h.waitFor(`${kind} ${name} revision ${revision} to turn ${colour}`, () => messagesAbout(h, channel, kind, name, revision).find((m) => messageColour(m) === colour), 90_000);
}

/** Some version of the message said "failed" (not "is failing"). */
export const everSaidFailed = (m: StoredMessage): boolean => m.history.some((v) => /on `test` failed/.test(v.text));
