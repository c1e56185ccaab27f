/**
 * `npm run bench:imports`: what loading a built Hermod costs before it does anything. For each
 * module given (default: this checkout's built `hermod run` entry, dist/src/io/commands/run.js),
 * a fresh `node` imports it and exits; the wall time of the whole process (spawn to exit) and
 * its peak RSS (getrusage maxrss) are taken, runs interleaved between the modules so a change
 * in the machine's load hits them alike, and the medians printed.
 *
 *   npm run bench:imports -- [--runs 9] [MODULE ...]    (paths to .js files; `-` = nothing)
 *
 * Last line: one JSON object {module: {wallSeconds, peakRssBytes}}.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '9' } }, allowPositionals: true });
const runs = Number(values.runs);
const modules = positionals.length > 0 ? positionals : ['dist/src/io/commands/run.js'];

/** One fresh process importing `module` ('-': nothing); its wall seconds and peak RSS bytes. */
function once(module: string): { wall: number; rss: number } {
  const load = module === '-' ? '' : `await import(${JSON.stringify(pathToFileURL(resolve(module)).href)});`;
  const script = `${load} process.stdout.write(String(process.resourceUsage().maxRSS * 1024)); process.exit(0);`;
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (child.status !== 0) throw new Error(`importing ${module} failed: ${child.stderr}`);
  return { wall, rss: Number(child.stdout) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const samples = new Map(modules.map((m) => [m, { wall: [] as number[], rss: [] as number[] }]));
for (const m of modules) once(m); // warm the file cache
for (let i = 0; i < runs; i++) {
  for (const m of modules) {
    const { wall, rss } = once(m);
    samples.get(m)!.wall.push(wall);
    samples.get(m)!.rss.push(rss);
  }
}
const result: Record<string, { wallSeconds: number; peakRssBytes: number }> = {};
for (const [m, s] of samples) {
  result[m] = { wallSeconds: Math.round(median(s.wall) * 1000) / 1000, peakRssBytes: median(s.rss) };
  const spread = `${Math.min(...s.wall).toFixed(2)}-${Math.max(...s.wall).toFixed(2)} s`;
  console.log(`${m}: ${result[m].wallSeconds.toFixed(2)} s (${spread}), peak RSS ${(result[m].peakRssBytes / 1e6).toFixed(0)} MB, median of ${runs}`);
}
console.log(`load average: ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(JSON.stringify(result));
