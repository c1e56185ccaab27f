/**
 * A local Slack Web API server that the UNMODIFIED @slack/web-api WebClient talks to through
 * `slackApiUrl`. It follows the real protocol (form or JSON bodies, Bearer tokens, errors as
 * HTTP 200 `{ok:false}`, 429 with Retry-After) and Slack's rules (rate limits, membership,
 * scopes, channel IDs vs names, Block Kit limits). Tests inject faults and inspect every
 * message with its full update history and thread replies. Also used by the demo command
 * and integration tests; `GET /state` serves the inspectable state as JSON.
 *
 * ```ts
 * const slack = await startSlackServer({ channels: [{ name: 'deploys' }] });
 * const client = new WebClient(slack.token, { slackApiUrl: slack.url });
 * ```
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultRules, type FaultHandle, type FaultRule, type OutageOptions, type RateLimitOptions, type SlowOptions } from './slack-server/faults.js';
import { RateLimiter, type SlackLimits } from './slack-server/limits.js';
import { METHODS, type ApiBody, type MethodResult, type Params } from './slack-server/methods.js';
import { DEFAULT_TOKEN, Workspace, type Channel, type ChannelSpec, type StoredMessage, type TokenSpec } from './slack-server/workspace.js';

export type { Channel, ChannelSpec, StoredMessage, MessageVersion, MessageMetadata, TokenSpec } from './slack-server/workspace.js';
export type { FaultHandle, OutageOptions, RateLimitOptions, SlowOptions } from './slack-server/faults.js';
export type { SlackLimits } from './slack-server/limits.js';
export { DEFAULT_LIMITS } from './slack-server/limits.js';
export { DEFAULT_SCOPES, DEFAULT_TOKEN } from './slack-server/workspace.js';

export interface SlackServerOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Known tokens; default one token, `DEFAULT_TOKEN`, with `DEFAULT_SCOPES`. */
  tokens?: TokenSpec[];
  channels?: ChannelSpec[];
  /** Slack's rate limits (defaults in DEFAULT_LIMITS); `false` turns them off. */
  limits?: SlackLimits | false;
  /** The server's clock in ms, for ts values and rate limits (tests pass a simulated one). */
  now?: () => number;
}

/** One request as the server saw it. */
export interface RequestRecord {
  seq: number;
  /** Server clock, ms. */
  at: number;
  method: string;
  /** The channel argument as given. */
  channel?: string;
  /** The channel's ID when it resolved. */
  channelId?: string;
  ts?: string;
  threadTs?: string;
  /** `ok`, a Slack error code, `ratelimited`, `http_<status>`, `reset` or `hang`. */
  outcome: string;
  /** HTTP status sent (0 when none was sent). */
  status: number;
  /** True when a fault failed the request after it was applied. */
  committed?: boolean;
}

export interface SlackServer {
  /** The `slackApiUrl` for WebClient, e.g. `http://127.0.0.1:PORT/api/`. */
  url: string;
  port: number;
  /** The first valid token. */
  token: string;
  createChannel(spec: ChannelSpec): Channel;
  channels: {
    create(spec: ChannelSpec): Channel;
    /** By ID, `#name` or `name`. */
    get(idOrName: string): Channel | undefined;
    list(): Channel[];
    archive(idOrName: string): void;
    setMember(idOrName: string, member: boolean): void;
  };
  tokens: {
    add(spec: TokenSpec): void;
    revoke(token: string): void;
  };
  /** Top-level messages of a channel (ID or name), oldest first, with history and replies. */
  messages(channel: string): StoredMessage[];
  /** Every request so far, oldest first. */
  requests(): RequestRecord[];
  faults: {
    outage(opts?: OutageOptions): FaultHandle;
    rateLimit(opts: RateLimitOptions): FaultHandle;
    slow(opts: SlowOptions): FaultHandle;
    active(): FaultRule[];
    clear(): void;
  };
  /** The JSON served at `GET /state`. */
  state(): SlackServerState;
  close(): Promise<void>;
}

export interface SlackServerState {
  channels: Array<Channel & { messages: StoredMessage[] }>;
  requests: RequestRecord[];
}

/** Reads a request body: form-encoded, JSON, or query string. */
async function readParams(req: IncomingMessage, url: URL): Promise<Params> {
  const params: Params = Object.fromEntries(url.searchParams.entries());
  if (req.method !== 'POST') return params;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw === '') return params;
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') {
    const parsed: unknown = JSON.parse(raw);
    if (parsed !== null && typeof parsed === 'object') Object.assign(params, parsed);
    return params;
  }
  for (const [k, v] of new URLSearchParams(raw)) params[k] = v;
  return params;
}

function bearer(req: IncomingMessage, params: Params): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (m?.[1] !== undefined) return m[1].trim();
  }
  return typeof params['token'] === 'string' ? params['token'] : undefined;
}

export async function startSlackServer(opts: SlackServerOptions = {}): Promise<SlackServer> {
  const now = opts.now ?? Date.now;
  const ws = new Workspace(now);
  const tokens = opts.tokens ?? [{ token: DEFAULT_TOKEN }];
  for (const t of tokens) ws.addToken(t);
  for (const c of opts.channels ?? []) ws.createChannel(c);
  const limiter = new RateLimiter(opts.limits);
  const faults = new FaultRules();
  const log: RequestRecord[] = [];
  const sockets = new Set<Socket>();
  let seq = 0;

  function channelOrThrow(idOrName: string): Channel {
    const ch = ws.resolve(idOrName);
    if (ch === undefined) throw new Error(`no channel ${idOrName}`);
    return ch;
  }

  function state(): SlackServerState {
    return { channels: ws.channels().map((c) => ({ ...c, messages: ws.messages(c.id) })), requests: [...log] };
  }

  function send(res: ServerResponse, status: number, body: ApiBody, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/state') {
      const text = JSON.stringify(state());
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'access-control-allow-origin': '*' });
      res.end(text);
      return;
    }
    const m = /^\/api\/([A-Za-z0-9._]+)\/?$/.exec(url.pathname);
    if (m?.[1] === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const method = m[1];
    let params: Params;
    try {
      params = await readParams(req, url);
    } catch {
      send(res, 200, { ok: false, error: 'invalid_json' });
      return;
    }
    const channelArg = typeof params['channel'] === 'string' ? params['channel'] : undefined;
    const resolved = channelArg === undefined ? undefined : ws.resolve(channelArg);
    const record: RequestRecord = { seq: ++seq, at: now(), method, outcome: 'ok', status: 200 };
    if (channelArg !== undefined) record.channel = channelArg;
    if (resolved !== undefined) record.channelId = resolved.id;
    if (typeof params['thread_ts'] === 'string' && params['thread_ts'] !== '') record.threadTs = params['thread_ts'];
    log.push(record);

    const names = [channelArg, resolved?.id, resolved?.name].filter((n): n is string => n !== undefined);
    const fault = faults.take({ method, channelNames: names });
    if (fault.delayMs > 0) await new Promise((r) => setTimeout(r, fault.delayMs));

    const apply = (): MethodResult => dispatch(method, req, params, record);
    const f = fault.failure;
    if (f !== null) {
      if (f.kind === 'rateLimit') {
        record.outcome = 'ratelimited';
        record.status = 429;
        send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(f.retryAfter) });
        return;
      }
      if (f.commit) {
        apply();
        record.committed = true;
      }
      if (f.kind === 'status') {
        record.outcome = `http_${f.status}`;
        record.status = f.status;
        res.writeHead(f.status, { 'content-type': 'text/html' });
        res.end(`<html><body><h1>${f.status} Service Unavailable</h1></body></html>`);
      } else if (f.kind === 'reset') {
        record.outcome = 'reset';
        record.status = 0;
        req.socket.destroy();
      } else {
        record.outcome = 'hang';
        record.status = 0;
        // Never answer: the client's timeout decides. close() destroys the socket.
      }
      return;
    }
    const result = apply();
    if (record.outcome === 'ratelimited') {
      const { retry_after: retryAfter, ...body } = result.body;
      send(res, 429, body, { 'retry-after': String(retryAfter ?? 1) });
      return;
    }
    const scopes = ws.token(bearer(req, params) ?? '')?.scopes ?? [];
    send(res, 200, result.body, { 'x-oauth-scopes': scopes.join(',') });
  }

  /** Auth, rate limit, method: fills the request record's outcome. */
  function dispatch(method: string, req: IncomingMessage, params: Params, record: RequestRecord): MethodResult {
    const finish = (result: MethodResult): MethodResult => {
      record.outcome = result.body.ok ? 'ok' : (result.body.error ?? 'unknown');
      if (result.channelId !== undefined) record.channelId = result.channelId;
      if (result.ts !== undefined) record.ts = result.ts;
      return result;
    };
    const handler = METHODS[method];
    if (handler === undefined) return finish({ body: { ok: false, error: 'unknown_method' } });
    const presented = bearer(req, params);
    if (presented === undefined) return finish({ body: { ok: false, error: 'not_authed' } });
    const token = ws.token(presented);
    if (token === undefined) return finish({ body: { ok: false, error: 'invalid_auth' } });
    if (token.revoked === true) return finish({ body: { ok: false, error: 'token_revoked' } });
    const retryAfter = limiter.check(method, record.channelId, now());
    if (retryAfter !== null) {
      record.outcome = 'ratelimited';
      record.status = 429;
      return { body: { ok: false, error: 'ratelimited', retry_after: retryAfter } };
    }
    return finish(handler({ ws, token, params }));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { ok: false, error: 'internal_error', detail: String(err) });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';
  const valid = tokens.find((t) => t.revoked !== true);

  return {
    url: `http://${host}:${port}/api/`,
    port,
    token: valid?.token ?? DEFAULT_TOKEN,
    createChannel: (spec) => ws.createChannel(spec),
    channels: {
      create: (spec) => ws.createChannel(spec),
      get: (idOrName) => ws.resolve(idOrName),
      list: () => ws.channels(),
      archive: (idOrName) => {
        channelOrThrow(idOrName).archived = true;
      },
      setMember: (idOrName, member) => {
        channelOrThrow(idOrName).member = member;
      },
    },
    tokens: {
      add: (spec) => ws.addToken(spec),
      revoke: (token) => ws.revokeToken(token),
    },
    messages: (channel) => {
      const ch = ws.resolve(channel);
      return ch === undefined ? [] : ws.messages(ch.id);
    },
    requests: () => [...log],
    faults: {
      outage: (o = {}) => {
        const mode = o.mode ?? 'status';
        const commit = o.commit ?? false;
        const action = mode === 'status' ? { kind: 'status' as const, status: o.status ?? 503, commit } : { kind: mode, commit };
        return faults.add(o, action);
      },
      rateLimit: (o) => faults.add(o, { kind: 'rateLimit', retryAfter: o.retryAfter }),
      slow: (o) => faults.add(o, { kind: 'slow', delayMs: o.delayMs }),
      active: () => faults.active(),
      clear: () => faults.clear(),
    },
    state,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
