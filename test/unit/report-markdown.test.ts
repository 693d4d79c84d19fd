// The Markdown summary: exact verdict/threshold/step lines, escaping, and the
// GITHUB_STEP_SUMMARY append.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { markdownReporter, renderMarkdown } from '../../src/reporting/files/markdown.js';
import { barrierReport } from '../fixtures/report/sample.js';
import { openRunEvents, reportFrom } from '../helpers/reporting-events.js';

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

test('the run over time: peak and mean rate, worst p95 and p99 second, seconds with errors, dropped iterations', { timeout: 10_000 }, () => {
  const report = reportFrom(openRunEvents(), { outcome: 'failed', reason: '5 steps failed' });
  const md = renderMarkdown(report);
  const i = md.indexOf('### Over time');
  assert.equal(
    md.slice(i, md.indexOf('###', i + 1)),
    [
      '### Over time',
      '',
      // 100 requests in the first second; 111 over 2.5 s.
      '- Requests/s: peak **100** (+0 s), mean **44.4**',
      '- Worst second: p95 **200 ms** (+1 s), p99 **900 ms** (+0 s)',
      '- Seconds with errors: **2** of 3 (5 failed step runs)',
      '- Dropped iterations: **90**',
      '',
      '',
    ].join('\n'),
  );
  // A sampled timeline says so; a closed-model run without requests has no rate and no drops line.
  report.timelineSampled = { kept: 20, total: 111, cap: 10 };
  assert.ok(renderMarkdown(report).includes('- Timeline sampled: 20 of 111 step runs\n'));
  const closed = renderMarkdown(barrierReport(dir, { crawl: false }));
  assert.doesNotMatch(closed, /Dropped iterations/);
  assert.match(closed, /- Seconds with errors: \*\*1\*\* of \d+ \(1 failed step run\)/);
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
