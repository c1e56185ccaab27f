/**
 * Opt-in live view of the actor system in the Stately inspector (`--inspect ws://HOST:PORT`).
 * Events go to a WebSocket inspector server on a machine you control (for example
 * demo/inspector-server.ts, or `createInspectorServer()` from `@statelyai/inspect/server`;
 * the package has no command to run); the page it serves embeds Stately's hosted inspector UI.
 *
 * A cluster produces many observations, so what is sent is trimmed: observations become
 * `{ type, deployment, revision }` and contexts drop the rollout's view model (the inspector
 * only forwards actor, event and snapshot records; microsteps and actions never leave). When `--inspect` is not given, nothing here
 * is loaded and the actors are created without an inspection observer: no cost.
 */
import type { InspectionEvent, Observer } from 'xstate';

export interface InspectorHandle {
  inspect: Observer<InspectionEvent>;
  stop(): void;
}

type Sanitisable = Record<string, unknown>;

/** An observation as the inspector shows it: which Deployment, which revision. */
export function sanitizeEvent<T extends { type: string }>(event: T): T {
  const observation = (event as Sanitisable)['observation'] as { deployment?: { namespace?: string; name?: string; revision?: number | null } } | undefined;
  if (observation?.deployment === undefined) return event;
  const d = observation.deployment;
  return { type: event.type, deployment: `${d.namespace}/${d.name}`, revision: d.revision } as unknown as T;
}

/** A Deployment actor's context as the inspector shows it: the rollout's phase, not its view model. */
export function sanitizeContext(context: Sanitisable): Sanitisable {
  // Actors without a context (callbacks, promises) have none: leave it as it is.
  if (context === null || typeof context !== 'object') return context;
  const rollout = context['rollout'] as { view?: { phase?: string; revision?: number }; channel?: string } | null | undefined;
  if (rollout === undefined || rollout === null) return context;
  return { ...context, rollout: { channel: rollout.channel, phase: rollout.view?.phase, revision: rollout.view?.revision } };
}

export async function startInspector(url: string): Promise<InspectorHandle> {
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const inspector = createWebSocketInspector({
    url,
    sanitizeEvent,
    sanitizeContext,
    maxDeferredEvents: 1000,
  });
  return { inspect: inspector.inspect, stop: () => inspector.stop() };
}
