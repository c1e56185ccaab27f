/** The README documents every option of the configuration table and every metric Hermod exports. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { OPTIONS } from '../../src/io/config.js';
import { createMetrics } from '../../src/io/metrics.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every flag and environment variable', () => {
    for (const option of OPTIONS) {
      if (option.flag !== null) assert.ok(readme.includes(`| \`--${option.flag}\``), `--${option.flag} is missing from the README's table`);
      if (option.env !== null) assert.ok(readme.includes(`\`${option.env}\``), `${option.env} is missing from the README`);
    }
  });

  it("documents every one of Hermod's metrics, and no metric that does not exist", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    for (const name of names) assert.ok(readme.includes(`\`${name}`), `${name} is missing from the README's metrics table`);
    const documented = [...readme.matchAll(/^\| `(hermod_[a-z_]+)/gm)].map((m) => m[1]);
    for (const name of documented) assert.ok(names.includes(name!), `the README documents ${name}, which Hermod does not export`);
  });

  it('keeps the two commands a new user needs', () => {
    assert.match(readme, /npm ci && npm start/);
    assert.match(readme, /npm ci && npm test/);
  });
});
