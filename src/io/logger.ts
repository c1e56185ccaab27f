/**
 * Hermod's one logger: pino on stdout. `--log-format json` (the default when stdout is not a
 * terminal, as in a Pod) writes one JSON object per line with the level by name
 * (`"level":"info"`); `text` writes readable lines through pino-pretty, for a terminal.
 * Code depends on the Logger shape of src/actors/logger.ts; only the wiring
 * (src/io/commands/run.ts) needs pino's own type, for `child()`. Secrets never reach a log
 * line: known secret paths are redacted, and errors are reduced to their message, code,
 * cause chain and stack (an HTTP client error can carry request headers, and with them the
 * Slack token).
 */
import { createRequire } from 'node:module';
import pino, { type Logger as PinoLogger } from 'pino';
import type PinoPretty from 'pino-pretty';
import type { LogFormat, LogLevel } from './config.js';
import { kubeApiErrorSummary } from './kube/describe.js';
import { networkProblem } from './netErrors.js';

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

type ErrorLike = Error & { code?: unknown; data?: { error?: unknown }; statusCode?: unknown; retryAfter?: unknown; cause?: unknown; original?: unknown };

/** The causes under an error (`cause`, or @slack/web-api's `original`), as message and code only. */
function causes(err: ErrorLike): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let cur: unknown = err.cause ?? err.original;
  for (let i = 0; i < 5 && cur !== undefined && cur !== null; i++) {
    if (cur instanceof Error) {
      const c = cur as ErrorLike;
      out.push({ type: c.name, message: c.message, ...(c.code !== undefined ? { code: c.code } : {}) });
      cur = c.cause ?? c.original;
    } else {
      out.push({ message: String(cur) });
      break;
    }
  }
  return out;
}

/** An error as a log line may show it: what happened, why (the cause chain) and where, never the request that carried it. */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as ErrorLike;
  const chain = causes(e);
  const network = networkProblem(e);
  // A Kubernetes API error's message is the whole HTTP exchange: keep the status and the server's sentence.
  const kube = kubeApiErrorSummary(e);
  return {
    type: e.name,
    message: kube ?? e.message,
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(e.data?.error !== undefined ? { slackError: e.data.error } : {}),
    ...(e.statusCode !== undefined ? { statusCode: e.statusCode } : {}),
    ...(e.retryAfter !== undefined ? { retryAfter: e.retryAfter } : {}),
    ...(chain.length > 0 ? { cause: chain } : {}),
    ...(network !== null ? { network: `${network.what}: ${network.advice}` } : {}),
    ...(kube === null ? { stack: e.stack } : {}),
  };
}

// Why loaded on first use: pino-pretty and its dependencies cost about 10 MB and a tenth of a
// second to import, and a Pod logs JSON (docs/adr/0007, "The import floor").
const requireAtRunTime = createRequire(import.meta.url);

/** The format to use when none was configured: text for a person at a terminal, JSON otherwise. */
export function defaultLogFormat(stdoutIsTTY: boolean = process.stdout.isTTY === true): LogFormat {
  return stdoutIsTTY ? 'text' : 'json';
}

export function createLogger(level: LogLevel, destination?: pino.DestinationStream, format: LogFormat | null = null): PinoLogger {
  const chosen = format ?? (destination === undefined ? defaultLogFormat() : 'json');
  const options: pino.LoggerOptions = {
    level,
    base: { app: 'hermod' },
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (chosen === 'text') {
    // Synchronous, in this thread: no worker transport to start or to flush on exit.
    const pretty = requireAtRunTime('pino-pretty') as typeof PinoPretty;
    const stream = pretty({ sync: true, colorize: destination === undefined && process.stdout.isTTY === true, ignore: 'app,pid,hostname', translateTime: 'SYS:HH:MM:ss.l', ...(destination !== undefined ? { destination } : {}) });
    return pino(options, stream);
  }
  return pino(options, destination);
}
