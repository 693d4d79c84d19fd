// Two crawlers sharing one crawl through Redis (a RedisFrontier and a
// RedisCrawlStore each, on their own connections), in one process: the report
// built from the stored visits equals the one-process crawl of the generated
// site: same URLs and statuses, every broken URL with every referrer, the same
// fine-URL referrer counts and kept referrers, the same skip counts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Crawl } from '../../src/plan/raw-plan.js';
import type { Visit } from '../../src/contract/crawl-store.js';
import type { CrawlReport } from '../../src/contract/report.js';
import { connectRedis, type RedisConnection } from '../../src/coordination/redis/connect.js';
import { RedisCrawlStore, STORED_REFERRERS_KEPT } from '../../src/coordination/redis/crawl-store.js';
import { RedisFrontier } from '../../src/coordination/redis/frontier.js';
import { startRedisServer, type RedisServer } from '../../src/coordination/redis/server.js';
import { crawl } from '../../src/engines/crawl/crawler.js';
import { OK_REFERRERS_KEPT } from '../../src/engines/crawl/records.js';
import { summarizeStored } from '../../src/engines/crawl/summary.js';
import { startSite } from '../fixtures/site/site.js';
import { assertSameCrawl, compileCrawlRules, crawlSite } from '../helpers/crawl-helpers.js';

let server: RedisServer;
const connections: RedisConnection[] = [];
before(async () => {
  server = await startRedisServer();
});
after(async () => {
  for (const c of connections) c.destroy();
  await server.stop();
});

/** `agents` crawlers on one run id, each with its own connection, frontier and store; the report from the store. */
async function sharedCrawl(raw: Crawl, runId: string, agents: number): Promise<CrawlReport> {
  const rules = compileCrawlRules(raw, { workers: 4 });
  const started = performance.now();
  const ends = await Promise.all(
    Array.from({ length: agents }, async (_, i) => {
      const client = await connectRedis(server.url);
      connections.push(client);
      const frontier = await RedisFrontier.open({ client, runId, agentId: `a${i}` });
      try {
        return await crawl(rules, { frontier, sink: new RedisCrawlStore(client, runId) });
      } finally {
        await frontier.close();
      }
    }),
  );
  const stored = await RedisCrawlStore.read(connections[0]!, runId);
  return summarizeStored(stored, {
    startUrls: ends[0]!.startUrls,
    stoppedBy: 'complete',
    durationMs: Math.round(performance.now() - started),
    maxReportedUrls: rules.maxReportedUrls,
  });
}

test('the stored referrer cut is the records one', () => {
  assert.equal(STORED_REFERRERS_KEPT, OK_REFERRERS_KEPT);
});

test('two crawlers sharing Redis report exactly what one process reports, and the ground truth', async () => {
  const site = await startSite({ pages: 300, products: 40 });
  try {
    const raw: Crawl = { start: [`${site.origin}/`], normalize: { stripParams: ['utm_source'] }, fragments: true };
    const one = await crawlSite(raw);
    const shared = await sharedCrawl(raw, 'shared-1', 2);
    assertSameCrawl(shared, one, site);
    assert.deepEqual(shared.skipped, { byRule: 0, byRobots: 1, byDepth: 0, byScheme: 4, outOfScope: 3 });
  } finally {
    await site.close();
  }
});

test('a visit stored again (its URL fetched twice after its agent died) changes nothing; a fine URL keeps its first referrers and counts them all', async () => {
  const client = await connectRedis(server.url);
  connections.push(client);
  const store = new RedisCrawlStore(client, 'shared-twice');
  const page = (n: number) => `https://site.test/p${n}`;
  const ref = (n: number) => ({ page: page(n), element: 'a[href]', text: `to 9 from ${n}` });
  // Five pages link to p9 before it is fetched: all kept while it is unfetched.
  for (const n of [1, 2, 3, 4, 5]) {
    const visit = {
      url: page(n),
      settled: [{ url: page(n), depth: 1, checkOnly: false, state: 'crawled' as const, status: 200 }],
      referrers: [[page(9), ref(n)]] as Visit['referrers'],
      fragments: [],
      tally: { byScheme: 1 },
    };
    await store.visit(visit);
    if (n === 1) await store.visit(visit);
  }
  await store.visit({ url: page(9), settled: [{ url: page(9), depth: 2, checkOnly: false, state: 'crawled', status: 200 }], referrers: [], fragments: [], tally: {} });
  // One more after it answered fine: counted, not kept.
  await store.visit({
    url: page(6),
    settled: [{ url: page(6), depth: 1, checkOnly: false, state: 'crawled', status: 200 }],
    referrers: [[page(9), ref(6)]],
    fragments: [],
    tally: { byScheme: 1 },
  });
  const stored = await RedisCrawlStore.read(client, 'shared-twice');
  const p9 = stored.urls.find((u) => u.settled.url === page(9))!;
  assert.equal(p9.referrerCount, 6);
  assert.deepEqual(p9.referrers, [ref(1), ref(2), ref(3)]);
  assert.equal(stored.tally.byScheme, 6);
  assert.equal(stored.urls.length, 7);
});
