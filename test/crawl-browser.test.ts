// Browser mode: the same crawl, but pages are rendered by Chromium and links
// read from the DOM, so links added by JavaScript are followed and checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSite } from './fixtures/site/site.js';
import { brokenOf, crawlSite } from './crawl-helpers.js';
import { compileCrawlRules } from '../src/engines/crawl/rules.js';
import { crawl } from '../src/engines/crawl/crawler.js';

const pathsOf = (urls: Array<{ url: string }>, origin: string) => urls.map((u) => u.url.slice(origin.length)).sort();

test('browser mode follows links added by JavaScript; HTTP mode cannot see them', { timeout: 60_000 }, async () => {
  const site = await startSite({ pages: 2, specials: false, variants: false, homeLinks: ['/app/'] });
  try {
    const base = { start: [`${site.origin}/`], robots: 'ignore' as const, fragments: true, headers: { cookie: 'session=ok' } };

    const http = await crawlSite(base);
    const httpCrawled = pathsOf(http.urls.filter((u) => u.mode === 'crawled'), site.origin);
    assert.deepEqual(httpCrawled, ['/', '/app/', '/page/0', '/page/1']);
    // Without rendering, the id the script adds is missing too.
    assert.deepEqual(brokenOf(http).map((b) => [b.url.slice(site.origin.length), b.kind]), [['/app/#js-section', 'fragment']]);

    const rendered = await crawlSite({ ...base, browser: true }, { workers: 3 });
    assert.equal(rendered.stoppedBy, 'complete');
    const crawled = pathsOf(rendered.urls.filter((u) => u.mode === 'crawled'), site.origin);
    assert.deepEqual(crawled, ['/', '/app/', '/app/missing', '/app/page-1', '/page/0', '/page/1']);
    // The link the script adds after fetching /app/links.json (as the logged-in user) is checked and broken.
    assert.deepEqual(brokenOf(rendered), [
      { url: `${site.origin}/app/missing`, kind: '4xx', referrers: [{ page: `${site.origin}/app/`, element: 'a[href]', text: 'Missing link' }] },
    ]);
    const page1 = rendered.urls.find((u) => u.url === `${site.origin}/app/page-1`)!;
    assert.deepEqual(page1.referrers, [{ page: `${site.origin}/app/`, element: 'a[href]', text: 'JS page' }]);
    assert.equal(page1.status, 200);
    // The document is fetched once by the crawler and handed to the browser; the browser loads only its subresources.
    const gets = site.log.filter((r) => r.method === 'GET').map((r) => r.path);
    assert.equal(gets.filter((p) => p === '/app/').length, 2, 'one GET of /app/ per crawl');
    assert.ok(gets.filter((p) => p === '/app/links.json').length >= 1, 'the script ran in the browser');
  } finally {
    await site.close();
  }
});

test('browser mode sends the crawl cookies from the page too (a logged-in crawl)', { timeout: 60_000 }, async () => {
  const site = await startSite({ pages: 1, specials: false, homeLinks: ['/app/'] });
  try {
    // Anonymous: /app/links.json answers 401 to the page's fetch, so no extra link appears.
    const anon = await crawlSite({ start: [`${site.origin}/app/`], robots: 'ignore', browser: true });
    assert.deepEqual(pathsOf(anon.urls, site.origin), ['/app/', '/app/app.js', '/app/page-1']);
    assert.equal(anon.broken, 0);
    const loggedIn = await crawlSite({ start: [`${site.origin}/app/`], robots: 'ignore', browser: true, headers: { cookie: 'theme=dark; session=ok' } });
    assert.deepEqual(pathsOf(loggedIn.urls, site.origin), ['/app/', '/app/app.js', '/app/missing', '/app/page-1']);
  } finally {
    await site.close();
  }
});

test('browser mode: a missing browser fails the crawl before it starts, with what to do', { timeout: 20_000 }, async () => {
  const rules = compileCrawlRules({ start: ['http://127.0.0.1:9/'], browser: true }, { workers: 1, stepTimeoutMs: 1000, browser: { executablePath: '/nonexistent/chromium', headless: true, args: [] } });
  await assert.rejects(crawl(rules), /The browser named by plan browser\.executablePath \(\/nonexistent\/chromium\) does not exist/);
});
