// Issue 6 end to end: a real run (pad writer/readers with event barriers, a
// browser visitor whose step fails, a crawl of the generated site) through the
// real CLI with every file reporter, then report.html opened in real headless
// Chromium and junit.xml validated against the JUnit schema CI tools accept.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startSite as startPages, type Site as Pages } from '../helpers/browser-helpers.js';
import { normalizeTruth, sortRefs } from '../helpers/crawl-helpers.js';
import { planrun } from '../helpers/cli-helpers.js';
import { readReport } from '../helpers/report-helpers.js';
import { startSite as startCrawlSite, type Site as CrawlSite } from '../fixtures/site/site.js';
import { startPad, type Pad } from '../helpers/run-helpers.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const XSD = resolve('test/fixtures/junit/junit-10.xsd');
const OUT = resolve('test-output');
const dir = mkdtempSync(join(tmpdir(), 'planrun-e2e-'));

let pad: Pad | undefined;
let pages: Pages | undefined;
let site: CrawlSite | undefined;
let browser: Browser | undefined;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  // One by one, so `after` can stop whichever started if a later one fails.
  pad = await startPad();
  pages = await startPages();
  site = await startCrawlSite({ pages: 30 });
});
after(async () => {
  await browser?.close();
  await Promise.all([pad?.stop(), pages?.close(), site?.close()]);
  // KEEP_E2E=1 keeps the run's report folder (its path is in the plan file name of the report) for a look.
  if (!process.env.KEEP_E2E) rmSync(dir, { recursive: true, force: true });
});

/** The pad plan's coordination, a visitor whose browser step fails in round 1, and a crawl. */
const plan = (padUrl: string, pagesOrigin: string, siteOrigin: string) => `
name: Report e2e — pad, a failing browser step and a crawl
target: ${padUrl}
workers: 6
rounds: 2
waitTimeout: 10s
browser: { executablePath: /usr/bin/chromium, args: [${CHROMIUM_ARGS.join(', ')}] }
roles:
  writer: { workers: [4] }
  visitor: { workers: [5] }
  reader: { rest: true }
barriers:
  written: { signal: writer, wait: reader, scope: round }
  read: { signal: reader, wait: writer, scope: previous-round }
scenario:
  writer:
    - wait: read
    - name: write line
      request:
        method: POST
        url: /pads/e2e/lines
        json: { text: "round {{ round }}", by: "worker {{ worker.id }}" }
        expect: { status: 201 }
    - signal: written
  reader:
    - wait: written
    - name: read line
      request:
        url: /pads/e2e/lines/{{ round }}
        expect: { status: 200, json: { by: worker 4 } }
    - signal: read
  visitor:
    - name: open the page site
      browser: { goto: "${pagesOrigin}/" }
    - name: click the ghost
      if: round == 1
      timeout: 5s
      browser: { click: "#ghost" }
crawl:
  start: ["${siteOrigin}/"]
  normalize: { stripParams: [utm_source] }
`;

interface TimelineApi {
  lanes: Array<{ worker: number; role: string }>;
  barriers: string[];
  lastPaint: { lanes: number[]; roles: string[]; barriers: string[]; bars: number } | null;
}

test('a real run with barriers, a failed browser step and a crawl: report.html in Chromium, junit.xml against the schema', { timeout: 150_000 }, async () => {
  const out = join(dir, 'report');
  const planFile = join(dir, 'e2e.yml');
  writeFileSync(planFile, plan(pad!.url, pages!.origin, site!.origin));
  // Not blocking: the page and crawl sites are served from this process.
  const run = await planrun(['run', planFile, '--out', out, '--reporter', 'plain,json,html,junit,markdown'], { env: { CI: 'true' }, timeoutMs: 90_000 });
  assert.equal(run.code, 1, `exit 1 expected (a browser step failed, the crawl found broken links):\n${run.stderr}${run.stdout}`);

  const report = await readReport(join(out, 'report.json'));
  assert.equal(report.outcome, 'failed');
  assert.equal(report.reason, '1 step failed; the crawl found 9 broken links', 'the reason names every failure of the run');
  const ghost = report.timeline.filter((t) => t.name === 'click the ghost');
  // Its `if` keeps it to round 1; round 2 reports it skipped.
  assert.deepEqual(
    ghost.map((t) => [t.worker, t.round, t.outcome]),
    [
      [5, 1, 'failed'],
      [5, 2, 'skipped'],
    ],
  );
  const shot = ghost[0]!.attachments?.[0];
  assert.ok(shot, 'the failed browser step has a screenshot attachment');
  assert.equal(shot.contentType, 'image/png');
  assert.equal(readFileSync(join(out, shot.path)).subarray(1, 4).toString(), 'PNG');
  // Every step run is on the timeline: 4 readers and the writer × 2 rounds × 3 steps, the visitor × 2 rounds × 2 steps.
  assert.equal(report.timeline.length, 5 * 2 * 3 + 2 * 2);
  // The report's crawl is exactly the site's ground truth (broken URLs and every referrer).
  const truth = normalizeTruth(site!.truth());
  assert.ok(truth.length >= 5, `the generated site plants broken links (${truth.length})`);
  assert.deepEqual(
    report.crawl!.brokenUrls.map((b) => ({ url: b.url, kind: b.broken!.kind, referrers: sortRefs(b.referrers) })).sort((a, b) => (a.url < b.url ? -1 : 1)),
    truth,
  );

  // --- report.html in real headless Chromium --------------------------------------------
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30_000 });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  const file = `file://${join(out, 'report.html')}`;
  page.on('request', (r) => {
    if (r.url() !== file && !r.url().startsWith('data:')) requests.push(r.url());
  });
  await page.goto(file);
  await page.waitForFunction(() => (globalThis as unknown as { planrunTimeline?: TimelineApi }).planrunTimeline?.lastPaint != null);

  // Every worker has a lane, grouped by role in plan order; every barrier is drawn.
  const tl = await page.evaluate(() => {
    const t = (globalThis as unknown as { planrunTimeline: TimelineApi }).planrunTimeline;
    return { lanes: t.lanes, barriers: t.barriers, paint: t.lastPaint! };
  });
  assert.deepEqual(tl.lanes, [
    { worker: 4, role: 'writer' },
    { worker: 5, role: 'visitor' },
    { worker: 0, role: 'reader' },
    { worker: 1, role: 'reader' },
    { worker: 2, role: 'reader' },
    { worker: 3, role: 'reader' },
  ]);
  assert.deepEqual(tl.barriers, ['written', 'read']);
  assert.deepEqual(tl.paint.lanes, [4, 5, 0, 1, 2, 3]);
  assert.deepEqual(tl.paint.roles, ['writer', 'visitor', 'reader']);
  assert.deepEqual([...tl.paint.barriers].sort(), ['read', 'written']);
  assert.equal(tl.paint.bars, report.timeline.length);
  assert.deepEqual(await page.locator('#barrier-list li b').allTextContents(), ['written', 'read']);

  // The failed browser step's screenshot is inline and decodes.
  const img = page.locator('#errors img.shot');
  assert.equal(await img.count(), 1);
  assert.match((await img.getAttribute('alt')) ?? '', new RegExp(`${shot.path.replace(/[.]/g, '\\.')}$`));
  assert.match((await img.getAttribute('src')) ?? '', /^data:image\/png;base64,iVBOR/);
  await img.scrollIntoViewIfNeeded();
  assert.ok((await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)) > 0, 'the screenshot decodes');
  assert.match((await page.locator('#errors').textContent()) ?? '', /click the ghost \(visitor, worker 5, round 1/);

  // The crawl section lists every broken URL with each of its referrer pages.
  // (The tsconfig has no DOM lib: describe the little of an element this reads.)
  interface El {
    textContent: string | null;
    querySelector(s: string): El | null;
    querySelectorAll(s: string): ArrayLike<El>;
  }
  const listed = await page.locator('#broken-list > li').evaluateAll((lis) =>
    (lis as unknown as El[]).map((li) => ({
      url: li.querySelector(':scope > .url')!.textContent,
      referrers: Array.from(li.querySelectorAll(':scope > ul > li > .url')).map((r) => r.textContent),
    })),
  );
  assert.deepEqual(
    listed.map((l) => ({ url: l.url, referrers: [...new Set(l.referrers)].sort() })).sort((a, b) => (a.url! < b.url! ? -1 : 1)),
    truth.map((t) => ({ url: t.url, referrers: [...new Set(t.referrers.map((r) => r.page))].sort() })),
  );
  assert.equal(await page.locator('#crawl-count').textContent(), `${truth.length} of ${truth.length}`);

  await page.screenshot({ path: join(OUT, 'report-e2e.png'), fullPage: true });
  assert.deepEqual(problems, [], 'no console errors or warnings');
  assert.deepEqual(requests, [], 'no request other than the report file');
  await page.close();

  // --- junit.xml: schema-valid, with the browser step's failure naming its screenshot ---------
  const junitFile = join(out, 'junit.xml');
  const lint = spawnSync('xmllint', ['--noout', '--schema', XSD, junitFile], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(lint.status, 0, lint.stderr);
  const junit = readFileSync(junitFile, 'utf8');
  const ghostCase = /<testcase [^>]*name="[^"]*click the ghost[^"]*"[^>]*>([\s\S]*?)<\/testcase>/.exec(junit);
  assert.ok(ghostCase, `junit.xml has a test case for the browser step:\n${junit}`);
  assert.match(ghostCase[1]!, /<failure /);
  assert.ok(ghostCase[1]!.includes(shot.path), `the failure names the screenshot ${shot.path}:\n${ghostCase[1]}`);
  // And one failing case per broken crawl URL.
  for (const t of truth) assert.ok(junit.includes(`name="${t.url.replace(/&/g, '&amp;')}"`), `junit.xml has a case for ${t.url}`);

  // The Markdown summary was written too.
  assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /click the ghost/);
});
