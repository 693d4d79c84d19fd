// The end-of-run summary printed by the live view and the plain output. A pure
// function of the report: whoever prints it decides about color (NO_COLOR, TTY).
import { relative } from 'node:path';
import type { RunReport } from '../report.js';
import { formatThresholdActual } from '../metrics/evaluate-thresholds.js';

export interface SummaryOptions {
  color: boolean;
  /** Files the reporters wrote (report.json, junit.xml…), listed at the end. */
  files?: string[];
  /** Shown relative to this folder when inside it. */
  cwd?: string;
  /** Error groups listed; the rest are counted. */
  maxErrors?: number;
}

type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';
const CODES: Record<Style, [number, number]> = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] };

export type Paint = (style: Style, text: string) => string;

export function painter(color: boolean): Paint {
  return color ? (style, text) => `\u001b[${CODES[style][0]}m${text}\u001b[${CODES[style][1]}m` : (_style, text) => text;
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms >= 60_000) return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms >= 100) return `${Math.round(ms)}ms`;
  if (ms >= 10) return `${ms.toFixed(1)}ms`;
  return `${ms.toFixed(2)}ms`;
}

export function formatSummary(report: RunReport, o: SummaryOptions): string {
  const paint = painter(o.color);
  const out: string[] = [];
  const cwd = o.cwd ?? process.cwd();

  const verdict =
    report.outcome === 'passed' ? paint('green', '✔ PASSED') : report.outcome === 'aborted' ? paint('yellow', '■ ABORTED') : paint('red', '✖ FAILED');
  const rounds = report.run.rounds !== undefined ? `, ${report.run.rounds} round${report.run.rounds === 1 ? '' : 's'}` : '';
  out.push(`${paint('bold', verdict)}  ${report.run.planName || 'run'} — ${report.run.workers} worker${report.run.workers === 1 ? '' : 's'}${rounds}, ${formatMs(report.durationMs)} (exit ${report.exitCode})`);
  if (report.reason) out.push(`  ${report.reason}`);

  const failedServices = report.services.filter((s) => s.status === 'failed');
  for (const s of failedServices) out.push(`  ${paint('red', `service ${s.name} failed`)}${s.message ? `: ${s.message}` : ''}${s.logFile ? paint('dim', ` (log: ${s.logFile})`) : ''}`);

  const steps = report.steps.filter((s) => s.count > 0);
  if (steps.length > 0) {
    out.push('', paint('bold', 'Steps'));
    const rows = steps.map((s) => [
      s.role,
      s.name,
      String(s.count),
      String(s.ok),
      s.failed > 0 ? paint('red', String(s.failed)) : String(s.failed),
      s.skipped > 0 ? paint('yellow', String(s.skipped)) : String(s.skipped),
      formatMs(s.latency?.p50),
      formatMs(s.latency?.p95),
      formatMs(s.latency?.max),
    ]);
    out.push(...table(['role', 'step', 'count', 'ok', 'failed', 'skipped', 'p50', 'p95', 'max'], rows, [false, false, true, true, true, true, true, true, true], paint));
  }

  const barriers = report.barriers.filter((b) => b.waits > 0);
  if (barriers.length > 0) {
    out.push('', paint('bold', 'Barrier waits'));
    const rows = barriers.map((b) => [
      b.name,
      String(b.waits),
      b.timeouts > 0 ? paint('red', String(b.timeouts)) : '0',
      b.broken > 0 ? paint('red', String(b.broken)) : '0',
      formatMs(b.wait?.p50),
      formatMs(b.wait?.p95),
      formatMs(b.wait?.max),
    ]);
    out.push(...table(['barrier', 'waits', 'timeouts', 'broken', 'p50', 'p95', 'max'], rows, [false, true, true, true, true, true, true], paint));
  }

  if (report.thresholds.length > 0) {
    out.push('', paint('bold', 'Thresholds'));
    const rows = report.thresholds.map((t) => [
      t.passed ? paint('green', '✔') : paint('red', '✖'),
      t.selector,
      t.condition,
      `actual ${formatThresholdActual(t)}`,
    ]);
    out.push(...table(undefined, rows, [false, false, false, false], paint));
  }

  if (report.errors.length > 0) {
    const max = o.maxErrors ?? 5;
    const total = report.errors.reduce((n, g) => n + g.count, 0);
    out.push('', paint('bold', `Errors (${total} in ${report.errors.length} group${report.errors.length === 1 ? '' : 's'})`));
    for (const g of report.errors.slice(0, max)) {
      out.push(`  ${paint('red', `${g.count}×`)} ${g.code ? paint('dim', `[${g.code}] `) : ''}${g.message}`);
      const first = g.examples[0];
      if (first) out.push(paint('dim', `     first: worker ${first.worker} (${first.role}) round ${first.round}, step "${first.name}"`));
    }
    if (report.errors.length > max) out.push(paint('dim', `  … ${report.errors.length - max} more group(s) in the JSON report`));
  }

  if (report.crawl) {
    const c = report.crawl;
    const kinds = Object.entries(c.brokenByKind)
      .filter(([, n]) => (n ?? 0) > 0)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    out.push('', paint('bold', 'Crawl'));
    out.push(`  ${c.crawled} crawled, ${c.checked} checked, ${c.broken > 0 ? paint('red', `${c.broken} broken`) : '0 broken'}${kinds ? ` (${kinds})` : ''} — ${c.stoppedBy}, ${formatMs(c.durationMs)}`);
    for (const u of c.brokenUrls.slice(0, 5)) {
      const from = u.referrers[0];
      out.push(`  ${paint('red', '✖')} ${u.url} ${paint('dim', `${u.broken?.message ?? ''}${from ? ` ← ${from.page}` : ''}`)}`);
    }
    if (c.brokenUrls.length > 5) out.push(paint('dim', `  … ${c.brokenUrls.length - 5} more broken URLs in the report`));
  }

  if (report.timelineTruncated > 0) out.push('', paint('dim', `Timeline capped: ${report.timelineTruncated} ok/skipped results left out of the report.`));

  if (o.files && o.files.length > 0) {
    out.push('', paint('bold', 'Reports'));
    for (const f of o.files) out.push(`  ${displayPath(f, cwd)}`);
  }
  return out.join('\n') + '\n';
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[\d+m/g;
const width = (s: string) => s.replace(ANSI, '').length;

function table(header: string[] | undefined, rows: string[][], right: boolean[], paint: Paint): string[] {
  const all = header ? [header, ...rows] : rows;
  const widths = right.map((_, i) => Math.max(...all.map((r) => width(r[i] ?? ''))));
  const line = (r: string[]) =>
    '  ' +
    r
      .map((cell, i) => {
        const pad = ' '.repeat((widths[i] ?? 0) - width(cell));
        return right[i] ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [...(header ? [paint('dim', line(header))] : []), ...rows.map(line)];
}
