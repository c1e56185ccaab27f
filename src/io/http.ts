/**
 * The operations endpoints on one port (2112 by default, as the original):
 * /metrics (Prometheus), /livez and /readyz. What they decide is in ./health.ts; a failing
 * check answers 503 with one reason per line.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Verdict } from './health.js';

const ALWAYS: () => Verdict = () => ({ ok: true, reasons: [] });

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

export interface OpsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  ready: () => Verdict;
  /** Default: always live. */
  live?: () => Verdict;
}

function answer(res: ServerResponse, verdict: Verdict): void {
  res.writeHead(verdict.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(verdict.ok ? 'ok\n' : verdict.reasons.map((r) => `${r}\n`).join(''));
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`),
      );
      return;
    }
    if (path === '/livez' || path === '/healthz') {
      answer(res, (options.live ?? ALWAYS)());
      return;
    }
    if (path === '/readyz') {
      answer(res, options.ready());
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /livez or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
