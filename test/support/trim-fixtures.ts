/**
 * Test-only helpers for the status fixtures in test/fixtures/status.
 *
 * Most fixtures are already in the Facts shape (src/machines/facts.ts). The few under raw/
 * are Kubernetes API objects as `kubectl get -o json` prints them; `trim*` below turn them
 * into Facts with the same defaults the API documents (spec.replicas 1, deadline 600 s,
 * omitted counts 0). This is a deliberately minimal stand-in so the decision tests can read
 * real API shapes: the production trimming lives in src/io/kube/trim.ts and is tested there.
 */
import { readFileSync } from 'node:fs';
import type {
  ConditionFacts,
  ContainerFacts,
  ContainerStateFacts,
  DeploymentFacts,
  EventFacts,
  PodFacts,
  ReplicaSetFacts,
} from '../../src/machines/facts.js';

const FIXTURES = new URL('../fixtures/status/', import.meta.url);

/** Parses test/fixtures/status/<path>. */
export function loadFixture<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(path, FIXTURES), 'utf8')) as T;
}

interface RawMeta {
  uid?: string;
  name?: string;
  namespace?: string;
  generation?: number;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  ownerReferences?: { uid: string; controller?: boolean }[];
}
interface RawCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}
export interface RawDeployment {
  metadata: RawMeta;
  spec?: { replicas?: number; paused?: boolean; progressDeadlineSeconds?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: RawCondition[];
  };
}
export interface RawReplicaSet {
  metadata: RawMeta;
  spec?: { replicas?: number };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number; conditions?: RawCondition[] };
}
interface RawState {
  reason?: string;
  message?: string;
  exitCode?: number;
}
interface RawContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  image?: string;
  state?: { waiting?: RawState; running?: object; terminated?: RawState };
  lastState?: { terminated?: RawState };
}
export interface RawPod {
  metadata: RawMeta;
  status?: {
    phase?: string;
    conditions?: RawCondition[];
    initContainerStatuses?: RawContainerStatus[];
    containerStatuses?: RawContainerStatus[];
  };
}
export interface RawEvent {
  involvedObject: { kind: string; name: string; namespace?: string; uid?: string };
  metadata: { namespace?: string };
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string | null;
  eventTime?: string | null;
}

const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';

function revisionOf(meta: RawMeta): number | null {
  const value = meta.annotations?.[REVISION];
  const n = value === undefined ? NaN : Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : null;
}

function conditions(raw: RawCondition[] | undefined): ConditionFacts[] {
  return (raw ?? []).map((c) => {
    const out: ConditionFacts = { type: c.type, status: c.status };
    if (c.reason !== undefined) out.reason = c.reason;
    if (c.message !== undefined) out.message = c.message;
    const at = c.lastUpdateTime ?? c.lastTransitionTime;
    if (at !== undefined) out.lastUpdateTime = at;
    return out;
  });
}

function controllerUid(meta: RawMeta): string | undefined {
  return meta.ownerReferences?.find((o) => o.controller === true)?.uid;
}

export function trimDeployment(raw: RawDeployment): DeploymentFacts {
  const a = raw.metadata.annotations ?? {};
  const s = raw.status ?? {};
  const git: DeploymentFacts['git'] = {};
  if (a['hermod.uswitch.com/gitsha'] !== undefined) git.sha = a['hermod.uswitch.com/gitsha'];
  if (a['hermod.uswitch.com/gitrepo'] !== undefined) git.repo = a['hermod.uswitch.com/gitrepo'];
  const d: DeploymentFacts = {
    uid: raw.metadata.uid ?? '',
    namespace: raw.metadata.namespace ?? 'default',
    name: raw.metadata.name ?? '',
    generation: raw.metadata.generation ?? 0,
    revision: revisionOf(raw.metadata),
    git,
    spec: {
      replicas: raw.spec?.replicas ?? 1,
      paused: raw.spec?.paused ?? false,
      progressDeadlineSeconds: raw.spec?.progressDeadlineSeconds ?? 600,
    },
    status: {
      observedGeneration: s.observedGeneration ?? 0,
      replicas: s.replicas ?? 0,
      updatedReplicas: s.updatedReplicas ?? 0,
      readyReplicas: s.readyReplicas ?? 0,
      availableReplicas: s.availableReplicas ?? 0,
      unavailableReplicas: s.unavailableReplicas ?? 0,
      conditions: conditions(s.conditions),
    },
  };
  if (a['hermod.uswitch.com/alert'] !== undefined) d.alert = a['hermod.uswitch.com/alert'];
  return d;
}

export function trimReplicaSet(raw: RawReplicaSet): ReplicaSetFacts {
  const history = (raw.metadata.annotations?.[REVISION_HISTORY] ?? '')
    .split(',')
    .map((r) => Number.parseInt(r.trim(), 10))
    .filter((r) => Number.isFinite(r));
  return {
    uid: raw.metadata.uid ?? '',
    namespace: raw.metadata.namespace ?? 'default',
    name: raw.metadata.name ?? '',
    ownerUid: controllerUid(raw.metadata),
    revision: revisionOf(raw.metadata),
    revisionHistory: history,
    replicas: raw.spec?.replicas ?? 1,
    status: {
      replicas: raw.status?.replicas ?? 0,
      readyReplicas: raw.status?.readyReplicas ?? 0,
      availableReplicas: raw.status?.availableReplicas ?? 0,
      conditions: conditions(raw.status?.conditions),
    },
  };
}

function state(raw: RawState | undefined): ContainerStateFacts | undefined {
  if (raw === undefined) return undefined;
  const out: ContainerStateFacts = {};
  if (raw.reason !== undefined) out.reason = raw.reason;
  if (raw.message !== undefined) out.message = raw.message;
  if (raw.exitCode !== undefined) out.exitCode = raw.exitCode;
  return out;
}

function container(raw: RawContainerStatus, init: boolean): ContainerFacts {
  const out: ContainerFacts = { name: raw.name, init, ready: raw.ready ?? false, restartCount: raw.restartCount ?? 0 };
  if (raw.image !== undefined) out.image = raw.image;
  const waiting = state(raw.state?.waiting);
  const terminated = state(raw.state?.terminated);
  const last = state(raw.lastState?.terminated);
  if (waiting !== undefined) out.waiting = waiting;
  if (terminated !== undefined) out.terminated = terminated;
  if (last !== undefined) out.lastTerminated = last;
  return out;
}

export function trimPod(raw: RawPod): PodFacts {
  return {
    uid: raw.metadata.uid ?? '',
    namespace: raw.metadata.namespace ?? 'default',
    name: raw.metadata.name ?? '',
    ownerUid: controllerUid(raw.metadata),
    phase: raw.status?.phase ?? 'Pending',
    deleting: raw.metadata.deletionTimestamp !== undefined,
    containers: [
      ...(raw.status?.initContainerStatuses ?? []).map((c) => container(c, true)),
      ...(raw.status?.containerStatuses ?? []).map((c) => container(c, false)),
    ],
    conditions: conditions(raw.status?.conditions),
  };
}

export function trimEvent(raw: RawEvent): EventFacts {
  const when = raw.lastTimestamp ?? raw.eventTime ?? undefined;
  const out: EventFacts = {
    namespace: raw.metadata.namespace ?? raw.involvedObject.namespace ?? 'default',
    involvedKind: raw.involvedObject.kind,
    involvedName: raw.involvedObject.name,
    reason: raw.reason ?? '',
    message: raw.message ?? '',
    count: raw.count ?? 1,
    lastSeen: when === undefined ? 0 : Date.parse(when),
  };
  if (raw.involvedObject.uid !== undefined) out.involvedUid = raw.involvedObject.uid;
  return out;
}
