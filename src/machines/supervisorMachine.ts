/**
 * The supervisor's statechart: the root of Hermod's actor system. It receives everything
 * the watch layer sees and routes it to one Deployment actor per Deployment; it knows
 * whether the caches have synced (readiness) and whether Hermod is shutting down.
 *
 * The Deployment actors are not spawned into this machine's context: spawning N children
 * into one machine copies its children map on every spawn, which is quadratic (20,000
 * children took 166 s). They are created in the same actor system with this actor as their
 * parent and kept in a registry by src/actors/supervisor.ts, which also implements the
 * routing actions named here (docs/adr/0001-actor-system.md).
 */
import { setup, type DoneActorEvent, type ErrorActorEvent } from 'xstate';
import type { KeptBake } from './bake.js';
import type { RolloutObservation, WorkloadKind } from './facts.js';

export type SupervisorEvent =
  | { type: 'deployment.observed'; observation: RolloutObservation }
  | { type: 'deployment.deleted'; namespace: string; name: string; uid: string; at: number; kind?: WorkloadKind }
  | { type: 'namespace.untracked'; namespace: string; at: number }
  | { type: 'watch.synced' }
  /** A bake kept in the delivery state, read at takeover, with its workload's latest observation (ADR 0011). */
  | { type: 'bake.resumed'; bake: KeptBake; observation: RolloutObservation }
  | { type: 'supervisor.stop' }
  | DoneActorEvent
  | ErrorActorEvent;

/** Implemented by the running system (src/actors/supervisor.ts); the defaults only document the contract. */
const unimplemented = (name: string) => () => {
  throw new Error(`supervisorMachine action "${name}" must be provided by the running system`);
};

export const supervisorMachine = setup({
  types: {
    events: {} as SupervisorEvent,
  },
  actions: {
    /** Hand the observation to the Deployment's actor, creating it on first sight. */
    routeObservation: unimplemented('routeObservation'),
    /** Hand a kept bake to its workload's actor, if it has one (it decides whether to resume). */
    routeBakeResume: unimplemented('routeBakeResume'),
    /** Tell the Deployment's actor that it was deleted. */
    routeDeletion: unimplemented('routeDeletion'),
    /** Tell every Deployment actor of the namespace that it is no longer tracked. */
    untrackNamespace: unimplemented('untrackNamespace'),
    /** A Deployment actor reached its final state: stop it and forget it. */
    reapDeployment: unimplemented('reapDeployment'),
    /** A Deployment actor failed (a bug): report it and start it afresh. */
    restartDeployment: unimplemented('restartDeployment'),
    stopDeployments: unimplemented('stopDeployments'),
  },
}).createMachine({
  id: 'supervisor',
  initial: 'syncing',
  // Routing is the same while syncing and running, so it is declared once, here. Once
  // `stopped` (a top-level final state) is reached the actor is done and handles nothing.
  on: {
    'deployment.observed': { actions: 'routeObservation' },
    'deployment.deleted': { actions: 'routeDeletion' },
    'bake.resumed': { actions: 'routeBakeResume' },
    'namespace.untracked': { actions: 'untrackNamespace' },
    'supervisor.stop': '.stopped',
    'xstate.done.actor.*': { actions: 'reapDeployment' },
    'xstate.error.actor.*': { actions: 'restartDeployment' },
  },
  states: {
    /** Caches are listing: observations of the initial list are routed, readiness is false. */
    syncing: {
      on: { 'watch.synced': 'running' },
    },
    /** The initial lists have been routed: ready. */
    running: {},
    /** Shutting down: nothing is routed any more; Deployment actors are stopped. */
    stopped: {
      entry: 'stopDeployments',
      type: 'final',
    },
  },
});
