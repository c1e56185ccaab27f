/** Types of stryker.config.mjs for the TypeScript that imports it (test/unit/mutation-config.test.ts). */
import type { PartialStrykerOptions } from '@stryker-mutator/api/core';

/** Every test file the fast-test patterns name, sorted (before the run order is applied). */
export declare const FAST_TEST_FILES: string[];
declare const config: PartialStrykerOptions;
export default config;
