// `planrun report <report.json>`: re-render HTML, JUnit and Markdown from a
// saved JSON report (the single source), e.g. after a CI job or with a newer
// planrun's renderers.
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from '../command.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { REPORT_VERSION, type RunReport } from '../../contract/report.js';

const FORMATS = ['html', 'junit', 'markdown'] as const;
type Format = (typeof FORMATS)[number];
const FILE: Record<Format, string> = { html: 'report.html', junit: 'junit.xml', markdown: 'summary.md' };

const usage = `Usage: planrun report <report.json> [--reporter html,junit,markdown] [--out <dir>]

Re-renders reports from a JSON report written by \`planrun run\` (report.json).

Options:
  --reporter <list>  Formats to write, comma-separated or repeated: html, junit, markdown (default: all three)
  --out <dir>        Folder to write into (default: the folder of report.json).
                     Screenshots are still read from the folder of report.json.
  -h, --help         Show this help

Exit codes: 0 written, 2 missing/invalid report or bad usage.`;

class UsageError extends Error {}

function parseArgs(argv: string[]): { file: string; formats: Format[]; out?: string } {
  let file: string | undefined;
  let out: string | undefined;
  const formats: Format[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--reporter' || flag === '-r') {
      for (const name of value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        if (!(FORMATS as readonly string[]).includes(name)) throw new UsageError(`unknown reporter \`${name}\`; planrun report can write: ${FORMATS.join(', ')}`);
        if (!formats.includes(name as Format)) formats.push(name as Format);
      }
    } else if (flag === '--out' || flag === '-o') {
      out = value();
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option \`${a}\``);
    } else if (file === undefined) {
      file = a;
    } else {
      throw new UsageError(`unexpected argument \`${a}\` (one report.json at a time)`);
    }
  }
  if (file === undefined) throw new UsageError('which report? give the path of a report.json');
  return { file, formats: formats.length ? formats : [...FORMATS], ...(out !== undefined ? { out } : {}) };
}

/** Reads and sanity-checks a JSON report; throws an Error with a sentence for the user. */
export async function readReport(file: string): Promise<RunReport> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${file} does not exist; pass the report.json a run wrote into its report folder`);
    if (code === 'EISDIR') throw new Error(`${file} is a folder; pass the report.json inside it (${join(file, 'report.json')})`);
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}); was it cut short? Run the plan again to get a complete report.json`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new Error(`${file} is not a planrun JSON report (expected an object with "version": ${REPORT_VERSION})`);
  const version = (data as { version?: unknown }).version;
  if (version === undefined) throw new Error(`${file} is not a planrun JSON report: it has no "version" field`);
  if (version !== REPORT_VERSION) {
    throw new Error(
      `${file} is a version ${JSON.stringify(version)} report; this planrun reads version ${REPORT_VERSION}. Re-render it with the planrun that wrote it, or run the plan again`,
    );
  }
  const r = data as Partial<RunReport>;
  const missing = (['run', 'steps', 'timeline', 'errors', 'thresholds', 'barriers', 'workers', 'services'] as const).filter((k) => r[k] === undefined);
  if (missing.length) throw new Error(`${file} is not a complete planrun report: missing ${missing.map((k) => `"${k}"`).join(', ')}`);
  return data as RunReport;
}

async function render(format: Format, report: RunReport, sourceDir: string): Promise<string> {
  switch (format) {
    case 'html':
      return (await import('../../reporting/files/html/html-report.js')).renderHtml(report, { reportDir: sourceDir });
    case 'junit':
      return (await import('../../reporting/files/junit.js')).renderJunit(report, { reportDir: sourceDir });
    case 'markdown':
      return (await import('../../reporting/files/markdown.js')).renderMarkdown(report);
  }
}

export const command: Command = {
  name: 'report',
  summary: 'Re-render HTML, JUnit and Markdown reports from a saved report.json',
  usage,
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    let args: ReturnType<typeof parseArgs>;
    try {
      args = parseArgs(argv);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      process.stderr.write(`planrun report: ${e.message}\n\n${usage}\n`);
      return 2;
    }
    let report: RunReport;
    try {
      report = await readReport(args.file);
    } catch (e) {
      process.stderr.write(`planrun report: ${(e as Error).message}\n`);
      return 2;
    }
    const sourceDir = dirname(resolve(args.file));
    const outDir = resolve(args.out ?? sourceDir);
    for (const format of args.formats) {
      const target = join(outDir, FILE[format]);
      await writeFileAtomic(target, await render(format, report, sourceDir));
      process.stdout.write(`${format.padEnd(8)} ${relative(process.cwd(), target) || target}\n`);
    }
    return 0;
  },
};
