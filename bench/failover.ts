/**
 * `npm run bench:failover`: the failover scenario of test/integration/failover.test.ts at a
 * larger scale (issue 9): two real `hermod run` processes with leader election on the test
 * control plane (lease 4 s, renew deadline 3 s, retry 1 s), the local Slack, 100+ rollouts
 * (every fifth fails), 11 kill -9 of the leader (two right after Slack answered one of its
 * posts, the others at random moments up to 3 s after a post), 2 SIGTERM handovers, the killed instance started again each time, and a stretch with no
 * Hermod running (one more kill). Prints the figures, and on its last line one JSON object:
 * {"rollouts","kills","lost","duplicates","orphaned","failoverSecondsP50","failoverSecondsMax","handoverSecondsMax"}.
 *
 * Targets: lost 0, orphaned 0, duplicates 0 (at most 1 per 10 kills, only where a kill fell
 * between Slack's answer and the state write, and then counted), failover at most the lease
 * duration + 5 s, handover at most 3 s. Uses the control plane as the integration tests do:
 * run it alone (or under /tmp/hermod-cluster.lock).
 */
import { runFailover } from '../test/support/failover.js';
import { startHarness } from '../test/support/hermod-harness.js';

const h = await startHarness({ channels: ['ha'], startHermod: false });
const startedAt = Date.now();
try {
  // Two kills aimed right after Slack's answer to a post, the others at random moments.
  const rounds: Array<'kill' | 'kill-random' | 'term'> = [
    'kill', 'kill-random', 'kill-random', 'term', 'kill-random', 'kill-random', 'kill', 'kill-random', 'term', 'kill-random', 'kill-random', 'kill-random', 'kill-random',
  ];
  const result = await runFailover(h, { deployments: 40, rounds, batch: 5, failEvery: 5, log: (line) => console.log(line) });
  console.log(`took ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  console.log(`possible duplicates logged by Hermod: ${result.possibleDuplicates}`);
  console.log(`lost answers found in the channel history and edited (channels:history granted): ${result.recovered}`);
  for (const problem of result.problems) console.log(`problem: ${problem}`);
  const { rollouts, kills, lost, duplicates, orphaned, failoverSecondsP50, failoverSecondsMax, handoverSecondsMax } = result;
  console.log(JSON.stringify({ rollouts, kills, lost, duplicates, orphaned, failoverSecondsP50, failoverSecondsMax, handoverSecondsMax }));
} finally {
  await h.stop();
}
