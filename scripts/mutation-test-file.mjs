/**
 * How a mutant's test file runs (stryker.config.mjs, `tap.nodeArgs`): the tap runner passes the
 * test file by its TypeScript name (test/unit/X.test.ts, the name Stryker keys coverage and the
 * incremental file by), and this imports the JavaScript that the sandbox's build
 * (`scripts/mutation.ts --build-sandbox`) wrote beside it. Plain Node, no tsx: a quick test
 * file costs a third of its CPU under tsx (docs/testing-mutation.md, "Where the time goes").
 */
import { resolve } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
if (file === undefined || !file.endsWith('.ts')) throw new Error(`usage: node scripts/mutation-test-file.mjs test/unit/X.test.ts (got ${String(file)})`);
await import(pathToFileURL(resolve(file.slice(0, -'.ts'.length) + '.js')).href);
