// The reporters by name (plan `reports.reporters`, `--reporter`): a typed table
// from ReporterName to a loader of its factory, so a new reporter or a renamed
// module fails the type check. Loaders import on demand: a run that writes no
// HTML never loads the HTML renderer. File reporters come first and the
// terminal one last, so the summary it prints at the end can list the files the
// others have just written.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isSet, useColor } from '../text/colour.js';
import { REPORTER_NAMES, type ReporterName } from '../contract/plan.js';
import type { Reporter } from '../contract/reporter.js';

export { REPORTER_NAMES, type ReporterName };
export const DEFAULT_REPORTERS: ReporterName[] = ['live', 'json'];

/** Everything a factory may take; each takes what it needs. */
export interface ReporterOptions {
  reportDir: string;
  env: NodeJS.ProcessEnv;
  /** Where the terminal reporters write. */
  stream: NodeJS.WriteStream;
  color: boolean;
  /** Report files the other reporters wrote, listed under the summary. */
  files: () => Promise<string[]>;
}

type Factory = (o: ReporterOptions) => Reporter;

const TERMINAL = new Set<ReporterName>(['live', 'plain']);
/** File reporters a trimmed build of planrun may leave out (json, live and plain are always there). */
const OPTIONAL = new Set<ReporterName>(['junit', 'html', 'markdown']);

const REGISTRY: Record<ReporterName, () => Promise<Factory>> = {
  live: async () => (await import('./terminal/live.js')).liveReporter,
  plain: async () => (await import('./terminal/plain.js')).plainReporter,
  json: async () => (await import('./files/json.js')).jsonReporter,
  junit: async () => (await import('./files/junit.js')).junitReporter,
  html: async () => (await import('./files/html/html-report.js')).htmlReporter,
  markdown: async () => (await import('./files/markdown.js')).markdownReporter,
};

/** Report files the summary lists: what reporters write at the top of the report folder. */
const REPORT_FILE = /\.(json|xml|html|md)$/;

/** Reporter names that cannot be used (unknown, live with plain, left out of this build): a usage error. */
export class ReporterSelectionError extends Error {
  override readonly name = 'ReporterSelectionError';
}

export interface CreateReportersOptions {
  reportDir: string;
  stream?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

/** The named reporters, each once; none for `[]` (the run session picks the defaults). */
export async function createReporters(names: readonly string[], o: CreateReportersOptions): Promise<Reporter[]> {
  const stream = o.stream ?? process.stdout;
  const env = o.env ?? process.env;
  const wanted = [...new Set(names)];

  const unknown = wanted.filter((n) => !isReporterName(n));
  if (unknown.length > 0) {
    const list = unknown.map((n) => `\`${n}\``).join(', ');
    throw new ReporterSelectionError(`Unknown reporter ${list}: choose from ${REPORTER_NAMES.join(', ')}.`);
  }
  const chosen = wanted as ReporterName[];
  if (chosen.includes('live') && chosen.includes('plain')) {
    throw new ReporterSelectionError('Reporters `live` and `plain` both draw on the terminal: choose one (live falls back to plain when the output is not a terminal).');
  }

  const options: ReporterOptions = { reportDir: o.reportDir, env, stream, color: useColor(stream, env), files: () => listReportFiles(o.reportDir) };
  const files = chosen.filter((n) => !TERMINAL.has(n));
  const terminal = terminalReporter(chosen, stream, env);
  const ordered = terminal ? [...files, terminal] : files;
  return Promise.all(ordered.map(async (name) => (await load(name))(options)));
}

function isReporterName(name: string): name is ReporterName {
  return (REPORTER_NAMES as readonly string[]).includes(name);
}

/** live or plain, when either is asked for: live only where it can redraw. */
function terminalReporter(wanted: ReporterName[], stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): ReporterName | undefined {
  if (wanted.includes('live')) return canDrawLive(stream, env) ? 'live' : 'plain';
  return wanted.includes('plain') ? 'plain' : undefined;
}

/** A live view needs a terminal to redraw; CI logs get one line per event instead. */
export function canDrawLive(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !isSet(env.CI);
}

/** Says so when this build left the reporter's module out, rather than crash. */
async function load(name: ReporterName): Promise<Factory> {
  try {
    return await REGISTRY[name]();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && OPTIONAL.has(name)) {
      throw new ReporterSelectionError(`Reporter \`${name}\` is not available in this build of planrun: use json, live or plain.`, { cause: error });
    }
    throw error;
  }
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
