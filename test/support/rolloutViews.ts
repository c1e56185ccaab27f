/**
 * A rollout's view model and render options as the message tests start from: a progressing
 * rollout of `payments/api` at revision 7, rendered for cluster `prod` in update mode. Each
 * test overrides only what its rule is about.
 */
import type { RenderOptions } from '../../src/machines/message.js';
import type { RolloutView } from '../../src/machines/notification.js';

export const STARTED = Date.UTC(2026, 0, 2, 3, 4, 5);
export const SHA = '0123456789abcdef0123456789abcdef01234567';

export function view(over: Partial<RolloutView> = {}): RolloutView {
  return {
    rolloutId: 'uid-1/7',
    namespace: 'payments',
    deployment: 'api',
    revision: 7,
    previousRevision: 6,
    rolledBackTo: [],
    replicaSet: 'api-5d9f8c7b6',
    phase: 'progressing',
    startedAt: STARTED,
    endedAt: null,
    adopted: false,
    progressDeadlineSeconds: 600,
    progress: { desired: 3, updated: 1, ready: 1, available: 1, old: 2 },
    diagnosis: { pods: 1, stuckPods: 0, problems: [] },
    git: {},
    supersededBy: null,
    detail: null,
    ...over,
  };
}

export function opts(over: Partial<RenderOptions> = {}): RenderOptions {
  return {
    cluster: 'prod',
    gitAnnotationWarning: false,
    annotationNames: { commitSha: 'hermod.uswitch.com/gitsha', repoUrl: 'hermod.uswitch.com/gitrepo' },
    mode: 'update',
    ...over,
  };
}
