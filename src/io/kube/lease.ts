/**
 * The leader-election Lease (coordination.k8s.io/v1) in Hermod's own namespace: the LeaseApi
 * of src/actors/election.ts on the API server. Every write carries the resourceVersion that
 * was read (create only when absent), so the API server decides who won: a 409 is a
 * `conflict`, never retried blindly. RBAC: get/update on this name, create in the namespace.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import type { LeaseApi } from '../../actors/election.js';
import type { LeaseRead, LeaseRecord, LeaseTiming } from '../../machines/lease.js';
import { ConfigError, type Config } from '../config.js';
import { KubeObjectClient, statusOf } from './objects.js';

/** The Lease's name; example/role.yaml and the chart grant get/update on this name only. */
export const DEFAULT_LEASE_NAME = 'hermod-leader';

export interface LeaseOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name?: string;
}

/**
 * A holderIdentity unique to this process: the Pod's name (POD_NAME from the downward API,
 * else the hostname, which is the Pod's name in a Pod) and a random suffix, as client-go
 * does, so a restarted container never mistakes its predecessor's term for its own.
 */
export function leaseIdentity(env: NodeJS.ProcessEnv = process.env): string {
  const name = env['POD_NAME']?.trim() || hostname();
  return `${name}_${randomBytes(4).toString('hex')}`;
}

/**
 * Whether to elect a leader, and with what timing: null when off. On by default whenever
 * Hermod has a namespace (in a Pod, or with --state-namespace), since a rolling update runs two
 * Hermods for a while even at one replica; `--leader-elect=false` turns it off. Asked for
 * explicitly without a namespace, it is a configuration error (there is nowhere to keep the Lease).
 */
export function leaderElectionTiming(
  config: Pick<Config, 'leaderElect' | 'leaseDurationSeconds' | 'renewDeadlineSeconds' | 'retryPeriodSeconds'>,
  namespace: string | null,
): LeaseTiming | null {
  if (config.leaderElect === false) return null;
  if (namespace === null) {
    if (config.leaderElect === true) throw new ConfigError('--leader-elect needs a namespace for its Lease: set --state-namespace (or POD_NAMESPACE)');
    return null;
  }
  return {
    leaseDurationMs: config.leaseDurationSeconds * 1000,
    renewDeadlineMs: config.renewDeadlineSeconds * 1000,
    retryPeriodMs: config.retryPeriodSeconds * 1000,
  };
}

/** A MicroTime as read: the JSON string (Hermod does not deserialise models); a Date is read too. */
function millis(value: Date | string | undefined): number | null {
  if (value === undefined || value === null) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : ms;
}

/** A Lease's spec as JSON on the wire: its MicroTimes are strings. */
export type LeaseSpecJson = Omit<NonNullable<V1Lease['spec']>, 'acquireTime' | 'renewTime'> & { acquireTime?: string; renewTime?: string };

/** A Lease as JSON on the wire. */
export type LeaseJson = Omit<V1Lease, 'spec'> & { spec?: LeaseSpecJson };

/** The record in a Lease (a Lease with no spec reads as unheld). */
export function recordOf(lease: LeaseJson | V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ? spec.holderIdentity : null,
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: millis(spec.acquireTime),
    renewTime: millis(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

/**
 * A MicroTime as the API server requires it: RFC 3339 with exactly six fractional digits
 * (`2026-12-07T04:21:35.123000Z`; what client-node's V1MicroTime writes).
 */
export function microTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}000Z`;
}

/** A Lease's spec for a record, its times as MicroTime strings. */
export function specOf(record: LeaseRecord): LeaseSpecJson {
  return {
    // client-go writes "" for a released Lease; the field is optional, "" keeps kubectl's view the same.
    holderIdentity: record.holderIdentity ?? '',
    leaseDurationSeconds: record.leaseDurationSeconds,
    ...(record.acquireTime !== null ? { acquireTime: microTime(record.acquireTime) } : {}),
    ...(record.renewTime !== null ? { renewTime: microTime(record.renewTime) } : {}),
    leaseTransitions: record.leaseTransitions,
  };
}

/** The Lease on the API server; see the module comment. */
export function createLeaseApi(options: LeaseOptions): LeaseApi & { readonly namespace: string; readonly name: string } {
  const { namespace } = options;
  const name = options.name ?? DEFAULT_LEASE_NAME;
  const api = new KubeObjectClient(options.kubeConfig);
  const kind = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };
  const metadata = { name, namespace, labels: { 'app.kubernetes.io/name': 'hermod', 'app.kubernetes.io/component': 'leader-election' } };

  return {
    namespace,
    name,
    async read(): Promise<LeaseRead> {
      try {
        const lease = await api.get<LeaseJson>(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`);
        return { record: recordOf(lease), resourceVersion: lease.metadata?.resourceVersion ?? null };
      } catch (err) {
        if (statusOf(err) === 404) return { record: null, resourceVersion: null };
        throw err;
      }
    },
    async write(record, resourceVersion) {
      try {
        const written =
          resourceVersion === null
            ? await api.create<LeaseJson>(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, { ...kind, metadata, spec: specOf(record) })
            : await api.replace<LeaseJson>(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`, { ...kind, metadata: { ...metadata, resourceVersion }, spec: specOf(record) });
        const version = written.metadata?.resourceVersion;
        if (version === undefined) throw new Error(`the API server returned Lease ${namespace}/${name} without a resourceVersion`);
        return { kind: 'written', resourceVersion: version };
      } catch (err) {
        // 409: someone else wrote (or created) it since we read it. 404 on update: it was deleted
        // since; the next read sees it absent and creates it.
        const status = statusOf(err);
        if (status === 409 || (status === 404 && resourceVersion !== null)) return { kind: 'conflict' };
        throw err;
      }
    },
  };
}
