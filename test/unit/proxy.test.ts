/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY for Slack and Sentry (src/io/proxy.ts): the real
 * @slack/web-api client and the real @sentry/node SDK, against the local Slack and Sentry,
 * through a CONNECT proxy on loopback (test/support/connect-proxy.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bypassesProxy, proxyEnv, proxyFor } from '../../src/io/proxy.js';
import { startSentry } from '../../src/io/sentry.js';
import { createSlackApi, createSlackClient } from '../../src/io/slack.js';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js';
import { startSentryServer, type SentryServer } from '../support/sentry-server.js';
import { startSlackServer, type SlackServer } from '../support/slack-server.js';

describe('proxy choice', () => {
  it('reads upper- and lower-case names, HTTPS_PROXY falling back to HTTP_PROXY', () => {
    assert.deepEqual(proxyEnv({ https_proxy: 'http://p:1', NO_PROXY: 'a' }), { httpProxy: undefined, httpsProxy: 'http://p:1', noProxy: 'a' });
    assert.deepEqual(proxyEnv({ HTTP_PROXY: 'http://p:2' }), { httpProxy: 'http://p:2', httpsProxy: 'http://p:2', noProxy: undefined });
  });

  it('NO_PROXY exempts hosts, domains, host:port and *', () => {
    const u = new URL('https://hooks.slack.com/api/');
    assert.equal(bypassesProxy(u, 'slack.com'), true);
    assert.equal(bypassesProxy(u, '.slack.com'), true);
    assert.equal(bypassesProxy(u, '*.slack.com'), true);
    assert.equal(bypassesProxy(u, 'hooks.slack.com:443'), true);
    assert.equal(bypassesProxy(u, 'hooks.slack.com:8443'), false);
    assert.equal(bypassesProxy(u, 'notslack.com,example.org'), false);
    assert.equal(bypassesProxy(u, '*'), true);
    assert.equal(proxyFor('https://slack.com/api/', { httpProxy: undefined, httpsProxy: 'http://p:3', noProxy: 'kubernetes.default.svc' }), 'http://p:3');
    assert.equal(proxyFor('http://sentry.local/', { httpProxy: 'http://p:4', httpsProxy: 'http://p:3', noProxy: undefined }), 'http://p:4');
  });
});

describe('Slack and Sentry through a proxy', () => {
  let proxy: ConnectProxy;
  let slack: SlackServer;
  let sentry: SentryServer;
  before(async () => {
    proxy = await startConnectProxy();
    slack = await startSlackServer({ channels: [{ name: 'deploys' }] });
    sentry = await startSentryServer();
  });
  after(async () => {
    await proxy.close();
    await slack.close();
    await sentry.close();
  });

  const slackHost = () => new URL(slack.url).host;

  it('Slack calls go through HTTP_PROXY', async () => {
    proxy.seen.length = 0;
    const client = createSlackClient({ token: slack.token, slackApiUrl: slack.url, proxy: { httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: undefined } });
    const auth = await client.auth.test();
    assert.equal(auth.ok, true);
    const posted = await createSlackApi(client).postMessage({ channel: 'deploys', text: 'through the proxy' });
    assert.ok(posted.ts !== '');
    assert.ok(proxy.seen.some((t) => t.includes(slackHost())), `the proxy saw ${JSON.stringify(proxy.seen)}`);
  });

  it('NO_PROXY bypasses it', async () => {
    proxy.seen.length = 0;
    const client = createSlackClient({ token: slack.token, slackApiUrl: slack.url, proxy: { httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: '127.0.0.1' } });
    assert.equal((await client.auth.test()).ok, true);
    assert.deepEqual(proxy.seen, []);
  });

  it('Sentry events go through it too', async () => {
    proxy.seen.length = 0;
    const reporter = startSentry({ dsn: sentry.dsn, release: 'test', clusterName: null, secrets: [], proxy: { httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: undefined } });
    reporter.report(new Error('through the proxy'));
    await reporter.close(5_000);
    assert.ok(proxy.seen.some((t) => t.includes(new URL(sentry.dsn).host)), `the proxy saw ${JSON.stringify(proxy.seen)}`);
  });
});
