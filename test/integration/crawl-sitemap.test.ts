// Seeding a crawl from sitemaps, sitemap indexes (gzipped or not), the
// Sitemap: lines of robots.txt and URL files, against real HTTP servers: which
// URLs are crawled, the referrers of broken entries, broken sitemaps and the
// limits that bound what a sitemap can make the crawler read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { MemoryFrontier } from '../../src/coordination/memory-frontier.js';
import { crawl } from '../../src/engines/crawl/crawler.js';
import { crawlRules, type CrawlRules } from '../../src/engines/crawl/rules.js';
import { PlanError } from '../../src/plan/issues.js';
import { parsePlan } from '../../src/plan/load.js';
import type { Crawl } from '../../src/plan/raw-plan.js';
import type { CrawlReport } from '../../src/contract/report.js';
import { page, sitemapIndex, startDocSite, urlset, type DocSite } from '../fixtures/sitemap/sitemap-site.js';
import { startServer } from '../helpers/http-helpers.js';

let dir: string;
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'planrun-sitemap-'));
});
test.after(() => rm(dir, { recursive: true, force: true }));

/** The crawl rules of a plan written in `dir` (URL files are relative to it), headers as plain values. */
function rules(crawlBlock: Crawl, extra: Record<string, unknown> = {}): CrawlRules {
  const plan = parsePlan(stringify({ name: 'sitemap test', workers: 4, timeout: 5000, ...extra, crawl: crawlBlock }), join(dir, 'plan.yml'));
  const headers = Object.fromEntries(Object.entries(plan.crawl!.headers).map(([n, t]) => [n, t.source]));
  return crawlRules(plan.crawl!, headers);
}

const run = (r: CrawlRules): Promise<CrawlReport> => crawl(r, { frontier: new MemoryFrontier() });
const urlsOf = (report: CrawlReport, mode: 'crawled' | 'checked') =>
  report.urls
    .filter((u) => u.mode === mode)
    .map((u) => u.url)
    .sort();
const paths = (site: DocSite, method = 'GET') => site.log.filter((r) => r.method === method).map((r) => r.path);

test('robots.txt → sitemap index → sitemaps (one gzipped, one content-encoding gzip) and a URL file seed exactly their URLs', { timeout: 30_000 }, async () => {
  const other = await startDocSite((o) => ({
    '/sitemap-b.xml': { body: urlset([`${o}/ok`]), type: 'application/xml' },
    '/ok': page('Other'),
  }));
  const site = await startDocSite((o) => ({
    '/robots.txt': { body: `User-agent: *\nDisallow: /private/\n\nSitemap: ${o}/sitemap_index.xml\nSitemap: ${o}/news.xml\n`, type: 'text/plain' },
    '/sitemap_index.xml': {
      body: sitemapIndex([`${o}/sitemap-pages.xml`, `${o}/sitemap-products.xml.gz`, `${o}/sitemap-gone.xml`, `${other.origin}/sitemap-b.xml`]),
      type: 'application/xml',
    },
    '/sitemap-pages.xml': { body: urlset([`${o}/a`, `${o}/b?y=2&x=1`, `${o}/missing`, `${o}/private/p`, `${other.origin}/ok`]), type: 'application/xml' },
    '/sitemap-products.xml.gz': { body: gzipSync(urlset([`${o}/p/1`, `${o}/p/2`, `${o}/a`])), type: 'application/octet-stream' },
    '/news.xml': { body: gzipSync(urlset([`${o}/news/1`])), type: 'application/xml', headers: { 'content-encoding': 'gzip' } },
    '/a': page('A', ['/linked']),
    '/b?x=1&y=2': page('B'),
    '/p/1': page('P1'),
    '/p/2': page('P2'),
    '/news/1': page('News'),
    '/linked': page('Linked'),
    '/from-file': page('From a file'),
    '/private/p': page('Private'),
  }));
  try {
    await writeFile(join(dir, 'urls.txt'), `# pages the sitemaps miss\n\n/from-file\n  ${site.origin}/a  \n`);
    const r = rules(
      { start: [{ robots: '/robots.txt' }, { urls: 'urls.txt' }], headers: { authorization: 'Bearer secret' }, scope: { origins: [site.origin] } },
      { target: site.origin },
    );
    const report = await run(r);
    const o = site.origin;
    assert.deepEqual(urlsOf(report, 'crawled'), [`${o}/a`, `${o}/b?x=1&y=2`, `${o}/from-file`, `${o}/linked`, `${o}/missing`, `${o}/news/1`, `${o}/p/1`, `${o}/p/2`].sort());
    // The robots.txt and sitemaps read are checked URLs; /ok is out of scope (HEAD); /private/p is disallowed by robots.txt.
    assert.deepEqual(
      urlsOf(report, 'checked'),
      [
        `${o}/robots.txt`,
        `${o}/sitemap_index.xml`,
        `${o}/sitemap-pages.xml`,
        `${o}/sitemap-products.xml.gz`,
        `${o}/sitemap-gone.xml`,
        `${o}/news.xml`,
        `${other.origin}/sitemap-b.xml`,
        `${other.origin}/ok`,
      ].sort(),
    );
    assert.equal(report.skipped.byRobots, 1);
    assert.deepEqual(report.seeds, { sitemaps: 5, fromSitemaps: 10, fromFiles: 2 });
    // Each document is read once (robots.txt is fetched again for the robots rule), after the document listing it;
    // pages are fetched meanwhile, as sitemaps are frontier work like pages.
    const gets = paths(site);
    const docs = ['/robots.txt', '/sitemap_index.xml', '/news.xml', '/sitemap-pages.xml', '/sitemap-products.xml.gz', '/sitemap-gone.xml'];
    assert.deepEqual(
      docs.map((d) => gets.filter((p) => p === d).length),
      [2, 1, 1, 1, 1, 1],
    );
    for (const [listing, listed] of [
      ['/robots.txt', '/sitemap_index.xml'],
      ['/robots.txt', '/news.xml'],
      ['/sitemap_index.xml', '/sitemap-pages.xml'],
      ['/sitemap_index.xml', '/sitemap-gone.xml'],
    ] as const)
      assert.ok(gets.indexOf(listing) < gets.indexOf(listed), `${listing} before ${listed}`);
    // Depth 0 for every seeded URL, 1 for the page linked from one.
    assert.deepEqual(
      report.urls.filter((u) => u.depth > 0).map((u) => u.url),
      [`${o}/linked`],
    );
    // Broken: the page a sitemap lists and its sitemap as referrer; the sitemap an index lists and the index.
    assert.deepEqual(
      report.brokenUrls.map((b) => [b.url, b.status, b.broken?.kind, b.broken?.message, b.referrers]),
      [
        // A listed sitemap has its record once its index lists it, before the pages of the sitemaps read next.
        [`${o}/sitemap-gone.xml`, 404, '4xx', 'status 404, expected 2xx: not read', [{ page: `${o}/sitemap_index.xml`, element: 'sitemap>loc' }]],
        [`${o}/missing`, 404, '4xx', 'status 404, expected 2xx', [{ page: `${o}/sitemap-pages.xml`, element: 'url>loc' }]],
      ],
    );
    // A URL listed twice keeps both sitemaps as referrers (and the URL file, which is no referrer), in the order the
    // sitemaps were read (in parallel).
    assert.deepEqual(
      report.urls.find((u) => u.url === `${o}/a`)?.referrers?.toSorted((x, y) => x.page.localeCompare(y.page)),
      [
        { page: `${o}/sitemap-pages.xml`, element: 'url>loc' },
        { page: `${o}/sitemap-products.xml.gz`, element: 'url>loc' },
      ],
    );
    assert.deepEqual(report.urls.find((u) => u.url === `${other.origin}/sitemap-b.xml`)?.referrers, [{ page: `${o}/sitemap_index.xml`, element: 'sitemap>loc' }]);
    // Credentials stay on their origin: the other origin's sitemap and page get no authorization header.
    assert.ok(site.log.every((r) => r.headers.authorization === 'Bearer secret'));
    assert.deepEqual(
      other.log.map((r) => [r.method, r.path, r.headers.authorization]),
      [
        ['GET', '/sitemap-b.xml', undefined],
        ['HEAD', '/ok', undefined],
      ],
    );
    assert.equal(report.stoppedBy, 'complete');
  } finally {
    await site.close();
    await other.close();
  }
});

test('a sitemap that cannot be parsed is broken with its message, and the crawl goes on with the rest', { timeout: 30_000 }, async () => {
  const site = await startDocSite((o) => ({
    '/truncated.xml': { body: `<?xml version="1.0"?>\n<urlset>\n<url><loc>${o}/before-the-cut</loc></url>\n<url><loc>${o}/x` },
    '/html.xml': page('Not a sitemap'),
    '/bad.xml.gz': { body: Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]) },
    '/mismatch.xml': { body: `<urlset><url><loc>${o}/y</loc></url></urlset>\n<url>` },
    '/bad-entries.xml': { body: urlset([`${o}/fine`, '/relative', 'ftp://x/y']) },
    '/before-the-cut': page('Before'),
    '/fine': page('Fine'),
    '/': page('Home'),
  }));
  try {
    const start = ['/', ...['/truncated.xml', '/html.xml', '/bad.xml.gz', '/mismatch.xml', '/bad-entries.xml'].map((s) => ({ sitemap: s }))];
    const report = await run(rules({ start, robots: 'ignore' }, { target: site.origin }));
    const o = site.origin;
    assert.deepEqual(urlsOf(report, 'crawled'), [`${o}/`, `${o}/before-the-cut`, `${o}/fine`, `${o}/y`].sort());
    assert.deepEqual(
      report.brokenUrls.map((b) => [b.url, b.broken?.kind, b.broken?.message]),
      [
        // The document ends in the middle of an entry: the entries before it are kept.
        [`${o}/truncated.xml`, 'sitemap', `not valid XML (line 4, column ${`<url><loc>${o}/x`.length}): Unclosed root tag`],
        [`${o}/html.xml`, 'sitemap', 'not a sitemap: the root element is <title>, expected <urlset> or <sitemapindex>'],
        [`${o}/bad.xml.gz`, 'sitemap', 'not valid gzip: invalid block type'],
        [`${o}/mismatch.xml`, 'sitemap', 'not valid XML (line 2, column 5): a second root element <url>'],
        // Every document of crawl.start has its record (report order) once it is queued, before the pages they list.
        [`${o}/bad-entries.xml`, 'sitemap', '2 entries are not an absolute http(s) URL, e.g. "/relative"'],
        [`${o}/y`, '4xx', 'status 404, expected 2xx'],
      ],
    );
    assert.equal(report.stoppedBy, 'complete');
  } finally {
    await site.close();
  }
});

test('limits: a gzip bomb and an oversized sitemap are cut at maxBytes, entries past maxEntries and nested indexes are not read', { timeout: 30_000 }, async () => {
  const MB = 1024 * 1024;
  const site = await startDocSite((o) => ({
    // 64 MB of XML in about 64 KB of gzip.
    '/bomb.xml.gz': { body: gzipSync(Buffer.concat([Buffer.from(`<urlset><url><loc>${o}/in-bomb</loc></url>`), Buffer.alloc(64 * MB, ' '), Buffer.from('</urlset>')])) },
    '/huge.xml': { body: `<urlset>${' '.repeat(3 * MB)}<url><loc>${o}/past-the-cap</loc></url></urlset>` },
    '/many.xml': { body: urlset([1, 2, 3, 4].map((i) => `${o}/many/${i}`)) },
    '/index-1.xml': { body: sitemapIndex([`${o}/index-2.xml`]) },
    '/index-2.xml': { body: sitemapIndex([`${o}/index-3.xml`]) },
    '/index-3.xml': { body: sitemapIndex([`${o}/deep.xml`]) },
    '/deep.xml': { body: urlset([`${o}/deep`]) },
    '/in-bomb': page('In the bomb'),
    '/many/1': page('1'),
    '/many/2': page('2'),
    '/many/3': page('3'),
  }));
  try {
    const r = rules({ start: ['/bomb.xml.gz', '/huge.xml', '/many.xml', '/index-1.xml'].map((s) => ({ sitemap: s })), robots: 'ignore' }, { target: site.origin });
    r.sitemapLimits = { maxBytes: 2 * MB, maxEntries: 3, maxNesting: 2, maxSitemaps: 1000 };
    const report = await run(r);
    const o = site.origin;
    assert.deepEqual(urlsOf(report, 'crawled'), [`${o}/in-bomb`, `${o}/many/1`, `${o}/many/2`, `${o}/many/3`].sort());
    assert.deepEqual(
      report.brokenUrls.map((b) => [b.url, b.broken?.kind, b.broken?.message]),
      [
        [`${o}/bomb.xml.gz`, 'sitemap', "larger than 2 MB uncompressed (the sitemap protocol's limit): the rest was not read"],
        [`${o}/huge.xml`, 'sitemap', "larger than 2 MB uncompressed (the sitemap protocol's limit): the rest was not read"],
        [`${o}/many.xml`, 'sitemap', "more than 3 entries (the sitemap protocol's limit): the rest were not read"],
        [`${o}/index-3.xml`, 'sitemap', '1 sitemaps not read: nested in more than 2 sitemap indexes'],
      ],
    );
  } finally {
    await site.close();
  }
});

test("maxSitemaps: sitemaps past the crawl's maximum are not read, and the index listing them says how many", { timeout: 30_000 }, async () => {
  const site = await startDocSite((o) => ({
    '/robots.txt': { body: `Sitemap: ${o}/s1.xml\nSitemap: ${o}/index.xml\n`, type: 'text/plain' },
    '/index.xml': { body: sitemapIndex([2, 3, 4, 5].map((i) => `${o}/s${i}.xml`)) },
    ...Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`/s${i}.xml`, { body: urlset([`${o}/p${i}`]) }])),
    ...Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`/p${i}`, page(`P${i}`)])),
  }));
  try {
    const r = rules({ start: [{ robots: '/robots.txt' }], robots: 'ignore' }, { target: site.origin });
    r.sitemapLimits = { ...r.sitemapLimits, maxSitemaps: 4 };
    const report = await run(r);
    const o = site.origin;
    assert.deepEqual(urlsOf(report, 'crawled'), [`${o}/p1`, `${o}/p2`, `${o}/p3`]);
    assert.deepEqual(
      report.brokenUrls.map((b) => [b.url, b.broken?.message]),
      [[`${o}/index.xml`, '2 sitemaps not read: the crawl reads at most 4']],
    );
    assert.deepEqual(report.seeds, { sitemaps: 4, fromSitemaps: 3, fromFiles: 0 });
  } finally {
    await site.close();
  }
});

test('maxSitemaps counts each sitemap once: one listed twice, or by two documents, is one of the maximum', { timeout: 30_000 }, async () => {
  const site = await startDocSite((o) => ({
    '/robots.txt': { body: `Sitemap: ${o}/index.xml\nSitemap: ${o}/s1.xml\n`, type: 'text/plain' },
    '/index.xml': { body: sitemapIndex([`${o}/s1.xml`, `${o}/s1.xml`, `${o}/s2.xml`]) },
    ...Object.fromEntries([1, 2].map((i) => [`/s${i}.xml`, { body: urlset([`${o}/p${i}`]) }])),
    ...Object.fromEntries([1, 2].map((i) => [`/p${i}`, page(`P${i}`)])),
  }));
  try {
    const r = rules({ start: [{ robots: '/robots.txt' }, { sitemap: '/index.xml' }], robots: 'ignore' }, { target: site.origin });
    r.sitemapLimits = { ...r.sitemapLimits, maxSitemaps: 3 };
    const report = await run(r);
    const o = site.origin;
    assert.deepEqual(urlsOf(report, 'crawled'), [`${o}/p1`, `${o}/p2`]);
    assert.deepEqual(report.brokenUrls, []);
    assert.deepEqual(report.seeds, { sitemaps: 3, fromSitemaps: 2, fromFiles: 0 });
    assert.deepEqual(paths(site).sort(), ['/index.xml', '/p1', '/p2', '/robots.txt', '/s1.xml', '/s2.xml']);
  } finally {
    await site.close();
  }
});

test('a robots.txt without Sitemap: lines, or missing, is broken; out-of-scope sitemap entries follow outOfScope', { timeout: 30_000 }, async () => {
  const site = await startDocSite((o) => ({
    '/robots.txt': { body: 'User-agent: *\nDisallow:\n', type: 'text/plain' },
    '/sitemap.xml': { body: urlset([`${o}/a`, 'http://127.0.0.1:1/elsewhere']) },
    '/a': page('A'),
  }));
  try {
    const o = site.origin;
    const start = [{ robots: '/robots.txt' }, { robots: '/nowhere/robots.txt' }, { sitemap: '/sitemap.xml' }];
    const report = await run(rules({ start, scope: { outOfScope: 'ignore' } }, { target: o }));
    assert.deepEqual(urlsOf(report, 'crawled'), [`${o}/a`]);
    assert.equal(report.skipped.outOfScope, 1);
    assert.deepEqual(
      report.brokenUrls.map((b) => [b.url, b.broken?.kind, b.broken?.message]),
      [
        [`${o}/robots.txt`, 'sitemap', 'robots.txt has no Sitemap: line'],
        [`${o}/nowhere/robots.txt`, '4xx', 'status 404, expected 2xx: not read'],
      ],
    );
  } finally {
    await site.close();
  }
});

test('an abort while a sitemap is being read ends the crawl with the report of what was done', { timeout: 30_000 }, async () => {
  // The sitemap sends its first entries, then nothing more.
  const server = await startServer((req, res) => {
    if (req.url === '/slow.xml') {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.write(`<urlset><url><loc>http://${req.headers.host}/a</loc></url>`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<title>page</title>');
  });
  try {
    const abort = new AbortController();
    const r = rules({ start: ['/', { sitemap: '/slow.xml' }], robots: 'ignore', timeout: '20s' }, { target: server.origin });
    const started = performance.now();
    setTimeout(() => abort.abort(), 500);
    const report = await crawl(r, { frontier: new MemoryFrontier(), signal: abort.signal });
    assert.equal(report.stoppedBy, 'aborted');
    assert.ok(performance.now() - started < 10_000, 'the abort did not wait for the sitemap (20 s timeout)');
    // The start URL was fetched meanwhile (sitemaps are frontier work like pages); the sitemap's read did not end: no result, no broken URL.
    assert.deepEqual(
      report.urls.map((u) => u.url),
      [`${server.origin}/`],
    );
    assert.equal(report.broken, 0);
    assert.deepEqual(report.seeds, { sitemaps: 1, fromSitemaps: 1, fromFiles: 0 });
  } finally {
    await server.close();
  }
});

test('plan errors: a missing URL file, bad lines in it and bad sitemap URLs are reported at their line and column', async () => {
  await writeFile(join(dir, 'bad-urls.txt'), '# seeds\nhttp://127.0.0.1:9/ok\n  not a url\nmailto:x@y\n');
  const text = `name: seeds
crawl:
  start:
    - { urls: nowhere.txt }
    - { urls: bad-urls.txt }
    - { sitemap: "ftp://x/sitemap.xml" }
    - { robots: /robots.txt }
`;
  const file = join(dir, 'seeds.yml');
  const err = (() => {
    try {
      parsePlan(text, file);
    } catch (e) {
      return e;
    }
    assert.fail('the plan loaded');
  })();
  assert.ok(err instanceof PlanError);
  assert.deepEqual(
    err.issues.map((i) => [i.file, i.line, i.col, i.message, i.hint]),
    [
      [
        join(dir, 'bad-urls.txt'),
        3,
        3,
        '`not a url` is not an http(s) URL (a relative URL needs the plan to have a target)',
        'one absolute URL a line, like http://127.0.0.1:8080/page (read through crawl.start[1].urls)',
      ],
      [
        join(dir, 'bad-urls.txt'),
        4,
        1,
        '`mailto:x@y` is not an http(s) URL (a relative URL needs the plan to have a target)',
        'one absolute URL a line, like http://127.0.0.1:8080/page (read through crawl.start[1].urls)',
      ],
      [
        file,
        4,
        15,
        `crawl.start[0].urls: cannot read nowhere.txt: no such file (${join(dir, 'nowhere.txt')})`,
        'the path is relative to the plan file; the file lists one URL a line',
      ],
      [file, 6, 18, 'crawl.start[2].sitemap: `ftp://x/sitemap.xml` is not an http(s) URL', 'write an absolute URL like http://127.0.0.1:8080/ or set `target:`'],
      [
        file,
        7,
        17,
        'crawl.start[3].robots: `/robots.txt` is not an http(s) URL and the plan has no target to resolve it against',
        'write an absolute URL like http://127.0.0.1:8080/ or set `target:`',
      ],
    ],
  );
});

test('plan errors: a start entry of an unknown form says which forms there are', () => {
  const text = 'name: seeds\ntarget: http://127.0.0.1:9\ncrawl:\n  start:\n    - { sitemaps: /sitemap.xml }\n    - { sitemap: /a.xml, urls: urls.txt }\n    - {}\n';
  const file = join(dir, 'forms.yml');
  assert.throws(
    () => parsePlan(text, file),
    (e: unknown) => {
      assert.ok(e instanceof PlanError);
      assert.deepEqual(
        e.issues.map((i) => [i.line, i.col, i.message, i.hint]),
        [
          [5, 9, 'crawl.start[0]: unknown key `sitemaps`', 'did you mean `sitemap`?'],
          [6, 7, 'crawl.start[1] needs exactly one of `sitemap: URL`, `robots: URL` or `urls: FILE`', undefined],
          [7, 7, 'crawl.start[2] needs exactly one of `sitemap: URL`, `robots: URL` or `urls: FILE`', undefined],
        ],
      );
      return true;
    },
  );
});
