// Two crawlers sharing one crawl through Redis (a RedisFrontier and a
// RedisCrawlStore each, on their own connections), in one process: the report
// built from the stored visits equals the one-process crawl of the generated
// site: same URLs and statuses, every broken URL with every referrer, the same
// fine-URL referrer counts and kept referrers, the same skip counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Crawl } from '../../src/plan/raw-plan.js';
import type { CrawlSink, SettledUrl, Visit } from '../../src/contract/crawl-store.js';
import type { Frontier } from '../../src/contract/frontier.js';
import type { CrawlReport } from '../../src/contract/report.js';
import { RedisCrawlStore, STORED_REFERRERS_KEPT } from '../../src/coordination/redis/crawl-store.js';
import { RedisFrontier } from '../../src/coordination/redis/frontier.js';
import { crawl } from '../../src/engines/crawl/crawler.js';
import { OK_REFERRERS_KEPT } from '../../src/engines/crawl/records.js';
import { summarizeStored } from '../../src/engines/crawl/summary.js';
import { startSite } from '../fixtures/site/site.js';
import { assertSameCrawl, compileCrawlRules, crawlSite } from '../helpers/crawl-helpers.js';
import { startServer } from '../helpers/http-helpers.js';
import { redisForFile } from '../helpers/redis-file.js';

const redis = redisForFile();

/**
 * `agents` crawlers on one run id, each with its own connection, frontier and store; the report from the store.
 * `visits` sees every visit stored.
 */
async function sharedCrawl(raw: Crawl, runId: string, agents: number, visits?: (v: Visit) => void): Promise<CrawlReport> {
  const rules = compileCrawlRules(raw, { workers: 4 });
  const started = performance.now();
  const ends = await Promise.all(
    Array.from({ length: agents }, async (_, i) => {
      const client = await redis.connect();
      const frontier = await RedisFrontier.open({ client, runId, agentId: `a${i}` });
      const store = new RedisCrawlStore(client, runId);
      const sink: CrawlSink = {
        countsOnly: (url) => store.countsOnly(url),
        visit: (v) => {
          visits?.(v);
          return store.visit(v);
        },
      };
      try {
        return await crawl(rules, { frontier, sink });
      } finally {
        await frontier.close();
      }
    }),
  );
  const stored = await RedisCrawlStore.read(redis.connections[0]!, runId);
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

test("links to the site's menu go to the store as counts once it holds their targets fine, and the report is still the one-process one", async () => {
  const site = await startSite({ pages: 300, nav: 8 });
  try {
    const raw: Crawl = { start: [`${site.origin}/`], normalize: { stripParams: ['utm_source'] }, fragments: true };
    const one = await crawlSite(raw);
    let referrers = 0;
    const counted = new Map<string, number>();
    const shared = await sharedCrawl(raw, 'shared-menu', 2, (v) => {
      referrers += v.referrers.length;
      for (const [url, links] of v.counted ?? []) counted.set(url, (counted.get(url) ?? 0) + links);
    });
    assertSameCrawl(shared, one, site);
    // Every page links to the 8 sections and the stylesheet: nearly all of those links are counted only. Each
    // crawler sends a target's referrers until a reply of the store tells it the target is full.
    const menu = [...Array.from({ length: 8 }, (_, k) => `${site.origin}/page/${k}`), `${site.origin}/assets/site.css`];
    assert.deepEqual(
      [...counted.keys()].filter((u) => !menu.includes(u)),
      [],
    );
    const links = [...counted.values()].reduce((a, b) => a + b, 0);
    assert.ok(links > 300 * 9 * 0.8, `${links} links counted only, ${referrers} with their referrer`);
  } finally {
    await site.close();
  }
});

test('a visit stored again (its URL fetched twice after its agent died) changes nothing; a fine URL keeps its first referrers and counts them all', async () => {
  const client = await redis.connect();
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

test('the store says which URLs it only counts links to (settled fine, with links past the kept referrers), and a counted link adds to the count alone', async () => {
  const client = await redis.connect();
  const store = new RedisCrawlStore(client, 'shared-counted');
  const page = (n: number) => `https://site.test/n${n}`;
  const ref = (n: number) => ({ page: page(n), element: 'a[href]' });
  const visit = (n: number, links: number[], counted?: Visit['counted']): Visit => ({
    url: page(n),
    settled: [{ url: page(n), depth: 1, checkOnly: false, state: 'crawled', ...(n === 8 ? { status: 500, broken: { kind: '5xx', message: 'status 500' } } : { status: 200 }) }],
    referrers: links.map((l) => [page(l), ref(n)]),
    fragments: [],
    ...(counted ? { counted } : {}),
    tally: {},
  });
  // n9 settles fine, then three links to it: the kept three, nothing past them yet.
  await store.visit(visit(9, []));
  for (const n of [1, 2, 3]) await store.visit(visit(n, [9, 8]));
  assert.equal(store.countsOnly(page(9)), false);
  // The fourth link is past the kept few of a fine URL: from now on, counts. n8 is broken: never.
  await store.visit(visit(8, []));
  await store.visit(visit(4, [9, 8]));
  assert.deepEqual([store.countsOnly(page(9)), store.countsOnly(page(8))], [true, false]);
  // Counted links add to the count only; a visit given twice in one batch (after the first call's), or stored again
  // later, adds nothing.
  const five = visit(5, [8], [[page(9), 2]]);
  await Promise.all([visit(10, []), five, five].map((v) => store.visit(v)));
  await store.visit(five);
  const stored = await RedisCrawlStore.read(client, 'shared-counted');
  const n9 = stored.urls.find((u) => u.settled.url === page(9))!;
  assert.equal(n9.referrerCount, 6);
  assert.deepEqual(n9.referrers, [ref(1), ref(2), ref(3)]);
  assert.deepEqual(stored.urls.find((u) => u.settled.url === page(8))!.referrers, [1, 2, 3, 4, 5].map(ref));
  assert.deepEqual(
    (await client.hKeys('planrun:{shared-counted}:crawl:refs')).filter((f) => f.startsWith(`${page(9)}\n`)),
    [],
  );
  // A URL only ever counted (its referrers kept by another agent) is counted all the same.
  await store.visit(visit(6, [], [[page(7), 3]]));
  assert.equal((await client.hGet('planrun:{shared-counted}:crawl:referrers', page(7)))!, '3:');
});

test('visits stored in one batch: a visit given twice counts once, referrer counts and tallies are summed, every key written expires', async () => {
  const client = await redis.connect();
  const store = new RedisCrawlStore(client, 'shared-batch', 60_000);
  const page = (n: number) => `https://site.test/b${n}`;
  const ref = (n: number) => ({ page: page(n), element: 'a[href]' });
  const visit = (n: number, links: number[]): Visit => ({
    url: page(n),
    settled: [{ url: page(n), depth: 1, checkOnly: false, state: 'crawled', ...(n === 9 ? { status: 404, broken: { kind: '4xx', message: 'status 404' } } : { status: 200 }) }],
    referrers: links.map((l) => [page(l), ref(n)]),
    fragments: n === 1 ? [[page(2), 'top', ref(1)]] : [],
    tally: { byScheme: 1, byRule: 0, outOfScope: n },
  });
  // Pushed in one tick: the first call takes visit 1, the next call all the others (visit 2 twice among them).
  await Promise.all([visit(1, [9, 2]), visit(2, [9, 3]), visit(3, [9, 1, 2]), visit(2, [9, 3]), visit(4, [9]), visit(5, [9]), visit(9, [])].map((v) => store.visit(v)));
  const stored = await RedisCrawlStore.read(client, 'shared-batch');
  const count = (n: number) => stored.urls.find((u) => u.settled.url === page(n))!.referrerCount;
  assert.deepEqual([1, 2, 3, 4, 5, 9].map(count), [1, 2, 1, 0, 0, 5]);
  // p9 broke: every referrer kept, in the order stored.
  assert.deepEqual(stored.urls.find((u) => u.settled.url === page(9))!.referrers, [ref(1), ref(2), ref(3), ref(4), ref(5)]);
  assert.deepEqual(stored.tally, { byScheme: 6, byRule: 0, byDepth: 0, outOfScope: 1 + 2 + 3 + 4 + 5 + 9, byRobots: 0, sampledAway: 0, sitemaps: 0, fromSitemaps: 0 });
  assert.deepEqual(stored.fragments, [{ url: page(2), fragment: 'top', referrers: [ref(1)] }]);
  const keys = await client.keys('planrun:{shared-batch}:*');
  // urls, referrers (counts and the kept few), frags, tally, refs (b9's referrers past the kept few); those of b2#top.
  assert.equal(keys.length, 5 + 1, keys.join(' '));
  for (const key of keys) {
    const ttl = await client.pTTL(key);
    assert.ok(ttl > 0 && ttl <= 60_000, `${key}: TTL ${ttl}`);
  }
});

test('a URL settled fine in the batch that links to it, or before a batch that links to it several times: its first referrers stay, in link order, and no later one is left in the hash', async () => {
  const client = await redis.connect();
  const store = new RedisCrawlStore(client, 'shared-cut');
  const page = (n: number) => `https://site.test/c${n}`;
  const ref = (n: number) => ({ page: page(n), element: 'a[href]' });
  const visit = (n: number, links: number[]): Visit => ({
    url: page(n),
    settled: [{ url: page(n), depth: 1, checkOnly: false, state: 'crawled', status: 200 }],
    referrers: links.map((l) => [page(l), ref(n)]),
    fragments: [],
    tally: {},
  });
  // One batch after the first call's: five links to c7 before it settles (all kept while it is unsettled), two after.
  await Promise.all(
    [visit(0, []), visit(1, [7]), visit(2, [7]), visit(3, [7]), visit(4, [7]), visit(5, [7]), visit(7, []), visit(6, [7]), visit(8, [7])].map((v) => store.visit(v)),
  );
  const stored = await RedisCrawlStore.read(client, 'shared-cut');
  const c7 = stored.urls.find((u) => u.settled.url === page(7))!;
  assert.equal(c7.referrerCount, 7);
  assert.deepEqual(c7.referrers, [ref(1), ref(2), ref(3)]);
  // The kept three share c7's field with its count; the four links past them are only counted (c7 settled fine in
  // the same batch), so refs holds nothing of c7.
  const kept = (n: number) => client.hGet('planrun:{shared-cut}:crawl:referrers', page(n));
  const overflow = async (n: number) => (await client.hKeys('planrun:{shared-cut}:crawl:refs')).filter((f) => f.startsWith(`${page(n)}\n`));
  assert.match((await kept(7))!, /^7:/);
  assert.deepEqual(await overflow(7), []);
  // c9 settles fine with one link; then one batch links to it three times: it keeps the first two of those (its
  // 2nd and 3rd), counted in one go, and not the third.
  await Promise.all([visit(10, [9]), visit(9, [])].map((v) => store.visit(v)));
  await Promise.all([visit(11, []), visit(12, [9]), visit(13, [9]), visit(14, [9])].map((v) => store.visit(v)));
  const c9 = (await RedisCrawlStore.read(client, 'shared-cut')).urls.find((u) => u.settled.url === page(9))!;
  assert.equal(c9.referrerCount, 4);
  assert.deepEqual(c9.referrers, [ref(10), ref(12), ref(13)]);
  assert.match((await kept(9))!, /^4:/);
  assert.deepEqual(await overflow(9), []);
  // c20 is linked five times while unfetched: the two past the kept three wait in refs until it settles fine.
  await Promise.all([visit(19, []), ...[21, 22, 23, 24, 25].map((n) => visit(n, [20]))].map((v) => store.visit(v)));
  assert.deepEqual(
    (await overflow(20)).sort(),
    [4, 5].map((n) => `${page(20)}\n${n}`),
  );
  await store.visit(visit(20, []));
  assert.deepEqual(await overflow(20), []);
  const c20 = (await RedisCrawlStore.read(client, 'shared-cut')).urls.find((u) => u.settled.url === page(20))!;
  assert.equal(c20.referrerCount, 5);
  assert.deepEqual(c20.referrers, [ref(21), ref(22), ref(23)]);
});

test('referrers whose text is not ASCII or holds colons and digits read back as written, for a fine URL and a broken one', async () => {
  const client = await redis.connect();
  const store = new RedisCrawlStore(client, 'shared-text');
  const page = (n: number) => `https://site.test/t${n}`;
  const texts = ['Über uns: 3 Punkte', '12:34', '日本語のリンク', 'a\u00a0b', ':'];
  const ref = (n: number) => ({ page: page(n), element: 'a[href]', text: texts[n % texts.length]! });
  const visit = (n: number, links: number[], status = 200): Visit => ({
    url: page(n),
    settled: [{ url: page(n), depth: 1, checkOnly: false, state: 'crawled', status, ...(status === 404 ? { broken: { kind: '4xx', message: 'status 404' } } : {}) }],
    referrers: links.map((l) => [page(l), ref(n)]),
    fragments: [],
    tally: {},
  });
  await Promise.all([1, 2, 3, 4, 5].map((n) => store.visit(visit(n, [8, 9]))));
  await Promise.all([store.visit(visit(8, [])), store.visit(visit(9, [], 404))]);
  const stored = await RedisCrawlStore.read(client, 'shared-text');
  const of = (n: number) => stored.urls.find((u) => u.settled.url === page(n))!;
  assert.equal(of(8).referrerCount, 5);
  assert.deepEqual(of(8).referrers, [ref(1), ref(2), ref(3)]);
  assert.equal(of(9).referrerCount, 5);
  assert.deepEqual(of(9).referrers, [1, 2, 3, 4, 5].map(ref));
});

test("a broken URL linked from 2,500 pages reads back every referrer in link order, across the scripts' 1,000-argument chunks", async () => {
  const client = await redis.connect();
  const store = new RedisCrawlStore(client, 'shared-many');
  const page = (n: number) => `https://site.test/m${n}`;
  const gone = 'https://site.test/gone';
  const ref = (n: number) => ({ page: page(n), element: 'a[href]' });
  // One visit linking it 2,500 times from different pages would be one page; so 2,500 visits, in batches as they come.
  for (let n = 0; n < 2_500; n += 500) {
    await Promise.all(
      Array.from({ length: 500 }, (_, j) =>
        store.visit({
          url: page(n + j),
          settled: [{ url: page(n + j), depth: 1, checkOnly: false, state: 'crawled', status: 200 }],
          referrers: [[gone, ref(n + j)]],
          fragments: [],
          tally: {},
        }),
      ),
    );
  }
  await store.visit({
    url: gone,
    settled: [{ url: gone, depth: 2, checkOnly: false, state: 'crawled', status: 404, broken: { kind: '4xx', message: 'status 404' } }],
    referrers: [],
    fragments: [],
    tally: {},
  });
  const stored = await RedisCrawlStore.read(client, 'shared-many');
  const of = stored.urls.find((u) => u.settled.url === gone)!;
  assert.equal(of.referrerCount, 2_500);
  assert.equal(of.referrers.length, 2_500);
  // Within a batch the store numbers links in the order the visits were pushed, which Promise.all keeps.
  assert.deepEqual(
    of.referrers,
    Array.from({ length: 2_500 }, (_, n) => ref(n)),
  );
});

test('settled URLs read back as stored, every field present or absent', async () => {
  const client = await redis.connect();
  const store = new RedisCrawlStore(client, 'shared-settled');
  const settled: SettledUrl[] = [
    { url: 'https://site.test/a', depth: 0, checkOnly: false, state: 'crawled', status: 200, durationTenths: 12, contentType: 'text/html; charset=utf-8' },
    {
      url: 'https://site.test/moved',
      depth: 2,
      checkOnly: false,
      state: 'crawled',
      status: 200,
      redirects: [{ url: 'https://site.test/moved', status: 301 }],
      ids: ['top', 'naïve'],
    },
    { url: 'https://site.test/gone', depth: 1, checkOnly: true, state: 'checked', status: 404, durationTenths: 0, broken: { kind: '4xx', message: 'status 404, expected 2xx' } },
    { url: 'https://site.test/private', depth: 3, checkOnly: false, state: 'robots' },
    { url: 'https://other.test/down', depth: 1, checkOnly: true, state: 'checked', broken: { kind: 'network', message: 'connect ECONNREFUSED' } },
  ];
  await Promise.all(settled.map((s) => store.visit({ url: s.url, settled: [s], referrers: [], fragments: [], tally: {} })));
  const stored = await RedisCrawlStore.read(client, 'shared-settled');
  assert.deepEqual(
    stored.urls.map((u) => u.settled).sort((a, b) => a.url.localeCompare(b.url)),
    [...settled].sort((a, b) => a.url.localeCompare(b.url)),
  );
});

test('pages slow to link further: the crawl ends neither early nor late, though completions and takes overlap a page', { timeout: 30_000 }, async () => {
  // A chain: page i links only to page i + 1 (and back to the start), so at every step the one page being finished
  // is all the work left: a completion sent before its links were queued would end both crawlers there.
  const PAGES = 25;
  const hits = new Map<string, number>();
  const site = await startServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    const i = Number(req.url!.slice(3));
    res.setHeader('content-type', 'text/html');
    res.end(`<a href="/p/0">start</a>${i + 1 < PAGES ? `<a href="/p/${i + 1}">next</a>` : ''}`);
  });
  /** The Redis frontier with every addAll held back 40 ms before it is sent: the page's finishing outlasts the next take. */
  const slowLinks = (f: RedisFrontier): Frontier => ({
    addAll: async (entries) => {
      await new Promise((r) => setTimeout(r, 40));
      return f.addAll(entries);
    },
    markSeen: (urls) => f.markSeen(urls),
    take: () => f.take(),
    complete: (e) => f.complete(e),
    stop: () => f.stop(),
    stats: () => f.stats(),
  });
  try {
    const rules = compileCrawlRules({ start: [`${site.origin}/p/0`], concurrency: 4 });
    const reports = await Promise.all(
      ['slow-a', 'slow-b'].map(async (agentId) => {
        const client = await redis.connect();
        const frontier = await RedisFrontier.open({ client, runId: 'shared-slow-links', agentId, prefetch: 4 });
        try {
          return await crawl(rules, { frontier: slowLinks(frontier), sink: new RedisCrawlStore(client, 'shared-slow-links') });
        } finally {
          await frontier.close();
        }
      }),
    );
    assert.deepEqual(
      reports.map((r) => r.stoppedBy),
      ['complete', 'complete'],
    );
    const stored = await RedisCrawlStore.read(redis.connections.at(-1)!, 'shared-slow-links');
    assert.equal(stored.urls.length, PAGES);
    assert.deepEqual(
      [...hits.entries()].filter(([path]) => path.startsWith('/p/')).sort(([a], [b]) => Number(a.slice(3)) - Number(b.slice(3))),
      Array.from({ length: PAGES }, (_, i) => [`/p/${i}`, 1]),
      'every page fetched once',
    );
    const after = await RedisFrontier.open({ client: redis.connections.at(-1)!, runId: 'shared-slow-links' });
    assert.deepEqual(await after.refreshStats(), { queued: 0, inFlight: 0, done: PAGES, seen: PAGES });
    await after.close();
  } finally {
    await site.close();
  }
});
