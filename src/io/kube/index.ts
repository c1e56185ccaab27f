/** Hermod's Kubernetes watch layer: kubeconfig loading, trimmed list+watch caches, the watcher. */
export * from './annotations.js';
export * from './errors.js';
export { SERVICE_ACCOUNT_DIR, loadKubeConfig, type LoadKubeConfigOptions } from './kubeconfig.js';
export { silentLogger, type KubeLogger } from './logger.js';
export * from './trim.js';
export { KubeListWatchClient, type ListWatchClient, type ListPage, type QueryParams, type WatchEvent } from './client.js';
export { Reflector, type ReflectorControl, type ReflectorEvent, type ReflectorOptions, type ReflectorStats, type RawObject } from './reflector.js';
export { RolloutIndex, alertLevel, resolveTarget, type WarningPolicy } from './caches.js';
export { startWatcher, type Watcher, type WatcherOptions, type WatcherStats, type WatchedKind } from './watcher.js';
