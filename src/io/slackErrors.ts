/**
 * A Slack call's failure as one line for a person: Slack's error code with the same advice
 * `run` logs for it (src/machines/slackAdvice.ts), or, when Slack was never reached, which
 * host, why, and what to do.
 */
import { ErrorCode } from '@slack/web-api';
import { slackFailureAdvice } from '../machines/slackAdvice.js';
import { causeChain, describeConnectionError } from './netErrors.js';
import { failureOfSlackError } from './slack.js';

/** @param channel the channel the call was for, when there was one (the advice names it). */
export function describeSlackError(err: unknown, slackApiUrl: string, channel = ''): string {
  // SlackCallError wraps the WebClient's error: look through the chain for the one that says.
  for (const link of causeChain(err)) {
    const e = link as { code?: unknown; data?: { error?: unknown }; statusCode?: unknown };
    if (e.code === ErrorCode.PlatformError && typeof e.data?.error === 'string') {
      const code = e.data.error;
      const failure = failureOfSlackError(code);
      if (failure.kind === 'permanent') return `Slack answered ${code}: ${slackFailureAdvice({ channel, error: code, scope: failure.scope })}`;
      return `Slack answered ${code}`;
    }
    if (e.code === ErrorCode.HTTPError) return `Slack (${new URL(slackApiUrl).host}) answered HTTP ${String(e.statusCode ?? '?')}: try again later`;
    if (e.code === ErrorCode.RateLimitedError) return 'Slack is rate limiting this token: try again in a minute';
  }
  return describeConnectionError(err, slackApiUrl);
}
