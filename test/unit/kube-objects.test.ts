/**
 * src/io/kube/objects.ts, Hermod's client for single objects, through the real client-node HTTP
 * stack against a local server: each method's HTTP method, path, headers and body as the API
 * server receives them, and every non-success answer as a KubeApiError with the status, the
 * Status reason and message (404 and 409 told apart, as the Lease and the state ConfigMap need).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { USER_AGENT } from '../../src/io/kube/client.js';
import { KubeApiError, KubeError } from '../../src/io/kube/errors.js';
import { kubeApiErrorSummary } from '../../src/io/kube/describe.js';
import { microTime, recordOf, specOf, type LeaseJson } from '../../src/io/kube/lease.js';
import { KubeObjectClient, statusOf } from '../../src/io/kube/objects.js';
import { failureStatus, kubeConfigFor, LocalApiServer, sendJson } from '../support/localApiServer.js';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  accept: string | undefined;
  authorization: string | undefined;
  /** Every header name and value, as received. */
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('KubeObjectClient against a local API server', () => {
  const seen: Seen[] = [];
  const server = new LocalApiServer((req, res, body) => {
    seen.push({
      method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], accept: req.headers.accept,
      authorization: req.headers.authorization, headers: { ...req.headers }, body: body.toString(),
    });
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path.endsWith('/configmaps/absent')) return sendJson(res, 404, failureStatus(404, { reason: 'NotFound', message: 'configmaps "absent" not found' }));
    if (path.endsWith('/configmaps/stale')) return sendJson(res, 409, failureStatus(409, { reason: 'Conflict', message: 'the object has been modified' }));
    if (path.endsWith('/configmaps/html')) return void res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
    if (path.endsWith('/configmaps/garbled')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{not json');
    if (path.endsWith('/log')) return void res.writeHead(200, { 'content-type': 'text/plain' }).end('line 1\nline 2\n');
    const echoed = body.length > 0 ? (JSON.parse(body.toString()) as Record<string, unknown>) : {};
    sendJson(res, req.method === 'POST' ? 201 : 200, { ...echoed, metadata: { name: 'x', resourceVersion: '42', creationTimestamp: '2026-12-07T04:00:00Z' } });
  });
  let client: KubeObjectClient;

  before(async () => {
    await server.start();
    client = new KubeObjectClient(kubeConfigFor(server.url));
  });
  after(() => server.close());

  it('GET, POST, PUT, PATCH and DELETE send their method, path, JSON body and the kubeconfig\'s token', async () => {
    seen.length = 0;
    const got = await client.get<{ metadata: { resourceVersion: string; creationTimestamp: unknown } }>('/api/v1/namespaces/ns/configmaps/x', { params: { pretty: false } });
    assert.equal(got.metadata.resourceVersion, '42');
    assert.equal(got.metadata.creationTimestamp, '2026-12-07T04:00:00Z', 'plain JSON: dates stay strings');
    const created = await client.create('/api/v1/namespaces/ns/configmaps', { data: { a: '1' } });
    assert.deepEqual((created as { data: unknown }).data, { a: '1' });
    await client.replace('/api/v1/namespaces/ns/configmaps/x', { data: { a: '2' } });
    await client.patch('/api/v1/namespaces/ns/configmaps/x', { data: { a: '3' } });
    await client.patch('/api/v1/namespaces/ns/configmaps/x', [{ op: 'remove', path: '/data/a' }], 'application/json-patch+json');
    await client.delete('/api/v1/namespaces/ns/configmaps/x');
    assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), [
      'GET /api/v1/namespaces/ns/configmaps/x?pretty=false',
      'POST /api/v1/namespaces/ns/configmaps',
      'PUT /api/v1/namespaces/ns/configmaps/x',
      'PATCH /api/v1/namespaces/ns/configmaps/x',
      'PATCH /api/v1/namespaces/ns/configmaps/x',
      'DELETE /api/v1/namespaces/ns/configmaps/x',
    ]);
    assert.deepEqual(seen.map((s) => s.contentType), [undefined, 'application/json', 'application/json', 'application/merge-patch+json', 'application/json-patch+json', undefined]);
    assert.deepEqual(seen.map((s) => s.body), ['', '{"data":{"a":"1"}}', '{"data":{"a":"2"}}', '{"data":{"a":"3"}}', '[{"op":"remove","path":"/data/a"}]', '']);
    assert.ok(seen.every((s) => s.authorization === 'Bearer hermod-token' && s.accept === 'application/json'));
  });

  it("sends Hermod's User-Agent and none of fetch's headers: the request goes out through undici's dispatcher, not fetch", async () => {
    // fetch costs a third of a millisecond of CPU per request (docs/adr/0007, "CPU and memory at sync").
    seen.length = 0;
    await client.get('/api/v1/namespaces/ns/configmaps/x');
    await client.getText('/api/v1/namespaces/ns/pods/p/log');
    assert.equal(seen.length, 2);
    for (const { headers } of seen) {
      assert.equal(headers['user-agent'], USER_AGENT);
      assert.match(USER_AGENT, /^hermod\/\d+\.\d+\.\d+/);
      assert.deepEqual(Object.keys(headers).filter((h) => h.startsWith('sec-fetch-') || h === 'accept-language' || h === 'accept-encoding'), []);
    }
  });

  it('getText returns the body as text and accepts any type', async () => {
    seen.length = 0;
    assert.equal(await client.getText('/api/v1/namespaces/ns/pods/p/log', { params: { previous: true, tailLines: 5 } }), 'line 1\nline 2\n');
    assert.equal(seen[0]?.url, '/api/v1/namespaces/ns/pods/p/log?previous=true&tailLines=5');
    assert.equal(seen[0]?.accept, '*/*');
  });

  it('404 and 409 reject with a KubeApiError carrying the status, reason and the server\'s sentence', async () => {
    const absent = await client.get('/api/v1/namespaces/ns/configmaps/absent').catch((e: unknown) => e);
    assert.ok(absent instanceof KubeApiError);
    assert.equal(absent.statusCode, 404);
    assert.equal(absent.reason, 'NotFound');
    assert.equal(absent.message, 'GET /api/v1/namespaces/ns/configmaps/absent: HTTP 404 NotFound: configmaps "absent" not found');
    assert.equal(statusOf(absent), 404);
    const stale = await client.replace('/api/v1/namespaces/ns/configmaps/stale', { metadata: { resourceVersion: '1' } }).catch((e: unknown) => e);
    assert.equal(statusOf(stale), 409);
    assert.equal((stale as KubeApiError).reason, 'Conflict');
    assert.equal(kubeApiErrorSummary(stale), 'PUT /api/v1/namespaces/ns/configmaps/stale: HTTP 409 Conflict: the object has been modified');
  });

  it('an answer that is not a Status still rejects with its status code; a 200 that is not JSON is a KubeError', async () => {
    const html = await client.getText('/api/v1/namespaces/ns/configmaps/html').catch((e: unknown) => e);
    assert.equal(statusOf(html), 502);
    assert.equal((html as Error).message, 'GET /api/v1/namespaces/ns/configmaps/html: HTTP 502');
    const garbled = await client.get('/api/v1/namespaces/ns/configmaps/garbled').catch((e: unknown) => e);
    assert.ok(garbled instanceof KubeError && !(garbled instanceof KubeApiError), String(garbled));
    assert.equal(statusOf(garbled), undefined);
  });

  it('no answer at all rejects with the transport error, not a KubeApiError', async () => {
    const down = new KubeObjectClient(kubeConfigFor('http://127.0.0.1:9'));
    const err = await down.get('/api/v1/namespaces/ns/configmaps/x').catch((e: unknown) => e);
    assert.ok(err instanceof Error);
    assert.equal(statusOf(err), undefined);
  });
});

describe('the Lease as plain JSON (src/io/kube/lease.ts)', () => {
  it('writes MicroTimes with six fractional digits and reads them back to the millisecond', () => {
    const at = Date.UTC(2026, 11, 7, 4, 21, 35, 123);
    assert.equal(microTime(at), '2026-12-07T04:21:35.123000Z');
    const record = { holderIdentity: 'hermod-0_ab12', leaseDurationSeconds: 15, acquireTime: at, renewTime: at + 2000, leaseTransitions: 3 };
    const spec = specOf(record);
    assert.deepEqual(spec, { holderIdentity: 'hermod-0_ab12', leaseDurationSeconds: 15, acquireTime: '2026-12-07T04:21:35.123000Z', renewTime: '2026-12-07T04:21:37.123000Z', leaseTransitions: 3 });
    assert.deepEqual(recordOf(JSON.parse(JSON.stringify({ spec })) as LeaseJson), record);
    assert.deepEqual(recordOf({ spec: { holderIdentity: '', renewTime: 'garbage' } }), { holderIdentity: null, leaseDurationSeconds: 0, acquireTime: null, renewTime: null, leaseTransitions: 0 });
  });
});
