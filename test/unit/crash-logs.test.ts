import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CrashLogs, type CrashLogReader } from '../../src/actors/crashLogs.js';
import { createLogger } from '../../src/io/logger.js';
import { compileRedactions, DEFAULT_LOG_REDACTIONS } from '../../src/machines/crashLog.js';
import type { CrashLogTarget, Notification, RolloutPhase } from '../../src/machines/notification.js';

const target: CrashLogTarget = { namespace: 'payments', pod: 'api-x', container: 'api' };

function notification(phase: RolloutPhase, crashTarget: CrashLogTarget | null = target): Notification {
  return {
    rolloutId: 'uid/7',
    channel: 'deploys',
    alert: 'all',
    view: {
      rolloutId: 'uid/7', namespace: 'payments', deployment: 'api', revision: 7, previousRevision: 6, rolledBackTo: [], replicaSet: 'api-rs',
      phase, startedAt: 1, endedAt: phase === 'failed' ? 2 : null, adopted: false, progressDeadlineSeconds: 600,
      progress: { desired: 1, updated: 1, ready: 0, available: 0, old: 1 }, diagnosis: { pods: 1, stuckPods: 1, problems: [] },
      git: {}, supersededBy: null, detail: null, crashTarget,
    },
  };
}

/** A reader whose answers the test releases by hand, counting the reads. */
function manualReader(): { read: CrashLogReader; reads: CrashLogTarget[]; answer: (text: string) => void } {
  const waiting: Array<(r: { text: string }) => void> = [];
  const reads: CrashLogTarget[] = [];
  return {
    reads,
    read: (t) => {
      reads.push(t);
      return new Promise((resolve) => waiting.push(resolve));
    },
    answer: (text) => waiting.shift()?.({ text }),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const reader = manualReader();
  const sent: Notification[] = [];
  const logs = new CrashLogs(
    { read: reader.read, lines: 5, redactions: compileRedactions(DEFAULT_LOG_REDACTIONS), logger: createLogger('error') },
    (n: Notification) => sent.push(n),
  );
  return { reader, sent, logs };
}

describe('CrashLogs: the crash log, read once per rollout and container', () => {
  it('a failing notification goes on at once, and again with the redacted log once read', async () => {
    const { reader, sent, logs } = setup();
    logs.handle(notification('failing'), 'updated');
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.view.crashLog, undefined);
    reader.answer('starting\ntoken=abc123\npanic: boom\n');
    await settle();
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[1]?.view.crashLog?.lines, ['starting', '[redacted]', 'panic: boom']);
  });

  it('reads once: later notifications of the rollout reuse the log', async () => {
    const { reader, sent, logs } = setup();
    logs.handle(notification('failing'), 'updated');
    reader.answer('boom');
    await settle();
    logs.handle(notification('failing'), 'updated');
    logs.handle(notification('failed'), 'ended');
    assert.equal(reader.reads.length, 1);
    assert.deepEqual(sent.at(-1)?.view.crashLog?.lines, ['boom']);
    assert.equal(logs.size, 0, 'forgotten after the verdict');
  });

  it('holds a verdict until its read ends, so the final message carries the log', async () => {
    const { reader, sent, logs } = setup();
    logs.handle(notification('failed'), 'ended');
    assert.equal(sent.length, 0, 'held');
    reader.answer('last words');
    await settle();
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.view.phase, 'failed');
    assert.deepEqual(sent[0]?.view.crashLog?.lines, ['last words']);
    assert.equal(logs.size, 0);
  });

  it('passes other phases and rollouts without a crashed container straight through', () => {
    const { reader, sent, logs } = setup();
    logs.handle(notification('progressing'), 'started');
    logs.handle(notification('failing', null), 'updated');
    logs.handle(notification('succeeded', null), 'ended');
    assert.equal(reader.reads.length, 0);
    assert.equal(sent.length, 3);
    assert.equal(logs.size, 0);
  });
});
