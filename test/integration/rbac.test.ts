/**
 * example/ against a REAL Kubernetes control plane (test/support/cluster.ts):
 *
 * - every example manifest (and the Helm chart's output, when helm is installed) passes
 *   the API server's strict field validation and, for Hermod's own pod, the "restricted"
 *   Pod Security Standard that example/namespace.yaml enforces;
 * - the ServiceAccount, bound by example/ RBAC, can do exactly what Hermod needs (checked
 *   by SubjectAccessReview as admin, by the authorizer's own rule list for the account, and
 *   by real requests made with a token of that account), and nothing more: no writes to
 *   workloads, no Secrets, no events.k8s.io, and its state ConfigMap and leader-election
 *   Lease in its own namespace only.
 *
 * The manifests are sent as raw JSON through the harness, since client-node's typed
 * serialisation would silently drop an unknown (misspelt) field instead of letting the
 * server reject it; everything Hermod itself would do goes through @kubernetes/client-node.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { silentLogger } from '../../src/actors/logger.js';
import { KubeApiError } from '../../src/io/kube/errors.js';
import { createLeaseApi, DEFAULT_LEASE_NAME } from '../../src/io/kube/lease.js';
import { createStateStore } from '../../src/io/kube/stateStore.js';
import { startCluster, type ApiResponse, type TestCluster } from '../support/cluster.js';
import { findHelm } from '../support/helm.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const FIELD_MANAGER = 'hermod-packaging-test';
const SA_NAMESPACE = 'hermod-system';
const SA_NAME = 'hermod';
const SA_USER = `system:serviceaccount:${SA_NAMESPACE}:${SA_NAME}`;
const SA_GROUPS = ['system:serviceaccounts', `system:serviceaccounts:${SA_NAMESPACE}`, 'system:authenticated'];
const WATCHED_NS = 'hermod-test-ns';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** [group, resource, verb, subresource?] */
type Access = [group: string, resource: string, verb: string, subresource?: string];

/** What Hermod needs (the same list as test/unit/packaging.test.ts pins in the files). */
const NEEDED: Access[] = [
  ...(['namespaces', 'pods', 'events'] as const).flatMap((r) => ['get', 'list', 'watch'].map((v): Access => ['', r, v])),
  ...(['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'controllerrevisions'] as const).flatMap((r) => ['get', 'list', 'watch'].map((v): Access => ['apps', r, v])),
  ['', 'events', 'create'],
  ['', 'events', 'patch'],
  ['', 'pods', 'get', 'log'],
];

/** What Hermod must not be able to do: writes to workloads, secrets, exec, leases, escalation. */
const FORBIDDEN: Access[] = [
  ...['create', 'update', 'patch', 'delete', 'deletecollection'].flatMap((v): Access[] => [
    ['apps', 'deployments', v], ['apps', 'replicasets', v], ['', 'pods', v], ['', 'namespaces', v],
    ['apps', 'statefulsets', v], ['apps', 'daemonsets', v],
  ]),
  ['apps', 'deployments', 'update', 'scale'], ['apps', 'deployments', 'patch', 'scale'],
  ['apps', 'deployments', 'update', 'status'], ['', 'pods', 'create', 'exec'],
  ['', 'pods', 'create', 'eviction'], ['', 'namespaces', 'update', 'finalize'],
  ['', 'secrets', 'get'], ['', 'secrets', 'list'], ['', 'secrets', 'watch'], ['', 'configmaps', 'get'],
  ['', 'events', 'update'], ['', 'events', 'delete'], ['', 'events', 'deletecollection'],
  ['events.k8s.io', 'events', 'create'], ['events.k8s.io', 'events', 'list'],
  ['coordination.k8s.io', 'leases', 'create'], ['coordination.k8s.io', 'leases', 'get'],
  ['', 'nodes', 'list'], ['', 'serviceaccounts', 'create', 'token'],
  ['rbac.authorization.k8s.io', 'clusterroles', 'escalate'], ['rbac.authorization.k8s.io', 'clusterrolebindings', 'create'],
  ['*', '*', '*'],
];

const accessName = ([g, r, v, s]: Access): string => `${v} ${g ? `${g}/` : ''}${r}${s ? `/${s}` : ''}`;

function readManifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(root, file), 'utf8'))
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

const PLURALS: Record<string, { plural: string; namespaced: boolean }> = {
  Namespace: { plural: 'namespaces', namespaced: false },
  ServiceAccount: { plural: 'serviceaccounts', namespaced: true },
  Secret: { plural: 'secrets', namespaced: true },
  Service: { plural: 'services', namespaced: true },
  Deployment: { plural: 'deployments', namespaced: true },
  ClusterRole: { plural: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { plural: 'clusterrolebindings', namespaced: false },
  Role: { plural: 'roles', namespaced: true },
  RoleBinding: { plural: 'rolebindings', namespaced: true },
  NetworkPolicy: { plural: 'networkpolicies', namespaced: true },
  PodDisruptionBudget: { plural: 'poddisruptionbudgets', namespaced: true },
};

function objectPath(m: Manifest): string {
  const kind = PLURALS[m.kind];
  assert.ok(kind, `no REST path known for kind ${m.kind}`);
  const base = m.apiVersion.includes('/') ? `/apis/${m.apiVersion}` : `/api/${m.apiVersion}`;
  const ns = kind.namespaced ? `/namespaces/${m.metadata.namespace ?? 'default'}` : '';
  return `${base}${ns}/${kind.plural}/${m.metadata.name}`;
}

/** The warnings the API server attached to a response (PodSecurity "would violate", deprecations). */
function warnings(res: ApiResponse): string[] {
  const header = res.headers['warning'];
  if (header === undefined) return [];
  return (Array.isArray(header) ? header : [header]).flatMap((h) => h.split(/,(?=\s*\d{3} )/)).map((w) => w.trim());
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

/** The HTTP status of a Kubernetes call (client-node's typed APIs, or Hermod's own client) that is expected to fail. */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (err) {
    if (err instanceof k8s.ApiException) return err.code;
    if (err instanceof KubeApiError) return err.statusCode;
    throw err;
  }
}

describe('example/ on a real cluster: manifests, Pod Security and least-privilege RBAC', () => {
  let cluster: TestCluster;
  let admin: k8s.KubeConfig;
  let asHermod: k8s.KubeConfig;
  const applied: Manifest[] = [];

  /** Server-side apply of a manifest exactly as written, with strict field validation. */
  async function apply(m: Manifest, dryRun = false): Promise<ApiResponse> {
    const query = `fieldManager=${FIELD_MANAGER}&fieldValidation=Strict&force=true${dryRun ? '&dryRun=All' : ''}`;
    const res = await cluster.request('PATCH', `${objectPath(m)}?${query}`, m, { contentType: 'application/apply-patch+yaml' });
    assert.ok(res.status === 200 || res.status === 201, `${dryRun ? 'dry-run ' : ''}apply ${m.kind}/${m.metadata.name}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    if (!dryRun && !applied.some((a) => objectPath(a) === objectPath(m))) applied.push(m);
    return res;
  }

  before(async () => {
    cluster = await startCluster();
    admin = new k8s.KubeConfig();
    admin.loadFromFile(cluster.kubeconfigPath);
    // The namespaces first: namespaced objects cannot even be dry-run without them.
    for (const file of ['example/namespace.yaml', 'example/sample-namespace.yaml'])
      for (const m of readManifests(file)) if (m.kind === 'Namespace') await apply(m);
  });

  after(async () => {
    // A local cluster goes away with stop(); an external one (HERMOD_TEST_KUBECONFIG) is cleaned up.
    if (cluster?.kind === 'external')
      for (const m of applied.reverse()) await cluster.request('DELETE', objectPath(m)).catch(() => undefined);
    if (cluster) await cluster.stop();
  });

  it('every example manifest passes strict server-side validation (dry run)', async () => {
    const files = ['namespace.yaml', 'serviceaccount.yaml', 'clusterrole.yaml', 'clusterrolebinding.yaml', 'deployment.yaml',
      'secret.example.yaml', 'sample-namespace.yaml', 'sample-failing-deployment.yaml'];
    for (const file of files)
      for (const m of readManifests(`example/${file}`)) {
        const res = await apply(m, true);
        assert.deepEqual(warnings(res), [], `${file} ${m.kind}/${m.metadata.name}: the API server warned`);
      }
  });

  it('the PodSecurity check is live: a Deployment without the security context is warned about in hermod-system', async () => {
    // The control for the test above: without it, "no warnings" could mean "no PodSecurity".
    const [deployment] = readManifests('example/deployment.yaml');
    const loose = structuredClone(deployment!) as Manifest & { spec: { template: { spec: { securityContext?: unknown; containers: { securityContext?: unknown }[] } } } };
    delete loose.spec.template.spec.securityContext;
    for (const c of loose.spec.template.spec.containers) delete c.securityContext;
    const res = await apply(loose, true);
    assert.ok(warnings(res).some((w) => /violate PodSecurity \\?"restricted/.test(w)), `expected a PodSecurity warning, got ${JSON.stringify(warnings(res))}`);
  });

  it('kubectl apply -k example/ equivalent: the install set is created and Hermod\'s pod is admitted under "restricted"', async () => {
    const kustomization = parseAllDocuments(readFileSync(join(root, 'example/kustomization.yaml'), 'utf8'))[0]!.toJS() as { resources: string[] };
    for (const file of kustomization.resources) for (const m of readManifests(`example/${file}`)) await apply(m);
    // The ReplicaSet creates the pod only if the namespace's enforced PodSecurity admits it.
    const core = admin.makeApiClient(k8s.CoreV1Api);
    const pod = await eventually('the Hermod pod to be created in hermod-system', 60_000, async () => {
      const pods = await core.listNamespacedPod({ namespace: SA_NAMESPACE, labelSelector: 'app.kubernetes.io/name=hermod' });
      return pods.items[0];
    });
    assert.equal(pod.spec?.serviceAccountName, SA_NAME);
    assert.equal(pod.spec?.containers[0]?.securityContext?.readOnlyRootFilesystem, true);

    for (const m of readManifests('example/sample-namespace.yaml')) await apply(m);
  });

  it('SubjectAccessReview: the ServiceAccount may do everything Hermod needs, cluster-wide', async () => {
    const authz = admin.makeApiClient(k8s.AuthorizationV1Api);
    const denied: string[] = [];
    for (const access of NEEDED) {
      // Cluster-wide (list/watch across namespaces) and in one watched namespace.
      for (const namespace of access[1] === 'namespaces' ? [''] : ['', WATCHED_NS]) {
        const review = await authz.createSubjectAccessReview({
          body: {
            spec: {
              user: SA_USER,
              groups: SA_GROUPS,
              resourceAttributes: { group: access[0], resource: access[1], verb: access[2], namespace },
            },
          },
        });
        if (!review.status?.allowed) denied.push(`${accessName(access)} in ${namespace || 'all namespaces'}`);
      }
    }
    assert.deepEqual(denied, [], 'needed but denied');
  });

  it('SubjectAccessReview: the ServiceAccount may not write workloads, read secrets or anything else', async () => {
    const authz = admin.makeApiClient(k8s.AuthorizationV1Api);
    const allowed: string[] = [];
    for (const access of FORBIDDEN) {
      const review = await authz.createSubjectAccessReview({
        body: {
          spec: {
            user: SA_USER,
            groups: SA_GROUPS,
            resourceAttributes: { group: access[0], resource: access[1], verb: access[2], subresource: access[3], namespace: WATCHED_NS },
          },
        },
      });
      if (review.status?.allowed) allowed.push(accessName(access));
    }
    assert.deepEqual(allowed, [], 'allowed but not needed');
  });

  it('SubjectAccessReview: its state ConfigMap, in hermod-system only (get/update by name, create)', async () => {
    const authz = admin.makeApiClient(k8s.AuthorizationV1Api);
    const allowed = async (verb: string, namespace: string, name?: string): Promise<boolean> => {
      const review = await authz.createSubjectAccessReview({
        body: { spec: { user: SA_USER, groups: SA_GROUPS, resourceAttributes: { group: '', resource: 'configmaps', verb, namespace, name } } },
      });
      return review.status?.allowed === true;
    };
    const answers = {
      'get hermod-state': await allowed('get', SA_NAMESPACE, 'hermod-state'),
      'update hermod-state': await allowed('update', SA_NAMESPACE, 'hermod-state'),
      'create in hermod-system': await allowed('create', SA_NAMESPACE),
      'get another ConfigMap': await allowed('get', SA_NAMESPACE, 'other'),
      'update another ConfigMap': await allowed('update', SA_NAMESPACE, 'other'),
      'list ConfigMaps': await allowed('list', SA_NAMESPACE),
      'delete hermod-state': await allowed('delete', SA_NAMESPACE, 'hermod-state'),
      'patch hermod-state': await allowed('patch', SA_NAMESPACE, 'hermod-state'),
      'create in a watched namespace': await allowed('create', WATCHED_NS),
      'update hermod-state in a watched namespace': await allowed('update', WATCHED_NS, 'hermod-state'),
    };
    assert.deepEqual(answers, {
      'get hermod-state': true, 'update hermod-state': true, 'create in hermod-system': true,
      'get another ConfigMap': false, 'update another ConfigMap': false, 'list ConfigMaps': false,
      'delete hermod-state': false, 'patch hermod-state': false,
      'create in a watched namespace': false, 'update hermod-state in a watched namespace': false,
    });
  });

  it('SubjectAccessReview: its leader-election Lease, in hermod-system only (get/update by name, create)', async () => {
    const authz = admin.makeApiClient(k8s.AuthorizationV1Api);
    const allowed = async (verb: string, namespace: string, name?: string): Promise<boolean> => {
      const review = await authz.createSubjectAccessReview({
        body: { spec: { user: SA_USER, groups: SA_GROUPS, resourceAttributes: { group: 'coordination.k8s.io', resource: 'leases', verb, namespace, name } } },
      });
      return review.status?.allowed === true;
    };
    const answers = {
      'get hermod-leader': await allowed('get', SA_NAMESPACE, DEFAULT_LEASE_NAME),
      'update hermod-leader': await allowed('update', SA_NAMESPACE, DEFAULT_LEASE_NAME),
      'create in hermod-system': await allowed('create', SA_NAMESPACE),
      'get another Lease': await allowed('get', SA_NAMESPACE, 'other'),
      'update another Lease': await allowed('update', SA_NAMESPACE, 'other'),
      'list Leases': await allowed('list', SA_NAMESPACE),
      'watch Leases': await allowed('watch', SA_NAMESPACE),
      'delete hermod-leader': await allowed('delete', SA_NAMESPACE, DEFAULT_LEASE_NAME),
      'patch hermod-leader': await allowed('patch', SA_NAMESPACE, DEFAULT_LEASE_NAME),
      'create in a watched namespace': await allowed('create', WATCHED_NS),
      'update hermod-leader in kube-system': await allowed('update', 'kube-system', DEFAULT_LEASE_NAME),
    };
    assert.deepEqual(answers, {
      'get hermod-leader': true, 'update hermod-leader': true, 'create in hermod-system': true,
      'get another Lease': false, 'update another Lease': false, 'list Leases': false, 'watch Leases': false,
      'delete hermod-leader': false, 'patch hermod-leader': false,
      'create in a watched namespace': false, 'update hermod-leader in kube-system': false,
    });
  });

  /** A KubeConfig holding a fresh TokenRequest token of a ServiceAccount in hermod-system. */
  async function kubeConfigAs(serviceAccount: string): Promise<k8s.KubeConfig> {
    const token = await admin.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccountToken({
      namespace: SA_NAMESPACE,
      name: serviceAccount,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    assert.ok(token.status?.token, 'TokenRequest returned a token');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(await cluster.kubeconfigFor(token.status.token, serviceAccount));
    return kc;
  }

  /** The authorizer's own list of what a KubeConfig's user may do in a namespace ("verb group/resource"). */
  async function rulesOf(kc: k8s.KubeConfig, namespace: string): Promise<Set<string>> {
    const review = await kc.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectRulesReview({ body: { spec: { namespace } } });
    const granted = new Set<string>();
    for (const rule of review.status?.resourceRules ?? [])
      for (const group of rule.apiGroups ?? [])
        for (const resource of rule.resources ?? []) for (const verb of rule.verbs) granted.add(accessName([group, resource, verb]));
    return granted;
  }

  it('as the ServiceAccount itself: beyond what every ServiceAccount gets, its rules are exactly the needed ones', async () => {
    asHermod = await kubeConfigAs(SA_NAME);
    const who = await asHermod.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    assert.equal(who.status?.userInfo?.username, SA_USER);

    // The baseline: a ServiceAccount bound to nothing still gets the cluster's defaults
    // (access reviews for itself; ClusterTrustBundle reads on recent Kubernetes).
    await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'hermod-baseline', namespace: SA_NAMESPACE } });
    const baseline = await rulesOf(await kubeConfigAs('hermod-baseline'), WATCHED_NS);
    const extra = [...(await rulesOf(asHermod, WATCHED_NS))].filter((r) => !baseline.has(r)).sort();
    assert.deepEqual(extra, NEEDED.map(accessName).sort());
  });

  it('as the ServiceAccount itself: lists and watches what Hermod watches, and records a Warning Event', async () => {
    const core = asHermod.makeApiClient(k8s.CoreV1Api);
    const apps = asHermod.makeApiClient(k8s.AppsV1Api);
    const namespaces = await core.listNamespace();
    assert.ok(namespaces.items.some((n) => n.metadata?.annotations?.['hermod.uswitch.com/slack']), 'sees the annotated namespace');
    const deployments = await apps.listDeploymentForAllNamespaces();
    assert.ok(deployments.items.some((d) => d.metadata?.name === 'nginx-deployment'));
    await apps.listReplicaSetForAllNamespaces();
    await core.listPodForAllNamespaces();
    await core.listEventForAllNamespaces();
    await apps.readNamespacedDeployment({ namespace: WATCHED_NS, name: 'nginx-deployment' });

    // A real watch, as the informers open it.
    const seen = await new Promise<string>((resolve, reject) => {
      let request: AbortController | undefined;
      const timer = setTimeout(() => {
        request?.abort();
        reject(new Error('no watch event within 10 s'));
      }, 10_000);
      new k8s.Watch(asHermod)
        .watch(`/apis/apps/v1/namespaces/${WATCHED_NS}/deployments`, { timeoutSeconds: 10 }, (type, obj: k8s.V1Deployment) => {
          clearTimeout(timer);
          request?.abort();
          resolve(`${type} ${obj.metadata?.name}`);
        }, (err: unknown) => {
          if (err && !(err instanceof Error && err.name === 'AbortError')) reject(err instanceof Error ? err : new Error(String(err)));
        })
        .then((r) => (request = r), reject);
    });
    assert.equal(seen, 'ADDED nginx-deployment');

    // The Warning Event on a namespace whose channel is wrong, then its aggregation.
    const event = await core.createNamespacedEvent({
      namespace: WATCHED_NS,
      body: {
        metadata: { generateName: 'hermod-' },
        // Recorded in the namespace itself, so the team that owns it sees the Event there.
        involvedObject: { apiVersion: 'v1', kind: 'Namespace', name: WATCHED_NS, namespace: WATCHED_NS },
        type: 'Warning',
        reason: 'SlackChannelNotFound',
        message: 'Slack answered channel_not_found for hermod.uswitch.com/slack: hermod-updates',
        source: { component: 'hermod' },
        count: 1,
      },
    });
    assert.ok(event.metadata?.name);
    const patched = await core.patchNamespacedEvent(
      { namespace: WATCHED_NS, name: event.metadata.name, body: { count: 2 } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    assert.equal(patched.count, 2);
  });

  it('as the ServiceAccount itself: the state store creates, replaces and reads hermod-state in hermod-system, and nowhere else', async () => {
    const store = createStateStore({ kubeConfig: asHermod, namespace: SA_NAMESPACE, logger: silentLogger });
    assert.equal(await store.load(), undefined, 'nothing saved yet');
    const first = { version: 1 as const, channels: [] };
    await store.save(first);
    assert.deepEqual(await store.load(), first);
    const second = { version: 1 as const, channels: [{ channel: 'deploys', channelId: 'C1', rollouts: [], finished: ['uid/1'], pending: [] }] };
    await store.save(second);
    assert.deepEqual(await store.load(), second);
    const elsewhere = createStateStore({ kubeConfig: asHermod, namespace: WATCHED_NS, logger: silentLogger });
    assert.equal(await statusOf(() => elsewhere.save(first)), 403);
    assert.equal(await statusOf(() => elsewhere.load()), 403);
  });

  it('as the ServiceAccount itself: the election creates, renews and releases hermod-leader in hermod-system, and nowhere else', async () => {
    const lease = createLeaseApi({ kubeConfig: asHermod, namespace: SA_NAMESPACE });
    assert.deepEqual(await lease.read(), { record: null, resourceVersion: null });
    const record = { holderIdentity: 'hermod-0_abcd', leaseDurationSeconds: 15, acquireTime: Date.now(), renewTime: Date.now(), leaseTransitions: 0 };
    const created = await lease.write(record, null);
    assert.equal(created.kind, 'written');
    const renewed = await lease.write({ ...record, renewTime: record.renewTime + 2_000 }, created.kind === 'written' ? created.resourceVersion : null);
    assert.equal(renewed.kind, 'written');
    const read = await lease.read();
    assert.equal(read.record?.holderIdentity, 'hermod-0_abcd');
    assert.equal(read.record?.renewTime, record.renewTime + 2_000);
    const released = await lease.write({ ...record, holderIdentity: null, leaseDurationSeconds: 1 }, read.resourceVersion);
    assert.equal(released.kind, 'written');
    const elsewhere = createLeaseApi({ kubeConfig: asHermod, namespace: WATCHED_NS });
    assert.equal(await statusOf(() => elsewhere.read()), 403);
    assert.equal(await statusOf(() => elsewhere.write(record, null)), 403);
  });

  it('as the ServiceAccount itself: every write to workloads, and any Secret read, is refused with 403', async () => {
    const core = asHermod.makeApiClient(k8s.CoreV1Api);
    const apps = asHermod.makeApiClient(k8s.AppsV1Api);
    const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    const pods = await core.listNamespacedPod({ namespace: WATCHED_NS });
    const pod = pods.items[0]?.metadata?.name ?? 'nginx-deployment-pod';
    const refused = {
      'patch deployment (scale)': await statusOf(() =>
        apps.patchNamespacedDeployment({ namespace: WATCHED_NS, name: 'nginx-deployment', body: { spec: { replicas: 3 } } }, mergePatch)),
      'annotate deployment (the original kept state there)': await statusOf(() =>
        apps.patchNamespacedDeployment({ namespace: WATCHED_NS, name: 'nginx-deployment', body: { metadata: { annotations: { 'hermod.uswitch.com/state': 'x' } } } }, mergePatch)),
      'delete deployment': await statusOf(() => apps.deleteNamespacedDeployment({ namespace: WATCHED_NS, name: 'nginx-deployment' })),
      'patch pod': await statusOf(() => core.patchNamespacedPod({ namespace: WATCHED_NS, name: pod, body: { metadata: { labels: { x: 'y' } } } }, mergePatch)),
      'delete pod': await statusOf(() => core.deleteNamespacedPod({ namespace: WATCHED_NS, name: pod })),
      'annotate namespace': await statusOf(() => core.patchNamespace({ name: WATCHED_NS, body: { metadata: { annotations: { x: 'y' } } } }, mergePatch)),
      'read secret': await statusOf(() => core.listNamespacedSecret({ namespace: SA_NAMESPACE })),
      'delete event': await statusOf(() => core.deleteCollectionNamespacedEvent({ namespace: WATCHED_NS })),
    };
    assert.deepEqual(refused, Object.fromEntries(Object.keys(refused).map((k) => [k, 403])));
    const still = await admin.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ namespace: WATCHED_NS, name: 'nginx-deployment' });
    assert.equal(still.spec?.replicas, 1, 'nothing changed');
  });

  it('the Helm chart renders to manifests the API server accepts strictly, with no PodSecurity warning', async (t) => {
    const helm = findHelm();
    if (helm.path === undefined) return t.skip(helm.skip);
    const out = spawnSync(helm.path, ['template', 'chart-check', join(root, 'charts/hermod'), '--namespace', SA_NAMESPACE,
      '--kube-version', '1.34.0', '--set', 'existingSecret=hermod', '--set', 'metrics.service.enabled=true',
      // The optional objects and fields whose kinds this API server knows (not the Prometheus Operator's).
      '--set', 'networkPolicy.enabled=true', '--set', 'podDisruptionBudget.enabled=true', '--set', 'deploymentAnnotations.team=sre',
      '--set', `image.digest=sha256:${'0'.repeat(64)}`, '--set', 'revisionHistoryLimit=3',
      '--set-json', 'extraVolumes=[{"name":"proxy-ca","configMap":{"name":"proxy-ca"}}]',
      '--set-json', 'extraVolumeMounts=[{"name":"proxy-ca","mountPath":"/etc/hermod/ca","readOnly":true}]',
      '--set-json', 'topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"kubernetes.io/hostname","whenUnsatisfiable":"ScheduleAnyway","labelSelector":{"matchLabels":{"app.kubernetes.io/name":"hermod"}}}]',
    ], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const docs = parseAllDocuments(out.stdout).map((d) => d.toJS() as Manifest | null).filter((d): d is Manifest => d !== null);
    assert.deepEqual(docs.map((d) => d.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    for (const m of docs) {
      const res = await apply(m, true);
      assert.deepEqual(warnings(res), [], `chart ${m.kind}/${m.metadata.name}: the API server warned`);
    }
  });
});
