/**
 * Which namespaces Hermod watches: those with a non-blank `hermod.uswitch.com/slack`
 * annotation. The namespace watch decides for the workload watches:
 *
 * - they start once the namespaces have been listed, so their first lists filter correctly;
 * - a namespace that becomes tracked makes them list again (once per burst), since its
 *   objects were filtered out so far;
 * - a namespace that stops being tracked has its cached objects dropped, and the sink is told;
 * - a tracked namespace whose channel or alert level changes has its Deployments observed
 *   again, so the actors learn the new target for their next message.
 */
import type { Logger } from '../../actors/logger.js';
import type { RolloutIndex } from './caches.js';
import type { ReflectorEvent } from './reflector.js';
import type { SinkFeed } from './sinkFeed.js';
import type { NamespaceFacts } from './trim.js';

export interface NamespaceTrackerOptions {
  index: RolloutIndex;
  feed: SinkFeed;
  logger: Logger;
  /** Start the workload watches (Deployments, ReplicaSets, Pods, Warning events). */
  startWorkloads(): void;
  /** List the workload kinds again. */
  relistWorkloads(): void;
  /** Drop the cached workload objects of one namespace. */
  pruneWorkloads(namespace: string): void;
}

export class NamespaceTracker {
  private workloadsStarted = false;
  private stopped = false;
  private relistScheduled: NodeJS.Immediate | undefined;

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
      if (this.workloadsStarted) this.scheduleRelist();
    } else if (was && !is) {
      this.untrack(name);
    } else if (was && is && (before?.channel !== after?.channel || before?.alert !== after?.alert)) {
      feed.markDirty(index.deploymentUidsIn(name));
    }
  }

  /** The namespace reflector listed: the workload watches may start (once). */
  onListed(): void {
    if (this.workloadsStarted || this.stopped) return;
    this.workloadsStarted = true;
    this.options.startWorkloads();
  }

  stop(): void {
    this.stopped = true;
    if (this.relistScheduled) clearImmediate(this.relistScheduled);
    this.relistScheduled = undefined;
  }

  private untrack(namespace: string): void {
    const { index, feed, logger } = this.options;
    logger.info({ namespace }, 'namespace no longer tracked; dropping its cached objects');
    for (const uid of index.deploymentUidsIn(namespace)) feed.forget(uid);
    index.dropNamespaceObjects(namespace);
    this.options.pruneWorkloads(namespace);
    feed.namespaceUntracked(namespace);
  }

  private scheduleRelist(): void {
    // One relist per burst of namespaces becoming tracked.
    this.relistScheduled ??= setImmediate(() => {
      this.relistScheduled = undefined;
      if (this.stopped) return;
      this.options.relistWorkloads();
    });
  }
}
