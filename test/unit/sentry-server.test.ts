/**
 * The local Sentry ingest against the REAL @sentry/node SDK. Sentry.init is global per
 * process, so this file owns it (node --test runs each file in its own process).
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import * as Sentry from '@sentry/node';
import { parseEnvelope, startSentryServer, type SentryServer } from '../support/sentry-server.js';

describe('local Sentry ingest', () => {
  let sentry: SentryServer;
  before(async () => {
    sentry = await startSentryServer();
    Sentry.init({ dsn: sentry.dsn, defaultIntegrations: false, release: 'hermod@test', environment: 'unit' });
  });
  after(async () => {
    await Sentry.close(2000);
    await sentry.close();
  });

  it('receives an exception captured by @sentry/node with type, value and stack', async () => {
    class SlackDeliveryError extends Error {
      override name = 'SlackDeliveryError';
    }
    Sentry.withScope((scope) => {
      scope.setTag('channel', '#deploys');
      scope.setContext('slack', { error: 'channel_not_found' });
      Sentry.captureException(new SlackDeliveryError('channel_not_found for #deploys'));
    });
    assert.equal(await Sentry.flush(2000), true);
    const [event] = await sentry.waitForEvents(1);
    const ex = event?.exception?.values?.[0];
    assert.equal(ex?.type, 'SlackDeliveryError');
    assert.equal(ex?.value, 'channel_not_found for #deploys');
    assert.ok(ex?.stacktrace !== undefined);
    assert.equal(event?.tags?.['channel'], '#deploys');
    assert.deepEqual(event?.contexts?.['slack'], { error: 'channel_not_found' });
    assert.equal(event?.release, 'hermod@test');
    const env = sentry.envelopes().at(-1);
    assert.equal(env?.auth['sentry_key'], 'public');
    assert.equal(env?.auth['sentry_version'], '7');
    assert.equal(env?.chunked, true);
  });

  it('accepts gzipped bodies (the SDK compresses envelopes over 32 KiB)', async () => {
    const before = sentry.events().length;
    Sentry.captureMessage('big', { level: 'warning', extra: { blob: 'x'.repeat(64 * 1024) } });
    assert.equal(await Sentry.flush(2000), true);
    const events = await sentry.waitForEvents(before + 1);
    const big = events.at(-1);
    assert.equal(big?.message, 'big');
    assert.equal((big?.extra?.['blob'] as string).length, 64 * 1024);
    assert.equal(sentry.envelopes().at(-1)?.contentEncoding, 'gzip');
  });

  it('parses items with a length header (binary payloads) and without a trailing newline', async () => {
    const bin = Buffer.from([0x00, 0x0a, 0xff, 0x0a]);
    const body = Buffer.concat([
      Buffer.from('{"event_id":"abc"}\n{"type":"attachment","length":4,"filename":"x.bin"}\n'),
      bin,
      Buffer.from('\n{"type":"event"}\n{"message":"after binary"}'),
    ]);
    const parsed = parseEnvelope(body);
    assert.equal(parsed.items.length, 2);
    assert.deepEqual(parsed.items[0]?.payload, bin);
    assert.deepEqual(parsed.items[1]?.payload, { message: 'after binary' });
    const res = await fetch(`http://127.0.0.1:${sentry.port}/api/1337/envelope/?sentry_key=public&sentry_version=7`, {
      method: 'POST',
      headers: { 'content-encoding': 'gzip' },
      body: gzipSync(body),
    });
    assert.equal(res.status, 200);
    assert.equal(sentry.events().at(-1)?.message, 'after binary');
  });

  it('rejects a wrong key', async () => {
    const res = await fetch(`http://127.0.0.1:${sentry.port}/api/1337/envelope/?sentry_key=nope`, { method: 'POST', body: '{}\n' });
    assert.equal(res.status, 401);
  });
});
