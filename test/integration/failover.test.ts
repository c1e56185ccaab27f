/**
 * Exactly once through failover (issue 9), on the real control plane with the local Slack:
 * two real `hermod run` processes with leader election, 28 concurrent rollouts (every fourth
 * fails), kill -9 of the leader right after Slack answered one of its posts and at random
 * moments, a SIGTERM handover, the killed instance started again each time, and a stretch with no Hermod running
 * while rollouts start and end. For every rollout, from the local Slack's records: exactly
 * one top-level message (a second only where a kill fell between Slack's answer and the state
 * write, and then counted), its final version agrees with the controller's verdict, and no
 * ended rollout is left non-final. The scenario lives in test/support/failover.ts (bench/failover.ts
 * runs it larger).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runFailover } from '../support/failover.js';
import { startHarness, type Harness } from '../support/hermod-harness.js';

describe('two Hermods, kill -9 and SIGTERM of the leader, a stretch with none', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ channels: ['ha'], startHermod: false });
  });
  after(async () => {
    await h?.stop();
  });

  it('every rollout: exactly one message, showing the controller verdict', async () => {
    const result = await runFailover(h, {
      deployments: 12,
      rounds: ['kill', 'term', 'kill-random', 'kill-random'],
      batch: 4,
      failEvery: 4,
      log: (line) => console.log(line),
    });
    console.log(JSON.stringify(result));
    assert.ok(result.rollouts >= 20, `at least 20 rollouts, got ${result.rollouts}`);
    assert.ok(result.kills >= 4);
    const notDuplicates = result.problems.filter((p) => !p.endsWith('top-level messages'));
    assert.deepEqual(notDuplicates, [], 'lost or orphaned rollouts');
    assert.equal(result.lost, 0);
    assert.equal(result.orphaned, 0);
    // The one window (ADR 0006): a kill between Slack's answer to a first post and the state
    // write. The local Slack's token has channels:history, so the next leader finds such a post
    // and edits it (`recovered`); only a channel's very first post (its ID not known yet) is
    // re-sent, and then always counted.
    assert.ok(result.duplicates <= result.possibleDuplicates, `every duplicate is counted: ${JSON.stringify(result)}`);
    // Issue 9's target is at most 1 per 10 kills; this run aims kills at the window, so it only
    // asserts that none goes uncounted (bench/failover.ts reports the rate).
    assert.ok(result.handoverSecondsMax <= 3, `hand-over within 3 s: ${result.handoverSecondsMax}`);
    assert.ok(result.failoverSecondsMax <= 4 + 5, `failover within the lease duration + 5 s: ${result.failoverSecondsMax}`);
  });
});
