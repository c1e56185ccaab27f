/** Network failures and API errors as one line a person can act on; the logger keeps the cause, level names and unset secrets. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { redacted, resolveConfig } from '../../src/io/config.js';
import { describeKubeError } from '../../src/io/kube/describe.js';
import { createLogger, serializeError } from '../../src/io/logger.js';
import { describeConnectionError, networkProblem } from '../../src/io/netErrors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('connection errors', () => {
  it('names the host, the cause and what to do, from the cause chain', () => {
    const refused = new TypeError('fetch failed', { cause: withCode('connect ECONNREFUSED 10.0.0.1:443', 'ECONNREFUSED') });
    assert.equal(
      describeConnectionError(refused, 'https://10.0.0.1:443/api'),
      'cannot reach 10.0.0.1: connection refused (ECONNREFUSED): check the address and port, and that the server is running',
    );
    const cases: [Error, string, RegExp][] = [
      [withCode('getaddrinfo ENOTFOUND slack.com', 'ENOTFOUND'), 'dns', /HTTPS_PROXY/],
      [withCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), 'certificate', /NODE_EXTRA_CA_CERTS/],
      [withCode('Connect Timeout Error', 'UND_ERR_CONNECT_TIMEOUT'), 'timeout', /firewalls/],
      [Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }), 'timeout', /proxy/],
    ];
    for (const [cause, kind, advice] of cases) {
      const problem = networkProblem(new Error('A request error occurred: fetch failed', { cause }));
      assert.equal(problem?.cause, kind, cause.message);
      assert.match(problem?.advice ?? '', advice);
    }
  });

  it("reads @slack/web-api's `original` as a cause", () => {
    const err = Object.assign(new Error('A request error occurred'), { code: 'slack_webapi_request_error', original: withCode('getaddrinfo EAI_AGAIN', 'EAI_AGAIN') });
    assert.equal(networkProblem(err)?.cause, 'dns');
  });

  it('is null for errors that are not network failures, and then shows every message in the chain', () => {
    const err = new TypeError('fetch failed', { cause: new Error('bad port') });
    assert.equal(networkProblem(err), null);
    assert.equal(describeConnectionError(err, 'http://h:1/'), 'h:1: fetch failed: bad port');
  });

  it('a real refused connection is recognised', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const err = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    assert.match(describeConnectionError(err, `http://127.0.0.1:${port}/`), new RegExp(`cannot reach 127.0.0.1:${port}: connection refused`));
  });

  it('a Kubernetes API error is its status and the server sentence, not the HTTP dump', () => {
    const body = JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'configmaps "hermod-state" is forbidden: User "u" cannot get resource' });
    const err = new ApiException(403, `HTTP-Code: 403\nMessage: Unknown API Status Code!\nBody: ${body}\nHeaders: {"audit-id":"x"}`, body, { 'audit-id': 'x' });
    assert.equal(describeKubeError(err, 'https://k:6443'), 'HTTP 403 Forbidden: configmaps "hermod-state" is forbidden: User "u" cannot get resource');
    const logged = serializeError(err);
    assert.equal(logged['message'], 'HTTP 403 Forbidden: configmaps "hermod-state" is forbidden: User "u" cannot get resource');
    assert.doesNotMatch(JSON.stringify(logged), /audit-id|Headers/);
  });
});

describe('log lines', () => {
  function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    return { lines, stream };
  }

  it('name the level, keep the cause of an error and say what to do', () => {
    const { lines, stream } = capture();
    const logger = createLogger('info', stream, 'json');
    logger.warn({ err: new TypeError('fetch failed', { cause: withCode('connect ECONNREFUSED 10.0.0.1:443', 'ECONNREFUSED') }) }, 'list failed');
    const line = lines[0]!;
    assert.equal(line['level'], 'warn');
    const err = line['err'] as { cause: { message: string }[]; network: string };
    assert.equal(err.cause[0]?.message, 'connect ECONNREFUSED 10.0.0.1:443');
    assert.match(err.network, /^connection refused: /);
  });

  it('show an unset secret as unset and a set one as set, never its value', () => {
    const { lines, stream } = capture();
    const logger = createLogger('info', stream, 'json');
    logger.info({ settings: redacted(resolveConfig({}, { SLACK_TOKEN: 'xoxb-secret-value' })) }, 'hermod starting');
    const settings = lines[0]!['settings'] as Record<string, unknown>;
    assert.equal(settings['slackToken'], 'set');
    assert.equal(settings['sentryDsn'], 'unset');
    assert.doesNotMatch(JSON.stringify(lines), /xoxb-secret-value/);
  });

  it('text format writes readable lines', () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger('info', stream, 'text');
    logger.info({ channel: 'C1' }, 'delivered');
    assert.match(chunks.join(''), /INFO.*delivered/);
    assert.doesNotMatch(chunks.join(''), /^\{/);
  });
});

describe('Slack errors for a person', () => {
  it('give the advice run gives for a refused token or channel, and the host for a network failure', async () => {
    const { describeSlackError } = await import('../../src/io/slackErrors.js');
    const { ErrorCode } = await import('@slack/web-api');
    const platform = (error: string) => new Error('Slack chat.postMessage failed', { cause: Object.assign(new Error(`An API error occurred: ${error}`), { code: ErrorCode.PlatformError, data: { ok: false, error } }) });
    assert.equal(describeSlackError(platform('not_in_channel'), 'https://slack.com/api/', '#deploys'), 'Slack answered not_in_channel: invite the Hermod app to #deploys');
    assert.match(describeSlackError(platform('invalid_auth'), 'https://slack.com/api/'), /^Slack answered invalid_auth: .*SLACK_TOKEN/);
    const dns = Object.assign(new Error('A request error occurred'), { code: ErrorCode.RequestError, original: withCode('getaddrinfo ENOTFOUND slack.com', 'ENOTFOUND') });
    assert.match(describeSlackError(dns, 'https://slack.com/api/'), /^cannot reach slack\.com: the host name does not resolve \(DNS\)/);
  });
});
