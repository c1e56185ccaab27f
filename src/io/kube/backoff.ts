/** Capped exponential backoff with jitter, for restarting failed lists and watches. */
export interface BackoffOptions {
  /** Delay after the first failure (ms). Default 1,000. */
  initialMs?: number;
  /** Upper bound on the delay (ms). Default 30,000. */
  maxMs?: number;
  /** Fraction of the delay that is randomised, 0..1. Default 0.2 (±20 %). */
  jitter?: number;
}

/**
 * The delay before retry number `failures` (1 = first retry): initial * 2^(failures-1),
 * capped at max, then spread by ±jitter so that many reflectors (or many Hermod replicas)
 * restarted by the same API server outage do not reconnect in lockstep.
 *
 * @param random a source in [0, 1); injectable for tests.
 */
export function backoffDelay(failures: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialMs ?? 1_000;
  const max = options.maxMs ?? 30_000;
  const jitter = Math.min(Math.max(options.jitter ?? 0.2, 0), 1);
  if (failures <= 0) return 0;
  // 2^30 already dwarfs any sane cap; stop the exponent there to stay finite.
  const base = Math.min(max, initial * 2 ** Math.min(failures - 1, 30));
  const spread = base * jitter * (2 * random() - 1);
  return Math.max(0, Math.round(Math.min(max, base + spread)));
}
