import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { DeploymentFacts, ReplicaSetFacts } from '../../src/machines/facts.js';
import {
  isNewRollout,
  isPaused,
  progressDeadlineExceeded,
  replicaFailure,
  rolledBackTo,
  rolloutProgress,
  rolloutStatus,
} from '../../src/machines/rollout.js';
import type { V1Deployment as RawDeployment, V1ReplicaSet as RawReplicaSet } from '@kubernetes/client-node';
import { loadFixture } from '../support/fixtures.js';
import { trimDeployment, trimReplicaSet } from '../../src/io/kube/trim.js';

const deployment = (name: string): DeploymentFacts => loadFixture<DeploymentFacts>(`deployments/${name}.json`);
const replicaSet = (name: string): ReplicaSetFacts => loadFixture<ReplicaSetFacts>(`replicasets/${name}.json`);

describe('rolloutStatus follows kubectl rollout status', () => {
  test('a spec update the controller has not observed yet waits, even over an old complete condition', () => {
    const d = deployment('spec-not-observed');
    assert.ok(d.generation > d.status.observedGeneration);
    const s = rolloutStatus(d);
    assert.equal(s.state, 'specNotObserved');
    assert.equal(s.message, 'Waiting for deployment spec update to be observed...');
  });

  test('new replicas still being updated', () => {
    const s = rolloutStatus(deployment('new-replicas-updating'));
    assert.equal(s.state, 'progressing');
    assert.equal(s.message, 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...');
    assert.deepEqual(s.progress, { desired: 3, updated: 1, ready: 3, available: 3, old: 3 });
  });

  test('all replicas updated, old replicas pending termination', () => {
    const s = rolloutStatus(deployment('old-replicas-pending-termination'));
    assert.equal(s.state, 'progressing');
    assert.equal(s.message, 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...');
    assert.equal(s.progress.old, 1);
  });

  test('updated replicas not all available yet', () => {
    const s = rolloutStatus(deployment('updated-not-available'));
    assert.equal(s.state, 'progressing');
    assert.equal(s.message, 'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...');
  });

  test('complete when every replica is updated and available and no old one is left', () => {
    const s = rolloutStatus(deployment('complete'));
    assert.equal(s.state, 'complete');
    assert.equal(s.message, 'deployment "web" successfully rolled out');
    assert.deepEqual(s.progress, { desired: 3, updated: 3, ready: 3, available: 3, old: 0 });
  });

  test('ProgressDeadlineExceeded wins over the replica counts', () => {
    const d = deployment('progress-deadline-exceeded');
    const s = rolloutStatus(d);
    assert.equal(s.state, 'deadlineExceeded');
    assert.equal(s.message, 'deployment "web" exceeded its progress deadline');
    assert.equal(progressDeadlineExceeded(d), true);
  });

  test('a deadline condition left from the previous generation does not count until observed', () => {
    const d = deployment('progress-deadline-exceeded');
    const updated: DeploymentFacts = { ...d, generation: d.generation + 1 };
    assert.equal(rolloutStatus(updated).state, 'specNotObserved');
    assert.equal(progressDeadlineExceeded(updated), false);
  });

  test('a raw Deployment as the API returns it, with the controller\'s deadline condition', () => {
    const d = trimDeployment(loadFixture<RawDeployment>('raw/deployment-progress-deadline-exceeded.json'));
    const s = rolloutStatus(d);
    assert.equal(s.state, 'deadlineExceeded');
    assert.equal(s.message, 'deployment "checkout" exceeded its progress deadline');
    assert.deepEqual(s.progress, { desired: 3, updated: 3, ready: 2, available: 2, old: 2 });
  });

  test('a paused rollout reports progress as kubectl does, and isPaused says why it stalls', () => {
    const d = deployment('paused');
    assert.equal(isPaused(d), true);
    assert.equal(isPaused(deployment('complete')), false);
    const s = rolloutStatus(d);
    assert.equal(s.state, 'progressing');
    assert.match(s.message, /1 out of 3 new replicas have been updated/);
  });
});

describe('null safety', () => {
  // The original indexed conditions[len(conditions)-1] and crashed on a Deployment whose
  // controller had not written any condition yet.
  test('regression: original crashed on a Deployment with empty status conditions', () => {
    const d = deployment('observed-no-conditions');
    assert.deepEqual(d.status.conditions, []);
    assert.doesNotThrow(() => rolloutStatus(d));
    const s = rolloutStatus(d);
    assert.equal(s.state, 'progressing');
    assert.equal(s.message, 'Waiting for deployment "search" rollout to finish: 0 out of 2 new replicas have been updated...');
    assert.equal(progressDeadlineExceeded(d), false);
    assert.equal(replicaFailure(d, null), undefined);
  });

  test('regression: original crashed on a just-created Deployment with an empty status object', () => {
    const raw = loadFixture<RawDeployment>('raw/deployment-no-status.json');
    assert.deepEqual(raw.status, {});
    const d = trimDeployment(raw);
    assert.equal(d.revision, null);
    assert.equal(rolloutStatus(d).state, 'specNotObserved');
    assert.deepEqual(rolloutStatus(deployment('created-no-status')), rolloutStatus(d));
  });

  test('a status with fields missing altogether (not trimmed) neither throws nor invents progress', () => {
    const d = deployment('created-no-status');
    const bare = { ...d, status: {} } as unknown as DeploymentFacts;
    const noStatus = { ...d, status: undefined } as unknown as DeploymentFacts;
    for (const x of [bare, noStatus]) {
      assert.equal(rolloutStatus(x).state, 'specNotObserved');
      assert.deepEqual(rolloutProgress(x), { desired: 2, updated: 0, ready: 0, available: 0, old: 0 });
      assert.equal(progressDeadlineExceeded(x), false);
      assert.equal(replicaFailure(x, null), undefined);
    }
  });
});

describe('isNewRollout', () => {
  test('a new template moves the revision: a rollout starts', () => {
    assert.equal(isNewRollout(6, deployment('new-replicas-updating')), true);
  });

  test('scaling bumps the generation but keeps the revision: not a rollout', () => {
    const before = deployment('complete');
    const after = deployment('scaled');
    assert.ok(after.generation > before.generation);
    assert.notEqual(after.spec.replicas, before.spec.replicas);
    assert.equal(isNewRollout(before.revision, after), false);
  });

  test('a resync or metadata-only update with the same revision is not a rollout', () => {
    const d = deployment('complete');
    assert.equal(isNewRollout(7, d), false);
    assert.equal(isNewRollout(7, { ...d, git: { sha: 'other' } }), false);
  });

  test('a revision the controller has not set yet is not a rollout', () => {
    assert.equal(isNewRollout(null, deployment('created-no-status')), false);
    assert.equal(isNewRollout(3, deployment('created-no-status')), false);
  });

  test('the first revision of a new Deployment is a rollout', () => {
    assert.equal(isNewRollout(null, deployment('observed-no-conditions')), true);
  });

  test('rollout undo: the old template comes back under a new revision, with its history', () => {
    const d = deployment('rolled-back');
    const rs = replicaSet('rolled-back');
    assert.equal(isNewRollout(7, d), true);
    assert.equal(rs.revision, d.revision);
    assert.deepEqual(rolledBackTo(rs), [3, 6]);
  });
});

describe('rolledBackTo', () => {
  test('reads the revision-history annotation of a raw ReplicaSet', () => {
    const rs = trimReplicaSet(loadFixture<RawReplicaSet>('raw/replicaset-rolled-back.json'));
    assert.equal(rs.revision, 8);
    assert.deepEqual(rolledBackTo(rs), [3, 6]);
  });

  test('a ReplicaSet with no history, or none at all, returned to nothing', () => {
    assert.deepEqual(rolledBackTo(replicaSet('new-web')), []);
    assert.deepEqual(rolledBackTo(null), []);
  });
});

describe('replicaFailure', () => {
  const rawDeployment = () => trimDeployment(loadFixture<RawDeployment>('raw/deployment-failedcreate-podsecurity.json'));
  const rawReplicaSet = () => trimReplicaSet(loadFixture<RawReplicaSet>('raw/replicaset-failedcreate-podsecurity.json'));

  test('the new ReplicaSet\'s ReplicaFailure message, as the controller wrote it', () => {
    const message = replicaFailure(rawDeployment(), rawReplicaSet());
    assert.ok(message !== undefined);
    assert.match(message, /^pods "payments-api-7f8b6d9c5-vj4wn" is forbidden: violates PodSecurity "restricted:latest": privileged/);
  });

  test('falls back to the Deployment\'s FailedCreate condition when the ReplicaSet is not known yet', () => {
    assert.match(replicaFailure(rawDeployment(), null) ?? '', /violates PodSecurity/);
  });

  test('a ReplicaFailure condition that is no longer True is no failure', () => {
    const rs = rawReplicaSet();
    const cleared: ReplicaSetFacts = {
      ...rs,
      status: { ...rs.status, conditions: rs.status.conditions.map((c) => ({ ...c, status: 'False' })) },
    };
    assert.equal(replicaFailure(deployment('complete'), cleared), undefined);
  });

  test('no failure on a healthy rollout', () => {
    assert.equal(replicaFailure(deployment('complete'), replicaSet('new-web')), undefined);
  });
});
