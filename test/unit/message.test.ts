import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatDuration,
  MAIN_PROBLEMS,
  PHASE_COLOURS,
  problemSummary,
  renderRollout,
  renderTestMessage,
  SLACK_LIMITS,
  THREAD_PROBLEMS,
} from '../../src/machines/message.js';
import type { Block, SlackMessage } from '../../src/machines/message.js';
import type { ProblemGroup, RolloutChanges, RolloutPhase, RolloutView } from '../../src/machines/notification.js';
import { opts, SHA, STARTED, view } from '../support/rolloutViews.js';

const crashLoop: ProblemGroup = {
  source: 'container',
  reason: 'CrashLoopBackOff',
  container: 'api',
  exitCode: 1,
  count: 3,
  message: 'back-off 5m0s restarting failed container=api',
};

function blockTexts(blocks: Block[]): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    if (b.type === 'context') out.push(...b.elements.map((e) => e.text));
    else {
      if (b.text) out.push(b.text.text);
      if (b.fields) out.push(...b.fields.map((f) => f.text));
    }
  }
  return out;
}

function attachmentBlocks(m: SlackMessage): Block[] {
  const a = m.attachments[0];
  assert.ok(a, 'message has an attachment');
  return a.blocks;
}

/** All text in the main message's blocks, joined. */
function body(m: SlackMessage): string {
  return blockTexts(attachmentBlocks(m)).join('\n');
}

/** Every string anywhere in the message (text, fallback, blocks, thread). */
function allStrings(m: SlackMessage): string[] {
  const out: string[] = [m.text];
  for (const a of m.attachments) {
    if (a.fallback !== undefined) out.push(a.fallback);
    out.push(...blockTexts(a.blocks));
  }
  if (m.thread) {
    out.push(m.thread.text);
    out.push(...blockTexts(m.thread.blocks ?? []));
  }
  return out;
}

/** Checks every Slack size limit the renderer promises. */
function assertWithinLimits(m: SlackMessage): void {
  assert.ok(m.text.length <= SLACK_LIMITS.text);
  assert.ok(m.text.length <= SLACK_LIMITS.sectionText, 'top-level text stays short');
  for (const blocks of [attachmentBlocks(m), m.thread?.blocks ?? []]) {
    assert.ok(blocks.length <= SLACK_LIMITS.blocks, `blocks: ${blocks.length}`);
    let total = 0;
    for (const b of blocks) {
      if (b.type === 'context') {
        assert.ok(b.elements.length <= SLACK_LIMITS.contextElements);
        for (const e of b.elements) assert.ok(e.text.length <= SLACK_LIMITS.sectionText);
      } else {
        if (b.text) assert.ok(b.text.text.length <= SLACK_LIMITS.sectionText, `section ${b.text.text.length}`);
        if (b.fields) {
          assert.ok(b.fields.length <= SLACK_LIMITS.fields);
          for (const f of b.fields) assert.ok(f.text.length <= SLACK_LIMITS.fieldText, `field ${f.text.length}`);
        }
      }
    }
    for (const t of blockTexts(blocks)) total += t.length;
    assert.ok(total <= SLACK_LIMITS.blocksText, `combined block text ${total}`);
  }
}

/**
 * No cluster-supplied markup survives: after removing the links and dates Hermod itself
 * writes, no `<` or `>` is left, and every `&` starts an entity.
 */
function assertNoInjection(m: SlackMessage): void {
  for (const s of allStrings(m)) {
    for (const mention of ['<!channel>', '<!here>', '<!everyone>', '<@U123>']) assert.equal(s.includes(mention), false, s);
    const stripped = s.replace(/<https?:\/\/[^\s|<>]+\|[^<>]*>/g, '').replace(/<!date\^\d+\^[^|<>]*\|[^<>]*>/g, '');
    assert.doesNotMatch(stripped, /[<>]/, s);
    assert.doesNotMatch(s, /&(?!amp;|lt;|gt;)/, s);
    assert.doesNotMatch(s, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/, 'no lone surrogate');
    assert.equal((s.match(/```/g)?.length ?? 0) % 2, 0, `code fences are balanced: ${s}`);
  }
}

/** The attachment's last block: the context line every message ends with. */
function contextText(m: SlackMessage): string {
  const blocks = attachmentBlocks(m);
  const last = blocks[blocks.length - 1];
  assert.ok(last && last.type === 'context', 'the attachment ends with a context line');
  assert.equal(last.elements.length, 1, 'one line');
  return last.elements[0]?.text ?? '';
}

const SINCE = `<!date^${STARTED / 1000}^{date_short_pretty} {time}|2026-01-02T03:04:05.000Z>`;
const done = { desired: 3, updated: 3, ready: 3, available: 3, old: 0 };
const imageBump: RolloutChanges = {
  images: [{ container: 'api', init: false, from: 'ghcr.io/org/api:1.2.0', to: 'ghcr.io/org/api:1.3.0' }],
  fields: [],
  moreFields: 0,
  changeCause: null,
  backTo: null,
};

describe('renderRollout: one message per phase', () => {
  it('progressing: orange, the title, the NEW ReplicaSet\'s progress and the old pods left, one context line', () => {
    const m = renderRollout(view({ changes: imageBump }), opts());
    assert.equal(m.attachments[0]?.color, '#e69500');
    assert.equal(m.text, ':hourglass_flowing_sand: Rolling out Deployment `api` (revision 7) in `payments` on `prod`');
    assert.equal(m.attachments[0]?.fallback, m.text);
    assert.deepEqual(blockTexts(attachmentBlocks(m)), [
      'New ReplicaSet `api-5d9f8c7b6`: 1 of 3 pods, 1 ready, 1 available · 2 old pods left',
      `revision 7 (was 6) · started ${SINCE} · \`api\` \`1.2.0\` → \`1.3.0\``,
    ]);
    assert.equal(m.thread, null);
  });

  it('progressing without a cluster name leaves the cluster out', () => {
    for (const cluster of [null, '', '  ']) {
      const m = renderRollout(view(), opts({ cluster }));
      assert.equal(m.text, ':hourglass_flowing_sand: Rolling out Deployment `api` (revision 7) in `payments`');
      assert.equal(body(m).includes('cluster'), false);
    }
  });

  it('succeeded: green, a title line and one context line (revision, duration, replicas, commit, what changed)', () => {
    const m = renderRollout(view({ phase: 'succeeded', endedAt: STARTED + 72_000, progress: done, changes: imageBump, git: { sha: SHA, repo: 'https://github.com/org/app' } }), opts());
    assert.equal(m.attachments[0]?.color, '#36a64f');
    assert.equal(m.text, ':white_check_mark: Rollout of Deployment `api` (revision 7) in `payments` on `prod` succeeded');
    assert.equal(attachmentBlocks(m).length, 1, 'nothing but the context line');
    assert.equal(
      contextText(m),
      `revision 7 (was 6) · took 1m 12s · 3 replicas · commit <https://github.com/org/app/commit/${SHA}|0123456> · \`api\` \`1.2.0\` → \`1.3.0\``,
    );
  });

  it('succeeded: no sentence twice (the original said "successful" three times)', () => {
    const m = renderRollout(view({ phase: 'succeeded', endedAt: STARTED + 1000, progress: done, detail: 'deployment "api" successfully rolled out' }), opts());
    const all = allStrings(m).join('\n');
    assert.equal(all.includes('successful'), false, all);
    assert.equal(all.match(/succeeded/g)?.length, 2, 'the title, and its copy as the fallback');
  });

  it('failed: red, the reason first in the new pods\' numbers, then the problems, what changed, the links', () => {
    const m = renderRollout(
      view({
        phase: 'failed',
        endedAt: STARTED + 600_000,
        detail: 'ReplicaSet "api-5d9f8c7b6" has timed out progressing.',
        progress: { desired: 3, updated: 3, ready: 0, available: 0, old: 3 },
        diagnosis: { pods: 3, stuckPods: 3, problems: [crashLoop] },
        changes: imageBump,
        git: { sha: SHA, repo: 'https://github.com/org/app' },
      }),
      opts(),
    );
    assert.equal(m.attachments[0]?.color, '#e60000');
    assert.equal(m.text, ':x: Rollout of Deployment `api` (revision 7) in `payments` on `prod` failed');
    assert.deepEqual(blockTexts(attachmentBlocks(m)), [
      '*Failed after 600 seconds* (the progress deadline): 0 of 3 new pods ready.',
      '*3 pods* · `CrashLoopBackOff` · container `api` · exit code 1\n```back-off 5m0s restarting failed container=api```',
      '*What changed* `api` `1.2.0` → `1.3.0`',
      `Commit: <https://github.com/org/app/commit/${SHA}|0123456>\nPull Request, if applicable: <https://github.com/org/app/pulls?q=${SHA}|search>`,
      'revision 7 (was 6) · took 10m · new ReplicaSet `api-5d9f8c7b6`',
    ]);
    assert.equal(m.thread, null, 'short details need no thread');
  });

  it('regression (issue 12): a crash-looping rollout never shows the old pods\' ready counts as its own', () => {
    // The Deployment counts the old pod as ready and available; the new ReplicaSet has none.
    const m = renderRollout(
      view({ phase: 'failing', progress: { desired: 1, updated: 1, ready: 0, available: 0, old: 1 }, diagnosis: { pods: 1, stuckPods: 1, problems: [crashLoop] } }),
      opts(),
    );
    assert.ok(body(m).includes('1 of 1 pods, 0 ready, 0 available · 1 old pod left'), body(m));
    assert.equal(body(m).includes('ready 1/1'), false);
  });

  it('failed without errors says so in its lead', () => {
    const m = renderRollout(view({ phase: 'failed', endedAt: STARTED + 1000, progress: { desired: 3, updated: 3, ready: 1, available: 1, old: 0 } }), opts());
    assert.equal(blockTexts(attachmentBlocks(m))[0], '*Failed after 600 seconds* (the progress deadline): 1 of 3 new pods ready. No pod errors were found.');
  });

  it('failing: red early warning, the reason first, still in progress', () => {
    const m = renderRollout(view({ phase: 'failing', diagnosis: { pods: 3, stuckPods: 3, problems: [crashLoop] } }), opts());
    assert.equal(m.attachments[0]?.color, '#e60000');
    const texts = blockTexts(attachmentBlocks(m));
    assert.equal(texts[0], '*Every new pod is stuck.* Kubernetes declares the rollout failed once its progress deadline (`600` seconds) has passed.');
    assert.ok(texts[1]?.startsWith('*3 pods* · `CrashLoopBackOff`'));
    assert.ok(contextText(m).includes('New ReplicaSet `api-5d9f8c7b6`: 1 of 3 pods, 1 ready, 1 available · 2 old pods left'));
    assert.equal(body(m).includes('took'), false, 'no duration before the end');
    assert.equal(m.text, ':warning: Rollout of Deployment `api` (revision 7) in `payments` on `prod` is failing');
  });

  it('failing: names a partial stall and a ReplicaSet that cannot create pods', () => {
    const partial = renderRollout(view({ phase: 'failing', diagnosis: { pods: 3, stuckPods: 2, problems: [crashLoop] } }), opts());
    assert.ok(blockTexts(attachmentBlocks(partial))[0]?.startsWith('*2 of 3 new pods are stuck.*'));

    const quota = 'pods "api-x" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=9, limited: cpu=10';
    const noPods = renderRollout(view({ phase: 'failing', diagnosis: { pods: 0, stuckPods: 0, replicaFailure: quota, problems: [] } }), opts());
    assert.ok(blockTexts(attachmentBlocks(noPods))[0]?.startsWith('*The new ReplicaSet cannot create pods.*'));
    assert.ok(body(noPods).includes('*ReplicaSet* · `ReplicaFailure`\n```' + quota + '```'));
  });

  it('a ReplicaSet failure already among the problems is not repeated', () => {
    const msg = 'pods "api-x" is forbidden: error looking up service account payments/api';
    const group: ProblemGroup = { source: 'replicaSet', reason: 'FailedCreate', message: msg, count: 1 };
    const m = renderRollout(view({ phase: 'failed', endedAt: STARTED, diagnosis: { pods: 0, stuckPods: 0, replicaFailure: msg, problems: [group] } }), opts());
    assert.equal(body(m).split(msg).length - 1, 1);
  });

  it('paused: orange, says how it continues, with the new ReplicaSet\'s progress', () => {
    const m = renderRollout(view({ phase: 'paused' }), opts());
    assert.equal(m.attachments[0]?.color, '#e69500');
    assert.equal(
      blockTexts(attachmentBlocks(m))[0],
      'Paused: the rollout continues once the Deployment is resumed (`kubectl rollout resume`).\nNew ReplicaSet `api-5d9f8c7b6`: 1 of 3 pods, 1 ready, 1 available · 2 old pods left',
    );
  });

  it('superseded: grey, the title names the newer revision, one context line', () => {
    const m = renderRollout(view({ phase: 'superseded', supersededBy: 8, endedAt: STARTED + 5000 }), opts());
    assert.equal(m.attachments[0]?.color, '#9e9e9e');
    assert.equal(m.text, ':fast_forward: Rollout of Deployment `api` (revision 7) in `payments` on `prod` was superseded by revision 8');
    assert.equal(attachmentBlocks(m).length, 1);
    assert.equal(contextText(m), 'revision 7 (was 6) · took 5s');
  });

  it('deleted: grey, the title says why, one context line', () => {
    const m = renderRollout(view({ phase: 'deleted', endedAt: STARTED + 3_725_000 }), opts());
    assert.equal(m.attachments[0]?.color, '#9e9e9e');
    assert.ok(m.text.endsWith('stopped: the Deployment was deleted'));
    assert.equal(contextText(m), 'revision 7 (was 6) · took 1h 2m 5s');
  });

  it('untracked: grey, names the removed namespace annotation', () => {
    const m = renderRollout(view({ phase: 'untracked', endedAt: STARTED }), opts());
    assert.equal(m.attachments[0]?.color, '#9e9e9e');
    assert.equal(m.text, ':no_bell: Hermod stopped tracking Deployment `api` (revision 7) in `payments` on `prod`');
    assert.equal(blockTexts(attachmentBlocks(m))[0], 'Its namespace lost the `hermod.uswitch.com/slack` annotation, so Hermod no longer follows this rollout.');
  });

  it('every phase has a colour, a title and ends with one context line', () => {
    const phases: RolloutPhase[] = ['progressing', 'failing', 'paused', 'succeeded', 'failed', 'superseded', 'deleted', 'untracked'];
    for (const phase of phases) {
      const m = renderRollout(view({ phase, endedAt: STARTED + 1 }), opts());
      assert.equal(m.attachments[0]?.color, PHASE_COLOURS[phase]);
      assert.ok(m.text.includes('Deployment `api` (revision 7) in `payments` on `prod`'), m.text);
      assert.ok(contextText(m).startsWith('revision 7 (was 6)'));
      assertWithinLimits(m);
    }
  });
});

describe('renderRollout: facts', () => {
  it('shows a rollback as "back to revision N"', () => {
    const changes: RolloutChanges = { ...imageBump, backTo: 3 };
    assert.ok(contextText(renderRollout(view({ rolledBackTo: [3], changes }), opts())).includes('· back to revision 3 · `api` `1.2.0` → `1.3.0`'));
  });

  it('marks an adopted rollout and its duration as a lower bound', () => {
    const m = renderRollout(view({ adopted: true, phase: 'succeeded', endedAt: STARTED + 61_000 }), opts());
    assert.ok(contextText(m).includes('adopted: Hermod started watching mid-rollout'));
    assert.ok(contextText(m).includes('took at least 1m 1s'));
    const live = renderRollout(view({ adopted: true }), opts());
    assert.ok(contextText(live).includes(`seen ${SINCE}`));
  });

  it('the context line dates the start while in progress', () => {
    const m = renderRollout(view(), opts());
    assert.ok(contextText(m).includes(`started ${SINCE}`));
    assert.equal(body(m).includes('adopted'), false);
  });

  it('summarises problem groups of every source', () => {
    assert.equal(problemSummary(crashLoop), '*3 pods* · `CrashLoopBackOff` · container `api` · exit code 1');
    assert.equal(problemSummary({ source: 'initContainer', reason: 'OOMKilled', container: 'migrate', exitCode: 137, count: 1 }), '*1 pod* · `OOMKilled` · init container `migrate` · exit code 137');
    assert.equal(problemSummary({ source: 'podCondition', reason: 'Unschedulable', count: 2 }), '*2 pods* · `Unschedulable` · pod condition');
    assert.equal(problemSummary({ source: 'event', reason: 'FailedMount', count: 12 }), '*Warning event, seen 12 times* · `FailedMount`');
    assert.equal(problemSummary({ source: 'replicaSet', reason: 'FailedCreate', count: 1 }), '*ReplicaSet* · `FailedCreate`');
  });

  it('is deterministic, and the mode does not change the content', () => {
    const v = view({ phase: 'failed', endedAt: STARTED + 1, diagnosis: { pods: 1, stuckPods: 1, problems: [crashLoop] }, git: { sha: SHA, repo: 'https://github.com/org/app' } });
    const a = renderRollout(v, opts());
    assert.deepEqual(renderRollout(structuredClone(v), opts()), a);
    assert.deepEqual(renderRollout(v, opts({ mode: 'post' })), a);
  });
});

describe('renderRollout: git links', () => {
  const failed = (git: RolloutView['git']): RolloutView => view({ phase: 'failed', endedAt: STARTED, git, diagnosis: { pods: 1, stuckPods: 1, problems: [crashLoop] } });

  it('links commit and pull requests for an https repo', () => {
    const m = renderRollout(failed({ sha: SHA, repo: 'https://github.com/org/app' }), opts());
    assert.ok(
      body(m).includes(
        `Commit: <https://github.com/org/app/commit/${SHA}|0123456>\nPull Request, if applicable: <https://github.com/org/app/pulls?q=${SHA}|search>`,
      ),
    );
  });

  it('links an http repo and drops a trailing .git or slash', () => {
    for (const repo of ['http://git.example/org/app.git', 'http://git.example/org/app/']) {
      const m = renderRollout(failed({ sha: SHA, repo }), opts());
      assert.ok(body(m).includes(`Commit: <http://git.example/org/app/commit/${SHA}|0123456>`), repo);
    }
  });

  it('shows the sha as text, without links, for other repos', () => {
    for (const repo of ['git@github.com:org/app.git', 'javascript:alert(1)', 'https://x.example/a|<!channel>', 'ssh://git@x.example/app']) {
      const m = renderRollout(failed({ sha: SHA, repo }), opts());
      assert.ok(body(m).includes(`Commit: \`${SHA}\``), repo);
      assert.equal(body(m).includes('Pull Request'), false, repo);
      assert.equal(body(m).includes('<http'), false, repo);
      assertNoInjection(m);
    }
  });

  it('does not link a sha that is not one', () => {
    const m = renderRollout(failed({ sha: 'main <!here>', repo: 'https://github.com/org/app' }), opts());
    assert.ok(body(m).includes('Commit: `main &lt;!here&gt;`'));
    assert.equal(body(m).includes('<https'), false);
  });

  it('no git line without a sha', () => {
    assert.equal(body(renderRollout(failed({ repo: 'https://github.com/org/app' }), opts())).includes('Commit'), false);
  });

  it('non-failure messages carry the commit in the context line', () => {
    const m = renderRollout(view({ git: { sha: SHA, repo: 'https://github.com/org/app' } }), opts());
    assert.ok(contextText(m).includes(`commit <https://github.com/org/app/commit/${SHA}|0123456>`));
    assert.equal(body(m).includes('Pull Request'), false);
  });
});

describe('renderRollout: git annotation warning', () => {
  const failure = (git: RolloutView['git'], phase: RolloutPhase = 'failed'): RolloutView => view({ phase, endedAt: STARTED, git });

  it('names both missing annotations', () => {
    const m = renderRollout(failure({}), opts({ gitAnnotationWarning: true }));
    assert.ok(body(m).includes(':warning: No commit links: the Deployment does not have the `hermod.uswitch.com/gitsha` and `hermod.uswitch.com/gitrepo` annotations.'));
  });

  it('names the one missing annotation, with configured names', () => {
    const m = renderRollout(failure({ sha: SHA }, 'failing'), opts({ gitAnnotationWarning: true, annotationNames: { commitSha: 'ci/sha', repoUrl: 'ci/<repo>' } }));
    assert.ok(body(m).includes(':warning: No commit links: the Deployment does not have the `ci/&lt;repo&gt;` annotation.'));
  });

  it('explains a repo that is not an http(s) URL', () => {
    const m = renderRollout(failure({ sha: SHA, repo: 'git@github.com:org/app.git' }), opts({ gitAnnotationWarning: true }));
    assert.ok(body(m).includes(':warning: No commit links: the `hermod.uswitch.com/gitrepo` annotation is not an http(s) URL.'));
  });

  it('says nothing when links work, when the flag is off, or when nothing failed', () => {
    assert.equal(body(renderRollout(failure({ sha: SHA, repo: 'https://github.com/org/app' }), opts({ gitAnnotationWarning: true }))).includes(':warning:'), false);
    assert.equal(body(renderRollout(failure({}), opts({ gitAnnotationWarning: false }))).includes('No commit links'), false);
    assert.equal(body(renderRollout(failure({}, 'succeeded'), opts({ gitAnnotationWarning: true }))).includes('No commit links'), false);
  });
});

describe('renderRollout: escaping hostile input', () => {
  const hostile = '<!channel> <!here> <@U123> & `x` ```y``` <https://evil.example|click> 🚀';

  it('escapes everything that comes from the cluster, everywhere', () => {
    const problem: ProblemGroup = { source: 'container', reason: hostile, container: hostile, message: hostile, count: 1, exitCode: 2 };
    const v = view({
      namespace: hostile,
      deployment: hostile,
      replicaSet: hostile,
      detail: hostile,
      git: { sha: hostile, repo: hostile },
      diagnosis: { pods: 1, stuckPods: 1, replicaFailure: hostile + '!', problems: [problem] },
    });
    const phases: RolloutPhase[] = ['progressing', 'failing', 'paused', 'succeeded', 'failed', 'superseded', 'deleted', 'untracked'];
    for (const phase of phases) {
      const m = renderRollout({ ...v, phase, endedAt: STARTED + 1 }, opts({ cluster: hostile, gitAnnotationWarning: true, annotationNames: { commitSha: hostile, repoUrl: hostile } }));
      assertNoInjection(m);
      assertWithinLimits(m);
      assert.ok(m.text.includes('&lt;!channel&gt;'), 'shown as text, not dropped');
    }
    assertNoInjection(renderTestMessage({ cluster: hostile }));
  });

  it('a message cannot close its code block', () => {
    const m = renderRollout(
      view({ phase: 'failed', endedAt: STARTED, diagnosis: { pods: 1, stuckPods: 1, problems: [{ ...crashLoop, message: 'a```\n*not bold* <!here>\n```b`c' }] } }),
      opts(),
    );
    const section = blockTexts(attachmentBlocks(m)).find((t) => t.startsWith('*3 pods*'));
    assert.ok(section);
    const fence = section.indexOf('```');
    const inner = section.slice(fence + 3, section.lastIndexOf('```'));
    assert.equal(inner.includes('`'), false, inner);
    assert.ok(inner.includes('*not bold* &lt;!here&gt;'));
  });

  it('keeps names at the 253-character limit whole and clips absurd cluster names', () => {
    const name = 'd'.repeat(253);
    const ns = 'n'.repeat(63);
    const m = renderRollout(view({ deployment: name, namespace: ns, replicaSet: `${name}`.slice(0, 243) + '-5d9f8c7b6' }), opts({ cluster: 'c'.repeat(10_000) }));
    assert.ok(m.text.includes('`' + name + '`'));
    assert.ok(m.text.includes('`' + ns + '`'));
    assert.ok(m.text.length < 600, `${m.text.length}`);
    assert.ok(m.text.includes('c…`'));
    assertWithinLimits(m);
  });

  it('keeps unicode and emoji intact', () => {
    const m = renderRollout(
      view({ deployment: 'ünïcødé-app', phase: 'failed', endedAt: STARTED, diagnosis: { pods: 1, stuckPods: 1, problems: [{ ...crashLoop, message: '💥'.repeat(2000) }] } }),
      opts({ cluster: '東京-🗼' }),
    );
    assert.ok(m.text.includes('`ünïcødé-app`'));
    assert.ok(m.text.includes('`東京-🗼`'));
    assertNoInjection(m);
    assertWithinLimits(m);
  });
});

describe('renderRollout: limits and the thread', () => {
  const many = (n: number, size: number, ch = 'x'): ProblemGroup[] =>
    Array.from({ length: n }, (_, i) => ({ source: 'container' as const, reason: `Reason${i}`, container: `c${i}`, count: 1, message: `#${i} ` + ch.repeat(size) }));

  it('200 problem groups of 5,000 characters stay within every limit, with visible markers', () => {
    for (const phase of ['failed', 'failing'] as const) {
      const m = renderRollout(view({ phase, endedAt: STARTED, diagnosis: { pods: 200, stuckPods: 200, problems: many(200, 5000) } }), opts());
      assertWithinLimits(m);
      const main = body(m);
      for (let i = 0; i < MAIN_PROBLEMS; i++) assert.ok(main.includes(`\`Reason${i}\``), `main shows problem ${i}`);
      assert.equal(main.includes('`Reason5`'), false);
      assert.ok(main.includes(`… and ${200 - MAIN_PROBLEMS} more problems: the details are in the thread.`));
      assert.ok(main.includes('… (truncated, '));
      assert.ok(m.thread);
      const thread = blockTexts(m.thread.blocks ?? []).join('\n');
      assert.ok(m.thread.text.includes('200 problems'));
      assert.ok(thread.includes(`… and ${200 - THREAD_PROBLEMS} more problems`));
      assert.ok(thread.includes(`\`Reason${THREAD_PROBLEMS - 1}\``));
      assert.ok(thread.includes('… (truncated, '));
    }
  });

  it('escape-heavy messages still fit (each & grows fivefold)', () => {
    const m = renderRollout(view({ phase: 'failed', endedAt: STARTED, diagnosis: { pods: 50, stuckPods: 50, problems: many(50, 5000, '&') } }), opts());
    assertWithinLimits(m);
    assertNoInjection(m);
  });

  it('one long message goes to the thread in full while the main message stays short', () => {
    const long = 'panic: ' + 'stack frame\n'.repeat(150); // ~1,800 characters
    const m = renderRollout(view({ phase: 'failed', endedAt: STARTED, diagnosis: { pods: 1, stuckPods: 1, problems: [{ ...crashLoop, message: long }] } }), opts());
    assert.ok(body(m).includes('The full error messages are in the thread.'));
    assert.ok(body(m).includes('… (truncated, '));
    assert.ok(body(m).length < 3000);
    assert.ok(m.thread);
    const thread = blockTexts(m.thread.blocks ?? []).join('\n');
    assert.ok(thread.includes('```' + long.trimEnd() + '```'), 'the full message is in the thread');
    assert.equal(thread.includes('truncated'), false);
  });

  it('no thread for short failures or for other phases', () => {
    assert.equal(renderRollout(view({ phase: 'failed', endedAt: STARTED, diagnosis: { pods: 5, stuckPods: 5, problems: many(5, 100) } }), opts()).thread, null);
    assert.equal(renderRollout(view({ phase: 'succeeded', endedAt: STARTED, diagnosis: { pods: 5, stuckPods: 5, problems: many(50, 5000) } }), opts()).thread, null);
  });

  it('absurd values in every field stay within limits', () => {
    const huge = '<&>'.repeat(5000);
    const m = renderRollout(
      view({
        phase: 'failing',
        deployment: huge,
        namespace: huge,
        replicaSet: huge,
        detail: huge,
        git: { sha: huge, repo: huge },
        diagnosis: { pods: 1, stuckPods: 1, replicaFailure: huge, problems: [{ source: 'initContainer', reason: huge, container: huge, message: huge, count: 1 }] },
      }),
      opts({ cluster: huge, gitAnnotationWarning: true, annotationNames: { commitSha: huge, repoUrl: huge } }),
    );
    assertWithinLimits(m);
    assertNoInjection(m);
  });
});

describe('formatDuration', () => {
  it('formats human durations', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(999), '0s');
    assert.equal(formatDuration(45_000), '45s');
    assert.equal(formatDuration(72_000), '1m 12s');
    assert.equal(formatDuration(120_000), '2m');
    assert.equal(formatDuration(3_605_000), '1h 0m 5s');
    assert.equal(formatDuration(3_600_000), '1h');
    assert.equal(formatDuration(2 * 86_400_000 + 3 * 3_600_000), '2d 3h');
  });

  it('treats negative and non-finite input as 0s', () => {
    assert.equal(formatDuration(-5000), '0s');
    assert.equal(formatDuration(Number.NaN), '0s');
    assert.equal(formatDuration(Number.POSITIVE_INFINITY), '0s');
  });
});

describe('renderTestMessage', () => {
  it('says Hermod can post here, with the cluster', () => {
    const m = renderTestMessage({ cluster: 'prod' });
    assert.equal(m.text, ':wave: Hermod can post in this channel for the `prod` cluster.');
    assert.ok(body(m).startsWith('Hermod can post in this channel for the `prod` cluster.\n'));
    assert.ok(body(m).includes('`hermod.uswitch.com/slack`'));
    assert.equal(m.thread, null);
    assertWithinLimits(m);
  });

  it('works without a cluster name', () => {
    assert.equal(renderTestMessage({ cluster: null }).text, ':wave: Hermod can post in this channel.');
  });
});

describe('last termination reason', () => {
  it('shows OOMKilled next to the exit code, and not a plain Error', () => {
    const base = { source: 'container' as const, reason: 'CrashLoopBackOff', container: 'app', count: 2, exitCode: 137 };
    assert.match(problemSummary({ ...base, lastTerminationReason: 'OOMKilled' }), /exit code 137 · last run: `OOMKilled`/);
    assert.doesNotMatch(problemSummary({ ...base, exitCode: 1, lastTerminationReason: 'Error' }), /last run/);
  });
});
