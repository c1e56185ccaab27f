/**
 * The Web API methods of the local Slack and the rules real Slack applies to them:
 * scopes, membership, archived channels, channel IDs vs names, message validation.
 * Every answer is HTTP 200 with `{ ok, ... }`; errors are `{ ok: false, error }`.
 */
import { BOT, TEAM, type Channel, type MessageMetadata, type MessageVersion, type StoredMessage, type TokenSpec, type Workspace } from './workspace.js';

export type Params = Record<string, unknown>;
export type ApiBody = { ok: boolean; error?: string; [key: string]: unknown };

export interface MethodContext {
  ws: Workspace;
  token: TokenSpec;
  params: Params;
}

/** What a handler answers, plus facts for the request log. */
export interface MethodResult {
  body: ApiBody;
  channelId?: string;
  ts?: string;
}

const MAX_BLOCKS = 50;
const MAX_SECTION_TEXT = 3000;
const MAX_FIELDS = 10;
const MAX_FIELD_TEXT = 2000;
const MAX_HEADER_TEXT = 150;
const MAX_BLOCKS_TEXT = 12000;
const MAX_TEXT = 40000;
const MAX_ATTACHMENTS = 100;

function fail(error: string, extra: Record<string, unknown> = {}): MethodResult {
  return { body: { ok: false, error, ...extra } };
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

/** Form bodies carry JSON-encoded arrays and objects as strings. */
function json(v: unknown): { ok: true; value: unknown } | { ok: false } {
  if (v === undefined) return { ok: true, value: undefined };
  if (typeof v !== 'string') return { ok: true, value: v };
  try {
    return { ok: true, value: JSON.parse(v) };
  } catch {
    return { ok: false };
  }
}

function needScope(token: TokenSpec, scope: string): MethodResult | null {
  const scopes = token.scopes ?? [];
  if (scopes.includes(scope)) return null;
  return fail('missing_scope', { needed: scope, provided: scopes.join(',') });
}

/** Can the bot write into this channel? Private channels are invisible unless a member. */
function writable(ch: Channel, token: TokenSpec): MethodResult | null {
  if (ch.private && !ch.member) return fail('channel_not_found');
  if (ch.archived) return fail('is_archived');
  if (!ch.member && !(token.scopes ?? []).includes('chat:write.public')) return fail('not_in_channel');
  return null;
}

function textOf(v: unknown): string {
  if (v !== null && typeof v === 'object' && typeof (v as { text?: unknown }).text === 'string') return (v as { text: string }).text;
  return '';
}

/** Block Kit checks Slack applies (a subset: counts and text sizes). */
function validateBlocks(blocks: unknown, pointer: string): { errors: string[]; textChars: number } {
  const errors: string[] = [];
  let textChars = 0;
  if (!Array.isArray(blocks)) return { errors: [`must be an array [json-pointer:${pointer}]`], textChars };
  if (blocks.length > MAX_BLOCKS) errors.push(`must be less than ${MAX_BLOCKS + 1} items [json-pointer:${pointer}]`);
  blocks.forEach((block: unknown, i) => {
    const at = `${pointer}/${i}`;
    if (block === null || typeof block !== 'object' || typeof (block as { type?: unknown }).type !== 'string') {
      errors.push(`missing required field: type [json-pointer:${at}]`);
      return;
    }
    const b = block as { type: string; text?: unknown; fields?: unknown; elements?: unknown };
    const text = textOf(b.text);
    textChars += text.length;
    if (b.type === 'section') {
      if (text.length > MAX_SECTION_TEXT) errors.push(`must be less than ${MAX_SECTION_TEXT + 1} characters [json-pointer:${at}/text/text]`);
      if (Array.isArray(b.fields)) {
        if (b.fields.length > MAX_FIELDS) errors.push(`must be less than ${MAX_FIELDS + 1} items [json-pointer:${at}/fields]`);
        b.fields.forEach((f: unknown, j) => {
          const ft = textOf(f);
          textChars += ft.length;
          if (ft.length > MAX_FIELD_TEXT) errors.push(`must be less than ${MAX_FIELD_TEXT + 1} characters [json-pointer:${at}/fields/${j}/text]`);
        });
      }
    } else if (b.type === 'header' && text.length > MAX_HEADER_TEXT) {
      errors.push(`must be less than ${MAX_HEADER_TEXT + 1} characters [json-pointer:${at}/text/text]`);
    }
    if (Array.isArray(b.elements)) for (const e of b.elements) textChars += textOf(e).length;
  });
  return { errors, textChars };
}

type Content = { ok: true; content: Omit<MessageVersion, 'at'>; metadata?: MessageMetadata; warning?: string } | { ok: false; result: MethodResult };

/** Reads and validates text, blocks, attachments and metadata like chat.postMessage / chat.update. */
function readContent(params: Params, requireSomething: boolean): Content {
  const blocksIn = json(params['blocks']);
  if (!blocksIn.ok) return { ok: false, result: fail('invalid_blocks_format') };
  const attachmentsIn = json(params['attachments']);
  if (!attachmentsIn.ok) return { ok: false, result: fail('invalid_attachments') };
  const metadataIn = json(params['metadata']);
  if (!metadataIn.ok) return { ok: false, result: fail('invalid_metadata_format') };
  let text = str(params['text']) ?? '';
  const blocks = blocksIn.value;
  const attachments = attachmentsIn.value;
  const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
  const hasAttachments = Array.isArray(attachments) && attachments.length > 0;
  if (requireSomething && text === '' && !hasBlocks && !hasAttachments) return { ok: false, result: fail('no_text') };

  const errors: string[] = [];
  let blockText = 0;
  if (blocks !== undefined) {
    const v = validateBlocks(blocks, '/blocks');
    errors.push(...v.errors);
    blockText += v.textChars;
  }
  if (attachments !== undefined) {
    if (!Array.isArray(attachments)) return { ok: false, result: fail('invalid_attachments') };
    if (attachments.length > MAX_ATTACHMENTS) return { ok: false, result: fail('too_many_attachments') };
    attachments.forEach((a: unknown, i) => {
      const ab = a !== null && typeof a === 'object' ? (a as { blocks?: unknown }).blocks : undefined;
      if (ab === undefined) return;
      const v = validateBlocks(ab, `/attachments/${i}/blocks`);
      errors.push(...v.errors);
      blockText += v.textChars;
    });
    // Why: the attachments as a whole are bounded too; Slack answers msg_too_long.
    if (JSON.stringify(attachments).length > MAX_TEXT) return { ok: false, result: fail('msg_too_long') };
  }
  if (errors.length > 0) {
    return { ok: false, result: fail('invalid_blocks', { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } }) };
  }
  if (blockText > MAX_BLOCKS_TEXT) return { ok: false, result: fail('msg_blocks_too_long') };

  let warning: string | undefined;
  if (text.length > MAX_TEXT) {
    // Slack truncates very long text and warns rather than failing.
    text = text.slice(0, MAX_TEXT);
    warning = 'message_truncated';
  }
  const content: Omit<MessageVersion, 'at'> = { text };
  if (Array.isArray(blocks)) content.blocks = blocks;
  if (Array.isArray(attachments)) content.attachments = attachments;
  const out: Content = { ok: true, content };
  const md = metadataIn.value;
  if (md !== undefined) {
    const m = md as Partial<MessageMetadata> | null;
    if (m === null || typeof m.event_type !== 'string' || m.event_payload === null || typeof m.event_payload !== 'object') {
      return { ok: false, result: fail('invalid_metadata_format') };
    }
    out.metadata = { event_type: m.event_type, event_payload: m.event_payload };
  }
  if (warning !== undefined) out.warning = warning;
  return out;
}

/** The message object Slack answers with. */
export function messageJson(m: StoredMessage, withMetadata: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: 'message',
    subtype: 'bot_message',
    text: m.text,
    user: BOT.userId,
    bot_id: BOT.botId,
    ts: m.ts,
    team: TEAM.id,
  };
  if (m.blocks !== undefined) out['blocks'] = m.blocks;
  if (m.attachments !== undefined) out['attachments'] = m.attachments;
  if (m.threadTs !== undefined) out['thread_ts'] = m.threadTs;
  if (m.replies.length > 0) {
    out['thread_ts'] = m.ts;
    out['reply_count'] = m.replies.length;
  }
  if (m.history.length > 1) out['edited'] = { user: BOT.userId, ts: m.ts };
  if (withMetadata && m.metadata !== undefined) out['metadata'] = m.metadata;
  return out;
}

function withWarning(body: ApiBody, warning: string | undefined): ApiBody {
  if (warning === undefined) return body;
  return { ...body, warning, response_metadata: { warnings: [warning] } };
}

function postMessage({ ws, token, params }: MethodContext): MethodResult {
  const scope = needScope(token, 'chat:write');
  if (scope) return scope;
  const channelArg = str(params['channel']);
  if (channelArg === undefined || channelArg === '') return fail('channel_not_found');
  const ch = ws.resolve(channelArg);
  if (ch === undefined) return fail('channel_not_found');
  const denied = writable(ch, token);
  if (denied) return { ...denied, channelId: ch.id };
  const content = readContent(params, true);
  if (!content.ok) return { ...content.result, channelId: ch.id };
  let parent: StoredMessage | undefined;
  const threadTs = str(params['thread_ts']);
  if (threadTs !== undefined && threadTs !== '') {
    parent = ws.message(ch.id, threadTs);
    // Replies to replies attach to the thread's parent, as in Slack.
    if (parent?.threadTs !== undefined) parent = ws.message(ch.id, parent.threadTs);
    if (parent === undefined) return { ...fail('thread_not_found'), channelId: ch.id };
  }
  const extra: { metadata?: MessageMetadata; parent?: StoredMessage; replyBroadcast?: boolean } = { replyBroadcast: bool(params['reply_broadcast']) };
  if (content.metadata !== undefined) extra.metadata = content.metadata;
  if (parent !== undefined) extra.parent = parent;
  const m = ws.post(ch, content.content, extra);
  return { body: withWarning({ ok: true, channel: ch.id, ts: m.ts, message: messageJson(m, true) }, content.warning), channelId: ch.id, ts: m.ts };
}

function update({ ws, token, params }: MethodContext): MethodResult {
  const scope = needScope(token, 'chat:write');
  if (scope) return scope;
  const channelArg = str(params['channel']) ?? '';
  // chat.update takes the channel ID only: a name is not found.
  const ch = ws.channel(channelArg);
  if (ch === undefined) return fail('channel_not_found');
  const denied = writable(ch, token);
  if (denied) return { ...denied, channelId: ch.id };
  const ts = str(params['ts']) ?? '';
  const m = ws.message(ch.id, ts);
  if (m === undefined) return { ...fail('message_not_found'), channelId: ch.id, ts };
  const content = readContent(params, true);
  if (!content.ok) return { ...content.result, channelId: ch.id, ts };
  ws.update(m, content.content, content.metadata);
  return {
    body: withWarning({ ok: true, channel: ch.id, ts: m.ts, text: m.text, message: messageJson(m, true) }, content.warning),
    channelId: ch.id,
    ts: m.ts,
  };
}

function channelJson(ch: Channel): Record<string, unknown> {
  return {
    id: ch.id,
    name: ch.name,
    is_channel: !ch.private,
    is_group: ch.private,
    is_private: ch.private,
    is_archived: ch.archived,
    is_member: ch.member,
  };
}

function join({ ws, token, params }: MethodContext): MethodResult {
  const scope = needScope(token, 'channels:join');
  if (scope) return scope;
  const ch = ws.channel(str(params['channel']) ?? '');
  if (ch === undefined || ch.private) return fail('channel_not_found');
  if (ch.archived) return { ...fail('is_archived'), channelId: ch.id };
  const already = ch.member;
  ch.member = true;
  const body: ApiBody = { ok: true, channel: channelJson(ch) };
  if (already) body['warning'] = 'already_in_channel';
  return { body, channelId: ch.id };
}

function list({ ws, token, params }: MethodContext): MethodResult {
  const scope = needScope(token, 'channels:read');
  if (scope) return scope;
  const excludeArchived = bool(params['exclude_archived']);
  const types = (str(params['types']) ?? 'public_channel').split(',');
  const limit = Math.min(1000, Math.max(1, Number(str(params['limit']) ?? 100) || 100));
  const start = Number(str(params['cursor']) ?? 0) || 0;
  const all = ws
    .channels()
    .filter((c) => !(excludeArchived && c.archived))
    .filter((c) => (c.private ? types.includes('private_channel') && c.member : types.includes('public_channel')));
  const page = all.slice(start, start + limit);
  const next = start + limit < all.length ? String(start + limit) : '';
  return { body: { ok: true, channels: page.map(channelJson), response_metadata: { next_cursor: next } } };
}

function history({ ws, token, params }: MethodContext): MethodResult {
  const ch = ws.channel(str(params['channel']) ?? '');
  if (ch === undefined || (ch.private && !ch.member)) return fail('channel_not_found');
  const scope = needScope(token, ch.private ? 'groups:history' : 'channels:history');
  if (scope) return { ...scope, channelId: ch.id };
  if (!ch.member) return { ...fail('not_in_channel'), channelId: ch.id };
  const limit = Math.min(999, Math.max(1, Number(str(params['limit']) ?? 100) || 100));
  const oldest = Number(str(params['oldest']) ?? 0) || 0;
  const latest = Number(str(params['latest']) ?? Infinity) || Infinity;
  const withMetadata = bool(params['include_all_metadata']);
  const visible: StoredMessage[] = [];
  for (const m of ws.messages(ch.id)) {
    visible.push(m);
    for (const r of m.replies) if (r.replyBroadcast === true) visible.push(r);
  }
  const inRange = visible.filter((m) => Number(m.ts) >= oldest && Number(m.ts) <= latest).sort((a, b) => Number(b.ts) - Number(a.ts));
  const page = inRange.slice(0, limit);
  return {
    body: { ok: true, messages: page.map((m) => messageJson(m, withMetadata)), has_more: inRange.length > limit, pin_count: 0 },
    channelId: ch.id,
  };
}

function authTest(): MethodResult {
  return {
    body: { ok: true, url: TEAM.url, team: TEAM.name, user: BOT.name, team_id: TEAM.id, user_id: BOT.userId, bot_id: BOT.botId, is_enterprise_install: false },
  };
}

export const METHODS: Record<string, (ctx: MethodContext) => MethodResult> = {
  'auth.test': authTest,
  'chat.postMessage': postMessage,
  'chat.update': update,
  'conversations.join': join,
  'conversations.list': list,
  'conversations.history': history,
};
