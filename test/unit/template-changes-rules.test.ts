/**
 * The rules of src/machines/templateChanges.ts one small scenario each (issue 15): what can be
 * said with half the facts missing, how init and main containers are told apart, and how an
 * image is shortened next to the image on the other side of the change.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaSetFacts, TemplateContainer, TemplateFacts } from '../../src/machines/facts.js';
import { parseImage, shortImage, templateChanges } from '../../src/machines/templateChanges.js';

function rs(template?: Partial<TemplateFacts>): ReplicaSetFacts {
  return {
    uid: 'rs-uid',
    namespace: 'shop',
    name: 'api-1',
    revision: 1,
    revisionHistory: [],
    replicas: 1,
    status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, conditions: [] },
    ...(template === undefined ? {} : { template: { containers: [], fingerprint: {}, ...template } }),
  };
}

const container = (name: string, image: string, init = false): TemplateContainer => ({ name, init, image });

describe('templateChanges rules: missing facts', () => {
  it('no new ReplicaSet (null or undefined) and no rollback: nothing to say', () => {
    assert.equal(templateChanges(rs({ containers: [container('api', 'api:1')] }), null), null);
    assert.equal(templateChanges(rs({ containers: [container('api', 'api:1')] }), undefined), null);
    assert.equal(templateChanges(null, null), null);
  });

  it('a new ReplicaSet without a template (older facts) and no rollback: nothing to say', () => {
    assert.equal(templateChanges(rs({ containers: [container('api', 'api:1')] }), rs()), null);
  });

  it('the change-cause alone is worth saying, without the previous template', () => {
    assert.deepEqual(templateChanges(null, rs({ changeCause: 'bump' })), { images: [], fields: [], moreFields: 0, changeCause: 'bump', backTo: null });
  });

  it('a rollback alone is worth saying: back to the latest revision of its history', () => {
    assert.deepEqual(templateChanges(null, null, [4, 2]), { images: [], fields: [], moreFields: 0, changeCause: null, backTo: 4 });
  });

  it('an init container and a main container of the same name are two containers', () => {
    const before = rs({ containers: [container('app', 'app:1', true), container('app', 'app:1')] });
    const after = rs({ containers: [container('app', 'app:1', true), container('app', 'app:2')] });
    assert.deepEqual(templateChanges(before, after)?.images, [{ container: 'app', init: false, from: 'app:1', to: 'app:2' }]);
  });
});

describe('templateChanges rules: shortening an image', () => {
  it('the digest is what follows the @, tag and repository what precede it', () => {
    assert.deepEqual(parseImage('ghcr.io/org/api:1.3@sha256:abc'), { repository: 'ghcr.io/org/api', tag: '1.3', digest: 'sha256:abc' });
  });

  it('a digest without an algorithm prefix is shortened from its first character', () => {
    assert.equal(shortImage('api@0123456789abcdef', 'api:1'), '@0123456789ab');
  });

  it('two pinned builds with different tags are told apart by their tags', () => {
    assert.equal(shortImage('api:1.3@sha256:aaaaaaaaaaaaaaaa', 'api:1.2@sha256:bbbbbbbbbbbbbbbb'), '1.3');
  });

  it('a pinned build of an added or removed container shows its name and tag', () => {
    assert.equal(shortImage('ghcr.io/org/api:1.3@sha256:aaaaaaaaaaaaaaaa', null), 'api:1.3');
  });

  it('a new repository shows the last part of its path only', () => {
    assert.equal(shortImage('ghcr.io/org/api:1.3', 'ghcr.io/other/api:1.2'), 'api:1.3');
  });

  it('a new repository pinned by digest alone shows name@digest', () => {
    assert.equal(shortImage('ghcr.io/org/api@sha256:0123456789abcdef', 'ghcr.io/org/web:1'), 'api@0123456789ab');
  });
});
