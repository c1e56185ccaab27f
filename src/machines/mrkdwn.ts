/**
 * Safe building blocks for Slack mrkdwn. Every string that comes from the cluster (names,
 * annotation values, container and event messages, the cluster name) goes through one of
 * these before it reaches a message, so a value such as `<!channel>` or `<@U123>` is shown
 * as text and never pings anyone.
 *
 * Slack's rule: replace only `&`, `<` and `>` with `&amp;`, `&lt;`, `&gt;`; nothing else is
 * entity-encoded. Backticks cannot be escaped in mrkdwn, so inside code spans and blocks they
 * are replaced with a look-alike (U+02CB) to stop a message from closing the block early.
 *
 * Pure: no I/O.
 */

/** Stands in for a backtick inside code: looks the same, cannot close a code span. */
export const BACKTICK_STANDIN = '\u02CB';

/** Appended where text was cut. */
export const ELLIPSIS = '…';

/** Escapes `&`, `<`, `>` for Slack mrkdwn (and plain `text`, which Slack parses the same way). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, (ch) => (ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : '&gt;'));
}

/** The length `escapeMrkdwn(text)` will have, in UTF-16 units (what Slack's limits count at most). */
export function escapedLength(text: string): number {
  let n = 0;
  for (const ch of text) n += escapedCharLength(ch);
  return n;
}

function escapedCharLength(ch: string): number {
  if (ch === '&') return 5;
  if (ch === '<' || ch === '>') return 4;
  return ch.length;
}

/** A raw (unescaped) prefix of a string and how much of it was left out. */
export interface Clipped {
  /** The kept prefix, still raw: escape it before use. */
  text: string;
  /** Characters (code points) left out; 0 when the whole string fitted. */
  omitted: number;
}

/**
 * The longest prefix of `raw` whose escaped form is at most `maxEscapedLength` UTF-16 units.
 * Cuts between code points, never inside an emoji's surrogate pair, and never inside an
 * entity (escaping happens after the cut).
 */
export function clipRaw(raw: string, maxEscapedLength: number): Clipped {
  const budget = Math.max(0, Math.floor(maxEscapedLength));
  let used = 0;
  let end = 0;
  let omitted = 0;
  let cutting = false;
  for (const ch of raw) {
    if (cutting) {
      omitted++;
      continue;
    }
    const cost = escapedCharLength(ch);
    if (used + cost > budget) {
      cutting = true;
      omitted++;
      continue;
    }
    used += cost;
    end += ch.length;
  }
  return { text: raw.slice(0, end), omitted };
}

/** The visible marker for text that was cut. */
export function truncationMarker(omitted: number): string {
  return `${ELLIPSIS} (truncated, ${omitted} more character${omitted === 1 ? '' : 's'})`;
}

/**
 * Escapes `raw` and keeps it within `maxLength` (escaped UTF-16 units) including an ellipsis
 * when it had to be cut. For short inline values (names, reasons) where a count would be noise.
 */
export function escapeClipped(raw: string, maxLength: number): string {
  if (escapedLength(raw) <= maxLength) return escapeMrkdwn(raw);
  return escapeMrkdwn(clipRaw(raw, maxLength - ELLIPSIS.length).text) + ELLIPSIS;
}

function neutraliseBackticks(text: string): string {
  return text.replace(/`/g, BACKTICK_STANDIN);
}

/**
 * Inline code: `` `text` ``, escaped, backticks neutralised, line breaks flattened (an inline
 * code span cannot hold them). Values longer than `maxLength` are cut with an ellipsis.
 */
export function code(text: string, maxLength = 300): string {
  const flat = neutraliseBackticks(text).replace(/[\r\n\t]+/g, ' ');
  if (flat.trim() === '') return '(empty)';
  return '`' + escapeClipped(flat, maxLength) + '`';
}

/**
 * A code block: ```` ```text``` ````, escaped, backticks neutralised so the text cannot end
 * the block. Trailing blank lines are dropped; an empty text gives an empty string.
 */
export function codeBlock(text: string): string {
  const body = neutraliseBackticks(text).replace(/\s+$/u, '');
  if (body === '') return '';
  return '```' + escapeMrkdwn(body) + '```';
}

/** http(s) URLs that can sit inside `<url|label>` without changing its meaning. */
export function isLinkableUrl(url: string): boolean {
  // No whitespace, control characters, `|`, `<`, `>` or backticks: each would end or bend the link syntax.
  if (!/^https?:\/\/[^\s|<>`\p{Cc}]+$/iu.test(url)) return false;
  if (!URL.canParse(url)) return false;
  return new URL(url).hostname !== '';
}

/**
 * A Slack link `<url|label>` when `url` is a plain http(s) URL; otherwise just the escaped
 * label (no link), so an annotation can never smuggle `<!channel>` or a `javascript:` URL in.
 */
export function link(url: string, label: string): string {
  const safeLabel = escapeMrkdwn(label.replace(/[\r\n|]+/g, ' '));
  if (!isLinkableUrl(url)) return safeLabel;
  return `<${url.replace(/&/g, '&amp;')}|${safeLabel}>`;
}

/**
 * Last line of defence for a limit: cuts already-rendered mrkdwn to `max` chars with a marker.
 * Never cuts inside an entity (`&lt;`), and closes a code block left open. Callers budget
 * raw values first (clipRaw, code's maxLength), so real messages rarely reach it.
 */
export function fitMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  // Room for the widest possible marker, its line break and a closing code fence.
  const reserve = truncationMarker(text.length).length + 1 + 3;
  let cut = text.slice(0, Math.max(0, max - reserve));
  const amp = cut.lastIndexOf('&');
  if (amp !== -1 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  const open = cut.lastIndexOf('<');
  if (open !== -1 && open > cut.lastIndexOf('>')) cut = cut.slice(0, open);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  const omitted = [...text.slice(cut.length)].length;
  if ((cut.match(/```/g)?.length ?? 0) % 2 === 1) cut += '```';
  return `${cut}\n${truncationMarker(omitted)}`;
}
