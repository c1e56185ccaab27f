/**
 * What StatefulSets' and DaemonSets' ControllerRevisions tell without Hermod having watched
 * them change (issue 11): when a rollout Hermod adopts (start-up, takeover) really started, so
 * its deadline counts from there, in the statechart and in the repair at takeover; and which
 * revision an undo Hermod did not watch went back to.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ControllerRevision, V1Namespace, V1StatefulSet } from '@kubernetes/client-node';
import { createActor, SimulatedClock } from 'xstate';
import { repairNotifications } from '../../src/actors/repair.js';
import { RolloutIndex } from '../../src/io/kube/caches.js';
import { trimNamespace } from '../../src/io/kube/trim.js';
import { trimControllerRevision, trimStatefulSet } from '../../src/io/kube/trimSets.js';
import { adoptedRolloutStart, inferredRollbackFrom, revisionStartedAt, withRollbackHistory } from '../../src/machines/controllerRevisions.js';
import { deploymentMachine } from '../../src/machines/deploymentMachine.js';
import type { RolloutChangedEvent } from '../../src/machines/deploymentContext.js';
import type { ControllerRevisionFacts, RolloutObservation, WorkloadKind } from '../../src/machines/facts.js';
import { renderRollout } from '../../src/machines/message.js';
import { workloadObservation, type RolloutStep } from '../support/observations.js';
import { opts } from '../support/rolloutViews.js';

const T0 = Date.parse('2026-12-07T01:00:00Z');
const S = 1000;

/** A ControllerRevision `name` at `revision`, created at `created` (seconds after T0). */
function rev(name: string, revision: number, created?: number, written?: number, history: number[] = []): ControllerRevisionFacts {
  return {
    uid: `cr-${name}`,
    namespace: 'shop',
    name,
    ownerUid: 'uid-web',
    revision,
    revisionHistory: history,
    podHash: name,
    ...(created === undefined ? {} : { created: T0 + created * S }),
    ...(written === undefined ? {} : { written: T0 + written * S }),
  };
}

describe('when the rollout to a revision started', () => {
  it('the later of its creation and its last write (an undo renumbers an old revision: only the write is new)', () => {
    assert.equal(revisionStartedAt(rev('a', 2, 10, 10)), T0 + 10 * S);
    assert.equal(revisionStartedAt(rev('a', 3, 10, 70)), T0 + 70 * S);
    assert.equal(revisionStartedAt(rev('a', 3, 10)), T0 + 10 * S);
    assert.equal(revisionStartedAt(rev('a', 3, undefined, 20)), T0 + 20 * S);
    assert.equal(revisionStartedAt(rev('a', 3)), undefined);
    assert.equal(revisionStartedAt(null), undefined);
  });

  it('an adopted rollout starts there, never after Hermod saw it; when unknown, when Hermod saw it', () => {
    assert.equal(adoptedRolloutStart(rev('a', 2, 10, 40), T0 + 100 * S), T0 + 40 * S);
    // A clock ahead of Hermod's cannot make the rollout start in Hermod's future.
    assert.equal(adoptedRolloutStart(rev('a', 2, 10, 400), T0 + 100 * S), T0 + 100 * S);
    assert.equal(adoptedRolloutStart(rev('a', 2), T0 + 100 * S), T0 + 100 * S);
    assert.equal(adoptedRolloutStart(undefined, T0 + 100 * S), T0 + 100 * S);
  });
});

describe('an undo Hermod did not watch, from the revisions alone', () => {
  it('revision 1 renumbered to 3 after revision 2 was made: back to revision 1', () => {
    const revisions = [rev('a', 3, 0, 60), rev('b', 2, 30)];
    assert.equal(inferredRollbackFrom(revisions[0]!, revisions), 1);
    assert.deepEqual(withRollbackHistory(revisions[0]!, revisions).revisionHistory, [1]);
  });

  it('the missing number in the middle: revision 2 renumbered to 4', () => {
    const revisions = [rev('a', 1, 0), rev('b', 4, 30, 90), rev('c', 3, 60)];
    assert.equal(inferredRollbackFrom(revisions[1]!, revisions), 2);
  });

  it('the only missing number is the one just below it', () => {
    const revisions = [rev('a', 1, 0), rev('b', 3, 10, 90), rev('c', 4, 60)];
    // c (created last, highest) is no rollback; b is no target. Nothing is said for c.
    assert.equal(inferredRollbackFrom(revisions[2]!, revisions), null);
    const renumbered = [rev('a', 1, 0), rev('x', 3, 5), rev('b', 4, 3, 90)];
    assert.equal(inferredRollbackFrom(renumbered[2]!, renumbered), 2);
  });

  it('a new revision is no rollback, even when older numbers were pruned', () => {
    const revisions = [rev('b', 2, 30), rev('c', 3, 60)];
    assert.equal(inferredRollbackFrom(revisions[1]!, revisions), null);
    assert.equal(withRollbackHistory(revisions[1]!, revisions), revisions[1], 'the same object: nothing added');
  });

  it('several numbers missing (pruned history, earlier undos): the number cannot be known, nothing is said', () => {
    const revisions = [rev('a', 5, 0, 90), rev('c', 3, 60)];
    assert.equal(inferredRollbackFrom(revisions[0]!, revisions), null);
  });

  it('creation times in the same second prove nothing; unknown times prove nothing', () => {
    assert.equal(inferredRollbackFrom(rev('a', 3, 30, 60), [rev('a', 3, 30, 60), rev('b', 2, 30)]), null);
    assert.equal(inferredRollbackFrom(rev('a', 3), [rev('a', 3), rev('b', 2, 30)]), null);
    assert.equal(inferredRollbackFrom(rev('a', 3, 0), [rev('a', 3, 0), rev('b', 2)]), null);
    assert.equal(inferredRollbackFrom(rev('a', 1, 0), [rev('a', 1, 0)]), null);
  });

  it('what Hermod saw while watching wins over what it infers', () => {
    const target = rev('a', 5, 0, 90, [3]);
    assert.deepEqual(withRollbackHistory(target, [target, rev('b', 4, 60)]).revisionHistory, [3]);
  });
});

describe('the watch layer: revision times and an unwatched undo', () => {
  const raw = <T>(json: unknown): T => json as T;
  const crRaw = (name: string, revision: number, created: string, writes: string[]) =>
    raw<V1ControllerRevision>({
      metadata: {
        name,
        namespace: 'shop',
        uid: `cr-${name}`,
        creationTimestamp: created,
        managedFields: writes.map((time) => ({ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'apps/v1', time })),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'sts-db', controller: true }],
      },
      revision,
      data: { spec: { template: { spec: { containers: [{ name: 'app', image: `db:${name}` }] } } } },
    });

  it('a revision keeps its creationTimestamp and the newest managedFields time', () => {
    const cr = trimControllerRevision(crRaw('db-a', 3, '2026-12-07T01:00:00Z', ['2026-12-07T01:00:00Z', '2026-12-07T01:05:00Z']));
    assert.equal(cr.created, T0);
    assert.equal(cr.written, T0 + 300 * S);
    const bare = trimControllerRevision(raw<V1ControllerRevision>({ metadata: { name: 'x' }, revision: 1 }));
    assert.equal('created' in bare, false);
    assert.equal('written' in bare, false);
  });

  it('an undo that happened while no Hermod watched: the observation says back to revision 1', () => {
    const idx = new RolloutIndex();
    idx.setNamespace(trimNamespace(raw<V1Namespace>({ metadata: { name: 'shop', annotations: { 'hermod.uswitch.com/slack': 'deploys' } } })));
    const sts = trimStatefulSet(
      raw<V1StatefulSet>({
        metadata: { name: 'db', namespace: 'shop', uid: 'sts-db', generation: 3 },
        spec: { replicas: 2, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } },
        status: { observedGeneration: 3, replicas: 2, readyReplicas: 2, updatedReplicas: 1, currentRevision: 'db-b', updateRevision: 'db-a' },
      }),
    );
    idx.sets.applySet({ type: 'add', key: 'sts-db', facts: sts });
    // Listed once, already renumbered: Hermod never saw it at revision 1.
    const a = trimControllerRevision(crRaw('db-a', 3, '2026-12-07T01:00:00Z', ['2026-12-07T01:05:00Z']));
    const b = trimControllerRevision(crRaw('db-b', 2, '2026-12-07T01:02:00Z', ['2026-12-07T01:02:00Z']));
    idx.sets.applyRevision({ type: 'add', key: a.uid, facts: a });
    idx.sets.applyRevision({ type: 'add', key: b.uid, facts: b });
    const o = idx.observation('sts-db', T0 + 400 * S)!;
    assert.equal(o.deployment.revision, 3);
    assert.deepEqual(o.newRevision?.revisionHistory, [1]);
    assert.deepEqual(idx.sets.revisions.get(a.uid)?.revisionHistory, [], 'the cached facts are not changed');
  });
});

/** A workload actor fed one observation; `initial` marks it as part of the first list (adoption). */
function start(kind: WorkloadKind, first: RolloutObservation, initial: boolean) {
  const clock = new SimulatedClock();
  const actor = createActor(deploymentMachine, { input: { key: `shop/${kind}/web`, failingGraceMs: 60_000 }, clock });
  const changes: RolloutChangedEvent[] = [];
  actor.on('rollout.changed', (e) => changes.push(e));
  actor.start();
  actor.send({ type: 'deployment.observed', observation: first, initial });
  const phases = () => changes.map((c) => `${c.change}:${c.notification.view.revision}:${c.notification.view.phase}`);
  return { actor, clock, changes, phases };
}

/** An observation of `kind` mid-rollout to revision 2, seen at `seenAt`, its revision made at `madeAt` (seconds after T0). */
function midRollout(kind: WorkloadKind, seenAt: number, madeAt: number | undefined, deadlineSeconds = 60, over: Partial<RolloutStep> = {}): RolloutObservation {
  const o = workloadObservation(kind, { revision: 2, replicas: 3, updated: 1, available: 2, old: 2, at: T0 + seenAt * S, deadlineSeconds, ...over });
  if (madeAt === undefined || o.newRevision == null) return o;
  return { ...o, newRevision: { ...o.newRevision, created: T0 + madeAt * S } };
}

for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
  describe(`${kind}: an adopted rollout's deadline counts from its revision's start`, () => {
    it('adopted 50 s into a 60 s deadline: failed 10 s later, and the message says since when it ran', () => {
      const t = start(kind, midRollout(kind, 50, 0), true);
      assert.deepEqual(t.phases(), ['started:2:progressing']);
      const started = t.changes[0]!.notification.view;
      assert.equal(started.startedAt, T0, 'the revision was made at T0');
      assert.equal(started.adopted, true);
      t.clock.increment(9_999);
      assert.deepEqual(t.phases(), ['started:2:progressing']);
      t.clock.increment(1);
      assert.deepEqual(t.phases(), ['started:2:progressing', 'ended:2:failed']);
      const end = t.changes.at(-1)!.notification.view;
      assert.equal(end.endedAt, T0 + 60 * S);
      assert.match(JSON.stringify(renderRollout(end, opts())), /Failed after 60 seconds\* \(Hermod's progress deadline\)/);
    });

    it('an observation past the deadline since the revision started fails it at once', () => {
      const t = start(kind, midRollout(kind, 50, 0), true);
      t.actor.send({ type: 'deployment.observed', observation: midRollout(kind, 61, 0) });
      assert.deepEqual(t.phases(), ['started:2:progressing', 'ended:2:failed']);
    });

    it('first seen already past its deadline: over, like a Deployment the controller gave up on; not announced', () => {
      const t = start(kind, midRollout(kind, 3_600, 0), true);
      assert.deepEqual(t.phases(), []);
      assert.equal(t.actor.getSnapshot().value, 'idle');
    });

    it('a revision without timestamps: the deadline counts from adoption, as before', () => {
      const t = start(kind, midRollout(kind, 50, undefined), true);
      t.clock.increment(59_999);
      assert.deepEqual(t.phases(), ['started:2:progressing']);
      t.clock.increment(1);
      assert.deepEqual(t.phases(), ['started:2:progressing', 'ended:2:failed']);
    });

    it('a rollout seen from its start (not adopted) counts from when Hermod saw it', () => {
      const first = workloadObservation(kind, { revision: 1, replicas: 3, updated: 3, available: 3, at: T0, deadlineSeconds: 60 });
      const t = start(kind, first, false);
      t.actor.send({ type: 'deployment.observed', observation: midRollout(kind, 100, 0) });
      assert.equal(t.changes[0]?.notification.view.startedAt, T0 + 100 * S);
      t.clock.increment(59_999);
      assert.deepEqual(t.phases(), ['started:2:progressing']);
      t.clock.increment(1);
      assert.deepEqual(t.phases(), ['started:2:progressing', 'ended:2:failed']);
    });
  });
}

describe('a Deployment adopted mid-rollout is unchanged: the controller judges its deadline', () => {
  it('starts when Hermod saw it', () => {
    const t = start('Deployment', workloadObservation('Deployment', { revision: 2, replicas: 3, updated: 1, available: 2, old: 2, at: T0 + 50 * S }), true);
    assert.equal(t.changes[0]?.notification.view.startedAt, T0 + 50 * S);
    t.clock.increment(3_600_000);
    assert.deepEqual(t.phases(), ['started:2:progressing']);
  });
});

describe('repair at takeover for StatefulSets and DaemonSets', () => {
  const record = (rolloutId: string) => ({ rolloutId, namespace: 'shop', channelId: 'C1', ts: '1.1', sentPhase: 'progressing' as const, sentVersion: 1, sentKey: 'k', threadKey: null, milestone: null });
  const snapshot = (rolloutIds: string[], finished: string[] = []) => ({
    version: 1 as const,
    channels: [{ channel: 'deploys', channelId: 'C1', rollouts: rolloutIds.map(record), finished, pending: [] }],
  });
  const base = { names: new Map([['uid-web/2', 'web']]), covered: new Set<string>(), catchUpMs: 3_600_000 };

  for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
    it(`${kind}: a message left orange is edited to failed once the deadline has passed since the revision's start`, () => {
      const observations = new Map([['uid-web', midRollout(kind, 0, 0)]]);
      const before = repairNotifications({ ...base, snapshot: snapshot(['uid-web/2']), observations, now: T0 + 59 * S });
      assert.deepEqual(before, [], 'still in flight: left to the adopting actor');
      const out = repairNotifications({ ...base, snapshot: snapshot(['uid-web/2']), observations, now: T0 + 600 * S });
      assert.deepEqual(out.map((n) => [n.rolloutId, n.view.phase]), [['uid-web/2', 'failed']]);
      const view = out[0]!.view;
      assert.equal(view.startedAt, T0);
      assert.equal(view.endedAt, T0 + 60 * S, 'it failed when the deadline passed');
      assert.match(view.detail ?? '', new RegExp(`${kind.toLowerCase()} "web" exceeded Hermod's progress deadline \\(60 seconds\\)`));
    });

    it(`${kind}: without the revision's time the verdict is not known: left to the actor`, () => {
      const observations = new Map([['uid-web', midRollout(kind, 0, undefined)]]);
      assert.deepEqual(repairNotifications({ ...base, snapshot: snapshot(['uid-web/2']), observations, now: T0 + 600 * S }), []);
    });

    it(`${kind}: a rollout that started and failed while no Hermod ran is reported late, within --catch-up-seconds`, () => {
      const observations = new Map([['uid-web', midRollout(kind, 0, 0)]]);
      const out = repairNotifications({ ...base, snapshot: snapshot([], ['uid-web/1']), observations, now: T0 + 600 * S });
      assert.deepEqual(out.map((n) => [n.rolloutId, n.view.phase]), [['uid-web/2', 'failed']]);
      assert.match(out[0]!.view.detail ?? '', /Reported late: .*\(Hermod's deadline passed at /);
      assert.deepEqual(repairNotifications({ ...base, snapshot: snapshot([], ['uid-web/1']), observations, now: T0 + 60 * S + 3_600_001 }), []);
    });

    it(`${kind}: a rollout that completed while no Hermod ran is reported late as found complete, not as a controller's verdict`, () => {
      // Its status keeps no time of completion (no Progressing condition): the time is when Hermod found it.
      const observations = new Map([['uid-web', midRollout(kind, 0, 0, 60, { updated: 3, available: 3, old: 0 })]]);
      const now = T0 + 120 * S;
      const out = repairNotifications({ ...base, snapshot: snapshot([], ['uid-web/1']), observations, now });
      assert.deepEqual(out.map((n) => [n.rolloutId, n.view.phase]), [['uid-web/2', 'succeeded']]);
      assert.match(out[0]!.view.detail ?? '', new RegExp(`Reported late: .*\\(Hermod found it complete at ${new Date(now).toISOString()}\\)`));
      assert.doesNotMatch(out[0]!.view.detail ?? '', /controller's verdict/);
    });
  }
});
