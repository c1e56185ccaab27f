import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { createPodLogReader } from '../../src/io/kube/podLogs.js';

/** A local API server for pods/log: answers per pod name, and records the query it got. */
describe('createPodLogReader against a local pods/log endpoint', () => {
  let server: http.Server;
  let kc: KubeConfig;
  const queries: URLSearchParams[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      queries.push(url.searchParams);
      const pod = /\/api\/v1\/namespaces\/payments\/pods\/([^/]+)\/log$/.exec(url.pathname)?.[1];
      const status = pod === 'forbidden' ? 403 : pod === 'gone' ? 404 : pod === 'api-x' ? 200 : 500;
      const body = status === 200 ? 'line 1\npanic: boom\n' : JSON.stringify({ kind: 'Status', code: status, message: 'no <!channel> here' });
      res.writeHead(status, { 'content-type': status === 200 ? 'text/plain' : 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'local', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'local', user: 'u' }],
      currentContext: 'c',
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads the previous run, asking for the last lines and a byte bound', async () => {
    const read = createPodLogReader(kc, { tailLines: 20, limitBytes: 32768 });
    assert.deepEqual(await read({ namespace: 'payments', pod: 'api-x', container: 'api' }), { text: 'line 1\npanic: boom\n' });
    const q = queries.at(-1);
    assert.equal(q?.get('previous'), 'true');
    assert.equal(q?.get('container'), 'api');
    assert.equal(q?.get('tailLines'), '20');
    assert.equal(q?.get('limitBytes'), '32768');
  });

  it('403 and 404 become one short reason, never the server\'s text', async () => {
    const read = createPodLogReader(kc, { tailLines: 20, limitBytes: 32768 });
    assert.deepEqual(await read({ namespace: 'payments', pod: 'forbidden', container: 'api' }), { unavailable: 'forbidden (403): Hermod needs get on pods/log' });
    assert.deepEqual(await read({ namespace: 'payments', pod: 'gone', container: 'api' }), { unavailable: 'not found (404): the pod is gone' });
    assert.deepEqual(await read({ namespace: 'payments', pod: 'other', container: 'api' }), { unavailable: 'the API server answered 500' });
  });
});
