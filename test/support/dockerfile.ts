/**
 * A small reader of Hermod's Dockerfile, for the tests that check it (test/unit/packaging.test.ts)
 * and for what runs the built CLI as the image does (`imageNodeFlags`: bench:cluster,
 * test/integration/bundle.test.ts). It fails, naming the line, on what it cannot read.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Instruction {
  stage: string;
  keyword: string;
  args: string;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** A small Dockerfile reader: joins continuation lines, drops comments, splits stages. */
export function readDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\w+)\s+(.*)$/.exec(line);
    assert.ok(match, `unreadable Dockerfile line: ${line}`);
    const keyword = match[1]!.toUpperCase();
    const rest = match[2]!.trim();
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      assert.ok(from, `unreadable FROM: ${rest}`);
      const image = from[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => {
        const name = (a ?? b)!;
        const value = args.get(name);
        assert.ok(value !== undefined, `FROM uses ARG ${name} without a default`);
        return value;
      });
      stages.push({ name: from[2] ?? String(stages.length), from: image, instructions: [] });
    } else if (stages.length === 0) {
      assert.equal(keyword, 'ARG', `only ARG may come before the first FROM, found ${keyword}`);
      const arg = /^(\w+)(?:=(.*))?$/.exec(rest);
      assert.ok(arg, `unreadable ARG: ${rest}`);
      // A default may use an earlier ARG (BUILD_IMAGE=node:${NODE_MAJOR}-...).
      if (arg[2] !== undefined) args.set(arg[1]!, arg[2].replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => args.get((a ?? b)!) ?? m));
    } else {
      const stage = stages[stages.length - 1]!;
      stage.instructions.push({ stage: stage.name, keyword, args: rest });
    }
  }
  return { args, stages };
}

export function execForm(instruction: Instruction | undefined, what: string): string[] {
  assert.ok(instruction, `${what} is missing`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(instruction.args);
  } catch {
    assert.fail(`${what} must use the exec (JSON array) form, so no shell sits between the kubelet and node: ${instruction.args}`);
  }
  assert.ok(Array.isArray(parsed) && parsed.every((p) => typeof p === 'string'), `${what} must be a JSON array of strings`);
  return parsed as string[];
}

/**
 * The node flags the image starts Hermod with: its final stage's NODE_OPTIONS (`ENV
 * NODE_OPTIONS=--a` or `="--a --b"`), then the flags its ENTRYPOINT gives node before the script.
 */
export function imageNodeFlags(repoDir: string): string[] {
  const { stages } = readDockerfile(readFileSync(join(repoDir, 'Dockerfile'), 'utf8'));
  const final = stages[stages.length - 1]!;
  const env = final.instructions.findLast((i) => i.keyword === 'ENV' && i.args.startsWith('NODE_OPTIONS='));
  const options = (env?.args.slice('NODE_OPTIONS='.length) ?? '').trim().replace(/^"(.*)"$/, '$1');
  const entrypoint = execForm(final.instructions.findLast((i) => i.keyword === 'ENTRYPOINT'), 'ENTRYPOINT');
  return [...options.split(/\s+/).filter((f) => f !== ''), ...entrypoint.slice(1, -1)];
}
