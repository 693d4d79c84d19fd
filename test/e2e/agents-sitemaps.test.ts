// maxSitemaps across agents, end to end: `planrun run --agents 2` (a private
// redis-server, two local agent processes) against a site with more sitemap
// documents than the cap. Each agent reads one of the two start indexes (their
// answers are held until both are asked for, which takes both agents at one
// URL each), and together they read exactly maxSitemaps documents: the cap is
// the run's, not each agent's (which read 2 + 600 + 600 = 1,202).
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SITEMAP_LIMITS } from '../../src/plan/crawl.js';
import { sitemapIndex, urlset } from '../fixtures/sitemap/sitemap-site.js';
import { killProcesses, planrun } from '../helpers/planrun-process.js';
import { readReport } from '../helpers/report-helpers.js';

after(() => killProcesses());

/** Sitemaps each start index lists: 1,200 in all, over the cap of 1,000. */
const PER_INDEX = 600;

test('--agents 2: the agents together read maxSitemaps sitemap documents, and the indexes say how many they left unread', { timeout: 180_000 }, async () => {
  const cap = SITEMAP_LIMITS.maxSitemaps;
  const gets = new Map<string, number>();
  // The indexes' answers wait until both were asked for: one by each agent (concurrency 1 each).
  let held: Array<() => void> | undefined = [];
  let together = false;
  const release = () => {
    for (const go of held ?? []) go();
    held = undefined;
  };
  const fallback = setTimeout(release, 60_000);
  const server = createServer((req, res) => {
    const path = req.url!;
    if (req.method === 'GET') gets.set(path, (gets.get(path) ?? 0) + 1);
    const xml = (body: string) => res.writeHead(200, { 'content-type': 'application/xml' }).end(body);
    const index = /^\/(a|b)\.xml$/.exec(path)?.[1];
    if (index) {
      const send = () => xml(sitemapIndex(Array.from({ length: PER_INDEX }, (_, i) => `${origin}/${index}/${i}.xml`)));
      if (!held) send();
      else {
        held.push(send);
        if (held.length === 2) {
          together = true;
          release();
        }
      }
    } else if (/^\/[ab]\/\d+\.xml$/.test(path)) xml(urlset([]));
    else res.writeHead(404, { 'content-type': 'text/html' }).end('<title>Not found</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const dir = await mkdtemp(join(tmpdir(), 'planrun-agents-sitemaps-'));
    const plan = join(dir, 'sitemaps.yml');
    await writeFile(plan, `name: sitemaps over the cap\ntarget: ${origin}\ncrawl:\n  start: [{ sitemap: /a.xml }, { sitemap: /b.xml }]\n  robots: ignore\n  concurrency: 1\n`);
    const out = join(dir, 'out');
    const run = planrun(['run', plan, '--agents', '2', '--out', out, '--reporter', 'json']);
    const exit = await run.exit;
    clearTimeout(fallback);
    // Both indexes were asked for before either was answered: each agent read one.
    assert.ok(together, 'one agent read both indexes');
    // Every sitemap document was fetched once, and all of them together are the cap: the 2 indexes and 998 sitemaps.
    assert.equal(gets.size, cap, `sitemap documents fetched by the two agents: ${gets.size}`);
    assert.ok(
      [...gets.values()].every((n) => n === 1),
      'a document fetched twice',
    );
    assert.equal(exit, 1, run.stderr());
    const report = await readReport(join(out, 'report.json'));
    const crawl = report.crawl!;
    assert.equal(crawl.stoppedBy, 'complete');
    assert.deepEqual(crawl.seeds, { sitemaps: cap, fromSitemaps: 0, fromFiles: 0 });
    // An index whose sitemaps did not all fit says how many it left unread (which index claimed first is timing:
    // one or both); between them, the 1,200 listed less the 998 read.
    const unread = crawl.brokenUrls.map((b) => {
      const m = new RegExp(`^(\\d+) sitemaps not read: the crawl reads at most ${cap}$`).exec(b.broken?.message ?? '');
      assert.ok(m && b.broken?.kind === 'sitemap' && [`${origin}/a.xml`, `${origin}/b.xml`].includes(b.url), `${b.url}: ${JSON.stringify(b.broken)}`);
      return Number(m[1]);
    });
    assert.equal(
      unread.reduce((a, b) => a + b, 0),
      2 * PER_INDEX - (cap - 2),
    );
    assert.equal(report.reason, `the crawl found ${unread.length} broken link${unread.length === 1 ? '' : 's'}`);
  } finally {
    clearTimeout(fallback);
    release();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
