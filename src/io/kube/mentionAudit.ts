/**
 * Says so when a `hermod.uswitch.com/mention` annotation is refused (issue 13): once per value,
 * when a tracked namespace or one of its Deployments shows it (at list, or when it changes),
 * the handler records a Warning Event on that object and a log line. The rollout itself is
 * reported without a mention (./caches.ts resolves targets with the same rule).
 *
 * Handlers only: called from the reflector handlers, it decides and hands over; no I/O here.
 */
import type { WorkloadFacts } from '../../machines/facts.js';
import { parseMentions, type MentionPolicy } from '../../machines/mentions.js';
import type { ReflectorEvent } from './factStore.js';
import type { NamespaceFacts } from './trim.js';

/** A refused mention annotation and the object that carries it. */
export interface RefusedMention {
  kind: 'Namespace' | 'Deployment' | 'StatefulSet' | 'DaemonSet';
  namespace: string;
  /** The object's name (for a Namespace, the namespace). */
  name: string;
  uid: string;
  /** The value as written (trimmed). */
  value: string;
  /** Why it was refused, from ./mentions.ts. */
  reason: string;
}

export class MentionAudit {
  /** The refusals standing now, by object: what a replica that becomes leader records. */
  private readonly standing = new Map<string, RefusedMention>();

  constructor(
    private readonly policy: MentionPolicy,
    private readonly onRefused: (refused: RefusedMention) => void,
  ) {}

  /** A namespace event: checked when it is tracked and its value is new to Hermod. */
  namespace(e: ReflectorEvent<NamespaceFacts>): void {
    if (e.type === 'delete' || e.facts.channel === undefined) {
      this.standing.delete(`Namespace/${e.key}`);
      return;
    }
    const seen = e.type === 'update' && e.old.channel !== undefined ? e.old.mention : undefined;
    this.check(e.facts.mention, seen, { kind: 'Namespace', namespace: e.facts.name, name: e.facts.name, uid: e.facts.uid });
  }

  /** A Deployment, StatefulSet or DaemonSet event (its namespace is tracked, or Hermod would not watch it). */
  deployment(e: ReflectorEvent<WorkloadFacts>): void {
    if (e.type === 'delete') {
      this.standing.delete(`${e.old.kind ?? 'Deployment'}/${e.old.namespace}/${e.old.name}`);
      return;
    }
    const seen = e.type === 'update' ? e.old.mention : undefined;
    this.check(e.facts.mention, seen, { kind: e.facts.kind ?? 'Deployment', namespace: e.facts.namespace, name: e.facts.name, uid: e.facts.uid });
  }

  /** The refused values standing now (tracked namespaces and their Deployments). */
  refusals(): RefusedMention[] {
    return [...this.standing.values()];
  }

  /** Forgets the refusals of a namespace that is no longer tracked, its own and its Deployments'. */
  forgetNamespace(namespace: string): void {
    for (const [key, r] of this.standing) if (r.namespace === namespace) this.standing.delete(key);
  }

  private check(value: string | undefined, seen: string | undefined, subject: Omit<RefusedMention, 'value' | 'reason'>): void {
    const key = subject.kind === 'Namespace' ? `Namespace/${subject.name}` : `${subject.kind}/${subject.namespace}/${subject.name}`;
    const parsed = value === undefined ? null : parseMentions(value, this.policy);
    if (value === undefined || parsed?.ok !== false) {
      this.standing.delete(key);
      return;
    }
    const refused: RefusedMention = { ...subject, value, reason: parsed.reason };
    this.standing.set(key, refused);
    if (value !== seen) this.onRefused(refused);
  }
}
