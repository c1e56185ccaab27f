/** What the log says about rollouts: the reason on a red rollout's line (src/actors/supervisor.ts reasonOf). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reasonOf } from '../../src/actors/supervisor.js';
import type { ProblemGroup, RolloutView } from '../../src/machines/notification.js';

type View = Parameters<typeof reasonOf>[0];
const view = (phase: RolloutView['phase'], detail: string | null, problems: Partial<ProblemGroup>[] = [], replicaFailure?: string): View =>
  ({ phase, detail, diagnosis: { pods: 1, stuckPods: 1, problems, ...(replicaFailure !== undefined ? { replicaFailure } : {}) } }) as unknown as View;

describe('the reason on a rollout line', () => {
  it('a failed rollout says why: the controller reason and the pods problem', () => {
    assert.equal(
      reasonOf(view('failed', 'deployment exceeded its progress deadline', [{ reason: 'CrashLoopBackOff' }, { reason: 'OOMKilled' }])),
      'deployment exceeded its progress deadline; CrashLoopBackOff and 1 more',
    );
  });

  it('a failing rollout with a ReplicaSet that cannot create pods names the refusal', () => {
    assert.equal(reasonOf(view('failing', null, [], 'pods "web-1" is forbidden: violates PodSecurity')), 'pods "web-1" is forbidden: violates PodSecurity');
  });

  it('other phases have no reason', () => {
    assert.equal(reasonOf(view('succeeded', 'complete', [{ reason: 'CrashLoopBackOff' }])), null);
    assert.equal(reasonOf(view('progressing', null)), null);
  });
});
