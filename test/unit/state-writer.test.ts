/**
 * The write-through state writer (src/io/kube/stateWriter.ts): one fenced write per window,
 * however many changes; a change resolves once a write that includes it is stored; a fenced
 * write ends the writer. The store here keeps a resourceVersion with the API server's
 * precondition rule; the ConfigMap store itself runs against the real control plane in
 * test/integration/state-store.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WriteResult } from '../../src/io/kube/stateStore.js';
import { createStateWriter, type PersistResult } from '../../src/io/kube/stateWriter.js';

/** A ConfigMap-like store: a value and a resourceVersion, writes only at the current version. */
class FencedStore<S> {
  value: S | undefined;
  version = 0;
  writes: Array<{ value: S; resourceVersion: string | null }> = [];
  inFlight = 0;
  maxInFlight = 0;
  /** The next n writes reject (an unreachable API server). */
  failNext = 0;
  /** Holds every write until released. */
  gate: Promise<void> = Promise.resolve();

  async write(value: S, resourceVersion: string | null): Promise<WriteResult> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.gate;
      this.writes.push({ value, resourceVersion });
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('connect ECONNREFUSED');
      }
      const current = this.version === 0 ? null : String(this.version);
      if (resourceVersion !== current) return { kind: 'fenced', reason: `changed since resourceVersion ${resourceVersion}` };
      this.value = value;
      this.version++;
      return { kind: 'written', resourceVersion: String(this.version) };
    } finally {
      this.inFlight--;
    }
  }

  /** Someone else writes. */
  overwrite(value: S): void {
    this.value = value;
    this.version++;
  }
}

describe('write-through state writer', () => {
  it('a burst of changes makes one write, and every change resolves durable with the latest state in it', { timeout: 5_000 }, async () => {
    const store = new FencedStore<number>();
    let state = 0;
    const writer = createStateWriter({ store, snapshot: () => state, resourceVersion: null, windowMs: 20 });
    const done: Promise<PersistResult>[] = [];
    for (let i = 1; i <= 100; i++) {
      state = i;
      done.push(writer.persist());
    }
    assert.deepEqual(new Set(await Promise.all(done)), new Set(['durable']));
    assert.equal(store.writes.length, 1);
    assert.equal(store.value, 100);
    assert.equal(writer.writes, 1);
    writer.stop();
  });

  it('changes made while a write is under way go in the next write, one at a time, each at the last resourceVersion', { timeout: 5_000 }, async () => {
    const store = new FencedStore<string>();
    let state = 'a';
    let release!: () => void;
    store.gate = new Promise((resolve) => (release = resolve));
    const writer = createStateWriter({ store, snapshot: () => state, resourceVersion: null, windowMs: 10 });
    const first = writer.persist();
    while (store.inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    state = 'b';
    const second = writer.persist();
    const third = writer.persist();
    release();
    assert.deepEqual(await Promise.all([first, second, third]), ['durable', 'durable', 'durable']);
    assert.deepEqual(store.writes, [{ value: 'a', resourceVersion: null }, { value: 'b', resourceVersion: '1' }]);
    assert.equal(store.maxInFlight, 1, 'never two writes at once');
    assert.equal(writer.resourceVersion, '2');
    writer.stop();
  });

  it('resolves nothing before the write that includes the change has returned', { timeout: 5_000 }, async () => {
    const store = new FencedStore<number>();
    let release!: () => void;
    store.gate = new Promise((resolve) => (release = resolve));
    const writer = createStateWriter({ store, snapshot: () => 1, resourceVersion: null, windowMs: 1 });
    let result: PersistResult | 'pending' = 'pending';
    const done = writer.persist().then((r) => (result = r));
    while (store.inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(result, 'pending');
    release();
    await done;
    assert.equal(result, 'durable');
    writer.stop();
  });

  it('a fenced write ends the writer: every change resolves fenced, onFenced once, nothing more is written', { timeout: 5_000 }, async () => {
    const store = new FencedStore<number>();
    store.overwrite(7);
    const fencedFor: string[] = [];
    const writer = createStateWriter({ store, snapshot: () => 1, resourceVersion: null, windowMs: 1, onFenced: (reason) => fencedFor.push(reason) });
    assert.deepEqual(await Promise.all([writer.persist(), writer.persist()]), ['fenced', 'fenced']);
    assert.equal(await writer.persist(), 'fenced');
    assert.equal(await writer.flush(), 'fenced');
    assert.equal(writer.fenced, true);
    assert.equal(store.writes.length, 1);
    assert.equal(store.value, 7, 'the other writer\'s state stands');
    assert.deepEqual(fencedFor, ['changed since resourceVersion null']);
    writer.stop();
  });

  it('a failed write is retried with the same precondition, and the changes wait for it', { timeout: 5_000 }, async () => {
    const store = new FencedStore<number>();
    store.overwrite(0);
    store.failNext = 2;
    const errors: unknown[] = [];
    const writer = createStateWriter({ store, snapshot: () => 5, resourceVersion: '1', windowMs: 1, retryMs: 5, onError: (err) => errors.push(err) });
    assert.equal(await writer.persist(), 'durable');
    assert.deepEqual(store.writes.map((w) => w.resourceVersion), ['1', '1', '1']);
    assert.equal(store.value, 5);
    assert.equal(errors.length, 1, 'reported once per failure streak');
    writer.stop();
  });

  it('flush writes at once instead of waiting for the window', { timeout: 5_000 }, async () => {
    const store = new FencedStore<number>();
    const writer = createStateWriter({ store, snapshot: () => 3, resourceVersion: null, windowMs: 600_000 });
    const change = writer.persist();
    assert.equal(await writer.flush(), 'durable');
    assert.equal(await change, 'durable');
    assert.equal(store.writes.length, 1);
    writer.stop();
  });

  it('stop resolves the waiting changes as stopped, without writing', async () => {
    const store = new FencedStore<number>();
    const writer = createStateWriter({ store, snapshot: () => 3, resourceVersion: null, windowMs: 600_000 });
    const change = writer.persist();
    writer.stop();
    assert.equal(await change, 'stopped');
    assert.equal(await writer.persist(), 'stopped');
    assert.equal(store.writes.length, 0);
  });
});
