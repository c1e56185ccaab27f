/**
 * What a degraded success looks like (issue 13, the watch after success): the title
 * "succeeded, then degraded", red, led by how long after the success it degraded, the reason
 * as for a failure, the owners mentioned in the message and at the head of the thread. And the
 * bake's deadline is never rendered, so the bake's end changes no message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PHASE_COLOURS, renderRollout, type Block, type SlackMessage } from '../../src/machines/message.js';
import type { RolloutView } from '../../src/machines/notification.js';
import { opts, SHA, STARTED, view } from '../support/rolloutViews.js';

const SUCCEEDED = STARTED + 90_000;
const blocks = (m: SlackMessage): Block[] => m.attachments[0]!.blocks;
const sections = (m: SlackMessage): string[] => blocks(m).flatMap((b) => (b.type === 'section' && b.text !== undefined ? [b.text.text] : []));
const contexts = (m: SlackMessage): string[] => blocks(m).flatMap((b) => (b.type === 'context' ? b.elements.map((e) => e.text) : []));

function degraded(over: Partial<RolloutView> = {}): RolloutView {
  return view({
    phase: 'degraded',
    endedAt: SUCCEEDED,
    degradedAt: SUCCEEDED + 130_000,
    progress: { desired: 3, updated: 3, ready: 2, available: 2, old: 0 },
    diagnosis: { pods: 3, stuckPods: 1, problems: [{ source: 'container', reason: 'CrashLoopBackOff', container: 'api', exitCode: 1, count: 1 }] },
    git: { sha: SHA, repo: 'https://github.com/acme/api' },
    ...over,
  });
}

describe('a degraded success', () => {
  it('the title says it succeeded, then degraded', () => {
    assert.equal(renderRollout(degraded(), opts()).text, ':warning: Rollout of Deployment `api` (revision 7) in `payments` on `prod` succeeded, then degraded');
  });

  it('is red, like a failure', () => {
    assert.equal(renderRollout(degraded(), opts()).attachments[0]?.color, PHASE_COLOURS.failed);
  });

  it('leads with how long after the success it degraded, and the new pods ready now', () => {
    assert.equal(sections(renderRollout(degraded(), opts()))[0], '*Degraded 2m 10s after it succeeded:* 2 of 3 new pods ready, and the Deployment has not rolled out again.');
  });

  it('without a time on record, the lead still says it degraded', () => {
    assert.match(sections(renderRollout(degraded({ degradedAt: null }), opts()))[0]!, /^\*Degraded after it succeeded:\*/);
  });

  it('says so when no pod error explains it', () => {
    const m = renderRollout(degraded({ diagnosis: { pods: 3, stuckPods: 0, problems: [] } }), opts());
    assert.match(sections(m)[0]!, /No pod errors were found\.$/);
  });

  it('gives the reason as a failure does (the grouped problems) and the commit links', () => {
    const text = sections(renderRollout(degraded(), opts())).join('\n');
    assert.match(text, /CrashLoopBackOff/);
    assert.match(text, /exit code 1/);
    assert.match(text, /github\.com\/acme\/api\/commit\//);
  });

  it('the context line keeps the rollout\'s duration and shows the new pods now', () => {
    const context = contexts(renderRollout(degraded(), opts())).join(' | ');
    assert.match(context, /took 1m 30s/);
    assert.match(context, /3 of 3 pods, 2 ready, 2 available/);
  });

  it('mentions the owners in the message and at the head of the thread, as a failure', () => {
    const m = renderRollout(degraded({ mentions: ['<@U012AB3CD>'] }), opts());
    assert.equal(m.text.split('\n')[1], '<@U012AB3CD>');
    assert.ok(m.thread?.text.startsWith('<@U012AB3CD>'), m.thread?.text);
  });

  it('a succeeded message never mentions, whatever the bake', () => {
    const m = renderRollout(view({ phase: 'succeeded', endedAt: SUCCEEDED, mentions: ['<@U012AB3CD>'], bakeUntil: SUCCEEDED + 300_000 }), opts());
    assert.ok(!m.text.includes('<@U012AB3CD>'));
  });

  it('the bake deadline is never rendered: the bake\'s end changes nothing Slack shows', () => {
    const success = view({ phase: 'succeeded', endedAt: SUCCEEDED, progress: { desired: 3, updated: 3, ready: 3, available: 3, old: 0 } });
    assert.deepEqual(renderRollout({ ...success, bakeUntil: SUCCEEDED + 300_000 }, opts()), renderRollout({ ...success, bakeUntil: null }, opts()));
  });
});
