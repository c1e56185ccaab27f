/**
 * The rules of src/machines/diagnosis.ts, one small scenario each (issue 15): which waiting
 * reasons are stuck, which exits are abnormal, which container state is reported, how
 * problems group, which events count and echo, and how messages are normalised. Each test is
 * named after the rule it pins, so a mutant that breaks a rule names the rule that broke.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConditionFacts, ContainerFacts, EventFacts, PodFacts, ReplicaSetFacts } from '../../src/machines/facts.js';
import type { ProblemGroup } from '../../src/machines/notification.js';
import {
  diagnose,
  isFailing,
  isStuckContainer,
  isStuckPod,
  isUnrecoverableWaiting,
  normaliseMessage,
  type DiagnosisInput,
} from '../../src/machines/diagnosis.js';
import { deploymentFacts } from '../support/observations.js';

const RS_NAME = 'web-7c9d8b6f5';

function replicaSet(conditions: ConditionFacts[] = []): ReplicaSetFacts {
  return {
    uid: 'uid-rs',
    namespace: 'shop',
    name: RS_NAME,
    ownerUid: 'uid-web',
    revision: 2,
    revisionHistory: [],
    replicas: 2,
    status: { replicas: 0, readyReplicas: 0, availableReplicas: 0, conditions },
  };
}

function container(over: Partial<ContainerFacts> = {}): ContainerFacts {
  return { name: 'app', init: false, ready: false, restartCount: 0, ...over };
}

function pod(name: string, containers: ContainerFacts[], over: Partial<PodFacts> = {}): PodFacts {
  return { uid: `uid-${name}`, namespace: 'shop', name, ownerUid: 'uid-rs', phase: 'Running', deleting: false, containers, conditions: [], ...over };
}

function event(over: Partial<EventFacts> = {}): EventFacts {
  return {
    namespace: 'shop',
    involvedKind: 'Pod',
    involvedName: 'p1',
    reason: 'Unhealthy',
    message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
    count: 1,
    lastSeen: 1_000,
    ...over,
  };
}

const crashLooping = (over: Partial<ContainerFacts> = {}): ContainerFacts =>
  container({
    restartCount: 3,
    waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app pod=p1_shop(0f1e2d3c)' },
    lastTerminated: { reason: 'Error', exitCode: 1 },
    ...over,
  });

function diagnoseWith(input: Partial<DiagnosisInput>, since?: number) {
  return diagnose({ newReplicaSet: replicaSet(), pods: [], warnings: [], ...input }, since === undefined ? {} : { since });
}

/** The problems of one Pod with the given containers. */
function problemsOf(...containers: ContainerFacts[]): ProblemGroup[] {
  return diagnoseWith({ pods: [pod('p1', containers)] }).problems;
}

describe('stuck rule: waiting reasons the kubelet retries forever', () => {
  const stuck = [
    'CrashLoopBackOff',
    'ErrImagePull',
    'ImagePullBackOff',
    'InvalidImageName',
    'ErrImageNeverPull',
    'CreateContainerConfigError',
    'CreateContainerError',
    'RunContainerError',
  ];
  for (const reason of stuck) {
    it(`${reason} is unrecoverable`, () => {
      assert.equal(isUnrecoverableWaiting(reason), true);
      assert.equal(isStuckContainer(container({ waiting: { reason } })), true);
    });
  }

  for (const reason of ['ContainerCreating', 'PodInitializing', 'Completed', '']) {
    it(`${JSON.stringify(reason)} is not unrecoverable`, () => {
      assert.equal(isUnrecoverableWaiting(reason), false);
      assert.equal(isStuckContainer(container({ waiting: { reason } })), false);
    });
  }

  it('a waiting state without a reason is not stuck', () => {
    assert.equal(isUnrecoverableWaiting(undefined), false);
    assert.equal(isStuckContainer(container({ waiting: {} })), false);
  });

  it('the kubelet\'s ConfigMap cache-sync timeout is transient', () => {
    assert.equal(isUnrecoverableWaiting('CreateContainerConfigError', 'failed to sync configmap cache: timed out waiting for the condition'), false);
  });

  it('the kubelet\'s Secret cache-sync timeout is transient, whatever its case', () => {
    assert.equal(isUnrecoverableWaiting('CreateContainerConfigError', 'Failed To Sync Secret Cache: timed out'), false);
  });

  it('a missing Secret is a CreateContainerConfigError that stays', () => {
    assert.equal(isUnrecoverableWaiting('CreateContainerConfigError', 'secret "db" not found'), true);
  });

  it('the cache-sync exception belongs to CreateContainerConfigError only', () => {
    assert.equal(isUnrecoverableWaiting('CreateContainerError', 'failed to sync secret cache: timed out'), true);
    assert.equal(isUnrecoverableWaiting('RunContainerError', 'failed to sync configmap cache'), true);
  });

  it('a cache-sync waiting container does not make its Pod stuck', () => {
    const c = container({ waiting: { reason: 'CreateContainerConfigError', message: 'failed to sync secret cache: timed out' } });
    assert.equal(isStuckContainer(c), false);
    assert.equal(isStuckPod(pod('p1', [c])), false);
  });
});

describe('stuck rule: OOMKilled', () => {
  it('OOMKilled after at least one restart is stuck (it will be killed again)', () => {
    assert.equal(isStuckContainer(container({ restartCount: 1, terminated: { reason: 'OOMKilled', exitCode: 137 } })), true);
  });

  it('a first OOMKilled (no restart yet) is not stuck', () => {
    assert.equal(isStuckContainer(container({ restartCount: 0, terminated: { reason: 'OOMKilled', exitCode: 137 } })), false);
  });

  it('another termination reason after restarts is not stuck by itself', () => {
    assert.equal(isStuckContainer(container({ restartCount: 5, terminated: { reason: 'Error', exitCode: 1 } })), false);
  });

  it('an OOMKilled last run does not make a running container stuck', () => {
    assert.equal(isStuckContainer(container({ restartCount: 5, lastTerminated: { reason: 'OOMKilled', exitCode: 137 } })), false);
  });
});

describe('stuck rule: a Pod is stuck when any of its containers is', () => {
  it('one stuck container among healthy ones makes the Pod stuck', () => {
    assert.equal(isStuckPod(pod('p1', [container({ name: 'sidecar', ready: true }), crashLooping()])), true);
  });

  it('a Pod with only healthy containers is not stuck', () => {
    assert.equal(isStuckPod(pod('p1', [container({ ready: true }), container({ name: 'init', init: true })])), false);
  });

  it('a Pod without a container list is not stuck', () => {
    assert.equal(isStuckPod({ ...pod('p1', []), containers: undefined as unknown as ContainerFacts[] }), false);
  });
});

describe('early-failure rule (isFailing)', () => {
  const d = (pods: number, stuckPods: number, replicaFailure?: string) => ({
    pods,
    stuckPods,
    problems: [],
    ...(replicaFailure === undefined ? {} : { replicaFailure }),
  });

  it('every new Pod stuck: failing', () => assert.equal(isFailing(d(2, 2), 2), true));
  it('one new Pod stuck: failing', () => assert.equal(isFailing(d(1, 1), 1), true));
  it('some new Pods healthy: not failing', () => assert.equal(isFailing(d(3, 2), 3), false));
  it('no Pods and no ReplicaFailure: not failing (not created yet)', () => assert.equal(isFailing(d(0, 0), 2), false));
  it('ReplicaFailure and no Pods: failing', () => assert.equal(isFailing(d(0, 0, 'forbidden'), 2), true));
  it('ReplicaFailure while some Pods run and none is stuck: not failing', () => assert.equal(isFailing(d(1, 0, 'exceeded quota'), 3), false));
  it('a rollout to zero replicas never fails', () => {
    assert.equal(isFailing(d(1, 1), 0), false);
    assert.equal(isFailing(d(0, 0, 'forbidden'), 0), false);
  });
  it('a negative replica count never fails', () => assert.equal(isFailing(d(1, 1), -1), false));
});

describe('reported state: a waiting container', () => {
  it('a crash loop reports the waiting reason with the last run\'s exit code and reason', () => {
    assert.deepEqual(problemsOf(crashLooping({ lastTerminated: { reason: 'OOMKilled', exitCode: 137 } })), [
      { source: 'container', reason: 'CrashLoopBackOff', container: 'app', exitCode: 137, lastTerminationReason: 'OOMKilled', count: 1 },
    ]);
  });

  it('a crash loop\'s message is the last run\'s termination message, not the back-off text', () => {
    const [p] = problemsOf(crashLooping({ lastTerminated: { reason: 'Error', exitCode: 2, message: 'panic: config missing' } }));
    assert.equal(p!.message, 'panic: config missing');
  });

  it('a crash loop without a termination message has no message', () => {
    const [p] = problemsOf(crashLooping());
    assert.equal(p!.message, undefined);
    assert.equal('message' in p!, false);
  });

  it('another waiting reason reports its own (normalised) message', () => {
    const [p] = problemsOf(container({ waiting: { reason: 'ErrImagePull', message: '  rpc error: not found  ' } }));
    assert.deepEqual(p, { source: 'container', reason: 'ErrImagePull', message: 'rpc error: not found', container: 'app', count: 1 });
  });

  it('a waiting reason that is not stuck is still reported (but the Pod is not stuck)', () => {
    const d = diagnoseWith({ pods: [pod('p1', [container({ waiting: { reason: 'ContainerStatusUnknown', message: 'gone' } })])] });
    assert.deepEqual(
      d.problems.map((p) => p.reason),
      ['ContainerStatusUnknown'],
    );
    assert.equal(d.stuckPods, 0);
  });

  for (const reason of ['ContainerCreating', 'PodInitializing']) {
    it(`${reason} is only starting: no container problem`, () => {
      assert.deepEqual(problemsOf(container({ waiting: { reason, message: 'starting' } })), []);
    });
  }

  it('a waiting state without a reason is not reported as a problem', () => {
    assert.deepEqual(problemsOf(container({ waiting: { message: 'what' } })), []);
  });

  it('an init container is reported as an init container', () => {
    const [p] = problemsOf(crashLooping({ name: 'migrate', init: true }));
    assert.equal(p!.source, 'initContainer');
    assert.equal(p!.container, 'migrate');
  });
});

describe('reported state: a terminated container', () => {
  it('an app container that exited 0 is a problem (a Deployment\'s container is never meant to exit)', () => {
    assert.deepEqual(problemsOf(container({ terminated: { reason: 'Completed', exitCode: 0 } })), [
      { source: 'container', reason: 'Completed', container: 'app', exitCode: 0, count: 1 },
    ]);
  });

  it('an init container that exited 0 is not a problem', () => {
    assert.deepEqual(problemsOf(container({ name: 'migrate', init: true, terminated: { reason: 'Completed', exitCode: 0 } })), []);
  });

  it('an init container that terminated without an exit code counts as exit 0', () => {
    assert.deepEqual(problemsOf(container({ name: 'migrate', init: true, terminated: { reason: 'Completed' } })), []);
  });

  it('an init container that failed is a problem', () => {
    assert.deepEqual(problemsOf(container({ name: 'migrate', init: true, terminated: { reason: 'Error', exitCode: 3, message: 'boom' } })), [
      { source: 'initContainer', reason: 'Error', message: 'boom', container: 'migrate', exitCode: 3, count: 1 },
    ]);
  });

  it('an init container OOMKilled with exit 0 is still a problem', () => {
    assert.deepEqual(problemsOf(container({ name: 'migrate', init: true, terminated: { reason: 'OOMKilled', exitCode: 0 } })), [
      { source: 'initContainer', reason: 'OOMKilled', container: 'migrate', exitCode: 0, count: 1 },
    ]);
  });

  it('a termination without a reason is reported as "Terminated"', () => {
    assert.deepEqual(problemsOf(container({ terminated: { exitCode: 2 } })), [
      { source: 'container', reason: 'Terminated', container: 'app', exitCode: 2, count: 1 },
    ]);
  });

  it('a waiting reason wins over a terminated state', () => {
    const [p] = problemsOf(container({ waiting: { reason: 'ErrImagePull' }, terminated: { reason: 'Error', exitCode: 1 } }));
    assert.equal(p!.reason, 'ErrImagePull');
  });
});

describe('reported state: running again between two crashes (abnormal last exit)', () => {
  const between = (over: Partial<ContainerFacts>) => container({ restartCount: 2, ...over });

  it('a non-zero last exit is abnormal: reported with that exit', () => {
    assert.deepEqual(problemsOf(between({ lastTerminated: { reason: 'Error', exitCode: 1, message: 'bind: address in use' } })), [
      { source: 'container', reason: 'Error', message: 'bind: address in use', container: 'app', exitCode: 1, count: 1 },
    ]);
  });

  it('OOMKilled is abnormal even without an exit code', () => {
    assert.deepEqual(problemsOf(between({ lastTerminated: { reason: 'OOMKilled' } })), [
      { source: 'container', reason: 'OOMKilled', container: 'app', count: 1 },
    ]);
  });

  it('a last exit 0 is normal: nothing to report', () => {
    assert.deepEqual(problemsOf(between({ lastTerminated: { reason: 'Completed', exitCode: 0 } })), []);
  });

  it('a last run without an exit code and not OOMKilled is normal', () => {
    assert.deepEqual(problemsOf(between({ lastTerminated: { reason: 'Error' } })), []);
  });

  it('a ready container is not reported, whatever its last run', () => {
    assert.deepEqual(problemsOf(between({ ready: true, lastTerminated: { reason: 'Error', exitCode: 1 } })), []);
  });

  it('a container never restarted is not reported for its last run', () => {
    assert.deepEqual(problemsOf(between({ restartCount: 0, lastTerminated: { reason: 'Error', exitCode: 1 } })), []);
  });

  it('a container without a last run is not reported', () => {
    assert.deepEqual(problemsOf(between({})), []);
  });
});

describe('grouping rule: the same problem on several Pods is one group', () => {
  it('identical crash loops on two Pods group with a count of 2', () => {
    const d = diagnoseWith({ pods: [pod('p1', [crashLooping()]), pod('p2', [crashLooping()])] });
    assert.deepEqual(
      d.problems.map((p) => [p.reason, p.count]),
      [['CrashLoopBackOff', 2]],
    );
  });

  const differing: Array<[string, Partial<ContainerFacts>]> = [
    ['container name', { name: 'worker' }],
    ['exit code', { lastTerminated: { reason: 'Error', exitCode: 2 } }],
    ['last termination reason', { lastTerminated: { reason: 'OOMKilled', exitCode: 1 } }],
    ['message', { lastTerminated: { reason: 'Error', exitCode: 1, message: 'other' } }],
    ['source (init container)', { init: true }],
  ];
  for (const [what, change] of differing) {
    it(`a different ${what} is a different group`, () => {
      const d = diagnoseWith({ pods: [pod('p1', [crashLooping()]), pod('p2', [crashLooping(change)])] });
      assert.equal(d.problems.length, 2, JSON.stringify(d.problems));
    });
  }

  it('a Pod counts once per group, even with two containers showing the same problem', () => {
    const d = diagnoseWith({ pods: [pod('p1', [crashLooping(), crashLooping()])] });
    assert.deepEqual(
      d.problems.map((p) => p.count),
      [1],
    );
  });

  it('the most widespread problem comes first', () => {
    const d = diagnoseWith({
      pods: [
        pod('p1', [container({ waiting: { reason: 'ErrImagePull' } })]),
        pod('p2', [crashLooping()]),
        pod('p3', [crashLooping()]),
      ],
    });
    assert.deepEqual(
      d.problems.map((p) => `${p.reason}:${p.count}`),
      ['CrashLoopBackOff:2', 'ErrImagePull:1'],
    );
  });

  it('problems as widespread keep the order of the Pods by name', () => {
    const d = diagnoseWith({
      pods: [pod('p2', [crashLooping()]), pod('p1', [container({ waiting: { reason: 'ErrImagePull' } })])],
    });
    assert.deepEqual(
      d.problems.map((p) => p.reason),
      ['ErrImagePull', 'CrashLoopBackOff'],
    );
  });

  it('Pods being deleted are left out of the counts and the problems', () => {
    const d = diagnoseWith({ pods: [pod('p1', [crashLooping()], { deleting: true }), pod('p2', [container({ ready: true })])] });
    assert.equal(d.pods, 1);
    assert.equal(d.stuckPods, 0);
    assert.deepEqual(d.problems, []);
  });

  it('stuckPods counts the Pods with a stuck container', () => {
    const d = diagnoseWith({ pods: [pod('p1', [crashLooping()]), pod('p2', [container({ ready: true })]), pod('p3', [crashLooping()])] });
    assert.equal(d.pods, 3);
    assert.equal(d.stuckPods, 2);
  });
});

describe('Pod conditions', () => {
  it('a specific condition that is not True is reported with its reason and message', () => {
    const p = pod('p1', [], {
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }],
    });
    assert.deepEqual(diagnoseWith({ pods: [p] }).problems, [
      { source: 'podCondition', reason: 'Unschedulable', message: '0/3 nodes are available', count: 1 },
    ]);
  });

  it('a condition without a reason is named TYPE=STATUS', () => {
    const p = pod('p1', [], { conditions: [{ type: 'DisruptionTarget', status: 'Unknown' }] });
    assert.deepEqual(
      diagnoseWith({ pods: [p] }).problems.map((x) => x.reason),
      ['DisruptionTarget=Unknown'],
    );
  });

  it('a True condition is not a problem', () => {
    const p = pod('p1', [container({ ready: true })], { conditions: [{ type: 'PodScheduled', status: 'True', reason: 'Whatever' }] });
    assert.deepEqual(diagnoseWith({ pods: [p] }).problems, []);
  });

  it('a generic condition is reported only for a Pod nothing else explains', () => {
    const generic: ConditionFacts = { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' };
    const explained = pod('p1', [crashLooping()], { conditions: [generic] });
    const unexplained = pod('p2', [container()], { conditions: [generic] });
    assert.deepEqual(
      diagnoseWith({ pods: [explained, unexplained] }).problems.map((p) => `${p.source}:${p.reason}:${p.count}`),
      ['container:CrashLoopBackOff:1', 'podCondition:ContainersNotReady:1'],
    );
  });

  it('the first generic condition that is not True wins, in the order Initialized, Ready, ContainersReady', () => {
    const p = pod('p1', [container()], {
      conditions: [
        { type: 'ContainersReady', status: 'False', reason: 'C' },
        { type: 'Ready', status: 'False', reason: 'R' },
        { type: 'Initialized', status: 'True' },
      ],
    });
    assert.deepEqual(
      diagnoseWith({ pods: [p] }).problems.map((x) => x.reason),
      ['R'],
    );
  });

  it('PodReadyToStartContainers is generic too', () => {
    const p = pod('p1', [container()], { conditions: [{ type: 'PodReadyToStartContainers', status: 'False', reason: 'Sandbox' }] });
    assert.deepEqual(
      diagnoseWith({ pods: [p] }).problems.map((x) => `${x.source}:${x.reason}`),
      ['podCondition:Sandbox'],
    );
    const explained = pod('p1', [crashLooping()], { conditions: [{ type: 'PodReadyToStartContainers', status: 'False', reason: 'Sandbox' }] });
    assert.deepEqual(
      diagnoseWith({ pods: [explained] }).problems.map((x) => x.reason),
      ['CrashLoopBackOff'],
    );
  });

  it('an event about a Pod explains it: no generic condition for it', () => {
    const p = pod('p1', [container()], { conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }] });
    const d = diagnoseWith({ pods: [p], warnings: [event()] });
    assert.deepEqual(
      d.problems.map((x) => x.source),
      ['event'],
    );
  });

  it('an event about the ReplicaSet does not explain a Pod', () => {
    const p = pod('p1', [container()], { conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }] });
    const d = diagnoseWith({ pods: [p], warnings: [event({ involvedKind: 'ReplicaSet', involvedName: RS_NAME, reason: 'FailedCreate', message: 'quota' })] });
    assert.deepEqual(
      d.problems.map((x) => `${x.source}:${x.reason}`),
      ['podCondition:ContainersNotReady', 'event:FailedCreate'],
    );
  });
});

describe('ReplicaFailure', () => {
  const failure: ConditionFacts = { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "web-7c9d8b6f5-x2v9k" is forbidden: quota' };

  it('the ReplicaSet\'s refusal comes first, normalised, and is the diagnosis\'s replicaFailure', () => {
    const d = diagnoseWith({ newReplicaSet: replicaSet([failure]), pods: [pod('p1', [crashLooping()])] });
    assert.equal(d.replicaFailure, 'pods "web-7c9d8b6f5-" is forbidden: quota');
    assert.deepEqual(d.problems[0], { source: 'replicaSet', reason: 'FailedCreate', message: 'pods "web-7c9d8b6f5-" is forbidden: quota', count: 1 });
    assert.equal(d.problems[1]!.reason, 'CrashLoopBackOff');
  });

  it('without a message, replicaFailure is the reason', () => {
    const d = diagnoseWith({ newReplicaSet: replicaSet([{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate' }]) });
    assert.equal(d.replicaFailure, 'FailedCreate');
    assert.deepEqual(d.problems, [{ source: 'replicaSet', reason: 'FailedCreate', message: 'FailedCreate', count: 1 }]);
  });

  it('without a message or a reason, replicaFailure is the condition type', () => {
    const d = diagnoseWith({ newReplicaSet: replicaSet([{ type: 'ReplicaFailure', status: 'True' }]) });
    assert.equal(d.replicaFailure, 'ReplicaFailure');
    assert.equal(d.problems[0]!.reason, 'ReplicaFailure');
  });

  it('no ReplicaFailure: no replicaFailure key at all', () => {
    const d = diagnoseWith({});
    assert.equal('replicaFailure' in d, false);
  });

  it('a FailedCreate event that repeats the refusal is not listed again', () => {
    const d = diagnoseWith({
      newReplicaSet: replicaSet([failure]),
      warnings: [event({ involvedKind: 'ReplicaSet', involvedName: RS_NAME, reason: 'FailedCreate', message: 'Error creating: pods "web-7c9d8b6f5-abcde" is forbidden: quota' })],
    });
    assert.deepEqual(
      d.problems.map((p) => p.source),
      ['replicaSet'],
    );
  });
});

describe('events: which ones count', () => {
  const withPod = (warnings: EventFacts[], since?: number) => diagnoseWith({ pods: [pod('p1', [container({ ready: true })])], warnings }, since);

  it('an event last seen exactly at `since` counts', () => {
    assert.equal(withPod([event({ lastSeen: 5_000 })], 5_000).problems.length, 1);
  });

  it('an event last seen before `since` is left out', () => {
    assert.equal(withPod([event({ lastSeen: 4_999 })], 5_000).problems.length, 0);
  });

  it('an event about a Pod that is not one of the new Pods is left out', () => {
    assert.equal(withPod([event({ involvedName: 'other' })]).problems.length, 0);
  });

  it('an event about a same-named Pod with another uid is left out; the same uid counts', () => {
    assert.equal(withPod([event({ involvedUid: 'uid-old' })]).problems.length, 0);
    assert.equal(withPod([event({ involvedUid: 'uid-p1' })]).problems.length, 1);
  });

  it('an event about the new ReplicaSet counts; about another ReplicaSet or uid it does not', () => {
    const rsEvent = (over: Partial<EventFacts>) => event({ involvedKind: 'ReplicaSet', involvedName: RS_NAME, reason: 'FailedCreate', message: 'quota', ...over });
    assert.equal(withPod([rsEvent({})]).problems.length, 1);
    assert.equal(withPod([rsEvent({ involvedUid: 'uid-rs' })]).problems.length, 1);
    assert.equal(withPod([rsEvent({ involvedName: 'web-old' })]).problems.length, 0);
    assert.equal(withPod([rsEvent({ involvedUid: 'uid-other' })]).problems.length, 0);
  });

  it('an event about the ReplicaSet counts only when there is a new ReplicaSet', () => {
    const d = diagnose({ newReplicaSet: null, pods: [], warnings: [event({ involvedKind: 'ReplicaSet', involvedName: RS_NAME })] });
    assert.deepEqual(d.problems, []);
  });

  it('an event about another kind (the Deployment) is left out', () => {
    assert.equal(withPod([event({ involvedKind: 'Deployment', involvedName: 'p1' })]).problems.length, 0);
  });

  it('events with the same reason and message sum their counts; a count of 0 counts as 1', () => {
    const d = withPod([event({ count: 3 }), event({ count: 0, lastSeen: 2_000 })]);
    assert.deepEqual(d.problems, [
      { source: 'event', reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503', count: 4 },
    ]);
  });

  it('events are ordered by occurrences, most first, and after the Pods\' problems', () => {
    const d = diagnoseWith({
      pods: [pod('p1', [crashLooping()]), pod('p2', [container({ ready: true })])],
      warnings: [
        event({ involvedName: 'p2', reason: 'A', message: 'first', count: 1 }),
        event({ involvedName: 'p2', reason: 'B', message: 'second', count: 5 }),
      ],
    });
    assert.deepEqual(
      d.problems.map((p) => `${p.source}:${p.reason}`),
      ['container:CrashLoopBackOff', 'event:B', 'event:A'],
    );
  });

  it('events with as many occurrences are ordered by reason, then message', () => {
    const d = withPod([event({ reason: 'B', message: 'x' }), event({ reason: 'A', message: 'z' }), event({ reason: 'A', message: 'y' })]);
    assert.deepEqual(
      d.problems.map((p) => `${p.reason}:${p.message}`),
      ['A:y', 'A:z', 'B:x'],
    );
  });

  it('events are normalised before grouping (per-Pod suffixes removed)', () => {
    const d = diagnoseWith({
      pods: [pod('p1', [container({ ready: true })]), pod('p2', [container({ ready: true })])],
      warnings: [
        event({ involvedName: 'p1', reason: 'Failed', message: 'Error: thing in pod p1_shop(0a1b)' }),
        event({ involvedName: 'p2', reason: 'Failed', message: 'Error: thing in pod p2_shop(0c2d)' }),
      ],
    });
    assert.deepEqual(
      d.problems.map((p) => `${p.message}:${p.count}`),
      ['Error: thing:2'],
    );
  });
});

describe('events: echoes of a state already shown are left out', () => {
  const withState = (c: ContainerFacts, e: Partial<EventFacts>) =>
    diagnoseWith({ pods: [pod('p1', [c])], warnings: [event(e)] }).problems.map((p) => `${p.source}:${p.reason}`);

  it('a BackOff event echoes a CrashLoopBackOff', () => {
    assert.deepEqual(withState(crashLooping(), { reason: 'BackOff', message: 'Back-off restarting failed container' }), ['container:CrashLoopBackOff']);
  });

  it('a BackOff event does not echo a state that is not a back-off', () => {
    assert.deepEqual(withState(container({ waiting: { reason: 'RunContainerError', message: 'exec: not found' } }), { reason: 'BackOff', message: 'Back-off restarting failed container' }), [
      'container:RunContainerError',
      'event:BackOff',
    ]);
  });

  it('another reason ending in BackOff does not make an event an echo', () => {
    assert.deepEqual(withState(crashLooping(), { reason: 'FailedBackOff', message: 'something else entirely happened here' }), [
      'container:CrashLoopBackOff',
      'event:FailedBackOff',
    ]);
  });

  it('"Error: REASON" echoes the state with that reason', () => {
    assert.deepEqual(withState(container({ waiting: { reason: 'CreateContainerConfigError', message: 'secret "db" not found' } }), { reason: 'Failed', message: 'Error: CreateContainerConfigError' }), [
      'container:CreateContainerConfigError',
    ]);
  });

  it('a bare unrecoverable reason echoes another unrecoverable state', () => {
    assert.deepEqual(withState(container({ waiting: { reason: 'ErrImagePull', message: 'not found' } }), { reason: 'Failed', message: 'Error: ImagePullBackOff' }), ['container:ErrImagePull']);
  });

  it('a bare reason that is not unrecoverable is not an echo', () => {
    assert.deepEqual(withState(container({ waiting: { reason: 'ErrImagePull', message: 'not found' } }), { reason: 'Failed', message: 'Error: ContainerCreating' }), [
      'container:ErrImagePull',
      'event:Failed',
    ]);
  });

  it('an event with the same message as the state (after the wrappers) is an echo', () => {
    const c = container({ waiting: { reason: 'ErrImagePull', message: 'rpc error: manifest unknown' } });
    assert.deepEqual(withState(c, { reason: 'Failed', message: 'Failed to pull image "web:2": rpc error: manifest unknown' }), ['container:ErrImagePull']);
  });

  it('the back-off wrapper with its reason is stripped before comparing', () => {
    const c = container({ waiting: { reason: 'ImagePullBackOff', message: 'rpc error: manifest unknown' } });
    assert.deepEqual(withState(c, { reason: 'Failed', message: 'Back-off pulling image "web:2": ErrImagePull: rpc error: manifest unknown' }), ['container:ImagePullBackOff']);
  });

  it('"Error creating: " is stripped before comparing', () => {
    const c = container({ terminated: { reason: 'Error', exitCode: 1, message: 'a message long enough to compare' } });
    assert.deepEqual(withState(c, { reason: 'Failed', message: 'Error creating: a message long enough to compare' }), ['container:Error']);
  });

  it('an event without a message echoes nothing (unless it is a BackOff)', () => {
    const c = container({ terminated: { reason: 'Error', exitCode: 1 } });
    assert.deepEqual(withState(c, { reason: 'Failed', message: '' }), ['container:Error', 'event:Failed']);
  });

  it('a state without a message is not echoed by a different event message', () => {
    const c = container({ terminated: { reason: 'Error', exitCode: 1 } });
    assert.deepEqual(withState(c, { reason: 'Failed', message: 'something quite different' }), ['container:Error', 'event:Failed']);
  });

  it('a state message of 20 characters found inside an event\'s message is an echo', () => {
    const shown = 'abcdefghijklmnopqrst';
    assert.equal(shown.length, 20);
    const c = container({ terminated: { reason: 'Error', exitCode: 1, message: shown } });
    assert.deepEqual(withState(c, { reason: 'Failed', message: `prefix ${shown} suffix` }), ['container:Error']);
  });

  it('a state message of 19 characters inside an event\'s message is not an echo', () => {
    const shown = 'abcdefghijklmnopqrs';
    const c = container({ terminated: { reason: 'Error', exitCode: 1, message: shown } });
    assert.deepEqual(withState(c, { reason: 'Failed', message: `prefix ${shown} suffix` }), ['container:Error', 'event:Failed']);
  });

  it('an event message of 20 characters found inside a state\'s message is an echo', () => {
    const core = 'abcdefghijklmnopqrst';
    const c = container({ terminated: { reason: 'Error', exitCode: 1, message: `long prefix ${core} and more` } });
    assert.deepEqual(withState(c, { reason: 'Failed', message: core }), ['container:Error']);
  });

  it('a long event message that is not inside the state\'s message is not an echo', () => {
    const c = container({ terminated: { reason: 'Error', exitCode: 1, message: 'abcdefghijklmnopqrstuvwxyz' } });
    assert.deepEqual(withState(c, { reason: 'Failed', message: 'zyxwvutsrqponmlkjihgfedcba' }), ['container:Error', 'event:Failed']);
  });
});

describe('normaliseMessage', () => {
  it('undefined stays undefined', () => assert.equal(normaliseMessage(undefined), undefined));
  it('blank becomes undefined', () => assert.equal(normaliseMessage('   '), undefined));
  it('trims', () => assert.equal(normaliseMessage('  x  '), 'x'));

  it('removes the event correlator\'s prefix at the start only', () => {
    assert.equal(normaliseMessage('(combined from similar events): Error: x'), 'Error: x');
    assert.equal(normaliseMessage('(combined from similar events):Error'), 'Error');
    assert.equal(normaliseMessage('x (combined from similar events): y'), 'x (combined from similar events): y');
  });

  it('removes the kubelet\'s pod=NAME_NS(UID) and "in pod NAME_NS(UID)" suffixes, everywhere', () => {
    assert.equal(
      normaliseMessage('back-off 40s restarting failed container=app pod=web-7c9d8b6f5-x2v9k_shop(0f1e2d3c-aa)'),
      'back-off 40s restarting failed container=app',
    );
    assert.equal(normaliseMessage('a in pod web-1.x_shop-2(ab12) b in pod web-2_shop(cd34)'), 'a b');
  });

  it('keeps text that only looks like a pod suffix', () => {
    assert.equal(normaliseMessage('pod=Web_shop(0f)'), 'pod=Web_shop(0f)');
    assert.equal(normaliseMessage('pod=web_shop(xyz)'), 'pod=web_shop(xyz)');
    assert.equal(normaliseMessage('pod=web-shop(0f)'), 'pod=web-shop(0f)');
  });

  it('cuts the random suffix of generated Pod names of this ReplicaSet, everywhere', () => {
    assert.equal(
      normaliseMessage('pods "web-7c9d8b6f5-x2v9k" is forbidden; pods "web-7c9d8b6f5-ab3de" too', { replicaSetName: RS_NAME }),
      'pods "web-7c9d8b6f5-" is forbidden; pods "web-7c9d8b6f5-" too',
    );
  });

  it('only a five-character suffix inside quotes is a generated name', () => {
    const ctx = { replicaSetName: RS_NAME };
    assert.equal(normaliseMessage('pods "web-7c9d8b6f5-x2v9" x', ctx), 'pods "web-7c9d8b6f5-x2v9" x');
    assert.equal(normaliseMessage('pods "web-7c9d8b6f5-x2v9kk" x', ctx), 'pods "web-7c9d8b6f5-x2v9kk" x');
    assert.equal(normaliseMessage('pods web-7c9d8b6f5-x2v9k x', ctx), 'pods web-7c9d8b6f5-x2v9k x');
  });

  it('another ReplicaSet\'s Pod names are kept', () => {
    assert.equal(normaliseMessage('pods "api-5d4c3b2a1-x2v9k"', { replicaSetName: RS_NAME }), 'pods "api-5d4c3b2a1-x2v9k"');
  });

  it('a ReplicaSet name is matched literally (a dot is a dot)', () => {
    assert.equal(normaliseMessage('pods "webXv2-x2v9k"', { replicaSetName: 'web.v2' }), 'pods "webXv2-x2v9k"');
    assert.equal(normaliseMessage('pods "web.v2-x2v9k"', { replicaSetName: 'web.v2' }), 'pods "web.v2-"');
  });

  it('an empty ReplicaSet name cuts nothing', () => {
    assert.equal(normaliseMessage('pods "-x2v9k"', { replicaSetName: '' }), 'pods "-x2v9k"');
  });

  it('a message that was only a suffix becomes undefined', () => {
    assert.equal(normaliseMessage(' pod=web_shop(0f) '), undefined);
  });
});

describe('determinism', () => {
  it('Pods in any order give the same problems in the same order', () => {
    const pods = [pod('a', [crashLooping()]), pod('b', [container({ waiting: { reason: 'ErrImagePull' } })]), pod('c', [crashLooping({ name: 'w' })])];
    const forward = diagnoseWith({ pods });
    const backward = diagnoseWith({ pods: [...pods].reverse() });
    assert.deepEqual(backward, forward);
    assert.deepEqual(
      forward.problems.map((p) => `${p.reason}/${p.container}`),
      ['CrashLoopBackOff/app', 'ErrImagePull/app', 'CrashLoopBackOff/w'],
    );
  });

  it('events in any order give the same problems', () => {
    const warnings = [event({ reason: 'B', message: 'x', lastSeen: 2 }), event({ reason: 'A', message: 'y', lastSeen: 1 }), event({ reason: 'A', message: 'x', lastSeen: 3 })];
    const withPod = (w: EventFacts[]) => diagnoseWith({ pods: [pod('p1', [container({ ready: true })])], warnings: w }).problems;
    assert.deepEqual(withPod([...warnings].reverse()), withPod(warnings));
  });
});

describe('more rules found by mutation testing', () => {
  it('normaliseMessage trims before removing the correlator\'s prefix', () => {
    assert.equal(normaliseMessage('  (combined from similar events): x'), 'x');
  });

  it('normaliseMessage trims what a removed suffix leaves at the start', () => {
    assert.equal(normaliseMessage('pod=web_shop(0f) rest'), 'rest');
  });

  it('problems as widespread keep the order they were first seen in (three Pods)', () => {
    const d = diagnoseWith({
      pods: [
        pod('p1', [container({ waiting: { reason: 'A' } })]),
        pod('p2', [container({ waiting: { reason: 'B' } })]),
        pod('p3', [container({ waiting: { reason: 'C' } })]),
        pod('p4', [container({ waiting: { reason: 'D' } })]),
      ],
    });
    assert.deepEqual(
      d.problems.map((p) => p.reason),
      ['A', 'B', 'C', 'D'],
    );
  });

  it('a crash loop seen before any run ended has no exit code and no message', () => {
    assert.deepEqual(problemsOf(container({ restartCount: 1, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } })), [
      { source: 'container', reason: 'CrashLoopBackOff', container: 'app', count: 1 },
    ]);
  });

  it('a container starting again after a crash (ContainerCreating) is not reported for its last run', () => {
    assert.deepEqual(problemsOf(container({ restartCount: 2, waiting: { reason: 'ContainerCreating' }, lastTerminated: { reason: 'Error', exitCode: 1 } })), []);
  });

  it('an init container that completed after an earlier failure is not a problem', () => {
    const c = container({ name: 'migrate', init: true, restartCount: 1, terminated: { reason: 'Completed', exitCode: 0 }, lastTerminated: { reason: 'Error', exitCode: 1 } });
    assert.deepEqual(problemsOf(c), []);
  });

  it('the Deployment\'s FailedCreate counts when the ReplicaSet says nothing', () => {
    const d = diagnose({
      deployment: deploymentFacts({ revision: 2, at: 0 }),
      newReplicaSet: null,
      pods: [],
      warnings: [],
    });
    assert.equal(d.replicaFailure, undefined);
    const failing = deploymentFacts({ revision: 2, at: 0 });
    failing.status.conditions.push({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'exceeded quota' });
    assert.equal(diagnose({ deployment: failing, newReplicaSet: null, pods: [], warnings: [] }).replicaFailure, 'exceeded quota');
  });

  it('an event saying only the ReplicaSet\'s failure reason echoes it', () => {
    const d = diagnoseWith({
      newReplicaSet: replicaSet([{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'exceeded quota' }]),
      warnings: [event({ involvedKind: 'ReplicaSet', involvedName: RS_NAME, reason: 'Failed', message: 'Error: FailedCreate' })],
    });
    assert.deepEqual(
      d.problems.map((p) => p.source),
      ['replicaSet'],
    );
  });

  it('an event about another kind with the ReplicaSet\'s name is left out', () => {
    const d = diagnoseWith({ warnings: [event({ involvedKind: 'Deployment', involvedName: RS_NAME })] });
    assert.deepEqual(d.problems, []);
  });

  it('missing lists (a wire shape, not trimmed) count as empty', () => {
    const bare = { newReplicaSet: null, pods: undefined, warnings: undefined } as unknown as DiagnosisInput;
    assert.deepEqual(diagnose(bare), { pods: 0, stuckPods: 0, problems: [] });
    const p = { ...pod('p1', []), containers: undefined, conditions: undefined } as unknown as PodFacts;
    assert.deepEqual(diagnose({ newReplicaSet: null, pods: [p], warnings: [] }), { pods: 1, stuckPods: 0, problems: [] });
  });
});

describe('echoes: short messages compare whole, after the wrappers', () => {
  // Under 20 characters, only equal text (after the wrappers) is an echo: containment is not enough.
  const shown = 'not found';
  const withState = (reason: string, eventMessage: string) =>
    diagnoseWith({ pods: [pod('p1', [container({ waiting: { reason, message: shown } })])], warnings: [event({ reason: 'Failed', message: eventMessage })] }).problems.map(
      (p) => p.source,
    );

  const echoes: Array<[string, string]> = [
    ['the same text', 'not found'],
    ['"Error: "', 'Error: not found'],
    ['"Error:" without a space', 'Error:not found'],
    ['"Error creating: "', 'Error creating: not found'],
    ['"Failed to pull image "X": "', 'Failed to pull image "ghcr.io/acme/web:2": not found'],
    ['"Failed to pull image "X":" without a space', 'Failed to pull image "web:2":not found'],
    ['"Back-off pulling image "X": ErrImagePull: "', 'Back-off pulling image "web:2": ErrImagePull: not found'],
    ['"Back-off pulling image "X": ImagePullBackOff: "', 'Back-off pulling image "web:2": ImagePullBackOff: not found'],
    ['"Back-off pulling image "X":ErrImagePull:" without spaces', 'Back-off pulling image "web:2":ErrImagePull:not found'],
    ['"Back-off pulling image "X" " without a reason', 'Back-off pulling image "web:2" not found'],
  ];
  for (const [wrapper, message] of echoes) {
    it(`${wrapper} is a wrapper: the event echoes the state`, () => {
      assert.deepEqual(withState('ErrImagePull', message), ['container']);
    });
  }

  const notEchoes: Array<[string, string]> = [
    ['a wrapper in the middle', 'not Error: found'],
    ['a longer text that contains it', 'image not found here'],
    ['an image wrapper in the middle', 'not Failed to pull image "web:2": found'],
    ['a back-off wrapper in the middle', 'not Back-off pulling image "web:2" found'],
  ];
  for (const [what, message] of notEchoes) {
    it(`${what} is no echo`, () => {
      assert.deepEqual(withState('ErrImagePull', message), ['container', 'event']);
    });
  }

  it('an event whose whole text is the state\'s reason echoes it, whatever the reason', () => {
    const d = diagnoseWith({
      pods: [pod('p1', [container({ terminated: { reason: 'OOMKilled', exitCode: 137 } })])],
      warnings: [event({ reason: 'Failed', message: 'OOMKilled' })],
    });
    assert.deepEqual(
      d.problems.map((p) => p.source),
      ['container'],
    );
  });
});
