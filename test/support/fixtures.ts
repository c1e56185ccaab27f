/** The status fixtures in test/fixtures/status: Facts-shaped JSON, and raw API objects under raw/. */
import { readFileSync } from 'node:fs';

const FIXTURES = new URL('../fixtures/status/', import.meta.url);

/** Parses test/fixtures/status/<path>. */
export function loadFixture<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(path, FIXTURES), 'utf8')) as T;
}
