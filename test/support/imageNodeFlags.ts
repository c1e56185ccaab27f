/**
 * The node flags the image starts Hermod with, read from the Dockerfile: its NODE_OPTIONS and
 * the flags its ENTRYPOINT gives node before the script. bench:cluster and the bundle's tests
 * run the built CLI with them, as a cluster runs it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function imageNodeFlags(repoDir: string): string[] {
  const dockerfile = readFileSync(join(repoDir, 'Dockerfile'), 'utf8');
  // ENV NODE_OPTIONS=--a or ENV NODE_OPTIONS="--a --b"
  const options = (/^ENV NODE_OPTIONS=(.*)$/m.exec(dockerfile)?.[1] ?? '').trim().replace(/^"(.*)"$/, '$1');
  // ENTRYPOINT ["/nodejs/bin/node", "--flag", ..., "dist/src/io/commands/cli.js"]: the flags between node and the script.
  const entrypoint = /^ENTRYPOINT (\[.*\])\s*$/m.exec(dockerfile)?.[1];
  const exec = entrypoint === undefined ? [] : (JSON.parse(entrypoint) as string[]);
  return [...options.split(/\s+/).filter((f) => f !== ''), ...exec.slice(1, -1)];
}
