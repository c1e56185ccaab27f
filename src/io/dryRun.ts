/**
 * `--dry-run`: a SlackApi that writes each message Hermod would send to the log instead of
 * sending it. The delivery layer above it runs unchanged (pacing, coalescing, threads).
 */
import type { SlackApi } from '../actors/delivery/index.js';
import type { Logger } from '../actors/logger.js';

export function dryRunSlackApi(logger: Logger): SlackApi {
  let sequence = 0;
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++sequence).padStart(6, '0')}`;
  return {
    async postMessage(req) {
      const ts = nextTs();
      logger.info(
        { dryRun: true, method: 'chat.postMessage', channel: req.channel, threadTs: req.threadTs, text: req.text, attachments: req.attachments },
        `dry run: would post to ${req.channel}: ${req.text}`,
      );
      return { channelId: req.channel.replace(/^#/, ''), ts };
    },
    async updateMessage(req) {
      logger.info(
        { dryRun: true, method: 'chat.update', channel: req.channelId, ts: req.ts, text: req.text, attachments: req.attachments },
        `dry run: would update ${req.channelId} ${req.ts}: ${req.text}`,
      );
    },
  };
}
