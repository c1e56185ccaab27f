/**
 * MentionAudit (issue 13): a refused `hermod.uswitch.com/mention` value is reported once per
 * value, on the object that carries it, and only where Hermod follows the namespace.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MentionAudit, type RefusedMention } from '../../src/io/kube/mentionAudit.js';
import type { NamespaceFacts } from '../../src/io/kube/trim.js';
import type { DeploymentFacts, StatefulSetFacts } from '../../src/machines/facts.js';

const ns = (mention?: string, channel: string | null = 'deploys'): NamespaceFacts => ({
  uid: 'ns-1',
  name: 'shop',
  ...(channel !== null ? { channel } : {}),
  ...(mention !== undefined ? { mention } : {}),
});
const dep = (mention?: string): DeploymentFacts => ({
  uid: 'd-1',
  namespace: 'shop',
  name: 'web',
  generation: 1,
  revision: 1,
  ...(mention !== undefined ? { mention } : {}),
  git: {},
  spec: { replicas: 1, paused: false, progressDeadlineSeconds: 600 },
  status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1, unavailableReplicas: 0, conditions: [] },
});

function audit(allowBroadcast = false): { audit: MentionAudit; refused: RefusedMention[] } {
  const refused: RefusedMention[] = [];
  return { audit: new MentionAudit({ allowBroadcast }, (r) => refused.push(r)), refused };
}

describe('MentionAudit', () => {
  it('reports a refused Deployment value once, when it appears or changes', () => {
    const { audit: a, refused } = audit();
    a.deployment({ type: 'add', key: 'd-1', facts: dep('<!everyone>') });
    a.deployment({ type: 'update', key: 'd-1', facts: dep('<!everyone>'), old: dep('<!everyone>') });
    a.deployment({ type: 'update', key: 'd-1', facts: dep('U012AB3CD'), old: dep('<!everyone>') });
    a.deployment({ type: 'update', key: 'd-1', facts: dep('alice'), old: dep('U012AB3CD') });
    a.deployment({ type: 'delete', key: 'd-1', old: dep('alice') });
    assert.deepEqual(
      refused.map((r) => [r.kind, r.namespace, r.name, r.uid, r.value]),
      [
        ['Deployment', 'shop', 'web', 'd-1', '<!everyone>'],
        ['Deployment', 'shop', 'web', 'd-1', 'alice'],
      ],
    );
    assert.match(refused[0]!.reason, /^"<!everyone>" is not a Slack user ID/);
  });

  it('a StatefulSet (or DaemonSet) value is refused on that object, apart from a Deployment of the same name', () => {
    const sts: StatefulSetFacts = {
      kind: 'StatefulSet',
      uid: 's-1',
      namespace: 'shop',
      name: 'web',
      generation: 1,
      revision: null,
      mention: 'alice',
      git: {},
      spec: { replicas: 1, updateStrategy: 'RollingUpdate', rollingUpdate: true, partition: 0 },
      status: { observedGeneration: 1, replicas: 1, readyReplicas: 1, currentReplicas: 1, updatedReplicas: 1, availableReplicas: 1, currentRevision: 'a', updateRevision: 'a' },
    };
    const { audit: a, refused } = audit();
    a.deployment({ type: 'add', key: 'd-1', facts: dep('alice') });
    a.deployment({ type: 'add', key: 's-1', facts: sts });
    assert.deepEqual(refused.map((r) => [r.kind, r.name, r.uid]), [['Deployment', 'web', 'd-1'], ['StatefulSet', 'web', 's-1']]);
    a.deployment({ type: 'delete', key: 's-1', old: sts });
    assert.deepEqual(a.refusals().map((r) => r.kind), ['Deployment']);
  });

  it('a namespace is reported only while tracked, and again when it becomes tracked', () => {
    const { audit: a, refused } = audit();
    a.namespace({ type: 'add', key: 'shop', facts: ns('here', null) });
    assert.equal(refused.length, 0, 'an untracked namespace: Hermod does not use its value');
    a.namespace({ type: 'update', key: 'shop', facts: ns('here'), old: ns('here', null) });
    a.namespace({ type: 'update', key: 'shop', facts: ns('here', 'other'), old: ns('here') });
    assert.deepEqual(
      refused.map((r) => [r.kind, r.namespace, r.name, r.uid]),
      [['Namespace', 'shop', 'shop', 'ns-1']],
    );
    assert.match(refused[0]!.reason, /--allow-broadcast-mentions/);
  });

  it('valid values and blanks are not reported; the policy decides for here and channel', () => {
    const strict = audit();
    strict.audit.deployment({ type: 'add', key: 'd-1', facts: dep('U012AB3CD, S0614TZR7') });
    strict.audit.deployment({ type: 'add', key: 'd-2', facts: dep() });
    assert.equal(strict.refused.length, 0);
    const loose = audit(true);
    loose.audit.deployment({ type: 'add', key: 'd-1', facts: dep('here') });
    assert.equal(loose.refused.length, 0);
  });

  it('keeps the refusals standing now, for a replica that becomes leader: fixed, deleted or untracked ones go', () => {
    const { audit: a } = audit();
    const standing = () => a.refusals().map((r) => `${r.kind}/${r.name}=${r.value}`).sort();
    a.namespace({ type: 'add', key: 'shop', facts: ns('here') });
    a.deployment({ type: 'add', key: 'd-1', facts: dep('alice') });
    assert.deepEqual(standing(), ['Deployment/web=alice', 'Namespace/shop=here']);
    // Unchanged values stay standing (no second report); a fix removes one.
    a.deployment({ type: 'update', key: 'd-1', facts: dep('alice'), old: dep('alice') });
    a.namespace({ type: 'update', key: 'shop', facts: ns('S0614TZR7'), old: ns('here') });
    assert.deepEqual(standing(), ['Deployment/web=alice']);
    a.deployment({ type: 'delete', key: 'd-1', old: dep('alice') });
    assert.deepEqual(standing(), []);
    a.namespace({ type: 'update', key: 'shop', facts: ns('here'), old: ns('S0614TZR7') });
    a.deployment({ type: 'add', key: 'd-1', facts: dep('alice') });
    a.namespace({ type: 'update', key: 'shop', facts: ns('here', null), old: ns('here') });
    assert.deepEqual(standing(), ['Deployment/web=alice'], 'the namespace untracked: its own refusal goes at once');
    a.forgetNamespace('shop');
    assert.deepEqual(standing(), [], 'and its Deployments\' once its watches stop');
  });
});
