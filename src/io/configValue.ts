/**
 * One raw option value (a flag as cac parsed it, or an environment variable's text) checked
 * and converted to its kind. The error names where the value came from and what is allowed.
 */

/** A bad flag or environment value: the message names the option and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type ValueKind = 'string' | 'boolean' | 'integer' | 'enum' | 'list';

/** What a value of one option may be. */
export interface ValueRule {
  kind: ValueKind;
  values?: readonly string[];
  min?: number;
  max?: number;
  /** A list's own check; throws with what is wrong (for example a regex that does not compile). */
  check?: (items: string[]) => unknown;
  default: unknown;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off', '']);

/** `where` names the source in errors: `--metrics-port` or `environment variable HERMOD_LEVEL`. */
export function parseValue<T>(rule: ValueRule & { default: T }, raw: unknown, where: string, from: 'flag' | 'env'): T {
  if (rule.kind === 'list') return parseList(rule, where, raw, from) as T;
  // cac turns numeric-looking values into numbers and repeated flags into arrays.
  if (Array.isArray(raw)) throw new ConfigError(`${where} was given more than once`);
  const text = typeof raw === 'string' ? raw.trim() : String(raw);
  switch (rule.kind) {
    case 'boolean': {
      if (typeof raw === 'boolean') return raw as T;
      const lower = text.toLowerCase();
      if (TRUE.has(lower)) return true as T;
      if (FALSE.has(lower)) return false as T;
      throw new ConfigError(`${where} must be true or false, got "${text}"`);
    }
    case 'integer': {
      const n = typeof raw === 'number' ? raw : /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isInteger(n) || n < (rule.min ?? -Infinity) || n > (rule.max ?? Infinity)) {
        throw new ConfigError(`${where} must be a whole number from ${rule.min} to ${rule.max}, got "${text}"`);
      }
      return n as T;
    }
    case 'enum': {
      const lower = text.toLowerCase();
      if (!rule.values?.includes(lower)) {
        throw new ConfigError(`${where} must be one of ${rule.values?.join(', ')}, got "${text}"`);
      }
      return lower as T;
    }
    case 'string':
      return (text === '' ? rule.default : text) as T;
  }
}

/** A repeatable flag (cac gives a string, or an array when repeated) or a newline-separated variable. */
function parseList(rule: ValueRule, where: string, raw: unknown, from: 'flag' | 'env'): string[] {
  const items = (Array.isArray(raw) ? raw : from === 'env' ? String(raw).split('\n') : [raw]).map((v) => String(v).trim()).filter((v) => v !== '');
  try {
    rule.check?.(items);
  } catch (err) {
    throw new ConfigError(`${where}: ${(err as Error).message}`);
  }
  return items;
}
