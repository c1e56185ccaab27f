/* global document, fetch, setTimeout */
/**
 * The demo page: polls /state every second and renders each channel's messages the way
 * Slack shows them (colour bar, Block Kit sections and fields, context footer, thread
 * replies, "edited" marker). Everything that comes from the cluster goes through
 * ./mrkdwn.js (escape first) or escapeHtml before it reaches the DOM.
 */
import { escapeHtml, renderMrkdwn, renderTextObject } from './mrkdwn.js';

const POLL_MS = 1000;
const COLOUR = /^#?[0-9a-f]{3}(?:[0-9a-f]{3})?$/i;

function timeOf(ts) {
  const seconds = Number(String(ts).split('.')[0]);
  return Number.isFinite(seconds) ? new Date(seconds * 1000).toLocaleTimeString() : '';
}

function blockHtml(block) {
  if (block === null || typeof block !== 'object') return '';
  switch (block.type) {
    case 'section': {
      const text = block.text ? `<div class="section-text">${renderTextObject(block.text)}</div>` : '';
      const fields = Array.isArray(block.fields)
        ? `<div class="fields">${block.fields.map((f) => `<div class="field">${renderTextObject(f)}</div>`).join('')}</div>`
        : '';
      return `<div class="block section">${text}${fields}</div>`;
    }
    case 'context': {
      const elements = Array.isArray(block.elements) ? block.elements : [];
      return `<div class="block context">${elements.map((e) => `<span class="context-element">${renderTextObject(e)}</span>`).join('')}</div>`;
    }
    case 'header':
      return `<div class="block header">${escapeHtml(block.text?.text ?? '')}</div>`;
    case 'divider':
      return '<hr class="block divider">';
    default:
      return `<div class="block unknown">[${escapeHtml(block.type)} block]</div>`;
  }
}

function blocksHtml(blocks) {
  return Array.isArray(blocks) ? blocks.map(blockHtml).join('') : '';
}

function attachmentHtml(attachment) {
  const colour = typeof attachment?.color === 'string' && COLOUR.test(attachment.color) ? attachment.color : '';
  const body = Array.isArray(attachment?.blocks) && attachment.blocks.length > 0 ? blocksHtml(attachment.blocks) : renderMrkdwn(attachment?.text ?? attachment?.fallback ?? '');
  return `<div class="attachment" data-color="${escapeHtml(colour)}"><div class="bar"></div><div class="attachment-body">${body}</div></div>`;
}

function editedHtml(message) {
  const edits = Array.isArray(message.history) ? Math.max(0, message.history.length - 1) : 0;
  if (edits === 0) return '';
  return ` <span class="edited" title="edited ${edits} time${edits === 1 ? '' : 's'}">(edited ${edits} time${edits === 1 ? '' : 's'})</span>`;
}

/** One message: author line, text (or blocks), attachments, edit count. */
function messageHtml(message, kind) {
  const edits = Array.isArray(message.history) ? Math.max(0, message.history.length - 1) : 0;
  const hasBlocks = Array.isArray(message.blocks) && message.blocks.length > 0;
  // Slack shows blocks instead of `text` (then only a notification fallback) when a message has them.
  const body = hasBlocks ? blocksHtml(message.blocks) : `<div class="text">${renderMrkdwn(message.text)}</div>`;
  const attachments = Array.isArray(message.attachments) ? message.attachments.map(attachmentHtml).join('') : '';
  const colour = message.attachments?.[0]?.color ?? '';
  return `<article class="message ${kind}" data-ts="${escapeHtml(message.ts)}" data-edits="${edits}" data-color="${escapeHtml(colour)}" data-replies="${message.replies?.length ?? 0}">
    <div class="avatar" aria-hidden="true">H</div>
    <div class="content">
      <div class="meta"><span class="author">hermod</span><span class="app">APP</span><time>${escapeHtml(timeOf(message.ts))}</time>${editedHtml(message)}</div>
      ${body}${attachments}
    </div>
  </article>`;
}

function threadHtml(message) {
  const replies = Array.isArray(message.replies) ? message.replies : [];
  if (replies.length === 0) return '';
  const count = `${replies.length} repl${replies.length === 1 ? 'y' : 'ies'}`;
  return `<div class="thread"><div class="thread-summary">${count}</div>${replies.map((r) => messageHtml(r, 'reply')).join('')}</div>`;
}

function channelHtml(channel) {
  const messages = Array.isArray(channel.messages) ? channel.messages : [];
  const list =
    messages.length === 0
      ? '<p class="empty">No messages yet.</p>'
      : messages.map((m) => `<div class="entry">${messageHtml(m, 'top')}${threadHtml(m)}</div>`).join('');
  return `<section class="channel" data-channel="${escapeHtml(channel.name)}">
    <h2># ${escapeHtml(channel.name)} <span class="count">${messages.length}</span></h2>
    <div class="messages">${list}</div>
  </section>`;
}

function render(state) {
  const channels = Array.isArray(state.channels) ? state.channels : [];
  document.getElementById('channels').innerHTML = channels.map(channelHtml).join('');
  // Colours go through the CSSOM: the page's CSP forbids inline style attributes.
  for (const el of document.querySelectorAll('.attachment[data-color]')) {
    const colour = el.getAttribute('data-color');
    if (colour) el.style.setProperty('--bar', colour.startsWith('#') ? colour : `#${colour}`);
  }
  const narration = Array.isArray(state.narration) ? state.narration : [];
  document.getElementById('narration').innerHTML = narration
    .slice(-8)
    .map((line) => `<li>${escapeHtml(line)}</li>`)
    .join('');
}

let lastText = '';

async function poll() {
  const status = document.getElementById('status');
  try {
    const res = await fetch('/state', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const text = await res.text();
    if (text !== lastText) {
      lastText = text;
      render(JSON.parse(text));
    }
    status.textContent = 'live';
    status.className = 'status live';
  } catch (err) {
    status.textContent = `disconnected (${err instanceof Error ? err.message : String(err)})`;
    status.className = 'status down';
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

poll();
