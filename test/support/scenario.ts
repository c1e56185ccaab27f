/**
 * What the behaviour scenarios and the demo share on top of the harness: the colours Hermod
 * uses, kubectl's rollout verbs done through the API the way kubectl does them, a gate that
 * holds a rollout open, the controller's verdict read as kubectl reads it, and metric sums.
 */
import assert from 'node:assert/strict';
import { trimDeployment } from '../../src/io/kube/trim.js';
import { PHASE_COLOURS } from '../../src/machines/message.js';
import { rolloutStatus, type RolloutState } from '../../src/machines/rollout.js';
import { messageColour, type Harness } from './hermod-harness.js';
import type { MessageVersion, StoredMessage } from './slack-server.js';

export const ORANGE = PHASE_COLOURS.progressing;
export const GREEN = PHASE_COLOURS.succeeded;
export const RED = PHASE_COLOURS.failed;
export const GREY = PHASE_COLOURS.superseded;

export { REVISION_ANNOTATION } from '../../src/machines/annotations.js';
import { REVISION_ANNOTATION } from '../../src/machines/annotations.js';

/** The controller's verdict on a Deployment, read the way `kubectl rollout status` reads it. */
export async function controllerState(h: Harness, namespace: string, name: string): Promise<RolloutState> {
  return rolloutStatus(trimDeployment(await h.getDeployment(namespace, name))).state;
}

/** Every version of a message, colour and text, for assertion messages. */
export function dump(m: StoredMessage | undefined): string {
  return JSON.stringify(m?.history.map((v) => ({ colour: messageColour(v), text: v.text })) ?? null);
}

/** Every version of every message and thread reply in every channel. */
export function everyVersion(h: Harness): Array<{ channel: string; version: MessageVersion }> {
  const out: Array<{ channel: string; version: MessageVersion }> = [];
  for (const channel of h.slack.channels.list()) {
    for (const message of h.messages(channel.id)) {
      for (const m of [message, ...message.replies]) for (const version of m.history) out.push({ channel: channel.name, version });
    }
  }
  return out;
}

// ---- a gate that holds a rollout open: Pods select a Node label that no Node has yet ----

export const GATE_PREFIX = 'gate.hermod.test/';

/** A nodeSelector that keeps Pods Pending (not stuck: the rollout stays orange) until `openGate`. */
export function gateSelector(gate: string): Record<string, string> {
  return { [GATE_PREFIX + gate]: 'open' };
}

/** Label every Node with the gate: the Pods held by it get scheduled. */
export async function openGate(h: Harness, gate: string): Promise<void> {
  const nodes = await h.api<{ items: Array<{ metadata: { name: string } }> }>('GET', '/api/v1/nodes');
  for (const node of nodes.items) {
    await h.api('PATCH', `/api/v1/nodes/${node.metadata.name}`, { metadata: { labels: gateSelector(gate) } }, 'application/merge-patch+json');
  }
}

// ---- kubectl's rollout verbs ----

/** Fields of a ReplicaSet that `kubectl rollout undo` reads. */
interface RawReplicaSet {
  metadata: { annotations?: Record<string, string>; ownerReferences?: Array<{ uid: string }> };
  spec: { template: { metadata?: { labels?: Record<string, string> } } & Record<string, unknown> };
}

/** Deployment annotations `kubectl rollout undo` keeps from the Deployment instead of copying from the ReplicaSet. */
const UNDO_SKIPPED_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/**
 * `kubectl rollout undo [--to-revision=N]` through the API, as kubectl does it
 * (k8s.io/kubectl pkg/polymorphichelpers/rollback.go): take the ReplicaSet of the wanted
 * revision (default: the one before the current), drop its pod-template-hash label, and
 * JSON-patch its template and its annotations back into the Deployment. Returns the revision
 * it went back to.
 */
export async function rolloutUndo(h: Harness, namespace: string, name: string, toRevision?: number): Promise<number> {
  const deployment = await h.getDeployment(namespace, name);
  const current = Number(deployment.metadata?.annotations?.[REVISION_ANNOTATION]);
  const list = await h.api<{ items: RawReplicaSet[] }>('GET', `/apis/apps/v1/namespaces/${namespace}/replicasets`);
  const revisionOf = (rs: RawReplicaSet): number => Number(rs.metadata.annotations?.[REVISION_ANNOTATION]);
  const owned = list.items.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === deployment.metadata?.uid));
  const target =
    toRevision === undefined
      ? owned.filter((rs) => revisionOf(rs) < current).sort((a, b) => revisionOf(b) - revisionOf(a))[0]
      : owned.find((rs) => revisionOf(rs) === toRevision);
  assert.ok(target !== undefined, `a ReplicaSet for revision ${toRevision ?? 'previous'} of ${namespace}/${name}`);
  const template = structuredClone(target.spec.template);
  delete template.metadata?.labels?.['pod-template-hash'];
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(deployment.metadata?.annotations ?? {})) if (UNDO_SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(target.metadata.annotations ?? {})) if (!UNDO_SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v;
  await h.api(
    'PATCH',
    `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`,
    [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: annotations },
    ],
    'application/json-patch+json',
  );
  return revisionOf(target);
}

/** `kubectl rollout restart`: a new template annotation, so a new template and a new revision. */
export async function rolloutRestart(h: Harness, namespace: string, name: string): Promise<void> {
  await h.patchDeployment(namespace, name, {
    spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } },
  });
}

// ---- finding a rollout's message ----

/** The one top-level message about `name` at `revision` in `channel`; fails if there are several. */
export function messageFor(h: Harness, channel: string, name: string, revision: number): StoredMessage | undefined {
  const found = h.messages(channel).filter((m) => m.text.includes(`\`${name}\` (revision ${revision})`));
  assert.ok(found.length <= 1, `one message per rollout, got ${found.length} for ${name} revision ${revision} in #${channel}`);
  return found[0];
}

/** Wait until the message about `name` at `revision` in `channel` satisfies `accept`. */
export function waitForMessage(
  h: Harness,
  channel: string,
  name: string,
  revision: number,
  what: string,
  accept: (m: StoredMessage) => boolean,
  timeoutMs = 60_000,
): Promise<StoredMessage> {
  return h.waitFor(
    `${name} revision ${revision} in #${channel}: ${what}`,
    () => {
      const m = messageFor(h, channel, name, revision);
      return m !== undefined && accept(m) ? m : undefined;
    },
    timeoutMs,
  );
}
