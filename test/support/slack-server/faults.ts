/**
 * Fault injection for the local Slack: outages (HTTP 5xx, connection resets, hangs), 429
 * storms with a given Retry-After, slow responses. Each rule matches by method and channel
 * and can be limited to a number of requests.
 */

/** Which requests a rule applies to. Channels match by ID, `#name` or `name`. */
export interface FaultMatch {
  methods?: string[];
  channels?: string[];
  /** Apply to this many matching requests, then expire (default: until cleared). */
  count?: number;
}

export interface OutageOptions extends FaultMatch {
  /**
   * - `status`: answer an HTTP error status (default 503) with an HTML body, like a load balancer.
   * - `reset`: destroy the socket without answering.
   * - `hang`: never answer (the client's timeout decides).
   */
  mode?: 'status' | 'reset' | 'hang';
  status?: number;
  /**
   * Apply the request before failing it (the message IS posted, the client cannot know):
   * the ambiguous case of a timeout or reset.
   */
  commit?: boolean;
}

export interface RateLimitOptions extends FaultMatch {
  /** Seconds for the Retry-After header. */
  retryAfter: number;
}

export interface SlowOptions extends FaultMatch {
  delayMs: number;
}

export type FaultAction =
  | { kind: 'status'; status: number; commit: boolean }
  | { kind: 'reset'; commit: boolean }
  | { kind: 'hang'; commit: boolean }
  | { kind: 'rateLimit'; retryAfter: number }
  | { kind: 'slow'; delayMs: number };

export interface FaultRule {
  id: number;
  match: FaultMatch;
  action: FaultAction;
  remaining: number;
}

/** A handle to lift one fault early. */
export interface FaultHandle {
  clear(): void;
}

/** The request facts a rule is matched against. */
export interface FaultTarget {
  method: string;
  /** Every name the request's channel is known by (as given, ID, name). */
  channelNames: string[];
}

export class FaultRules {
  private rules: FaultRule[] = [];
  private nextId = 1;

  add(match: FaultMatch, action: FaultAction): FaultHandle {
    const rule: FaultRule = { id: this.nextId++, match, action, remaining: match.count ?? Infinity };
    this.rules.push(rule);
    return { clear: () => this.remove(rule.id) };
  }

  remove(id: number): void {
    this.rules = this.rules.filter((r) => r.id !== id);
  }

  clear(): void {
    this.rules = [];
  }

  active(): FaultRule[] {
    return [...this.rules];
  }

  /** Total delay of matching `slow` rules, then the first matching failure, consuming counts. */
  take(target: FaultTarget): { delayMs: number; failure: Exclude<FaultAction, { kind: 'slow' }> | null } {
    let delayMs = 0;
    let failure: Exclude<FaultAction, { kind: 'slow' }> | null = null;
    for (const rule of this.rules) {
      if (!matches(rule.match, target)) continue;
      if (rule.action.kind === 'slow') {
        delayMs += rule.action.delayMs;
        rule.remaining -= 1;
      } else if (failure === null) {
        failure = rule.action;
        rule.remaining -= 1;
      }
    }
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return { delayMs, failure };
  }
}

function matches(match: FaultMatch, target: FaultTarget): boolean {
  if (match.methods !== undefined && !match.methods.includes(target.method)) return false;
  if (match.channels !== undefined) {
    const wanted = match.channels.map((c) => c.replace(/^#/, ''));
    if (!target.channelNames.some((n) => wanted.includes(n.replace(/^#/, '')))) return false;
  }
  return true;
}
