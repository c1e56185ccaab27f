import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { ContainerFacts, DeploymentFacts, PodFacts, RolloutObservation } from '../../src/machines/facts.js';
import type { Diagnosis } from '../../src/machines/notification.js';
import type { DiagnosisInput } from '../../src/machines/diagnosis.js';
import {
  diagnose,
  isFailing,
  isStuckContainer,
  isUnrecoverableWaiting,
  normaliseMessage,
} from '../../src/machines/diagnosis.js';
import type { CoreV1Event as RawEvent, V1Deployment as RawDeployment, V1Pod as RawPod, V1ReplicaSet as RawReplicaSet } from '@kubernetes/client-node';
import { loadFixture } from '../support/fixtures.js';
import { summariseProblem } from '../support/problemSummary.js';
import { trimDeployment, trimEvent, trimPod, trimReplicaSet } from '../../src/io/kube/trim.js';

type DeploymentInput = DiagnosisInput & { deployment?: DeploymentFacts | null };
const observation = (name: string): DeploymentInput => loadFixture<DeploymentInput>(`observations/${name}.json`);
/** 2026-11-25T10:00:00Z: when the fixtures' rollouts start. */
const ROLLOUT_START = Date.parse('2026-11-25T10:00:00Z');

// A RolloutObservation is a DiagnosisInput: the actor passes its observation as it is.
const _observationIsInput = (obs: RolloutObservation): DiagnosisInput => obs;

const summaries = (d: Diagnosis): string[] => d.problems.map((p) => summariseProblem(p, d.pods));

describe('crash loops', () => {
  test('groups identical crashes across pods and keeps OOMKilled visible', () => {
    const obs = observation('crashloop-exit-codes');
    const d = diagnose(obs);
    assert.equal(d.pods, 3);
    assert.equal(d.stuckPods, 3);
    assert.equal(d.replicaFailure, undefined);
    assert.deepEqual(d.problems, [
      { source: 'container', reason: 'CrashLoopBackOff', container: 'app', exitCode: 1, lastTerminationReason: 'Error', count: 2 },
      { source: 'container', reason: 'CrashLoopBackOff', container: 'app', exitCode: 137, lastTerminationReason: 'OOMKilled', count: 1 },
    ]);
    assert.deepEqual(summaries(d), [
      '2/3 pods: CrashLoopBackOff (container app), exit code 1',
      '1/3 pods: CrashLoopBackOff (container app), exit code 137 (OOMKilled)',
    ]);
    assert.equal(isFailing(d, obs.deployment?.spec.replicas ?? 0), true);
  });

  test('the kubelet\'s back-off events only echo the crash loop, so they are not listed again', () => {
    const obs = observation('crashloop-exit-codes');
    assert.ok(obs.warnings.length > 0 && obs.warnings.every((e) => e.reason === 'BackOff'));
    assert.ok(diagnose(obs).problems.every((p) => p.source !== 'event'));
  });

  test('a raw Pod as the API returns it: OOMKilled in the last state of a crash-looping container', () => {
    const pod = trimPod(loadFixture<RawPod>('raw/pod-crashloop-oomkilled.json'));
    const d = diagnose({ newReplicaSet: null, pods: [pod], warnings: [] });
    assert.equal(d.stuckPods, 1);
    assert.equal(d.problems.length, 1);
    assert.equal(summariseProblem(d.problems[0]!, d.pods), '1/1 pod: CrashLoopBackOff (container app), exit code 137 (OOMKilled)');
  });

  test('an init container failing its migration is named as an init container, with its termination message', () => {
    const d = diagnose(observation('init-crashloop'));
    assert.equal(d.stuckPods, 2);
    // The app container waits in PodInitializing and Initialized=False only restates it: neither is listed.
    assert.deepEqual(summaries(d), [
      '2/2 pods: CrashLoopBackOff (init container migrate), exit code 1: ERROR: relation "invoices" already exists',
    ]);
    assert.equal(isFailing(d, 2), true);
  });

  test('an OOMKilled container that was already restarted is stuck; a first kill is not yet', () => {
    const oom: ContainerFacts = {
      name: 'app',
      init: false,
      ready: false,
      restartCount: 2,
      terminated: { reason: 'OOMKilled', exitCode: 137 },
    };
    assert.equal(isStuckContainer(oom), true);
    assert.equal(isStuckContainer({ ...oom, restartCount: 0 }), false);
    const d = diagnose({ newReplicaSet: null, pods: [podWith(oom)], warnings: [] });
    assert.deepEqual(d.problems, [{ source: 'container', reason: 'OOMKilled', container: 'app', exitCode: 137, count: 1 }]);
    assert.equal(summariseProblem(d.problems[0]!), '1 pod: OOMKilled (container app), exit code 137');
  });

  test('a container running again between two crashes still shows how its last run ended', () => {
    const between: ContainerFacts = {
      name: 'app',
      init: false,
      ready: false,
      restartCount: 4,
      lastTerminated: { reason: 'Error', exitCode: 1, message: 'listen tcp :8080: bind: address already in use' },
    };
    const d = diagnose({ newReplicaSet: null, pods: [podWith(between)], warnings: [] });
    assert.equal(d.stuckPods, 0);
    assert.equal(summariseProblem(d.problems[0]!, 1), '1/1 pod: Error (container app), exit code 1: listen tcp :8080: bind: address already in use');
  });
});

describe('image pulls and container configuration', () => {
  test('ErrImagePull and ImagePullBackOff are stuck; pull-failure events add nothing new', () => {
    const obs = observation('image-pull');
    const d = diagnose(obs);
    assert.equal(d.stuckPods, 2);
    assert.deepEqual(
      d.problems.map((p) => [p.source, p.reason, p.count]),
      [
        ['container', 'ErrImagePull', 1],
        ['container', 'ImagePullBackOff', 1],
      ],
    );
    assert.match(d.problems[0]!.message ?? '', /ghcr\.io\/acme\/api:2\.4\.1: not found$/);
    assert.equal(isFailing(d, 4), true);
  });

  test('CreateContainerConfigError: a missing Secret is stuck, a kubelet cache-sync timeout is not', () => {
    const d = diagnose(observation('config-error'));
    assert.equal(d.pods, 2);
    assert.equal(d.stuckPods, 1);
    assert.deepEqual(summaries(d), [
      '1/2 pods: CreateContainerConfigError (container worker): failed to sync secret cache: timed out waiting for the condition',
      '1/2 pods: CreateContainerConfigError (container worker): secret "worker-db" not found',
    ]);
    assert.equal(isFailing(d, 2), false);
  });

  test('isUnrecoverableWaiting is the single rule', () => {
    const cases: [string | undefined, string | undefined, boolean][] = [
      ['CrashLoopBackOff', 'back-off 5m0s restarting failed container=app pod=x_ns(uid)', true],
      ['ErrImagePull', 'rpc error: code = NotFound desc = failed to pull and unpack image', true],
      ['ImagePullBackOff', 'Back-off pulling image "nginx:nope"', true],
      ['InvalidImageName', 'Failed to apply default image tag "Nginx:1": couldn\'t parse image name "Nginx:1": invalid reference format: repository name (library/Nginx) must be lowercase', true],
      ['ErrImageNeverPull', 'Container image "web:dev" is not present with pull policy of Never', true],
      ['CreateContainerConfigError', 'configmap "web-config" not found', true],
      ['CreateContainerConfigError', 'couldn\'t find key DATABASE_URL in Secret shop/web-db', true],
      ['CreateContainerConfigError', 'failed to sync configmap cache: timed out waiting for the condition', false],
      ['CreateContainerConfigError', 'failed to sync secret cache: timed out waiting for the condition', false],
      ['CreateContainerConfigError', undefined, true],
      ['CreateContainerError', 'failed to generate container "3f2a" spec: failed to apply OCI options: no such file or directory', true],
      ['RunContainerError', 'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/app/server": stat /app/server: no such file or directory: unknown', true],
      ['ContainerCreating', undefined, false],
      ['PodInitializing', undefined, false],
      [undefined, undefined, false],
    ];
    for (const [reason, message, expected] of cases) {
      assert.equal(isUnrecoverableWaiting(reason, message), expected, `${reason}: ${message}`);
    }
  });
});

describe('scheduling and creation', () => {
  test('unschedulable pods are reported with the scheduler\'s message, grouped, and not stuck', () => {
    const d = diagnose(observation('unschedulable'));
    assert.equal(d.stuckPods, 0);
    assert.deepEqual(d.problems, [
      {
        source: 'podCondition',
        reason: 'Unschedulable',
        message: '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
        count: 2,
      },
    ]);
    // A cluster autoscaler may yet add a node: not an early failure.
    assert.equal(isFailing(d, 2), false);
  });

  test('FailedCreate from a PodSecurity admission refusal, with no pods: failing, message as the API server wrote it', () => {
    const deployment = trimDeployment(loadFixture<RawDeployment>('raw/deployment-failedcreate-podsecurity.json'));
    const rs = trimReplicaSet(loadFixture<RawReplicaSet>('raw/replicaset-failedcreate-podsecurity.json'));
    const events = loadFixture<{ items: RawEvent[] }>('raw/events-failedcreate-podsecurity.json').items.map(trimEvent);
    const d = diagnose({ deployment, newReplicaSet: rs, pods: [], warnings: events }, { since: ROLLOUT_START });
    assert.equal(d.pods, 0);
    assert.ok(d.replicaFailure !== undefined);
    // The generated Pod name differs on every retry; the message must not.
    assert.match(d.replicaFailure, /^pods "payments-api-7f8b6d9c5-" is forbidden: violates PodSecurity "restricted:latest": privileged \(container "api" must not set securityContext\.privileged=true\)/);
    // The six "Error creating: ..." events repeat the condition.
    assert.deepEqual(
      d.problems.map((p) => [p.source, p.reason, p.count]),
      [['replicaSet', 'FailedCreate', 1]],
    );
    assert.match(summariseProblem(d.problems[0]!, d.pods), /^ReplicaSet FailedCreate: pods "payments-api-7f8b6d9c5-" is forbidden: violates PodSecurity/);
    assert.equal(isFailing(d, deployment.spec.replicas), true);
  });

  test('FailedCreate from a ResourceQuota, in the Facts shape', () => {
    const obs = observation('failedcreate-quota');
    const d = diagnose(obs);
    assert.equal(
      d.replicaFailure,
      'pods "reports-68d5c7f9b4-" is forbidden: exceeded quota: compute-resources, requested: limits.memory=2Gi, used: limits.memory=7Gi, limited: limits.memory=8Gi',
    );
    assert.equal(d.problems.length, 1);
    assert.equal(isFailing(d, 2), true);
  });

  test('FailedCreate events alone (condition not written yet) group across retries with their counts summed', () => {
    const obs = observation('failedcreate-quota');
    const rs = obs.newReplicaSet!;
    const d = diagnose({
      ...obs,
      deployment: { ...obs.deployment!, status: { ...obs.deployment!.status, conditions: [] } },
      newReplicaSet: { ...rs, status: { ...rs.status, conditions: [] } },
    });
    assert.equal(d.replicaFailure, undefined);
    assert.deepEqual(d.problems, [
      {
        source: 'event',
        reason: 'FailedCreate',
        message:
          'Error creating: pods "reports-68d5c7f9b4-" is forbidden: exceeded quota: compute-resources, requested: limits.memory=2Gi, used: limits.memory=7Gi, limited: limits.memory=8Gi',
        count: 3,
      },
    ]);
    assert.equal(summariseProblem(d.problems[0]!).startsWith('FailedCreate (3 events): Error creating: pods "reports-68d5c7f9b4-"'), true);
    // No pods and no ReplicaFailure condition yet: not (yet) a failure.
    assert.equal(isFailing(d, 2), false);
  });
});

describe('warning events', () => {
  test('grouped by reason and message, counts summed, only for this ReplicaSet\'s pods and since the rollout started', () => {
    const obs = observation('readiness-events');
    const d = diagnose(obs, { since: ROLLOUT_START + 30_000 });
    assert.deepEqual(d.problems, [
      { source: 'event', reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503', count: 35 },
      {
        source: 'event',
        reason: 'Unhealthy',
        message: 'Readiness probe failed: Get "http://10.244.1.17:8080/healthz": dial tcp 10.244.1.17:8080: connect: connection refused',
        count: 2,
      },
    ]);
    assert.equal(summariseProblem(d.problems[0]!), 'Unhealthy (35 events): Readiness probe failed: HTTP probe failed with statuscode: 503');
    // Not-ready pods explained by their probe events do not add "containers with unready status".
    assert.ok(d.problems.every((p) => p.source === 'event'));
    assert.equal(d.stuckPods, 0);
    assert.equal(isFailing(d, 3), false);
  });

  test('without `since`, older events of the same pods are included', () => {
    const d = diagnose(observation('readiness-events'));
    assert.deepEqual(
      d.problems.map((p) => [p.reason, p.count]),
      [
        ['Unhealthy', 35],
        ['FailedMount', 3],
        ['Unhealthy', 2],
      ],
    );
  });

  test('a short termination message does not hide an event that merely contains it', () => {
    const crashing: ContainerFacts = {
      name: 'app',
      init: false,
      ready: false,
      restartCount: 3,
      waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app pod=web-7c9d8b6f5-b9xkq_shop(11111111-2222-4333-8444-555555555555)' },
      lastTerminated: { reason: 'Error', exitCode: 2, message: 'panic' },
    };
    const pod = podWith(crashing);
    const d = diagnose({
      newReplicaSet: null,
      pods: [pod],
      warnings: [
        { namespace: 'shop', involvedKind: 'Pod', involvedName: pod.name, involvedUid: pod.uid, reason: 'Unhealthy', message: 'Liveness probe failed: panic handler returned 500', count: 4, lastSeen: ROLLOUT_START },
      ],
    });
    assert.deepEqual(
      d.problems.map((p) => p.reason),
      ['CrashLoopBackOff', 'Unhealthy'],
    );
  });

  test('an event about a pod of the same name but another uid is not this pod\'s', () => {
    const obs = observation('readiness-events');
    const first = obs.warnings[0]!;
    const d = diagnose({ ...obs, warnings: [{ ...first, involvedUid: '00000000-0000-4000-8000-000000000000' }] });
    assert.ok(d.problems.every((p) => p.source !== 'event'));
  });
});

describe('pods that are only starting, or partly healthy', () => {
  test('containers being created: only the generic Ready condition, grouped, nothing stuck', () => {
    const d = diagnose(observation('containers-creating'));
    assert.deepEqual(d.problems, [
      { source: 'podCondition', reason: 'ContainersNotReady', message: 'containers with unready status: [app]', count: 2 },
    ]);
    assert.equal(d.stuckPods, 0);
    assert.equal(isFailing(d, 3), false);
  });

  test('mixed healthy and stuck pods: the crash is reported, the rollout is not failing; terminating pods are ignored', () => {
    const obs = observation('mixed-healthy-stuck');
    assert.equal(obs.pods.filter((p) => p.deleting).length, 1);
    const d = diagnose(obs);
    assert.equal(d.pods, 3);
    assert.equal(d.stuckPods, 1);
    assert.equal(d.problems.length, 1);
    assert.equal(
      summariseProblem(d.problems[0]!, d.pods),
      '1/3 pods: CrashLoopBackOff (container ledger), exit code 2: panic: runtime error: invalid memory address or nil pointer dereference [signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6b4f2a]',
    );
    assert.equal(isFailing(d, obs.deployment!.spec.replicas), false);
  });

  test('all stuck: failing', () => {
    const obs = observation('mixed-healthy-stuck');
    const stuck = obs.pods.find((p) => !p.deleting && p.containers.some((c) => c.waiting?.reason === 'CrashLoopBackOff'))!;
    const allStuck = obs.pods.map((p, i) => (p.deleting ? p : { ...stuck, uid: `${stuck.uid.slice(0, -1)}${i}`, name: `${p.name}` }));
    const d = diagnose({ ...obs, pods: allStuck });
    assert.equal(d.stuckPods, 3);
    assert.equal(d.problems[0]!.count, 3);
    assert.equal(isFailing(d, 3), true);
  });
});

describe('isFailing', () => {
  const base: Diagnosis = { pods: 0, stuckPods: 0, problems: [] };
  test('the rule', () => {
    assert.equal(isFailing({ ...base, replicaFailure: 'quota' }, 2), true, 'cannot create any pod');
    assert.equal(isFailing({ ...base, replicaFailure: 'quota', pods: 1 }, 2), false, 'some pods exist: the deadline decides');
    assert.equal(isFailing({ ...base, pods: 2, stuckPods: 2 }, 2), true, 'every pod stuck');
    assert.equal(isFailing({ ...base, pods: 2, stuckPods: 1 }, 2), false, 'one pod may still become ready');
    assert.equal(isFailing(base, 2), false, 'no pods yet, no failure');
    assert.equal(isFailing({ ...base, replicaFailure: 'quota' }, 0), false, 'a rollout to zero replicas needs no pods');
  });
});

describe('determinism', () => {
  test('the same facts in another order give the same diagnosis', () => {
    for (const name of ['crashloop-exit-codes', 'config-error', 'readiness-events', 'image-pull', 'mixed-healthy-stuck']) {
      const obs = observation(name);
      const reversed: DiagnosisInput = { ...obs, pods: [...obs.pods].reverse(), warnings: [...obs.warnings].reverse() };
      assert.deepEqual(diagnose(reversed), diagnose(obs), name);
    }
  });

  test('diagnose does not mutate its input (the facts come from a cache)', () => {
    const obs = observation('crashloop-exit-codes');
    const copy = structuredClone(obs);
    diagnose(obs, { since: ROLLOUT_START });
    assert.deepEqual(obs, copy);
  });
});

describe('normaliseMessage', () => {
  test('removes what differs per pod or per retry', () => {
    assert.equal(
      normaliseMessage('Back-off restarting failed container app in pod checkout-84c6f9d7b8-2xkqp_shop(0f3c6a2e-8d7b-4f61-9a0e-5b2c1d4e6f70)'),
      'Back-off restarting failed container app',
    );
    assert.equal(normaliseMessage('(combined from similar events): Readiness probe failed: timeout'), 'Readiness probe failed: timeout');
    assert.equal(
      normaliseMessage('pods "web-7c9d8b6f5-x2v9k" is forbidden: exceeded quota: pods', { replicaSetName: 'web-7c9d8b6f5' }),
      'pods "web-7c9d8b6f5-" is forbidden: exceeded quota: pods',
    );
    assert.equal(normaliseMessage('   '), undefined);
  });
});

function podWith(container: ContainerFacts): PodFacts {
  return {
    uid: '11111111-2222-4333-8444-555555555555',
    namespace: 'shop',
    name: 'web-7c9d8b6f5-b9xkq',
    phase: 'Running',
    deleting: false,
    containers: [container],
    conditions: [
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${container.name}]` },
    ],
  };
}
