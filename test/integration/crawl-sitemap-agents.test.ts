// Seeding behind the Frontier interface: two crawlers sharing one Redis
// frontier (as agents do), both seeded from the same sitemap index, read each
// sitemap once between them and fetch each page once, and their reports
// together hold every page. (Today the agent that reads no sitemap finds the
// frontier empty before the other one queued anything and ends: see
// docs/crawl.md; this test checks correctness, not the split.)
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { connectRedis, type RedisConnection } from '../../src/coordination/redis/connect.js';
import { RedisFrontier } from '../../src/coordination/redis/frontier.js';
import { startRedisServer, type RedisServer } from '../../src/coordination/redis/server.js';
import { crawl } from '../../src/engines/crawl/crawler.js';
import { compileCrawlRules } from '../helpers/crawl-helpers.js';
import { page, sitemapIndex, startDocSite, urlset, type Doc } from '../fixtures/sitemap/sitemap-site.js';

let server: RedisServer;
const connections: RedisConnection[] = [];
const frontiers: RedisFrontier[] = [];
before(async () => {
  server = await startRedisServer();
});
after(async () => {
  await Promise.all(frontiers.map((f) => f.close()));
  for (const c of connections) c.destroy();
  await server.stop();
});

async function agent(runId: string): Promise<RedisFrontier> {
  const client = await connectRedis(server.url);
  connections.push(client);
  const f = await RedisFrontier.open({ client, runId });
  frontiers.push(f);
  return f;
}

const PAGES = 300;

test('two agents on one Redis frontier, seeded from one sitemap index: each sitemap read once, each page fetched once', { timeout: 60_000 }, async () => {
  const site = await startDocSite((o) => {
    const urls = Array.from({ length: PAGES }, (_, i) => `${o}/page/${i}`);
    const docs: Record<string, Doc> = {
      '/index.xml': { body: sitemapIndex([`${o}/one.xml`, `${o}/two.xml.gz`]) },
      '/one.xml': { body: urlset(urls.slice(0, PAGES / 2)) },
      '/two.xml.gz': { body: gzipSync(urlset(urls.slice(PAGES / 2))) },
    };
    for (const u of urls) docs[u.slice(o.length)] = page('Page');
    return docs;
  });
  try {
    const runId = randomUUID();
    const rules = compileCrawlRules({ start: [{ sitemap: `${site.origin}/index.xml` }], robots: 'ignore', concurrency: 4 });
    const reports = await Promise.all([agent(runId), agent(runId)].map(async (f) => crawl(rules, { frontier: await f })));
    const crawled = reports.flatMap((r) => r.urls.filter((u) => u.mode === 'crawled').map((u) => u.url));
    assert.equal(crawled.length, PAGES);
    assert.equal(new Set(crawled).size, PAGES);
    const gets = site.log.filter((r) => r.method === 'GET').map((r) => r.path);
    assert.deepEqual(
      gets.filter((p) => p.endsWith('.xml') || p.endsWith('.gz')),
      ['/index.xml', '/one.xml', '/two.xml.gz'],
    );
    assert.equal(gets.length, PAGES + 3);
    assert.deepEqual(reports.flatMap((r) => r.urls.filter((u) => u.mode === 'checked').map((u) => u.url)).sort(), [
      `${site.origin}/index.xml`,
      `${site.origin}/one.xml`,
      `${site.origin}/two.xml.gz`,
    ]);
    assert.ok(reports.every((r) => r.broken === 0 && r.stoppedBy === 'complete'));
  } finally {
    await site.close();
  }
});
