// Browser mode: the same crawl, but pages are rendered by Chromium and links
// read from the DOM, so links added by JavaScript are followed and checked.
import { MemoryFrontier } from '../../src/coordination/memory-frontier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSite } from '../fixtures/site/site.js';
import { brokenOf, compileCrawlRules, crawlSite } from '../helpers/crawl-helpers.js';
import { crawl } from '../../src/engines/crawl/crawler.js';
import { startServer } from '../helpers/http-helpers.js';

const pathsOf = (urls: Array<{ url: string }>, origin: string) => urls.map((u) => u.url.slice(origin.length)).sort();

test('browser mode follows links added by JavaScript; HTTP mode cannot see them', { timeout: 60_000 }, async () => {
  const site = await startSite({ pages: 2, specials: false, variants: false, homeLinks: ['/app/'] });
  try {
    const base = { start: [`${site.origin}/`], robots: 'ignore' as const, fragments: true, headers: { cookie: 'session=ok' } };

    const http = await crawlSite(base);
    const httpCrawled = pathsOf(
      http.urls.filter((u) => u.mode === 'crawled'),
      site.origin,
    );
    assert.deepEqual(httpCrawled, ['/', '/app/', '/page/0', '/page/1']);
    // Without rendering, the id the script adds is missing too.
    assert.deepEqual(
      brokenOf(http).map((b) => [b.url.slice(site.origin.length), b.kind]),
      [['/app/#js-section', 'fragment']],
    );

    const rendered = await crawlSite({ ...base, browser: true }, { workers: 3 });
    assert.equal(rendered.stoppedBy, 'complete');
    const crawled = pathsOf(
      rendered.urls.filter((u) => u.mode === 'crawled'),
      site.origin,
    );
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
  const rules = compileCrawlRules(
    { start: ['http://127.0.0.1:9/'], browser: true },
    { workers: 1, stepTimeoutMs: 1000, browser: { executablePath: '/nonexistent/chromium', headless: true, args: [] } },
  );
  await assert.rejects(crawl(rules, { frontier: new MemoryFrontier() }), /The browser named by plan browser\.executablePath \(\/nonexistent\/chromium\) does not exist/);
});

test('browser mode: the page sends the crawl headers to in-scope origins only, and not through a redirect out of scope', { timeout: 60_000 }, async () => {
  const seen = (log: Array<{ request: string; headers: Record<string, unknown> }>) =>
    log.map((r) => ({
      request: r.request,
      ours: ['authorization', 'x-api-key', 'cookie', 'user-agent'].filter((h) => h in r.headers).map((h) => `${h}: ${String(r.headers[h])}`),
    }));
  const outsideLog: Array<{ request: string; headers: Record<string, unknown> }> = [];
  const outside = await startServer((req, res) => {
    outsideLog.push({ request: `${req.method} ${req.url}`, headers: req.headers });
    res.writeHead(200, { 'access-control-allow-origin': '*', 'content-type': 'text/plain' }).end('ok');
  });
  // Addressed as localhost: a cookie set for 127.0.0.1 goes to every port of that host, as in any browser.
  const away = `http://localhost:${outside.port}`;
  const siteLog: Array<{ request: string; headers: Record<string, unknown> }> = [];
  const site = await startServer((req, res) => {
    siteLog.push({ request: `${req.method} ${req.url}`, headers: req.headers });
    if (req.url === '/api/away') res.writeHead(302, { location: `${away}/landed` }).end();
    else if (req.url === '/api/data') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><title>home</title><img src="${away}/pic.png">
      <script>fetch('/api/data'); fetch('/api/away');</script></html>`);
  });
  try {
    const headers = { authorization: 'Bearer crawl-token', 'x-api-key': 'k-1', cookie: 'session=s1', 'user-agent': 'planrun-crawl' };
    // A document the route serves has no address space, so Chromium's Local Network Access checks would block
    // its requests to another loopback origin (a public site's to a public CDN go through): off for this test.
    const browser = { headless: true, args: ['--disable-features=LocalNetworkAccessChecks'] };
    const rules = compileCrawlRules({ start: [`${site.origin}/`], robots: 'ignore', browser: true }, { workers: 2, stepTimeoutMs: 10_000, headers, browser });
    const report = await crawl(rules, { frontier: new MemoryFrontier() });
    assert.equal(report.broken, 0);
    const ours = ['authorization: Bearer crawl-token', 'x-api-key: k-1', 'cookie: session=s1', 'user-agent: planrun-crawl'];
    // The crawler's GET of the page and the page's own fetches, in the browser.
    assert.deepEqual(
      seen(siteLog).sort((a, b) => (a.request < b.request ? -1 : 1)),
      [
        { request: 'GET /', ours },
        { request: 'GET /api/away', ours },
        { request: 'GET /api/data', ours },
      ],
    );
    // The crawler's check of the image, the browser's load of it, and the end of the redirect: the user agent only.
    assert.deepEqual(
      seen(outsideLog).sort((a, b) => (a.request < b.request ? -1 : 1)),
      [
        { request: 'GET /landed', ours: ['user-agent: planrun-crawl'] },
        { request: 'GET /pic.png', ours: ['user-agent: planrun-crawl'] },
        { request: 'HEAD /pic.png', ours: ['user-agent: planrun-crawl'] },
      ],
    );
  } finally {
    await Promise.all([site.close(), outside.close()]);
  }
});
