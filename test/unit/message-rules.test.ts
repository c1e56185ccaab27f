/**
 * The rules of src/machines/message.ts that the mutation run found unpinned (issue 15), one
 * small scenario each: the words and marks per phase, when a fact, a git link, a footer
 * element or a thread appears, and the limits at their boundary.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAIN_MESSAGE_CHARS,
  problemSummary,
  renderRollout,
  renderTestMessage,
  TEST_MESSAGE_COLOUR,
  type Block,
  type RenderOptions,
  type SlackMessage,
} from '../../src/machines/message.js';
import type { Diagnosis, ProblemGroup, RolloutView } from '../../src/machines/notification.js';
import { opts, SHA, STARTED, view } from '../support/rolloutViews.js';

const render = (over: Partial<RolloutView> = {}, o: Partial<RenderOptions> = {}) => renderRollout(view(over), opts(o));
const blocks = (m: SlackMessage): Block[] => m.attachments[0]!.blocks;
const sectionTexts = (bs: Block[]): string[] => bs.flatMap((b) => (b.type === 'section' && b.text !== undefined ? [b.text.text] : []));
const fields = (m: SlackMessage): string[] => blocks(m).flatMap((b) => (b.type === 'section' && b.fields !== undefined ? b.fields.map((f) => f.text) : []));
const contexts = (bs: Block[]): string[] => bs.flatMap((b) => (b.type === 'context' ? b.elements.map((e) => e.text) : []));
const headline = (m: SlackMessage): string => sectionTexts(blocks(m))[0]!;

const problem = (over: Partial<ProblemGroup> = {}): ProblemGroup => ({ source: 'container', reason: 'CrashLoopBackOff', container: 'api', count: 1, ...over });
const failing = (diagnosis: Partial<Diagnosis>, over: Partial<RolloutView> = {}) =>
  render({ phase: 'failing', diagnosis: { pods: 1, stuckPods: 1, problems: [problem()], ...diagnosis }, ...over });

describe('the mark of each phase in the notification text', () => {
  const marks: Array<[RolloutView['phase'], string]> = [
    ['progressing', ':hourglass_flowing_sand:'],
    ['paused', ':double_vertical_bar:'],
    ['failing', ':warning:'],
    ['failed', ':x:'],
    ['succeeded', ':white_check_mark:'],
    ['superseded', ':fast_forward:'],
    ['deleted', ':wastebasket:'],
    ['untracked', ':no_bell:'],
    ['unfollowable', ':information_source:'],
  ];
  for (const [phase, emoji] of marks) {
    it(`${phase} starts with ${emoji}`, () => assert.ok(render({ phase }).text.startsWith(`${emoji} `), render({ phase }).text));
  }
});

describe('the notification text per phase', () => {
  const subject = 'Deployment `api` (revision 7) in `payments`';
  const texts: Array<[RolloutView['phase'], string]> = [
    ['paused', `Rollout of ${subject} is paused`],
    ['failed', `Rollout of ${subject} failed`],
    ['deleted', `Rollout of ${subject} stopped: the Deployment was deleted`],
    ['superseded', `Rollout of ${subject} was superseded`],
  ];
  for (const [phase, text] of texts) {
    it(`${phase} without a cluster: "${text}"`, () => assert.equal(render({ phase }, { cluster: null }).text.replace(/^\S+ /, ''), text));
  }

  it('superseded by a known revision names it', () => {
    assert.ok(render({ phase: 'superseded', supersededBy: 9 }, { cluster: null }).text.endsWith('was superseded by revision 9'));
  });
});

describe('titles and lead lines (issue 12 layout)', () => {
  it('a failure without a cluster names no cluster', () => {
    const m = render({ phase: 'failed' }, { cluster: null });
    assert.equal(m.text, ':x: Rollout of Deployment `api` (revision 7) in `payments` failed');
    assert.equal(headline(m), '*Failed after 600 seconds* (the progress deadline): 1 of 3 new pods ready. No pod errors were found.');
  });

  it('a failing rollout without a ReplicaSet yet names none', () => {
    assert.ok(contexts(blocks(failing({}, { replicaSet: null })))[0]!.includes(' · The new ReplicaSet: 1 of 3 pods'));
  });

  it('superseded by an unknown revision names none', () => {
    assert.ok(render({ phase: 'superseded' }).text.endsWith('was superseded'));
  });

  it('the cluster name is trimmed', () => {
    assert.ok(render({}, { cluster: '  prod  ' }).text.endsWith(' on `prod`'));
  });

  it('a blank cluster name is no cluster', () => {
    assert.equal(render({}, { cluster: '   ' }).text, ':hourglass_flowing_sand: Rolling out Deployment `api` (revision 7) in `payments`');
  });

  it('Kubernetes\' detail is not said again: the title already says it', () => {
    const m = render({ detail: '  waiting  ' });
    assert.ok(!JSON.stringify(m).includes('waiting'));
  });
});

describe('why a rollout is failing', () => {
  it('no Pods and a ReplicaFailure: the ReplicaSet cannot create pods', () => {
    assert.match(headline(failing({ pods: 0, stuckPods: 0, replicaFailure: 'quota', problems: [] })), /^\*The new ReplicaSet cannot create pods\.\*/);
  });

  it('no Pods and no ReplicaFailure: every new pod is stuck', () => {
    assert.match(headline(failing({ pods: 0, stuckPods: 0, problems: [] })), /^\*Every new pod is stuck\.\*/);
  });

  it('Pods and a ReplicaFailure, all stuck: every new pod is stuck', () => {
    assert.match(headline(failing({ pods: 2, stuckPods: 2, replicaFailure: 'quota' })), /^\*Every new pod is stuck\.\*/);
  });

  it('some Pods stuck: how many of how many', () => {
    assert.match(headline(failing({ pods: 3, stuckPods: 2 })), /^\*2 of 3 new pods are stuck\.\*/);
  });
});

describe('facts', () => {
  const since = `<!date^${Math.floor(STARTED / 1000)}^{date_short_pretty} {time}|2026-01-02T03:04:05.000Z>`;

  it('the lines of a rollout in progress, exactly', () => {
    const m = render();
    assert.deepEqual(fields(m), []);
    assert.deepEqual(sectionTexts(blocks(m)), ['New ReplicaSet `api-5d9f8c7b6`: 1 of 3 pods, 1 ready, 1 available · 2 old pods left']);
    assert.deepEqual(contexts(blocks(m)), [`revision 7 (was 6) · started ${since}`]);
  });

  it('the same previous revision is not repeated; no ReplicaSet, no name', () => {
    const m = render({ previousRevision: 7, replicaSet: null });
    assert.deepEqual(sectionTexts(blocks(m)), ['The new ReplicaSet: 1 of 3 pods, 1 ready, 1 available · 2 old pods left']);
    assert.ok(contexts(blocks(m))[0]!.startsWith('revision 7 · '));
  });

  it('a rollback names the one revision it went back to', () => {
    const changes = { images: [], fields: [], moreFields: 0, changeCause: null, backTo: 3 };
    assert.ok(contexts(blocks(render({ rolledBackTo: [3], changes })))[0]!.endsWith(' · back to revision 3'));
  });

  it('a duration only for a final phase, ended no earlier than it started', () => {
    const durations = (over: Partial<RolloutView>) => contexts(blocks(render(over))).join(' · ').split(' · ').filter((f) => f.startsWith('took'));
    assert.deepEqual(durations({ phase: 'succeeded', endedAt: STARTED }), ['took 0s']);
    assert.deepEqual(durations({ phase: 'succeeded', endedAt: STARTED - 1 }), []);
    assert.deepEqual(durations({ phase: 'succeeded', endedAt: null }), []);
    assert.deepEqual(durations({ phase: 'progressing', endedAt: STARTED + 5_000 }), []);
  });

  it('the commit is in the context line outside failures only, as text when it cannot be linked', () => {
    const git = { sha: SHA };
    assert.ok(contexts(blocks(render({ git })))[0]!.includes(' · commit `0123456789abcdef0123456789abcdef01234567`'));
    assert.ok(!contexts(blocks(failing({}, { git })))[0]!.includes('commit'));
  });
});

describe('the context line', () => {
  const context = (m: SlackMessage) => contexts(blocks(m).slice(-1));

  it('no start time when it is unknown (0 or not a number)', () => {
    assert.deepEqual(context(render({ startedAt: 0 })), ['revision 7 (was 6)']);
    assert.deepEqual(context(render({ startedAt: Number.NaN })), ['revision 7 (was 6)']);
  });

  it('a start time in Slack\'s date syntax with its ISO fallback', () => {
    const seconds = Math.floor(STARTED / 1000);
    assert.deepEqual(context(render({}, { cluster: null })), [`revision 7 (was 6) · started <!date^${seconds}^{date_short_pretty} {time}|2026-01-02T03:04:05.000Z>`]);
  });
});

describe('errors in failure messages', () => {
  it('a ReplicaFailure no problem carries is listed first', () => {
    const texts = sectionTexts(blocks(failing({ pods: 0, stuckPods: 0, replicaFailure: 'exceeded quota', problems: [] })));
    assert.ok(texts.includes('*ReplicaSet* · `ReplicaFailure`\n```exceeded quota```'), texts.join('\n---\n'));
  });

  it('a blank ReplicaFailure is not listed', () => {
    const texts = sectionTexts(blocks(failing({ pods: 0, stuckPods: 0, replicaFailure: '  ', problems: [] })));
    assert.ok(texts.includes('No pod errors were found yet.'), texts.join('\n---\n'));
  });

  it('a failing rollout without errors says none were found yet', () => {
    assert.ok(sectionTexts(blocks(failing({ problems: [] }))).includes('No pod errors were found yet.'));
  });

  it('no thread: no pointer to one', () => {
    assert.deepEqual(contexts(blocks(failing({}))).filter((t) => t.includes('thread')), []);
  });

  it('a message of exactly the main limit stays in the main message', () => {
    const m = failing({ problems: [problem({ message: 'x'.repeat(MAIN_MESSAGE_CHARS) })] });
    assert.equal(m.thread, null);
  });

  it('one message over the main limit: the full text is in the thread', () => {
    const m = failing({ problems: [problem({ message: 'x'.repeat(MAIN_MESSAGE_CHARS + 1) })] });
    assert.ok(m.thread !== null && m.thread !== undefined);
    assert.deepEqual(
      contexts(blocks(m)).filter((t) => t.includes('thread')),
      ['The full error messages are in the thread.'],
    );
    assert.equal(m.thread.text, 'Failure details for Deployment `api` (revision 7) in `payments`: 1 problem.');
    assert.equal(sectionTexts(m.thread.blocks ?? [])[0], m.thread.text);
  });

  it('six short problems: five shown, one more in the thread', () => {
    const problems = Array.from({ length: 6 }, (_, i) => problem({ reason: `Reason${i}` }));
    const m = failing({ problems });
    assert.deepEqual(
      contexts(blocks(m)).filter((t) => t.includes('thread')),
      ['… and 1 more problem: the details are in the thread.'],
    );
    assert.ok(m.thread !== null && m.thread !== undefined);
    assert.equal(m.thread.text, 'Failure details for Deployment `api` (revision 7) in `payments`: 6 problems.');
    assert.equal(sectionTexts(m.thread.blocks ?? []).length, 7);
  });

  it('a problem message keeps its indentation; trailing blank lines go', () => {
    const texts = sectionTexts(blocks(failing({ problems: [problem({ message: '  at main()\n\n' })] })));
    assert.ok(texts.includes('*1 pod* · `CrashLoopBackOff` · container `api`\n```  at main()```'), texts.join('\n---\n'));
  });

  it('a blank problem message gives no code block', () => {
    const texts = sectionTexts(blocks(failing({ problems: [problem({ message: ' \n ' })] })));
    assert.ok(texts.includes('*1 pod* · `CrashLoopBackOff` · container `api`'), texts.join('\n---\n'));
  });

  it('a message section always fits Slack\'s section limit, even with a long head', () => {
    const long = problem({ reason: 'R'.repeat(120), container: 'c'.repeat(300), message: 'm'.repeat(3_000) });
    const m = failing({ problems: [long] });
    for (const t of sectionTexts(blocks(m))) assert.ok(t.length <= 3_000);
    const inThread = sectionTexts(m.thread?.blocks ?? []).find((t) => t.includes('mmm'))!;
    assert.ok(inThread.includes('m'.repeat(2_000)), 'the thread shows most of it');
  });
});

describe('problem summaries', () => {
  it('one event is seen one time', () => {
    assert.equal(problemSummary({ source: 'event', reason: 'Unhealthy', count: 1 }), '*Warning event, seen 1 time* · `Unhealthy`');
  });

  it('one Pod is singular', () => {
    assert.equal(problemSummary({ source: 'podCondition', reason: 'Unschedulable', count: 1 }), '*1 pod* · `Unschedulable` · pod condition');
  });

  it('a last run with the same reason as the problem is not repeated', () => {
    assert.equal(problemSummary(problem({ reason: 'OOMKilled', lastTerminationReason: 'OOMKilled', exitCode: 137 })), '*1 pod* · `OOMKilled` · container `api` · exit code 137');
  });
});

describe('the thread shares its budget', () => {
  it('ten long problems all get a share of the thread, within the block limit', () => {
    const problems = Array.from({ length: 10 }, (_, i) => problem({ reason: `R${i}`, message: `${i}`.repeat(5_000) }));
    const m = failing({ problems });
    const texts = sectionTexts(m.thread?.blocks ?? []);
    assert.equal(texts.length, 11);
    const total = texts.reduce((n, t) => n + t.length, 0);
    assert.ok(total <= 10_000, `${total}`);
    for (let i = 0; i < 10; i++) assert.ok(texts[i + 1]!.includes(`${i}`.repeat(500)), `problem ${i} gets a fair share`);
    assert.deepEqual(contexts(m.thread?.blocks ?? []), []);
  });

  it('more problems than the thread shows: the rest are counted', () => {
    const problems = Array.from({ length: 12 }, (_, i) => problem({ reason: `R${i}`, message: 'x' }));
    const m = failing({ problems });
    assert.deepEqual(contexts(m.thread?.blocks ?? []), ['… and 2 more problems']);
  });

  it('one problem more than the thread shows is singular', () => {
    const problems = Array.from({ length: 11 }, (_, i) => problem({ reason: `R${i}`, message: 'x' }));
    assert.deepEqual(contexts(failing({ problems }).thread?.blocks ?? []), ['… and 1 more problem']);
  });
});

describe('git links', () => {
  const gitText = (git: RolloutView['git']) => sectionTexts(blocks(failing({}, { git }))).filter((t) => t.startsWith('Commit:'));

  it('a sha must be all hex, from start to end, to be linked', () => {
    const repo = 'https://github.com/acme/api';
    assert.deepEqual(gitText({ sha: 'release-0123456', repo }), ['Commit: `release-0123456`']);
    assert.deepEqual(gitText({ sha: '0123456-release', repo }), ['Commit: `0123456-release`']);
  });

  it('every trailing slash goes, and ".git" only at the end', () => {
    assert.deepEqual(gitText({ sha: SHA, repo: 'https://git.example/acme/api.gitops//' }), [
      `Commit: <https://git.example/acme/api.gitops/commit/${SHA}|0123456>\nPull Request, if applicable: <https://git.example/acme/api.gitops/pulls?q=${SHA}|search>`,
    ]);
  });

  it('a sha with spaces around it is trimmed; a blank one is no sha', () => {
    assert.deepEqual(gitText({ sha: `  ${SHA}  ` }), [`Commit: \`${SHA}\``]);
    assert.deepEqual(gitText({ sha: '   ' }), []);
  });

  it('no sha: no commit line and no empty section', () => {
    const m = failing({});
    assert.ok(sectionTexts(blocks(m)).every((t) => t !== ''), JSON.stringify(sectionTexts(blocks(m))));
  });

  it('the warning names a sha that is not one', () => {
    const warned = renderRollout(view({ phase: 'failing', git: { sha: 'not-a-sha', repo: 'https://github.com/acme/api' } }), opts({ gitAnnotationWarning: true }));
    assert.ok(sectionTexts(blocks(warned)).includes(':warning: No commit links: the `hermod.uswitch.com/gitsha` annotation is not a commit SHA.'));
  });

  it('the warning names a sha that is hex only in part', () => {
    const warned = renderRollout(view({ phase: 'failing', git: { sha: 'release-0123456', repo: 'https://github.com/acme/api' } }), opts({ gitAnnotationWarning: true }));
    assert.ok(sectionTexts(blocks(warned)).includes(':warning: No commit links: the `hermod.uswitch.com/gitsha` annotation is not a commit SHA.'));
    const warned2 = renderRollout(view({ phase: 'failing', git: { sha: '0123456-release', repo: 'https://github.com/acme/api' } }), opts({ gitAnnotationWarning: true }));
    assert.ok(sectionTexts(blocks(warned2)).includes(':warning: No commit links: the `hermod.uswitch.com/gitsha` annotation is not a commit SHA.'));
  });
});

describe('block shapes', () => {
  it('sections and their texts are typed for Block Kit', () => {
    const [first, second] = blocks(render());
    assert.equal(first!.type, 'section');
    assert.deepEqual(first!.type === 'section' ? first!.text?.type : null, 'mrkdwn');
    assert.ok(second!.type === 'context' && second!.elements.every((e) => e.type === 'mrkdwn'));
  });
});

describe('the notify-test message', () => {
  it('is blue, with a context naming Hermod and the cluster', () => {
    const m = renderTestMessage({ cluster: 'prod' });
    assert.equal(m.attachments[0]!.color, TEST_MESSAGE_COLOUR);
    assert.equal(TEST_MESSAGE_COLOUR, '#439fe0');
    const last = m.attachments[0]!.blocks.at(-1)!;
    assert.equal(last.type, 'context');
    assert.deepEqual(contexts([last]), ['hermod', 'cluster `prod`']);
  });

  it('without a cluster, the context names Hermod only', () => {
    assert.deepEqual(contexts(renderTestMessage({ cluster: null }).attachments[0]!.blocks), ['hermod']);
  });
});

describe('more message rules found by mutation testing', () => {
  it('no duration without an end, even when the start is unknown (0)', () => {
    assert.deepEqual(
      contexts(blocks(render({ phase: 'succeeded', startedAt: 0, endedAt: null }))).filter((f) => f.includes('took')),
      [],
    );
  });

  it('a ReplicaFailure is listed first even when other problems are shown', () => {
    const texts = sectionTexts(blocks(failing({ pods: 1, stuckPods: 1, replicaFailure: 'exceeded quota', problems: [problem()] })));
    assert.deepEqual(texts.slice(1, 3), ['*ReplicaSet* · `ReplicaFailure`\n```exceeded quota```', '*1 pod* · `CrashLoopBackOff` · container `api`']);
  });

  it('five problems and one long message: all are shown, the full text is in the thread', () => {
    const problems = Array.from({ length: 5 }, (_, i) => problem({ reason: `R${i}`, message: i === 0 ? 'x'.repeat(MAIN_MESSAGE_CHARS + 1) : 'short' }));
    assert.deepEqual(
      contexts(blocks(failing({ problems }))).filter((t) => t.includes('thread')),
      ['The full error messages are in the thread.'],
    );
  });

  it('a failure without git information: exactly the lead, the errors, the context line', () => {
    const m = failing({});
    assert.deepEqual(sectionTexts(blocks(m)).slice(1), ['*1 pod* · `CrashLoopBackOff` · container `api`']);
    assert.equal(blocks(m).at(-1)!.type, 'context');
  });
});

describe('message rules of the StatefulSet, DaemonSet and bake messages (issue 15, 7 December)', () => {
  const all = (m: SlackMessage): string => [...sectionTexts(blocks(m)), ...contexts(blocks(m))].join('\n');

  it('an unfollowable rollout says its OnDelete strategy cannot be followed, and nothing more', () => {
    assert.deepEqual(sectionTexts(blocks(render({ phase: 'unfollowable' }))), [
      'Its update strategy is `OnDelete`: pods change only when someone deletes them, so this rollout cannot be followed (nor can `kubectl rollout status`). Hermod says nothing more about it.',
    ]);
  });

  it('a failed rollout without errors does not say none were found "yet"', () => {
    assert.ok(!all(render({ phase: 'failed', diagnosis: { pods: 1, stuckPods: 0, problems: [] } })).includes('No pod errors were found yet.'));
  });

  it('no old pods left: none counted in the progress line', () => {
    assert.ok(!all(failing({}, { progress: { desired: 3, updated: 3, ready: 0, available: 0, old: 0 } })).includes('old pod'));
  });

  it("a StatefulSet's partition is in the progress line", () => {
    assert.ok(all(failing({}, { kind: 'StatefulSet', partition: 2 })).includes(' · partition 2'));
  });

  it('a partition does not make a failing rollout "complete"', () => {
    assert.ok(!all(failing({}, { kind: 'StatefulSet', partition: 2 })).includes('partitioned rollout complete'));
  });

  it("only a DaemonSet's stuck pod keeps the other Nodes from being updated", () => {
    const sentence = 'no other Node is updated while it is unavailable';
    assert.ok(all(failing({}, { kind: 'DaemonSet', waitingOn: 'agent-x', blockedBy: 'stuck' })).includes(sentence));
    assert.ok(!all(failing({}, { kind: 'StatefulSet', waitingOn: 'db-1', blockedBy: 'stuck' })).includes(sentence));
    assert.ok(!all(failing({}, { kind: 'DaemonSet', waitingOn: 'agent-x', blockedBy: null })).includes(sentence));
  });

  it('two stuck pods that block the update are "them"', () => {
    const lead = headline(failing({ pods: 3, stuckPods: 2, problems: [problem()] }, { kind: 'DaemonSet', waitingOn: 'agent-x', blockedBy: 'stuck' }));
    assert.ok(lead.includes('2 of 3 new pods are stuck, and the rolling update cannot go past them.'), lead);
  });

  it('a degraded success says how long after the success it turned unhealthy, from the moment itself', () => {
    const degraded = (degradedAt: number) => headline(render({ phase: 'degraded', endedAt: STARTED + 60_000, degradedAt }));
    assert.ok(degraded(STARTED + 150_000).startsWith('*Degraded 1m 30s after it succeeded:*'), degraded(STARTED + 150_000));
    assert.ok(degraded(STARTED + 60_000).startsWith('*Degraded 0s after it succeeded:*'));
    assert.ok(degraded(STARTED + 59_000).startsWith('*Degraded after it succeeded:*'));
  });

  it('no previous revision: none named', () => {
    assert.ok(contexts(blocks(render({ previousRevision: null })))[0]!.startsWith(`revision 7 · `));
  });

  it('one replica is singular', () => {
    const parts = contexts(blocks(render({ phase: 'succeeded', endedAt: STARTED, progress: { desired: 1, updated: 1, ready: 1, available: 1, old: 0 } })))[0]!.split(' · ');
    assert.ok(parts.includes('1 replica'), parts.join(' · '));
  });

  it('a failed rollout without a ReplicaSet names none in its context', () => {
    assert.ok(!contexts(blocks(render({ phase: 'failed', replicaSet: null })))[0]!.includes('new ReplicaSet'));
  });
});
