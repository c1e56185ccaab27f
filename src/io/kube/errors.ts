/**
 * Typed errors of the Kubernetes watch layer. Each carries enough to decide what to do
 * (relist, back off, give up) without parsing messages.
 */

/** Base class of every error raised by src/io/kube. */
export class KubeError extends Error {
  override readonly name: string = 'KubeError';
}

/** The API server answered with a non-success HTTP status (or a watch ERROR event carried one). */
export class KubeApiError extends KubeError {
  override readonly name: string = 'KubeApiError';
  constructor(
    message: string,
    /** HTTP status code, or the `code` of a `Status` object in a watch ERROR event. */
    readonly statusCode: number,
    /** `Status.reason` when the server sent one (e.g. `Expired`, `Forbidden`). */
    readonly reason?: string,
  ) {
    super(message);
  }
}

/**
 * 410 Gone: the resourceVersion (or continue token) is older than etcd's compaction window.
 * The only cure is a fresh LIST.
 */
export class ResourceExpiredError extends KubeApiError {
  override readonly name: string = 'ResourceExpiredError';
  constructor(message: string, reason?: string) {
    super(message, 410, reason);
  }
}

/** A watch delivered nothing (no event, no bookmark) for longer than the watchdog allows. */
export class WatchIdleError extends KubeError {
  override readonly name: string = 'WatchIdleError';
  constructor(readonly idleMs: number) {
    super(`watch received nothing for ${idleMs} ms`);
  }
}

/** A LIST page, or a WATCH's response headers, did not arrive in time (a dead or stalled connection). */
export class RequestTimeoutError extends KubeError {
  override readonly name: string = 'RequestTimeoutError';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what}: no answer within ${timeoutMs} ms`);
  }
}

/** No usable kubeconfig was found; the message names every place that was tried. */
export class KubeConfigError extends KubeError {
  override readonly name: string = 'KubeConfigError';
}

/** True for any error raised by src/io/kube. */
export function isKubeError(err: unknown): err is KubeError {
  return err instanceof KubeError;
}

/** True when the error means "your resourceVersion expired: relist". */
export function isResourceExpired(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 410;
}
