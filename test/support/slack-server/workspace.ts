/**
 * The state of the local Slack workspace: channels, tokens, messages with their full edit
 * history and thread replies. Pure bookkeeping; the HTTP layer and the rules live elsewhere.
 */

/** How to create a channel. */
export interface ChannelSpec {
  name: string;
  /** Defaults to a generated `C...` ID (`G...` for private channels). */
  id?: string;
  archived?: boolean;
  /** Whether the bot is a member (default true). */
  member?: boolean;
  private?: boolean;
}

export interface Channel {
  id: string;
  name: string;
  archived: boolean;
  member: boolean;
  private: boolean;
}

/** A token the workspace knows, with its scopes. */
export interface TokenSpec {
  token: string;
  scopes?: string[];
  revoked?: boolean;
}

/** One version of a message: as posted, then after each chat.update. */
export interface MessageVersion {
  at: number;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
}

export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

export interface StoredMessage {
  ts: string;
  channel: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  metadata?: MessageMetadata;
  /** Set on thread replies: the parent's ts. */
  threadTs?: string;
  replyBroadcast?: boolean;
  postedAt: number;
  /** Every version, oldest first; the last one is what the channel shows. */
  history: MessageVersion[];
  /** Thread replies, oldest first (top-level messages only). */
  replies: StoredMessage[];
}

export const DEFAULT_TOKEN = 'xoxb-hermod-local-test';
export const DEFAULT_SCOPES = ['chat:write', 'channels:join', 'channels:read', 'channels:history', 'groups:history'];
export const TEAM = { id: 'T0HERMOD', name: 'hermod-local', url: 'https://hermod-local.slack.com/' };
export const BOT = { userId: 'U0HERMODBOT', botId: 'B0HERMODBOT', name: 'hermod' };

export class Workspace {
  private readonly channelsById = new Map<string, Channel>();
  private readonly tokens = new Map<string, TokenSpec>();
  private readonly messagesByChannel = new Map<string, StoredMessage[]>();
  private readonly messagesByTs = new Map<string, StoredMessage>();
  private nextChannel = 1;
  private lastMicros = 0;

  constructor(private readonly now: () => number) {}

  addToken(spec: TokenSpec): void {
    this.tokens.set(spec.token, { scopes: DEFAULT_SCOPES, revoked: false, ...spec });
  }

  revokeToken(token: string): void {
    const spec = this.tokens.get(token);
    if (spec !== undefined) spec.revoked = true;
  }

  token(token: string): TokenSpec | undefined {
    return this.tokens.get(token);
  }

  createChannel(spec: ChannelSpec): Channel {
    const name = spec.name.replace(/^#/, '');
    if (this.byName(name) !== undefined) throw new Error(`channel #${name} already exists`);
    const isPrivate = spec.private ?? false;
    const id = spec.id ?? `${isPrivate ? 'G' : 'C'}0${String(this.nextChannel++).padStart(8, '0')}`;
    if (this.channelsById.has(id)) throw new Error(`channel ${id} already exists`);
    const channel: Channel = { id, name, archived: spec.archived ?? false, member: spec.member ?? true, private: isPrivate };
    this.channelsById.set(id, channel);
    this.messagesByChannel.set(id, []);
    return channel;
  }

  channel(id: string): Channel | undefined {
    return this.channelsById.get(id);
  }

  byName(name: string): Channel | undefined {
    for (const c of this.channelsById.values()) if (c.name === name) return c;
    return undefined;
  }

  /** Resolves an ID, `#name` or `name` (what chat.postMessage accepts). */
  resolve(idOrName: string): Channel | undefined {
    return this.channelsById.get(idOrName) ?? this.byName(idOrName.replace(/^#/, ''));
  }

  channels(): Channel[] {
    return [...this.channelsById.values()];
  }

  /** A unique, increasing ts "<seconds>.<6 digits>" (Slack's message ID). */
  nextTs(): string {
    const micros = Math.max(this.lastMicros + 1, Math.floor(this.now() * 1000));
    this.lastMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  post(channel: Channel, content: Omit<MessageVersion, 'at'>, extra: { metadata?: MessageMetadata; parent?: StoredMessage; replyBroadcast?: boolean }): StoredMessage {
    const at = this.now();
    const message: StoredMessage = {
      ts: this.nextTs(),
      channel: channel.id,
      ...content,
      postedAt: at,
      history: [{ at, ...content }],
      replies: [],
    };
    if (extra.metadata !== undefined) message.metadata = extra.metadata;
    if (extra.parent !== undefined) {
      message.threadTs = extra.parent.ts;
      if (extra.replyBroadcast === true) message.replyBroadcast = true;
      extra.parent.replies.push(message);
    } else {
      this.messagesByChannel.get(channel.id)?.push(message);
    }
    this.messagesByTs.set(`${channel.id}/${message.ts}`, message);
    return message;
  }

  message(channelId: string, ts: string): StoredMessage | undefined {
    return this.messagesByTs.get(`${channelId}/${ts}`);
  }

  update(message: StoredMessage, content: Omit<MessageVersion, 'at'>, metadata?: MessageMetadata): void {
    const at = this.now();
    message.text = content.text;
    if (content.blocks !== undefined) message.blocks = content.blocks;
    else delete message.blocks;
    if (content.attachments !== undefined) message.attachments = content.attachments;
    else delete message.attachments;
    if (metadata !== undefined) message.metadata = metadata;
    message.history.push({ at, ...content });
  }

  /** Top-level messages of a channel, oldest first, each with its history and replies. */
  messages(channelId: string): StoredMessage[] {
    return this.messagesByChannel.get(channelId) ?? [];
  }
}
