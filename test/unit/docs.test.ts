/** The decision records are indexed, and the docs link only to files inside the repository. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADR_DIR = join(ROOT, 'docs/adr');

/** Relative link targets of a markdown text (external URLs and anchors left out). */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!.split('#')[0]!)
    .filter((target) => target !== '' && !/^[a-z]+:/i.test(target));
}

/** Bare relative paths in prose that climb out of the file's folder, such as ../../../x.md. */
function climbingPaths(markdown: string): string[] {
  return [...markdown.matchAll(/(?:^|[\s(`])((?:\.\.\/)+[\w./-]+)/g)].map((m) => m[1]!);
}

describe('docs', () => {
  it('docs/adr/README.md lists every decision record, and only those', () => {
    const records = readdirSync(ADR_DIR).filter((f) => /^\d{4}-.+\.md$/.test(f)).sort();
    assert.ok(records.length >= 5, `decision records found: ${records.join(', ')}`);
    const linked = relativeLinks(readFileSync(join(ADR_DIR, 'README.md'), 'utf8')).filter((l) => /^\d{4}-/.test(l));
    assert.deepEqual([...new Set(linked)].sort(), records);
  });

  it('every link and relative path in README.md and docs/ stays inside the repository and exists', () => {
    const files = ['README.md', ...readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const target of [...relativeLinks(text), ...climbingPaths(text)]) {
        const path = resolve(ROOT, dirname(file), target);
        const inside = relative(ROOT, path);
        assert.ok(!inside.startsWith('..'), `${file} points outside the repository: ${target}`);
        assert.ok(existsSync(path), `${file} points at a missing file: ${target}`);
      }
    }
  });
});
