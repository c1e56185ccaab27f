/**
 * Hermod's one non-cryptographic hash: 32-bit FNV-1a. Used where a short, stable, fast key
 * is enough (a message's content key, a channel's jitter seed); nothing here needs to resist
 * an adversary, so node:crypto (an I/O-layer module) is not needed.
 */

/** 32-bit FNV-1a of a string's UTF-16 code units, as an unsigned integer. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
