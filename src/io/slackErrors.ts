/**
 * A Slack call's failure as one line for a person: Slack's error code with what to do about
 * it, or, when Slack was never reached, which host, why, and what to do.
 */
import { ErrorCode } from '@slack/web-api';
import { describeConnectionError } from './netErrors.js';

export function describeSlackError(err: unknown, slackApiUrl: string): string {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number };
  switch (e?.code) {
    case ErrorCode.PlatformError:
      return `Slack answered ${e.data?.error ?? 'an error'}`;
    case ErrorCode.HTTPError:
      return `Slack (${new URL(slackApiUrl).host}) answered HTTP ${e.statusCode ?? '?'}`;
    case ErrorCode.RateLimitedError:
      return 'Slack is rate limiting this token: try again in a minute';
    default:
      return describeConnectionError(err, slackApiUrl);
  }
}
