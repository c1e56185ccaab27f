/** Reading parsed YAML and JSON (manifests, chart values, schemas) in the packaging tests. */

export type Obj = Record<string, unknown>;

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows a dotted path (`spec.template.0.name`); undefined when any step is missing. */
export function at(value: unknown, path: string): unknown {
  let here = value;
  for (const key of path.split('.')) {
    if (Array.isArray(here) && /^\d+$/.test(key)) here = here[Number(key)];
    else if (isObj(here)) here = here[key];
    else return undefined;
  }
  return here;
}
