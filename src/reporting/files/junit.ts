// JUnit XML from the JSON report, in the Ant/Jenkins dialect that GitHub
// (test-reporter actions), GitLab and Jenkins all read: a <testsuite> per role
// with a <testcase> per step (its executions across workers and rounds folded
// into one case), plus `thresholds`, `services` and `crawl` suites when present.
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../io/atomic-file.js';
import type { Attachment, StepResult } from '../../contract/events.js';
import type { CrawlUrlResult, RunReport, StepAggregate } from '../../contract/report.js';
import type { Reporter } from '../../contract/reporter.js';
import { plural } from '../../text/plural.js';
import { reportSeriesSummary } from '../metrics/series-summary.js';
import { formatThresholdAbort } from '../metrics/evaluate-thresholds.js';

/** Failures listed in full per test case; the rest are counted. */
const MAX_FAILURES_LISTED = 20;

// XML 1.0 forbids most control characters even when escaped, so they are dropped.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlEscape(text: string): string {
  return text.replace(NOT_XML_CHAR, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** For attribute values: also keeps line breaks and tabs from being normalised to spaces. */
function attr(text: string): string {
  return xmlEscape(text).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

interface Case {
  name: string;
  classname: string;
  timeMs: number;
  failure?: { message: string; type?: string; body: string };
  skipped?: string;
  systemOut?: string;
}

interface Suite {
  name: string;
  timeMs: number;
  cases: Case[];
}

export interface JunitOptions {
  /** Where attachment paths are relative to; defaults to the report's own reportDir. */
  reportDir?: string;
}

export function renderJunit(report: RunReport, o: JunitOptions = {}): string {
  const reportDir = o.reportDir ?? report.run.reportDir;
  const suites: Suite[] = [];
  const failuresByStep = groupFailures(report.timeline);

  for (const role of roleOrder(report)) {
    const steps = report.steps.filter((s) => s.role === role);
    const seen = new Map<string, number>();
    const cases = steps.map((s) => {
      // Two steps of one role may share a name; CI tools merge equal names, so tell them apart.
      const n = (seen.get(s.name) ?? 0) + 1;
      seen.set(s.name, n);
      const name = n > 1 || steps.filter((x) => x.name === s.name).length > 1 ? `${s.name} (${s.stepId})` : s.name;
      return stepCase(s, name, failuresByStep.get(key(s.role, s.stepId)) ?? [], report, reportDir);
    });
    suites.push({ name: role, timeMs: report.durationMs, cases });
  }

  if (report.thresholds.length > 0) {
    suites.push({
      name: 'thresholds',
      timeMs: 0,
      cases: report.thresholds.map((t) => ({
        name: `${t.selector}: ${t.condition}`,
        classname: 'thresholds',
        timeMs: 0,
        ...(t.passed
          ? {}
          : {
              failure: {
                message: `${t.selector} ${t.condition} failed: measured ${t.actual ?? 'nothing'}`,
                type: 'threshold',
                body: `threshold ${t.selector}: ${t.condition}\nmeasured: ${t.actual ?? 'nothing was measured'}${t.aborted ? `\n${formatThresholdAbort(t)}` : ''}`,
              },
            }),
      })),
    });
  }

  const failedServices = report.services.filter((s) => s.status === 'failed');
  if (report.services.length > 0) {
    suites.push({
      name: 'services',
      timeMs: 0,
      cases: report.services.map((s) => ({
        name: s.name,
        classname: 'services',
        timeMs: 0,
        ...(failedServices.includes(s)
          ? {
              failure: {
                message: s.message ?? `service ${s.name} failed`,
                type: 'service',
                body: [s.message ?? '', s.logFile ? `log: ${s.logFile}` : ''].filter(Boolean).join('\n'),
              },
            }
          : s.status === 'skipped'
            ? { skipped: s.message ?? 'service not started' }
            : {}),
      })),
    });
  }

  if (report.crawl) {
    const c = report.crawl;
    const cases: Case[] = c.brokenUrls.map((u) => brokenUrlCase(u));
    if (cases.length === 0) {
      cases.push({ name: `no broken links (${c.crawled} crawled, ${c.checked} checked)`, classname: 'crawl', timeMs: c.durationMs });
    }
    suites.push({ name: 'crawl', timeMs: c.durationMs, cases });
  }

  const props: Array<[string, string]> = [
    ['run.id', report.run.runId],
    ['plan.name', report.run.planName],
    ['plan.file', report.run.planFile],
    ['run.outcome', report.outcome],
  ];
  if (report.run.target) props.push(['plan.target', report.run.target]);
  if (report.reason) props.push(['run.reason', report.reason]);
  if (report.timelineTruncated > 0) props.push(['timeline.truncated', String(report.timelineTruncated)]);
  props.push(...seriesProperties(report));

  const timestamp = report.startedAt.replace(/(\.\d+)?Z$/, '');
  const total = (f: (c: Case) => boolean) => suites.reduce((n, s) => n + s.cases.filter(f).length, 0);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="${attr(report.run.planName)}" tests="${total(() => true)}" failures="${total((c) => !!c.failure)}" errors="0" time="${seconds(report.durationMs)}">`);
  suites.forEach((s, i) => {
    const failures = s.cases.filter((c) => c.failure).length;
    const skipped = s.cases.filter((c) => c.skipped !== undefined).length;
    out.push(
      `  <testsuite name="${attr(s.name)}" id="${i}" tests="${s.cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(s.timeMs)}" timestamp="${attr(timestamp)}">`,
    );
    out.push('    <properties>');
    for (const [name, value] of props) out.push(`      <property name="${attr(name)}" value="${attr(value)}"/>`);
    out.push('    </properties>');
    for (const c of s.cases) out.push(renderCase(c));
    out.push('  </testsuite>');
  });
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/** The time series summarized (peak and mean rate, worst buckets, error buckets, drops): CI tools show properties, not series. */
function seriesProperties(report: RunReport): Array<[string, string]> {
  const s = reportSeriesSummary(report);
  if (!s) return [];
  const n = (v: number) => String(Math.round(v * 1000) / 1000);
  const props: Array<[string, string]> = [
    ['series.buckets', n(s.buckets)],
    ['series.bucket_ms', n(s.bucketMs)],
    ['series.peak_rps', n(s.peakRps.value)],
    ['series.peak_rps_at_ms', n(s.peakRps.t)],
    ['series.mean_rps', n(s.meanRps)],
  ];
  if (s.worstP95) props.push(['series.worst_p95_ms', n(s.worstP95.value)], ['series.worst_p95_at_ms', n(s.worstP95.t)]);
  if (s.worstP99) props.push(['series.worst_p99_ms', n(s.worstP99.value)], ['series.worst_p99_at_ms', n(s.worstP99.t)]);
  props.push(['series.error_buckets', n(s.errorBuckets)], ['series.dropped', n(s.dropped)]);
  return props;
}

function renderCase(c: Case): string {
  const open = `    <testcase name="${attr(c.name)}" classname="${attr(c.classname)}" time="${seconds(c.timeMs)}"`;
  const inner: string[] = [];
  if (c.failure) {
    const type = c.failure.type ? ` type="${attr(c.failure.type)}"` : '';
    inner.push(`      <failure message="${attr(c.failure.message)}"${type}>${xmlEscape(c.failure.body)}</failure>`);
  } else if (c.skipped !== undefined) {
    inner.push(`      <skipped message="${attr(c.skipped)}"/>`);
  }
  if (c.systemOut) inner.push(`      <system-out>${xmlEscape(c.systemOut)}</system-out>`);
  return inner.length === 0 ? `${open}/>` : `${open}>\n${inner.join('\n')}\n    </testcase>`;
}

const key = (role: string, stepId: string) => `${role}\u0000${stepId}`;

function groupFailures(timeline: StepResult[]): Map<string, StepResult[]> {
  const m = new Map<string, StepResult[]>();
  for (const r of timeline) {
    if (r.outcome !== 'failed') continue;
    const k = key(r.role, r.stepId);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

/** Roles in plan order, then any role only the steps mention. */
function roleOrder(report: RunReport): string[] {
  const roles = report.run.roles.map((r) => r.name);
  for (const s of report.steps) if (!roles.includes(s.role)) roles.push(s.role);
  return roles;
}

function stepCase(s: StepAggregate, name: string, failures: StepResult[], report: RunReport, reportDir: string): Case {
  const executed = s.ok + s.failed;
  const timeMs = (s.latency?.mean ?? 0) * executed;
  const c: Case = { name, classname: s.role, timeMs };
  if (s.failed > 0 || failures.length > 0) {
    const lines: string[] = [];
    const attachments: Attachment[] = [];
    let listed = failures;
    if (listed.length === 0) {
      // Timeline lost the details (should not happen: failures are always kept); fall back to the error groups.
      listed = report.errors.flatMap((g) =>
        g.examples
          .filter((e) => e.stepId === s.stepId && e.role === s.role)
          .map((e) => ({
            worker: e.worker,
            role: e.role,
            round: e.round,
            stepId: e.stepId,
            name: e.name,
            kind: s.kind,
            start: 0,
            durationMs: 0,
            outcome: 'failed' as const,
            error: { message: g.message, ...(g.code ? { code: g.code } : {}) },
            ...(e.attachments ? { attachments: e.attachments } : {}),
          })),
      );
    }
    for (const f of listed.slice(0, MAX_FAILURES_LISTED)) {
      lines.push(`worker ${f.worker}, round ${f.round}: ${f.error?.message ?? 'failed'}`);
      for (const a of f.attachments ?? []) {
        lines.push(`  ${a.name}: ${a.path}`);
        attachments.push(a);
      }
    }
    const failedCount = Math.max(s.failed, listed.length);
    if (failedCount > MAX_FAILURES_LISTED) lines.push(`and ${failedCount - MAX_FAILURES_LISTED} more`);
    const first = listed[0]?.error;
    const message = `${first?.message ?? 'failed'}${failedCount > 1 ? ` (failed ${failedCount} of ${s.count} times)` : ''}`;
    c.failure = { message, ...(first?.code ? { type: first.code } : {}), body: lines.join('\n') };
    // Jenkins' JUnit attachments plugin picks up these markers; other tools show them as text.
    if (attachments.length > 0) c.systemOut = attachments.map((a) => `[[ATTACHMENT|${resolve(reportDir, a.path)}]]`).join('\n');
  } else if (s.count === 0) {
    c.skipped = s.skipped > 0 ? `skipped in all ${s.skipped} runs` : 'never ran';
  }
  return c;
}

function brokenUrlCase(u: CrawlUrlResult): Case {
  const broken = u.broken ?? { kind: '4xx' as const, message: `status ${u.status ?? '?'}` };
  const lines = [`${broken.kind}: ${broken.message}`];
  if (u.status !== undefined) lines.push(`status: ${u.status}`);
  if (u.redirects.length > 0) lines.push(`redirects: ${u.redirects.map((r) => `${r.url} (${r.status})`).join(' → ')}`);
  const count = u.referrerCount ?? u.referrers.length;
  lines.push(`linked from ${plural(count, 'place')}:`);
  for (const r of u.referrers) lines.push(`  ${r.page} ${r.element}${r.text ? ` "${r.text}"` : ''}`);
  return { name: u.url, classname: 'crawl', timeMs: u.durationMs ?? 0, failure: { message: broken.message, type: broken.kind, body: lines.join('\n') } };
}

/** Writes `junit.xml` into the report folder when the run ends. */
export function junitReporter(o: { reportDir: string }): Reporter {
  return {
    name: 'junit',
    async onEnd(report) {
      await writeFileAtomic(join(o.reportDir, 'junit.xml'), renderJunit(report, { reportDir: o.reportDir }));
    },
  };
}
