/**
 * Aborts a request that stays silent too long. The reflector arms it with the open timeout
 * until a LIST page or a WATCH's headers arrive, and re-arms it with the idle timeout on
 * every watch event or bookmark; a dead connection (a half-open socket) then ends in an
 * abort whose reason says which limit it broke.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly request: AbortController) {}

  /** (Re)starts the countdown: unless re-armed or cleared within `ms`, aborts with `reason()`. */
  arm(ms: number, reason: () => Error): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.request.abort(reason()), ms);
    // Never keeps the process alive on its own.
    this.timer.unref();
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
