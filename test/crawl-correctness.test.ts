// Crawl correctness at the edges: relative links under a <base href> (HTTP and
// browser mode) and schemes hidden by characters the URL parser strips, against real servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './http-helpers.js';
import { brokenOf, crawlSite } from './crawl-helpers.js';

const html = (body: string) => `<!doctype html><html><head><title>t</title>${body}</html>`;

/** A site of fixed pages (HTML unless the path has an extension); anything else is a 404. */
async function pages(site: Record<string, string>) {
  const log: string[] = [];
  const server = await startServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    const body = site[req.url ?? ''];
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/html' });
    res.end(body ?? 'not found');
  });
  return { origin: server.origin, log, close: () => server.close() };
}

const BASE_SITE = {
  '/docs/s5/page.html': html('<base href="/docs/s5/"></head><body><a href="35">35</a> <a href="../s6/36">36</a> <a href="missing">gone</a>'),
  '/docs/s5/35': html('<body>35'),
  '/docs/s6/36': html('<body>36'),
};

for (const browser of [false, true]) {
  test(`${browser ? 'browser' : 'HTTP'} mode: links resolve against <base href> as written, even when normalisation strips trailing slashes`, { timeout: 60_000 }, async () => {
    const site = await pages(BASE_SITE);
    try {
      const report = await crawlSite({ start: [`${site.origin}/docs/s5/page.html`], robots: 'ignore', normalize: { trailingSlash: 'strip' }, browser });
      assert.equal(report.stoppedBy, 'complete');
      const crawled = report.urls.filter((u) => u.mode === 'crawled').map((u) => [u.url.slice(site.origin.length), u.status]);
      assert.deepEqual(crawled.sort(), [['/docs/s5/35', 200], ['/docs/s5/missing', 404], ['/docs/s5/page.html', 200], ['/docs/s6/36', 200]]);
      assert.deepEqual(brokenOf(report), [
        { url: `${site.origin}/docs/s5/missing`, kind: '4xx', referrers: [{ page: `${site.origin}/docs/s5/page.html`, element: 'a[href]', text: 'gone' }] },
      ]);
    } finally {
      await site.close();
    }
  });
}

test('links are skipped by the scheme the URL parser reads: tabs and newlines inside it do not make a broken link', async () => {
  const site = await pages({
    '/': html('<body><a href="java&#9;script:alert(1)">a</a> <a href="java&#10;script:void(0)">b</a> <a href=" mail&#13;to:x@example.com">c</a> <a href="ok">ok</a>'),
    '/ok': html('<body>ok'),
  });
  try {
    const report = await crawlSite({ start: [`${site.origin}/`], robots: 'ignore' });
    assert.equal(report.broken, 0);
    assert.equal(report.skipped.byScheme, 3);
    assert.equal(report.requests, 2);
    assert.deepEqual(site.log.sort(), ['GET /', 'GET /ok']);
  } finally {
    await site.close();
  }
});
