/**
 * What Hermod does when it refuses a `hermod.uswitch.com/mention` annotation (issue 13): say
 * so where the owners look. The rule is src/machines/mentions.ts; the watch layer notices.
 */
import type { Logger } from '../actors/logger.js';
import { MENTION_ANNOTATION } from '../machines/annotations.js';
import type { NamespaceEventRecorder } from './kube/events.js';
import type { RefusedMention } from './kube/mentionAudit.js';

/**
 * A `hermod.uswitch.com/mention` value was refused (issue 13): a log line on every replica, and
 * the Warning Event on the leader only, so two replicas do not record it twice (a replica that
 * becomes leader records the refusals it knows: `recordRefusedMention` per `watcher.refusedMentions()`).
 * The rollout is reported without a mention.
 */
export function reportRefusedMention(
  refused: RefusedMention,
  deps: { logger: Logger; events: Pick<NamespaceEventRecorder, 'warnOn'>; isLeader: () => boolean },
): void {
  const what = `${MENTION_ANNOTATION} on ${refused.kind} ${refused.kind === 'Namespace' ? refused.name : `${refused.namespace}/${refused.name}`}`;
  deps.logger.warn({ kind: refused.kind, namespace: refused.namespace, name: refused.name, reason: refused.reason }, `${what} refused: ${refused.reason}; rollouts are reported without a mention`);
  if (deps.isLeader()) recordRefusedMention(refused, deps.events);
}

/** The Warning Event `InvalidMentionAnnotation` on the object that carries the refused value (held back for an hour per object and message). */
export function recordRefusedMention(refused: RefusedMention, events: Pick<NamespaceEventRecorder, 'warnOn'>): void {
  const subject = { apiVersion: refused.kind === 'Namespace' ? 'v1' : 'apps/v1', kind: refused.kind, namespace: refused.namespace, name: refused.name, uid: refused.uid };
  void events.warnOn(
    subject,
    'InvalidMentionAnnotation',
    `Hermod refused the ${MENTION_ANNOTATION} annotation: ${refused.reason}. Use Slack user IDs (U…, W…) or user-group IDs (S…), separated by commas; failures are reported without a mention until it is fixed.`,
  );
}
