import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileRedactions,
  CRASH_LOG_CHARS,
  CRASH_LOG_LINE_CHARS,
  crashLogFrom,
  crashLogTarget,
  DEFAULT_LOG_REDACTIONS,
  redact,
  REDACTED,
  unavailableCrashLog,
} from '../../src/machines/crashLog.js';
import type { ContainerFacts, PodFacts } from '../../src/machines/facts.js';
import { renderRollout, type Block, type SlackMessage } from '../../src/machines/message.js';
import type { CrashLog, RolloutView } from '../../src/machines/notification.js';
import { opts as renderOpts, view as baseView } from '../support/rolloutViews.js';

const defaults = compileRedactions(DEFAULT_LOG_REDACTIONS);
const target = { pod: 'api-5d9f8c7b6-x', container: 'api' };

function texts(blocks: readonly Block[]): string[] {
  return blocks.flatMap((b) => (b.type === 'context' ? b.elements.map((e) => e.text) : [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)]));
}

function channelText(m: SlackMessage): string {
  return [m.text, ...m.attachments.flatMap((a) => [a.fallback ?? '', ...texts(a.blocks)])].join('\n');
}

function threadText(m: SlackMessage): string {
  return m.thread ? [m.thread.text, ...texts(m.thread.blocks ?? [])].join('\n') : '';
}

/** A rollout failing because its one new pod crash-loops (the shared view, failing). */
function view(over: Partial<RolloutView> = {}): RolloutView {
  return baseView({
    phase: 'failing',
    startedAt: Date.UTC(2026, 0, 2),
    progress: { desired: 1, updated: 1, ready: 0, available: 0, old: 1 },
    diagnosis: { pods: 1, stuckPods: 1, problems: [{ source: 'container', reason: 'CrashLoopBackOff', container: 'api', exitCode: 1, count: 1 }] },
    ...over,
  });
}

const opts = renderOpts();

describe('redaction of log lines', () => {
  it('the default list covers Slack tokens, bearer tokens, password= and AWS keys', () => {
    const cases = [
      'token xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp posted',
      'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc',
      'connecting with password=hunter2 to db',
      'PASSWORD: "s3cr3t value"',
      'key AKIAIOSFODNN7EXAMPLE used',
      'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    ];
    for (const line of cases) {
      const out = redact(line, defaults);
      assert.ok(out.includes(REDACTED), `${line} -> ${out}`);
      for (const secret of ['xoxb-123', 'eyJhbGci', 'hunter2', 's3cr3t', 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI']) assert.equal(out.includes(secret), false, out);
    }
    assert.equal(redact('plain line, nothing secret', defaults), 'plain line, nothing secret');
  });

  it('extra patterns add to the list; a bad one is named', () => {
    const extra = compileRedactions([...DEFAULT_LOG_REDACTIONS, String.raw`card \d{4}-\d{4}`]);
    assert.equal(redact('card 1234-5678 ok', extra), `${REDACTED} ok`);
    assert.throws(() => compileRedactions(['(unclosed']), /invalid log redaction pattern "\(unclosed"/);
  });
});

describe('crashLogFrom: the last lines, bounded', () => {
  it('keeps the last N lines, redacted', () => {
    const raw = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n') + '\npassword=x\n';
    const log = crashLogFrom(target, raw, 3, defaults);
    assert.deepEqual(log.lines, ['line 48', 'line 49', REDACTED]);
    assert.equal(log.truncated, true);
    assert.equal(log.unavailable, null);
  });

  it('cuts a 10 KiB line and keeps the whole within CRASH_LOG_CHARS', () => {
    const huge = 'x'.repeat(10 * 1024);
    const log = crashLogFrom(target, Array.from({ length: 20 }, () => huge).join('\n'), 20, defaults);
    assert.ok(log.lines.every((l) => l.length < CRASH_LOG_LINE_CHARS + 40), 'each line cut');
    assert.ok(log.lines.join('\n').length <= CRASH_LOG_CHARS);
    assert.ok(log.lines[0]?.includes('more characters'));
    assert.equal(log.truncated, true);
  });

  it('an empty log has no lines', () => {
    assert.deepEqual(crashLogFrom(target, '', 20, defaults).lines, []);
  });
});

describe('crashLogTarget: the first stuck container of one new pod whose previous run ended', () => {
  const container = (over: Partial<ContainerFacts>): ContainerFacts => ({ name: 'api', init: false, ready: false, restartCount: 0, ...over });
  const pod = (name: string, containers: ContainerFacts[], deleting = false): PodFacts => ({ uid: name, namespace: 'payments', name, phase: 'Running', deleting, containers, conditions: [] });

  it('picks the first pod by name, init containers first, skipping pods being deleted', () => {
    const crashed = { restartCount: 2, lastTerminated: { exitCode: 1, reason: 'Error' } };
    const pods = [
      pod('api-b', [container({ name: 'migrate', init: true, ...crashed }), container(crashed)]),
      pod('api-a', [container({ name: 'api', ...crashed })], true),
    ];
    assert.deepEqual(crashLogTarget(pods), { namespace: 'payments', pod: 'api-b', container: 'migrate' });
  });

  it('none while no container has a previous run (an image that never pulled has no log)', () => {
    assert.equal(crashLogTarget([pod('api-a', [container({ waiting: { reason: 'ImagePullBackOff' } })])]), null);
    assert.equal(crashLogTarget([pod('api-a', [container({ ready: true, restartCount: 1, lastTerminated: { exitCode: 0 } })])]), null);
  });
});

describe('renderRollout: the crash log goes to the thread only', () => {
  const hostile = ['<!channel> deploy now', '<@U123> look', '<https://x|y>', 'a ``` b ` c', 'x'.repeat(10 * 1024), 'done &amp;'].join('\n');

  it('escapes and bounds hostile lines in the thread, never in the channel message', () => {
    const log = crashLogFrom(target, hostile, 20, defaults);
    const m = renderRollout(view({ crashLog: log }), opts);
    const thread = threadText(m);
    assert.ok(thread.includes('Last 6 lines of the previous (crashed) run of container `api` in pod `api-5d9f8c7b6-x`'), thread);
    assert.ok(thread.includes('&lt;!channel&gt; deploy now'));
    assert.ok(thread.includes('&lt;@U123&gt; look'));
    assert.ok(thread.includes('&lt;https://x|y&gt;'));
    assert.ok(thread.includes('done &amp;amp;'));
    for (const s of ['<!channel>', '<@U123>', '<https://x|y>']) assert.equal(thread.includes(s), false, s);
    const inner = thread.slice(thread.indexOf('```') + 3, thread.lastIndexOf('```'));
    assert.equal(inner.includes('`'), false, 'backticks cannot close the code block');
    assert.ok(thread.length < 4000, `${thread.length}`);
    assert.equal(channelText(m).includes('deploy now'), false, 'not in the channel message');
  });

  it('a log that cannot be read is one line, and the message goes on', () => {
    const m = renderRollout(view({ phase: 'failed', endedAt: Date.UTC(2026, 0, 2, 0, 10), crashLog: unavailableCrashLog(target, 'forbidden (403)') }), opts);
    assert.ok(threadText(m).includes('No crash log for container `api` in pod `api-5d9f8c7b6-x`: `forbidden (403)`.'), threadText(m));
    assert.ok(channelText(m).includes('`CrashLoopBackOff`'));
  });

  it('only failures show it', () => {
    const log: CrashLog = { ...target, lines: ['boom'], truncated: false, unavailable: null };
    assert.equal(renderRollout(view({ phase: 'progressing', crashLog: log }), opts).thread, null);
    assert.equal(renderRollout(view({ phase: 'succeeded', endedAt: Date.UTC(2026, 0, 2, 0, 1), crashLog: log }), opts).thread, null);
  });
});
