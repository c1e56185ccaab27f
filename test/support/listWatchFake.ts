/**
 * An in-memory ListWatchClient for the watch layer's unit tests, answering as the API server
 * would: LISTs of `refused` paths answer 403 (a KubeApiError with a Status), LISTs of `held`
 * paths wait until `release()`, the others an empty list (or `items[path]`); a WATCH stays open
 * until aborted. It records the LISTs, the WATCHes open and the term each WATCH asked for.
 */
import type { ListWatchClient } from '../../src/io/kube/client.js';
import { KubeApiError } from '../../src/io/kube/errors.js';

export interface ListWatchFake extends ListWatchClient {
  /** Every LIST path, in order. */
  lists: string[];
  /** Paths of the WATCHes open now. */
  watching: Set<string>;
  /** The `timeoutSeconds` the latest WATCH of each resource (the path's last segment) asked for. */
  terms: Map<string, unknown>;
  refused: RegExp;
  held: RegExp;
  /** Items a LIST of this path answers (default none). */
  items: Record<string, unknown[]>;
  /** The held LISTs answer now. */
  release(): void;
}

export function listWatchFake(options: { refused?: RegExp; held?: RegExp } = {}): ListWatchFake {
  const waiting: Array<() => void> = [];
  const fake: ListWatchFake = {
    lists: [],
    watching: new Set(),
    terms: new Map(),
    refused: options.refused ?? /^$/,
    held: options.held ?? /^$/,
    items: {},
    release: () => waiting.splice(0).forEach((wake) => wake()),
    async list(path) {
      fake.lists.push(path);
      if (fake.refused.test(path)) throw new KubeApiError(`LIST ${path}: forbidden`, 403, 'Forbidden');
      if (fake.held.test(path)) await new Promise<void>((resolve) => waiting.push(resolve));
      return { items: fake.items[path] ?? [], resourceVersion: '7' } as Awaited<ReturnType<ListWatchClient['list']>>;
    },
    watch(path, params, signal) {
      fake.watching.add(path);
      fake.terms.set(path.split('/').at(-1)!, params['timeoutSeconds']);
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => {
          fake.watching.delete(path);
          reject(signal.reason as Error);
        }),
      );
    },
  };
  return fake;
}
