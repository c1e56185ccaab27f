/** Calls into the wiring (metrics, hooks) must never break delivery: a throw is logged, not raised. */
import type { Logger } from '../logger.js';

export type Safely = (what: string, fn: () => void) => void;

export function safelyWith(log: Logger): Safely {
  return (what, fn) => {
    try {
      fn();
    } catch (err) {
      log.error({ err, hook: what }, 'delivery hook threw');
    }
  };
}
