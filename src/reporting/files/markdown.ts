// A Markdown summary of the JSON report: verdict, thresholds, steps with
// percentiles, the run over time, top errors, broken links. Written to summary.md and appended to
// $GITHUB_STEP_SUMMARY so a GitHub Actions run page shows it.
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic-file.js';
import type { RunReport } from '../../contract/report.js';
import { formatDuration } from '../../text/duration.js';
import { plural } from '../../text/plural.js';
import { reportSeriesSummary } from '../metrics/series-summary.js';
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

/** Start of a bucket as an offset from the run's start: `+12 s` (whole seconds), `+250 ms`. */
const at = (t: number) => (t % 1000 === 0 ? `+${t / 1000} s` : `+${formatDuration(t)}`);

/**
 * The whole run from its time series: the busiest and mean request rate, the
 * worst p95 and p99 bucket, the buckets with errors, the dropped iterations.
 */
function overTime(r: RunReport): string[] {
  const s = reportSeriesSummary(r);
  if (!s || s.buckets === 0) return [];
  const unit = s.bucketMs === 1000 ? 'second' : `bucket of ${formatDuration(s.bucketMs)}`;
  const out = ['### Over time', ''];
  if (s.requests > 0) out.push(`- Requests/s: peak **${round1(s.peakRps.value)}** (${at(s.peakRps.t)}), mean **${round1(s.meanRps)}**`);
  if (s.worstP95 && s.worstP99)
    out.push(`- Worst ${unit}: p95 **${formatDuration(s.worstP95.value)}** (${at(s.worstP95.t)}), p99 **${formatDuration(s.worstP99.value)}** (${at(s.worstP99.t)})`);
  out.push(`- ${s.bucketMs === 1000 ? 'Seconds' : 'Buckets'} with errors: **${s.errorBuckets}** of ${s.buckets} (${plural(s.failed, 'failed step run')})`);
  if (s.dropped > 0 || r.run.roles.some((role) => role.load === 'arrival-rate')) out.push(`- Dropped iterations: **${s.dropped}**`);
  if (r.timelineSampled) out.push(`- Timeline sampled: ${r.timelineSampled.kept} of ${r.timelineSampled.total} step runs`);
  out.push('');
  return out;
}

const round1 = (v: number) => String(Math.round(v * 10) / 10);

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

  out.push(...overTime(r));

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
