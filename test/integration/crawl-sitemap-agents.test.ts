// Seeding shared by agents: two crawlers on one real Redis frontier and crawl
// store (as agents are), seeded only from sitemaps. Each sitemap is a frontier
// entry, so reading it is work in flight: the crawler that reads no sitemap
// waits for the URLs it lists instead of ending, both crawlers fetch pages, and
// a crawler stopped while reading a sitemap loses it only until its lease
// expires. Each time, the report built from the store equals the one-process one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { CrawlReport } from '../../src/contract/report.js';
import { MemoryFrontier } from '../../src/coordination/memory-frontier.js';
import type { RedisConnection } from '../../src/coordination/redis/connect.js';
import { RedisCrawlStore } from '../../src/coordination/redis/crawl-store.js';
import { RedisFrontier } from '../../src/coordination/redis/frontier.js';
import { crawl } from '../../src/engines/crawl/crawler.js';
import type { CrawlRules } from '../../src/engines/crawl/rules.js';
import { summarizeStored } from '../../src/engines/crawl/summary.js';
import { compileCrawlRules, sortRefs } from '../helpers/crawl-helpers.js';
import { sitemapIndex, urlset } from '../fixtures/sitemap/sitemap-site.js';
import { redisForFile } from '../helpers/redis-file.js';

const redis = redisForFile();

interface Site {
  origin: string;
  /** Paths of the GET requests, in arrival order. */
  gets: string[];
  close(): Promise<void>;
}

/** Serves `handle` (which returns false for a 404); every GET is logged. */
async function startSite(handle: (path: string, req: IncomingMessage, res: ServerResponse) => boolean): Promise<Site> {
  const gets: string[] = [];
  const http = createServer((req, res) => {
    if (req.method === 'GET') gets.push(req.url!);
    if (!handle(req.url!, req, res)) res.writeHead(404, { 'content-type': 'text/html' }).end('<title>Not found</title>');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    gets,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** Every page links to a missing page, so the report has a broken URL with one referrer per page. */
const PAGE = '<title>Page</title><a href="/missing">gone</a>';

/** One crawler of a shared crawl: its own connection, frontier and store. */
async function agent(runId: string, leaseMs?: number) {
  const client = await redis.connect();
  const frontier = await RedisFrontier.open({ client, runId, ...(leaseMs ? { leaseMs } : {}) });
  return { client, frontier, sink: new RedisCrawlStore(client, runId) };
}

/** The report the controller builds from the store, with the agents' seed counts summed as it does. */
async function storedReport(client: RedisConnection, runId: string, rules: CrawlRules, ends: CrawlReport[]): Promise<CrawlReport> {
  const seeds = ends.map((e) => e.seeds!);
  return summarizeStored(await RedisCrawlStore.read(client, runId), {
    startUrls: [],
    seeds: {
      sitemaps: seeds.reduce((n, s) => n + s.sitemaps, 0),
      fromSitemaps: seeds.reduce((n, s) => n + s.fromSitemaps, 0),
      fromFiles: Math.max(...seeds.map((s) => s.fromFiles)),
    },
    stoppedBy: 'complete',
    durationMs: 0,
    maxReportedUrls: rules.maxReportedUrls,
  });
}

/** A report as comparable data: URLs sorted with their results and referrers, totals, seeds. */
function comparable(r: CrawlReport) {
  return {
    urls: r.urls
      .map((u) => ({ url: u.url, mode: u.mode, depth: u.depth, status: u.status, broken: u.broken, count: u.referrerCount, referrers: sortRefs(u.referrers) }))
      .sort((a, b) => (a.url < b.url ? -1 : 1)),
    crawled: r.crawled,
    checked: r.checked,
    broken: r.broken,
    skipped: r.skipped,
    seeds: r.seeds,
  };
}

const PAGES = 300;

test('two crawlers seeded only from a sitemap index both fetch pages, each URL once, and report what one process reports', { timeout: 90_000 }, async () => {
  // The first page requests are held until 3 are open at once: more than one crawler's concurrency (2), so the crawl
  // goes on only once both crawlers fetch pages (a crawler that ended early would leave it held until the fallback).
  let held: Array<() => void> | undefined = [];
  const release = () => {
    for (const go of held ?? []) go();
    held = undefined;
  };
  const fallback = setTimeout(release, 30_000);
  const pages = Array.from({ length: PAGES }, (_, i) => `/page/${i}`);
  const site = await startSite((path, _req, res) => {
    const xml = (body: string | Buffer) => res.writeHead(200, { 'content-type': 'application/xml' }).end(body);
    if (path === '/index.xml') xml(sitemapIndex([`${site.origin}/one.xml`, `${site.origin}/two.xml.gz`]));
    else if (path === '/one.xml') xml(urlset(pages.slice(0, PAGES / 2).map((p) => site.origin + p)));
    else if (path === '/two.xml.gz') xml(gzipSync(urlset(pages.slice(PAGES / 2).map((p) => site.origin + p))));
    else if (path.startsWith('/page/')) {
      const send = () => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      if (!held) send();
      else {
        held.push(send);
        if (held.length >= 3) release();
      }
    } else return false;
    return true;
  });
  try {
    const rules = compileCrawlRules({ start: [{ sitemap: `${site.origin}/index.xml` }], robots: 'ignore', concurrency: 2 });
    const runId = randomUUID();
    const agents = await Promise.all([agent(runId), agent(runId)]);
    const ends = await Promise.all(
      agents.map(async ({ frontier, sink }) => {
        try {
          return await crawl(rules, { frontier, sink });
        } finally {
          await frontier.close();
        }
      }),
    );
    clearTimeout(fallback);
    const crawledBy = ends.map((r) => r.urls.filter((u) => u.mode === 'crawled' && u.url.includes('/page/')).length);
    assert.ok(
      crawledBy.every((n) => n > 0),
      `pages crawled per crawler: ${crawledBy.join(', ')}`,
    );
    assert.equal(crawledBy[0]! + crawledBy[1]!, PAGES);
    assert.ok(ends.every((r) => r.stoppedBy === 'complete'));
    // Every document and page fetched once between them (and /missing once).
    const gets = [...site.gets];
    assert.equal(gets.length, PAGES + 4);
    assert.equal(new Set(gets).size, PAGES + 4);
    const shared = await storedReport(agents[0]!.client, runId, rules, ends);
    site.gets.length = 0;
    const one = await crawl(rules, { frontier: new MemoryFrontier() });
    assert.deepEqual(comparable(shared), comparable(one));
    assert.deepEqual(one.seeds, { sitemaps: 3, fromSitemaps: PAGES, fromFiles: 0 });
    assert.equal(one.brokenUrls[0]?.referrers.length, PAGES);
  } finally {
    clearTimeout(fallback);
    release();
    await site.close();
  }
});

test('a crawler stopped while reading a sitemap: the other reads it once the lease expires, and the result is whole', { timeout: 60_000 }, async () => {
  const pages = Array.from({ length: 20 }, (_, i) => `/p/${i}`);
  // The first read of the sitemap sends its first entry, then nothing more; the next one is whole.
  let slowReads = 0;
  let firstRead!: () => void;
  const reading = new Promise<void>((resolve) => (firstRead = resolve));
  const site = await startSite((path, _req, res) => {
    if (path === '/sitemap.xml') {
      res.writeHead(200, { 'content-type': 'application/xml' });
      const body = urlset(pages.map((p) => site.origin + p));
      if (slowReads++ > 0) res.end(body);
      else {
        res.write(body.slice(0, body.indexOf('</url>') + 6));
        firstRead();
      }
    } else if (path.startsWith('/p/')) res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else return false;
    return true;
  });
  try {
    const rules = compileCrawlRules({ start: [{ sitemap: `${site.origin}/sitemap.xml` }], robots: 'ignore', concurrency: 2 });
    const runId = randomUUID();
    const a = await agent(runId, 1000);
    const abort = new AbortController();
    const first = crawl(rules, { frontier: a.frontier, sink: a.sink, signal: abort.signal });
    await reading;
    // The second crawler joins while the first holds the sitemap: it waits for it (in flight), it does not end.
    const b = await agent(runId, 1000);
    const second = crawl(rules, { frontier: b.frontier, sink: b.sink });
    abort.abort();
    const stopped = await first;
    await a.frontier.close(); // no more lease renewals: the sitemap goes back to the queue once its lease expires
    const rest = await second;
    await b.frontier.close();
    assert.equal(stopped.stoppedBy, 'aborted');
    assert.deepEqual(stopped.urls, []);
    assert.equal(rest.stoppedBy, 'complete');
    assert.equal(rest.crawled, pages.length + 1); // and /missing
    assert.equal(slowReads, 2);
    assert.deepEqual(rest.seeds, { sitemaps: 1, fromSitemaps: pages.length, fromFiles: 0 });
    const shared = await storedReport(b.client, runId, rules, [stopped, rest]);
    const one = await crawl(rules, { frontier: new MemoryFrontier() });
    assert.deepEqual(comparable(shared), comparable(one));
  } finally {
    await site.close();
  }
});
