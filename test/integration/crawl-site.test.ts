// The crawler against the generated site: exactly the ground truth, in scope,
// every page fetched once, exact termination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSite } from '../fixtures/site/site.js';
import { brokenOf, crawlSite, normalizeTruth } from '../helpers/crawl-helpers.js';

const REFERENCE = { normalize: { stripParams: ['utm_source'] } };

test('finds exactly the ground truth: every broken URL with its exact referrers, no false positives', async () => {
  const site = await startSite({ pages: 300, products: 40 });
  try {
    const report = await crawlSite({ start: [`${site.origin}/`], ...REFERENCE });
    assert.equal(report.stoppedBy, 'complete');
    assert.deepEqual(brokenOf(report), normalizeTruth(site.truth()));
    assert.equal(report.broken, site.truth().length);
    const kinds: Record<string, number> = {};
    for (const t of site.truth()) kinds[t.kind] = (kinds[t.kind] ?? 0) + 1;
    assert.deepEqual(report.brokenByKind, kinds);
    assert.deepEqual(Object.keys(kinds).sort(), ['4xx', '5xx', 'network', 'out-of-scope-redirect', 'redirect-loop']);
    assert.deepEqual(report.skipped, { byRule: 0, byRobots: 1, byDepth: 0, byScheme: 4, outOfScope: 3 });

    // Every page the reference rules reach was crawled and answered 200.
    const crawled = new Map(report.urls.filter((u) => u.mode === 'crawled').map((u) => [u.url, u]));
    for (const page of site.crawlablePages()) assert.equal(crawled.get(page)?.status, 200, `${page} crawled`);
    // The redirect chain is reported hop by hop.
    const chain = report.urls.find((u) => u.url === `${site.origin}/redirect/chain/1`)!;
    assert.deepEqual(
      chain.redirects.map((r) => [new URL(r.url).pathname, r.status]),
      [
        ['/redirect/chain/1', 301],
        ['/redirect/chain/2', 302],
        ['/redirect/chain/3', 307],
      ],
    );
    assert.equal(chain.status, 200);
  } finally {
    await site.close();
  }
});

test('stays in scope: off-site links are checked once, never crawled; robots-disallowed pages never fetched; each page fetched once', async () => {
  const site = await startSite({ pages: 120 });
  try {
    await crawlSite({ start: [`${site.origin}/`], ...REFERENCE });
    // The partner server saw only checks of the two linked URLs (HEAD, GET after a failed HEAD), never /ext/deep.
    assert.deepEqual(site.otherLog.map((r) => `${r.method} ${r.path}`).sort(), ['GET /ext/missing', 'HEAD /ext/missing', 'HEAD /ext/ok']);
    assert.deepEqual(new Set(site.otherLog.map((r) => r.path)), new Set(['/ext/ok', '/ext/missing']));
    assert.equal(site.log.filter((r) => r.path.startsWith('/private/')).length, 0);

    // Normalisation: query variants, %32, HTTP:// and utm_source collapse; every page GET exactly once.
    const gets = new Map<string, number>();
    for (const r of site.log) if (r.method === 'GET') gets.set(r.path, (gets.get(r.path) ?? 0) + 1);
    for (const page of site.crawlablePages()) {
      const path = page.slice(site.origin.length);
      // /page/1 is also the end of the redirect chain, which fetches it once more.
      const allowed = path === '/page/1' ? 2 : 1;
      assert.ok((gets.get(path) ?? 0) >= 1 && (gets.get(path) ?? 0) <= allowed, `${path} fetched ${gets.get(path)} times`);
    }
    assert.equal(gets.get('/page/2?utm_source=feed'), undefined);
    assert.equal(gets.get('/page/10?view=full&lang=en'), undefined);
    assert.equal(gets.get('/page/%32'), undefined);
    assert.equal(gets.get('/robots.txt'), 1);
  } finally {
    await site.close();
  }
});

test('fragments: true reports #fragment links missing on their target page, with referrers', async () => {
  const site = await startSite({ pages: 30 });
  try {
    const report = await crawlSite({ start: [`${site.origin}/`], ...REFERENCE, fragments: true });
    assert.deepEqual(
      brokenOf(report, (k) => k === 'fragment'),
      normalizeTruth(site.fragmentTruth()),
    );
    assert.equal(site.fragmentTruth().length, 1);
    assert.deepEqual(
      brokenOf(report, (k) => k !== 'fragment'),
      normalizeTruth(site.truth()),
    );
  } finally {
    await site.close();
  }
});

test('terminates exactly: resolves right after the last response, leaving no timers behind', async () => {
  const site = await startSite({ pages: 5, specials: false, homeLinks: ['/slow/400'] });
  try {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const started = performance.now();
    const report = await crawlSite({ start: [`${site.origin}/`], ...REFERENCE });
    const resolvedAt = performance.now();
    const lastResponse = Math.max(...site.log.map((r) => r.endAt ?? Infinity));
    assert.equal(report.stoppedBy, 'complete');
    assert.ok(resolvedAt - started >= 400, 'waited for the slow page');
    // No polling interval: the end is noticed as soon as the last body is read.
    assert.ok(resolvedAt - lastResponse < 60, `resolved ${Math.round(resolvedAt - lastResponse)}ms after the last response`);
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.ok(timersAfter <= timersBefore, `timers left behind: ${timersAfter - timersBefore}`);
    // home, /page/0-4, /page/0?lang=en&view=full and /slow/400
    assert.equal(report.crawled, 8);
  } finally {
    await site.close();
  }
});

for (const [path, stuck] of [
  ['/slow/3000', 'waiting for headers'],
  ['/trickle/3000', 'while its body still arrives'],
] as const) {
  test(`Ctrl-C with a page ${stuck}: the crawl resolves at once with what was crawled so far`, async () => {
    const site = await startSite({ pages: 5, specials: false, homeLinks: [path] });
    try {
      const ac = new AbortController();
      const started = performance.now();
      const done = crawlSite({ start: [`${site.origin}/`] }, { signal: ac.signal });
      setTimeout(() => ac.abort(), 300);
      const report = await done;
      assert.equal(report.stoppedBy, 'aborted');
      assert.ok(performance.now() - started < 1500, `did not wait for ${path}`);
      assert.ok(report.crawled >= 6, `crawled ${report.crawled} before the abort`);
      assert.equal(
        report.urls.some((u) => u.url.endsWith(path)),
        false,
      );
    } finally {
      await site.close();
    }
  });
}
