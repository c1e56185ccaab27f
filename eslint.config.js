// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** src/ ships in the image; test/ and demo/ do not. */
const PRODUCT_NEVER_IMPORTS = ['**/test/**', '**/demo/**'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**', 'charts/**', 'reports/**', '.stryker-tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // The statecharts and decision functions are pure: no I/O, no imports from the outer layers.
    files: ['src/machines/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'http', 'https', 'net', 'child_process'], message: 'src/machines is pure: no I/O modules.' },
          { group: ['@kubernetes/*', '@slack/*', '@sentry/*', 'pino', 'prom-client', 'cac'], message: 'src/machines is pure: I/O libraries belong in src/io.' },
          { group: ['../actors/*', '../io/*', '../../actors/*', '../../io/*'], message: 'Dependencies flow io -> actors -> machines.' },
          { group: PRODUCT_NEVER_IMPORTS, message: 'Product code never imports test/ or demo/.' },
        ],
      }],
    },
  },
  {
    files: ['src/actors/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['../io/*', '../../io/*'], message: 'Dependencies flow io -> actors -> machines: inject I/O into actors.' },
          { group: PRODUCT_NEVER_IMPORTS, message: 'Product code never imports test/ or demo/.' },
        ],
      }],
    },
  },
  {
    files: ['src/io/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: PRODUCT_NEVER_IMPORTS, message: 'Product code never imports test/ or demo/.' }],
      }],
    },
  },
);
