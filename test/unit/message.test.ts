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
import type { Block, RenderOptions, SlackMessage } from '../../src/machines/message.js';
import type { ProblemGroup, RolloutPhase, RolloutView } from '../../src/machines/notification.js';

const STARTED = Date.UTC(2026, 0, 2, 3, 4, 5);
const SHA = '0123456789abcdef0123456789abcdef01234567';

function view(over: Partial<RolloutView> = {}): RolloutView {
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

function opts(over: Partial<RenderOptions> = {}): RenderOptions {
  return {
    cluster: 'prod',
    gitAnnotationWarning: false,
    annotationNames: { commitSha: 'hermod.uswitch.com/gitsha', repoUrl: 'hermod.uswitch.com/gitrepo' },
    mode: 'update',
    ...over,
  };
}

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

function headline(m: SlackMessage): string {
  const first = attachmentBlocks(m)[0];
  assert.ok(first && first.type === 'section' && first.text);
  return first.text.text;
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

describe('renderRollout: one message per phase', () => {
  it('progressing: orange, original start sentence, progress facts', () => {
    const m = renderRollout(view(), opts());
    assert.equal(m.attachments[0]?.color, '#e69500');
    assert.equal(headline(m), 'Rolling out Deployment `api` in namespace `payments` on `prod` cluster.');
    assert.equal(m.text, ':hourglass_flowing_sand: Rolling out Deployment `api` (revision 7) in `payments` on `prod`');
    assert.equal(m.attachments[0]?.fallback, m.text);
    const b = body(m);
    assert.ok(b.includes('*Revision*\n7 (was 6)'));
    assert.ok(b.includes('*ReplicaSet*\n`api-5d9f8c7b6`'));
    assert.ok(b.includes('*Progress*\nupdated 1/3, ready 1/3, available 1/3\n2 old pending termination'));
    assert.ok(b.includes('*Progress deadline*\n600 seconds'));
    assert.equal(b.includes('*Duration*'), false, 'no duration before the end');
    assert.equal(m.thread, null);
  });

  it('progressing without a cluster name leaves the cluster out', () => {
    for (const cluster of [null, '', '  ']) {
      const m = renderRollout(view(), opts({ cluster }));
      assert.equal(headline(m), 'Rolling out Deployment `api` in namespace `payments`.');
      assert.equal(body(m).includes('cluster'), false);
    }
  });

  it('succeeded: green, original success sentence, duration', () => {
    const m = renderRollout(
      view({ phase: 'succeeded', endedAt: STARTED + 72_000, progress: { desired: 3, updated: 3, ready: 3, available: 3, old: 0 } }),
      opts(),
    );
    assert.equal(m.attachments[0]?.color, '#36a64f');
    assert.equal(headline(m), 'Rollout for Deployment `api` in `payments` namespace on `prod` cluster is successful.');
    assert.equal(m.text, ':white_check_mark: Rollout of Deployment `api` (revision 7) in `payments` on `prod` succeeded');
    assert.ok(body(m).includes('*Duration*\n1m 12s'));
    assert.ok(body(m).includes('updated 3/3, ready 3/3, available 3/3'));
    assert.equal(body(m).includes('old pending termination'), false);
  });

  it('failed: red, original failure sentence, errors in code blocks, verdict detail', () => {
    const m = renderRollout(
      view({
        phase: 'failed',
        endedAt: STARTED + 600_000,
        detail: 'ReplicaSet "api-5d9f8c7b6" has timed out progressing.',
        diagnosis: { pods: 3, stuckPods: 3, problems: [crashLoop] },
      }),
      opts(),
    );
    assert.equal(m.attachments[0]?.color, '#e60000');
    assert.equal(
      headline(m),
      'Rollout for Deployment `api` (RS: `api-5d9f8c7b6`) in `payments` namespace failed after `600` seconds on the `prod` cluster.\n' +
        'Kubernetes: ReplicaSet "api-5d9f8c7b6" has timed out progressing.',
    );
    const texts = blockTexts(attachmentBlocks(m));
    const intro = texts.indexOf('Retrieved the following errors:');
    assert.ok(intro > 0);
    assert.equal(texts[intro + 1], '*3 pods* · `CrashLoopBackOff` · container `api` · exit code 1\n```back-off 5m0s restarting failed container=api```');
    assert.ok(body(m).includes('*Duration*\n10m'));
    assert.equal(m.thread, null, 'short details need no thread');
  });

  it('failed without errors says what the original said', () => {
    const m = renderRollout(view({ phase: 'failed', endedAt: STARTED + 1000, progress: { desired: 3, updated: 3, ready: 1, available: 1, old: 0 } }), opts());
    assert.ok(body(m).includes('No pod errors were found: the Deployment failed to reach desired replicas within 600 seconds, only 1/3 replicas are ready.'));
    assert.equal(body(m).includes('Retrieved the following errors:'), false);
  });

  it('failing: red early warning, still in progress, with the errors', () => {
    const m = renderRollout(view({ phase: 'failing', diagnosis: { pods: 3, stuckPods: 3, problems: [crashLoop] } }), opts());
    assert.equal(m.attachments[0]?.color, '#e60000');
    assert.ok(
      headline(m).startsWith(
        'Rollout for Deployment `api` (RS: `api-5d9f8c7b6`) in `payments` namespace on `prod` cluster is failing: every new pod is stuck.\n',
      ),
      headline(m),
    );
    assert.ok(headline(m).includes('still in progress'));
    assert.ok(body(m).includes('Retrieved the following errors:'));
    assert.ok(body(m).includes('`CrashLoopBackOff`'));
    assert.equal(body(m).includes('*Duration*'), false);
    assert.equal(m.text, ':warning: Rollout of Deployment `api` (revision 7) in `payments` on `prod` is failing');
  });

  it('failing: names a partial stall and a ReplicaSet that cannot create pods', () => {
    const partial = renderRollout(view({ phase: 'failing', diagnosis: { pods: 3, stuckPods: 2, problems: [crashLoop] } }), opts());
    assert.ok(headline(partial).includes('is failing: 2 of 3 new pods are stuck.'));

    const quota = 'pods "api-x" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=9, limited: cpu=10';
    const noPods = renderRollout(view({ phase: 'failing', diagnosis: { pods: 0, stuckPods: 0, replicaFailure: quota, problems: [] } }), opts());
    assert.ok(headline(noPods).includes('is failing: the new ReplicaSet cannot create pods.'));
    assert.ok(body(noPods).includes('*ReplicaSet* · `ReplicaFailure`\n```' + quota + '```'));
  });

  it('a ReplicaSet failure already among the problems is not repeated', () => {
    const msg = 'pods "api-x" is forbidden: error looking up service account payments/api';
    const group: ProblemGroup = { source: 'replicaSet', reason: 'FailedCreate', message: msg, count: 1 };
    const m = renderRollout(view({ phase: 'failed', endedAt: STARTED, diagnosis: { pods: 0, stuckPods: 0, replicaFailure: msg, problems: [group] } }), opts());
    assert.equal(body(m).split(msg).length - 1, 1);
  });

  it('paused: orange, says how it continues', () => {
    const m = renderRollout(view({ phase: 'paused' }), opts());
    assert.equal(m.attachments[0]?.color, '#e69500');
    assert.equal(
      headline(m),
      'Rollout for Deployment `api` in `payments` namespace on `prod` cluster is paused.\nIt continues once the Deployment is resumed (`kubectl rollout resume`).',
    );
  });

  it('superseded: grey, names the newer revision', () => {
    const m = renderRollout(view({ phase: 'superseded', supersededBy: 8, endedAt: STARTED + 5000 }), opts());
    assert.equal(m.attachments[0]?.color, '#9e9e9e');
    assert.equal(
      headline(m),
      'Rollout of revision 7 for Deployment `api` in `payments` namespace on `prod` cluster was superseded by revision 8 before it finished.',
    );
    assert.equal(m.text, ':fast_forward: Rollout of Deployment `api` (revision 7) in `payments` on `prod` was superseded by revision 8');
    assert.ok(body(m).includes('*Duration*\n5s'));
  });

  it('deleted: grey, the Deployment was deleted during the rollout', () => {
    const m = renderRollout(view({ phase: 'deleted', endedAt: STARTED + 3_725_000 }), opts());
    assert.equal(m.attachments[0]?.color, '#9e9e9e');
    assert.ok(headline(m).includes('the Deployment was deleted during the rollout.'));
    assert.ok(body(m).includes('*Duration*\n1h 2m 5s'));
  });

  it('untracked: grey, names the removed namespace annotation', () => {
    const m = renderRollout(view({ phase: 'untracked', endedAt: STARTED }), opts());
    assert.equal(m.attachments[0]?.color, '#9e9e9e');
    assert.ok(
      headline(m).startsWith('Hermod stopped tracking namespace `payments` on `prod` cluster: its `hermod.uswitch.com/slack` annotation was removed.'),
      headline(m),
    );
    assert.ok(headline(m).includes('Deployment `api` (revision 7)'));
  });

  it('every phase has a colour, a headline and a footer', () => {
    const phases: RolloutPhase[] = ['progressing', 'failing', 'paused', 'succeeded', 'failed', 'superseded', 'deleted', 'untracked'];
    for (const phase of phases) {
      const m = renderRollout(view({ phase, endedAt: STARTED + 1 }), opts());
      assert.equal(m.attachments[0]?.color, PHASE_COLOURS[phase]);
      const blocks = attachmentBlocks(m);
      const last = blocks[blocks.length - 1];
      assert.ok(last && last.type === 'context');
      assert.equal(last.elements[0]?.text, 'hermod');
      assert.equal(last.elements[1]?.text, 'cluster `prod`');
      assertWithinLimits(m);
    }
  });
});

describe('renderRollout: facts', () => {
  it('shows a rollback', () => {
    assert.ok(body(renderRollout(view({ rolledBackTo: [3] }), opts())).includes('*Revision*\n7 (was 6)\nrollback to revision 3'));
    assert.ok(body(renderRollout(view({ rolledBackTo: [3, 5], previousRevision: null }), opts())).includes('*Revision*\n7\nrollback to revisions 3, 5'));
  });

  it('marks an adopted rollout and its duration as a lower bound', () => {
    const m = renderRollout(view({ adopted: true, phase: 'succeeded', endedAt: STARTED + 61_000 }), opts());
    assert.ok(body(m).includes('adopted: Hermod started watching mid-rollout'));
    assert.ok(body(m).includes('*Duration*\nat least 1m 1s'));
    assert.ok(body(m).includes(`seen <!date^${STARTED / 1000}^{date_short_pretty} {time}|2026-01-02T03:04:05.000Z>`));
  });

  it('footer dates the start', () => {
    const m = renderRollout(view(), opts());
    assert.ok(body(m).includes(`started <!date^${STARTED / 1000}^{date_short_pretty} {time}|2026-01-02T03:04:05.000Z>`));
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

  it('non-failure messages carry the commit as a field', () => {
    const m = renderRollout(view({ git: { sha: SHA, repo: 'https://github.com/org/app' } }), opts());
    assert.ok(body(m).includes(`*Commit*\n<https://github.com/org/app/commit/${SHA}|0123456>`));
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
    assert.ok(headline(m).includes('`' + name + '`'));
    assert.ok(headline(m).includes('`' + ns + '`'));
    assert.ok(headline(m).length < 600, `${headline(m).length}`);
    assert.ok(headline(m).includes('c…`'));
    assertWithinLimits(m);
  });

  it('keeps unicode and emoji intact', () => {
    const m = renderRollout(
      view({ deployment: 'ünïcødé-app', phase: 'failed', endedAt: STARTED, diagnosis: { pods: 1, stuckPods: 1, problems: [{ ...crashLoop, message: '💥'.repeat(2000) }] } }),
      opts({ cluster: '東京-🗼' }),
    );
    assert.ok(headline(m).includes('`ünïcødé-app`'));
    assert.ok(headline(m).includes('`東京-🗼`'));
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
