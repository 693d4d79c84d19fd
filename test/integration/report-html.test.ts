// The HTML report opened in real headless Chromium: every worker lane and every
// barrier is drawn on the timeline, hover explains a barrier wait, screenshots
// and the crawl search work, no console errors, no network requests at all.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { htmlReporter, renderHtml } from '../../src/reporting/files/html/html-report.js';
import type { RunReport } from '../../src/contract/report.js';
import { barrierReport } from '../fixtures/report/sample.js';
import { readReport } from '../helpers/report-helpers.js';
import { openReportPage } from '../helpers/report-page.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUT = resolve('test-output');
const dir = mkdtempSync(join(tmpdir(), 'planrun-html-'));
let browser: Browser;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a report file once its script has drawn (see openReportPage). */
const open = (file: string) => openReportPage(browser, file, () => (globalThis as unknown as { planrunTimeline?: { lastPaint: unknown } }).planrunTimeline?.lastPaint != null);

interface Paint {
  lanes: number[];
  roles: string[];
  barriers: string[];
  bars: number;
  /** [worker, step name, round] of the bars outlined as having released the hovered wait. */
  outlined: Array<[number, string, number]>;
}

type TimelineApi = { locate(w: number, s: string, r: number): { x: number; y: number } | null; lastPaint: Paint };

test('barrier plan report: every worker lane and barrier is drawn; hover explains a wait; no console errors or requests', { timeout: 60_000 }, async () => {
  const report = barrierReport(dir);
  await htmlReporter({ reportDir: dir }).onEnd?.(report);
  const { page, problems, requests } = await open(join(dir, 'report.html'));
  try {
    const tl = await page.evaluate(() => {
      const t = (globalThis as unknown as { planrunTimeline: { lanes: Array<{ worker: number; role: string }>; barriers: string[]; lastPaint: Paint } }).planrunTimeline;
      return { lanes: t.lanes, barriers: t.barriers, paint: t.lastPaint };
    });
    // Lanes grouped by role in plan order: the writer first, then the readers.
    assert.deepEqual(tl.lanes, [
      { worker: 4, role: 'writer' },
      { worker: 0, role: 'reader' },
      { worker: 1, role: 'reader' },
      { worker: 2, role: 'reader' },
      { worker: 3, role: 'reader' },
    ]);
    assert.deepEqual(tl.paint.lanes, [4, 0, 1, 2, 3]);
    assert.deepEqual(tl.paint.roles, ['writer', 'reader']);
    assert.deepEqual([...tl.paint.barriers].sort(), ['read', 'written']);
    assert.equal(tl.paint.bars, report.timeline.length);
    assert.deepEqual(await page.locator('#barrier-list li b').allTextContents(), ['written', 'read']);

    // Hover reader 1's wait in round 2: the tooltip names the barrier, the wait and who signals.
    const at = await page.evaluate(() =>
      (globalThis as unknown as { planrunTimeline: { locate(w: number, s: string, r: number): { x: number; y: number } } }).planrunTimeline.locate(1, 'wait written', 2),
    );
    assert.ok(at);
    // The pixel under the wait bar is painted (not the white/zebra background).
    await page.mouse.move(at.x, at.y);
    const tip = page.locator('.tl-tip');
    await tip.waitFor({ state: 'visible', timeout: 5000 });
    const text = await tip.textContent();
    assert.match(
      text ?? '',
      /^worker 1 · reader · round 2\nwait written \(wait\)\nat \+[\d.]+ s, took \d+ ms · ok\nwaited \d+ ms at barrier "written" \(event, scope round\) for writer; released at \+[\d.]+ s$/,
    );
    await page.screenshot({ path: join(OUT, 'report-html-timeline.png'), fullPage: true });

    // The failed browser step's screenshot is embedded as a data: URI and decodes.
    const img = page.locator('#errors img.shot');
    assert.equal(await img.count(), 1);
    assert.match((await img.getAttribute('src')) ?? '', /^data:image\/png;base64,iVBOR/);
    assert.equal(await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth), 64);

    // Crawl: search filters the broken list by URL or referrer text.
    assert.equal(await page.locator('#broken-list > li:visible').count(), 3);
    await page.fill('#crawl-search', 'missing <page>');
    assert.deepEqual(await page.locator('#broken-list > li:visible .url').first().textContent(), 'http://127.0.0.1:8080/missing.html');
    assert.equal(await page.locator('#broken-list > li:visible').count(), 1);
    assert.equal(await page.locator('#crawl-count').textContent(), '1 of 3');
    assert.match((await page.locator('#crawl').textContent()) ?? '', /http:\/\/127\.0\.0\.1:8080\/old \(301\) → final 200/);
    assert.equal(await page.locator('#crawl svg.hist rect').count(), 4);

    assert.deepEqual(problems, []);
    assert.deepEqual(requests, []);
  } finally {
    await page.close();
  }
});

test('hovering a wait outlines only the signals of that barrier, in the round that released it', { timeout: 60_000 }, async () => {
  // The writer also signals a second barrier right after "written": its bars must not be outlined.
  const report = barrierReport(dir);
  const saved = report.timeline
    .filter((r) => r.name === 'signal written')
    .map((r) => ({ ...r, stepId: 'writer/4', name: 'signal saved', start: r.start + r.durationMs, signal: { barrier: 'saved' } }));
  report.timeline.push(...saved);
  report.timeline.sort((a, b) => a.start - b.start);
  report.run.barriers.push({ name: 'saved', kind: 'event', scope: 'round', signal: ['writer'], wait: [], count: 1 });
  report.run.steps.push({ role: 'writer', stepId: 'writer/4', name: 'signal saved', kind: 'signal' });
  const file = join(dir, 'outline.html');
  writeFileSync(file, renderHtml(report, { reportDir: dir }));
  const { page, problems } = await open(file);
  try {
    const api = () => (globalThis as unknown as { planrunTimeline: TimelineApi }).planrunTimeline;
    assert.deepEqual((await page.evaluate(api)).lastPaint.outlined, [], 'nothing is outlined before a hover');
    const at = await page.evaluate(() => (globalThis as unknown as { planrunTimeline: TimelineApi }).planrunTimeline.locate(2, 'wait written', 1));
    assert.ok(at);
    await page.mouse.move(at.x, at.y);
    await page.locator('.tl-tip').waitFor({ state: 'visible', timeout: 5000 });
    const outlined = await page.evaluate(() => (globalThis as unknown as { planrunTimeline: TimelineApi }).planrunTimeline.lastPaint.outlined);
    assert.deepEqual(outlined, [[4, 'signal written', 1]]);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('summary, thresholds, per-step percentiles and the latency chart are in the page', { timeout: 30_000 }, () => {
  const html = renderHtml(barrierReport(dir), { reportDir: dir });
  assert.match(html, /<span class="verdict failed">failed<\/span>/);
  assert.match(html, /<tr class="bad"><td class="fail">FAIL<\/td><td>barrier\.written\.wait<\/td><td><code>p99 &lt; 100ms<\/code><\/td><td class="n">390\.4<\/td><\/tr>/);
  assert.match(
    html,
    /<tr class="bad"><td>reader<\/td><td>see round <span class="muted">reader\/2<\/span><\/td><td>expect<\/td><td class="n">12<\/td><td class="n">11<\/td><td class="n">1<\/td><td class="n">0<\/td><td class="n">30 ms<\/td><td class="n">31 ms<\/td>/,
  );
  // The run over time: its series' charts, drawn by the page's script (report-html-series.test.ts) from data embedded here.
  assert.match(html, /<section id="over-time">.*<script type="application\/json" id="series-data">\{"bucketMs":1000,.*"name":"reader · see round"/s);
  assert.doesNotMatch(html, /Latency over time/);
  // A report from before planrun had a series draws the step latency from its timeline instead, without script.
  const old = barrierReport(dir);
  delete old.series;
  const oldHtml = renderHtml(old, { reportDir: dir });
  assert.doesNotMatch(oldHtml, /id="over-time"/);
  assert.match(
    oldHtml,
    /Latency over time<\/h2><svg class="chart"[^>]*>.*<path d="M[\d. ML]+" fill="none" stroke="#[0-9a-f]{6}" stroke-width="1.8"><title>reader · see round<\/title>/s,
  );
  // No external resource of any kind.
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
});

test('text from the run cannot inject markup or close the embedded JSON', { timeout: 30_000 }, async () => {
  const report: RunReport = barrierReport(dir, { crawl: false });
  const evil = '</script><script>document.title="pwned"</script><img src=x onerror=alert(1)>';
  report.run.planName = evil;
  report.timeline[0]!.name = evil;
  report.timeline.find((t) => t.outcome === 'failed')!.error = { message: evil };
  report.errors[0]!.message = evil;
  const file = join(dir, 'evil.html');
  writeFileSync(file, renderHtml(report, { reportDir: dir }));
  const { page, problems, requests } = await open(file);
  try {
    assert.notEqual(await page.title(), 'pwned');
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    assert.equal(await page.locator('h1').evaluate((h) => h.firstChild?.textContent?.trim()), evil);
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, []);
  } finally {
    await page.close();
  }
});

test('screenshots past the byte budget are linked, not embedded', { timeout: 30_000 }, () => {
  const html = renderHtml(barrierReport(dir), { reportDir: dir, maxEmbeddedBytes: 10 });
  assert.doesNotMatch(html, /data:image\/png/);
  assert.match(html, /screenshot: <code>screenshots\/reader-2-round-1-see-round\.png<\/code> \(not embedded: missing or over the size budget\)/);
});

test('a real run of the pad HTTP plan (planrun run → planrun report): every worker lane, setup, teardown and both barriers drawn, no errors or requests', {
  timeout: 90_000,
}, async () => {
  const { startPad } = await import('../helpers/run-helpers.js');
  const { planrunSync } = await import('../helpers/cli-helpers.js');
  const pad = await startPad();
  try {
    const plan = readFileSync('plans/pad-http.yml', 'utf8')
      .replace(/^target: .*$/m, `target: ${pad.url}`)
      .replace(/^services:\n(?: {2}.*\n)+/m, '')
      .replace(/^ {2}reporters: .*$/m, '  reporters: [plain, json]');
    const file = join(dir, 'pad-http.yml');
    writeFileSync(file, plan);
    const out = join(dir, 'real');
    const cli = (...args: string[]) => planrunSync(args, { env: { CI: 'true' }, timeoutMs: 60_000 });
    const run = cli('run', file, '--out', out);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const rep = cli('report', join(out, 'report.json'), '--reporter', 'html');
    assert.equal(rep.code, 0, rep.stderr);
    const report = await readReport(join(out, 'report.json'));
    const { page, problems, requests } = await open(join(out, 'report.html'));
    try {
      const paint = await page.evaluate(() => (globalThis as unknown as { planrunTimeline: { lastPaint: Paint } }).planrunTimeline.lastPaint);
      // The setup and teardown pseudo-workers get lanes of their own, after the roles'.
      assert.deepEqual(paint.lanes, [4, 0, 1, 2, 3, -1, -2]);
      assert.deepEqual(paint.roles, ['writer', 'reader', 'setup', 'teardown']);
      assert.deepEqual([...paint.barriers].sort(), ['read', 'written']);
      assert.equal(paint.bars, report.timeline.length);
      assert.equal(report.timeline.length, 5 * 3 * 4 + 2 + 1);
      await page.locator('#coordination').screenshot({ path: join(OUT, 'report-html-real-run.png') });
      assert.deepEqual(problems, []);
      assert.deepEqual(requests, []);
    } finally {
      await page.close();
    }
  } finally {
    await pad.stop();
  }
});
