/**
 * Which surviving mutants docs/testing-mutation.md explains (issue 15: every survivor that
 * remains is listed with the reason it is equivalent or the issue it exposes). Pure: the doc's
 * text and the survivors in, the unexplained survivors out; `npm run test:mutation --
 * --report-only` prints them (scripts/mutation.ts).
 *
 * How the doc is read: each `### ` heading that names files of src/machines
 * (`### src/machines/bake.ts, src/machines/bakePolicy.ts`) opens that files' section; in it,
 * each table whose last column is `why` holds explanations, one row for one or more mutants:
 *
 *   | line | mutant | why |
 *   | 39 | `typeof n === 'number'` → `true`, `n > 0` → `n >= 0` | Equivalent: ... |
 *   | `changesLine.ts` 22, 30-31 | ... | ... |
 *
 * A row explains a mutant of its section's files (or of the files its first cell names in
 * backticks) whose line is among the first cell's numbers and ranges (`211, 234`, `48-49`),
 * and whose original code the row quotes: one of the row's backticked spans contains the code
 * the mutant replaced (its first line), or is contained in it (a part of a quoted condition).
 * So a row goes stale, and its mutants show as unexplained, when the code at its line changes.
 */
import type { Survivor } from './mutation.js';

/** One row of an explanation table. */
export interface Explanation {
  /** The files the row is about (its section's, or those its first cell names). */
  files: string[];
  /** The line numbers of its first cell. */
  lines: number[];
  /** The first cell as written. */
  lineCell: string;
  /** The code the row quotes (its backticked spans, `\|` read as `|`). */
  quoted: string[];
  /** The row after its first cell. */
  text: string;
}

/** Whitespace runs as one space, ends trimmed: the doc wraps and spaces code as it likes. */
function normalised(code: string): string {
  return code.replace(/\s+/g, ' ').trim();
}

/** A Markdown table row's cells (`\|` is a `|` inside a cell). */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));
}

/** The numbers and ranges of a line cell: `211, 234` → [211, 234]; `48-49` and `148–149` → both ends and between. */
export function lineNumbers(cell: string): number[] {
  const out: number[] = [];
  const withoutFiles = cell.replace(/`[^`]*`/g, ' ');
  for (const m of withoutFiles.matchAll(/(\d+)(?:\s*[-–]\s*(\d+))?/g)) {
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let n = from; n <= to && n - from < 1000; n++) out.push(n);
  }
  return out;
}

/** Every explanation row of the doc, with the files it is about. */
export function explanationsIn(doc: string): Explanation[] {
  const out: Explanation[] = [];
  let sectionFiles: string[] = [];
  let inExplanations = false;
  for (const raw of doc.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) {
      sectionFiles = line.startsWith('### ') ? [...line.matchAll(/src\/machines\/[\w.]+\.ts/g)].map((m) => m[0]) : [];
      inExplanations = false;
      continue;
    }
    if (!line.startsWith('|')) {
      inExplanations = false;
      continue;
    }
    const row = cells(line);
    if (row.every((c) => /^:?-+:?$/.test(c))) continue; // the header's separator
    if (!inExplanations) {
      // A table's first row is its header: explanations are the tables whose last column is "why".
      inExplanations = sectionFiles.length > 0 && row[row.length - 1]?.toLowerCase() === 'why';
      continue;
    }
    const [lineCell = '', ...rest] = row;
    const named = [...lineCell.matchAll(/`([\w.]+\.ts)`/g)].map((m) => m[1]!);
    const files = named.length === 0 ? sectionFiles : sectionFiles.filter((f) => named.some((n) => f.endsWith(`/${n}`)));
    const text = rest.join(' | ');
    const quoted = [...text.matchAll(/`([^`]+)`/g)].map((m) => normalised(m[1]!)).filter((q) => q !== '');
    out.push({ files, lines: lineNumbers(lineCell), lineCell, quoted, text });
  }
  return out;
}

/** Whether `row` explains `survivor`: its file and line, and the row quotes the code it replaced. */
export function explains(row: Explanation, survivor: Survivor): boolean {
  if (!row.files.includes(survivor.file) || !row.lines.includes(survivor.line)) return false;
  const original = normalised(survivor.original);
  if (original === '') return true;
  return row.quoted.some((q) => q.includes(original) || original.includes(q));
}

/** The survivors no row explains. */
export function unexplained(survivors: readonly Survivor[], rows: readonly Explanation[]): Survivor[] {
  return survivors.filter((s) => !rows.some((row) => explains(row, s)));
}

/** The rows about a file of the report that explain none of its survivors (killed since, or the code moved). */
export function staleExplanations(survivors: readonly Survivor[], rows: readonly Explanation[], reportFiles: readonly string[]): Explanation[] {
  return rows.filter((row) => row.files.some((f) => reportFiles.includes(f)) && !survivors.some((s) => explains(row, s)));
}
