/**
 * The rules of src/machines/rollout.ts, one small scenario each (issue 15): kubectl's rollout
 * status branch by branch and at each boundary, what counts as a new rollout, a pause, a
 * deadline, a ReplicaFailure, and a rollback's history.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConditionFacts, DeploymentFacts, ReplicaSetFacts } from '../../src/machines/facts.js';
import {
  findCondition,
  isNewRollout,
  isPaused,
  isSpecObserved,
  newReplicaSetProgress,
  PROGRESS_DEADLINE_EXCEEDED,
  progressDeadlineExceeded,
  replicaFailure,
  replicaFailureCondition,
  rolledBackTo,
  rolloutProgress,
  rolloutStatus,
} from '../../src/machines/rollout.js';

interface Counts {
  desired?: number;
  replicas?: number;
  updated?: number;
  ready?: number;
  available?: number;
  generation?: number;
  observed?: number;
  conditions?: ConditionFacts[];
  paused?: boolean;
  revision?: number | null;
}

function deployment(c: Counts = {}): DeploymentFacts {
  return {
    uid: 'uid-web',
    namespace: 'shop',
    name: 'web',
    generation: c.generation ?? 4,
    revision: c.revision === undefined ? 3 : c.revision,
    git: {},
    spec: { replicas: c.desired ?? 3, paused: c.paused ?? false, progressDeadlineSeconds: 600 },
    status: {
      observedGeneration: c.observed ?? c.generation ?? 4,
      replicas: c.replicas ?? 3,
      updatedReplicas: c.updated ?? 3,
      readyReplicas: c.ready ?? c.available ?? 3,
      availableReplicas: c.available ?? 3,
      unavailableReplicas: 0,
      conditions: c.conditions ?? [],
    },
  };
}

function replicaSet(over: Partial<ReplicaSetFacts> = {}, conditions: ConditionFacts[] = []): ReplicaSetFacts {
  return {
    uid: 'uid-rs',
    namespace: 'shop',
    name: 'web-abc',
    revision: 3,
    revisionHistory: [],
    replicas: 3,
    status: { replicas: 3, readyReplicas: 3, availableReplicas: 3, conditions },
    ...over,
  };
}

const deadline: ConditionFacts = { type: 'Progressing', status: 'False', reason: PROGRESS_DEADLINE_EXCEEDED };

describe('rolloutStatus: each branch at its boundary', () => {
  it('complete exactly when updated = desired, no old replica, available = updated', () => {
    const s = rolloutStatus(deployment({ desired: 3, replicas: 3, updated: 3, available: 3 }));
    assert.equal(s.state, 'complete');
    assert.equal(s.message, 'deployment "web" successfully rolled out');
  });

  it('one new replica short: still updating', () => {
    const s = rolloutStatus(deployment({ desired: 3, replicas: 3, updated: 2, available: 3 }));
    assert.equal(s.state, 'progressing');
    assert.equal(s.message, 'Waiting for deployment "web" rollout to finish: 2 out of 3 new replicas have been updated...');
  });

  it('more updated than desired (scaling down mid-rollout) is not "updating"', () => {
    assert.equal(rolloutStatus(deployment({ desired: 2, replicas: 3, updated: 3, available: 3 })).state, 'complete');
  });

  it('one old replica left: pending termination', () => {
    const s = rolloutStatus(deployment({ desired: 3, replicas: 4, updated: 3, available: 3 }));
    assert.equal(s.state, 'progressing');
    assert.equal(s.message, 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...');
  });

  it('one updated replica not available: waiting for availability', () => {
    const s = rolloutStatus(deployment({ desired: 3, replicas: 3, updated: 3, available: 2 }));
    assert.equal(s.state, 'progressing');
    assert.equal(s.message, 'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...');
  });

  it('more available than updated is complete', () => {
    assert.equal(rolloutStatus(deployment({ desired: 3, replicas: 3, updated: 3, available: 4 })).state, 'complete');
  });

  it('the branches are checked in kubectl\'s order: updating before old replicas before availability', () => {
    const all = rolloutStatus(deployment({ desired: 3, replicas: 5, updated: 2, available: 1 }));
    assert.match(all.message, /2 out of 3 new replicas have been updated/);
    const oldAndUnavailable = rolloutStatus(deployment({ desired: 3, replicas: 5, updated: 3, available: 1 }));
    assert.match(oldAndUnavailable.message, /2 old replicas are pending termination/);
  });

  it('the name is quoted as Go\'s %q does', () => {
    const d = { ...deployment(), name: 'api-v2' };
    assert.equal(rolloutStatus(d).message, 'deployment "api-v2" successfully rolled out');
  });
});

describe('rolloutStatus: the spec must be observed first', () => {
  it('observedGeneration equal to generation is observed', () => {
    assert.equal(isSpecObserved(deployment({ generation: 5, observed: 5 })), true);
    assert.equal(rolloutStatus(deployment({ generation: 5, observed: 5 })).state, 'complete');
  });

  it('observedGeneration one behind is not observed, whatever the counts say', () => {
    assert.equal(isSpecObserved(deployment({ generation: 5, observed: 4 })), false);
    const s = rolloutStatus(deployment({ generation: 5, observed: 4 }));
    assert.equal(s.state, 'specNotObserved');
    assert.equal(s.message, 'Waiting for deployment spec update to be observed...');
  });

  it('observedGeneration ahead (a stale read) counts as observed', () => {
    assert.equal(isSpecObserved(deployment({ generation: 5, observed: 6 })), true);
  });

  it('the progress is reported even before the spec is observed', () => {
    assert.deepEqual(rolloutStatus(deployment({ generation: 5, observed: 4, desired: 3, replicas: 4, updated: 1, available: 2 })).progress, {
      desired: 3,
      updated: 1,
      ready: 2,
      available: 2,
      old: 3,
    });
  });
});

describe('rolloutStatus: the progress deadline', () => {
  it('ProgressDeadlineExceeded wins over complete counts', () => {
    const s = rolloutStatus(deployment({ conditions: [deadline] }));
    assert.equal(s.state, 'deadlineExceeded');
    assert.equal(s.message, 'deployment "web" exceeded its progress deadline');
  });

  it('another Progressing reason is not the deadline', () => {
    const d = deployment({ conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }] });
    assert.equal(rolloutStatus(d).state, 'complete');
    assert.equal(progressDeadlineExceeded(d), false);
  });

  it('the deadline reason on another condition type is not the deadline', () => {
    const d = deployment({ conditions: [{ type: 'Available', status: 'False', reason: PROGRESS_DEADLINE_EXCEEDED }] });
    assert.equal(rolloutStatus(d).state, 'complete');
    assert.equal(progressDeadlineExceeded(d), false);
  });

  it('the first Progressing condition wins, as apimachinery\'s getter does', () => {
    const d = deployment({ conditions: [deadline, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }] });
    assert.equal(progressDeadlineExceeded(d), true);
    const e = deployment({ conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }, deadline] });
    assert.equal(progressDeadlineExceeded(e), false);
  });

  it('progressDeadlineExceeded needs the spec observed', () => {
    assert.equal(progressDeadlineExceeded(deployment({ conditions: [deadline], generation: 5, observed: 4 })), false);
    assert.equal(progressDeadlineExceeded(deployment({ conditions: [deadline], generation: 5, observed: 5 })), true);
  });
});

describe('rolloutProgress', () => {
  it('old replicas are the replicas not updated', () => {
    assert.deepEqual(rolloutProgress(deployment({ desired: 3, replicas: 5, updated: 2, ready: 1, available: 1 })), {
      desired: 3,
      updated: 2,
      ready: 1,
      available: 1,
      old: 3,
    });
  });

  it('never a negative number of old replicas', () => {
    assert.equal(rolloutProgress(deployment({ replicas: 1, updated: 3 })).old, 0);
  });

  it('counts that are not finite numbers count as 0', () => {
    const d = deployment();
    const weird = { ...d, status: { ...d.status, updatedReplicas: Number.NaN, replicas: Number.POSITIVE_INFINITY, readyReplicas: '2' } } as unknown as DeploymentFacts;
    assert.deepEqual(rolloutProgress(weird), { desired: 3, updated: 0, ready: 0, available: 3, old: 0 });
  });

  it('a missing spec counts 0 desired', () => {
    const d = { ...deployment(), spec: undefined } as unknown as DeploymentFacts;
    assert.equal(rolloutProgress(d).desired, 0);
  });
});

describe('findCondition', () => {
  it('finds the first condition of a type, or none', () => {
    const a: ConditionFacts = { type: 'A', status: 'True', reason: 'first' };
    assert.equal(findCondition([a, { type: 'A', status: 'False', reason: 'second' }], 'A'), a);
    assert.equal(findCondition([a], 'B'), undefined);
    assert.equal(findCondition(null, 'A'), undefined);
    assert.equal(findCondition(undefined, 'A'), undefined);
  });
});

describe('isNewRollout', () => {
  it('a different revision is a new rollout', () => assert.equal(isNewRollout(2, deployment({ revision: 3 })), true));
  it('the same revision is not', () => assert.equal(isNewRollout(3, deployment({ revision: 3 })), false));
  it('a lower revision (an older template re-applied gets a NEW number, so this is a reset) is a new rollout', () =>
    assert.equal(isNewRollout(5, deployment({ revision: 3 })), true));
  it('the first revision seen is a new rollout', () => assert.equal(isNewRollout(null, deployment({ revision: 1 })), true));
  it('no revision yet is never a rollout', () => {
    assert.equal(isNewRollout(null, deployment({ revision: null })), false);
    assert.equal(isNewRollout(2, deployment({ revision: null })), false);
    const undefinedRevision = { ...deployment(), revision: undefined } as unknown as DeploymentFacts;
    assert.equal(isNewRollout(2, undefinedRevision), false);
  });
});

describe('isPaused', () => {
  it('spec.paused true pauses', () => assert.equal(isPaused(deployment({ paused: true })), true));
  it('spec.paused false does not', () => assert.equal(isPaused(deployment({ paused: false })), false));
  it('only the boolean true pauses', () => {
    const truthy = { ...deployment(), spec: { ...deployment().spec, paused: 'true' } } as unknown as DeploymentFacts;
    assert.equal(isPaused(truthy), false);
  });
  it('a missing spec is not paused', () => assert.equal(isPaused({ ...deployment(), spec: undefined } as unknown as DeploymentFacts), false));
});

describe('replicaFailure: which condition speaks', () => {
  const rsFailure: ConditionFacts = { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'from the ReplicaSet' };
  const dFailure: ConditionFacts = { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'from the Deployment' };

  it('the ReplicaSet\'s True condition wins over the Deployment\'s', () => {
    assert.equal(replicaFailure(deployment({ conditions: [dFailure] }), replicaSet({}, [rsFailure])), 'from the ReplicaSet');
  });

  it('the ReplicaSet\'s condition counts whatever its reason', () => {
    assert.equal(replicaFailure(null, replicaSet({}, [{ ...rsFailure, reason: 'SomethingElse' }])), 'from the ReplicaSet');
  });

  it('a ReplicaSet condition that is not True gives way to the Deployment\'s', () => {
    assert.equal(replicaFailure(deployment({ conditions: [dFailure] }), replicaSet({}, [{ ...rsFailure, status: 'False' }])), 'from the Deployment');
  });

  it('the Deployment\'s condition counts only when True and FailedCreate', () => {
    assert.equal(replicaFailure(deployment({ conditions: [dFailure] }), null), 'from the Deployment');
    assert.equal(replicaFailure(deployment({ conditions: [{ ...dFailure, status: 'False' }] }), null), undefined);
    assert.equal(replicaFailure(deployment({ conditions: [{ ...dFailure, reason: 'Other' }] }), null), undefined);
  });

  it('the message, else the reason, else the type', () => {
    assert.equal(replicaFailure(null, replicaSet({}, [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate' }])), 'FailedCreate');
    assert.equal(replicaFailure(null, replicaSet({}, [{ type: 'ReplicaFailure', status: 'True' }])), 'ReplicaFailure');
  });

  it('the condition itself is returned for its reason', () => {
    assert.deepEqual(replicaFailureCondition(null, replicaSet({}, [rsFailure])), rsFailure);
    assert.equal(replicaFailureCondition(deployment(), replicaSet()), undefined);
    assert.equal(replicaFailureCondition(null, null), undefined);
  });
});

describe('rolledBackTo', () => {
  it('the history, ascending and without duplicates', () => {
    assert.deepEqual(rolledBackTo(replicaSet({ revisionHistory: [6, 3, 6, 1] })), [1, 3, 6]);
  });

  it('sorted as numbers, not as text', () => {
    assert.deepEqual(rolledBackTo(replicaSet({ revisionHistory: [10, 9] })), [9, 10]);
  });

  it('only positive integers count', () => {
    assert.deepEqual(rolledBackTo(replicaSet({ revisionHistory: [0, -2, 1.5, Number.NaN, 4] })), [4]);
  });

  it('no history, or no ReplicaSet, is no rollback', () => {
    assert.deepEqual(rolledBackTo(replicaSet({ revisionHistory: undefined as unknown as number[] })), []);
    assert.deepEqual(rolledBackTo(null), []);
  });
});

describe('rolloutStatus: a wire shape without status', () => {
  it('generation 0 and no status at all (observed by default) neither throws nor claims completion', () => {
    const d = { ...deployment({ desired: 1, generation: 0 }), status: undefined } as unknown as DeploymentFacts;
    const s = rolloutStatus(d);
    assert.equal(s.state, 'progressing');
    assert.equal(s.message, 'Waiting for deployment "web" rollout to finish: 0 out of 1 new replicas have been updated...');
  });
});

describe('newReplicaSetProgress', () => {
  it("the old pods are the Deployment's replicas beyond the new ReplicaSet's", () => {
    const rs = replicaSet({ status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, conditions: [] } });
    assert.equal(newReplicaSetProgress(deployment({ replicas: 3 }), rs).old, 2);
  });
});
