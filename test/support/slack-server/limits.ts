/**
 * Rate limits of the local Slack: continuous token buckets keyed by channel or method.
 * Slack documents "about one message per second per channel, short bursts allowed" for
 * chat.postMessage and Tier 3 (50+ per minute, per workspace) for chat.update.
 */

/** Rate-limit settings; `false` disables every limit. */
export interface SlackLimits {
  /** chat.postMessage per channel: refill rate (default 1 per second). */
  postMessagePerSecond?: number;
  /** chat.postMessage per channel: bucket size (default 3). */
  postMessageBurst?: number;
  /** chat.update per workspace: refill rate per minute (default 50, Tier 3). */
  updatesPerMinute?: number;
  /** chat.update per workspace: bucket size (default 10). */
  updateBurst?: number;
  /** Tier 3 methods other than chat.update (conversations.*), per workspace (default 50/min). */
  tier3PerMinute?: number;
}

export const DEFAULT_LIMITS: Required<SlackLimits> = {
  postMessagePerSecond: 1,
  postMessageBurst: 3,
  updatesPerMinute: 50,
  updateBurst: 10,
  tier3PerMinute: 50,
};

/** A token bucket that refills continuously; `take` answers the seconds to wait when empty. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token, or returns the whole seconds until one is available (Retry-After). */
  take(now: number): { ok: true } | { ok: false; retryAfter: number } {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = Math.max(this.last, now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    const seconds = (1 - this.tokens) / this.perSecond;
    return { ok: false, retryAfter: Math.max(1, Math.ceil(seconds)) };
  }
}

/** All the buckets of one workspace. */
export class RateLimiter {
  private readonly posts = new Map<string, TokenBucket>();
  private readonly perMethod = new Map<string, TokenBucket>();
  readonly settings: Required<SlackLimits> | null;

  constructor(limits: SlackLimits | false | undefined) {
    this.settings = limits === false ? null : { ...DEFAULT_LIMITS, ...limits };
  }

  /** Accounts one call; answers Retry-After seconds when over the limit. */
  check(method: string, channelId: string | undefined, now: number): number | null {
    const s = this.settings;
    if (s === null) return null;
    let bucket: TokenBucket | undefined;
    if (method === 'chat.postMessage' && channelId !== undefined) {
      bucket = this.posts.get(channelId);
      if (bucket === undefined) {
        bucket = new TokenBucket(s.postMessagePerSecond, s.postMessageBurst, now);
        this.posts.set(channelId, bucket);
      }
    } else if (method === 'chat.update') {
      bucket = this.bucketFor(method, s.updatesPerMinute / 60, s.updateBurst, now);
    } else if (method.startsWith('conversations.')) {
      bucket = this.bucketFor(method, s.tier3PerMinute / 60, Math.max(1, Math.round(s.tier3PerMinute / 5)), now);
    }
    if (bucket === undefined) return null;
    const taken = bucket.take(now);
    return taken.ok ? null : taken.retryAfter;
  }

  private bucketFor(method: string, perSecond: number, burst: number, now: number): TokenBucket {
    let bucket = this.perMethod.get(method);
    if (bucket === undefined) {
      bucket = new TokenBucket(perSecond, burst, now);
      this.perMethod.set(method, bucket);
    }
    return bucket;
  }
}
