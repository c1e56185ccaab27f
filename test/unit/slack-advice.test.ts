/**
 * What Hermod tells the user when Slack refuses it for good (src/machines/slackAdvice.ts):
 * one sentence per cause, naming what to change (issue 15: each branch pinned on its own).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slackFailureAdvice } from '../../src/machines/slackAdvice.js';

describe('slackFailureAdvice', () => {
  it('a refused token is about SLACK_TOKEN, whatever the channel and code', () => {
    assert.equal(slackFailureAdvice({ channel: '#deploys', error: 'not_in_channel', scope: 'workspace' }), 'the Slack token was refused: check SLACK_TOKEN');
  });

  it('not_in_channel: invite the app to the channel', () => {
    assert.equal(slackFailureAdvice({ channel: '#deploys', error: 'not_in_channel', scope: 'channel' }), 'invite the Hermod app to #deploys');
  });

  it('channel_not_found: check the namespace annotation, quoting the channel', () => {
    assert.equal(
      slackFailureAdvice({ channel: '#nope', error: 'channel_not_found', scope: 'channel' }),
      'check the channel in the hermod.uswitch.com/slack annotation ("#nope")',
    );
  });

  it('any other channel error names the channel Slack refused', () => {
    assert.equal(slackFailureAdvice({ channel: '#archived', error: 'is_archived', scope: 'channel' }), 'Slack refused channel "#archived"');
  });
});
