/**
 * The running supervisor: the root actor of Hermod's actor system and one Deployment actor
 * per Deployment in a tracked namespace, all in one system (so the Stately inspector sees
 * them all). It implements the WatchSink the Kubernetes watch layer feeds, and forwards what
 * the Deployment actors emit to the Slack delivery and to metrics, both injected.
 */
import { assertEvent, createActor, enqueueActions, type Actor, type InspectionEvent, type Observer } from 'xstate';
import type { KeptBake } from '../machines/bake.js';
import { deploymentMachine } from '../machines/deploymentMachine.js';
import type { RolloutChangedEvent } from '../machines/deploymentContext.js';
import { actorName, deploymentKey, type RolloutObservation, type WorkloadKind } from '../machines/facts.js';
import type { Notification } from '../machines/notification.js';
import { supervisorMachine } from '../machines/supervisorMachine.js';
import { CrashLogs, type CrashLogOptions } from './crashLogs.js';
import type { Logger } from './logger.js';
import type { WatchSink } from './watchSink.js';

/** What the supervisor counts; the io layer backs it with prom-client. */
export interface RolloutMetrics {
  /** A rollout started; `kind` is the workload's (the original's counters count Deployments only). */
  rolloutStarted(kind?: WorkloadKind): void;
  rolloutEnded(phase: Notification['view']['phase'], durationSeconds: number, kind?: WorkloadKind): void;
  /** A success turned "succeeded, then degraded" within its bake window (issue 13). */
  rolloutDegraded?(kind?: WorkloadKind): void;
  deploymentsTracked(count: number): void;
}

export interface SupervisorOptions {
  /** How long every new Pod must be stuck before a rollout is reported as failing. */
  failingGraceMs: number;
  /** How long a success's pods are watched (--bake-seconds, ms); 0 or absent: not at all. */
  bakeMs?: number;
  /** Receives every rollout change, in order per rollout (normally Slack delivery's notify). */
  onNotification: (notification: Notification, change: RolloutChangedEvent['change']) => void;
  metrics?: RolloutMetrics;
  logger: Logger;
  /** Reports an unexpected error (Sentry in production). */
  reportError?: (error: unknown, context: Record<string, unknown>) => void;
  /** Reads the crashed container's log for failing rollouts (--log-lines > 0); off when absent. */
  crashLogs?: CrashLogOptions;
  /** Inspection observer for the whole actor system (Stately inspector); off by default. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

type DeploymentActor = Actor<typeof deploymentMachine>;

const DONE_PREFIX = 'xstate.done.actor.';
const ERROR_PREFIX = 'xstate.error.actor.';

export class Supervisor implements WatchSink {
  readonly #options: SupervisorOptions;
  /** namespace -> name -> actor: a namespace's actors are found without scanning them all. */
  readonly #deployments = new Map<string, Map<string, DeploymentActor>>();
  #count = 0;
  readonly #root;
  readonly #crashLogs: CrashLogs<RolloutChangedEvent['change']> | null;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#crashLogs = options.crashLogs === undefined ? null : new CrashLogs(options.crashLogs, options.onNotification);
    const machine = supervisorMachine.provide({
      actions: {
        // Routing goes through sendTo, so each Deployment actor handles its event after the
        // supervisor's step rather than inside it.
        routeObservation: enqueueActions(({ event, enqueue, self }) => {
          assertEvent(event, 'deployment.observed');
          const initial = self.getSnapshot().matches('syncing');
          enqueue.sendTo(this.#deploymentFor(event.observation), { type: 'deployment.observed', observation: event.observation, initial });
        }),
        routeBakeResume: enqueueActions(({ event, enqueue }) => {
          assertEvent(event, 'bake.resumed');
          const actor = this.#deployments.get(event.observation.deployment.namespace)?.get(actorName(event.observation.deployment));
          if (actor !== undefined) enqueue.sendTo(actor, { type: 'bake.resumed', bake: event.bake, observation: event.observation });
        }),
        routeDeletion: enqueueActions(({ event, enqueue }) => {
          assertEvent(event, 'deployment.deleted');
          const actor = this.#deployments.get(event.namespace)?.get(actorName(event));
          if (actor !== undefined) enqueue.sendTo(actor, { type: 'deployment.deleted', uid: event.uid, at: event.at });
        }),
        untrackNamespace: enqueueActions(({ event, enqueue }) => {
          assertEvent(event, 'namespace.untracked');
          for (const actor of this.#deployments.get(event.namespace)?.values() ?? []) {
            enqueue.sendTo(actor, { type: 'tracking.stopped', at: event.at });
          }
        }),
        // Deployment actors belong to this actor (their parent): only it may stop them.
        reapDeployment: enqueueActions(({ event, enqueue }) => {
          assertEvent(event, 'xstate.done.actor.*');
          const actor = this.#forget(event.type.slice(DONE_PREFIX.length));
          if (actor !== undefined) enqueue.stopChild(actor);
        }),
        restartDeployment: enqueueActions(({ event, enqueue }) => {
          assertEvent(event, 'xstate.error.actor.*');
          const key = event.type.slice(ERROR_PREFIX.length);
          const error = event.error;
          this.#options.logger.error({ deployment: key, err: error }, 'deployment actor failed; it starts afresh on the next observation');
          this.#options.reportError?.(error, { deployment: key });
          const actor = this.#forget(key);
          if (actor !== undefined) enqueue.stopChild(actor);
        }),
        stopDeployments: enqueueActions(({ enqueue }) => {
          for (const byName of this.#deployments.values()) for (const actor of byName.values()) enqueue.stopChild(actor);
          this.#deployments.clear();
          this.#setCount(0);
        }),
      },
    });
    this.#root = createActor(machine, { inspect: options.inspect });
  }

  start(): this {
    this.#root.start();
    return this;
  }

  /** The root actor: its system holds every Deployment actor. */
  get root() {
    return this.#root;
  }

  /** The initial lists have been routed and Hermod is not stopping: ready. */
  get ready(): boolean {
    return this.#root.getSnapshot().matches('running');
  }

  get deploymentCount(): number {
    return this.#count;
  }

  /** The Deployment actor for `namespace/name`, if one exists (tests, inspection). */
  deployment(namespace: string, name: string): DeploymentActor | undefined {
    return this.#deployments.get(namespace)?.get(name);
  }

  // WatchSink: translate and enqueue, nothing else.
  observe(observation: RolloutObservation): void {
    this.#root.send({ type: 'deployment.observed', observation });
  }

  deploymentDeleted(ref: { namespace: string; name: string; uid: string; kind?: WorkloadKind }, at: number): void {
    this.#root.send({ type: 'deployment.deleted', ...ref, at });
  }

  namespaceUntracked(namespace: string, at: number): void {
    this.#root.send({ type: 'namespace.untracked', namespace, at });
  }

  /**
   * Bakes the delivery state kept (read at takeover), each with its workload's latest
   * observation: a workload's actor that has seen it at rest since the same success resumes the
   * watch for what is left of the window (a restart with no warm follower, ADR 0011).
   */
  resumeBakes(bakes: ReadonlyArray<{ bake: KeptBake; observation: RolloutObservation }>): void {
    for (const { bake, observation } of bakes) this.#root.send({ type: 'bake.resumed', bake, observation });
  }

  synced(): void {
    this.#root.send({ type: 'watch.synced' });
  }

  /** Stop routing and stop every Deployment actor. Pending Slack work is the delivery's to drain. */
  stop(): void {
    this.#root.send({ type: 'supervisor.stop' });
  }

  #deploymentFor(observation: RolloutObservation): DeploymentActor {
    const { namespace } = observation.deployment;
    // A Deployment and a StatefulSet may share a name: each kind has its own actor.
    const name = actorName(observation.deployment);
    let byName = this.#deployments.get(namespace);
    if (byName === undefined) {
      byName = new Map();
      this.#deployments.set(namespace, byName);
    }
    let actor = byName.get(name);
    if (actor === undefined) {
      const key = deploymentKey(observation.deployment);
      actor = createActor(deploymentMachine, {
        id: key,
        parent: this.#root,
        input: { key, failingGraceMs: this.#options.failingGraceMs, bakeMs: this.#options.bakeMs ?? 0 },
      });
      actor.on('rollout.changed', (event) => this.#rolloutChanged(event));
      byName.set(name, actor);
      this.#setCount(this.#count + 1);
      actor.start();
    }
    return actor;
  }

  #rolloutChanged(event: RolloutChangedEvent): void {
    const { notification, change } = event;
    const view = notification.view;
    const reason = reasonOf(view);
    this.#options.logger.info(
      { deployment: `${view.namespace}/${actorName(view.kind === undefined ? { name: view.deployment } : { name: view.deployment, kind: view.kind })}`, revision: view.revision, state: view.phase, change, ...(reason !== null ? { reason } : {}) },
      `rollout ${change}: ${view.phase}${reason !== null ? ` (${reason})` : ''}`,
    );
    const metrics = this.#options.metrics;
    const kind = view.kind ?? 'Deployment';
    if (change === 'started') metrics?.rolloutStarted(kind);
    if (change === 'degraded') metrics?.rolloutDegraded?.(kind);
    if (change === 'ended') metrics?.rolloutEnded(view.phase, Math.max(0, ((view.endedAt ?? view.startedAt) - view.startedAt) / 1000), kind);
    if (this.#crashLogs !== null) this.#crashLogs.handle(notification, change);
    else this.#options.onNotification(notification, change);
  }

  /** Drop the actor of `namespace/name` from the registry and return it for stopping. */
  #forget(key: string): DeploymentActor | undefined {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const byName = this.#deployments.get(namespace);
    const actor = byName?.get(name);
    if (byName === undefined || actor === undefined) return undefined;
    byName.delete(name);
    if (byName.size === 0) this.#deployments.delete(namespace);
    this.#setCount(this.#count - 1);
    return actor;
  }

  #setCount(count: number): void {
    this.#count = count;
    this.#options.metrics?.deploymentsTracked(count);
  }
}

/** Why a failing, failed or degraded rollout is red, in one phrase for its log line; null for the other phases. */
export function reasonOf(view: RolloutChangedEvent['notification']['view']): string | null {
  if (view.phase !== 'failed' && view.phase !== 'failing' && view.phase !== 'degraded') return null;
  const problem = view.diagnosis.problems[0];
  const parts = [
    view.detail,
    problem !== undefined ? `${problem.reason}${view.diagnosis.problems.length > 1 ? ` and ${view.diagnosis.problems.length - 1} more` : ''}` : null,
    view.diagnosis.replicaFailure ?? null,
  ].filter((p): p is string => p !== null && p !== undefined && p !== '');
  return parts.length > 0 ? parts.join('; ') : null;
}
