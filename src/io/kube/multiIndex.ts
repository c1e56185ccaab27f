/**
 * A secondary index of the watch caches: key (a namespace, an owner's uid) -> the keys of the
 * cached objects under it. Empty sets are dropped, so the index holds nothing for what is gone.
 */

/** Adds `value` under `key`. */
export function index(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

/** Removes `value` from under `key`, and `key` once nothing is left under it. */
export function unindex(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
