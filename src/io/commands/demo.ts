/**
 * `hermod demo`: the demo (demo/) needs the test control plane and the local Slack server,
 * which live in a source checkout (demo/, test/), not in the container image. It is loaded
 * by URL at run time, so no product module imports demo/ or test/.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config.js';
import { EXIT } from './exitCodes.js';

export async function demo(config: Config, flags: Record<string, unknown>): Promise<number> {
  const script = new URL('../../../demo/demo.ts', import.meta.url);
  if (!existsSync(script)) {
    console.error('hermod demo: run it from a source checkout with `npm start` (the demo needs demo/, test/ and Go to build a local control plane)');
    return EXIT.usage;
  }
  const module = (await import(script.href)) as { runDemo(config: Config, flags: Record<string, unknown>): Promise<number> };
  return module.runDemo(config, flags);
}
