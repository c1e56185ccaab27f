/**
 * example/prometheus-rules.yaml: valid rules (`promtool check rules`) whose alerts fire when
 * they should and not before (`promtool test rules`, test/fixtures/prometheus/), on metric
 * names Hermod exports. promtool comes with the test setup (scripts/setup-test-env.sh).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { createMetrics } from '../../src/io/metrics.js';

const RULES = new URL('../../example/prometheus-rules.yaml', import.meta.url);
const TESTS = new URL('../fixtures/prometheus/prometheus-rules.test.yaml', import.meta.url);
const DASHBOARD = new URL('../../example/grafana-dashboard.json', import.meta.url);

const promtool = spawnSync('promtool', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'hermod-rules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface PrometheusRule {
  kind: string;
  spec: { groups: { name: string; rules: { alert?: string; expr: string }[] }[] };
}
const rule = parse(readFileSync(RULES, 'utf8')) as PrometheusRule;
writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
copyFileSync(TESTS, join(dir, 'prometheus-rules.test.yaml'));

/** hermod_* names in a PromQL text. */
const metricNames = (text: string) => [...text.matchAll(/\bhermod_[a-z_]+/g)].map((m) => m[0]);

describe('example/prometheus-rules.yaml', () => {
  it('is a PrometheusRule with the alerts the README promises', () => {
    assert.equal(rule.kind, 'PrometheusRule');
    const alerts = rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
    for (const name of ['HermodDown', 'HermodSlackTokenRejected', 'HermodSlackDeliveriesFailing', 'HermodSlackQueueGrowing', 'HermodWatchStale', 'HermodNoLeader', 'HermodTwoLeaders']) {
      assert.ok(alerts.includes(name), name);
    }
  });

  it("uses only metrics Hermod exports (hermod_leader comes with leader election)", async () => {
    const exported = new Set((await createMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name));
    exported.add('hermod_leader');
    const used = rule.spec.groups.flatMap((g) => g.rules.flatMap((r) => metricNames(r.expr)));
    for (const name of used) assert.ok(exported.has(name), `${name} is not a Hermod metric`);
  });

  it('passes promtool check rules', { skip: promtool ? false : 'promtool is not installed (scripts/setup-test-env.sh installs it)' }, () => {
    execFileSync('promtool', ['check', 'rules', join(dir, 'rules.yaml')], { stdio: 'pipe' });
  });

  it('passes promtool test rules: each alert fires when it should and not before', { skip: promtool ? false : 'promtool is not installed' }, () => {
    const r = spawnSync('promtool', ['test', 'rules', 'prometheus-rules.test.yaml'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});

describe('example/grafana-dashboard.json', () => {
  it('is a dashboard whose panels query metrics Hermod exports', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { title: string; panels: { title: string; targets?: { expr: string }[] }[] };
    assert.ok(dashboard.panels.length >= 6);
    const exported = new Set((await createMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name));
    exported.add('hermod_leader');
    const used = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr)));
    assert.ok(used.length > 0);
    for (const name of used) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(exported.has(name) || exported.has(base), `${name} is not a Hermod metric`);
    }
  });
});
