/**
 * Warning Events Hermod records where the owners look: on a namespace or a workload when it
 * cannot deliver to their Slack channel (wrong channel, bot not invited, archived), on the
 * object whose `hermod.uswitch.com/mention` annotation it refused (issue 13). They show in
 * `kubectl get events` and `kubectl describe namespace|deployment`. Events are the only
 * objects Hermod creates in a user's namespace; it never modifies a workload (RBAC: create on events).
 */
import type { CoreV1Event, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../actors/logger.js';
import { KubeObjectClient } from './objects.js';

/** The object an Event is about: a Namespace, or a namespaced object such as a Deployment. */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  namespace: string;
  /** The object's name; for a Namespace, the namespace itself. */
  name: string;
  uid?: string;
}

export interface NamespaceEventRecorder {
  /** A Warning Event on the Namespace `namespace`. */
  warn(namespace: string, reason: string, message: string): Promise<void>;
  /** A Warning Event on any object in a namespace (a Deployment, a Namespace). */
  warnOn(subject: EventSubject, reason: string, message: string): Promise<void>;
}

/** Keep Event messages short, as events.k8s.io caps its notes at 1 KiB. */
const MAX_MESSAGE = 1024;
/** How many recent Events are remembered to hold back repeats. */
const MAX_REMEMBERED = 4096;

export function namespaceEventRecorder(
  kubeConfig: KubeConfig,
  options: { logger: Logger; now?: () => number; repeatAfterMs?: number },
): NamespaceEventRecorder {
  const api = new KubeObjectClient(kubeConfig);
  const now = options.now ?? Date.now;
  const repeatAfterMs = options.repeatAfterMs ?? 60 * 60 * 1000;
  // One Event per object, reason and message per hour: a wrong channel must not spam the API.
  const lastRecorded = new Map<string, number>();
  async function warnOn(subject: EventSubject, reason: string, message: string): Promise<void> {
    const { namespace } = subject;
    const key = `${subject.kind}\u0000${namespace}\u0000${subject.name}\u0000${reason}\u0000${message}`;
    const last = lastRecorded.get(key);
    if (last !== undefined && now() - last < repeatAfterMs) return;
    lastRecorded.set(key, now());
    // Bounded: the oldest entry goes first (a Map iterates in insertion order).
    if (lastRecorded.size > MAX_REMEMBERED) lastRecorded.delete(lastRecorded.keys().next().value as string);
    const time = new Date(now());
    try {
      await api.create<CoreV1Event>(`/api/v1/namespaces/${namespace}/events`, {
        metadata: { generateName: 'hermod-', namespace },
        // The API accepts an Event in namespace X only if its involvedObject names X as its
        // namespace (an empty one is allowed in `default` only), even for a Namespace.
        involvedObject: {
          apiVersion: subject.apiVersion,
          kind: subject.kind,
          name: subject.name,
          namespace,
          ...(subject.uid !== undefined ? { uid: subject.uid } : {}),
        },
        type: 'Warning',
        reason,
        message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message,
        source: { component: 'hermod' },
        reportingComponent: 'hermod',
        reportingInstance: 'hermod',
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      });
    } catch (err) {
      lastRecorded.delete(key);
      options.logger.warn({ err, namespace, kind: subject.kind, name: subject.name, reason }, `could not record a Warning Event on the ${subject.kind.toLowerCase()}`);
    }
  }
  return {
    warn: (namespace, reason, message) => warnOn({ apiVersion: 'v1', kind: 'Namespace', namespace, name: namespace }, reason, message),
    warnOn,
  };
}
