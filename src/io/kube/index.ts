/** Hermod's Kubernetes watch layer: kubeconfig loading, trimmed list+watch caches, the watcher. */
export * from './annotations.js';
export * from './errors.js';
export { loadKubeConfig, type LoadKubeConfigOptions } from './kubeconfig.js';
export type { KubeLogger } from './logger.js';
export * from './trim.js';
export { KubeListWatchClient, type ListWatchClient, type ListPage, type WatchEvent } from './client.js';
export { Reflector, type ReflectorEvent, type ReflectorOptions, type ReflectorStats } from './reflector.js';
export { RolloutIndex, alertLevel, resolveTarget } from './caches.js';
export { startWatcher, type Watcher, type WatcherOptions, type WatcherStats, type WatchedKind } from './watcher.js';
