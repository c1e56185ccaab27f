/**
 * Why a rollout is not progressing, read from the new ReplicaSet, its Pods and their Warning
 * events: identical problems across Pods grouped with counts, and the early-failure rule
 * (every new Pod stuck in a state that will not heal by itself).
 *
 * Pure and deterministic: the same facts in any order give the same Diagnosis, so the
 * actor can compare diagnoses to decide whether a message needs an update.
 */
import { isDeploymentFacts, type ContainerFacts, type ContainerStateFacts, type EventFacts, type PodFacts, type ReplicaSetFacts, type WorkloadFacts } from './facts.js';
import type { Diagnosis, ProblemGroup } from './notification.js';
import { replicaFailureCondition } from './rollout.js';
import { isEventAbout, setFailedCreate, type SetFacts } from './workloadRollout.js';

/** What {@link diagnose} reads: the parts of a RolloutObservation about the new ReplicaSet. */
export interface DiagnosisInput {
  /** The workload; only a Deployment's own ReplicaFailure condition is read. */
  deployment?: WorkloadFacts | null;
  newReplicaSet: ReplicaSetFacts | null;
  /** Pods of the new ReplicaSet. */
  pods: readonly PodFacts[];
  /** Warning events about those Pods and the new ReplicaSet. */
  warnings: readonly EventFacts[];
}

export interface DiagnoseOptions {
  /** Ignore events last seen before this instant (ms since the epoch), e.g. the rollout's start. */
  since?: number;
}

/** Waiting reasons of a container that is only starting: not a problem. */
const STARTING_REASONS: ReadonlySet<string> = new Set(['ContainerCreating', 'PodInitializing']);

/** Waiting reasons the kubelet keeps reporting until someone changes the Pod spec or the cluster. */
const UNRECOVERABLE_WAITING_REASONS: ReadonlySet<string> = new Set([
  'CrashLoopBackOff',
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/**
 * The kubelet reports CreateContainerConfigError with these messages while its ConfigMap or
 * Secret cache is still syncing (a freshly started or busy kubelet); they clear by themselves.
 */
const TRANSIENT_CONFIG_MESSAGES = ['failed to sync configmap cache', 'failed to sync secret cache'];

/** Pod conditions that only say "not ready yet": reported only when nothing more specific explains it. */
const GENERIC_CONDITIONS = ['Initialized', 'Ready', 'ContainersReady', 'PodReadyToStartContainers'] as const;
const GENERIC_CONDITION_SET: ReadonlySet<string> = new Set(GENERIC_CONDITIONS);

/**
 * The single rule for "this waiting container will not heal by itself": the kubelet retries
 * these with back-off forever, and only a change to the spec, the image or the referenced
 * objects makes them pass. The one exception is the kubelet's own cache-sync timeout.
 */
export function isUnrecoverableWaiting(reason: string | undefined, message?: string): boolean {
  if (reason === undefined || !UNRECOVERABLE_WAITING_REASONS.has(reason)) return false;
  if (reason === 'CreateContainerConfigError' && message !== undefined) {
    const lower = message.toLowerCase();
    if (TRANSIENT_CONFIG_MESSAGES.some((m) => lower.includes(m))) return false;
  }
  return true;
}

/** A container stuck in a state that will not heal by itself (see {@link isUnrecoverableWaiting}). */
export function isStuckContainer(c: ContainerFacts): boolean {
  if (c.waiting !== undefined && isUnrecoverableWaiting(c.waiting.reason, c.waiting.message)) return true;
  // Killed for memory and already restarted: it will be killed again at the same limit.
  return c.terminated?.reason === 'OOMKilled' && c.restartCount > 0;
}

/** A Pod with at least one stuck container or init container. */
export function isStuckPod(p: PodFacts): boolean {
  return (p.containers ?? []).some(isStuckContainer);
}

/**
 * The early-failure rule. True when the new ReplicaSet cannot create any Pod (ReplicaFailure
 * and no Pods), or when it has Pods and every one of them is stuck: in both cases the rollout
 * cannot make progress until someone acts, so waiting for the progress deadline only delays
 * the news. A rollout to zero replicas never fails this way.
 */
export function isFailing(diagnosis: Diagnosis, desiredReplicas: number): boolean {
  if (desiredReplicas <= 0) return false;
  if (diagnosis.replicaFailure !== undefined && diagnosis.pods === 0) return true;
  return diagnosis.pods > 0 && diagnosis.stuckPods === diagnosis.pods;
}

/** Context for making messages comparable across Pods. */
interface MessageContext {
  replicaSetName?: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes what differs per Pod or per retry from a kubelet or controller message, so the same
 * problem on three Pods groups as one: the kubelet's `pod=NAME_NS(UID)` / `in pod NAME_NS(UID)`
 * suffixes, the event correlator's "(combined from similar events)" prefix, and the random
 * suffix of generated Pod names in admission errors (`pods "web-7c9d8b6f5-x2v9k" is forbidden`
 * becomes `pods "web-7c9d8b6f5-" is forbidden`, as the API server used to print it).
 */
export function normaliseMessage(message: string | undefined, ctx: MessageContext = {}): string | undefined {
  if (message === undefined) return undefined;
  let text = message.trim().replace(/^\(combined from similar events\):\s*/, '');
  text = text.replace(/\s*(?:in pod |pod=)[a-z0-9][a-z0-9.-]*_[a-z0-9][a-z0-9-]*\([0-9a-f-]+\)/g, '');
  if (ctx.replicaSetName !== undefined && ctx.replicaSetName !== '') {
    const generated = new RegExp(`"${escapeRegExp(ctx.replicaSetName)}-[a-z0-9]{5}"`, 'g');
    text = text.replace(generated, `"${ctx.replicaSetName}-"`);
  }
  text = text.trim();
  return text === '' ? undefined : text;
}

/** Accumulates problem groups keyed by what makes two problems "the same". */
class Groups {
  private readonly byKey = new Map<string, { group: ProblemGroup; members: Set<string>; order: number }>();

  /** Adds one occurrence; `member` de-duplicates (a Pod counts once per group), `weight` adds to the count. */
  add(problem: Omit<ProblemGroup, 'count'>, member: string, weight = 1): void {
    const key = JSON.stringify([
      problem.source,
      problem.reason,
      problem.message ?? null,
      problem.container ?? null,
      problem.exitCode ?? null,
      problem.lastTerminationReason ?? null,
    ]);
    let entry = this.byKey.get(key);
    if (entry === undefined) {
      entry = { group: { ...withoutUndefined(problem), count: 0 }, members: new Set(), order: this.byKey.size };
      this.byKey.set(key, entry);
    }
    if (problem.source === 'event') {
      entry.group.count += weight;
    } else if (!entry.members.has(member)) {
      entry.members.add(member);
      entry.group.count += 1;
    }
  }

  /** The groups, most widespread first; ties keep the order they were first seen in. */
  sorted(): ProblemGroup[] {
    return [...this.byKey.values()].sort((a, b) => b.group.count - a.group.count || a.order - b.order).map((e) => e.group);
  }
}

/** Drops undefined optional fields so deepEqual and JSON output stay tidy. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The problem one container shows, if any. */
function containerProblem(c: ContainerFacts, ctx: MessageContext): Omit<ProblemGroup, 'count'> | undefined {
  const source = c.init ? 'initContainer' : 'container';
  const last = c.lastTerminated;
  const waitingReason = c.waiting?.reason;
  if (c.waiting !== undefined && waitingReason !== undefined && !STARTING_REASONS.has(waitingReason)) {
    return {
      source,
      reason: waitingReason,
      // The crash-loop message is only the back-off delay and the Pod's name; the last run's
      // termination message (if the app wrote one) says why it crashed.
      message: waitingReason === 'CrashLoopBackOff' ? normaliseMessage(last?.message, ctx) : normaliseMessage(c.waiting.message, ctx),
      container: c.name,
      exitCode: last?.exitCode,
      lastTerminationReason: last?.reason,
    };
  }
  const terminated = c.terminated;
  if (terminated !== undefined && !(c.init && (terminated.exitCode ?? 0) === 0 && terminated.reason !== 'OOMKilled')) {
    // A Deployment's app container is never meant to exit; an init container only when it fails.
    return termination(source, c.name, terminated, ctx);
  }
  if (c.waiting === undefined && terminated === undefined && !c.ready && c.restartCount > 0 && last !== undefined && isAbnormalExit(last)) {
    // Running again between crashes: still the same crash loop, seen between two back-offs.
    return termination(source, c.name, last, ctx);
  }
  return undefined;
}

function isAbnormalExit(state: ContainerStateFacts): boolean {
  return state.reason === 'OOMKilled' || (state.exitCode !== undefined && state.exitCode !== 0);
}

function termination(
  source: 'container' | 'initContainer',
  container: string,
  state: ContainerStateFacts,
  ctx: MessageContext,
): Omit<ProblemGroup, 'count'> {
  return {
    source,
    reason: state.reason ?? 'Terminated',
    message: normaliseMessage(state.message, ctx),
    container,
    exitCode: state.exitCode,
  };
}

function conditionProblem(c: { type: string; status: string; reason?: string; message?: string }, ctx: MessageContext): Omit<ProblemGroup, 'count'> {
  return {
    source: 'podCondition',
    reason: c.reason ?? `${c.type}=${c.status}`,
    message: normaliseMessage(c.message, ctx),
  };
}

/** Shortest message text that counts as "already said" when found inside another. */
const MIN_ECHO_LENGTH = 20;

/**
 * The informative part of a kubelet or controller message, without the wrappers that differ
 * between a container state and the event that reports it ("Error: ", "Error creating: ",
 * `Failed to pull image "X": `, `Back-off pulling image "X": ErrImagePull: `).
 */
function messageCore(message: string | undefined): string {
  return (message ?? '')
    .replace(/^Error(?: creating)?:\s*/, '')
    .replace(/^Failed to pull image "[^"]*":\s*/, '')
    .replace(/^Back-off pulling image "[^"]*"(?::\s*(?:ErrImagePull|ImagePullBackOff):)?\s*/, '')
    .trim();
}

/** True when a status problem already says what this event says (kubelet events echo container states). */
function echoesStatus(reason: string, message: string | undefined, statusProblems: readonly Omit<ProblemGroup, 'count'>[]): boolean {
  const core = messageCore(message);
  return statusProblems.some((p) => {
    // The kubelet's BackOff events repeat a CrashLoopBackOff / ImagePullBackOff already shown.
    if (reason === 'BackOff' && p.reason.endsWith('BackOff')) return true;
    if (core === '') return false;
    if (core === p.reason) return true; // "Error: CreateContainerConfigError"
    // "Error: ImagePullBackOff" while the state shows ErrImagePull: a bare reason adds nothing.
    if (UNRECOVERABLE_WAITING_REASONS.has(core) && UNRECOVERABLE_WAITING_REASONS.has(p.reason)) return true;
    const shown = messageCore(p.message);
    if (shown === '' || shown === core) return shown !== '';
    // Containment only for substantial text, so a short termination message ("panic") does not swallow an event.
    const [shorter, longer] = shown.length < core.length ? [shown, core] : [core, shown];
    return shorter.length >= MIN_ECHO_LENGTH && longer.includes(shorter);
  });
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * What the new ReplicaSet and its Pods say about the rollout. Pods being deleted are left
 * out. Problems come from, in this order of precedence:
 * - the ReplicaSet (or Deployment) ReplicaFailure condition: why Pods cannot be created;
 * - container and init-container states: waiting reasons (not ContainerCreating or
 *   PodInitializing) with the last run's exit code and reason, or a failed termination;
 * - Pod conditions that are not True (e.g. PodScheduled=False, Unschedulable);
 * - Warning events about those Pods and the ReplicaSet since `opts.since`, grouped by reason
 *   and message with their counts summed, leaving out those that only echo a state above;
 * - for a Pod that nothing above explains, its first generic condition that is not True
 *   (Initialized, then Ready: "containers with unready status: [app]").
 *
 * Identical problems are grouped with the number of Pods showing them. The ReplicaSet's
 * problem comes first, then Pod problems (most Pods first), then events (most occurrences
 * first): event counts are occurrences, not Pods, so the two are not ranked together.
 */
export function diagnose(obs: DiagnosisInput, opts: DiagnoseOptions = {}): Diagnosis {
  const rs = obs.newReplicaSet;
  const d = obs.deployment;
  const set = d?.kind === 'StatefulSet' || d?.kind === 'DaemonSet' ? d : null;
  // A DaemonSet's pods have generated names too (`agent-x2v9k`), like a ReplicaSet's.
  const ctx: MessageContext = (rs ?? set) !== null ? { replicaSetName: (rs ?? set)!.name } : {};
  const pods = (obs.pods ?? []).filter((p) => !p.deleting).sort(byName);

  const replicaSetGroups = new Groups();
  const failure = set === null ? replicaFailureCondition(d == null || !isDeploymentFacts(d) ? null : d, rs) : undefined;
  // A StatefulSet or DaemonSet has no ReplicaFailure condition: its FailedCreate Event says it (and shows as that event).
  const cannotCreate = set === null ? failure : setFailedCreate(set, obs.warnings ?? [], opts.since);
  const replicaFailure = cannotCreate === undefined ? undefined : (normaliseMessage(cannotCreate.message, ctx) ?? cannotCreate.reason ?? cannotCreate.type);
  if (failure !== undefined) {
    replicaSetGroups.add({ source: 'replicaSet', reason: failure.reason ?? failure.type, message: replicaFailure }, 'replicaSet');
  }

  const podGroups = new Groups();
  const statusProblems: Omit<ProblemGroup, 'count'>[] = [];
  if (failure !== undefined) statusProblems.push({ source: 'replicaSet', reason: failure.reason ?? failure.type, message: replicaFailure });
  const explained = new Set<string>();
  for (const pod of pods) {
    for (const problem of podStatusProblems(pod, ctx)) {
      podGroups.add(problem, pod.name);
      statusProblems.push(problem);
      explained.add(pod.name);
    }
  }

  const eventGroups = new Groups();
  for (const event of relevantEvents(obs.warnings ?? [], pods, rs ?? set, opts)) {
    const message = normaliseMessage(event.message, ctx);
    if (echoesStatus(event.reason, message, statusProblems)) continue;
    eventGroups.add({ source: 'event', reason: event.reason, message }, event.involvedName, Math.max(1, event.count));
    if (event.involvedKind === 'Pod') explained.add(event.involvedName);
  }

  for (const pod of pods) {
    if (explained.has(pod.name)) continue;
    const generic = firstGenericCondition(pod);
    if (generic !== undefined) podGroups.add(conditionProblem(generic, ctx), pod.name);
  }

  return {
    pods: pods.length,
    stuckPods: pods.filter(isStuckPod).length,
    ...(replicaFailure !== undefined ? { replicaFailure } : {}),
    problems: [...replicaSetGroups.sorted(), ...podGroups.sorted(), ...eventGroups.sorted()],
  };
}

/** Container problems and specific (non-generic) Pod conditions of one Pod. */
function podStatusProblems(pod: PodFacts, ctx: MessageContext): Omit<ProblemGroup, 'count'>[] {
  const problems: Omit<ProblemGroup, 'count'>[] = [];
  for (const container of pod.containers ?? []) {
    const problem = containerProblem(container, ctx);
    if (problem !== undefined) problems.push(withoutUndefined(problem));
  }
  for (const condition of pod.conditions ?? []) {
    if (condition.status === 'True' || GENERIC_CONDITION_SET.has(condition.type)) continue;
    problems.push(withoutUndefined(conditionProblem(condition, ctx)));
  }
  return problems;
}

function firstGenericCondition(pod: PodFacts): PodFacts['conditions'][number] | undefined {
  for (const type of GENERIC_CONDITIONS) {
    const condition = (pod.conditions ?? []).find((c) => c.type === type);
    if (condition !== undefined && condition.status !== 'True') return condition;
  }
  return undefined;
}

/**
 * Events about the live Pods and the owner of the new pods (the new ReplicaSet, or the
 * StatefulSet or DaemonSet itself), since `opts.since`, in a stable order.
 */
function relevantEvents(events: readonly EventFacts[], pods: readonly PodFacts[], owner: ReplicaSetFacts | SetFacts | null, opts: DiagnoseOptions): EventFacts[] {
  const podsByName = new Map(pods.map((p) => [p.name, p]));
  return events
    .filter((e) => {
      if (opts.since !== undefined && e.lastSeen < opts.since) return false;
      if (e.involvedKind === 'Pod') {
        const pod = podsByName.get(e.involvedName);
        // A Pod name may be re-used by a later Pod; the uid tells them apart when both are known.
        return pod !== undefined && (e.involvedUid === undefined || e.involvedUid === pod.uid);
      }
      return owner !== null && isEventAbout(e, 'kind' in owner ? owner.kind : 'ReplicaSet', owner);
    })
    .sort((a, b) => compareText(a.reason, b.reason) || compareText(a.message, b.message) || compareText(a.involvedName, b.involvedName) || a.lastSeen - b.lastSeen);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
