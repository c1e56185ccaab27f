/**
 * A pod template (of a ReplicaSet or a ControllerRevision) reduced to what "what changed" needs
 * (issue 12): each (init) container's name and image, and a small fingerprint of every other
 * field, so two templates can be compared without keeping either.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import type { TemplateContainer, TemplateFacts } from '../../machines/facts.js';
import { fnv1a } from '../../machines/hash.js';
import { str } from './trim.js';

/** Set by `kubectl --record` and by people; the deployment controller copies it to the ReplicaSet. */
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** Most field paths one template fingerprint keeps; the rest share one entry. */
export const MAX_FINGERPRINT_PATHS = 48;
/** The path that stands for every field past MAX_FINGERPRINT_PATHS. */
export const MORE_FIELDS_PATH = 'more fields';
/** Longest image reference kept (real ones are far shorter). */
const IMAGE_MAX = 512;

/**
 * A pod template reduced to its (init) containers' names and images and a fingerprint: field
 * path -> 32-bit hash of the value. Images are compared on their own, so they are left out of
 * the fingerprint; so is the `pod-template-hash` label, which differs between any two ReplicaSets.
 */
export function trimTemplate(template: V1PodTemplateSpec | null | undefined, changeCause?: string): TemplateFacts {
  const spec = (template?.spec ?? {}) as unknown as Record<string, unknown>;
  const meta = template?.metadata;
  const containers: TemplateContainer[] = [];
  const paths: Array<[string, unknown]> = [];
  for (const [field, init] of [['initContainers', true], ['containers', false]] as const) {
    const list = spec[field];
    if (!Array.isArray(list)) continue;
    for (const c of list as Array<Record<string, unknown> | null>) {
      if (c == null) continue;
      const name = str(c.name);
      containers.push({ name, init, image: str(c.image).slice(0, IMAGE_MAX) });
      for (const [key, value] of Object.entries(c)) {
        if (key !== 'name' && key !== 'image' && value !== undefined) paths.push([`spec.${field}[${name}].${key}`, value]);
      }
    }
  }
  for (const [key, value] of Object.entries(spec)) {
    if (key !== 'containers' && key !== 'initContainers' && value !== undefined) paths.push([`spec.${key}`, value]);
  }
  const labels = Object.entries(meta?.labels ?? {}).filter(([k]) => k !== 'pod-template-hash');
  if (labels.length > 0) paths.push(['metadata.labels', Object.fromEntries(labels)]);
  for (const [key, value] of Object.entries(meta?.annotations ?? {})) paths.push([`metadata.annotations[${key}]`, value]);

  paths.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const fingerprint: Record<string, string> = {};
  const kept = paths.slice(0, MAX_FINGERPRINT_PATHS - 1);
  const rest = paths.slice(MAX_FINGERPRINT_PATHS - 1);
  for (const [path, value] of kept) fingerprint[path] = hashOf(value);
  if (rest.length === 1 && rest[0] !== undefined) fingerprint[rest[0][0]] = hashOf(rest[0][1]);
  else if (rest.length > 1) fingerprint[MORE_FIELDS_PATH] = hashOf(rest);
  const facts: TemplateFacts = { containers, fingerprint };
  if (changeCause !== undefined) facts.changeCause = changeCause;
  return facts;
}

function hashOf(value: unknown): string {
  return fnv1a(stableJson(value)).toString(36);
}

/** JSON with object keys sorted and undefined left out: equal values give equal text. */
function stableJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
