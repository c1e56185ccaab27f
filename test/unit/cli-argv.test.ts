/** The command line checked before cac parses it (src/io/commands/argv.ts), the help's environment list, and when source maps are on. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editDistance, preflight, suggest } from '../../src/io/commands/argv.js';
import { COMMANDS, enableSourceMapsFor, ENVIRONMENT_HELP } from '../../src/io/commands/cli.js';

const check = (argv: string[]) => preflight(argv, COMMANDS, 'run');

describe('hermod command line, before parsing', () => {
  it('refuses an unknown command with a suggestion instead of starting the notifier (hermod chek)', () => {
    const r = check(['chek', '--kubeconfig', '/x']);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.message, /unknown command "chek": did you mean check\?/);
  });

  it('refuses a word far from every command without a suggestion', () => {
    const r = check(['deploy']);
    assert.equal(r.ok, false);
    assert.doesNotMatch(r.ok ? '' : r.message, /did you mean/);
  });

  it('skips flag values when looking for the command', () => {
    assert.deepEqual(check(['--kubeconfig', 'check']), { ok: true, argv: ['--kubeconfig', 'check'] });
    assert.deepEqual(check(['--kubeconfig', '/k', 'check']), { ok: true, argv: ['--kubeconfig', '/k', 'check'] });
  });

  it('names an unknown flag as typed, with a suggestion', () => {
    const r = check(['--bogus-flag']);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.message, /^unknown option --bogus-flag$/);
    const typo = check(['notify-test', '--chanel', 'C1']);
    assert.match(typo.ok ? '' : typo.message, /unknown option --chanel for notify-test: did you mean --channel\?/);
  });

  it('knows flags per command (--channel belongs to notify-test only)', () => {
    assert.equal(check(['--channel', 'C1']).ok, false);
    assert.equal(check(['notify-test', '--channel', 'C1']).ok, true);
  });

  it('keeps a negative number as the value of the flag before it, so the range check sees it', () => {
    assert.deepEqual(check(['--failing-grace-seconds', '-5']), { ok: true, argv: ['--failing-grace-seconds=-5'] });
    assert.deepEqual(check(['--metrics-port=-1']), { ok: true, argv: ['--metrics-port=-1'] });
  });

  it('lets --help, -h, --version through', () => {
    for (const a of [['--help'], ['-h'], ['check', '--help'], ['--version'], ['-v']]) assert.equal(check(a).ok, true, a.join(' '));
  });

  it('suggests within a few edits only', () => {
    assert.equal(editDistance('chek', 'check'), 1);
    assert.equal(suggest('chek', ['run', 'check', 'demo']), 'check');
    assert.equal(suggest('xyzzy', ['run', 'check', 'demo']), null);
  });

  it('--help lists the environment variables a user must know', () => {
    const names = ENVIRONMENT_HELP.map(([n]) => n).join(' ');
    for (const v of ['SLACK_TOKEN', 'SENTRY_ENDPOINT', 'CLUSTER_NAME', 'POD_NAMESPACE', 'HTTPS_PROXY', 'NO_PROXY', 'NODE_EXTRA_CA_CERTS']) assert.ok(names.includes(v), v);
  });
});

describe('source maps (enableSourceMapsFor)', () => {
  const calls = (sentryDsn: string | null): boolean[] => {
    const seen: boolean[] = [];
    enableSourceMapsFor({ sentryDsn }, { setSourceMapsEnabled: (on: boolean) => void seen.push(on) });
    return seen;
  };
  it('are turned on when Sentry reports errors, and left as Node started (off in the image) otherwise', () => {
    assert.deepEqual(calls('http://key@sentry.example/1'), [true]);
    assert.deepEqual(calls(null), []);
  });
});
