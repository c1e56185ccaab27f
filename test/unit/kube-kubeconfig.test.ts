/** loadKubeConfig: --kubeconfig, KUBECONFIG (merged like kubectl), in-cluster, ~/.kube/config. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { KubeConfigError } from '../../src/io/kube/errors.js';
import { SERVICE_ACCOUNT_DIR, loadKubeConfig } from '../../src/io/kube/kubeconfig.js';

function kubeconfigYaml(opts: { cluster: string; server: string; user: string; context: string; current?: string }): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${opts.cluster}`,
    '  cluster:',
    `    server: ${opts.server}`,
    'users:',
    `- name: ${opts.user}`,
    '  user:',
    `    token: token-of-${opts.user}`,
    'contexts:',
    `- name: ${opts.context}`,
    '  context:',
    `    cluster: ${opts.cluster}`,
    `    user: ${opts.user}`,
    ...(opts.current ? [`current-context: ${opts.current}`] : []),
    '',
  ].join('\n');
}

describe('loadKubeConfig', () => {
  let dir: string;
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hermod-kubeconfig-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    process.env.KUBERNETES_SERVICE_HOST = saved.host;
    process.env.KUBERNETES_SERVICE_PORT = saved.port;
    if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
    if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
  });

  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const noHome = (): string => mkdtempSync(join(dir, 'home-'));

  it('an explicit path wins over everything else', () => {
    const explicit = file('explicit', kubeconfigYaml({ cluster: 'c1', server: 'https://explicit:6443', user: 'u', context: 'x', current: 'x' }));
    const env = file('env', kubeconfigYaml({ cluster: 'c2', server: 'https://env:6443', user: 'u', context: 'x', current: 'x' }));
    const kc = loadKubeConfig(explicit, { env: { KUBECONFIG: env, KUBERNETES_SERVICE_HOST: '10.0.0.1' }, homeDir: noHome() });
    assert.equal(kc.getCurrentCluster()?.server, 'https://explicit:6443');
  });

  it('an explicit path that does not exist is an error naming it', () => {
    assert.throws(() => loadKubeConfig(join(dir, 'nope')), (err: unknown) => {
      assert.ok(err instanceof KubeConfigError);
      assert.match(err.message, /--kubeconfig .*nope: file does not exist/);
      return true;
    });
  });

  it('KUBECONFIG: a list merged like kubectl (missing files skipped, first definition and context win)', () => {
    const a = file('a', kubeconfigYaml({ cluster: 'shared', server: 'https://first:6443', user: 'ua', context: 'ctx-a' }));
    const b = file(
      'b',
      kubeconfigYaml({ cluster: 'shared', server: 'https://second:6443', user: 'ub', context: 'ctx-b', current: 'ctx-b' }),
    );
    const c = file('c', kubeconfigYaml({ cluster: 'other', server: 'https://third:6443', user: 'uc', context: 'ctx-c', current: 'ctx-c' }));
    const kc = loadKubeConfig(undefined, {
      env: { KUBECONFIG: [join(dir, 'missing'), a, b, c].join(delimiter) },
      homeDir: noHome(),
    });
    assert.equal(kc.getCurrentContext(), 'ctx-b', 'a sets no current-context, b is the first that does');
    assert.equal(kc.getCurrentCluster()?.server, 'https://first:6443', 'the first file to define "shared" wins');
    assert.deepEqual(kc.getContexts().map((x) => x.name), ['ctx-a', 'ctx-b', 'ctx-c']);
    assert.equal(kc.getCurrentUser()?.token, 'token-of-ub');
  });

  it('KUBECONFIG naming only missing files is an error naming them', () => {
    assert.throws(
      () => loadKubeConfig('', { env: { KUBECONFIG: join(dir, 'x1') + delimiter + join(dir, 'x2') }, homeDir: noHome() }),
      /KUBECONFIG=.*x1.*x2: none of these files exists/,
    );
  });

  it('a kubeconfig without a usable current context is rejected with the reason', () => {
    const p = file('nocurrent', kubeconfigYaml({ cluster: 'c', server: 'https://s:6443', user: 'u', context: 'x' }));
    assert.throws(() => loadKubeConfig(p), /no current-context is set/);
    const q = file('badcurrent', kubeconfigYaml({ cluster: 'c', server: 'https://s:6443', user: 'u', context: 'x', current: 'y' }));
    assert.throws(() => loadKubeConfig(q), /current-context "y" is not defined/);
    const r = file('notyaml', 'clusters: [: :');
    assert.throws(() => loadKubeConfig(r), /cannot be read as a kubeconfig/);
  });

  it('in-cluster when KUBERNETES_SERVICE_HOST is set, before ~/.kube/config', () => {
    const prefix = join(dir, 'pod');
    mkdirSync(join(prefix, SERVICE_ACCOUNT_DIR), { recursive: true });
    writeFileSync(join(prefix, SERVICE_ACCOUNT_DIR, 'token'), 'sa-token');
    writeFileSync(join(prefix, SERVICE_ACCOUNT_DIR, 'ca.crt'), '');
    const home = noHome();
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), kubeconfigYaml({ cluster: 'h', server: 'https://home:6443', user: 'u', context: 'x', current: 'x' }));
    // client-node's loadFromCluster reads these two from process.env itself.
    process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    const kc = loadKubeConfig(undefined, { env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, homeDir: home, inClusterPrefix: prefix });
    assert.equal(kc.getCurrentCluster()?.server, 'https://10.96.0.1:443');
    assert.equal(kc.getCurrentUser()?.authProvider?.config?.tokenFile, join(prefix, SERVICE_ACCOUNT_DIR, 'token'));
  });

  it('in-cluster without a mounted token is an error that says so', () => {
    assert.throws(
      () => loadKubeConfig(undefined, { env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, homeDir: noHome(), inClusterPrefix: join(dir, 'empty') }),
      /KUBERNETES_SERVICE_HOST is set but the service account token .* does not exist/,
    );
  });

  it('falls back to ~/.kube/config', () => {
    const home = noHome();
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), kubeconfigYaml({ cluster: 'h', server: 'https://home:6443', user: 'u', context: 'x', current: 'x' }));
    assert.equal(loadKubeConfig(undefined, { env: {}, homeDir: home }).getCurrentCluster()?.server, 'https://home:6443');
  });

  it('with nothing found, the error lists everything that was tried', () => {
    const home = noHome();
    assert.throws(() => loadKubeConfig(undefined, { env: {}, homeDir: home }), (err: unknown) => {
      assert.ok(err instanceof KubeConfigError);
      assert.match(err.message, /--kubeconfig \(not given\)/);
      assert.match(err.message, /KUBECONFIG \(not set\)/);
      assert.match(err.message, /in-cluster \(KUBERNETES_SERVICE_HOST not set\)/);
      assert.ok(err.message.includes(join(home, '.kube', 'config')));
      return true;
    });
  });
});
