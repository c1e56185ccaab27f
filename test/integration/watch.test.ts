/**
 * The watch layer against a real control plane (test/support/cluster.ts: etcd,
 * kube-apiserver, controller-manager, scheduler, KWOK). Hermod watches with the credentials
 * of a user bound only to example/clusterrole.yaml, and hands what it sees to a recording
 * WatchSink: the contract, implemented by a plain object.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { WatchSink } from '../../src/actors/watchSink.js';
import { loadKubeConfig } from '../../src/io/kube/kubeconfig.js';
import type { Logger } from '../../src/actors/logger.js';
import { startWatcher, type Watcher } from '../../src/io/kube/watcher.js';
import { isDeploymentFacts, type DeploymentFacts, type DeploymentObservation, type RolloutObservation } from '../../src/machines/facts.js';
import { FAILURE_LABEL, TEST_USER, startCluster, type TestCluster } from '../support/cluster.js';

type Rec =
  | { kind: 'observe'; obs: RolloutObservation }
  | { kind: 'deleted'; ref: { namespace: string; name: string; uid: string }; at: number }
  | { kind: 'untracked'; namespace: string; at: number }
  | { kind: 'synced' };

/** A WatchSink that records every call, and lets a test wait for one. */
class RecordingSink implements WatchSink {
  readonly records: Rec[] = [];
  private wake: (() => void)[] = [];

  observe(obs: RolloutObservation): void {
    this.push({ kind: 'observe', obs });
  }
  deploymentDeleted(ref: { namespace: string; name: string; uid: string }, at: number): void {
    this.push({ kind: 'deleted', ref, at });
  }
  namespaceUntracked(namespace: string, at: number): void {
    this.push({ kind: 'untracked', namespace, at });
  }
  synced(): void {
    this.push({ kind: 'synced' });
  }

  /** Index to search from: records after it happened after this call. */
  mark(): number {
    return this.records.length;
  }

  /** Observations of the Deployment `namespace/name` (this file watches Deployments only). */
  observations(namespace: string, name: string, from = 0): DeploymentObservation[] {
    const out: DeploymentObservation[] = [];
    for (const r of this.records.slice(from)) {
      if (r.kind === 'observe' && isDeploymentFacts(r.obs.deployment) && r.obs.deployment.namespace === namespace && r.obs.deployment.name === name) {
        out.push(r.obs as DeploymentObservation);
      }
    }
    return out;
  }

  /** Waits until `find` returns something for the records from `from` on. */
  async waitFor<T>(what: string, from: number, find: (recs: Rec[]) => T | undefined, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find(this.records.slice(from));
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        const tail = this.records.slice(-5).map(describeRec).join('\n  ');
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last records:\n  ${tail}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private push(r: Rec): void {
    this.records.push(r);
    for (const w of this.wake.splice(0)) w();
  }
}

function describeRec(r: Rec): string {
  switch (r.kind) {
    case 'observe': {
      const { newReplicaSet: rs, pods } = r.obs;
      const d = r.obs.deployment as DeploymentFacts;
      return `observe ${d.namespace}/${d.name} rev=${d.revision} upd=${d.status.updatedReplicas}/${d.spec.replicas} avail=${d.status.availableReplicas} rs=${rs?.name ?? '-'} pods=${pods.length}`;
    }
    case 'deleted':
      return `deleted ${r.ref.namespace}/${r.ref.name}`;
    case 'untracked':
      return `untracked ${r.namespace}`;
    case 'synced':
      return 'synced';
  }
}

/** Complete as `kubectl rollout status` says, for the observation's own revision. */
function isComplete(o: RolloutObservation): boolean {
  const d = o.deployment as DeploymentFacts;
  const s = d.status;
  return (
    s.observedGeneration >= d.generation &&
    s.updatedReplicas === d.spec.replicas &&
    s.replicas === s.updatedReplicas &&
    s.availableReplicas === s.updatedReplicas &&
    o.newReplicaSet !== null &&
    o.newReplicaSet.revision === d.revision &&
    o.pods.length === d.spec.replicas &&
    o.pods.every((p) => p.phase === 'Running' && p.containers.every((c) => c.ready))
  );
}

function deploymentManifest(name: string, opts: { replicas?: number; image?: string; podLabels?: Record<string, string>; annotations?: Record<string, string>; privileged?: boolean; progressDeadlineSeconds?: number } = {}): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name }, annotations: opts.annotations ?? {} },
    spec: {
      replicas: opts.replicas ?? 2,
      ...(opts.progressDeadlineSeconds ? { progressDeadlineSeconds: opts.progressDeadlineSeconds } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...opts.podLabels } },
        spec: {
          containers: [
            {
              name: 'app',
              image: opts.image ?? 'nginx:1.27',
              ...(opts.privileged ? { securityContext: { privileged: true } } : {}),
            },
          ],
        },
      },
    },
  };
}

const logLines: string[] = [];
const logger: Logger = {
  debug: () => {},
  info: (obj, msg) => logLines.push(`info ${msg} ${JSON.stringify(obj)}`),
  warn: (obj, msg) => logLines.push(`warn ${msg} ${JSON.stringify(obj, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`),
  error: (obj, msg) => logLines.push(`error ${msg} ${JSON.stringify(obj, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`),
};

describe('watch layer on a real control plane', () => {
  let cluster: TestCluster;
  let watcher: Watcher | undefined;
  const sink = new RecordingSink();
  const run = Date.now().toString(36);
  const TRACKED = `w-tracked-${run}`;
  const QUIET = `w-quiet-${run}`;
  const PSA = `w-psa-${run}`;
  const uids = new Map<string, string>();

  async function api<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const r = await cluster.request<T>(method, path, body, contentType ? { contentType } : {});
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
  const mergePatch = (path: string, patch: unknown) => api('PATCH', path, patch, 'application/merge-patch+json');
  const depPath = (ns: string, name = '') => `/apis/apps/v1/namespaces/${ns}/deployments${name ? `/${name}` : ''}`;
  async function createDeployment(ns: string, name: string, opts: Parameters<typeof deploymentManifest>[1] = {}): Promise<string> {
    const created = await api<{ metadata: { uid: string } }>('POST', depPath(ns), deploymentManifest(name, opts));
    uids.set(`${ns}/${name}`, created.metadata.uid);
    return created.metadata.uid;
  }
  const namespace = (name: string, annotations: Record<string, string>, labels: Record<string, string> = {}) =>
    api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations, labels } });

  before(async () => {
    cluster = await startCluster();
    // Hermod's own RBAC, as shipped, bound to a user that has nothing else.
    const role = parseYaml(readFileSync(new URL('../../example/clusterrole.yaml', import.meta.url), 'utf8')) as { metadata: { name: string } };
    role.metadata.name = `hermod-watch-${run}`;
    await api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', role);
    await api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `hermod-watch-${run}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: TEST_USER }],
    });
    await namespace(TRACKED, { 'hermod.uswitch.com/slack': '#team-a' });
    await namespace(QUIET, {});
    await namespace(PSA, { 'hermod.uswitch.com/slack': '#psa' }, { 'pod-security.kubernetes.io/enforce': 'restricted' });
    // Deployments that exist before Hermod starts.
    await createDeployment(TRACKED, 'pre', { replicas: 2 });
    await createDeployment(QUIET, 'noise', { replicas: 1 });
  });

  after(async () => {
    await watcher?.stop();
    if (process.exitCode && logLines.length) console.error(`watcher log (last 40 lines):\n${logLines.slice(-40).join('\n')}`);
    await cluster?.stop();
  });

  it('syncs first: observes every tracked Deployment, then calls synced() once; untracked namespaces stay out', async () => {
    const kubeConfig = loadKubeConfig(cluster.userKubeconfigPath ?? cluster.kubeconfigPath);
    watcher = startWatcher({
      kubeConfig,
      sink,
      logger,
      // Quick recovery for the restart test; production keeps the defaults (1 s .. 30 s).
      reflector: { backoff: { initialMs: 200, maxMs: 2000 } },
    });
    assert.equal(watcher.ready(), false);
    await watcher.whenSynced();
    assert.equal(watcher.ready(), true);
    const syncedAt = sink.records.findIndex((r) => r.kind === 'synced');
    assert.ok(syncedAt > 0, 'synced after the initial observations');
    assert.equal(sink.records.filter((r) => r.kind === 'synced').length, 1);
    const initial = sink.records.slice(0, syncedAt);
    assert.ok(initial.every((r) => r.kind === 'observe'));
    const seen = initial.map((r) => (r.kind === 'observe' ? `${r.obs.deployment.namespace}/${r.obs.deployment.name}` : ''));
    assert.ok(seen.includes(`${TRACKED}/pre`));
    assert.ok(!seen.some((k) => k.startsWith(`${QUIET}/`)), 'nothing from an untracked namespace');
    const pre = sink.observations(TRACKED, 'pre').at(-1);
    assert.deepEqual(pre?.target, { channel: '#team-a', alert: 'all' });
    assert.equal(pre?.deployment.uid, uids.get(`${TRACKED}/pre`));
    const stats = watcher.stats();
    assert.equal(stats.synced, true);
    assert.ok(stats.objects.namespaces >= 3);
    console.log(`synced: ${JSON.stringify(stats.objects)}`);
  });

  it('follows a real rollout to a complete status, with the new ReplicaSet\'s Pods only', async () => {
    // Finish pre's initial rollout first (observations are live by now).
    await sink.waitFor('pre complete', 0, (recs) => recs.find((r) => r.kind === 'observe' && r.obs.deployment.name === 'pre' && isComplete(r.obs)));

    const from = sink.mark();
    const uid = await createDeployment(TRACKED, 'web', { replicas: 2, annotations: { 'hermod.uswitch.com/gitsha': 'abc123' } });
    const first = await sink.waitFor('web revision 1 complete', from, () =>
      sink.observations(TRACKED, 'web', from).find((o) => o.deployment.revision === 1 && isComplete(o)),
    );
    assert.equal(first.deployment.uid, uid);
    assert.deepEqual(first.deployment.git, { sha: 'abc123' });
    const rs1 = first.newReplicaSet;
    assert.ok(rs1);

    // A new template: revision 2, a new ReplicaSet, old Pods scaled down.
    const from2 = sink.mark();
    await mergePatch(depPath(TRACKED, 'web'), { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.28' }] } } } });
    // Meanwhile, a change in the untracked namespace.
    await mergePatch(depPath(QUIET, 'noise'), { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.28' }] } } } });
    const done = await sink.waitFor('web revision 2 complete', from2, () =>
      sink.observations(TRACKED, 'web', from2).find((o) => o.deployment.revision === 2 && isComplete(o)),
    );
    const rs2 = done.newReplicaSet;
    assert.ok(rs2);
    assert.notEqual(rs2.uid, rs1.uid);
    assert.equal(rs2.ownerUid, uid);
    const during = sink.observations(TRACKED, 'web', from2);
    for (const o of during) {
      if (o.newReplicaSet) assert.ok(o.pods.every((p) => p.ownerUid === o.newReplicaSet?.uid), 'only the new ReplicaSet\'s Pods');
    }
    assert.ok(during.some((o) => !isComplete(o)), 'progress was observed before completion');
    // Give stragglers (old Pods terminating) time to arrive; the sequence still ends complete.
    const settle = sink.mark();
    await mergePatch(depPath(TRACKED, 'pre'), { metadata: { labels: { poke: '1' } } });
    await sink.waitFor('pre poke', settle, () => sink.observations(TRACKED, 'pre', settle)[0]);
    const last = sink.observations(TRACKED, 'web').at(-1);
    assert.ok(last && isComplete(last) && last.deployment.revision === 2, 'the last observation of web is complete');
    assert.equal(sink.observations(QUIET, 'noise').length, 0, 'nothing from the untracked namespace');
    console.log(`rollout of web revision 2: ${during.length} observations`);
  });

  it('reports crash-looping Pods of the new ReplicaSet, then the deadline', async () => {
    const from = sink.mark();
    await createDeployment(TRACKED, 'crasher', { replicas: 1, podLabels: { [FAILURE_LABEL]: 'crashloop' }, progressDeadlineSeconds: 10 });
    const looping = await sink.waitFor('CrashLoopBackOff', from, () =>
      sink.observations(TRACKED, 'crasher', from).find((o) => o.pods.some((p) => p.containers.some((c) => c.waiting?.reason === 'CrashLoopBackOff'))),
    );
    const c = looping.pods[0]?.containers[0];
    assert.ok(c && c.restartCount > 0);
    assert.equal(c.lastTerminated?.exitCode, 1);
    const exceeded = await sink.waitFor('ProgressDeadlineExceeded', from, () =>
      sink.observations(TRACKED, 'crasher', from).find((o) =>
        o.deployment.status.conditions.some((x) => x.type === 'Progressing' && x.reason === 'ProgressDeadlineExceeded'),
      ),
    );
    assert.equal(exceeded.deployment.spec.progressDeadlineSeconds, 10);
  });

  it('carries the ReplicaSet\'s FailedCreate Warning event when Pods are forbidden', async () => {
    const from = sink.mark();
    await createDeployment(PSA, 'priv', { replicas: 1, privileged: true });
    const obs = await sink.waitFor('FailedCreate warning', from, () =>
      sink.observations(PSA, 'priv', from).find((o) => o.warnings.some((w) => w.reason === 'FailedCreate')),
    );
    const w = obs.warnings.find((x) => x.reason === 'FailedCreate');
    assert.equal(w?.involvedKind, 'ReplicaSet');
    assert.equal(w?.involvedUid, obs.newReplicaSet?.uid);
    assert.match(w?.message ?? '', /forbidden: violates PodSecurity/);
    assert.deepEqual(obs.pods, []);
    assert.deepEqual(obs.target, { channel: '#psa', alert: 'all' });
  });

  it('observes the Deployments of a namespace annotated at run time, one observation per burst', async () => {
    // A quiet Deployment of 20 Pods in the untracked namespace.
    await createDeployment(QUIET, 'burst', { replicas: 20 });
    const deadline = Date.now() + 90_000;
    for (;;) {
      const d = await api<{ status?: { availableReplicas?: number; updatedReplicas?: number; replicas?: number } }>('GET', depPath(QUIET, 'burst'));
      if (d.status?.availableReplicas === 20 && d.status.replicas === 20) break;
      assert.ok(Date.now() < deadline, 'burst did not become available');
      await new Promise((r) => setTimeout(r, 250));
    }
    const from = sink.mark();
    await mergePatch(`/api/v1/namespaces/${QUIET}`, { metadata: { annotations: { 'hermod.uswitch.com/slack': '#late' } } });
    // Both Deployments are at rest: observed, without the details no rollout there needs (ADR 0007).
    const obs = await sink.waitFor('noise observed', from, () => sink.observations(QUIET, 'noise', from)[0]);
    assert.deepEqual(obs.target, { channel: '#late', alert: 'all' });
    assert.equal(obs.deployment.uid, uids.get(`${QUIET}/noise`));
    const atRest = await sink.waitFor('burst observed', from, () => sink.observations(QUIET, 'burst', from)[0]);
    assert.deepEqual([obs.newReplicaSet, obs.pods, atRest.newReplicaSet, atRest.pods], [null, [], null, []], 'no ReplicaSet or Pod is listed for Deployments at rest');
    // noise rolls (scaled to 2): the namespace's details are listed, burst's 20 Pods with them.
    const rolling = sink.mark();
    await mergePatch(depPath(QUIET, 'noise'), { spec: { replicas: 2 } });
    await sink.waitFor('noise observed with its ReplicaSet and Pods', rolling, () =>
      sink.observations(QUIET, 'noise', rolling).find((o) => o.newReplicaSet !== null && o.pods.length === 2),
    );
    await sink.waitFor('burst with its 20 Pods', rolling, () => sink.observations(QUIET, 'burst', rolling).find((o) => o.pods.length === 20));
    // Let anything still in flight arrive: a change on the same Deployment watch, seen after.
    const settle = sink.mark();
    await mergePatch(depPath(TRACKED, 'pre'), { metadata: { labels: { poke: 'b' } } });
    await sink.waitFor('pre poke b', settle, () => sink.observations(TRACKED, 'pre', settle)[0]);
    // 20 Pods arrive in one listed page: coalesced, they are one observation, not 20. The
    // ReplicaSet, Pod and Event lists complete in separate ticks, and none is observed from
    // half a view while they list, so a few at most.
    const burst = sink.observations(QUIET, 'burst', rolling);
    assert.ok(burst.length <= 4, `burst was observed ${burst.length} times`);
    assert.ok(burst.every((o) => o.newReplicaSet !== null), 'never observed while its ReplicaSet was still being listed');
    console.log(`namespace tracked at run time: burst (20 Pods) observed ${burst.length} time(s) once its details were listed`);
  });

  it('re-observes with the new target when channel or alert change', async () => {
    let from = sink.mark();
    await mergePatch(`/api/v1/namespaces/${TRACKED}`, { metadata: { annotations: { 'hermod.uswitch.com/alert': 'failure', 'hermod.uswitch.com/slack': '#team-b' } } });
    await sink.waitFor('pre with the new target', from, () =>
      sink.observations(TRACKED, 'pre', from).find((o) => o.target.channel === '#team-b' && o.target.alert === 'failure'),
    );
    from = sink.mark();
    await mergePatch(depPath(TRACKED, 'pre'), { metadata: { annotations: { 'hermod.uswitch.com/alert': 'all' } } });
    await sink.waitFor('the Deployment\'s alert wins', from, () =>
      sink.observations(TRACKED, 'pre', from).find((o) => o.target.channel === '#team-b' && o.target.alert === 'all'),
    );
  });

  it('namespace annotation removed: namespaceUntracked, its objects dropped, nothing more from it', async () => {
    const before = watcher!.stats().objects;
    const from = sink.mark();
    await mergePatch(`/api/v1/namespaces/${QUIET}`, { metadata: { annotations: { 'hermod.uswitch.com/slack': null } } });
    await sink.waitFor('namespaceUntracked', from, (recs) => recs.find((r) => r.kind === 'untracked' && r.namespace === QUIET));
    const afterStats = watcher!.stats().objects;
    assert.equal(afterStats.deployments, before.deployments - 2, 'noise and burst are dropped');
    assert.ok(afterStats.pods < before.pods);
    // A change there, then one in a tracked namespace on the same watch: once the second is
    // seen, the first has been processed too.
    const from2 = sink.mark();
    await mergePatch(depPath(QUIET, 'noise'), { spec: { replicas: 3 } });
    await mergePatch(depPath(TRACKED, 'pre'), { metadata: { labels: { poke: '2' } } });
    await sink.waitFor('pre poke 2', from2, () => sink.observations(TRACKED, 'pre', from2)[0]);
    assert.equal(sink.observations(QUIET, 'noise', from2).length, 0);
    assert.ok(!sink.records.slice(from2).some((r) => r.kind === 'deleted'), 'untracking is not deleting');
  });

  it('a deleted Deployment is reported with its uid', async () => {
    const from = sink.mark();
    await api('DELETE', depPath(TRACKED, 'web'));
    await api('DELETE', depPath(TRACKED, 'crasher'));
    const rec = await sink.waitFor('deploymentDeleted', from, (recs) => recs.find((r) => r.kind === 'deleted' && r.ref.name === 'web'));
    assert.deepEqual(rec.kind === 'deleted' && rec.ref, { namespace: TRACKED, name: 'web', uid: uids.get(`${TRACKED}/web`) });
    await sink.waitFor('crasher deleted', from, (recs) => recs.find((r) => r.kind === 'deleted' && r.ref.name === 'crasher'));
    const settle = sink.mark();
    await mergePatch(depPath(TRACKED, 'pre'), { metadata: { labels: { poke: 'd' } } });
    await sink.waitFor('pre poke d', settle, () => sink.observations(TRACKED, 'pre', settle)[0]);
    const afterDelete = sink.records.slice(from).filter((r) => r.kind === 'observe' && r.obs.deployment.name === 'web');
    const deletedAt = sink.records.slice(from).indexOf(rec);
    assert.ok(
      afterDelete.every((r) => sink.records.slice(from).indexOf(r) < deletedAt),
      'no observation of a Deployment after its deletion',
    );
  });

  it('a deleted namespace: its Deployments are deleted, then it is untracked', async () => {
    const from = sink.mark();
    await api('DELETE', `/api/v1/namespaces/${PSA}`);
    await sink.waitFor('priv deleted', from, (recs) => recs.find((r) => r.kind === 'deleted' && r.ref.name === 'priv'), 120_000);
    await sink.waitFor('PSA untracked', from, (recs) => recs.find((r) => r.kind === 'untracked' && r.namespace === PSA), 120_000);
  });

  it('recovers after the API server restarts and observes later changes', async (t) => {
    if (cluster.kind !== 'local') return t.skip('needs the local control plane (restartApiServer)');
    const before = watcher!.stats().reflectors;
    await cluster.restartApiServer();
    const from = sink.mark();
    await mergePatch(depPath(TRACKED, 'pre'), { spec: { replicas: 3 } });
    const obs = await sink.waitFor('pre scaled to 3 after the restart', from, () =>
      // Each kind has its own watch, so the Pods may catch up after the Deployment's status.
      sink.observations(TRACKED, 'pre', from).find((o) => o.deployment.status.availableReplicas === 3 && o.pods.length === 3),
    );
    assert.equal(obs.deployment.spec.replicas, 3);
    const afterStats = watcher!.stats().reflectors;
    const watches = (s: typeof before) => Object.values(s).reduce((n, r) => n + r.watches, 0);
    assert.ok(watches(afterStats) > watches(before), 'watches were re-established');
    assert.ok(!sink.records.slice(from).some((r) => r.kind === 'synced'), 'synced() is called once only');
  });

  it('relists after etcd compaction (410 Gone) without replaying what did not change', async (t) => {
    if (cluster.kind !== 'local') return t.skip('needs the local control plane (compactEtcd, restartApiServer)');
    const expired = () => Object.values(watcher!.stats().reflectors).reduce((n, r) => n + r.expired, 0);
    const lists = () => Object.values(watcher!.stats().reflectors).reduce((n, r) => n + r.lists, 0);
    const [expiredBefore, listsBefore] = [expired(), lists()];
    // Move etcd's revision past every resourceVersion the reflectors hold (ConfigMaps are not
    // watched), compact the history, and restart the API server so that its new watch cache
    // starts after the compaction: resuming from the old resourceVersions answers 410.
    for (let i = 0; i < 3; i++) {
      await api('POST', `/api/v1/namespaces/${QUIET}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `bump-${i}` } });
    }
    await cluster.compactEtcd();
    const from = sink.mark();
    await cluster.restartApiServer();
    const deadline = Date.now() + 60_000;
    // Right after a restart the API server may still refuse (RBAC not loaded yet): backoff.
    while ((expired() === expiredBefore || lists() === listsBefore) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(expired() > expiredBefore, 'at least one reflector was told 410 Gone');
    assert.ok(lists() > listsBefore, 'and listed again');
    const poke = sink.mark();
    await mergePatch(depPath(TRACKED, 'pre'), { metadata: { labels: { poke: '3' } } });
    await sink.waitFor('pre poke 3', poke, () => sink.observations(TRACKED, 'pre', poke)[0]);
    const since = sink.records.slice(from);
    assert.ok(!since.some((r) => r.kind === 'deleted' || r.kind === 'untracked' || r.kind === 'synced'), since.map(describeRec).join('; '));
    console.log(`after 410: ${expired() - expiredBefore} reflector(s) relisted; ${since.length} sink calls since the restart`);
  });
});
