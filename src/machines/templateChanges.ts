/**
 * What a rollout changed: the previous and the new ReplicaSet's pod templates compared, as a
 * team asks it ("which image?", kubeshop/botkube#135, keel-hq/keel#900). Per container (init
 * containers too) the image before and after; when no image changed, the other template
 * fields that did, by path; the `kubernetes.io/change-cause`; for a rollback the revision it
 * went back to. Pure: facts in, a small value out.
 */
import type { ReplicaSetFacts, TemplateContainer } from './facts.js';
import type { ImageChange, RolloutChanges } from './notification.js';

/** Changed field paths kept in a view; the count of the rest is kept instead. */
export const MAX_CHANGED_FIELDS = 5;

/**
 * The changes from `previous` to `next`, or null when nothing can be said (no template known
 * and no change-cause or rollback to name). `rolledBackTo` is the new ReplicaSet's revision
 * history (see rollout.ts's rolledBackTo); the latest of it is where a rollback went back to.
 */
export function templateChanges(
  previous: Pick<ReplicaSetFacts, 'template'> | null | undefined,
  next: Pick<ReplicaSetFacts, 'template'> | null | undefined,
  rolledBackTo: readonly number[] = [],
): RolloutChanges | null {
  const before = previous?.template;
  const after = next?.template;
  const images = before !== undefined && after !== undefined ? imageChanges(before.containers, after.containers) : [];
  let fields: string[] = [];
  if (before !== undefined && after !== undefined && images.length === 0) fields = changedPaths(before.fingerprint, after.fingerprint);
  const backTo = rolledBackTo.length > 0 ? Math.max(...rolledBackTo) : null;
  const changeCause = after?.changeCause ?? null;
  if (images.length === 0 && fields.length === 0 && changeCause === null && backTo === null) return null;
  return { images, fields: fields.slice(0, MAX_CHANGED_FIELDS), moreFields: Math.max(0, fields.length - MAX_CHANGED_FIELDS), changeCause, backTo };
}

function imageChanges(before: readonly TemplateContainer[], after: readonly TemplateContainer[]): ImageChange[] {
  const key = (c: TemplateContainer): string => `${c.init ? 'init' : 'main'}/${c.name}`;
  const old = new Map(before.map((c) => [key(c), c]));
  const out: ImageChange[] = [];
  for (const c of after) {
    const was = old.get(key(c));
    old.delete(key(c));
    if (was?.image !== c.image) out.push({ container: c.name, init: c.init, from: was?.image ?? null, to: c.image });
  }
  for (const c of old.values()) out.push({ container: c.name, init: c.init, from: c.image, to: null });
  return out.sort((a, b) => Number(b.init) - Number(a.init));
}

function changedPaths(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): string[] {
  const paths = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...paths].filter((p) => before[p] !== after[p]).sort();
}

/** An image reference split into repository, tag and digest. */
interface ImageRef {
  repository: string;
  tag: string | null;
  digest: string | null;
}

export function parseImage(ref: string): ImageRef {
  const at = ref.indexOf('@');
  const digest = at === -1 ? null : ref.slice(at + 1);
  const named = at === -1 ? ref : ref.slice(0, at);
  const colon = named.lastIndexOf(':');
  // A colon before the last slash belongs to a registry port (registry:5000/app).
  if (colon > named.lastIndexOf('/')) return { repository: named.slice(0, colon), tag: named.slice(colon + 1), digest };
  return { repository: named, tag: null, digest };
}

/** `sha256:0123456789abcdef…` -> `@0123456789ab`: enough to tell two builds apart. */
function shortDigest(digest: string): string {
  const hex = digest.includes(':') ? digest.slice(digest.indexOf(':') + 1) : digest;
  return `@${hex.slice(0, 12)}`;
}

/**
 * How to show `image` next to `other` (the image on the other side of the change): the tag,
 * or a short digest when the tags do not tell them apart; the repository too when it changed.
 */
export function shortImage(image: string, other: string | null): string {
  const ref = parseImage(image);
  const that = other === null ? null : parseImage(other);
  let version: string;
  if (ref.digest !== null && (ref.tag === null || (that !== null && that.tag === ref.tag))) version = shortDigest(ref.digest);
  else version = ref.tag ?? 'latest';
  if (that !== null && that.repository === ref.repository) return version;
  const name = ref.repository.slice(ref.repository.lastIndexOf('/') + 1);
  return version.startsWith('@') ? `${name}${version}` : `${name}:${version}`;
}
