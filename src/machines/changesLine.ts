/**
 * What a rollout changed, in one line of mrkdwn for the message's context line: images,
 * pod-template paths, the change-cause, a rollback's target revision.
 */
import { code } from './mrkdwn.js';
import type { RolloutChanges } from './notification.js';
import { shortImage } from './templateChanges.js';

/** Most image changes named on one line; the rest are counted. */
const MAX_IMAGES_SHOWN = 4;

/**
 * What changed, in one line: `api` 1.2 → 1.3, init `migrate` 1.2 → 1.3; or "pod template
 * changed: `spec.containers[api].env`"; then the change-cause and a rollback's target revision.
 */
export function changesText(changes: RolloutChanges | null): string {
  if (changes === null) return '';
  const parts: string[] = [];
  if (changes.backTo !== null) parts.push(`back to revision ${changes.backTo}`);
  const images = changes.images.slice(0, MAX_IMAGES_SHOWN).map((c) => {
    const name = `${c.init ? 'init ' : ''}${code(c.container, 120)}`;
    if (c.from === null) return `${name} added (${code(shortImage(c.to ?? '', null), 200)})`;
    if (c.to === null) return `${name} removed`;
    return `${name} ${code(shortImage(c.from, c.to), 200)} → ${code(shortImage(c.to, c.from), 200)}`;
  });
  const moreImages = changes.images.length - MAX_IMAGES_SHOWN;
  if (moreImages > 0) images.push(`${moreImages} more image${moreImages === 1 ? '' : 's'}`);
  if (images.length > 0) parts.push(images.join(', '));
  if (changes.fields.length > 0) {
    const more = changes.moreFields > 0 ? ` and ${changes.moreFields} more` : '';
    parts.push(`pod template changed: ${changes.fields.map((f) => code(f, 200)).join(', ')}${more}`);
  }
  if (changes.changeCause !== null) parts.push(`change-cause ${code(changes.changeCause, 300)}`);
  return parts.join(' · ');
}
