/**
 * The cache a reflector keeps: for each object (keyed by uid) its resourceVersion and the
 * trimmed facts, never the whole object. Every change is emitted to one handler; an object
 * with an unchanged resourceVersion is not emitted again, so list replays and duplicate watch
 * deliveries are harmless. The list/watch loop that feeds it is in reflector.ts.
 */
import type { Logger } from '../../actors/logger.js';

/** The metadata a reflector reads from every raw object. */
export interface RawObject {
  metadata?: {
    uid?: string;
    name?: string;
    namespace?: string;
    resourceVersion?: string;
  } | null;
}

/** A change to the cache, emitted to the handler. Facts are never mutated after emission. */
export type ReflectorEvent<F> =
  | { type: 'add'; key: string; facts: F }
  | { type: 'update'; key: string; facts: F; old: F }
  | { type: 'delete'; key: string; old: F };

export interface FactStoreOptions<R extends RawObject, F> {
  /** The reflector's name, for logs. */
  name: string;
  /** Objects to keep; one that stops passing is removed (and a delete emitted). */
  filter?: (raw: R) => boolean;
  /** Raw object -> the facts kept in memory. Must be pure. */
  transform: (raw: R) => F;
  /** Receives every change; exceptions are logged and absorbed. */
  onEvent: (event: ReflectorEvent<F>) => void;
  logger: Logger;
}

interface Entry<F> {
  rv: string;
  facts: F;
}

export class FactStore<R extends RawObject, F> {
  private readonly entries = new Map<string, Entry<F>>();

  constructor(private readonly opts: FactStoreOptions<R, F>) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): F | undefined {
    return this.entries.get(key)?.facts;
  }

  *values(): IterableIterator<F> {
    for (const e of this.entries.values()) yield e.facts;
  }

  /** Drops cached objects silently (no delete events). Returns how many were dropped. */
  prune(predicate: (facts: F, key: string) => boolean): number {
    let n = 0;
    for (const [key, e] of this.entries) {
      if (predicate(e.facts, key)) {
        this.entries.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Adds or updates an object that passes the filter; returns its key if it is cached now. */
  upsert(raw: R): string | undefined {
    const key = keyOf(raw);
    if (key === undefined) return undefined;
    const prev = this.entries.get(key);
    if (this.opts.filter && !this.opts.filter(raw)) {
      if (prev) {
        this.entries.delete(key);
        this.emit({ type: 'delete', key, old: prev.facts });
      }
      return undefined;
    }
    const rv = raw.metadata?.resourceVersion ?? '';
    // Unchanged resourceVersion = unchanged object (relist replays, duplicate deliveries).
    if (prev && rv !== '' && prev.rv === rv) return key;
    const facts = this.opts.transform(raw);
    this.entries.set(key, { rv, facts });
    this.emit(prev ? { type: 'update', key, facts, old: prev.facts } : { type: 'add', key, facts });
    return key;
  }

  /** Removes an object (a watch DELETED event); unknown objects are ignored. */
  remove(raw: R): void {
    const key = keyOf(raw);
    if (key === undefined) return;
    const prev = this.entries.get(key);
    if (!prev) return;
    this.entries.delete(key);
    this.emit({ type: 'delete', key, old: prev.facts });
  }

  /**
   * After a complete LIST: removes (and emits a delete for) every cached object whose key the
   * list did not contain. Returns how many were removed.
   */
  retainOnly(seen: ReadonlySet<string>): number {
    const vanished: [string, Entry<F>][] = [];
    for (const entry of this.entries) if (!seen.has(entry[0])) vanished.push(entry);
    for (const [key, e] of vanished) {
      this.entries.delete(key);
      this.emit({ type: 'delete', key, old: e.facts });
    }
    return vanished.length;
  }

  private emit(event: ReflectorEvent<F>): void {
    try {
      this.opts.onEvent(event);
    } catch (err) {
      this.opts.logger.error({ reflector: this.opts.name, err, key: event.key }, 'reflector handler threw');
    }
  }
}

/**
 * The cache key: metadata.uid, so a deleted and re-created object of the same name is a
 * delete and an add, never an update. Falls back to namespace/name.
 */
export function keyOf(raw: RawObject | null | undefined): string | undefined {
  const meta = raw?.metadata;
  if (!meta) return undefined;
  if (typeof meta.uid === 'string' && meta.uid !== '') return meta.uid;
  if (typeof meta.name === 'string' && meta.name !== '') return `${meta.namespace ?? ''}/${meta.name}`;
  return undefined;
}
