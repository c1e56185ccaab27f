/**
 * Keeps Hermod's packaging from rotting silently: the Dockerfile (no image is built here),
 * the example manifests, the Helm chart and the Slack app manifest are checked for their
 * structure and against each other, and against what the code in src/ actually uses.
 *
 * The chart is rendered with the approved `helm` that scripts/setup-test-env.sh builds
 * (scripts/test-tools.env names the version, test/support/helm.ts finds it); without it those
 * tests skip and say why, and the static checks below still compare the templates with values.yaml.
 */
import { OPTIONS } from '../../src/io/config.js';
import { DEFAULT_LEASE_NAME } from '../../src/io/kube/lease.js';
import { DEFAULT_STATE_NAME } from '../../src/io/kube/stateStore.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { execForm, readDockerfile, type Stage } from '../support/dockerfile.js';
import { findHelm } from '../support/helm.js';
import { at, isObj, type Obj } from '../support/objectPath.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

// ---------------------------------------------------------------------------------------
// What Hermod needs from Kubernetes: the single source of truth for these tests.

/** "group/resource:verb", group "" for the core API. */
const EXPECTED_PERMISSIONS = new Set([
  ...['namespaces', 'pods', 'events'].flatMap((r) => ['get', 'list', 'watch'].map((v) => `/${r}:${v}`)),
  ...['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'controllerrevisions'].flatMap((r) => ['get', 'list', 'watch'].map((v) => `apps/${r}:${v}`)),
  '/events:create',
  '/events:patch',
  // The crashed container's last lines (--log-lines): read-only, the pods/log subresource.
  '/pods/log:get',
]);
/**
 * What Hermod needs in its OWN namespace only (a Role, never cluster-wide): its delivery
 * state ConfigMap and its leader-election Lease. "group/resource:verb@name", without @ when
 * not limited by name (RBAC cannot limit create by name).
 */
const EXPECTED_NAMESPACED_PERMISSIONS = new Set([
  `/configmaps:get@${DEFAULT_STATE_NAME}`,
  `/configmaps:update@${DEFAULT_STATE_NAME}`,
  '/configmaps:create',
  `coordination.k8s.io/leases:get@${DEFAULT_LEASE_NAME}`,
  `coordination.k8s.io/leases:update@${DEFAULT_LEASE_NAME}`,
  'coordination.k8s.io/leases:create',
]);
const WORKLOADS = ['namespaces', 'pods', 'deployments', 'replicasets', 'statefulsets', 'daemonsets'];
const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection', '*'];
const FLAGS = [
  'kubeconfig', 'level', 'repo-url-annotation', 'commit-sha-annotation', 'git-annotation-warning',
  'message-mode', 'failing-grace-seconds', 'bake-seconds', 'dry-run', 'metrics-port', 'log-lines', 'log-redact', 'progress-deadline-seconds',
  'group-window-seconds',
];
const METRICS_PORT = 2112;

// ---------------------------------------------------------------------------------------
// Small helpers

function obj(value: unknown, what: string): Obj {
  assert.ok(isObj(value), `${what} should be a mapping`);
  return value;
}

function list(value: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(value), `${what} should be a list`);
  return value;
}

/** Parses every YAML document of a text, failing on any YAML error or warning. */
function parseDocs(text: string, what: string): Obj[] {
  const docs = parseAllDocuments(text);
  const out: Obj[] = [];
  for (const doc of docs) {
    assert.deepEqual(doc.errors.map(String), [], `${what}: YAML errors`);
    assert.deepEqual(doc.warnings.map(String), [], `${what}: YAML warnings`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    out.push(obj(value, what));
  }
  return out;
}

function findKind(docs: Obj[], kind: string): Obj[] {
  return docs.filter((d) => d['kind'] === kind);
}

function one(docs: Obj[], kind: string): Obj {
  const found = findKind(docs, kind);
  assert.equal(found.length, 1, `exactly one ${kind} expected, found ${found.length}`);
  return found[0]!;
}

/** Expands RBAC rules into "group/resource:verb" strings. */
function permissionsOf(rules: unknown): Set<string> {
  const out = new Set<string>();
  for (const rule of list(rules, 'rules')) {
    const r = obj(rule, 'rule');
    assert.equal(r['resourceNames'], undefined, 'resourceNames are not expected');
    assert.equal(r['nonResourceURLs'], undefined, 'nonResourceURLs are not expected');
    for (const group of list(r['apiGroups'], 'apiGroups'))
      for (const resource of list(r['resources'], 'resources'))
        for (const verb of list(r['verbs'], 'verbs')) out.add(`${String(group)}/${String(resource)}:${String(verb)}`);
  }
  return out;
}

/** Expands namespaced Role rules into "group/resource:verb" or "group/resource:verb@name" strings. */
function roleRulesOf(rules: unknown): Set<string> {
  const out = new Set<string>();
  for (const rule of list(rules, 'rules')) {
    const r = obj(rule, 'rule');
    assert.equal(r['nonResourceURLs'], undefined, 'nonResourceURLs are not expected');
    const names = r['resourceNames'] === undefined ? [null] : list(r['resourceNames'], 'resourceNames').map(String);
    for (const group of list(r['apiGroups'], 'apiGroups'))
      for (const resource of list(r['resources'], 'resources'))
        for (const verb of list(r['verbs'], 'verbs'))
          for (const name of names) out.add(`${String(group)}/${String(resource)}:${String(verb)}${name === null ? '' : `@${name}`}`);
  }
  return out;
}

/** The verbs a Role grants, whatever the names they are limited to. */
const withoutNames = (permissions: Set<string>): Set<string> => new Set([...permissions].map((p) => p.replace(/@.*$/, '')));

function sorted(set: Iterable<string>): string[] {
  return [...set].sort();
}

function filesUnder(dir: string, suffix: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const name of readdirSync(abs)) {
    const path = join(abs, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(relative(root, path), suffix));
    else if (name.endsWith(suffix)) out.push(relative(root, path));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Dockerfile

function runs(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
}

/** Sources of COPY/ADD instructions that read the build context (not --from another stage). */
function contextSources(stages: Stage[]): string[] {
  const out: string[] = [];
  for (const stage of stages)
    for (const ins of stage.instructions) {
      if (ins.keyword !== 'COPY' && ins.keyword !== 'ADD') continue;
      const words = ins.args.split(/\s+/);
      if (words.some((w) => w.startsWith('--from='))) continue;
      const paths = words.filter((w) => !w.startsWith('--'));
      out.push(...paths.slice(0, -1));
    }
  return out;
}

/** Whether a context path is excluded by .dockerignore (the subset of its syntax used here). */
function dockerIgnored(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(
      '^' + pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '(/.*)?$',
    );
    if (regex.test(path.replace(/^\.\//, '').replace(/\/+$/, ''))) ignored = !negate;
  }
  return ignored;
}

describe('Dockerfile', () => {
  const { stages } = readDockerfile(read('Dockerfile'));
  const stage = (name: string): Stage => {
    const found = stages.find((s) => s.name === name);
    assert.ok(found, `stage ${name} is missing (stages: ${stages.map((s) => s.name).join(', ')})`);
    return found;
  };
  const final = stages[stages.length - 1]!;

  it('has a build stage, a production-dependencies stage and a final runtime stage', () => {
    assert.deepEqual(stages.map((s) => s.name), ['build', 'prod-deps', 'runtime']);
  });

  it('builds with all dependencies: npm ci, then npm run build', () => {
    const build = runs(stage('build'));
    const ci = build.findIndex((r) => /\bnpm ci\b/.test(r));
    const compile = build.findIndex((r) => /\bnpm run build\b/.test(r));
    assert.ok(ci >= 0, 'the build stage runs npm ci');
    assert.ok(!/--omit=dev|--production/.test(build[ci]!), 'the build stage needs the dev dependencies (esbuild, tsx)');
    assert.ok(compile > ci, 'npm run build runs after npm ci');
  });

  it('installs only production dependencies for the runtime', () => {
    const deps = runs(stage('prod-deps'));
    assert.ok(deps.some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), 'prod-deps runs npm ci --omit=dev');
    const copies = final.instructions.filter((i) => i.keyword === 'COPY');
    const nodeModules = copies.filter((c) => /node_modules/.test(c.args));
    assert.equal(nodeModules.length, 1, 'the runtime stage copies node_modules once');
    assert.match(nodeModules[0]!.args, /--from=prod-deps\b/, 'node_modules comes from the prod-deps stage, not the build stage');
    assert.ok(copies.some((c) => /--from=build\b.*\bdist\b/.test(c.args)), 'the compiled dist/ comes from the build stage');
    assert.ok(
      copies.some((c) => !/--from=/.test(c.args) && /\bpackage\.json\b/.test(c.args)),
      'package.json ("type": "module") is in the runtime image',
    );
    assert.deepEqual(runs(final), [], 'the runtime stage installs nothing (and distroless has no shell to RUN with)');
  });

  it('runs on a Node 22 or 24 distroless or slim image', () => {
    assert.match(final.from, /^(gcr\.io\/distroless\/nodejs(22|24)-debian\d+|node:(22|24)(\.[\d.]+)?-(bookworm-|trixie-)?slim)(:[\w.-]+)?(@sha256:[a-f0-9]+)?$/);
    for (const s of stages.slice(0, -1)) assert.match(s.from, /^node:(22|24)\b/, `${s.name} builds with the same Node major`);
  });

  it('runs as a non-root user', () => {
    const users = final.instructions.filter((i) => i.keyword === 'USER');
    assert.ok(users.length > 0, 'the runtime stage sets USER');
    const user = users[users.length - 1]!.args.split(':')[0]!;
    assert.ok(user !== 'root' && user !== '0', `USER ${user} is root`);
    assert.ok(/^\d+$/.test(user) || ['node', 'nonroot'].includes(user), `USER ${user}: use a known non-root user`);
  });

  it('starts node directly (not npm or a shell) with the optimiser capped at Maglev, then the CLI, run by default', () => {
    const entrypoint = execForm(final.instructions.findLast((i) => i.keyword === 'ENTRYPOINT'), 'ENTRYPOINT');
    assert.equal(basename(entrypoint[0]!), 'node', `ENTRYPOINT starts ${entrypoint[0]}`);
    assert.ok(entrypoint.includes('--max-opt=2'), 'no TurboFan (docs/adr/0007, "Start-up CPU")');
    assert.ok(entrypoint.includes('--initial-old-space-size=32'), 'no full collection during the sync (docs/adr/0007, "Idle without a clock")');
    assert.ok(entrypoint.includes('--no-memory-reducer-for-small-heaps'), 'no heap shrink after the start (docs/adr/0007, "Idle without a clock")');
    // Loading every chunk's source map at start costs 75 ms of CPU and 11 MB: Hermod turns them on for Sentry only (cli.ts).
    assert.ok(!entrypoint.includes('--enable-source-maps'), 'source maps are not loaded at every start');
    const script = entrypoint[entrypoint.length - 1]!;
    const pkg = JSON.parse(read('package.json')) as { bin?: Record<string, string>; scripts?: Record<string, string> };
    assert.equal(script, pkg.bin?.['hermod'], 'the entrypoint script is the package bin');
    // npm run build (scripts/build.ts, esbuild) bundles src/io/commands/cli.ts to that path, with source maps.
    assert.equal(script, 'dist/src/io/commands/cli.js');
    assert.equal(pkg.scripts?.['build'], 'node --import tsx scripts/build.ts');
    const build = read('scripts/build.ts');
    assert.match(build, /outbase: '\.',\s+outdir: 'dist'/);
    assert.match(build, /'cli'/);
    assert.match(build, /sourcemap: true/);
    assert.ok(!entrypoint.some((w) => /^(npm|npx|sh|bash|\/bin\/sh)$/.test(basename(w))), 'no npm or shell in the entrypoint');
    assert.deepEqual(execForm(final.instructions.findLast((i) => i.keyword === 'CMD'), 'CMD'), ['run']);
  });

  it('copies every local module scripts/build.ts imports into the build stage, and .dockerignore lets each through', () => {
    const local = [...read('scripts/build.ts').matchAll(/from '\.\/([\w.-]+)\.js'/g)].map((m) => `scripts/${m[1]}.ts`);
    assert.ok(local.includes('scripts/clientNodeSlim.ts'), `the build's own modules: ${local.join(', ')}`);
    const copied = read('Dockerfile')
      .split(/\r?\n/)
      .filter((l) => /^COPY\s+scripts\//.test(l))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    const ignore = read('.dockerignore').split(/\r?\n/);
    for (const file of ['scripts/build.ts', ...local]) {
      assert.ok(copied.includes(file), `the Dockerfile COPYs ${file} (npm run build imports it)`);
      assert.ok(ignore.includes(`!${file}`), `.dockerignore lets ${file} into the build context`);
    }
  });

  it('takes its base images as build args, gives npm a CA hook, and carries OCI labels', () => {
    const text = read('Dockerfile');
    const { args } = readDockerfile(text);
    assert.ok(args.has('BUILD_IMAGE') && args.has('RUNTIME_IMAGE'), 'BUILD_IMAGE and RUNTIME_IMAGE are ARGs with defaults');
    assert.deepEqual(
      text.split(/\r?\n/).filter((l) => /^FROM\s/i.test(l)).map((l) => l.split(/\s+/)[1]),
      ['${BUILD_IMAGE}', '${BUILD_IMAGE}', '${RUNTIME_IMAGE}'],
      'every FROM names a base by its build arg',
    );
    for (const run of stages.flatMap(runs).filter((r) => /\bnpm ci\b/.test(r))) {
      assert.match(run, /--mount=type=secret,id=npm_ca\b/, `npm ci sees the npm_ca secret: ${run}`);
      assert.match(run, /NODE_EXTRA_CA_CERTS=\/run\/secrets\/npm_ca/, 'the secret is added to the trusted CAs');
      assert.match(run, /--registry="\$NPM_REGISTRY"/, 'the registry is a build arg (a mirror)');
    }
    const labels = final.instructions.filter((i) => i.keyword === 'LABEL').map((i) => i.args).join(' ');
    for (const key of ['title', 'description', 'licenses', 'version', 'revision', 'created', 'base.name'])
      assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${key.replace('.', '\\.')}=`), `OCI label ${key}`);
  });

  it('exposes the metrics and health port 2112', () => {
    const exposed = final.instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    assert.ok(exposed.some((p) => p.replace(/\/tcp$/, '') === String(METRICS_PORT)), `EXPOSE ${METRICS_PORT}`);
  });

  it('.dockerignore keeps local state out and lets the build inputs in', () => {
    const patterns = read('.dockerignore').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const path of ['node_modules', 'node_modules/x/index.js', '.git', 'test', 'bench', 'dist', 'test-artifacts', '.env'])
      assert.ok(dockerIgnored(patterns, path), `${path} should be ignored`);
    const sources = contextSources(stages);
    assert.ok(sources.includes('src') || sources.includes('src/'), 'the build copies src');
    for (const source of sources) assert.ok(!dockerIgnored(patterns, source), `${source} is COPY'd but .dockerignore excludes it`);
  });
});

// ---------------------------------------------------------------------------------------
// example/

const exampleFiles = readdirSync(join(root, 'example')).filter((f) => f.endsWith('.yaml')).sort();
const example = new Map(exampleFiles.map((f) => [f, parseDocs(read(`example/${f}`), `example/${f}`)]));
const exampleDocs = (file: string): Obj[] => {
  const docs = example.get(file);
  assert.ok(docs, `example/${file} is missing`);
  return docs;
};

function podSpecOf(deployment: Obj): Obj {
  return obj(at(deployment, 'spec.template.spec'), 'spec.template.spec');
}

function hermodContainer(deployment: Obj): Obj {
  const containers = list(at(podSpecOf(deployment), 'containers'), 'containers');
  assert.equal(containers.length, 1, 'one container');
  return obj(containers[0], 'container');
}

/** The checks a Hermod Deployment must pass, from example/ or rendered from the chart. */
function checkHermodDeployment(deployment: Obj, secretName: string): void {
  assert.equal(at(deployment, 'spec.replicas'), 2, 'two replicas: a leader and a warm follower (issue 9)');
  assert.equal(at(deployment, 'spec.strategy.type'), 'RollingUpdate', 'the new Pod starts before the old one hands over the Lease');
  assert.equal(at(deployment, 'spec.strategy.rollingUpdate.maxUnavailable'), 0);
  assert.equal(at(deployment, 'spec.strategy.rollingUpdate.maxSurge'), 1);
  assert.ok(at(deployment, 'spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution'), 'replicas prefer different Nodes');
  const pod = podSpecOf(deployment);
  assert.equal(at(pod, 'securityContext.runAsNonRoot'), true);
  assert.equal(at(pod, 'securityContext.seccompProfile.type'), 'RuntimeDefault');
  assert.ok(pod['hostNetwork'] !== true && pod['hostPID'] !== true, 'no host namespaces');

  const c = hermodContainer(deployment);
  assert.equal(at(c, 'securityContext.allowPrivilegeEscalation'), false);
  assert.equal(at(c, 'securityContext.readOnlyRootFilesystem'), true);
  assert.deepEqual(at(c, 'securityContext.capabilities.drop'), ['ALL']);
  assert.equal(at(c, 'securityContext.capabilities.add'), undefined);
  assert.notEqual(at(c, 'securityContext.privileged'), true);

  // The non-root uid agrees with the image's USER, or runAsNonRoot would refuse to start it.
  const { stages } = readDockerfile(read('Dockerfile'));
  const user = stages[stages.length - 1]!.instructions.findLast((i) => i.keyword === 'USER')!.args.split(':')[0];
  const uid = at(c, 'securityContext.runAsUser') ?? at(pod, 'securityContext.runAsUser');
  if (/^\d+$/.test(user ?? '')) assert.equal(uid, Number(user), 'runAsUser matches the Dockerfile USER');
  else assert.ok(typeof uid === 'number' && uid > 0, 'a named USER needs a numeric runAsUser for runAsNonRoot');

  const ports = list(c['ports'], 'ports').map((p) => obj(p, 'port'));
  const metrics = ports.find((p) => p['containerPort'] === METRICS_PORT);
  assert.ok(metrics, `container port ${METRICS_PORT}`);
  for (const [probe, path] of [['livenessProbe', '/livez'], ['readinessProbe', '/readyz']] as const) {
    assert.equal(at(c, `${probe}.httpGet.path`), path, `${probe} path`);
    const port = at(c, `${probe}.httpGet.port`);
    assert.ok(port === METRICS_PORT || port === metrics['name'], `${probe} targets the metrics port, not ${String(port)}`);
  }
  for (const key of ['requests.cpu', 'requests.memory', 'limits.memory'])
    assert.ok(at(c, `resources.${key}`) !== undefined, `resources.${key} is set`);

  const annotations = obj(at(deployment, 'spec.template.metadata.annotations'), 'pod annotations');
  assert.equal(annotations['prometheus.io/scrape'], 'true');
  assert.equal(annotations['prometheus.io/port'], String(METRICS_PORT));
  assert.equal(annotations['prometheus.io/path'], '/metrics');

  const env = new Map(list(c['env'], 'env').map((e) => [String(obj(e, 'env')['name']), obj(e, 'env')]));
  const token = env.get('SLACK_TOKEN');
  assert.ok(token, 'SLACK_TOKEN is set');
  assert.equal(token['value'], undefined, 'SLACK_TOKEN never inline');
  assert.deepEqual(at(token, 'valueFrom.secretKeyRef'), { name: secretName, key: 'SLACK_TOKEN' });
  const sentry = env.get('SENTRY_ENDPOINT');
  assert.ok(sentry, 'SENTRY_ENDPOINT is passed');
  assert.deepEqual(at(sentry, 'valueFrom.secretKeyRef'), { name: secretName, key: 'SENTRY_ENDPOINT', optional: true });

  const args = list(c['args'], 'args').map(String);
  assert.equal(args[0], 'run', 'args replace the image CMD, so they start with the run command');
  for (const arg of args.slice(1)) {
    const flag = /^--([a-z-]+)(=.*)?$/.exec(arg);
    assert.ok(flag && FLAGS.includes(flag[1]!), `unknown flag ${arg}`);
  }
}

describe('example/ manifests', () => {
  it('every file parses and every object has apiVersion, kind and a name', () => {
    assert.ok(exampleFiles.length >= 8, `example/ holds ${exampleFiles.join(', ')}`);
    for (const [file, docs] of example) {
      assert.ok(docs.length > 0, `${file} is empty`);
      if (file === 'kustomization.yaml') continue;
      for (const doc of docs) {
        assert.equal(typeof doc['apiVersion'], 'string', `${file}: apiVersion`);
        assert.equal(typeof doc['kind'], 'string', `${file}: kind`);
        assert.equal(typeof at(doc, 'metadata.name'), 'string', `${file}: metadata.name`);
      }
    }
  });

  it('the kustomization installs Hermod (not the samples, not the secret template)', () => {
    const resources = list(at(exampleDocs('kustomization.yaml')[0], 'resources'), 'resources').map(String);
    for (const file of resources) assert.ok(existsSync(join(root, 'example', file)), `${file} exists`);
    const kinds = resources.flatMap((f) => exampleDocs(f).map((d) => String(d['kind']))).sort();
    assert.deepEqual(kinds, ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Namespace', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'ServiceAccount']);
    assert.ok(!resources.some((f) => f.startsWith('sample') || f.startsWith('secret')));
  });

  it('kubectl kustomize renders it, when kubectl is installed', (t) => {
    const kubectl = spawnSync('kubectl', ['kustomize', join(root, 'example')], { encoding: 'utf8' });
    if (kubectl.error) return t.skip('kubectl not found');
    assert.equal(kubectl.status, 0, kubectl.stderr);
    const docs = parseDocs(kubectl.stdout, 'kubectl kustomize example/');
    assert.equal(docs.length, 8);
  });

  it('everything Hermod runs with lives in hermod-system', () => {
    assert.equal(at(one(exampleDocs('namespace.yaml'), 'Namespace'), 'metadata.name'), 'hermod-system');
    for (const file of ['serviceaccount.yaml', 'deployment.yaml', 'secret.example.yaml', 'role.yaml', 'rolebinding.yaml'])
      for (const doc of exampleDocs(file)) assert.equal(at(doc, 'metadata.namespace'), 'hermod-system', file);
  });

  it('the ClusterRole grants exactly what Hermod needs: read-only on workloads, create/patch core Events', () => {
    const role = one(exampleDocs('clusterrole.yaml'), 'ClusterRole');
    const granted = permissionsOf(role['rules']);
    assert.deepEqual(sorted(granted), sorted(EXPECTED_PERMISSIONS));
    for (const permission of granted) {
      const [, resource, verb] = /^[^/]*\/([^:]+):(.+)$/.exec(permission)!;
      assert.ok(!(WORKLOADS.includes(resource!) && WRITE_VERBS.includes(verb!)), `no write on workloads: ${permission}`);
      assert.ok(!permission.includes('*'), `no wildcards: ${permission}`);
    }
    assert.ok(!sorted(granted).some((p) => p.startsWith('events.k8s.io/')), 'events.k8s.io is not used');
  });

  it('the binding ties that ClusterRole to the ServiceAccount the Deployment runs as', () => {
    const role = one(exampleDocs('clusterrole.yaml'), 'ClusterRole');
    const binding = one(exampleDocs('clusterrolebinding.yaml'), 'ClusterRoleBinding');
    const account = one(exampleDocs('serviceaccount.yaml'), 'ServiceAccount');
    const deployment = one(exampleDocs('deployment.yaml'), 'Deployment');
    assert.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: at(role, 'metadata.name') });
    assert.deepEqual(binding['subjects'], [
      { kind: 'ServiceAccount', name: at(account, 'metadata.name'), namespace: at(account, 'metadata.namespace') },
    ]);
    assert.equal(at(podSpecOf(deployment), 'serviceAccountName'), at(account, 'metadata.name'));
  });

  it('the Role grants only the state ConfigMap and the leader Lease, in hermod-system, bound to the same ServiceAccount', () => {
    const role = one(exampleDocs('role.yaml'), 'Role');
    assert.equal(at(role, 'metadata.namespace'), 'hermod-system');
    assert.deepEqual(sorted(roleRulesOf(role['rules'])), sorted(EXPECTED_NAMESPACED_PERMISSIONS));
    const binding = one(exampleDocs('rolebinding.yaml'), 'RoleBinding');
    const account = one(exampleDocs('serviceaccount.yaml'), 'ServiceAccount');
    assert.equal(at(binding, 'metadata.namespace'), 'hermod-system');
    assert.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: at(role, 'metadata.name') });
    assert.deepEqual(binding['subjects'], [
      { kind: 'ServiceAccount', name: at(account, 'metadata.name'), namespace: at(account, 'metadata.namespace') },
    ]);
  });

  it('the Deployment tells Hermod its namespace (POD_NAMESPACE from the downward API)', () => {
    const env = list(at(hermodContainer(one(exampleDocs('deployment.yaml'), 'Deployment')), 'env'), 'env');
    assert.deepEqual(at(env.find((e) => at(e, 'name') === 'POD_NAMESPACE'), 'valueFrom'), { fieldRef: { fieldPath: 'metadata.namespace' } });
  });

  it('the Deployment is hardened, probed on /livez and /readyz, and reads its token from the Secret', () => {
    const secret = one(exampleDocs('secret.example.yaml'), 'Secret');
    checkHermodDeployment(one(exampleDocs('deployment.yaml'), 'Deployment'), String(at(secret, 'metadata.name')));
    const env = list(at(hermodContainer(one(exampleDocs('deployment.yaml'), 'Deployment')), 'env'), 'env');
    assert.ok(env.some((e) => at(e, 'name') === 'CLUSTER_NAME'), 'CLUSTER_NAME is set');
  });

  it('the hermod-system namespace enforces the restricted Pod Security Standard', () => {
    const ns = one(exampleDocs('namespace.yaml'), 'Namespace');
    assert.equal(obj(at(ns, 'metadata.labels'), 'labels')['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it('the Secret template holds placeholders only', () => {
    const secret = one(exampleDocs('secret.example.yaml'), 'Secret');
    const data = obj(secret['stringData'], 'stringData');
    assert.deepEqual(Object.keys(data).sort(), ['SENTRY_ENDPOINT', 'SLACK_TOKEN']);
    assert.equal(secret['data'], undefined, 'no base64 data');
    const token = String(data['SLACK_TOKEN']);
    assert.match(token, /REPLACE/i, 'the token is an obvious placeholder');
    assert.doesNotMatch(token, /^xox[a-z]-\d+-/, 'not something shaped like a real token');
    assert.equal(data['SENTRY_ENDPOINT'], '');
  });

  it('the samples are annotated the way Hermod reads them', () => {
    const docs = [...exampleDocs('sample-namespace.yaml'), ...exampleDocs('sample-failing-deployment.yaml')];
    const ns = one(docs, 'Namespace');
    const nsAnnotations = obj(at(ns, 'metadata.annotations'), 'namespace annotations');
    assert.equal(typeof nsAnnotations['hermod.uswitch.com/slack'], 'string');
    const deployments = findKind(docs, 'Deployment');
    assert.equal(deployments.length, 2);
    for (const d of deployments) {
      assert.equal(at(d, 'metadata.namespace'), at(ns, 'metadata.name'));
      const a = obj(at(d, 'metadata.annotations'), 'deployment annotations');
      assert.match(String(a['hermod.uswitch.com/gitsha']), /^[0-9a-f]{40}$/);
      assert.match(String(a['hermod.uswitch.com/gitrepo']), /^https:\/\//);
    }
    const failing = one(exampleDocs('sample-failing-deployment.yaml'), 'Deployment');
    assert.ok(Number(at(failing, 'spec.progressDeadlineSeconds')) < 600, 'the failing sample fails sooner than the default deadline');
  });
});

// ---------------------------------------------------------------------------------------
// What src/ uses, against what is granted and documented

const sources = filesUnder('src', '.ts').filter((f) => !f.endsWith('.d.ts'));

/** Drops comments (block, and line comments not preceded by ':' as in URLs), keeping code. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/[^\n]*/gm, '$1');
}

/** The code (comments removed) of every .ts file under a directory of src/. */
const sourceText = (dir: string): string =>
  sources.filter((f) => f.startsWith(dir)).map((f) => stripComments(read(f))).join('\n');

/** client-node resource names for the kinds Hermod might touch: "group/resource". */
const KIND_RESOURCES: Record<string, string> = {
  Namespace: '/namespaces', Pod: '/pods', PodLog: '/pods/log', Event: '/events', Node: '/nodes', Service: '/services',
  ConfigMap: '/configmaps', Secret: '/secrets', Deployment: 'apps/deployments', ReplicaSet: 'apps/replicasets',
  StatefulSet: 'apps/statefulsets', DaemonSet: 'apps/daemonsets', Lease: 'coordination.k8s.io/leases',
};
const METHOD_VERBS: Record<string, string[]> = {
  list: ['list'], read: ['get'], create: ['create'], patch: ['patch'], replace: ['update'], delete: ['delete'],
  deleteCollection: ['deletecollection'],
};

/**
 * The names that hold a client-node typed API client in a file: `x = kc.makeApiClient(...)`,
 * `x = new CoreV1Api(...)`, or a field or parameter typed `x: CoreV1Api` (any `*V1Api`).
 */
function apiClientNames(code: string): string[] {
  const names = new Set<string>();
  for (const m of code.matchAll(/\b(\w+)\s*=\s*[\w.]*(?:makeApiClient\s*\(|new\s+(?:\w+\.)?\w+V\d\w*Api\s*\()/g)) names.add(m[1]!);
  for (const m of code.matchAll(/\b(\w+)\??\s*:\s*(?:\w+\.)?\w+V\d\w*Api\b/g)) names.add(m[1]!);
  return [...names];
}

/** The permissions implied by client-node calls and API paths in some files' code (comments stripped). */
function permissionsUsedBy(files: string[]): Set<string> {
  const used = new Set<string>();
  const kinds = Object.keys(KIND_RESOURCES).join('|');
  // Only calls on a client-node API client count: Hermod's own indexes have methods such as
  // deleteNamespace() too.
  for (const code of files) {
    const names = apiClientNames(code);
    if (names.length === 0) continue;
    const call = new RegExp(
      `\\b(?:${names.join('|')})\\s*\\.\\s*(list|read|create|patch|replace|deleteCollection|delete)(Namespaced)?(${kinds})(ForAllNamespaces)?\\s*\\(`,
      'g',
    );
    for (const m of code.matchAll(call)) for (const verb of METHOD_VERBS[m[1]!]!) used.add(`${KIND_RESOURCES[m[3]!]!}:${verb}`);
  }
  /** "group/resource" (with a subresource: "/pods/log") of an API path, or null. */
  const resourceOf = (path: string): { group: string; resource: string } | null => {
    const parts = path.split('/').filter(Boolean);
    const group = parts[0] === 'api' ? '' : parts[1]!;
    let rest = parts.slice(parts[0] === 'api' ? 2 : 3);
    if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
    const resource = rest[0];
    // Access reviews are granted to every authenticated user; they are not Hermod's to grant.
    if (group.endsWith('authorization.k8s.io') || group.endsWith('authentication.k8s.io')) return null;
    if (!resource || resource.includes('$')) return null;
    return { group, resource: rest[2] !== undefined && !rest[2].includes('$') ? `${resource}/${rest[2]}` : resource };
  };
  // Single-object calls of src/io/kube/objects.ts: `api.replace<T>(`/api/v1/namespaces/${ns}/configmaps/${name}`, ...)`.
  const objectCall = /\.(getText|get|create|replace|patch|delete)\s*(?:<[^>(]*>)?\s*\(\s*(['"`])(\/apis?\/[^'"`\s]+)\2/g;
  const OBJECT_VERBS: Record<string, string> = { get: 'get', getText: 'get', create: 'create', replace: 'update', patch: 'patch', delete: 'delete' };
  const all = files.join('\n');
  for (const m of all.matchAll(objectCall)) {
    const r = resourceOf(m[3]!);
    if (r !== null) used.add(`${r.group}/${r.resource}:${OBJECT_VERBS[m[1]!]!}`);
  }
  // Informer and watch paths: /api/v1/pods, /api/v1/namespaces/${ns}/events, /apis/apps/v1/deployments
  const path = /['"`](\/apis?\/[^'"`\s]+)['"`]/g;
  for (const m of all.replace(objectCall, '').matchAll(path)) {
    const r = resourceOf(m[1]!);
    if (r !== null) for (const verb of ['list', 'watch']) used.add(`${r.group}/${r.resource.split('/')[0]}:${verb}`);
  }
  return used;
}

describe('packaging against the code in src/', () => {
  it('the source scanner sees client-node calls and API paths, and ignores look-alikes', () => {
    const code = stripComments([
      "const core = kc.makeApiClient(k8s.CoreV1Api);",
      "class W { constructor(private readonly apps: AppsV1Api) {} }",
      "await core.createNamespacedEvent({ namespace, body });",
      "await core.listPodForAllNamespaces();",
      "await this.apps.patchNamespacedDeployment({ name, namespace, body });",
      "index.deleteNamespace(name); // core.deleteNamespace(name) in a comment",
      "const path = '/apis/apps/v1/replicasets';",
      "const events = `/api/v1/namespaces/${ns}/events`;",
      "const review = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';",
      "await objects.replace<V1ConfigMap>(`/api/v1/namespaces/${namespace}/configmaps/${name}`, body);",
      "await objects.create(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, body);",
      "await objects.getText(`/api/v1/namespaces/${ns}/pods/${pod}/log`, { params });",
    ].join('\n'));
    assert.deepEqual(sorted(permissionsUsedBy([code])), [
      '/events:list', '/events:watch', '/pods:list', '/events:create', 'apps/deployments:patch',
      'apps/replicasets:list', 'apps/replicasets:watch', '/configmaps:update', 'coordination.k8s.io/leases:create', '/pods/log:get',
    ].sort());
  });

  it('every Kubernetes call in src/io is granted by the ClusterRole, or by the Role in Hermod\'s namespace', () => {
    const clusterWide = permissionsOf(one(exampleDocs('clusterrole.yaml'), 'ClusterRole')['rules']);
    const ownNamespace = withoutNames(roleRulesOf(one(exampleDocs('role.yaml'), 'Role')['rules']));
    const code = sources.filter((f) => f.startsWith('src/io')).map((f) => stripComments(read(f)));
    const used = permissionsUsedBy(code);
    const missing = sorted(used).filter((p) => !clusterWide.has(p) && !ownNamespace.has(p));
    assert.deepEqual(missing, [], 'src/io uses these without a grant: add them to example/ and the chart, or stop using them');
    const eventsV1 = /EventsV1Api|['"`/]events\.k8s\.io\b/.exec(sourceText('src/io'));
    assert.equal(eventsV1, null, `src/io uses the events.k8s.io API (${eventsV1?.[0]}), which is not granted`);
    // The Role grants nothing src/io does not use.
    assert.deepEqual(sorted([...ownNamespace].filter((p) => !used.has(p))), []);
  });

  it('the flags and variables the manifests pass exist in the CLI', () => {
    // The CLI registers every flag of the configuration table (src/io/config.ts OPTIONS).
    const flags = new Set(OPTIONS.map((o) => o.flag));
    const env = new Set(OPTIONS.map((o) => o.env));
    for (const flag of FLAGS) assert.ok(flags.has(flag), `--${flag} is not in the configuration table`);
    for (const name of ['SLACK_TOKEN', 'SENTRY_ENDPOINT', 'CLUSTER_NAME']) assert.ok(env.has(name), `${name} is not in the configuration table`);
  });
});

// ---------------------------------------------------------------------------------------
// Slack app manifest

/** Slack Web API methods (as written in code) and the bot scope each one needs; null = none. */
const SLACK_METHOD_SCOPES: Record<string, string | null> = {
  'chat.postMessage': 'chat:write', 'chat.update': 'chat:write', 'chat.delete': 'chat:write',
  'chat.postEphemeral': 'chat:write', 'auth.test': null, 'conversations.join': 'channels:join',
  'conversations.info': 'channels:read', 'conversations.list': 'channels:read', 'users.info': 'users:read',
  'reactions.add': 'reactions:write', 'reactions.remove': 'reactions:write', 'conversations.history': 'channels:history',
};

/** Slack methods called in some code: `client.chat.postMessage(` or `apiCall('chat.postMessage'`. */
function slackMethodsIn(code: string): Set<string> {
  const called = new Set<string>();
  const families = 'chat|conversations|auth|users|reactions';
  const pattern = new RegExp(`\\.(${families})\\.([a-z][A-Za-z]+)\\s*\\(|['"\`](${families})\\.([a-z][A-Za-z]+)['"\`]`, 'g');
  for (const m of code.matchAll(pattern)) called.add(`${m[1] ?? m[3]}.${m[2] ?? m[4]}`);
  return called;
}

describe('slack-app-manifest.yaml', () => {
  const manifest = obj(parse(read('slack-app-manifest.yaml')), 'manifest');
  const scopes = list(at(manifest, 'oauth_config.scopes.bot'), 'bot scopes').map(String);
  /** Scopes offered commented out under the bot scopes (`# - name`): optional, explained at the top. */
  const optional = [...read('slack-app-manifest.yaml').matchAll(/^ {6}# - ([a-z:.]+)$/gm)].map((m) => m[1] as string);

  it('has a bot user and only bot scopes', () => {
    assert.equal(typeof at(manifest, 'display_information.name'), 'string');
    assert.ok(String(at(manifest, 'display_information.description')).length <= 140, 'Slack caps the description at 140 characters');
    assert.equal(typeof at(manifest, 'features.bot_user.display_name'), 'string');
    assert.equal(at(manifest, 'oauth_config.scopes.user'), undefined, 'no user scopes');
  });

  it('asks for chat:write, and at most chat:write.public besides', () => {
    assert.ok(scopes.includes('chat:write'));
    assert.deepEqual(scopes.filter((s) => !['chat:write', 'chat:write.public'].includes(s)), []);
    assert.equal(new Set(scopes).size, scopes.length, 'no duplicates');
  });

  it('explains every optional scope it offers', () => {
    assert.deepEqual(optional, ['chat:write.public', 'channels:history', 'groups:history']);
    const header = read('slack-app-manifest.yaml').split('display_information:')[0] ?? '';
    for (const scope of optional) assert.match(header, new RegExp(`# - ${scope.replace('.', '\\.')} `), `the header explains ${scope}`);
  });

  it('the Slack method scanner sees calls and method names, not comments', () => {
    const code = stripComments([
      'await this.client.chat.postMessage({ channel, text });',
      "await client.apiCall('conversations.join', { channel });",
      'const r = await web.auth.test();',
      '// client.reactions.add() in a comment',
    ].join('\n'));
    assert.deepEqual(sorted(slackMethodsIn(code)), ['auth.test', 'chat.postMessage', 'conversations.join']);
  });

  it('covers every Slack method src/ calls', () => {
    for (const method of slackMethodsIn(sourceText('src'))) {
      assert.ok(method in SLACK_METHOD_SCOPES, `src/ calls ${method}: add its scope to SLACK_METHOD_SCOPES and the manifest`);
      const scope = SLACK_METHOD_SCOPES[method];
      if (scope) assert.ok(scopes.includes(scope) || optional.includes(scope), `${method} needs ${scope}`);
    }
  });
});

// ---------------------------------------------------------------------------------------
// charts/hermod

const chartDir = 'charts/hermod';
const values = obj(parse(read(`${chartDir}/values.yaml`)), 'values.yaml');
const templates = readdirSync(join(root, chartDir, 'templates')).sort();
const templateText = (name: string): string => read(`${chartDir}/templates/${name}`);

describe('charts/hermod (static)', () => {
  it('Chart.yaml is a v2 application chart whose appVersion is the package version', () => {
    const chart = obj(parse(read(`${chartDir}/Chart.yaml`)), 'Chart.yaml');
    const pkg = JSON.parse(read('package.json')) as { version: string };
    assert.equal(chart['apiVersion'], 'v2');
    assert.equal(chart['name'], 'hermod');
    assert.equal(chart['type'], 'application');
    assert.match(String(chart['version']), /^\d+\.\d+\.\d+$/);
    assert.equal(chart['appVersion'], pkg.version);
  });

  it('has the conventional templates', () => {
    for (const t of ['_helpers.tpl', 'NOTES.txt', 'clusterrole.yaml', 'clusterrolebinding.yaml', 'role.yaml', 'rolebinding.yaml', 'deployment.yaml', 'service.yaml', 'serviceaccount.yaml'])
      assert.ok(templates.includes(t), `templates/${t}`);
  });

  it('has the conventional values', () => {
    for (const key of [
      'image.repository', 'image.tag', 'image.pullPolicy', 'serviceAccount.create', 'serviceAccount.name',
      'serviceAccount.annotations', 'rbac.create', 'existingSecret', 'clusterName', 'logLevel', 'messageMode',
      'extraArgs', 'resources', 'podAnnotations', 'podSecurityContext', 'securityContext', 'nodeSelector',
      'tolerations', 'affinity', 'metrics.port', 'livenessProbe', 'readinessProbe',
    ])
      assert.ok(at(values, key) !== undefined, `values.${key}`);
    assert.equal(values['existingSecret'], '', 'no secret value, and no default name to trip over');
    assert.equal(at(values, 'metrics.port'), METRICS_PORT);
  });

  it('templates read only values that values.yaml defines', () => {
    for (const name of templates) {
      for (const m of templateText(name).matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) {
        const path = m[1]!.replace(/\.$/, '');
        assert.ok(at(values, path) !== undefined, `templates/${name} reads .Values.${path}, which values.yaml lacks`);
      }
    }
  });

  it('every value is used by a template and described by values.schema.json', () => {
    const all = templates.map(templateText).join('\n');
    const schema = obj(JSON.parse(read(`${chartDir}/values.schema.json`)), 'values.schema.json');
    const properties = obj(schema['properties'], 'schema properties');
    for (const key of Object.keys(values)) {
      assert.ok(all.includes(`.Values.${key}`), `values.${key} is not used by any template`);
      assert.ok(key in properties, `values.${key} is missing from values.schema.json`);
    }
    assert.deepEqual(at(properties, 'logLevel.enum'), ['debug', 'info', 'warn', 'error']);
    assert.deepEqual(at(properties, 'messageMode.enum'), ['update', 'post']);
  });

  it('the chart ClusterRole has the same rules as example/', () => {
    const text = templateText('clusterrole.yaml');
    const rules = /^rules:\n((?: {2}.*\n?)+)/m.exec(text);
    assert.ok(rules, 'a literal rules: block');
    assert.doesNotMatch(rules[1]!, /\{\{/, 'the rules are not templated');
    assert.deepEqual(sorted(permissionsOf(parse(rules[1]!))), sorted(EXPECTED_PERMISSIONS));
  });

  it('the chart Role has the same rules as example/', () => {
    const rules = /^rules:\n((?: {2}.*\n?)+)/m.exec(templateText('role.yaml'));
    assert.ok(rules, 'a literal rules: block');
    assert.doesNotMatch(rules[1]!, /\{\{/, 'the rules are not templated');
    assert.deepEqual(sorted(roleRulesOf(parse(rules[1]!))), sorted(EXPECTED_NAMESPACED_PERMISSIONS));
  });

  it('the default values harden the pod like example/deployment.yaml', () => {
    const deployment = one(exampleDocs('deployment.yaml'), 'Deployment');
    const c = hermodContainer(deployment);
    assert.deepEqual(values['podSecurityContext'], at(podSpecOf(deployment), 'securityContext'));
    assert.deepEqual(values['securityContext'], c['securityContext']);
    assert.deepEqual(values['resources'], c['resources']);
    assert.deepEqual(values['livenessProbe'], c['livenessProbe']);
    assert.deepEqual(values['readinessProbe'], c['readinessProbe']);
    // The chart renders the scrape annotations from metrics.port (chart.test.ts); the default
    // render is checked against the same annotations by checkHermodDeployment below.
    assert.equal(at(values, 'metrics.scrapeAnnotations'), true);
  });
});

// ---------------------------------------------------------------------------------------
// charts/hermod rendered by helm, where helm exists

const helm = findHelm();
// The Kubernetes version helm checks the chart's kubeVersion (>=1.25) against: named, so the
// render does not depend on the client-go helm was built with (a helm v3 built with
// `go install` assumes 1.20, which the chart refuses).
const KUBE_VERSION = '1.34.0';

function helmTemplate(...set: string[]): { status: number | null; stdout: string; stderr: string } {
  const args = ['template', 'hermod', join(root, chartDir), '--namespace', 'hermod-system', '--kube-version', KUBE_VERSION];
  for (const s of set) args.push('--set', s);
  const out = spawnSync(helm.path!, args, { encoding: 'utf8' });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

function render(...set: string[]): Obj[] {
  const out = helmTemplate(...set);
  assert.equal(out.status, 0, out.stderr);
  return parseDocs(out.stdout, 'helm template');
}

describe(`charts/hermod (rendered by helm${helm.version ? ` ${helm.version}` : ''})`, { skip: helm.skip ?? false }, () => {
  it('passes helm lint --strict', () => {
    const out = spawnSync(helm.path!, ['lint', '--strict', join(root, chartDir), '--set', 'existingSecret=hermod', '--kube-version', KUBE_VERSION], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stdout + out.stderr);
  });

  it('refuses to render without existingSecret, and says what to do', () => {
    const out = helmTemplate();
    assert.notEqual(out.status, 0);
    assert.match(out.stderr, /existingSecret must name a Secret holding SLACK_TOKEN/);
  });

  it('rejects an unknown log level or message mode (values.schema.json)', () => {
    assert.notEqual(helmTemplate('existingSecret=s', 'logLevel=verbose').status, 0);
    assert.notEqual(helmTemplate('existingSecret=s', 'messageMode=thread').status, 0);
  });

  it('renders the ServiceAccount, least-privilege RBAC and a hardened Deployment by default', () => {
    const docs = render('existingSecret=hermod-slack');
    assert.deepEqual(docs.map((d) => String(d['kind'])).sort(), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'ServiceAccount']);
    const role = one(docs, 'ClusterRole');
    assert.deepEqual(sorted(permissionsOf(role['rules'])), sorted(EXPECTED_PERMISSIONS));
    const account = one(docs, 'ServiceAccount');
    assert.equal(at(account, 'metadata.namespace'), 'hermod-system');
    assert.deepEqual(at(one(docs, 'ClusterRoleBinding'), 'subjects'), [
      { kind: 'ServiceAccount', name: at(account, 'metadata.name'), namespace: 'hermod-system' },
    ]);
    assert.equal(at(one(docs, 'ClusterRoleBinding'), 'roleRef.name'), at(role, 'metadata.name'));
    const stateRole = one(docs, 'Role');
    assert.equal(at(stateRole, 'metadata.namespace'), 'hermod-system');
    assert.deepEqual(sorted(roleRulesOf(stateRole['rules'])), sorted(EXPECTED_NAMESPACED_PERMISSIONS));
    const stateBinding = one(docs, 'RoleBinding');
    assert.equal(at(stateBinding, 'metadata.namespace'), 'hermod-system');
    assert.deepEqual(at(stateBinding, 'roleRef'), { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: at(stateRole, 'metadata.name') });
    assert.deepEqual(at(stateBinding, 'subjects'), [
      { kind: 'ServiceAccount', name: at(account, 'metadata.name'), namespace: 'hermod-system' },
    ]);
    const deployment = one(docs, 'Deployment');
    checkHermodDeployment(deployment, 'hermod-slack');
    const env = list(at(hermodContainer(deployment), 'env'), 'env');
    assert.deepEqual(at(env.find((e) => at(e, 'name') === 'POD_NAMESPACE'), 'valueFrom'), { fieldRef: { fieldPath: 'metadata.namespace' } });
    assert.equal(at(podSpecOf(deployment), 'serviceAccountName'), at(account, 'metadata.name'));
    assert.equal(at(hermodContainer(deployment), 'image'), 'hermod:0.1.0');
    assert.deepEqual(at(deployment, 'spec.selector.matchLabels'), {
      'app.kubernetes.io/name': 'hermod', 'app.kubernetes.io/instance': 'hermod',
    });
  });

  it('passes the settings through as flags and environment', () => {
    const docs = render(
      'existingSecret=s', 'clusterName=prod-eu', 'logLevel=debug', 'messageMode=post', 'failingGraceSeconds=90', 'bakeSeconds=120',
      'gitAnnotations.commitSha=example.com/sha', 'gitAnnotations.repoUrl=example.com/repo',
      'gitAnnotations.warnWhenMissing=true', 'extraArgs[0]=--dry-run', 'image.repository=registry.example/hermod',
      'image.tag=1.2.3', 'logLines=7', 'logRedact[0]=customer-[0-9]+', 'progressDeadlineSeconds=900',
    );
    const c = hermodContainer(one(docs, 'Deployment'));
    assert.deepEqual(c['args'], [
      'run', '--level=debug', '--message-mode=post', '--failing-grace-seconds=90', '--group-window-seconds=30', '--bake-seconds=120', '--progress-deadline-seconds=900', '--log-lines=7', '--log-redact=customer-[0-9]+', '--metrics-port=2112',
      '--commit-sha-annotation=example.com/sha', '--repo-url-annotation=example.com/repo', '--git-annotation-warning', '--dry-run',
    ]);
    assert.ok(list(c['env'], 'env').some((e) => at(e, 'name') === 'CLUSTER_NAME' && at(e, 'value') === 'prod-eu'));
    assert.equal(c['image'], 'registry.example/hermod:1.2.3');
  });

  it('leaves out the ServiceAccount and RBAC when asked, and adds the metrics Service when asked', () => {
    const docs = render('existingSecret=s', 'serviceAccount.create=false', 'serviceAccount.name=mine', 'rbac.create=false', 'metrics.service.enabled=true');
    assert.deepEqual(docs.map((d) => String(d['kind'])).sort(), ['Deployment', 'PodDisruptionBudget', 'Service']);
    assert.equal(at(podSpecOf(one(docs, 'Deployment')), 'serviceAccountName'), 'mine');
    const service = one(docs, 'Service');
    assert.deepEqual(at(service, 'spec.ports.0'), { name: 'http-metrics', port: METRICS_PORT, targetPort: 'http-metrics', protocol: 'TCP' });
    assert.deepEqual(at(service, 'spec.selector'), at(one(docs, 'Deployment'), 'spec.selector.matchLabels'));
  });
});
