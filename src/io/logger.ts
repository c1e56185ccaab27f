/**
 * Hermod's one logger: pino, JSON lines on stdout. Code depends on the Logger shape of
 * src/actors/logger.ts; only the wiring (src/io/commands/run.ts) needs pino's own type, for
 * `child()`. Secrets never reach a log line: known
 * secret paths are redacted, and errors are reduced to their message, code and stack (an
 * HTTP client error can carry request headers, and with them the Slack token).
 */
import pino, { type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './config.js';

const REDACT = [
  'token',
  'slackToken',
  'sentryDsn',
  'config.slackToken',
  'config.sentryDsn',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
];

/** An error as a log line may show it: what happened and where, never the request that carried it. */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: unknown; data?: { error?: unknown }; statusCode?: unknown; retryAfter?: unknown };
  return {
    type: e.name,
    message: e.message,
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(e.data?.error !== undefined ? { slackError: e.data.error } : {}),
    ...(e.statusCode !== undefined ? { statusCode: e.statusCode } : {}),
    ...(e.retryAfter !== undefined ? { retryAfter: e.retryAfter } : {}),
    stack: e.stack,
  };
}

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): PinoLogger {
  return pino(
    {
      level,
      base: { app: 'hermod' },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
