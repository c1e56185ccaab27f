/**
 * A bake resumed after a restart with no warm follower (issue 13, ADR 0011), on the real control
 * plane with the local Slack: one real `hermod run` process (state persisted, leader election
 * on) with `--bake-seconds 90`. Two Deployments succeed; Hermod is killed (SIGKILL); both
 * Deployments' pods then crash-loop; Hermod starts again.
 *
 * - `live`: the restart falls inside its bake window. The restarted Hermod resumes the watch for
 *   what is left of it and edits the SAME message to "succeeded, then degraded"; nothing else is
 *   posted; hermod_rollouts_degraded_total counts it once.
 * - `late` (the control): its window ended before the restart. No bake, nothing posted, its
 *   message untouched.
 *
 * What the saved state holds is read through test/support/savedState.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crashOnePod, waitUnavailable } from '../support/podStatus.js';
import { leads, spawnHermod, STATE_NS, type HermodProcess } from '../support/failover.js';
import { messageColour, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';
import { savedState } from '../support/savedState.js';
import { dump, GREEN, RED, waitForMessage } from '../support/scenario.js';

const BAKE_SECONDS = 90;
const FLAGS = ['--bake-seconds', String(BAKE_SECONDS)];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const title = (m: { text: string }) => m.text.split('\n')[0]!;

/** The kept record of `rolloutId` in the saved state: its window's end and what it remembers of the success. */
async function keptRecord(h: Harness, rolloutId: string) {
  const state = await savedState(h.cluster, STATE_NS);
  const record = state?.channels.flatMap((c) => c.rollouts).find((r) => r.rolloutId === rolloutId);
  return record?.bakeUntil != null && record.bakeOrigin !== undefined && record.ts !== null ? { bakeUntil: record.bakeUntil, ts: record.ts } : undefined;
}

/** A metric of a Hermod process, from its /metrics endpoint (the port its log names). */
async function metric(p: HermodProcess, sample: string, labels: Record<string, string>): Promise<number> {
  const port = p.logs().find((l) => l.msg.startsWith('serving /metrics'))?.['port'];
  assert.equal(typeof port, 'number', 'the metrics port in the log');
  const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text
    .split('\n')
    .filter((line) => line.split(/[{ ]/, 1)[0] === sample && wanted.every((w) => line.includes(w)))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('a bake resumed after a restart (kill -9, no warm follower)', () => {
  let h: Harness;
  const processes: HermodProcess[] = [];
  const start = async (name: string) => {
    const p = spawnHermod(h, name, FLAGS);
    processes.push(p);
    await h.waitFor(`${name} to lead`, () => leads(p), 60_000);
    return p;
  };

  before(async () => {
    h = await startHarness({ channels: ['live', 'late'], startHermod: false });
    await h.createNamespace(STATE_NS);
  });
  after(async () => {
    for (const p of processes) if (p.alive()) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    // Their logs, for a failure's post-mortem.
    mkdirSync('test-artifacts', { recursive: true });
    for (const p of processes) writeFileSync(join('test-artifacts', `restart-bake-${p.name}.log`), p.logs().map((l) => JSON.stringify(l)).join('\n') + '\n' + p.stderr());
    await h?.stop();
  });

  it('inside the window: the same message turns "succeeded, then degraded"; after it: nothing', async () => {
    const first = await start('hermod-a');

    // `late` first: its window ends before the restart.
    await h.createNamespace('late', { [SLACK_ANNOTATION]: 'late' });
    await h.createDeployment({ namespace: 'late', name: 'db' });
    await waitForMessage(h, 'late', 'db', 1, 'green', (m) => messageColour(m) === GREEN);
    const lateId = `${(await h.getDeployment('late', 'db')).metadata?.uid}/1`;
    const late = await h.waitFor('the kept record of late/db saved', () => keptRecord(h, lateId));
    // `live` succeeds well after, so that its window is still open after late's has ended.
    await sleep(Math.max(0, late.bakeUntil - Date.now() - 40_000));
    await h.createNamespace('live', { [SLACK_ANNOTATION]: 'live' });
    await h.createDeployment({ namespace: 'live', name: 'api' });
    const green = await waitForMessage(h, 'live', 'api', 1, 'green', (m) => messageColour(m) === GREEN);
    const liveId = `${(await h.getDeployment('live', 'api')).metadata?.uid}/1`;
    const live = await h.waitFor('the kept record of live/api saved', () => keptRecord(h, liveId));
    assert.equal(live.ts, green.ts);

    first.child.kill('SIGKILL');
    await first.exited;
    const posts = () => h.slack.requests().filter((r) => r.method === 'chat.postMessage').length;
    const postsBefore = posts();
    const lateEdits = h.messages('late')[0]!.history.length;

    // While no Hermod runs: both Deployments' pods crash-loop (no new revision).
    await crashOnePod(h, 'live', 'api');
    await crashOnePod(h, 'late', 'db');
    await waitUnavailable(h, 'live', 'api');
    await waitUnavailable(h, 'late', 'db');
    await sleep(Math.max(0, late.bakeUntil + 1_000 - Date.now()));
    assert.ok(live.bakeUntil - Date.now() > 20_000, `live's window still open at the restart: ${live.bakeUntil - Date.now()} ms left`);

    const second = await start('hermod-b');
    const m = await waitForMessage(h, 'live', 'api', 1, 'degraded', (x) => title(x).endsWith('succeeded, then degraded'), 60_000);
    assert.equal(m.ts, green.ts, 'the message posted before the restart, edited');
    assert.equal(h.messages('live').length, 1, 'no second message');
    assert.equal(messageColour(m), RED, dump(m));
    assert.match(JSON.stringify(m.attachments), /CrashLoopBackOff/, dump(m));
    assert.ok(Date.now() < live.bakeUntil, 'degraded within the success\'s window, not a fresh one');
    // The message says the same about the success as before (how long it took): only the verdict changed.
    const took = (v: { attachments?: unknown[] }) => /took ((\d+m ?)?(\d+s)?)/.exec(JSON.stringify(v.attachments))?.[1];
    const success = m.history.findLast((v) => messageColour(v) === GREEN);
    assert.ok(success !== undefined && took(success) !== undefined, dump(m));
    assert.equal(took(m), took(success), dump(m));
    assert.equal(await metric(second, 'hermod_rollouts_degraded_total', { kind: 'Deployment' }), 1, 'counted once');

    // The control: late's window was over; its crash-looping pods are no news.
    await sleep(5_000);
    const lateMessage = h.messages('late')[0]!;
    assert.equal(h.messages('late').length, 1);
    assert.equal(lateMessage.history.length, lateEdits, `late's message untouched: ${dump(lateMessage)}`);
    assert.equal(messageColour(lateMessage), GREEN);
    // The degraded edit is an edit: no post after the restart (the thread reply aside).
    const newPosts = h.slack.requests().filter((r) => r.method === 'chat.postMessage').slice(postsBefore);
    assert.ok(
      newPosts.every((r) => r.threadTs === green.ts),
      `only the degraded message's thread reply was posted: ${JSON.stringify(newPosts)}`,
    );
    // Said once: the degraded verdict is final for the rollout.
    const edits = h.messages('live')[0]!.history.length;
    await sleep(3_000);
    assert.equal(h.messages('live')[0]!.history.length, edits);
  });
});
