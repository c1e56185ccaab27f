/**
 * Hermod's own errors reach Sentry (SENTRY_ENDPOINT) with useful context, through the real
 * @sentry/node against the local ingest; the Slack token appears in no event and no log line.
 * Sentry's client is global to a process, so this scenario has a file of its own.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';
import { startSentryServer, type SentryServer } from '../support/sentry-server.js';

describe('Sentry reporting on the real control plane', () => {
  let sentry: SentryServer;
  let h: Harness;
  const startedAt = Date.now();

  before(async () => {
    sentry = await startSentryServer();
    h = await startHarness({ channels: ['deploys'], env: { SENTRY_ENDPOINT: sentry.dsn } });
  });
  after(async () => {
    await h?.stop();
    await sentry?.close();
  });

  it('reports a channel Slack refuses, with the channel and error, and never the token', async () => {
    await h.createNamespace('wrong', { [SLACK_ANNOTATION]: 'no-such-channel' });
    await h.createDeployment({ namespace: 'wrong', name: 'api', replicas: 1 });
    const events = await sentry.waitForEvents(1, 60_000);
    const event = events.find((e) => JSON.stringify(e).includes('channel_not_found'));
    assert.ok(event, `an event about channel_not_found: ${JSON.stringify(events).slice(0, 2000)}`);
    assert.equal(event.tags?.['channel'], 'no-such-channel');
    assert.equal(event.tags?.['error'], 'channel_not_found');
    assert.equal(event.tags?.['cluster'], 'test');
    assert.match(event.exception?.values?.[0]?.value ?? '', /channel_not_found/);

    // The token is in neither the events Sentry received nor any of Hermod's log lines.
    await h.stopHermod();
    const token = h.slack.token;
    for (const body of sentry.rawBodies()) assert.equal(body.includes(token), false, 'the Slack token reached Sentry');
    const logs = readdirSync('test-artifacts')
      .filter((f) => f.startsWith('hermod-') && statSync(join('test-artifacts', f)).mtimeMs >= startedAt)
      .map((f) => readFileSync(join('test-artifacts', f), 'utf8'));
    assert.ok(logs.length > 0 && logs.some((l) => l.includes('channel_not_found')), 'the logs of this run were read');
    for (const log of logs) assert.equal(log.includes(token), false, 'the Slack token is in a log line');
  });
});
