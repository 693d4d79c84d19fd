// Turns reporter names (plan `reports.reporters`, `--reporter`) into reporters.
// File reporters come first and the console reporter last, so the summary it
// prints at the end can list the files the others have just written.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { jsonReporter } from './files/json.js';
import { liveReporter } from './terminal/live.js';
import { plainReporter } from './terminal/plain.js';
import type { Reporter } from './reporter.js';

export const REPORTER_NAMES = ['live', 'plain', 'json', 'junit', 'html', 'markdown'] as const;
export type ReporterChoice = (typeof REPORTER_NAMES)[number];
export const DEFAULT_REPORTERS: ReporterChoice[] = ['live', 'json'];

/** Report files the summary lists: what reporters write at the top of the report folder. */
const REPORT_FILE = /\.(json|xml|html|md)$/;

/** Modules of the file reporters loaded on demand, with the factory each exports. */
const LAZY: Record<'junit' | 'html' | 'markdown', { module: string; factory: string }> = {
  junit: { module: './files/junit.js', factory: 'junitReporter' },
  html: { module: './files/html/html-report.js', factory: 'htmlReporter' },
  markdown: { module: './files/markdown.js', factory: 'markdownReporter' },
};

export interface CreateReportersOptions {
  reportDir: string;
  stream?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

export async function createReporters(names: readonly string[], o: CreateReportersOptions): Promise<Reporter[]> {
  const stream = o.stream ?? process.stdout;
  const env = o.env ?? process.env;
  const wanted = [...new Set(names.length > 0 ? names : DEFAULT_REPORTERS)];

  const unknown = wanted.filter((n) => !(REPORTER_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    const list = unknown.map((n) => `\`${n}\``).join(', ');
    throw new Error(`Unknown reporter ${list}: choose from ${REPORTER_NAMES.join(', ')}.`);
  }
  if (wanted.includes('live') && wanted.includes('plain')) {
    throw new Error('Reporters `live` and `plain` both draw on the terminal: choose one (live falls back to plain when the output is not a terminal).');
  }

  const files: Reporter[] = [];
  for (const name of wanted as ReporterChoice[]) {
    if (name === 'json') files.push(jsonReporter({ reportDir: o.reportDir }));
    else if (name === 'junit' || name === 'html' || name === 'markdown') files.push(await loadFileReporter(name, o.reportDir, env));
  }

  const terminal = consoleReporter(wanted, stream, env, o.reportDir);
  return terminal ? [...files, terminal] : files;
}

function consoleReporter(wanted: string[], stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv, reportDir: string): Reporter | undefined {
  if (!wanted.includes('live') && !wanted.includes('plain')) return undefined;
  const options = { stream, color: useColor(stream, env), files: () => listReportFiles(reportDir) };
  return wanted.includes('live') && canDrawLive(stream, env) ? liveReporter(options) : plainReporter(options);
}

/** A live view needs a terminal to redraw; CI logs get one line per event instead. */
export function canDrawLive(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !isSet(env.CI);
}

/** NO_COLOR (https://no-color.org) wins; FORCE_COLOR forces; otherwise only on a terminal. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (isSet(env.FORCE_COLOR)) return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

async function loadFileReporter(name: keyof typeof LAZY, reportDir: string, env: NodeJS.ProcessEnv): Promise<Reporter> {
  const { module, factory } = LAZY[name];
  let loaded: Record<string, unknown>;
  try {
    // A variable specifier keeps these optional modules out of the type check
    // and loads them only when asked for.
    loaded = (await import(module)) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(module.slice(2))) {
      throw new Error(`Reporter \`${name}\` is not available in this build of planrun: use json, live or plain.`, { cause: error });
    }
    throw error;
  }
  const create = loaded[factory];
  if (typeof create !== 'function') throw new Error(`Reporter \`${name}\` is not available: its module does not export ${factory}().`);
  return (create as (o: { reportDir: string; env: NodeJS.ProcessEnv }) => Reporter)({ reportDir, env });
}

async function listReportFiles(reportDir: string): Promise<string[]> {
  try {
    const entries = await readdir(reportDir, { withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && REPORT_FILE.test(e.name) && !e.name.startsWith('.'))
      .map((e) => join(reportDir, e.name))
      .sort();
  } catch {
    return [];
  }
}
