// report.json: written whole or not at all, so a reader (or `planrun report`)
// never sees half a file, even when the run is interrupted while writing.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunReport } from './report.js';
import type { Reporter } from './reporter.js';

export const JSON_REPORT_FILE = 'report.json';

/** Writes `dir/report.json` through a temporary file and a rename; returns its path. */
export async function writeJsonReport(report: RunReport, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, JSON_REPORT_FILE);
  // Same folder as the target so the rename stays on one file system (atomic).
  const temp = join(dir, `.${JSON_REPORT_FILE}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    await writeFile(temp, JSON.stringify(report, null, 2) + '\n', 'utf8');
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw new Error(`Could not write the JSON report to ${file}: ${(error as Error).message}. Check that the report folder is writable.`, { cause: error });
  }
  return file;
}

export function jsonReporter(o: { reportDir: string }): Reporter & { readonly written: string[] } {
  const written: string[] = [];
  return {
    name: 'json',
    written,
    async onEnd(report) {
      written.push(await writeJsonReport(report, o.reportDir));
    },
  };
}
