import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, OPTIONS, redacted, resolveConfig } from '../../src/io/config.js';
import { VERSION } from '../../src/io/version.js';

describe('resolveConfig', () => {
  it('gives the original defaults with nothing set', () => {
    const c = resolveConfig({}, {});
    assert.equal(c.kubeconfig, null);
    assert.equal(c.level, 'info');
    assert.equal(c.repoUrlAnnotation, 'hermod.uswitch.com/gitrepo');
    assert.equal(c.commitShaAnnotation, 'hermod.uswitch.com/gitsha');
    assert.equal(c.gitAnnotationWarning, false);
    assert.equal(c.metricsPort, 2112);
    assert.equal(c.messageMode, 'update');
    assert.equal(c.failingGraceSeconds, 60);
    assert.equal(c.slackToken, null);
    assert.equal(c.sentryDsn, null);
    assert.equal(c.clusterName, null);
  });

  it('reads the original environment variables', () => {
    const c = resolveConfig({ kubeconfig: '/tmp/kc' }, { SLACK_TOKEN: 'xoxb-1', SENTRY_ENDPOINT: 'http://k@127.0.0.1:9/1', CLUSTER_NAME: 'prod' });
    assert.equal(c.slackToken, 'xoxb-1');
    assert.equal(c.sentryDsn, 'http://k@127.0.0.1:9/1');
    assert.equal(c.clusterName, 'prod');
    assert.equal(c.kubeconfig, '/tmp/kc');
  });

  it('lets a flag win over the environment, and the environment over the default', () => {
    assert.equal(resolveConfig({ level: 'debug' }, { HERMOD_LEVEL: 'warn' }).level, 'debug');
    assert.equal(resolveConfig({}, { HERMOD_LEVEL: 'warn' }).level, 'warn');
    assert.equal(resolveConfig({ failingGraceSeconds: 5 }, { HERMOD_FAILING_GRACE_SECONDS: '30' }).failingGraceSeconds, 5);
    assert.equal(resolveConfig({ gitAnnotationWarning: true }, {}).gitAnnotationWarning, true);
    assert.equal(resolveConfig({}, { HERMOD_GIT_ANNOTATION_WARNING: 'true' }).gitAnnotationWarning, true);
  });

  it('rejects bad values with a message naming the flag and the allowed values', () => {
    assert.throws(() => resolveConfig({ level: 'loud' }, {}), (e: unknown) => e instanceof ConfigError && /--level must be one of debug, info, warn, error, got "loud"/.test(e.message));
    assert.throws(() => resolveConfig({}, { HERMOD_MESSAGE_MODE: 'thread' }), /environment variable HERMOD_MESSAGE_MODE must be one of update, post/);
    assert.throws(() => resolveConfig({ metricsPort: 70000 }, {}), /--metrics-port must be a whole number from 0 to 65535/);
    assert.throws(() => resolveConfig({ failingGraceSeconds: '1.5' }, {}), /--failing-grace-seconds must be a whole number/);
    assert.throws(() => resolveConfig({}, { HERMOD_DRY_RUN: 'maybe' }), /HERMOD_DRY_RUN must be true or false/);
    assert.throws(() => resolveConfig({ level: ['info', 'debug'] }, {}), /--level was given more than once/);
    assert.throws(() => resolveConfig({ inspect: 'http://x' }, {}), /--inspect must be a ws:\/\/ or wss:\/\/ URL/);
  });

  it('reads --log-redact as a list (repeated flag, or one pattern a line in the environment) and refuses a pattern that does not compile', () => {
    assert.deepEqual(resolveConfig({ logRedact: ['a+', ' b '] }, {}).logRedact, ['a+', 'b']);
    assert.deepEqual(resolveConfig({}, { HERMOD_LOG_REDACT: 'x\n\ny' }).logRedact, ['x', 'y']);
    assert.throws(() => resolveConfig({ logRedact: '(' }, {}), (err: Error) => err instanceof ConfigError && /^--log-redact: .*"\("/.test(err.message));
    assert.throws(
      () => resolveConfig({}, { HERMOD_LOG_REDACT: 'ok\n[' }),
      (err: Error) => err instanceof ConfigError && err.message.startsWith('environment variable HERMOD_LOG_REDACT: '),
    );
  });

  it('takes secrets only from the environment', () => {
    for (const key of ['slackToken', 'sentryDsn']) {
      assert.equal(OPTIONS.find((o) => o.key === key)?.flag, null);
    }
    assert.equal(resolveConfig({ slackToken: 'xoxb-flag' }, {}).slackToken, null);
  });

  it('redacts secrets for logging', () => {
    const r = redacted(resolveConfig({}, { SLACK_TOKEN: 'xoxb-secret', SENTRY_ENDPOINT: 'http://k@h/1' }));
    assert.equal(JSON.stringify(r).includes('xoxb-secret'), false);
    assert.equal(JSON.stringify(r).includes('http://k@h/1'), false);
  });

  it('keeps VERSION equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(VERSION, pkg.version);
  });
});
