// The Markdown summary: exact verdict/threshold/step lines, escaping, and the
// GITHUB_STEP_SUMMARY append.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { markdownReporter, renderMarkdown } from '../../src/reporting/files/markdown.js';
import { barrierReport } from '../fixtures/report/sample.js';

const dir = mkdtempSync(join(tmpdir(), 'planrun-md-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('summary: verdict, counts, thresholds, steps with percentiles, barriers, errors, crawl', { timeout: 10_000 }, () => {
  const md = renderMarkdown(barrierReport(dir));
  const lines = md.split('\n');
  assert.equal(lines[0], '## planrun: Etherpad — one writer, four readers — ❌ failed');
  assert.equal(lines[2], '> 1 step failed');
  assert.match(lines[4]!, /^\*\*5\*\* workers × \*\*3\*\* rounds · \*\*60\*\* step runs, \*\*1\*\* failed · [\d.]+ s · run `run-20261124-0600-ab12` · `plans\/etherpad\.yml`$/);
  assert.ok(lines.includes('| ✅ | step.open pad | p95 \\< 500ms | 250 |'));
  assert.ok(lines.includes('| ❌ | barrier.written.wait | p99 \\< 100ms | 390.4 |'));
  assert.ok(lines.includes('| reader | ❌ see round | 12 | 11 | 1 | 0 | 31 ms | 2.00 s | 2.00 s | 2.00 s |'), md);
  assert.ok(lines.includes('| writer | write round | 3 | 3 | 0 | 0 | 120 ms | 120 ms | 120 ms | 120 ms |'), md);
  assert.ok(
    lines.some((l) => /^\| written \| 12 \| 0 \| 0 \| /.test(l)),
    md,
  );
  assert.ok(lines.includes('| 1 | expected the page to show text "round 1" within 2s, found "round 0" | see round (reader, worker 2, round 1) |'), md);
  assert.ok(lines.includes('3 pages crawled, 3 links checked, **3** broken · stopped: complete · 420 ms'));
  assert.ok(lines.includes('| 404 | http://127.0.0.1:8080/missing.html | HTTP 404 Not Found | http://127.0.0.1:8080/ (+1 more) |'), md);
  assert.ok(md.endsWith('|\n'));
});

test('a line from the time series: the busiest bucket, the worst p99, and whether the timeline is a sample', { timeout: 10_000 }, () => {
  const report = barrierReport(dir, { crawl: false });
  assert.doesNotMatch(renderMarkdown(report), /HTTP over time/);
  const http = { min: 1, mean: 5, p50: 4, p90: 8, p95: 9, p99: 12.5, max: 20 };
  const bucket = { steps: 0, failed: 0, errors: {}, byStep: [], activeWorkers: 5, busyWorkers: 5, dropped: 0, barrierWaits: 0 };
  report.series = {
    bucketMs: 1000,
    buckets: [
      { ...bucket, t: 0, steps: 40, requests: 40, http },
      { ...bucket, t: 1000, steps: 55, requests: 55, http: { ...http, p99: 30 } },
      { ...bucket, t: 2000, requests: 0 },
    ],
  };
  report.timelineSampled = { kept: 20, total: 95, cap: 10 };
  assert.ok(
    renderMarkdown(report)
      .split('\n')
      .includes('HTTP over time: peak **55** requests/s, worst p99 in a bucket **30 ms** (3 buckets of 1.00 s) · timeline sampled: 20 of 95 step runs'),
    renderMarkdown(report),
  );
});

test('pipes and markup in names cannot break the tables', { timeout: 10_000 }, () => {
  const report = barrierReport(dir, { crawl: false });
  report.steps[0]!.name = 'a | b <script> `x`\nnext';
  const md = renderMarkdown(report);
  assert.ok(md.includes('| writer | a \\| b \\<script\\> \\`x\\` next | 3 |'), md);
  assert.doesNotMatch(md, /### Crawl/);
});

test('markdownReporter writes summary.md and appends to GITHUB_STEP_SUMMARY', { timeout: 10_000 }, async () => {
  const summary = join(dir, 'step-summary.md');
  writeFileSync(summary, 'earlier step\n');
  const report = barrierReport(dir);
  await markdownReporter({ reportDir: join(dir, 'out'), env: { GITHUB_STEP_SUMMARY: summary } }).onEnd?.(report);
  const md = readFileSync(join(dir, 'out', 'summary.md'), 'utf8');
  assert.equal(md, renderMarkdown(report));
  assert.equal(readFileSync(summary, 'utf8'), `earlier step\n${md}\n`);
  // Without the variable, nothing else is touched.
  await markdownReporter({ reportDir: join(dir, 'out2'), env: {} }).onEnd?.(report);
  assert.equal(readFileSync(summary, 'utf8'), `earlier step\n${md}\n`);
});
