/**
 * The mention rule (issue 13): which `hermod.uswitch.com/mention` values become Slack mentions,
 * which are refused and why, and where a rendered message shows them (failing and failed only).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderRollout } from '../../src/machines/message.js';
import { isMentionToken, MAX_MENTION_VALUE, MAX_MENTIONS, parseMentions } from '../../src/machines/mentions.js';
import type { RolloutPhase } from '../../src/machines/notification.js';
import { opts, view } from '../support/rolloutViews.js';

const ids = { allowBroadcast: false };
const broadcast = { allowBroadcast: true };

describe('parseMentions: what is accepted', () => {
  it('user IDs (U…, W…) become <@ID>, user-group IDs (S…) become <!subteam^ID>', () => {
    assert.deepEqual(parseMentions('U012AB3CD', ids), { ok: true, mentions: ['<@U012AB3CD>'] });
    assert.deepEqual(parseMentions('W0123ABCDEF', ids), { ok: true, mentions: ['<@W0123ABCDEF>'] });
    assert.deepEqual(parseMentions('S0614TZR7', ids), { ok: true, mentions: ['<!subteam^S0614TZR7>'] });
  });

  it('a list split by commas and blanks, in order, each once', () => {
    assert.deepEqual(parseMentions(' U012AB3CD, S0614TZR7  W0123ABCDEF,U012AB3CD ', ids), {
      ok: true,
      mentions: ['<@U012AB3CD>', '<!subteam^S0614TZR7>', '<@W0123ABCDEF>'],
    });
  });

  it('blank or only separators: no mention, and nothing to refuse', () => {
    assert.deepEqual(parseMentions('', ids), { ok: true, mentions: [] });
    assert.deepEqual(parseMentions(' , ', ids), { ok: true, mentions: [] });
  });

  it('here and channel only with --allow-broadcast-mentions', () => {
    assert.deepEqual(parseMentions('here', broadcast), { ok: true, mentions: ['<!here>'] });
    assert.deepEqual(parseMentions('U012AB3CD channel', broadcast), { ok: true, mentions: ['<@U012AB3CD>', '<!channel>'] });
    for (const word of ['here', 'channel']) {
      const refused = parseMentions(`U012AB3CD ${word}`, ids);
      assert.equal(refused.ok, false);
      assert.match(!refused.ok ? refused.reason : '', new RegExp(`^"${word}" .*--allow-broadcast-mentions`));
    }
  });

  it(`at most ${MAX_MENTIONS} mentions`, () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => `U${String(i).padStart(8, '0')}`).join(',');
    assert.equal(parseMentions(list(MAX_MENTIONS), ids).ok, true);
    const over = parseMentions(list(MAX_MENTIONS + 1), ids);
    assert.deepEqual(over, { ok: false, reason: `it lists ${MAX_MENTIONS + 1} mentions; at most ${MAX_MENTIONS} are allowed` });
  });
});

describe('parseMentions: hostile and mistaken values refuse the whole value', () => {
  const hostile = [
    '<!everyone>',
    '<!channel>',
    '<@U012AB3CD>',
    '<!subteam^S0614TZR7>',
    '@alice',
    'alice',
    'everyone',
    'Here',
    '@here',
    '!channel',
    'u012ab3cd',
    'U012AB3CD|x',
    'C012AB3CD',
    'T012AB3CD',
    'U12',
    'U012AB3CD>',
    'S0614TZR7&lt;',
    '`U012AB3CD`',
    '@U012AB3CD',
    'xU012AB3CD',
    '!S0614TZR7',
  ];
  for (const value of hostile) {
    it(`${JSON.stringify(value)} is refused, even with one good ID beside it`, () => {
      for (const policy of [ids, broadcast]) {
        const alone = parseMentions(value, policy);
        const mixed = parseMentions(`U012AB3CD, ${value}`, policy);
        assert.equal(alone.ok, false, JSON.stringify(alone));
        assert.equal(mixed.ok, false, JSON.stringify(mixed));
        assert.ok(!alone.ok && alone.reason.startsWith(JSON.stringify(value)), !alone.ok ? alone.reason : '');
        assert.match(!alone.ok ? alone.reason : '', /is not a Slack user ID \(U…, W…\) or user-group ID \(S…\)$/);
      }
    });
  }

  it('a refused part is quoted short in the reason: whole up to 40 characters, cut past them', () => {
    const result = parseMentions('x'.repeat(100), ids);
    assert.equal(!result.ok && result.reason, `"${'x'.repeat(39)}…" is not a Slack user ID (U…, W…) or user-group ID (S…)`);
    const forty = parseMentions('x'.repeat(40), ids);
    assert.equal(!forty.ok && forty.reason, `"${'x'.repeat(40)}" is not a Slack user ID (U…, W…) or user-group ID (S…)`);
  });

  it(`a value over ${MAX_MENTION_VALUE} characters is refused unread`, () => {
    const long = Array.from({ length: 60 }, () => 'U012AB3CD').join(' ');
    assert.ok(long.length > MAX_MENTION_VALUE);
    assert.deepEqual(parseMentions(long, ids), { ok: false, reason: `the value is longer than ${MAX_MENTION_VALUE} characters` });
    const longest = `U012AB3CD${' '.repeat(MAX_MENTION_VALUE - 9)}`;
    assert.equal(longest.length, MAX_MENTION_VALUE);
    assert.deepEqual(parseMentions(longest, ids), { ok: true, mentions: ['<@U012AB3CD>'] });
  });
});

describe('isMentionToken: only what parseMentions emits', () => {
  it('accepts its outputs and nothing near them', () => {
    for (const token of ['<@U012AB3CD>', '<@W0123ABCDEF>', '<!subteam^S0614TZR7>', '<!here>', '<!channel>']) assert.ok(isMentionToken(token), token);
    for (const token of ['<!everyone>', '<@U012AB3CD|alice>', '<!subteam^S0614TZR7|@team>', '<@C012AB3CD>', 'U012AB3CD', '<!here> ', 'x<!here>', '<!everyone><!here>', '<https://x|y>']) {
      assert.ok(!isMentionToken(token), token);
    }
  });
});

describe('the rendered message mentions the owners only while the rollout is failing or failed', () => {
  const mentions = ['<@U012AB3CD>', '<!subteam^S0614TZR7>'];
  const phases: RolloutPhase[] = ['progressing', 'paused', 'failing', 'failed', 'succeeded', 'superseded', 'deleted', 'untracked'];
  for (const phase of phases) {
    const shown = phase === 'failing' || phase === 'failed';
    it(`${phase}: ${shown ? 'on the line under the title' : 'no mention'}`, () => {
      const m = renderRollout(view({ phase, mentions }), opts());
      const lines = m.text.split('\n');
      if (shown) assert.deepEqual(lines.slice(1), ['<@U012AB3CD> <!subteam^S0614TZR7>'], m.text);
      else assert.equal(lines.length, 1, m.text);
      // The attachment's fallback is the title alone: one ping per message, never two.
      assert.equal(m.attachments[0]!.fallback, lines[0]);
      assert.ok(!JSON.stringify(m.attachments).includes('<@U012AB3CD>'), 'mentions stay out of the attachment');
      // The thread reply, a new message Slack notifies (the channel message turns red by an edit),
      // names them too; nothing else does.
      if (shown) assert.match(m.thread?.text ?? '', /^<@U012AB3CD> <!subteam\^S0614TZR7> Failure details for Deployment/);
      else assert.ok(!JSON.stringify(m.thread ?? null).includes('<@U012AB3CD>'));
    });
  }

  it('a view whose mentions did not come from parseMentions renders none of them', () => {
    const m = renderRollout(view({ phase: 'failed', mentions: ['<!everyone>', '<@U012AB3CD>', 'U0000000A'] }), opts());
    assert.equal(m.text.split('\n')[1], '<@U012AB3CD>');
    const none = renderRollout(view({ phase: 'failed', mentions: ['<!everyone>'] }), opts());
    assert.equal(none.text.split('\n').length, 1, none.text);
  });
});
