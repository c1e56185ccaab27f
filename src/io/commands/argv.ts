/**
 * The command line checked before cac parses it, so that mistakes are named as typed:
 * - an unknown command is an error with a suggestion, never the notifier starting (`hermod chek`
 *   on a laptop with production credentials would be a second notifier posting; issue 14);
 * - an unknown flag is named as typed (`--bogus-flag`, not cac's camelCased `--bogusFlag`);
 * - a negative number after a flag that takes a value is that flag's value (cac would read
 *   `-5` as an unknown option), so it reaches the range check with its real message.
 * Pure: argv in, normalised argv or an error message out.
 */

export interface CommandSpec {
  name: string;
  /** Long flag names (no dashes) that take a value. */
  valueFlags: readonly string[];
  /** Long flag names (no dashes) that take none. */
  booleanFlags: readonly string[];
}

/** Flags every command accepts. */
const GLOBAL_BOOLEAN = ['help', 'version'];
const SHORT = new Set(['-h', '-v']);

export type Preflight = { ok: true; argv: string[] } | { ok: false; message: string };

/** Edit distance (insertions, deletions, substitutions): enough to suggest a command or a flag. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate within a third of the word's length (at least 2 edits), or null. */
export function suggest(word: string, candidates: readonly string[]): string | null {
  const limit = Math.max(2, Math.ceil(word.length / 3));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate);
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Checks the command and its flags; returns argv with `--flag -5` joined as `--flag=-5`.
 * `defaultCommand` is the command that runs when none is named (`run`).
 */
export function preflight(argv: readonly string[], commands: readonly CommandSpec[], defaultCommand: string): Preflight {
  const names = commands.map((c) => c.name);
  // The command is the first word that is neither a flag nor a flag's value.
  let command: CommandSpec | undefined;
  const byName = (n: string) => commands.find((c) => c.name === n);
  const anyValueFlag = new Set(commands.flatMap((c) => c.valueFlags));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg.startsWith('-')) {
      if (arg.startsWith('--') && !arg.includes('=') && anyValueFlag.has(arg.slice(2))) i++;
      continue;
    }
    command = byName(arg);
    if (command === undefined) {
      const hint = suggest(arg, names);
      return {
        ok: false,
        message: `unknown command "${arg}"${hint !== null ? `: did you mean ${hint}?` : ''} Commands: ${names.join(', ')}.`,
      };
    }
    break;
  }
  command ??= byName(defaultCommand);
  if (command === undefined) throw new Error(`no command named ${defaultCommand}`);

  const out: string[] = [];
  const known = [...command.valueFlags, ...command.booleanFlags, ...GLOBAL_BOOLEAN];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (!arg.startsWith('-') || SHORT.has(arg)) {
      out.push(arg);
      continue;
    }
    const [flag = '', inlineValue] = arg.replace(/^--?/, '').split(/=(.*)/s, 2);
    const bare = flag.startsWith('no-') && command.booleanFlags.includes(flag.slice(3)) ? flag.slice(3) : flag;
    if (!arg.startsWith('--') || !known.includes(bare)) {
      const hint = suggest(bare, known);
      const where = command.name === defaultCommand ? '' : ` for ${command.name}`;
      return { ok: false, message: `unknown option ${arg.split('=')[0]}${where}${hint !== null ? `: did you mean --${hint}?` : ''}` };
    }
    const next = argv[i + 1];
    if (inlineValue === undefined && command.valueFlags.includes(flag) && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${flag}=${next}`);
      i++;
      continue;
    }
    out.push(arg);
  }
  return { ok: true, argv: out };
}
