// A Markdown summary of the JSON report: verdict, thresholds, steps with
// percentiles, top errors, broken links. Written to summary.md and appended to
// $GITHUB_STEP_SUMMARY so a GitHub Actions run page shows it.
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic-file.js';
import type { RunReport } from '../../contract/report.js';
import { formatDuration } from '../../text/duration.js';
import type { Reporter } from '../../contract/reporter.js';
import { formatThresholdAbort } from '../metrics/evaluate-thresholds.js';

const MAX_ERRORS = 10;
const MAX_BROKEN = 20;

/** Table cell text: one line, pipes and markup characters neutralised. */
function cell(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/([\\`*_[\]<>|])/g, '\\$1')
    .trim();
}

const VERDICT: Record<RunReport['outcome'], string> = { passed: '✅ passed', failed: '❌ failed', aborted: '⚠️ aborted' };

/** The busiest bucket and the worst p99 of the run's time series, per second; undefined without HTTP requests. */
function seriesLine(r: RunReport): string | undefined {
  const buckets = r.series?.buckets.filter((b) => b.http) ?? [];
  if (buckets.length === 0) return undefined;
  const perSecond = 1000 / r.series!.bucketMs;
  const peak = Math.max(...buckets.map((b) => b.requests)) * perSecond;
  const p99 = Math.max(...buckets.map((b) => b.http!.p99));
  const sampled = r.timelineSampled ? ` · timeline sampled: ${r.timelineSampled.kept} of ${r.timelineSampled.total} step runs` : '';
  return `HTTP over time: peak **${Math.round(peak)}** requests/s, worst p99 in a bucket **${formatDuration(p99)}** (${r.series!.buckets.length} buckets of ${formatDuration(r.series!.bucketMs)})${sampled}`;
}

export function renderMarkdown(report: RunReport): string {
  const r = report;
  const out: string[] = [];
  out.push(`## planrun: ${cell(r.run.planName)} — ${VERDICT[r.outcome]}`, '');
  if (r.reason) out.push(`> ${cell(r.reason)}`, '');
  const steps = r.steps.reduce((a, s) => ({ count: a.count + s.count, failed: a.failed + s.failed }), { count: 0, failed: 0 });
  out.push(
    `**${r.run.workers}** workers${r.run.rounds !== undefined ? ` × **${r.run.rounds}** rounds` : ''} · **${steps.count}** step runs, **${steps.failed}** failed · ${formatDuration(r.durationMs)} · run \`${r.run.runId}\` · \`${cell(r.run.planFile)}\``,
    '',
  );

  const perSecond = seriesLine(r);
  if (perSecond) out.push(perSecond, '');

  if (r.thresholds.length > 0) {
    out.push('### Thresholds', '', '| | threshold | condition | measured |', '|---|---|---|---:|');
    for (const t of r.thresholds)
      out.push(
        `| ${t.passed ? '✅' : '❌'} | ${cell(t.selector)} | ${cell(t.condition)}${t.aborted ? ` (${cell(formatThresholdAbort(t)!)})` : ''} | ${t.actual === null ? '–' : String(Math.round(t.actual * 1000) / 1000)} |`,
      );
    out.push('');
  }

  if (r.steps.length > 0) {
    out.push('### Steps', '', '| role | step | runs | ok | failed | skipped | p50 | p95 | p99 | max |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of r.steps) {
      const l = s.latency;
      out.push(
        `| ${cell(s.role)} | ${s.failed > 0 ? '❌ ' : ''}${cell(s.name)} | ${s.count} | ${s.ok} | ${s.failed} | ${s.skipped} | ${formatDuration(l?.p50)} | ${formatDuration(l?.p95)} | ${formatDuration(l?.p99)} | ${formatDuration(l?.max)} |`,
      );
    }
    out.push('');
  }

  const open = r.steps.filter((s) => s.scheduledLatency);
  if (open.length > 0 || r.dropped) {
    out.push('### Open model', '');
    for (const [role, n] of Object.entries(r.dropped ?? {})) out.push(`- ${cell(role)}: **${n}** iteration${n === 1 ? '' : 's'} dropped (no free worker when due)`);
    if (open.length > 0) {
      out.push('', '| role | step | p50 from scheduled start | p95 | p99 | max |', '|---|---|---:|---:|---:|---:|');
      for (const s of open) {
        const l = s.scheduledLatency;
        out.push(`| ${cell(s.role)} | ${cell(s.name)} | ${formatDuration(l?.p50)} | ${formatDuration(l?.p95)} | ${formatDuration(l?.p99)} | ${formatDuration(l?.max)} |`);
      }
    }
    out.push('');
  }

  if (r.barriers.length > 0) {
    out.push('### Barriers', '', '| barrier | waits | timeouts | broken | p50 wait | p95 wait | max wait |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const b of r.barriers)
      out.push(`| ${cell(b.name)} | ${b.waits} | ${b.timeouts} | ${b.broken} | ${formatDuration(b.wait?.p50)} | ${formatDuration(b.wait?.p95)} | ${formatDuration(b.wait?.max)} |`);
    out.push('');
  }

  if (r.errors.length > 0) {
    out.push('### Errors', '', '| count | error | first seen |', '|---:|---|---|');
    for (const e of r.errors.slice(0, MAX_ERRORS)) {
      const x = e.examples[0];
      out.push(`| ${e.count} | ${cell(e.message)} | ${x ? `${cell(x.name)} (${cell(x.role)}, worker ${x.worker}, round ${x.round})` : ''} |`);
    }
    if (r.errors.length > MAX_ERRORS) out.push('', `…and ${r.errors.length - MAX_ERRORS} more kinds of error (see report.html).`);
    out.push('');
  }

  const failedServices = r.services.filter((s) => s.status === 'failed');
  if (failedServices.length > 0) {
    out.push('### Services', '');
    for (const s of failedServices) out.push(`- ❌ **${cell(s.name)}**: ${cell(s.message ?? 'failed')}${s.logFile ? ` (log: \`${cell(s.logFile)}\`)` : ''}`);
    out.push('');
  }

  if (r.crawl) {
    const c = r.crawl;
    out.push('### Crawl', '', `${c.crawled} pages crawled, ${c.checked} links checked, **${c.broken}** broken · stopped: ${c.stoppedBy} · ${formatDuration(c.durationMs)}`, '');
    if (c.brokenUrls.length > 0) {
      out.push('| status | broken URL | problem | linked from |', '|---:|---|---|---|');
      for (const u of c.brokenUrls.slice(0, MAX_BROKEN)) {
        const n = u.referrerCount ?? u.referrers.length;
        const first = u.referrers[0];
        out.push(`| ${u.status ?? '–'} | ${cell(u.url)} | ${cell(u.broken?.message ?? '')} | ${first ? cell(first.page) : ''}${n > 1 ? ` (+${n - 1} more)` : ''} |`);
      }
      if (c.brokenUrls.length > MAX_BROKEN) out.push('', `…and ${c.brokenUrls.length - MAX_BROKEN} more broken URLs (see report.html or junit.xml).`);
      out.push('');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Writes summary.md; appends the same text to $GITHUB_STEP_SUMMARY when set. */
export function markdownReporter(o: { reportDir: string; env?: NodeJS.ProcessEnv }): Reporter {
  return {
    name: 'markdown',
    async onEnd(report) {
      const text = renderMarkdown(report);
      await writeFileAtomic(join(o.reportDir, 'summary.md'), text);
      // Appended, not replaced: the file is GitHub's, shared by every command of
      // the job step. The text is rendered whole first, then appended in one call.
      const summary = (o.env ?? process.env).GITHUB_STEP_SUMMARY;
      if (summary) await appendFile(summary, `${text}\n`);
    },
  };
}
