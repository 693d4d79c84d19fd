// Report rendering for a large run: 1,000 workers × 100 rounds (4 steps per
// round each, timeline capped as the collector caps it). Baseline, measured in
// the same run: the JSON report itself (its size, JSON.stringify time). Then
// the HTML page's size and render time in node, JUnit/Markdown render time,
// and the page in headless Chromium: load → first paint → timeline drawn, and
// one scroll redraw of the windowed canvas.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { DEFAULT_TIMELINE_CAP } from '../../src/reporting/metrics/metrics-collector.js';
import { renderHtml } from '../../src/reporting/files/html/html-report.js';
import { renderJunit } from '../../src/reporting/files/junit.js';
import { renderMarkdown } from '../../src/reporting/files/markdown.js';
import { syntheticReport } from '../fixtures/report/sample.js';

const WORKERS = Number(process.env.BENCH_WORKERS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
const RUNS = 3;

function timed<T>(f: () => T): { ms: number; value: T } {
  let best = Infinity;
  let value!: T;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    value = f();
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, value };
}

const mib = (n: number) => `${(n / (1 << 20)).toFixed(2)} MiB`;

// Derived through the collector, which keeps DEFAULT_TIMELINE_CAP results (a sample over the whole run) plus failures and barrier waits.
const report = syntheticReport(WORKERS, ROUNDS, process.env.BENCH_UNCAPPED ? { timelineCap: Infinity } : {});
const all = report.timeline.length + report.timelineTruncated;
console.log(
  `${WORKERS} workers × ${ROUNDS} rounds: ${all} step results, ${report.timeline.length} in the timeline (${report.timelineTruncated} dropped by the cap of ${DEFAULT_TIMELINE_CAP})`,
);

const json = timed(() => JSON.stringify(report));
const jsonBytes = Buffer.byteLength(json.value);
const html = timed(() => renderHtml(report));
const htmlBytes = Buffer.byteLength(html.value);
const junit = timed(() => renderJunit(report));
const md = timed(() => renderMarkdown(report));

console.log(`baseline  JSON report         ${mib(jsonBytes).padStart(10)}   JSON.stringify ${json.ms.toFixed(0)} ms`);
console.log(
  `HTML      report.html         ${mib(htmlBytes).padStart(10)} (${(htmlBytes / jsonBytes).toFixed(2)}× JSON)   render ${html.ms.toFixed(0)} ms (${(html.ms / json.ms).toFixed(2)}× stringify)`,
);
console.log(`JUnit     junit.xml           ${mib(Buffer.byteLength(junit.value)).padStart(10)}   render ${junit.ms.toFixed(1)} ms (${(junit.ms / json.ms).toFixed(2)}× stringify)`);
console.log(`Markdown  summary.md          ${mib(Buffer.byteLength(md.value)).padStart(10)}   render ${md.ms.toFixed(2)} ms`);

const dir = mkdtempSync(join(tmpdir(), 'planrun-report-bench-'));
const file = join(dir, 'report.html');
writeFileSync(file, html.value);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const loads: Array<{ wall: number; fcp: number; drawn: number; scroll: number }> = [];
  for (let i = 0; i < RUNS; i++) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const t0 = performance.now();
    await page.goto(`file://${file}`, { waitUntil: 'load', timeout: 120_000 });
    await page.waitForFunction(() => (globalThis as unknown as { planrunTimeline?: { lastPaint: unknown } }).planrunTimeline?.lastPaint != null, undefined, { timeout: 120_000 });
    const wall = performance.now() - t0;
    const inPage = await page.evaluate(async () => {
      const g = globalThis as unknown as {
        performance: { getEntriesByType(t: string): Array<{ name: string; startTime: number }>; now(): number };
        document: { querySelector(s: string): { scrollTop: number; scrollHeight: number } };
        requestAnimationFrame(f: () => void): void;
      };
      const fcp = g.performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint')?.startTime ?? -1;
      const drawn = g.performance.now();
      const scroller = g.document.querySelector('#timeline .tl-scroll');
      const t = g.performance.now();
      scroller.scrollTop = scroller.scrollHeight / 2;
      await new Promise<void>((r) => g.requestAnimationFrame(() => g.requestAnimationFrame(() => r())));
      return { fcp, drawn, scroll: g.performance.now() - t };
    });
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    loads.push({ wall, fcp: inPage.fcp, drawn: inPage.drawn, scroll: inPage.scroll });
    await page.close();
  }
  const best = (k: 'wall' | 'fcp' | 'drawn' | 'scroll') => Math.min(...loads.map((l) => l[k]));
  console.log(`Chromium  first contentful paint ${best('fcp').toFixed(0)} ms (${(best('fcp') / json.ms).toFixed(2)}× stringify)`);
  console.log(
    `Chromium  timeline drawn         ${best('drawn').toFixed(0)} ms after navigation start; goto → drawn ${best('wall').toFixed(0)} ms (${(best('wall') / json.ms).toFixed(2)}× stringify)`,
  );
  console.log(`Chromium  scroll + redraw        ${best('scroll').toFixed(1)} ms (two animation frames, incl. the windowed canvas draw)`);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
