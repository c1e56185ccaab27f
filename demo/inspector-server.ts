/**
 * A Stately inspector bridge on loopback, for `hermod --inspect` (see docs/demo.md):
 *
 *   node --import tsx demo/inspector-server.ts [--port 8080]
 *   npm start -- --inspect ws://127.0.0.1:8080
 *
 * It does what `createInspectorServer()` from `@statelyai/inspect/server` does (one port:
 * a WebSocket relay, and a page that embeds Stately's hosted inspector UI and forwards the
 * records to it), but binds 127.0.0.1 only (that one listens on every interface) and never
 * tries to open a browser. The actor records stay on this machine until the page hands
 * them to the embedded inspector in your browser.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';

/** Stately's hosted inspector UI, embedded by the bridge page. */
export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';
/** Records kept for a browser that connects late (the newest ones). */
const BUFFERED = 1000;

export interface InspectorServer {
  /** Open this in a browser. */
  pageUrl: string;
  /** Give this to `hermod --inspect`. */
  wsUrl: string;
  port: number;
  close(): Promise<void>;
}

function bridgePage(wsUrl: string, inspectorUrl: string): string {
  // The embedded inspector says "@statelyai.connected" when it is ready; until then records wait here.
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hermod: Stately inspector</title>
<style>html,body{margin:0;height:100%}iframe{border:0;width:100%;height:100%}</style></head>
<body><iframe id="inspector" src="${inspectorUrl}"></iframe>
<script>
const frame = document.getElementById('inspector');
const waiting = [];
let ready = false;
window.addEventListener('message', (e) => {
  if (e.data && e.data.type === '@statelyai.connected') {
    ready = true;
    for (const record of waiting.splice(0)) frame.contentWindow.postMessage(record, '*');
  }
});
const socket = new WebSocket(${JSON.stringify(wsUrl)});
socket.onmessage = (e) => {
  const record = JSON.parse(e.data);
  if (ready) frame.contentWindow.postMessage(record, '*');
  else waiting.push(record);
};
</script></body></html>`;
}

/** Starts the bridge on 127.0.0.1 (port 0: any free port). */
export async function startInspectorServer(options: { port?: number; inspectorUrl?: string } = {}): Promise<InspectorServer> {
  let wsUrl = '';
  const http = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(bridgePage(wsUrl, options.inspectorUrl ?? STATELY_INSPECTOR_URL));
  });
  const wss = new WebSocketServer({ server: http });
  const recent: string[] = [];
  wss.on('connection', (socket) => {
    for (const text of recent) socket.send(text);
    socket.on('message', (data: Buffer) => {
      const text = data.toString();
      recent.push(text);
      if (recent.length > BUFFERED) recent.shift();
      for (const other of wss.clients) if (other !== socket && other.readyState === WebSocket.OPEN) other.send(text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8080, '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  wsUrl = `ws://127.0.0.1:${port}`;
  return {
    pageUrl: `http://127.0.0.1:${port}/`,
    wsUrl,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--port');
  const port = i === -1 ? 8080 : Number(process.argv[i + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error('usage: node --import tsx demo/inspector-server.ts [--port 8080]');
    process.exitCode = 2;
  } else {
    const server = await startInspectorServer({ port });
    console.log(`Stately inspector bridge listening on 127.0.0.1:${server.port}`);
    console.log(`  1. open ${server.pageUrl} in a browser (it embeds ${STATELY_INSPECTOR_URL})`);
    console.log(`  2. run Hermod with --inspect ${server.wsUrl}, e.g. npm start -- --inspect ${server.wsUrl}`);
    const stop = () => void server.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
}
