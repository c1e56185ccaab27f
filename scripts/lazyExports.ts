/**
 * CommonJS source lines that give `names` as getters loading `specifier` on first use: how the
 * build's plugins make a bundled package load only when Hermod uses it (./clientNodeSlim.ts for
 * the SOCKS packages, ./undiciSlim.ts for the rest of undici). esbuild keeps the getters lazy:
 * an ESM import of such a module reads each name where it is used.
 */
export function lazyExports(specifier: string, names: readonly string[]): string[] {
  return [
    'let loaded;',
    `const load = () => (loaded ??= require(${JSON.stringify(specifier)}));`,
    ...names.map((name) => `Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, get: () => load()[${JSON.stringify(name)}] });`),
  ];
}
