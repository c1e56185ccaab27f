/**
 * Which namespaces Hermod watches: those with a non-blank `hermod.uswitch.com/slack`
 * annotation. The namespace watch decides for the workload watches (ADR 0007):
 *
 * - a namespace that becomes tracked gets its own workload watches (they list, then watch);
 * - a namespace that stops being tracked has its watches stopped and its cached objects
 *   dropped, and the sink is told;
 * - a tracked namespace whose channel, alert level or mentions change has its Deployments
 *   observed again, so the actors learn the new target for their next message.
 */
import type { Logger } from '../../actors/logger.js';
import type { RolloutIndex } from './caches.js';
import type { ReflectorEvent } from './factStore.js';
import type { SinkFeed } from './sinkFeed.js';
import type { NamespaceFacts } from './trim.js';

export interface NamespaceTrackerOptions {
  index: RolloutIndex;
  feed: SinkFeed;
  logger: Logger;
  /** Start the workload watches (Deployments, ReplicaSets, Pods, Warning events) of a namespace. */
  watchWorkloads(namespace: string): void;
  /** Stop them. */
  unwatchWorkloads(namespace: string): void;
}

export class NamespaceTracker {
  private listed = false;
  private stopped = false;

  constructor(private readonly options: NamespaceTrackerOptions) {}

  /** The namespace reflector's event handler. */
  onEvent(e: ReflectorEvent<NamespaceFacts>): void {
    const { index, feed, logger } = this.options;
    const before = e.type === 'add' ? undefined : e.old;
    const after = e.type === 'delete' ? undefined : e.facts;
    if (after) index.setNamespace(after);
    else if (before) index.deleteNamespace(before.name);
    const name = (after ?? before)?.name ?? '';
    const was = before?.channel !== undefined;
    const is = after?.channel !== undefined;
    if (!was && is) {
      logger.info({ namespace: name, channel: after?.channel }, 'namespace tracked');
      if (!this.stopped) this.options.watchWorkloads(name);
    } else if (was && !is) {
      this.untrack(name);
    } else if (was && is && (before?.channel !== after?.channel || before?.alert !== after?.alert || before?.mention !== after?.mention)) {
      feed.markDirty(index.deploymentUidsIn(name));
    }
  }

  /** The namespace reflector listed: every tracked namespace is known (and watched). */
  onListed(): void {
    this.listed = true;
  }

  /** True once the namespaces have been listed. */
  get hasListed(): boolean {
    return this.listed;
  }

  stop(): void {
    this.stopped = true;
  }

  private untrack(namespace: string): void {
    const { index, feed, logger } = this.options;
    logger.info({ namespace }, 'namespace no longer tracked; stopping its watches and dropping its cached objects');
    this.options.unwatchWorkloads(namespace);
    for (const uid of index.deploymentUidsIn(namespace)) feed.forget(uid);
    index.dropNamespaceObjects(namespace);
    feed.namespaceUntracked(namespace);
  }
}
