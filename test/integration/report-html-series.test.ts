// The "Over time" charts of the HTML report, from a real open-model run against
// a real HTTP server and opened in real headless Chromium: throughput with the
// rate target, HTTP latency percentiles, errors by code, workers, step latency,
// each drawn from the first bucket to the last; dragging across a chart or
// moving the range inputs zooms every chart to the same range, reset restores
// the whole run. An hour of 1 s buckets stays a small file that draws at once.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunEvent } from '../../src/contract/events.js';
import { renderHtml } from '../../src/reporting/files/html/html-report.js';
import type { SeriesChartData } from '../../src/reporting/files/html/series-data.js';
import { parsePlan } from '../../src/plan/load.js';
import { runSession } from '../../src/runtime/session.js';
import { startServer, type TestServer } from '../helpers/http-helpers.js';
import { OPEN_RUN_INFO, T0, reportFrom, stepEvents } from '../helpers/reporting-events.js';
import { readReport } from '../helpers/report-helpers.js';
import { openReportPage } from '../helpers/report-page.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUT = resolve('test-output');
const dir = mkdtempSync(join(tmpdir(), 'planrun-html-series-'));
let browser: Browser;
let server: TestServer;
let hits = 0;

before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  server = await startServer((_req, res) => {
    hits++;
    // Every 10th request answers 500 (an expectation failure), the rest 200 after a few ms.
    const status = hits % 10 === 0 ? 500 : 200;
    setTimeout(() => res.writeHead(status).end('ok'), 2 + (hits % 5));
  });
});
after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface LinePaint {
  points: number;
  first: number;
  last: number;
  /** The highest value drawn (a column's merged value). */
  max: number | null;
}
interface ChartPaint {
  from: number;
  to: number;
  columns: number;
  xLabels: string[];
  lines: Record<string, LinePaint>;
}
interface ChartsApi {
  n: number;
  range: [number, number];
  lastPaint: Record<string, ChartPaint>;
}

/** Opens a report file once its script has drawn (see openReportPage). */
const open = (file: string) => openReportPage(browser, file, () => (globalThis as unknown as { planrunCharts?: unknown }).planrunCharts !== undefined);

const charts = (page: Page) => page.evaluate(() => (globalThis as unknown as { planrunCharts: ChartsApi }).planrunCharts);

/** The chart data embedded in the page. */
function embedded(html: string): SeriesChartData {
  const m = /<script type="application\/json" id="series-data">(.*?)<\/script>/s.exec(html);
  assert.ok(m, 'series data in the page');
  return JSON.parse(m[1]!) as SeriesChartData;
}

test('a real open-model run: every chart drawn over the whole run, drag and the range inputs zoom all of them together, reset restores', { timeout: 120_000 }, async () => {
  const out = join(dir, 'real');
  const plan = parsePlan(
    `name: open html\ntarget: ${server.origin}\nrate: 40/s\nmaxWorkers: 8\nduration: 3s\nonError: continue\nscenario:\n  - name: get\n    request: { url: /, expect: { status: 200 } }\n`,
    join(dir, 'open.yml'),
  );
  // 100 ms buckets: some 30 of them in a 3 s run, enough to zoom into.
  await runSession(plan, { reporters: ['json', 'html'], reportDir: out, bucketMs: 100 });
  const report = await readReport(join(out, 'report.json'));
  const series = report.series!;
  const n = series.buckets.length;
  assert.ok(n >= 30, `${n} buckets`);
  const get = report.steps.find((s) => s.name === 'get')!;
  assert.ok(get.failed > 0 && get.ok > 0, `${get.ok} ok, ${get.failed} failed`);

  const html = readFileSync(join(out, 'report.html'), 'utf8');
  const data = embedded(html);
  assert.equal(data.n, n);
  assert.equal(data.bucketMs, 100);
  assert.deepEqual(
    data.charts.map((c) => [c.id, c.lines.map((l) => l.name)]),
    [
      ['throughput', ['requests/s', 'iterations/s', 'target worker (iterations/s)']],
      ['latency', ['p50', 'p90', 'p95', 'p99', 'max']],
      ['errors', ['expectation/s', 'dropped iterations/s']],
      ['workers', ['active', 'busy']],
      ['steps', ['worker · get']],
    ],
  );
  for (const c of data.charts) for (const l of c.lines) assert.equal(l.values.length, n, `${c.id} ${l.name}: a value (or null) per bucket`);
  // The series' values, per second: the requests add up, the target is the plan's rate until the stages end.
  const throughput = data.charts[0]!.lines;
  assert.equal(
    throughput[0]!.values.reduce((a, v) => a! + v! / 10, 0),
    get.count,
  );
  // The target line starts when the role does (after the run's first bucket or so) at the plan's rate, and ends at 0.
  const target = throughput[2]!.values.filter((v) => v !== null);
  assert.ok(target.length >= n / 2, `${target.length} of ${n} buckets have a target`);
  assert.deepEqual([target[0], target.at(-1)], [40, 0]);
  assert.equal(
    data.charts[2]!.lines[0]!.values.reduce((a, v) => a! + v! / 10, 0),
    get.failed,
  );

  const { page, problems, requests } = await open(join(out, 'report.html'));
  try {
    const full = await charts(page);
    assert.deepEqual(full.range, [0, n - 1]);
    assert.deepEqual(Object.keys(full.lastPaint), ['throughput', 'latency', 'errors', 'workers', 'steps']);
    for (const [id, p] of Object.entries(full.lastPaint)) {
      assert.deepEqual([p.from, p.to, p.columns], [0, n - 1, n], `${id} shows every bucket`);
    }
    // The counts (throughput, errors, workers) have a value in every bucket, the first and the last included;
    // the latency lines cover the buckets in which requests ended, first to last.
    for (const id of ['throughput', 'errors', 'workers'])
      for (const [name, l] of Object.entries(full.lastPaint[id]!.lines))
        if (!name.startsWith('target')) assert.deepEqual([l.first, l.last, l.points], [0, n - 1, n], `${id} ${name}`);
    const withHttp = series.buckets.flatMap((b, i) => (b.http ? [i] : []));
    // Within a second of either end, however busy the machine.
    assert.ok(withHttp[0]! <= 10 && withHttp.at(-1)! >= n - 10, `requests ended in buckets ${withHttp.join(' ')} of ${n}`);
    for (const id of ['latency', 'steps'])
      for (const [name, l] of Object.entries(full.lastPaint[id]!.lines))
        assert.deepEqual([l.first, l.last, l.points], [withHttp[0], withHttp.at(-1), withHttp.length], `${id} ${name}`);
    assert.equal(await page.locator('#ts-charts svg.chart').count(), 5);
    await page.locator('#over-time').screenshot({ path: join(OUT, 'report-html-over-time.png') });

    // Drag across the throughput chart from a quarter to three quarters of its plot: every chart zooms to that range.
    const box = (await page.locator('#chart-throughput svg').boundingBox())!;
    // The plot spans x 64 … 748 of the 760-unit viewBox.
    const px = (f: number) => box.x + ((64 + f * 684) / 760) * box.width;
    const y = box.y + box.height / 2;
    await page.mouse.move(px(0.25), y);
    await page.mouse.down();
    await page.mouse.move(px(0.5), y, { steps: 4 });
    await page.mouse.move(px(0.75), y, { steps: 4 });
    await page.mouse.up();
    const zoomed = await charts(page);
    const [a, b] = zoomed.range;
    assert.ok(a > 0 && b < n - 1 && b - a >= 2, `zoomed to ${a}…${b} of ${n}`);
    assert.ok(Math.abs(a - Math.floor(0.25 * n)) <= 1 && Math.abs(b - Math.floor(0.75 * n)) <= 1, `${a}…${b}`);
    for (const [id, p] of Object.entries(zoomed.lastPaint)) {
      assert.deepEqual([p.from, p.to, p.columns], [a, b, b - a + 1], `${id} zoomed with the others`);
      assert.notDeepEqual(p.xLabels, full.lastPaint[id]!.xLabels, `${id}: its time axis changed`);
    }
    assert.deepEqual([await page.inputValue('#ts-from'), await page.inputValue('#ts-to')], [String(a), String(b)]);
    assert.equal(await page.locator('#ts-reset').isDisabled(), false);

    // Reset: the whole run again, the axes as at first.
    await page.click('#ts-reset');
    const reset = await charts(page);
    assert.deepEqual(reset.range, [0, n - 1]);
    for (const [id, p] of Object.entries(reset.lastPaint)) assert.deepEqual(p, full.lastPaint[id], `${id} restored`);
    assert.equal(await page.locator('#ts-reset').isDisabled(), true);

    // The range inputs zoom too: from bucket 5 to bucket 9.
    await page.locator('#ts-from').fill('5');
    await page.locator('#ts-to').fill('9');
    const ranged = await charts(page);
    assert.deepEqual(ranged.range, [5, 9]);
    for (const p of Object.values(ranged.lastPaint)) assert.deepEqual([p.from, p.to, p.columns], [5, 9, 5]);
    assert.match((await page.locator('#ts-range').textContent()) ?? '', /^\+500 ms – \+1 s \(5 of \d+ buckets of 100 ms\)$/);
    await page.click('#ts-reset');
    assert.deepEqual((await charts(page)).range, [0, n - 1]);

    assert.deepEqual(problems, []);
    assert.deepEqual(requests, []);
  } finally {
    await page.close();
  }
});

test('an hour of 1 s buckets: the page stays small, draws at most 380 columns, and zooms to single seconds', { timeout: 120_000 }, async () => {
  // 3,600 seconds with 3 requests each (one fails every minute), as the collector would see them.
  const events: RunEvent[] = [{ type: 'run:begin', time: T0, run: { ...OPEN_RUN_INFO, durationMs: 3_600_000 } }];
  for (let w = 0; w < 10; w++) events.push({ type: 'worker:begin', time: T0 + 1, worker: w, role: 'api' });
  let round = 0;
  for (let s = 0; s < 3600; s++) {
    events.push({ type: 'load:target', time: T0 + s * 1000 + 1, role: 'api', target: 3 });
    for (let k = 0; k < 3; k++) {
      const start = T0 + s * 1000 + 10 + k * 300;
      round++;
      events.push({ type: 'round:begin', time: start, worker: round % 10, role: 'api', round });
      const failed = k === 0 && s % 60 === 0;
      events.push(
        ...stepEvents({
          worker: round % 10,
          role: 'api',
          round,
          stepId: 'a1',
          name: 'get',
          kind: 'request',
          start,
          durationMs: 5 + ((s * 7 + k * 13) % 40) + Math.random(),
          outcome: failed ? 'failed' : 'ok',
          ...(failed ? { error: { message: 'expected status 200, got 500', code: 'expectation' } } : {}),
        }),
      );
    }
  }
  events.push({ type: 'run:end', time: T0 + 3_600_000, outcome: 'failed' });
  const report = reportFrom(events, { outcome: 'failed' }, { timelineCap: 2000 });
  assert.equal(report.series!.buckets.length, 3601);
  const html = renderHtml(report, { reportDir: dir });
  const dataBytes = embedded(html) && /<script type="application\/json" id="series-data">(.*?)<\/script>/s.exec(html)![1]!.length;
  console.log(`1-hour run: report.html ${(html.length / 1024).toFixed(0)} KiB, of which the series charts' data ${(dataBytes / 1024).toFixed(0)} KiB`);
  assert.ok(dataBytes < 300 * 1024, `series data ${dataBytes} bytes`);
  const file = join(dir, 'hour.html');
  writeFileSync(file, html);
  const { page, problems } = await open(file);
  try {
    const full = await charts(page);
    assert.deepEqual(full.range, [0, 3600]);
    for (const p of Object.values(full.lastPaint)) assert.equal(p.columns, 361, 'ten buckets a column');
    // Zoomed out, a failure in one second of ten is a tenth of a failure a second.
    assert.equal(full.lastPaint.errors!.lines['expectation/s']!.max, 0.1);
    assert.deepEqual(full.lastPaint.throughput!.xLabels, ['+0 s', '+15m00s', '+30m01s', '+45m01s', '+60m01s']);
    await page.evaluate(() => (globalThis as unknown as { planrunCharts: { zoom(a: number, b: number): void } }).planrunCharts.zoom(60, 119));
    const minute = await charts(page);
    for (const p of Object.values(minute.lastPaint)) assert.deepEqual([p.from, p.to, p.columns], [60, 119, 60]);
    assert.deepEqual(minute.lastPaint.throughput!.xLabels, ['+1m00s', '+1m15s', '+1m30s', '+1m45s', '+2m00s']);
    // Zoomed to a column a second: the failure at the start of minute 1 is one a second.
    assert.equal(minute.lastPaint.errors!.lines['expectation/s']!.max, 1);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});
