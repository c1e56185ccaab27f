/**
 * The pure parts of src/io/kube/stateStore.ts: where state is kept, what stored JSON is
 * accepted, and how an oversized snapshot is cut down. The ConfigMap round trip itself runs
 * against the real control plane in test/integration/restart.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DeliverySnapshot } from '../../src/actors/delivery/index.js';
import { decodeState, encodeState, STATE_GZ_KEY, STATE_KEY } from '../../src/io/kube/stateEncoding.js';
import { fitSnapshot, HARD_MAX_STATE_BYTES, parseSnapshot, stateNamespace } from '../../src/io/kube/stateStore.js';
import { randomUUID } from 'node:crypto';

const dir = mkdtempSync(join(tmpdir(), 'hermod-state-'));
const nsFile = join(dir, 'namespace');
writeFileSync(nsFile, 'from-file\n');
const missing = join(dir, 'missing');

describe('stateNamespace', () => {
  it('prefers the flag, then POD_NAMESPACE, then the service account file', () => {
    assert.equal(stateNamespace('flagged', { POD_NAMESPACE: 'pod' }, nsFile), 'flagged');
    assert.equal(stateNamespace(null, { POD_NAMESPACE: 'pod' }, nsFile), 'pod');
    assert.equal(stateNamespace(null, { POD_NAMESPACE: ' ' }, nsFile), 'from-file');
    assert.equal(stateNamespace(null, {}, nsFile), 'from-file');
  });

  it('is null (persistence off) when nothing names a namespace', () => {
    assert.equal(stateNamespace(null, {}, missing), null);
  });
});

function record(rolloutId: string, sentPhase: 'progressing' | 'succeeded') {
  return { rolloutId, namespace: 'ns', channelId: 'C1', ts: '1.000100', sentPhase, sentVersion: 1, sentKey: 'k', threadKey: null, milestone: null };
}

function pendingItem(rolloutId: string, final: boolean, size: number) {
  return {
    rolloutId, namespace: 'ns', phase: final ? 'succeeded' : 'progressing', final, version: 2,
    message: { text: 'x'.repeat(size) }, contentKey: 'c', thread: null, threadKey: null, notifiedAt: 0, plain: false,
  };
}

function snapshotOf(channel: Partial<DeliverySnapshot['channels'][number]>): DeliverySnapshot {
  return { version: 1, channels: [{ channel: 'deploys', channelId: 'C1', rollouts: [], finished: [], pending: [], ...channel }] } as DeliverySnapshot;
}

describe('parseSnapshot', () => {
  it('accepts what a delivery snapshot looks like', () => {
    const snapshot = snapshotOf({ rollouts: [record('uid/2', 'progressing')] as never });
    const parsed = parseSnapshot(JSON.stringify(snapshot));
    assert.ok('snapshot' in parsed);
    assert.deepEqual(parsed.snapshot, snapshot);
  });

  it('refuses broken JSON, an unknown version and a malformed channel, saying why', () => {
    const problem = (text: string) => ('problem' in parseSnapshot(text) ? (parseSnapshot(text) as { problem: string }).problem : 'accepted');
    assert.match(problem('{"version":1,'), /not JSON/);
    assert.match(problem('{"version":2,"channels":[]}'), /unknown version 2/);
    assert.match(problem('null'), /not an object/);
    assert.match(problem('{"version":1,"channels":[{"channel":"x"}]}'), /lacks/);
  });
});

describe('fitSnapshot', () => {
  it('leaves a small snapshot whole', () => {
    const snapshot = snapshotOf({ rollouts: [record('uid/2', 'progressing')] as never, finished: ['uid/1'] });
    const fitted = fitSnapshot(snapshot, 10_000);
    assert.deepEqual({ json: fitted.json, dropped: fitted.dropped }, { json: JSON.stringify(snapshot), dropped: [] });
    assert.deepEqual(fitted.encoded.data, { [STATE_KEY]: JSON.stringify(snapshot) }, 'small: plain JSON');
  });

  it('drops finished ids and pending progress before anything Slack shows', () => {
    const snapshot = snapshotOf({
      rollouts: [record('uid/2', 'progressing'), record('uid/3', 'succeeded')] as never,
      finished: Array.from({ length: 200 }, (_, i) => `old/${i}`),
      pending: [pendingItem('uid/2', false, 2_000), pendingItem('uid/3', true, 100)] as never,
    });
    const { json, dropped } = fitSnapshot(snapshot, 1_500);
    assert.deepEqual(dropped, ['finished', 'pending progress']);
    const kept = JSON.parse(json) as DeliverySnapshot;
    assert.ok(Buffer.byteLength(json) <= 1_500, `${Buffer.byteLength(json)} bytes`);
    assert.deepEqual(kept.channels[0]!.finished, []);
    assert.deepEqual(kept.channels[0]!.pending.map((p) => p.rolloutId), ['uid/3']);
    assert.deepEqual(kept.channels[0]!.rollouts.map((r) => r.rolloutId), ['uid/2', 'uid/3']);
  });

  it('keeps in-flight rollouts over ended ones, and the newest records last of all', () => {
    const rollouts = [
      ...Array.from({ length: 40 }, (_, i) => record(`ended/${i}`, 'succeeded')),
      ...Array.from({ length: 4 }, (_, i) => record(`live/${i}`, 'progressing')),
    ];
    const { json, dropped } = fitSnapshot(snapshotOf({ rollouts: rollouts as never }), 1_500);
    const kept = JSON.parse(json) as DeliverySnapshot;
    assert.ok(dropped.includes('ended rollouts'), dropped.join());
    assert.ok(Buffer.byteLength(json) <= 1_500);
    const ids = kept.channels[0]!.rollouts.map((r) => r.rolloutId);
    assert.ok(ids.length > 0 && ids.every((id) => id.startsWith('live/')), ids.join());
    assert.equal(ids.at(-1), 'live/3');
  });

  it('never drops an in-flight rollout\'s record below the hard limit, even past the soft one (issue 9)', () => {
    const rollouts = [
      ...Array.from({ length: 10 }, (_, i) => record(`ended/${i}`, 'succeeded')),
      ...Array.from({ length: 20 }, (_, i) => record(`live/${i}`, 'progressing')),
    ];
    const { json, dropped } = fitSnapshot(snapshotOf({ rollouts: rollouts as never }), 1_000, 100_000);
    const ids = (JSON.parse(json) as DeliverySnapshot).channels[0]!.rollouts.map((r) => r.rolloutId);
    assert.deepEqual(ids, Array.from({ length: 20 }, (_, i) => `live/${i}`));
    assert.ok(Buffer.byteLength(json) > 1_000, 'over the soft limit: the in-flight records are worth it');
    assert.deepEqual(dropped, ['finished', 'pending progress', 'pending', 'ended rollouts']);
  });

  it('past the hard limit, drops the oldest in-flight records and keeps the newest', () => {
    const rollouts = Array.from({ length: 40 }, (_, i) => record(`live/${i}`, 'progressing'));
    const { json, dropped } = fitSnapshot(snapshotOf({ rollouts: rollouts as never }), 1_000, 3_000);
    const ids = (JSON.parse(json) as DeliverySnapshot).channels[0]!.rollouts.map((r) => r.rolloutId);
    assert.ok(Buffer.byteLength(json) <= 3_000);
    assert.ok(dropped.includes('oldest rollouts'));
    assert.equal(ids.at(-1), 'live/39');
    assert.ok(!ids.includes('live/0'));
  });
});

describe('state encoding', () => {
  /** Records as Hermod writes them: UIDs, Slack timestamps and content keys do not repeat. */
  const liveRecords = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      rolloutId: `${randomUUID()}/${1 + (i % 7)}`, namespace: `team-${i % 50}`, channelId: 'C0123ABCD',
      ts: `17965${String(10_000 + i).padStart(5, '0')}.${String((i * 7919) % 1_000_000).padStart(6, '0')}`,
      sentPhase: 'progressing', sentVersion: 1 + (i % 5), sentKey: (i * 2654435761 >>> 0).toString(16), threadKey: null, milestone: null,
    }));

  it('small states stay plain JSON; larger ones are gzip\'d into binaryData and read back the same', () => {
    const small = JSON.stringify(snapshotOf({ rollouts: liveRecords(3) as never }));
    assert.deepEqual(encodeState(small), { data: { [STATE_KEY]: small }, bytes: Buffer.byteLength(small) });
    assert.equal(decodeState(encodeState(small)), small);
    const large = JSON.stringify(snapshotOf({ rollouts: liveRecords(2_000) as never }));
    const packed = encodeState(large);
    assert.equal(packed.data, undefined);
    assert.ok(packed.binaryData?.[STATE_GZ_KEY] !== undefined);
    assert.ok(packed.bytes < Buffer.byteLength(large) / 2, `${packed.bytes} of ${Buffer.byteLength(large)} bytes`);
    assert.equal(decodeState(packed), large);
  });

  it('a corrupt gzip payload is an error, not an empty state', () => {
    assert.throws(() => decodeState({ binaryData: { [STATE_GZ_KEY]: Buffer.from('not gzip').toString('base64') } }));
    assert.equal(decodeState({}), undefined);
  });

  it('keeps every in-flight record where plain JSON would be past the hard limit (issue 9)', () => {
    const rollouts = liveRecords(8_000);
    const snapshot = snapshotOf({ rollouts: rollouts as never });
    assert.ok(Buffer.byteLength(JSON.stringify(snapshot)) > HARD_MAX_STATE_BYTES, 'plain, this would not fit');
    const { json, encoded, dropped } = fitSnapshot(snapshot);
    assert.ok(!dropped.includes('oldest rollouts'), dropped.join());
    assert.ok(encoded.bytes <= HARD_MAX_STATE_BYTES, `${encoded.bytes} bytes stored`);
    assert.equal((JSON.parse(json) as DeliverySnapshot).channels[0]!.rollouts.length, 8_000);
    assert.equal(decodeState(encoded), json);
  });
});
