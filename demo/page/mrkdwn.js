/**
 * Slack mrkdwn to safe HTML, for the demo page.
 *
 * Safety: every piece of text is HTML-escaped before any markup is added, and the markup
 * added is fixed (strong, em, del, code, pre, a, time, span). Slack's own entities (&lt;
 * &gt; &amp;) are decoded to characters and then escaped again, so they show as text and
 * can never become HTML. Links only keep http(s) and mailto URLs.
 */

/** The emoji Hermod uses (and a few more), as Unicode. */
const EMOJI = {
  hourglass_flowing_sand: '⏳',
  double_vertical_bar: '⏸️',
  warning: '⚠️',
  x: '❌',
  white_check_mark: '✅',
  fast_forward: '⏩',
  wastebasket: '🗑️',
  no_bell: '🔕',
  wave: '👋',
  rocket: '🚀',
};

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Slack's three entities back to characters, in one pass ("&amp;lt;" stays the text "&lt;"). */
export function decodeSlackEntities(text) {
  return String(text).replace(/&(lt|gt|amp);/g, (_, e) => (e === 'lt' ? '<' : e === 'gt' ? '>' : '&'));
}

/** Text as it reads: entities decoded, then escaped for HTML. */
function textHtml(raw) {
  return escapeHtml(decodeSlackEntities(raw));
}

/** Marks where a rendered `<...>` token goes back in (a private-use character, removed from input). */
const MARK = '\uE000';

const SAFE_URL = /^(https?:\/\/|mailto:)/i;

/** Formats `<!date^SECONDS^FORMAT|fallback>` in the reader's time zone, as Slack does. */
function dateHtml(inner) {
  const [spec, fallback = ''] = splitOnce(inner, '|');
  const seconds = Number(spec.split('^')[1]);
  const text = Number.isFinite(seconds) ? new Date(seconds * 1000).toLocaleString() : decodeSlackEntities(fallback);
  return `<time>${escapeHtml(text)}</time>`;
}

function splitOnce(text, separator) {
  const i = text.indexOf(separator);
  return i === -1 ? [text] : [text.slice(0, i), text.slice(i + 1)];
}

/** One `<...>` token: a link, a mention, a date. Unknown or unsafe ones show as text. */
function angleHtml(inner) {
  if (inner.startsWith('!date^')) return dateHtml(inner);
  const [target, label] = splitOnce(inner, '|');
  if (inner.startsWith('!') || inner.startsWith('@') || inner.startsWith('#')) {
    const name = label ?? target.replace(/^!/, '').replace(/\^.*$/, '');
    return `<span class="mention">${textHtml(`${inner.startsWith('#') ? '#' : '@'}${name.replace(/^[@#]/, '')}`)}</span>`;
  }
  const url = decodeSlackEntities(target);
  const shown = label === undefined ? url : decodeSlackEntities(label);
  if (!SAFE_URL.test(url)) return escapeHtml(shown);
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(shown)}</a>`;
}

/** Bold, italic and strike on already-escaped HTML (the markers are not HTML-special). */
function emphasis(html) {
  const wrap = (marker) =>
    new RegExp(`(^|[^\\w${marker}])\\${marker}(?=\\S)([^${marker}\\n]*?\\S)\\${marker}(?![\\w${marker}])`, 'g');
  return html
    .replace(wrap('*'), '$1<strong>$2</strong>')
    .replace(wrap('_'), '$1<em>$2</em>')
    .replace(wrap('~'), '$1<del>$2</del>');
}

/** Text outside code: `<...>` tokens, emoji, emphasis, line breaks. */
function inlineHtml(raw) {
  const tokens = [];
  let html = '';
  let last = 0;
  for (const m of raw.matchAll(/<([^<>\n]*)>/g)) {
    html += textHtml(raw.slice(last, m.index));
    tokens.push(angleHtml(m[1]));
    html += `${MARK}${tokens.length - 1}${MARK}`;
    last = m.index + m[0].length;
  }
  html += textHtml(raw.slice(last));
  html = html.replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] ?? all);
  html = emphasis(html).replace(/\n/g, '<br>');
  return html.replace(/\uE000(\d+)\uE000/g, (_, i) => tokens[Number(i)]);
}

/** Text between code blocks: inline code spans, and the rest. */
function spansHtml(raw) {
  let html = '';
  let last = 0;
  for (const m of raw.matchAll(/`([^`\n]+)`/g)) {
    html += inlineHtml(raw.slice(last, m.index));
    html += `<code>${textHtml(m[1])}</code>`;
    last = m.index + m[0].length;
  }
  return html + inlineHtml(raw.slice(last));
}

/** Renders Slack mrkdwn as safe HTML. */
export function renderMrkdwn(mrkdwn) {
  const raw = String(mrkdwn ?? '').replace(/\uE000/g, '');
  let html = '';
  let last = 0;
  for (const m of raw.matchAll(/```([\s\S]*?)```/g)) {
    html += spansHtml(raw.slice(last, m.index));
    html += `<pre class="code-block">${textHtml(m[1].replace(/^\n/, '').replace(/\n$/, ''))}</pre>`;
    last = m.index + m[0].length;
  }
  return html + spansHtml(raw.slice(last));
}

/** Renders a Block Kit text object (mrkdwn or plain_text) as safe HTML. */
export function renderTextObject(object) {
  if (object === null || typeof object !== 'object') return '';
  if (object.type === 'plain_text') return escapeHtml(object.text ?? '').replace(/\n/g, '<br>');
  return renderMrkdwn(object.text ?? '');
}
