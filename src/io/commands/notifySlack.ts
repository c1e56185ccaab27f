/** `hermod notify-test --channel C`: post a test message, to check the token and the channel. */
import type { Config } from '../config.js';
import { EXIT } from './exitCodes.js';
import { renderTestMessage } from '../../machines/message.js';
import { createSlackApi, createSlackClient } from '../slack.js';
import { describeSlackError } from '../slackErrors.js';

export async function notifySlack(config: Config, flags: Record<string, unknown>, out: (line: string) => void = console.log): Promise<number> {
  const channel = typeof flags['channel'] === 'string' || typeof flags['channel'] === 'number' ? String(flags['channel']) : '';
  if (channel === '') {
    console.error('hermod notify-test: --channel <name or ID> is required');
    return EXIT.usage;
  }
  if (config.slackToken === null) {
    console.error('hermod notify-test: SLACK_TOKEN is not set (export the bot token of your Hermod Slack app)');
    return EXIT.usage;
  }
  const message = renderTestMessage({ cluster: config.clusterName });
  try {
    const api = createSlackApi(createSlackClient({ token: config.slackToken, slackApiUrl: config.slackApiUrl }));
    const posted = await api.postMessage({ channel, text: message.text, attachments: message.attachments });
    out(`posted a test message to ${channel} (channel ID ${posted.channelId}, ts ${posted.ts})`);
    return EXIT.ok;
  } catch (err) {
    console.error(`hermod notify-test: ${describeSlackError(err, config.slackApiUrl, channel)}`);
    return EXIT.failure;
  }
}
