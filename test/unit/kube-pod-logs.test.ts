import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeConfig } from '@kubernetes/client-node';
import { createPodLogReader } from '../../src/io/kube/podLogs.js';
import { kubeConfigFor, LocalApiServer } from '../support/localApiServer.js';

/** A local API server for pods/log: answers per pod name, and records the query it got. */
describe('createPodLogReader against a local pods/log endpoint', () => {
  const queries: URLSearchParams[] = [];
  const server = new LocalApiServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    queries.push(url.searchParams);
    const pod = /\/api\/v1\/namespaces\/payments\/pods\/([^/]+)\/log$/.exec(url.pathname)?.[1];
    const status = pod === 'forbidden' ? 403 : pod === 'gone' ? 404 : pod === 'api-x' ? 200 : 500;
    const body = status === 200 ? 'line 1\npanic: boom\n' : JSON.stringify({ kind: 'Status', code: status, message: 'no <!channel> here' });
    res.writeHead(status, { 'content-type': status === 200 ? 'text/plain' : 'application/json' }).end(body);
  });
  let kc: KubeConfig;

  before(async () => {
    await server.start();
    kc = kubeConfigFor(server.url);
  });
  after(() => server.close());

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
