/**
 * The watcher's side of the WatchSink: which Deployments changed, coalesced per Deployment
 * and observed together within the same tick, and the sink's other calls. Nothing reaches
 * the sink before `goLive()` (the caches have synced) or after `stop()`; a sink that throws
 * is logged, never allowed to break the watch. A workload whose namespace's rollout details
 * are still being listed is observed once they are (`release()`), never from half a view.
 */
import type { Logger } from '../../actors/logger.js';
import type { WatchSink } from '../../actors/watchSink.js';
import type { WorkloadKind } from '../../machines/facts.js';
import type { RolloutIndex } from './caches.js';

export interface SinkFeedOptions {
  sink: WatchSink;
  index: RolloutIndex;
  logger: Logger;
  now: () => number;
  /** False while the workload's namespace's rollout details are being listed (default: always true). */
  viewComplete?: (uid: string) => boolean;
}

export class SinkFeed {
  private live = false;
  private stopped = false;
  private readonly dirty = new Set<string>();
  /** Workloads waiting for their namespace's details to be listed. */
  private readonly parked = new Set<string>();
  private flushScheduled: NodeJS.Immediate | undefined;
  private observed = 0;

  constructor(private readonly options: SinkFeedOptions) {}

  /** Observations handed to the sink so far. */
  get observations(): number {
    return this.observed;
  }

  /** The Deployments' observations may have changed: observe them on the next tick, once each. */
  markDirty(uids: readonly string[]): void {
    if (!this.live || this.stopped || uids.length === 0) return;
    for (const uid of uids) this.dirty.add(uid);
    this.flushScheduled ??= setImmediate(() => this.flush());
  }

  /** The Deployment is gone (deleted, or its namespace untracked): no pending observation of it. */
  forget(uid: string): void {
    this.dirty.delete(uid);
    this.parked.delete(uid);
  }

  /** Some namespace's details have been listed: observe the workloads that waited for it. */
  release(): void {
    const waiting = [...this.parked];
    this.parked.clear();
    this.markDirty(waiting);
  }

  /** The caches have synced: observe every cached Deployment; returns how many. Then call `synced()`. */
  goLive(): number {
    if (this.live || this.stopped) return 0;
    this.live = true;
    const at = this.options.now();
    let count = 0;
    for (const uid of this.options.index.workloadUids()) {
      this.observe(uid, at);
      count++;
    }
    return count;
  }

  /** Tells the sink that observations are live (after `goLive()`). */
  synced(): void {
    this.call('synced', (sink) => sink.synced());
  }

  deploymentDeleted(ref: { namespace: string; name: string; uid: string; kind?: WorkloadKind }): void {
    this.call('deploymentDeleted', (sink, at) => sink.deploymentDeleted(ref, at));
  }

  namespaceUntracked(namespace: string): void {
    this.call('namespaceUntracked', (sink, at) => sink.namespaceUntracked(namespace, at));
  }

  stop(): void {
    this.stopped = true;
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    this.dirty.clear();
    this.parked.clear();
  }

  private flush(): void {
    this.flushScheduled = undefined;
    if (this.stopped) return;
    const uids = [...this.dirty];
    this.dirty.clear();
    const at = this.options.now();
    const complete = this.options.viewComplete ?? (() => true);
    for (const uid of uids) {
      if (complete(uid)) this.observe(uid, at);
      else this.parked.add(uid);
    }
  }

  private observe(uid: string, at: number): void {
    const obs = this.options.index.observation(uid, at);
    if (!obs) return;
    this.observed++;
    try {
      this.options.sink.observe(obs);
    } catch (err) {
      this.options.logger.error({ err, deployment: `${obs.deployment.namespace}/${obs.deployment.name}` }, 'sink.observe threw');
    }
  }

  private call(what: string, fn: (sink: WatchSink, at: number) => void): void {
    if (!this.live || this.stopped) return;
    try {
      fn(this.options.sink, this.options.now());
    } catch (err) {
      this.options.logger.error({ err }, `sink.${what} threw`);
    }
  }
}
