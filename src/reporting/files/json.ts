// report.json: written whole or not at all (see atomic-file.ts), so a reader
// (or `planrun report`) never sees half a file, even when the run is
// interrupted while writing.
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic-file.js';
import type { RunReport } from '../../contract/report.js';
import type { Reporter } from '../../contract/reporter.js';

export const JSON_REPORT_FILE = 'report.json';

/** Writes `dir/report.json`, creating `dir` if needed; returns its path. */
export async function writeJsonReport(report: RunReport, dir: string): Promise<string> {
  const file = join(dir, JSON_REPORT_FILE);
  await writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`);
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
