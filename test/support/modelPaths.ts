/**
 * Which of a model's simple paths a model-based test walks. Every path, except under mutation
 * testing: scripts/mutation.ts sets HERMOD_MODEL_PATH_STRIDE (issue 15), and then a test walks
 * every n-th path plus, for each transition of the model (a state and an event) the stride
 * left out, the first path that takes it. The model suites are the slowest fast tests
 * (2,561 and 3,219 paths), and a mutant that no quicker file kills runs them to the end;
 * the sample keeps every transition of the model walked at least once.
 */
import process from 'node:process';

interface ModelPath {
  steps: ReadonlyArray<{ state: { value: unknown }; event: { type: string } }>;
}

/** The transitions a path takes: "state before -> event" (the first step is xstate.init). */
function transitions(path: ModelPath): string[] {
  const out: string[] = [];
  let before = '';
  for (const step of path.steps) {
    out.push(`${before} -> ${step.event.type}`);
    before = JSON.stringify(step.state.value);
  }
  return out;
}

/** Every path, or every `stride`-th one and the first path of each transition the stride missed. */
export function modelPaths<P extends ModelPath>(paths: readonly P[], stride = Number(process.env['HERMOD_MODEL_PATH_STRIDE'] ?? '1')): P[] {
  if (!Number.isInteger(stride) || stride <= 1) return [...paths];
  const chosen = new Set<number>();
  const covered = new Set<string>();
  paths.forEach((p, i) => {
    if (i % stride !== 0) return;
    chosen.add(i);
    for (const t of transitions(p)) covered.add(t);
  });
  paths.forEach((p, i) => {
    const missing = transitions(p).filter((t) => !covered.has(t));
    if (missing.length === 0) return;
    chosen.add(i);
    for (const t of missing) covered.add(t);
  });
  return paths.filter((_, i) => chosen.has(i));
}
