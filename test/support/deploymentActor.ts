/**
 * The Deployment statechart as its unit tests start it: one actor for `shop/web` on a
 * SimulatedClock with a 60 s failing grace, recording every rollout.changed it emits, fed
 * observations built by ./observations.ts.
 */
import { createActor, SimulatedClock } from 'xstate';
import { deploymentMachine } from '../../src/machines/deploymentMachine.js';
import type { RolloutChangedEvent } from '../../src/machines/deploymentContext.js';
import { observation, type RolloutStep } from './observations.js';

/** failingGraceMs of the actor (ms). */
export const GRACE = 60_000;

/** `bakeMs`: the actor's --bake-seconds in ms (default 0: successes are not watched). */
export function startDeployment(options: { bakeMs?: number } = {}) {
  const clock = new SimulatedClock();
  const actor = createActor(deploymentMachine, { input: { key: 'shop/web', failingGraceMs: GRACE, bakeMs: options.bakeMs ?? 0 }, clock });
  const changes: RolloutChangedEvent[] = [];
  actor.on('rollout.changed', (e) => changes.push(e));
  actor.start();
  /** Sends one observation. */
  const observe = (step: RolloutStep) => actor.send({ type: 'deployment.observed', observation: observation(step) });
  const state = () => actor.getSnapshot().value;
  const last = () => changes.at(-1)!;
  /** `change:phase` of every update emitted so far. */
  const phases = () => changes.map((c) => `${c.change}:${c.notification.view.phase}`);
  return { actor, clock, changes, observe, state, last, phases };
}
