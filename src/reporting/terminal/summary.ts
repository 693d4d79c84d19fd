// The end-of-run summary printed by the live view and the plain output. A pure
// function of the report: whoever prints it decides about colour (text/colour.ts).
import { relative } from 'node:path';
import type { RunReport } from '../../contract/report.js';
import { formatThresholdAbort, formatThresholdActual } from '../metrics/evaluate-thresholds.js';
import { painter, visibleLength, type Paint } from '../../text/colour.js';
import { formatDurationCompact } from '../../text/duration.js';
import { plural } from '../../text/plural.js';

export interface SummaryOptions {
  color: boolean;
  /** Files the reporters wrote (report.json, junit.xml…), listed at the end. */
  files?: string[];
  /** Shown relative to this folder when inside it. */
  cwd?: string;
  /** Error groups listed; the rest are counted. */
  maxErrors?: number;
}

export function formatSummary(report: RunReport, o: SummaryOptions): string {
  const paint = painter(o.color);
  const out: string[] = [];
  const cwd = o.cwd ?? process.cwd();

  const verdict = report.outcome === 'passed' ? paint('green', '✔ PASSED') : report.outcome === 'aborted' ? paint('yellow', '■ ABORTED') : paint('red', '✖ FAILED');
  const rounds = report.run.rounds !== undefined ? `, ${plural(report.run.rounds, 'round')}` : '';
  out.push(
    `${paint('bold', verdict)}  ${report.run.planName || 'run'} — ${plural(report.run.workers, 'worker')}${rounds}, ${formatDurationCompact(report.durationMs)} (exit ${report.exitCode})`,
  );
  if (report.reason) out.push(`  ${report.reason}`);

  const failedServices = report.services.filter((s) => s.status === 'failed');
  for (const s of failedServices)
    out.push(`  ${paint('red', `service ${s.name} failed`)}${s.message ? `: ${s.message}` : ''}${s.logFile ? paint('dim', ` (log: ${s.logFile})`) : ''}`);

  const steps = report.steps.filter((s) => s.count + s.skipped > 0);
  if (steps.length > 0) {
    out.push('', paint('bold', 'Steps'));
    const rows = steps.map((s) => [
      s.role,
      s.name,
      String(s.count),
      String(s.ok),
      s.failed > 0 ? paint('red', String(s.failed)) : String(s.failed),
      s.skipped > 0 ? paint('yellow', String(s.skipped)) : String(s.skipped),
      formatDurationCompact(s.latency?.p50),
      formatDurationCompact(s.latency?.p95),
      formatDurationCompact(s.latency?.max),
    ]);
    out.push(...table(['role', 'step', 'count', 'ok', 'failed', 'skipped', 'p50', 'p95', 'max'], rows, [false, false, true, true, true, true, true, true, true], paint));
  }

  const ws = steps.filter((s) => s.kind === 'ws');
  if (ws.length > 0) {
    const total = (k: 'sent' | 'received' | 'skipped' | 'dropped') => ws.reduce((n, s) => n + (s.ws?.[k] ?? 0), 0);
    const dropped = total('dropped');
    out.push('', paint('bold', 'WebSocket'));
    out.push(`  ${total('sent')} sent, ${total('received')} received (${total('skipped')} skipped)${dropped > 0 ? `, ${paint('red', `${dropped} dropped (buffer full)`)}` : ''}`);
  }

  const open = steps.filter((s) => s.scheduledLatency);
  if (open.length > 0 || report.dropped) {
    out.push('', paint('bold', 'Open model (latency from the scheduled start)'));
    const rows = open.map((s) => [
      s.role,
      s.name,
      formatDurationCompact(s.scheduledLatency?.p50),
      formatDurationCompact(s.scheduledLatency?.p95),
      formatDurationCompact(s.scheduledLatency?.max),
    ]);
    if (rows.length > 0) out.push(...table(['role', 'step', 'p50', 'p95', 'max'], rows, [false, false, true, true, true], paint));
    for (const [role, n] of Object.entries(report.dropped ?? {})) {
      out.push(`  ${role}: ${n > 0 ? paint('yellow', `${n} iteration${n === 1 ? '' : 's'} dropped`) : '0 iterations dropped'} (no free worker when due)`);
    }
  }

  const barriers = report.barriers.filter((b) => b.waits > 0);
  if (barriers.length > 0) {
    out.push('', paint('bold', 'Barrier waits'));
    const rows = barriers.map((b) => [
      b.name,
      String(b.waits),
      b.timeouts > 0 ? paint('red', String(b.timeouts)) : '0',
      b.broken > 0 ? paint('red', String(b.broken)) : '0',
      formatDurationCompact(b.wait?.p50),
      formatDurationCompact(b.wait?.p95),
      formatDurationCompact(b.wait?.max),
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
      formatThresholdAbort(t) ?? '',
    ]);
    out.push(...table(undefined, rows, [false, false, false, false, false], paint));
  }

  if (report.errors.length > 0) {
    const max = o.maxErrors ?? 5;
    const total = report.errors.reduce((n, g) => n + g.count, 0);
    out.push('', paint('bold', `Errors (${total} in ${plural(report.errors.length, 'group')})`));
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
    out.push(
      `  ${c.crawled} crawled, ${c.checked} checked, ${c.broken > 0 ? paint('red', `${c.broken} broken`) : '0 broken'}${kinds ? ` (${kinds})` : ''} — ${c.stoppedBy}, ${formatDurationCompact(c.durationMs)}`,
    );
    for (const u of c.brokenUrls.slice(0, 5)) {
      const from = u.referrers[0];
      out.push(`  ${paint('red', '✖')} ${u.url} ${paint('dim', `${u.broken?.message ?? ''}${from ? ` ← ${from.page}` : ''}`)}`);
    }
    if (c.brokenUrls.length > 5) out.push(paint('dim', `  … ${c.brokenUrls.length - 5} more broken URLs in the report`));
  }

  if (report.timelineTruncated > 0)
    out.push('', paint('dim', `Timeline sampled: ${report.timelineTruncated} of ${report.timeline.length + report.timelineTruncated} step results left out of the report.`));

  if (o.files && o.files.length > 0) {
    out.push('', paint('bold', 'Reports'));
    for (const f of o.files) out.push(`  ${displayPath(f, cwd)}`);
  }
  return `${out.join('\n')}\n`;
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

function table(header: string[] | undefined, rows: string[][], right: boolean[], paint: Paint): string[] {
  const all = header ? [header, ...rows] : rows;
  const widths = right.map((_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? ''))));
  const line = (r: string[]) =>
    '  ' +
    r
      .map((cell, i) => {
        const pad = ' '.repeat((widths[i] ?? 0) - visibleLength(cell));
        return right[i] ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [...(header ? [paint('dim', line(header))] : []), ...rows.map(line)];
}
