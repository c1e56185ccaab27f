/**
 * The loopback HTTP server the unit tests put behind the real client-node stack when they need
 * an API server behaviour the real control plane cannot be made to show on demand (a lost
 * answer, a 410 at an exact moment, an admission rule): the listening, the closing, JSON
 * answers and the KubeConfig that points at it. Each test file keeps its own request handler.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PooledKubeConfig } from '../../src/io/kube/pooledKubeConfig.js';

/** Handles one request; `body` is the whole request body (empty for GET). */
export type LocalApiHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void | Promise<void>;

export class LocalApiServer {
  /** `http://127.0.0.1:<port>` once started. */
  url = '';
  private readonly server: http.Server;

  constructor(handler: LocalApiHandler) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => void handler(req, res, Buffer.concat(chunks)));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Closes every connection (open watches too) and the server. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Answers with a JSON body. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A metav1.Status failure as kube-apiserver sends it. */
export function failureStatus(code: number, extra: { reason?: string; message?: string } = {}): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, ...extra };
}

/**
 * A KubeConfig for `server` with a bearer token `<user>-token`; it pools its connections like
 * the one `hermod run` loads (src/io/kube/pooledKubeConfig.ts).
 */
export function kubeConfigFor(server: string, user = 'hermod'): PooledKubeConfig {
  const kc = new PooledKubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'tiny', server, skipTLSVerify: true }],
    users: [{ name: user, token: `${user}-token` }],
    contexts: [{ name: 'tiny', cluster: 'tiny', user }],
    currentContext: 'tiny',
  });
  return kc;
}
