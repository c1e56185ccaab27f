/**
 * The demo's terminal view: one line per change in the local Slack (a message posted, a
 * new version of it, a thread reply), read by polling the Slack server's state in-process.
 */
import type { SlackServer, StoredMessage } from '../test/support/slack-server.js';

/** The emoji Hermod uses, as a terminal shows them. */
const EMOJI: Record<string, string> = {
  hourglass_flowing_sand: '⏳',
  double_vertical_bar: '⏸',
  warning: '⚠️',
  x: '❌',
  white_check_mark: '✅',
  fast_forward: '⏩',
  wastebasket: '🗑',
  no_bell: '🔕',
  wave: '👋',
};

/** Slack mrkdwn as plain terminal text: links show their label, entities are decoded, emoji drawn. */
export function plainText(mrkdwn: string): string {
  return mrkdwn
    .replace(/<([^<>|]*)\|([^<>]*)>/g, '$2')
    .replace(/<([^<>]*)>/g, '$1')
    .replace(/:([a-z0-9_+-]+):/g, (all, name: string) => EMOJI[name] ?? all)
    .replace(/&(lt|gt|amp);/g, (_, e: string) => (e === 'lt' ? '<' : e === 'gt' ? '>' : '&'));
}

function colourOf(m: { attachments?: unknown[] }): string | undefined {
  return (m.attachments?.[0] as { color?: string } | undefined)?.color;
}

/** A small colour swatch for a #rrggbb colour (24-bit ANSI), or a plain marker without colour. */
function swatch(colour: string | undefined, ansi: boolean): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour ?? '');
  if (!ansi || m === null) return '▌';
  const [r, g, b] = [m[1], m[2], m[3]].map((x) => parseInt(x ?? '0', 16));
  return `\x1b[38;2;${r};${g};${b}m▌\x1b[0m`;
}

export interface SlackWatch {
  /** Read the state now and print what changed (also done every `intervalMs`). */
  flush(): void;
  stop(): void;
  /** Lines printed so far. */
  readonly changes: number;
}

/**
 * Prints `[+12.3s] #channel  posted|edit N|reply|reply edit N  <text>` for every change in the local
 * Slack. `ansi` colours the swatch with the message's colour bar.
 */
export function watchSlack(slack: SlackServer, print: (line: string) => void, options: { intervalMs?: number; ansi?: boolean } = {}): SlackWatch {
  const started = Date.now();
  /** Per message: versions printed, and per thread reply the versions printed. */
  const seen = new Map<string, { versions: number; replies: number[] }>();
  const ansi = options.ansi ?? false;
  let changes = 0;

  const line = (channel: string, what: string, m: Pick<StoredMessage, 'text' | 'attachments'>): void => {
    changes += 1;
    const at = `+${((Date.now() - started) / 1000).toFixed(1)}s`.padStart(7);
    print(`${at} ${`#${channel}`.padEnd(10)} ${what.padEnd(8)} ${swatch(colourOf(m), ansi)} ${plainText(m.text)}`);
  };

  const flush = (): void => {
    for (const channel of slack.state().channels) {
      for (const message of channel.messages) {
        const key = `${channel.id}/${message.ts}`;
        const known = seen.get(key) ?? { versions: 0, replies: [] };
        for (let i = known.versions; i < message.history.length; i++) {
          const version = message.history[i];
          if (version !== undefined) line(channel.name, i === 0 ? 'posted' : `edit ${i}`, version);
        }
        // Hermod edits its one reply when the thread's content changes (a crash log read late).
        message.replies.forEach((reply, r) => {
          for (let i = known.replies[r] ?? 0; i < reply.history.length; i++) {
            const version = reply.history[i];
            if (version !== undefined) line(channel.name, i === 0 ? 'reply' : `reply edit ${i}`, version);
          }
        });
        seen.set(key, { versions: message.history.length, replies: message.replies.map((reply) => reply.history.length) });
      }
    }
  };

  const timer = setInterval(flush, options.intervalMs ?? 250);
  return {
    flush,
    stop: () => clearInterval(timer),
    get changes() {
      return changes;
    },
  };
}
