/**
 * A local Sentry ingest endpoint for tests: `POST /api/<project>/envelope/` with the
 * query-string (or X-Sentry-Auth) key, chunked and gzip/deflate bodies, and the envelope
 * format (a header line, then per item an item header and its payload, with an optional
 * `length` for binary payloads). The real @sentry/node SDK reports to it through the DSN.
 *
 * ```ts
 * const sentry = await startSentryServer();
 * Sentry.init({ dsn: sentry.dsn });
 * ```
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

export interface EnvelopeItem {
  header: { type: string; length?: number; [key: string]: unknown };
  /** Parsed JSON when the payload is JSON, else the raw bytes. */
  payload: unknown;
}

export interface Envelope {
  project: string;
  header: Record<string, unknown>;
  items: EnvelopeItem[];
  /** The auth parameters the SDK sent (query string or X-Sentry-Auth). */
  auth: Record<string, string>;
  contentEncoding?: string;
  chunked: boolean;
}

/** A Sentry event payload (exception events and messages), loosely typed. */
export interface SentryEvent {
  event_id?: string;
  message?: string | { formatted?: string };
  level?: string;
  exception?: { values?: Array<{ type?: string; value?: string; mechanism?: unknown; stacktrace?: unknown }> };
  tags?: Record<string, string>;
  contexts?: Record<string, unknown>;
  extra?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface SentryServerOptions {
  port?: number;
  /** The DSN's public key (default `public`); other keys get 401. */
  publicKey?: string;
  /** The DSN's project ID (default `1337`). */
  project?: string;
}

export interface SentryServer {
  /** `http://public@127.0.0.1:PORT/1337` */
  dsn: string;
  port: number;
  /** Items of type `event`, in arrival order. */
  events(): SentryEvent[];
  envelopes(): Envelope[];
  /** Resolves when at least `count` events have arrived (rejects after `timeoutMs`). */
  waitForEvents(count: number, timeoutMs?: number): Promise<SentryEvent[]>;
  /** Every raw body as received (decompressed), for "this secret never appears" checks. */
  rawBodies(): string[];
  close(): Promise<void>;
}

/** Parses Sentry's envelope format. */
export function parseEnvelope(body: Buffer): { header: Record<string, unknown>; items: EnvelopeItem[] } {
  let pos = 0;
  const readLine = (): Buffer | null => {
    if (pos >= body.length) return null;
    const nl = body.indexOf(0x0a, pos);
    const end = nl === -1 ? body.length : nl;
    const line = body.subarray(pos, end);
    pos = nl === -1 ? body.length : nl + 1;
    return line;
  };
  const headerLine = readLine();
  if (headerLine === null) throw new Error('empty envelope');
  const header = JSON.parse(headerLine.toString('utf8')) as Record<string, unknown>;
  const items: EnvelopeItem[] = [];
  for (;;) {
    const itemHeaderLine = readLine();
    if (itemHeaderLine === null) break;
    if (itemHeaderLine.length === 0) continue;
    const itemHeader = JSON.parse(itemHeaderLine.toString('utf8')) as EnvelopeItem['header'];
    let payload: Buffer;
    if (typeof itemHeader.length === 'number') {
      payload = body.subarray(pos, pos + itemHeader.length);
      pos += itemHeader.length;
      if (body[pos] === 0x0a) pos += 1;
    } else {
      payload = readLine() ?? Buffer.alloc(0);
    }
    let parsed: unknown = payload;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      // binary (attachments): keep the bytes
    }
    items.push({ header: itemHeader, payload: parsed });
  }
  return { header, items };
}

function parseAuthHeader(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined) return out;
  for (const part of value.replace(/^Sentry\s+/i, '').split(',')) {
    const [k, v] = part.trim().split('=');
    if (k !== undefined && v !== undefined) out[k] = v;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const enc = req.headers['content-encoding'];
  if (enc === 'gzip') return gunzipSync(raw);
  if (enc === 'deflate') return inflateSync(raw);
  return raw;
}

export async function startSentryServer(opts: SentryServerOptions = {}): Promise<SentryServer> {
  const publicKey = opts.publicKey ?? 'public';
  const project = opts.project ?? '1337';
  const envelopes: Envelope[] = [];
  const raw: string[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const events = (): SentryEvent[] => envelopes.flatMap((e) => e.items.filter((i) => i.header.type === 'event').map((i) => i.payload as SentryEvent));

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = /^\/api\/([^/]+)\/envelope\/?$/.exec(url.pathname);
    if (req.method !== 'POST' || m?.[1] === undefined) {
      res.writeHead(404).end();
      return;
    }
    const auth = { ...parseAuthHeader(req.headers['x-sentry-auth'] as string | undefined), ...Object.fromEntries(url.searchParams.entries()) };
    if (auth['sentry_key'] !== publicKey || m[1] !== project) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"detail":"invalid api key"}');
      return;
    }
    readBody(req)
      .then((body) => {
        raw.push(body.toString('utf8'));
        const parsed = parseEnvelope(body);
        const env: Envelope = { project: m[1] ?? '', ...parsed, auth, chunked: req.headers['transfer-encoding'] === 'chunked' };
        const enc = req.headers['content-encoding'];
        if (enc !== undefined) env.contentEncoding = enc;
        envelopes.push(env);
        for (const w of waiters) w();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: parsed.header['event_id'] ?? null }));
      })
      .catch((err: unknown) => {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: String(err) }));
      });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    dsn: `http://${publicKey}@127.0.0.1:${port}/${project}`,
    port,
    events,
    envelopes: () => [...envelopes],
    rawBodies: () => [...raw],
    waitForEvents: (count, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (events().length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(events());
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} Sentry events, got ${events().length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
