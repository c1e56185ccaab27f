/**
 * The rules of src/machines/crashLog.ts one small scenario each (issue 15): which container's
 * previous run is read, how the raw log is split into lines, and the bounds at their limits.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CRASH_LOG_BYTES,
  CRASH_LOG_CHARS,
  CRASH_LOG_LINE_CHARS,
  crashLogFrom,
  crashLogTarget,
  unavailableCrashLog,
} from '../../src/machines/crashLog.js';
import type { ContainerFacts, PodFacts } from '../../src/machines/facts.js';

const target = { pod: 'api-x', container: 'api' };
const crashed: ContainerFacts = { name: 'api', init: false, ready: false, restartCount: 2, lastTerminated: { reason: 'Error', exitCode: 1 } };

function pod(name: string, containers: ContainerFacts[] = [crashed]): PodFacts {
  return { uid: `uid-${name}`, namespace: 'payments', name, phase: 'Running', deleting: false, containers, conditions: [] };
}

function lines(raw: string, maxLines = 20): { lines: string[]; truncated: boolean } {
  const log = crashLogFrom(target, raw, maxLines, []);
  return { lines: log.lines, truncated: log.truncated };
}

describe('crash log rules: which container is read', () => {
  it('the first Pod by name is read, whatever order the Pods come in', () => {
    for (const names of [['api-c', 'api-b', 'api-a'], ['api-b', 'api-c', 'api-a'], ['api-c', 'api-a', 'api-b']]) {
      assert.equal(crashLogTarget(names.map((n) => pod(n)))?.pod, 'api-a', names.join(','));
    }
  });

  it('a container that never restarted has no previous run to read, even with a last state', () => {
    assert.equal(crashLogTarget([pod('api-a', [{ ...crashed, restartCount: 0 }])]), null);
  });

  it('a restarted container without a terminated last state is not read', () => {
    const { lastTerminated: _, ...noLastState } = crashed;
    assert.equal(crashLogTarget([pod('api-a', [noLastState])]), null);
  });

  it('a restarted container with a terminated last state is read', () => {
    assert.deepEqual(crashLogTarget([pod('api-a', [{ ...crashed, restartCount: 1 }])]), { namespace: 'payments', pod: 'api-a', container: 'api' });
  });
});

describe('crash log rules: lines', () => {
  it('the API is asked for at most 32 KiB', () => {
    assert.equal(CRASH_LOG_BYTES, 32_768);
  });

  it('a lone carriage return ends a line, as CRLF does', () => {
    assert.deepEqual(lines('one\rtwo\r\nthree').lines, ['one', 'two', 'three']);
  });

  it('every trailing newline is dropped, not only the last', () => {
    assert.deepEqual(lines('one\n\n\n'), { lines: ['one'], truncated: false });
  });

  it('a log that starts with an empty line keeps both lines', () => {
    assert.deepEqual(lines('\nlast').lines, ['', 'last']);
  });

  it('exactly maxLines lines are all kept and not marked cut; one more is', () => {
    assert.deepEqual(lines('a\nb\nc', 3), { lines: ['a', 'b', 'c'], truncated: false });
    assert.deepEqual(lines('a\nb\nc\nd', 3), { lines: ['b', 'c', 'd'], truncated: true });
  });

  it('a line of exactly the line limit is kept whole; a longer one is cut and counted', () => {
    const exact = 'x'.repeat(CRASH_LOG_LINE_CHARS);
    assert.deepEqual(lines(exact), { lines: [exact], truncated: false });
    const long = lines('y'.repeat(CRASH_LOG_LINE_CHARS + 5));
    assert.deepEqual(long, { lines: [`${'y'.repeat(CRASH_LOG_LINE_CHARS)}… (5 more characters)`], truncated: true });
  });

  it('a log exactly at the character limit (each line plus its newline) is kept whole', () => {
    const line = 'z'.repeat(CRASH_LOG_CHARS / 8 - 1);
    const raw = Array.from({ length: 8 }, () => line).join('\n');
    assert.deepEqual(lines(raw), { lines: Array.from({ length: 8 }, () => line), truncated: false });
  });

  it('one character over the limit drops the oldest line', () => {
    const newer = Array.from({ length: 7 }, (_, i) => String(i).repeat(CRASH_LOG_CHARS / 8 - 1));
    const oldest = 'o'.repeat(CRASH_LOG_CHARS / 8);
    assert.deepEqual(lines([oldest, ...newer].join('\n')), { lines: newer, truncated: true });
  });

  it('each kept line costs its length plus one newline', () => {
    const raw = Array.from({ length: CRASH_LOG_CHARS }, () => 'x').join('\n');
    const log = lines(raw, CRASH_LOG_CHARS);
    assert.equal(log.lines.length, CRASH_LOG_CHARS / 2);
    assert.equal(log.truncated, true);
  });

  it('an unreadable log has no lines, is not cut, and says why', () => {
    assert.deepEqual(unavailableCrashLog(target, 'forbidden'), { pod: 'api-x', container: 'api', lines: [], truncated: false, unavailable: 'forbidden' });
  });
});
