/** The leader-election options of the configuration table (src/io/config.ts) and when election is on (src/io/kube/lease.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, resolveConfig } from '../../src/io/config.js';
import { leaderElectionTiming } from '../../src/io/kube/lease.js';

describe('leader-election configuration', () => {
  it("defaults to automatic (on when a namespace is known) with client-go's 15/10/2 s", () => {
    const c = resolveConfig({}, {});
    assert.equal(c.leaderElect, null);
    assert.deepEqual([c.leaseDurationSeconds, c.renewDeadlineSeconds, c.retryPeriodSeconds], [15, 10, 2]);
  });

  it('--leader-elect=false turns it off, as the flag parser hands it over in each spelling', () => {
    assert.equal(resolveConfig({ leaderElect: 'false' }, {}).leaderElect, false);
    assert.equal(resolveConfig({ leaderElect: false }, {}).leaderElect, false);
    assert.equal(resolveConfig({ leaderElect: true }, {}).leaderElect, true);
    assert.equal(resolveConfig({}, { HERMOD_LEADER_ELECT: 'false' }).leaderElect, false);
    assert.equal(resolveConfig({ leaderElect: 'true' }, { HERMOD_LEADER_ELECT: 'false' }).leaderElect, true);
    assert.throws(() => resolveConfig({ leaderElect: 'perhaps' }, {}), /--leader-elect must be true or false, got "perhaps"/);
  });

  it('takes the periods from flags and the environment', () => {
    const c = resolveConfig({ leaderElectLeaseDuration: 30 }, { HERMOD_LEADER_ELECT_RENEW_DEADLINE: '20', HERMOD_LEADER_ELECT_RETRY_PERIOD: '4' });
    assert.deepEqual([c.leaseDurationSeconds, c.renewDeadlineSeconds, c.retryPeriodSeconds], [30, 20, 4]);
  });

  it("refuses periods client-go would refuse, naming the flags", () => {
    assert.throws(
      () => resolveConfig({ leaderElectLeaseDuration: 10 }, {}),
      (e: unknown) => e instanceof ConfigError && /--leader-elect-renew-deadline \(10\) must be less than --leader-elect-lease-duration \(10\)/.test(e.message),
    );
    assert.throws(() => resolveConfig({ leaderElectRetryPeriod: 10 }, {}), /--leader-elect-retry-period \(10\) must be less than --leader-elect-renew-deadline \(10\)/);
    assert.throws(() => resolveConfig({ leaderElectRetryPeriod: 0 }, {}), /--leader-elect-retry-period must be a whole number from 1/);
  });
});

describe('leaderElectionTiming', () => {
  const defaults = resolveConfig({}, {});

  it('is on by default wherever Hermod has a namespace, with the configured periods in ms', () => {
    assert.deepEqual(leaderElectionTiming(defaults, 'hermod-system'), { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    assert.equal(leaderElectionTiming(defaults, null), null, 'no namespace, no Lease: off');
  });

  it('--leader-elect=false turns it off even with a namespace', () => {
    assert.equal(leaderElectionTiming({ ...defaults, leaderElect: false }, 'hermod-system'), null);
  });

  it('--leader-elect=true without a namespace is a configuration error that says what to set', () => {
    assert.throws(() => leaderElectionTiming({ ...defaults, leaderElect: true }, null), (e: unknown) => e instanceof ConfigError && /--state-namespace/.test(e.message));
  });
});
