/**
 * WHO is mentioned when a rollout fails: the pure rule behind the `hermod.uswitch.com/mention`
 * annotation (issue 13). A value lists Slack user IDs (`U…`, `W…`) and user-group IDs (`S…`),
 * separated by commas or blanks; the words `here` and `channel` are allowed only with
 * `--allow-broadcast-mentions`. Anything else (a name, `@team`, `<!everyone>`, any markup)
 * refuses the WHOLE value: the rollout is reported without a mention, and the watch layer
 * records why (a Warning Event on the object, a log line).
 *
 * The output is Slack markup built here from validated IDs only, never from the raw value, so
 * an annotation cannot smuggle anything else into a message.
 */

/** What Hermod accepts beyond IDs. */
export interface MentionPolicy {
  /** `--allow-broadcast-mentions`: `here` and `channel` may ping a whole channel. */
  allowBroadcast: boolean;
}

export type MentionParse =
  | { ok: true; mentions: string[] }
  /** `reason` says which part was refused and why, in words fit for an Event and a log line. */
  | { ok: false; reason: string };

/** Most mentions one value may list: past a handful, a mention is a broadcast in disguise. */
export const MAX_MENTIONS = 10;
/** Longest value read; a longer one is refused without being parsed. */
export const MAX_MENTION_VALUE = 512;

/** Slack IDs: a type letter, then upper-case letters and digits (real ones are 9 to 11 long). */
const USER_ID = /^[UW][A-Z0-9]{6,20}$/;
const GROUP_ID = /^S[A-Z0-9]{6,20}$/;
const BROADCASTS = new Set(['here', 'channel']);

/** The markup this module emits, and only it: what a renderer may put into a message unescaped. */
const MENTION_TOKEN = /^(?:<@[UW][A-Z0-9]{6,20}>|<!subteam\^S[A-Z0-9]{6,20}>|<!here>|<!channel>)$/;

/** True for a mention as `parseMentions` emits it (renderers check before they trust one). */
export function isMentionToken(token: string): boolean {
  return MENTION_TOKEN.test(token);
}

/**
 * Parses an annotation value. Blank is no mention (ok, empty). Duplicates are kept once, in
 * the order given.
 */
export function parseMentions(value: string, policy: MentionPolicy): MentionParse {
  if (value.length > MAX_MENTION_VALUE) return { ok: false, reason: `the value is longer than ${MAX_MENTION_VALUE} characters` };
  const parts = value.split(/[\s,]+/).filter((p) => p !== '');
  const mentions: string[] = [];
  for (const part of parts) {
    const mention = mentionOf(part, policy);
    if (typeof mention !== 'string') return { ok: false, reason: `${quote(part)} ${mention.refused}` };
    if (!mentions.includes(mention)) mentions.push(mention);
  }
  if (mentions.length > MAX_MENTIONS) return { ok: false, reason: `it lists ${mentions.length} mentions; at most ${MAX_MENTIONS} are allowed` };
  return { ok: true, mentions };
}

function mentionOf(part: string, policy: MentionPolicy): string | { refused: string } {
  if (USER_ID.test(part)) return `<@${part}>`;
  if (GROUP_ID.test(part)) return `<!subteam^${part}>`;
  if (BROADCASTS.has(part)) {
    return policy.allowBroadcast ? `<!${part}>` : { refused: 'pings the whole channel: it is allowed only with --allow-broadcast-mentions' };
  }
  return { refused: 'is not a Slack user ID (U…, W…) or user-group ID (S…)' };
}

/** A refused part, quoted and cut short: it came from the cluster and goes into an Event and a log line. */
function quote(part: string): string {
  const short = part.length > 40 ? `${part.slice(0, 39)}…` : part;
  return JSON.stringify(short);
}
