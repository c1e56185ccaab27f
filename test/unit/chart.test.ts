/**
 * The Helm chart's knobs (issue 14): a strict values.schema.json whose ranges are the CLI's,
 * every optional object rendered by the real helm, and the render-time refusals (a flag
 * repeated in extraArgs, unknown keys, out-of-range values).
 *
 * packaging.test.ts checks the default render against example/; this file checks the options.
 * helm is the approved version scripts/setup-test-env.sh builds (test/support/helm.ts finds
 * it); without it the rendering tests skip and say why.
 */
import { LOG_LEVELS, OPTIONS } from '../../src/io/config.js';
import { MESSAGE_MODES } from '../../src/machines/message.js';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { findHelm } from '../support/helm.js';
import { at, isObj, type Obj } from '../support/objectPath.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const chartDir = join(root, 'charts/hermod');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');


const schema = JSON.parse(read('charts/hermod/values.schema.json')) as Obj;
const values = parse(read('charts/hermod/values.yaml')) as Obj;

/** The schema node for a dotted values path, following `properties`. */
function schemaAt(path: string): Obj {
  let node: unknown = schema;
  for (const key of path.split('.')) node = at(node, `properties.${key}`);
  assert.ok(isObj(node), `values.schema.json has no ${path}`);
  return node;
}

const option = (flag: string) => {
  const found = OPTIONS.find((o) => o.flag === flag);
  assert.ok(found, `--${flag} is in the configuration table`);
  return found;
};

describe('charts/hermod values.schema.json', () => {
  it('refuses unknown keys at every level the chart defines', () => {
    const loose: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (!isObj(node)) return;
      if (isObj(node['properties']) && node['additionalProperties'] !== false) loose.push(path || '(root)');
      for (const [key, child] of Object.entries(isObj(node['properties']) ? node['properties'] : {})) walk(child, path ? `${path}.${key}` : key);
      if (isObj(node['items'])) walk(node['items'], `${path}[]`);
    };
    walk(schema, '');
    assert.deepEqual(loose, []);
  });

  it('describes every key of values.yaml, down to the Kubernetes objects passed through', () => {
    const missing: string[] = [];
    const walk = (value: unknown, path: string): void => {
      if (!isObj(value)) return;
      const node = path ? schemaAt(path) : schema;
      // A Kubernetes object (a LabelSelector, resource quantities, annotations): no properties of its own.
      if (!isObj(node['properties'])) return;
      for (const [key, child] of Object.entries(value)) {
        const childPath = path ? `${path}.${key}` : key;
        if (!(key in node['properties'])) missing.push(childPath);
        else walk(child, childPath);
      }
    };
    walk(values, '');
    assert.deepEqual(missing, []);
  });

  it('has the ranges and choices of the CLI (src/io/config.ts)', () => {
    const grace = option('failing-grace-seconds');
    assert.equal(schemaAt('failingGraceSeconds')['minimum'], grace.min);
    assert.equal(schemaAt('failingGraceSeconds')['maximum'], grace.max);
    const bake = option('bake-seconds');
    assert.equal(schemaAt('bakeSeconds')['minimum'], bake.min);
    assert.equal(schemaAt('bakeSeconds')['maximum'], bake.max);
    assert.equal(values['bakeSeconds'], bake.default);
    const deadline = option('progress-deadline-seconds');
    assert.equal(schemaAt('progressDeadlineSeconds')['minimum'], deadline.min);
    assert.equal(schemaAt('progressDeadlineSeconds')['maximum'], deadline.max);
    assert.equal(values['progressDeadlineSeconds'], deadline.default);
    const group = option('group-window-seconds');
    assert.equal(schemaAt('groupWindowSeconds')['minimum'], group.min);
    assert.equal(schemaAt('groupWindowSeconds')['maximum'], group.max);
    assert.equal(values['groupWindowSeconds'], group.default);
    const lines = option('log-lines');
    assert.equal(schemaAt('logLines')['minimum'], lines.min);
    assert.equal(schemaAt('logLines')['maximum'], lines.max);
    assert.equal(values['logLines'], lines.default);
    assert.equal(option('log-redact').kind, 'list');
    assert.deepEqual([schemaAt('logRedact')['type'], at(schemaAt('logRedact'), 'items.type')], ['array', 'string']);
    const port = option('metrics-port');
    // The CLI's 0 means "any free port", which a probe or a scrape cannot find: the chart starts at 1.
    assert.equal(schemaAt('metrics.port')['minimum'], Math.max(1, port.min!));
    assert.equal(schemaAt('metrics.port')['maximum'], port.max);
    assert.deepEqual(schemaAt('logLevel')['enum'], [...LOG_LEVELS]);
    assert.deepEqual(schemaAt('messageMode')['enum'], [...MESSAGE_MODES]);
  });
});

// ---------------------------------------------------------------------------------------
// Rendered by helm

const helm = findHelm();
if (helm.skip) console.warn(`chart.test.ts: SKIPPING the rendering tests: ${helm.skip}`);
const KUBE_VERSION = '1.34.0';
const work = mkdtempSync(join(tmpdir(), 'hermod-chart-'));
after(() => rmSync(work, { recursive: true, force: true }));
let files = 0;

/** `helm template` with a values file (written from `overrides`, merged over values.yaml by helm). */
function template(overrides: Obj, command = 'template'): { status: number | null; stdout: string; stderr: string } {
  const file = join(work, `values-${files++}.json`);
  writeFileSync(file, JSON.stringify({ existingSecret: 'hermod-slack', ...overrides }));
  const args = command === 'lint' ? ['lint', '--strict', chartDir] : ['template', 'hermod', chartDir, '--namespace', 'hermod-system'];
  const out = spawnSync(helm.path!, [...args, '--kube-version', KUBE_VERSION, '-f', file], { encoding: 'utf8' });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

function render(overrides: Obj = {}): Obj[] {
  const out = template(overrides);
  assert.equal(out.status, 0, out.stderr);
  const docs: Obj[] = [];
  for (const doc of parseAllDocuments(out.stdout)) {
    assert.deepEqual(doc.errors.map(String), []);
    const value: unknown = doc.toJS();
    if (isObj(value)) docs.push(value);
  }
  return docs;
}

function refused(overrides: Obj, message: RegExp): void {
  const out = template(overrides);
  assert.notEqual(out.status, 0, `rendered although it should not: ${JSON.stringify(overrides)}`);
  assert.match(out.stderr, message);
}

const kinds = (docs: Obj[]): string[] => docs.map((d) => String(d['kind'])).sort();
function one(docs: Obj[], kind: string): Obj {
  const found = docs.filter((d) => d['kind'] === kind);
  assert.equal(found.length, 1, `one ${kind}, found ${found.length}`);
  return found[0]!;
}
const container = (docs: Obj[]): Obj => at(one(docs, 'Deployment'), 'spec.template.spec.containers.0') as Obj;
const DEFAULT_KINDS = ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Role', 'RoleBinding', 'ServiceAccount'];
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const SELECTOR = { 'app.kubernetes.io/name': 'hermod', 'app.kubernetes.io/instance': 'hermod' };

/** Every option the chart has, switched on or moved off its default. */
const EVERYTHING: Obj = {
  replicas: 2,
  revisionHistoryLimit: 3,
  logLines: 5,
  logRedact: ['customer-\\d+', 'acct "[0-9]+"'],
  image: { repository: 'registry.example/hermod', tag: '1.2.3', digest: DIGEST },
  deploymentAnnotations: { 'example.com/owner': 'platform' },
  podAnnotations: { 'example.com/team': 'sre' },
  metrics: { port: 9100, service: { enabled: false } },
  serviceMonitor: { enabled: true, labels: { release: 'prometheus' }, interval: '15s', scrapeTimeout: '5s', metricRelabelings: [{ action: 'keep', regex: 'hermod_.*', sourceLabels: ['__name__'] }] },
  podMonitor: { enabled: true, labels: { release: 'prometheus' }, relabelings: [{ action: 'replace', targetLabel: 'team', replacement: 'sre' }] },
  prometheusRule: { enabled: true, labels: { release: 'prometheus' } },
  grafanaDashboard: { enabled: true, labels: { grafana_dashboard: '1', team: 'sre' }, annotations: { grafana_folder: 'Platform' } },
  networkPolicy: {
    enabled: true,
    apiServer: { cidrs: ['10.0.0.1/32'], ports: [6443] },
    metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    extraEgress: [{ ports: [{ port: 3128, protocol: 'TCP' }] }],
  },
  extraVolumes: [{ name: 'proxy-ca', configMap: { name: 'proxy-ca' } }],
  extraVolumeMounts: [{ name: 'proxy-ca', mountPath: '/etc/hermod/ca', readOnly: true }],
  extraEnv: [{ name: 'NODE_EXTRA_CA_CERTS', value: '/etc/hermod/ca/ca.crt' }],
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: SELECTOR } }],
};

describe(`charts/hermod options (rendered by helm${helm.version ? ` ${helm.version}` : ''})`, { skip: helm.skip ?? false }, () => {
  it('passes helm lint --strict with every option on', () => {
    const out = template(EVERYTHING, 'lint');
    assert.equal(out.status, 0, out.stdout + out.stderr);
  });

  it('renders every optional object, each selecting Hermod\'s Pods', () => {
    const docs = render(EVERYTHING);
    assert.deepEqual(kinds(docs), [...DEFAULT_KINDS, 'ConfigMap', 'NetworkPolicy', 'PodDisruptionBudget', 'PodMonitor', 'PrometheusRule', 'Service', 'ServiceMonitor'].sort());
    for (const doc of docs) if (doc['kind'] !== 'ClusterRole' && doc['kind'] !== 'ClusterRoleBinding') assert.equal(at(doc, 'metadata.namespace'), 'hermod-system', String(doc['kind']));
    assert.deepEqual(at(one(docs, 'NetworkPolicy'), 'spec.podSelector.matchLabels'), SELECTOR);
    assert.deepEqual(at(one(docs, 'PodDisruptionBudget'), 'spec.selector.matchLabels'), SELECTOR);
    assert.deepEqual(at(one(docs, 'PodMonitor'), 'spec.selector.matchLabels'), SELECTOR);
    assert.deepEqual(at(one(docs, 'Service'), 'spec.selector'), SELECTOR);
    // The ServiceMonitor finds the metrics Service by its labels.
    assert.deepEqual(at(one(docs, 'ServiceMonitor'), 'spec.selector.matchLabels'), SELECTOR);
    assert.deepEqual({ ...(at(one(docs, 'Service'), 'metadata.labels') as Obj), ...SELECTOR }, at(one(docs, 'Service'), 'metadata.labels'));
  });

  it('puts the Deployment options where Kubernetes reads them', () => {
    const docs = render(EVERYTHING);
    const deployment = one(docs, 'Deployment');
    assert.equal(at(deployment, 'spec.replicas'), 2);
    assert.equal(at(deployment, 'spec.strategy.type'), 'RollingUpdate');
    assert.equal(at(deployment, 'spec.revisionHistoryLimit'), 3);
    assert.deepEqual(at(deployment, 'metadata.annotations'), { 'example.com/owner': 'platform' });
    assert.deepEqual(at(deployment, 'spec.template.spec.topologySpreadConstraints'), EVERYTHING['topologySpreadConstraints']);
    const c = container(docs);
    assert.equal(c['image'], `registry.example/hermod:1.2.3@${DIGEST}`);
    assert.deepEqual(at(deployment, 'spec.template.spec.volumes'), [{ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } }, { name: 'proxy-ca', configMap: { name: 'proxy-ca' } }]);
    assert.deepEqual(c['volumeMounts'], [{ name: 'tmp', mountPath: '/tmp' }, { name: 'proxy-ca', mountPath: '/etc/hermod/ca', readOnly: true }]);
    assert.ok((c['env'] as Obj[]).some((e) => e['name'] === 'NODE_EXTRA_CA_CERTS'));
    // The crash log's flags, one --log-redact per entry, each pattern passed as written.
    const args = c['args'] as string[];
    assert.deepEqual(args.filter((a) => a.startsWith('--log-')), ['--log-lines=5', '--log-redact=customer-\\d+', '--log-redact=acct "[0-9]+"']);
  });

  it('passes the crash log defaults: --log-lines=20 and no --log-redact', () => {
    const args = container(render())['args'] as string[];
    assert.deepEqual(args.filter((a) => a.startsWith('--log-')), [`--log-lines=${option('log-lines').default}`]);
    assert.ok((container(render({ logLines: 0 }))['args'] as string[]).includes('--log-lines=0'), '0 turns the crash log off and is passed as such');
  });

  it('passes --group-window-seconds: 30 by default, 0 turns release grouping off', () => {
    assert.ok((container(render())['args'] as string[]).includes(`--group-window-seconds=${option('group-window-seconds').default}`));
    assert.ok((container(render({ groupWindowSeconds: 0 }))['args'] as string[]).includes('--group-window-seconds=0'));
  });

  it('moves the port, the scrape annotation and the monitors together with metrics.port', () => {
    const docs = render(EVERYTHING);
    const c = container(docs);
    assert.ok((c['args'] as string[]).includes('--metrics-port=9100'));
    assert.deepEqual(c['ports'], [{ name: 'http-metrics', containerPort: 9100, protocol: 'TCP' }]);
    assert.deepEqual(at(one(docs, 'Deployment'), 'spec.template.metadata.annotations'), {
      'prometheus.io/scrape': 'true', 'prometheus.io/port': '9100', 'prometheus.io/path': '/metrics', 'example.com/team': 'sre',
    });
    assert.equal(at(one(docs, 'Service'), 'spec.ports.0.port'), 9100);
    assert.equal(at(one(docs, 'ServiceMonitor'), 'spec.endpoints.0.port'), 'http-metrics');
    assert.equal(at(one(docs, 'PodMonitor'), 'spec.podMetricsEndpoints.0.port'), 'http-metrics');
    assert.deepEqual(at(one(docs, 'NetworkPolicy'), 'spec.ingress'), [
      { ports: [{ port: 9100, protocol: 'TCP' }], from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] },
    ]);
    const plain = render({ metrics: { scrapeAnnotations: false } });
    assert.equal(at(one(plain, 'Deployment'), 'spec.template.metadata.annotations'), undefined);
  });

  it('passes the monitors\' labels, intervals and relabelings', () => {
    const docs = render(EVERYTHING);
    const sm = one(docs, 'ServiceMonitor');
    assert.equal(at(sm, 'metadata.labels.release'), 'prometheus');
    assert.equal(at(sm, 'spec.endpoints.0.interval'), '15s');
    assert.equal(at(sm, 'spec.endpoints.0.scrapeTimeout'), '5s');
    assert.deepEqual(at(sm, 'spec.endpoints.0.metricRelabelings'), at(EVERYTHING, 'serviceMonitor.metricRelabelings'));
    assert.deepEqual(at(sm, 'spec.namespaceSelector'), { matchNames: ['hermod-system'] });
    const pm = one(docs, 'PodMonitor');
    assert.equal(at(pm, 'metadata.labels.release'), 'prometheus');
    assert.deepEqual(at(pm, 'spec.podMetricsEndpoints.0.relabelings'), at(EVERYTHING, 'podMonitor.relabelings'));
    assert.equal(at(one(docs, 'PrometheusRule'), 'metadata.labels.release'), 'prometheus');
  });

  it('lets Hermod reach DNS, the API server and Slack only, plus the extra egress', () => {
    const egress = at(one(render(EVERYTHING), 'NetworkPolicy'), 'spec.egress') as Obj[];
    assert.deepEqual(egress, [
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
      },
      { ports: [{ port: 6443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '10.0.0.1/32' } }] },
      { ports: [{ port: 443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }] },
      { ports: [{ port: 3128, protocol: 'TCP' }] },
    ]);
    const byDefault = at(one(render({ networkPolicy: { enabled: true } }), 'NetworkPolicy'), 'spec') as Obj;
    assert.deepEqual(at(byDefault, 'egress.1'), { ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }] }, 'the API server on any address by default');
    assert.deepEqual(at(byDefault, 'ingress'), [{ ports: [{ port: 2112, protocol: 'TCP' }] }]);
    assert.deepEqual(at(byDefault, 'policyTypes'), ['Ingress', 'Egress']);
  });

  it('holds the example alert rules and dashboard (files/, the same as example/)', () => {
    const docs = render(EVERYTHING);
    const rules = parse(readFileSync(join(chartDir, 'files/prometheus-rules.yaml'), 'utf8')) as Obj;
    const groups = isObj(rules['spec']) ? rules['spec']['groups'] : rules['groups'];
    assert.ok(Array.isArray(groups) && groups.length > 0, 'files/prometheus-rules.yaml has rule groups');
    assert.deepEqual(at(one(docs, 'PrometheusRule'), 'spec.groups'), groups);
    const dashboard = one(docs, 'ConfigMap');
    assert.equal(at(dashboard, 'metadata.labels.grafana_dashboard'), '1');
    assert.equal(at(dashboard, 'metadata.annotations.grafana_folder'), 'Platform');
    const json = String((dashboard['data'] as Obj)['hermod.json']);
    assert.deepEqual(JSON.parse(json), JSON.parse(readFileSync(join(chartDir, 'files/grafana-dashboard.json'), 'utf8')));
  });

  it('turns the PodDisruptionBudget on by itself when replicas > 1, and on request', () => {
    assert.ok(!kinds(render({ replicas: 1 })).includes('PodDisruptionBudget'), 'off for one replica');
    assert.ok(kinds(render()).includes('PodDisruptionBudget'), 'on for the default two replicas');
    assert.equal(at(one(render({ replicas: 3 }), 'PodDisruptionBudget'), 'spec.maxUnavailable'), 1);
    assert.ok(!kinds(render({ replicas: 3, podDisruptionBudget: { enabled: false } })).includes('PodDisruptionBudget'));
    const single = one(render({ replicas: 1, podDisruptionBudget: { enabled: true } }), 'PodDisruptionBudget');
    assert.equal(at(single, 'spec.maxUnavailable'), 1, 'a single replica stays drainable');
    const kept = at(one(render({ replicas: 3, podDisruptionBudget: { minAvailable: 2, maxUnavailable: null } }), 'PodDisruptionBudget'), 'spec') as Obj;
    assert.equal(kept['minAvailable'], 2);
    assert.equal(kept['maxUnavailable'], undefined);
    refused({ podDisruptionBudget: { enabled: true, minAvailable: 1, maxUnavailable: 1 } }, /minAvailable or maxUnavailable, not both/);
  });

  it('runs a leader and a warm follower, rolled with a surge so the Lease hands over (issue 9)', () => {
    const deployment = one(render(), 'Deployment');
    assert.equal(at(deployment, 'spec.replicas'), 2);
    assert.equal(at(deployment, 'spec.strategy.type'), 'RollingUpdate');
    assert.equal(at(deployment, 'spec.strategy.rollingUpdate.maxUnavailable'), 0);
    assert.equal(at(deployment, 'spec.revisionHistoryLimit'), 10);
    assert.equal(at(deployment, 'metadata.annotations'), undefined);
  });

  it('refuses extraArgs that repeat a flag the chart sets, in every spelling', () => {
    // Every flag the chart renders, with every value set that adds one.
    const all = container(render({ gitAnnotations: { commitSha: 'a/b', repoUrl: 'c/d', warnWhenMissing: true }, logRedact: ['x'] }));
    const managed = (all['args'] as string[]).slice(1).map((a) => /^--([a-z-]+)/.exec(a)![1]!);
    assert.ok(managed.length >= 9 && managed.includes('log-lines') && managed.includes('log-redact'), managed.join(' '));
    for (const flag of managed) {
      for (const spelling of [[`--${flag}=x`], [`--${flag}`, 'x']]) refused({ extraArgs: spelling }, new RegExp(`extraArgs repeats --${flag}, which the chart already sets`));
      assert.ok(option(flag), `--${flag} is a CLI flag`);
    }
    refused({ extraArgs: ['--no-git-annotation-warning'] }, /extraArgs repeats --git-annotation-warning/);
    // Flags the chart leaves alone pass through.
    assert.deepEqual((container(render({ extraArgs: ['--dry-run', '--state-namespace=ops'] }))['args'] as string[]).slice(-2), ['--dry-run', '--state-namespace=ops']);
  });

  it('refuses unknown keys at any level (values.schema.json)', () => {
    for (const overrides of [
      { replicaCount: 2 },
      { image: { repository: 'hermod', digests: DIGEST } },
      { serviceMonitor: { enable: true } },
      { networkPolicy: { apiServer: { cidr: '10.0.0.1/32' } } },
      { metrics: { service: { port: 80 } } },
      { podDisruptionBudget: { enabled: true, minAvailabel: 1 } },
      { securityContext: { readOnlyRootFileSystem: true } },
      { livenessProbe: { periodSecond: 5 } },
    ])
      refused(overrides, /don't meet the specifications of the schema[\s\S]*additional properties '\w+' not allowed/);
  });

  it('refuses values Hermod or Kubernetes would reject, and accepts the bounds', () => {
    for (const overrides of [
      { failingGraceSeconds: 86_401 }, { failingGraceSeconds: -5 }, { failingGraceSeconds: 1.5 },
      { metrics: { port: 0 } }, { metrics: { port: 65_536 } },
      { replicas: 0 }, { revisionHistoryLimit: -1 },
      { image: { repository: 'hermod', digest: 'sha256:abc' } }, { image: { repository: 'hermod', digest: 'latest' } },
      { logLevel: 'verbose' }, { messageMode: 'thread' },
      { logLines: 201 }, { logLines: -1 }, { logLines: 2.5 }, { groupWindowSeconds: 3_601 }, { groupWindowSeconds: -1 }, { groupWindowSeconds: '30' }, { logRedact: 'password' }, { logRedact: [''] },
      { networkPolicy: { apiServer: { ports: [70_000] } } },
      { serviceMonitor: { interval: 'soon' } },
      { podAnnotations: { 'prometheus.io/port': 2112 } },
    ])
      refused(overrides, /don't meet the specifications of the schema/);
    for (const overrides of [{ failingGraceSeconds: 86_400 }, { failingGraceSeconds: 0 }, { logLines: 0 }, { logLines: 200 }, { groupWindowSeconds: 0 }, { groupWindowSeconds: 3_600 }, { metrics: { port: 65_535 } }, { metrics: { port: 1 } }])
      assert.equal(template(overrides).status, 0, JSON.stringify(overrides));
  });
});

describe('charts/hermod files/ mirror example/', () => {
  for (const file of ['prometheus-rules.yaml', 'grafana-dashboard.json']) {
    const source = join(root, 'example', file);
    it(`files/${file} is a copy of example/${file}`, { skip: existsSync(source) ? false : `example/${file} does not exist yet; files/${file} is a placeholder` }, () => {
      assert.equal(readFileSync(join(chartDir, 'files', file), 'utf8'), readFileSync(source, 'utf8'), `cp example/${file} charts/hermod/files/${file}`);
    });
  }
});
