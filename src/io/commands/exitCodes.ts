/** Exit codes of the `hermod` command (documented in the README). */
export const EXIT = {
  ok: 0,
  /** A runtime failure (the cluster or Slack could not be used, a crash). */
  failure: 1,
  /** Bad flags, environment or arguments. */
  usage: 2,
  /** `hermod check` found problems. */
  checkFailed: 3,
} as const;
