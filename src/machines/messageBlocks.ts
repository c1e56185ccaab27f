/**
 * The Slack message shapes Hermod renders (a legacy attachment for the colour bar, Block Kit
 * blocks inside it, an optional thread reply), Slack's size limits, and the small block
 * builders every renderer uses. Pure.
 *
 * These are a deliberately narrow subset of @slack/types (mrkdwn only, the two block kinds
 * Hermod renders), kept here because src/machines imports no Slack package. They are checked
 * against @slack/types where they leave the machines: SlackApi (src/actors/delivery/slackApi.ts)
 * takes @slack/types' MessageAttachment and KnownBlock, so a shape Slack would not accept fails
 * to compile there, with no cast.
 */
import { fitMrkdwn } from './mrkdwn.js';

/** A Block Kit mrkdwn text object. */
export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
}

/** A Block Kit section: text (at most 3,000 chars) and/or fields (at most 10 x 2,000 chars). */
export interface SectionBlock {
  type: 'section';
  text?: MrkdwnText;
  fields?: MrkdwnText[];
}

/** A Block Kit context block: small grey text, at most 10 elements. */
export interface ContextBlock {
  type: 'context';
  elements: MrkdwnText[];
}

export type Block = SectionBlock | ContextBlock;

/** A legacy attachment: the only way to get a colour bar; it carries the blocks. */
export interface SlackAttachment {
  /** Hex colour of the side bar. */
  color: string;
  /** Plain summary for clients that cannot show blocks. */
  fallback?: string;
  blocks: Block[];
}

/** A reply to post in the message's thread (`thread_ts` = the message's ts). */
export interface SlackThreadReply {
  /** Notification fallback. */
  text: string;
  blocks?: Block[];
}

/**
 * One Slack message: pass `text` and `attachments` (JSON-encoded) to chat.postMessage or
 * chat.update. Slack shows `text` above the attachment and uses it in notifications.
 */
export interface SlackMessage {
  text: string;
  attachments: SlackAttachment[];
  /** Long failure details that do not fit the main message; null when there are none. */
  thread?: SlackThreadReply | null;
}

/** Slack's documented limits that rendering respects. */
export const SLACK_LIMITS = {
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  contextElements: 10,
  blocks: 50,
  text: 40000,
  /** Combined text of all blocks; Slack answers msg_blocks_too_long somewhere near 12-13k. */
  blocksText: 12000,
} as const;

export function mrkdwn(text: string): MrkdwnText {
  return { type: 'mrkdwn', text: fitMrkdwn(text, SLACK_LIMITS.sectionText) };
}

export function section(text: string): SectionBlock {
  return { type: 'section', text: mrkdwn(text) };
}

/** A context block of one line: its parts joined with ` · ` (one element, so Slack wraps it as text). */
export function contextLine(parts: readonly string[]): ContextBlock {
  return { type: 'context', elements: [mrkdwn(parts.filter((p) => p !== '').join(' · '))] };
}
