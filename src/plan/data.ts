// Test data from files (`data:`): CSV or JSON rows, loaded once when the plan
// loads (so validate reports a missing file or a bad line), held once for the
// whole run in a compact table; workers only hold the row they drew.
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { IssueCollector } from './issue-collector.js';
import type { DataSetSpec, DataTable } from '../contract/plan.js';
import type * as Raw from './raw-plan.js';

/**
 * CSV rows in blocks: the cells of ROWS_PER_BLOCK rows joined into one string,
 * plus where each cell ends. A million short rows cost about the file's size
 * plus 4 bytes a cell, instead of an object and a string per cell.
 */
const ROWS_PER_BLOCK = 1024;

class CsvTable implements DataTable {
  size = 0;
  private readonly blocks: string[] = [];
  private readonly ends: Uint32Array[] = [];
  private pending: string[] = [];

  constructor(readonly columns: readonly string[]) {}

  add(record: string[]): void {
    for (const cell of record) this.pending.push(cell);
    if (++this.size % ROWS_PER_BLOCK === 0) this.flush();
  }

  /** Closes the last, partial block; call once after the last add. */
  flush(): void {
    if (this.pending.length === 0) return;
    const ends = new Uint32Array(this.pending.length);
    let at = 0;
    this.pending.forEach((cell, i) => {
      ends[i] = at += cell.length;
    });
    this.blocks.push(this.pending.join(''));
    this.ends.push(ends);
    this.pending = [];
  }

  row(i: number): Record<string, string> {
    const block = this.blocks[Math.floor(i / ROWS_PER_BLOCK)]!;
    const ends = this.ends[Math.floor(i / ROWS_PER_BLOCK)]!;
    const width = this.columns.length;
    const first = (i % ROWS_PER_BLOCK) * width;
    const out: Record<string, string> = {};
    for (let c = 0; c < width; c++) out[this.columns[c]!] = block.slice(first + c === 0 ? 0 : ends[first + c - 1], ends[first + c]);
    return out;
  }
}

/** A JSON array: rows are its items as they are (objects, or plain values). */
class JsonTable implements DataTable {
  readonly size: number;
  readonly columns?: readonly string[];

  constructor(private readonly rows: unknown[]) {
    this.size = rows.length;
    // Columns are known when every row is an object: the union of their keys.
    if (rows.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) {
      this.columns = [...new Set(rows.flatMap((r) => Object.keys(r as object)))];
    }
  }

  row(i: number): unknown {
    return this.rows[i];
  }
}

/** Loads every data set of the plan; a set that cannot be loaded is reported and left out. */
export function loadDataSets(raw: Record<string, Raw.DataSet> | undefined, planFile: string, issues: IssueCollector): DataSetSpec[] {
  const sets: DataSetSpec[] = [];
  for (const [name, spec] of Object.entries(raw ?? {})) {
    const path = ['data', name];
    const report = (message: string, at: string = 'file', hint?: string) => issues.error([...path, at], `data.${name}: ${message}`, hint ? { hint } : {});
    const pick = spec.pick ?? 'sequence';
    if (spec.atEnd !== undefined && pick === 'random') {
      report('a random pick never runs out of rows: atEnd applies to pick: sequence', 'atEnd');
      continue;
    }
    const table = loadTable(spec, resolve(dirname(planFile), spec.file), report);
    if (!table) continue;
    if (table.size === 0) {
      report(`${spec.file} has no rows`);
      continue;
    }
    sets.push({ name, file: spec.file, table, pick, every: spec.every ?? 'round', atEnd: spec.atEnd ?? 'wrap', loc: issues.loc(path, 'key') });
  }
  return sets;
}

type Report = (message: string, at?: string, hint?: string) => void;

function loadTable(spec: Raw.DataSet, file: string, report: Report): DataTable | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    report(
      `cannot read ${spec.file}: ${code === 'ENOENT' ? `no such file (${file})` : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`,
      'file',
      'the path is relative to the plan file',
    );
    return undefined;
  }
  const json = spec.format === 'json' || (spec.format === undefined && extname(file).toLowerCase() === '.json');
  if (!json) return csvTable(spec, bytes, report);
  const csvOnly = (['header', 'columns', 'delimiter'] as const).find((k) => spec[k] !== undefined);
  if (csvOnly) {
    report(`\`${csvOnly}\` applies to CSV files; ${spec.file} is read as JSON`, csvOnly);
    return undefined;
  }
  return jsonTable(spec, bytes, report);
}

function jsonTable(spec: Raw.DataSet, bytes: Buffer, report: Report): DataTable | undefined {
  let rows: unknown;
  try {
    rows = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    report(`${spec.file} is not valid JSON: ${(err as Error).message}`);
    return undefined;
  }
  if (!Array.isArray(rows)) {
    const what = rows === null ? 'null' : typeof rows === 'object' ? 'an object' : `a ${typeof rows}`;
    report(`${spec.file} must hold a JSON array (of objects or of values), not ${what}`);
    return undefined;
  }
  return new JsonTable(rows);
}

function csvTable(spec: Raw.DataSet, bytes: Buffer, report: Report): DataTable | undefined {
  const header = spec.header ?? true;
  if (!header && !spec.columns) {
    report('a CSV without a header line needs its column names in `columns:`', 'header', 'e.g. columns: [username, password]');
    return undefined;
  }
  let table: CsvTable | undefined = spec.columns && !header ? new CsvTable(spec.columns) : undefined;
  try {
    // on_record stores each record and returns null, so csv-parse keeps no array of its own.
    parseCsv(bytes, {
      bom: true,
      skip_empty_lines: true,
      ...(spec.delimiter !== undefined ? { delimiter: spec.delimiter } : {}),
      on_record: (record: string[], info) => {
        if (!table) {
          table = new CsvTable(headerColumns(record, spec.columns, info.lines));
          return null;
        }
        if (record.length !== table.columns.length) throw lineError(`${table.columns.length} columns expected (${table.columns.join(', ')}), got ${record.length}`, info.lines);
        table.add(record);
        return null;
      },
    });
  } catch (err) {
    const e = err as Error & { lines?: number };
    // csv-parse says "at line N" inside its messages: the line leads ours instead.
    report(`${spec.file} line ${e.lines ?? '?'}: ${e.message.replace(/ (?:at|on) line \d+/, '')}`);
    return undefined;
  }
  table?.flush();
  return table ?? new CsvTable(spec.columns ?? []);
}

function headerColumns(record: string[], renamed: readonly string[] | undefined, line: number): string[] {
  if (renamed) {
    if (renamed.length !== record.length) throw lineError(`the header has ${record.length} columns but \`columns:\` names ${renamed.length}`, line);
    return [...renamed];
  }
  const seen = new Set<string>();
  record.forEach((c, i) => {
    if (c.trim() === '') throw lineError(`header column ${i + 1} has no name`, line);
    if (seen.has(c)) throw lineError(`the header names column \`${c}\` twice`, line);
    seen.add(c);
  });
  return record;
}

function lineError(message: string, line: number): Error {
  return Object.assign(new Error(message), { lines: line });
}
