/** What /livez and /readyz answer, and the health metrics: src/io/health.ts, src/io/http.ts, src/io/metrics.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { liveness, readiness, recordingOutcomes, SlackHealth, StateHealth, TOKEN_REJECTED_LOG_EVERY_MS, WATCH_WEDGED_MS, wedgedWatches } from '../../src/io/health.js';
import { startOpsServer } from '../../src/io/http.js';
import type { ReflectorStats } from '../../src/io/kube/reflectorOptions.js';
import { createMetrics } from '../../src/io/metrics.js';
import { VERSION } from '../../src/io/version.js';

function recorder() {
  const lines: { level: string; msg: string }[] = [];
  return {
    lines,
    logger: { error: (_: object, msg: string) => lines.push({ level: 'error', msg }), info: (_: object, msg: string) => lines.push({ level: 'info', msg }) },
  };
}

describe('liveness', () => {
  it('fails only when a watch made no progress for longer than the bound', () => {
    const now = 10_000_000;
    assert.deepEqual(wedgedWatches({ pods: now - WATCH_WEDGED_MS, namespaces: now - 1, events: null }, now), []);
    assert.deepEqual(wedgedWatches({ pods: now - WATCH_WEDGED_MS - 1, namespaces: now - 1 }, now), ['pods']);
    const verdict = liveness({ pods: now - WATCH_WEDGED_MS - 1 }, now);
    assert.equal(verdict.ok, false);
    assert.match(verdict.reasons[0]!, /watch of pods made no progress for over 15 minutes/);
  });
});

describe('readiness', () => {
  it('fails before sync, when stopping, and while Slack rejects the token, naming each reason', () => {
    assert.deepEqual(readiness({ synced: true, stopping: false, tokenRejected: null }), { ok: true, reasons: [] });
    assert.equal(readiness({ synced: false, stopping: false, tokenRejected: null }).ok, false);
    assert.equal(readiness({ synced: true, stopping: true, tokenRejected: null }).ok, false);
    const rejected = readiness({ synced: true, stopping: false, tokenRejected: 'invalid_auth' });
    assert.equal(rejected.ok, false);
    assert.match(rejected.reasons.join('\n'), /Slack rejects the token \(invalid_auth\)/);
  });
});

describe('Slack health', () => {
  it('a rejected token is an error line repeated at a low rate, cleared by the next ok', () => {
    let now = 0;
    const { lines, logger } = recorder();
    const health = new SlackHealth(logger, () => now);
    health.record('ok');
    health.record('channel_not_found'); // a channel problem is not a token problem
    assert.equal(health.tokenRejected, null);
    health.record('invalid_auth');
    assert.equal(health.tokenRejected, 'invalid_auth');
    now += 60_000;
    health.remind();
    health.record('invalid_auth');
    assert.equal(lines.filter((l) => l.level === 'error').length, 1, 'once within the interval');
    now += TOKEN_REJECTED_LOG_EVERY_MS;
    health.remind();
    assert.equal(lines.filter((l) => l.level === 'error').length, 2, 'again after the interval');
    assert.match(lines[0]!.msg, /Slack rejects the token \(invalid_auth\).*SLACK_TOKEN/);
    health.record('ok');
    assert.equal(health.tokenRejected, null);
    assert.equal(health.secondsSinceSuccess(), 0);
  });

  it("records each call's outcome through the wrapper, Slack's code from the cause chain", async () => {
    const outcomes: string[] = [];
    const platformError = Object.assign(new Error('An API error occurred: invalid_auth'), { data: { error: 'invalid_auth' } });
    const api = {
      postMessage: async () => ({ ts: '1' }),
      updateMessage: async () => {
        throw new Error('Slack chat.update failed', { cause: platformError });
      },
    };
    const wrapped = recordingOutcomes(api, (o) => outcomes.push(o));
    assert.deepEqual(await wrapped.postMessage(), { ts: '1' });
    await assert.rejects(wrapped.updateMessage(), /chat.update failed/);
    assert.deepEqual(outcomes, ['ok', 'invalid_auth']);
  });
});

describe('health metrics and endpoints', () => {
  const stats = (over: Partial<ReflectorStats>): ReflectorStats => ({ objects: 0, lists: 1, watches: 1, expired: 0, idleRestarts: 0, errors: 0, openWatches: 1, lastActivityMs: null, ...over });

  it('exports build info, watch errors, restarts and idleness, Slack and state health', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const now = 1_000_000;
    const slack = new SlackHealth(recorder().logger, () => now);
    slack.record('ok');
    slack.record('token_revoked');
    const state = new StateHealth();
    state.saved(now - 5_000);
    state.failed();
    metrics.health({
      watches: () => ({ pods: stats({ errors: 3, idleRestarts: 2, expired: 1, openWatches: 48, lastActivityMs: now - 42_000 }), namespaces: stats({}) }),
      slack,
      state,
      now: () => now,
    });
    const text = await metrics.registry.metrics();
    assert.match(text, new RegExp(`hermod_build_info\\{version="${VERSION.replace(/\./g, '\\.')}",nodejs="v[\\d.]+"\\} 1`));
    assert.match(text, /hermod_watch_errors_total\{kind="pods"\} 3/);
    assert.match(text, /hermod_watch_restarts_total\{kind="pods",reason="idle"\} 2/);
    assert.match(text, /hermod_watch_restarts_total\{kind="pods",reason="expired"\} 1/);
    assert.match(text, /hermod_watch_seconds_since_activity\{kind="pods"\} 42/);
    assert.doesNotMatch(text, /hermod_watch_seconds_since_activity\{kind="namespaces"\}/);
    assert.match(text, /hermod_watches_open\{kind="pods"\} 48/);
    assert.match(text, /hermod_watches_open\{kind="namespaces"\} 1/);
    assert.match(text, /hermod_slack_token_rejected 1/);
    assert.match(text, /hermod_slack_seconds_since_success 0/);
    assert.match(text, /hermod_state_last_save_timestamp_seconds 995/);
    assert.match(text, /hermod_state_save_failing 1/);
    assert.match(text, /hermod_state_save_failures_total 1/);
    // Scraped twice, the counters do not double.
    assert.match(await metrics.registry.metrics(), /hermod_watch_errors_total\{kind="pods"\} 3/);
  });

  it('/livez and /readyz answer 503 with the reasons', async () => {
    let live = { ok: true, reasons: [] as string[] };
    const server = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      registry: createMetrics({ defaultMetrics: false }).registry,
      ready: () => readiness({ synced: true, stopping: false, tokenRejected: 'invalid_auth' }),
      live: () => live,
    });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      assert.equal((await fetch(`${base}/livez`)).status, 200);
      live = liveness({ pods: 0 }, WATCH_WEDGED_MS + 1);
      const livez = await fetch(`${base}/livez`);
      assert.equal(livez.status, 503);
      assert.match(await livez.text(), /watch of pods made no progress/);
      const readyz = await fetch(`${base}/readyz`);
      assert.equal(readyz.status, 503);
      assert.match(await readyz.text(), /Slack rejects the token \(invalid_auth\)/);
    } finally {
      await server.close();
    }
  });
});
