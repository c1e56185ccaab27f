/**
 * Warning Events Hermod records on a namespace when it cannot deliver to that namespace's
 * Slack channel (wrong channel, bot not invited, archived): the team that owns the namespace
 * sees it in `kubectl get events` / `kubectl describe namespace`. The only write Hermod
 * makes to the cluster, and never to a workload (RBAC: create/patch on events).
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../actors/logger.js';

export interface NamespaceEventRecorder {
  warn(namespace: string, reason: string, message: string): Promise<void>;
}

/** Keep Event messages short, as events.k8s.io caps its notes at 1 KiB. */
const MAX_MESSAGE = 1024;

export function namespaceEventRecorder(
  kubeConfig: KubeConfig,
  options: { logger: Logger; now?: () => number; repeatAfterMs?: number },
): NamespaceEventRecorder {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const now = options.now ?? Date.now;
  const repeatAfterMs = options.repeatAfterMs ?? 60 * 60 * 1000;
  // One Event per namespace, reason and message per hour: a wrong channel must not spam the API.
  const lastRecorded = new Map<string, number>();
  return {
    async warn(namespace, reason, message) {
      const key = `${namespace}\u0000${reason}\u0000${message}`;
      const last = lastRecorded.get(key);
      if (last !== undefined && now() - last < repeatAfterMs) return;
      lastRecorded.set(key, now());
      const time = new Date(now());
      try {
        await api.createNamespacedEvent({
          namespace,
          body: {
            metadata: { generateName: 'hermod-', namespace },
            // The API accepts an Event in namespace X only if its involvedObject names X as its
            // namespace (an empty one is allowed in `default` only), even for a Namespace.
            involvedObject: { apiVersion: 'v1', kind: 'Namespace', name: namespace, namespace },
            type: 'Warning',
            reason,
            message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message,
            source: { component: 'hermod' },
            reportingComponent: 'hermod',
            reportingInstance: 'hermod',
            firstTimestamp: time,
            lastTimestamp: time,
            count: 1,
          },
        });
      } catch (err) {
        lastRecorded.delete(key);
        options.logger.warn({ err, namespace, reason }, 'could not record a Warning Event on the namespace');
      }
    },
  };
}
