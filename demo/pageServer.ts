/**
 * The demo's web page server, on loopback only: the static page under ./page/ and
 * `GET /state`, the local Slack's channels and messages (with every version and thread
 * reply) plus the show's narration, which the page polls to render what Slack would show.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { SlackServer } from '../test/support/slack-server.js';

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));

/** The only files served, with their types: nothing else under page/ (or above it) is reachable. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/mrkdwn.js': { file: 'mrkdwn.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** No external resources, no inline script or style: the page renders cluster-supplied text. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

export interface PageServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface PageServerOptions {
  slack: SlackServer;
  /** Default 0 (any free port). Always bound to 127.0.0.1. */
  port?: number;
  /** The show's story so far, shown above the channels. */
  narration?: () => readonly string[];
  /** Called each time the page itself (`/`) is requested: the demo starts its show then. */
  onPageOpened?: () => void;
}

/** The state the page polls: channels with their messages (no request log). */
export interface PageState {
  channels: Array<{ id: string; name: string; messages: unknown[] }>;
  narration: readonly string[];
}

export async function startPageServer(options: PageServerOptions): Promise<PageServer> {
  const sockets = new Set<Socket>();
  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer): void => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(body);
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/state') {
      const state: PageState = {
        channels: options.slack.state().channels.map((c) => ({ id: c.id, name: c.name, messages: c.messages })),
        narration: options.narration?.() ?? [],
      };
      return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(state));
    }
    const entry = FILES[path];
    if (entry === undefined) return send(res, 404, 'text/plain', 'not found\n');
    if (path === '/' && req.method === 'GET') options.onPageOpened?.();
    readFile(PAGE_DIR + entry.file).then(
      (body) => send(res, 200, entry.type, body),
      (err: unknown) => send(res, 500, 'text/plain', `cannot read ${entry.file}: ${String(err)}\n`),
    );
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
