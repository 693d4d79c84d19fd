// Sitemap bench: a 50,000-URL sitemap (the protocol's limit), plain and
// gzipped. Each measure runs in its own child process (compiled JS), so its
// peak RSS (VmHWM) is its own:
//   parse     the sitemap streamed from the server into SitemapReader alone (no crawl); parse-tenth: a sitemap of a
//             tenth of the URLs, to show the reader's memory does not grow with the sitemap
//   seed      a crawl that reads the sitemap and queues its 50,000 URLs, then fetches one page (maxPages: 1)
//   sitemap   the crawl of the 50,000 pages seeded from the sitemap
//   links     baseline: the same 50,000 pages reached by links from a plain start URL (/ → 500 hubs → 100 pages each)
//   idle      baseline: a child that loads the same bundle and does nothing
//   npm run bench -- sitemap          (SITEMAP_BENCH_URLS / SITEMAP_BENCH_CONCURRENCY override)
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildChildBundle } from './child-bundle.js';
import { compileCrawlRules } from '../helpers/crawl-helpers.js';
import { MemoryFrontier } from '../../src/coordination/memory-frontier.js';
import { Crawler } from '../../src/engines/crawl/crawler.js';
import { SitemapReader } from '../../src/engines/crawl/sitemap.js';
import { SITEMAP_LIMITS } from '../../src/plan/crawl.js';
import { page, startDocSite, urlset, type Doc } from '../fixtures/sitemap/sitemap-site.js';

const URLS = Number(process.env.SITEMAP_BENCH_URLS ?? 50_000);
const CONCURRENCY = Number(process.env.SITEMAP_BENCH_CONCURRENCY ?? 16);
const PER_HUB = 100;

interface ChildResult {
  mode: string;
  wallMs: number;
  /** CPU time of the child (user + system), steadier than wall time on a loaded machine. */
  cpuMs: number;
  peakRssMb: number;
  urls: number;
  /** Sitemap bytes parsed (parse mode). */
  bytes?: number;
}

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1048576;
}

const pageUrls = (origin: string) => Array.from({ length: URLS }, (_, i) => `${origin}/page/${i}`);

function siteDocs(origin: string): Record<string, Doc> {
  const docs: Record<string, Doc> = {};
  const urls = pageUrls(origin);
  const xml = urlset(urls);
  docs['/sitemap.xml'] = { body: xml, type: 'application/xml' };
  docs['/sitemap.xml.gz'] = { body: gzipSync(xml), type: 'application/gzip' };
  docs['/sitemap-tenth.xml'] = { body: urlset(urls.slice(0, URLS / 10)), type: 'application/xml' };
  const hubs = Math.ceil(URLS / PER_HUB);
  docs['/'] = page(
    'Home',
    Array.from({ length: hubs }, (_, h) => `/hub/${h}`),
  );
  for (let h = 0; h < hubs; h++)
    docs[`/hub/${h}`] = page(
      `Hub ${h}`,
      urls.slice(h * PER_HUB, (h + 1) * PER_HUB).map((u) => u.slice(origin.length)),
    );
  for (const u of urls) docs[u.slice(origin.length)] = page('Page');
  return docs;
}

async function child(mode: string, origin: string): Promise<ChildResult> {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const cpuMs = () => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1000;
  };
  if (mode === 'idle') return { mode, wallMs: 0, cpuMs: 0, peakRssMb: peakRssMb(), urls: 0 };
  if (mode.startsWith('parse')) {
    // Chunks as they arrive from the server, never the whole body.
    const path = { parse: '/sitemap.xml', 'parse-gz': '/sitemap.xml.gz', 'parse-tenth': '/sitemap-tenth.xml' }[mode]!;
    let urls = 0;
    let bytes = 0;
    const reader = new SitemapReader(SITEMAP_LIMITS, () => urls++);
    await new Promise<void>((resolve, reject) =>
      get(`${origin}${path}`, (res) => {
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          reader.write(chunk);
        });
        res.on('end', resolve);
        res.on('error', reject);
      }).on('error', reject),
    );
    await reader.end();
    return { mode, wallMs: performance.now() - started, cpuMs: cpuMs(), peakRssMb: peakRssMb(), urls, bytes };
  }
  const start = mode === 'links' ? [`${origin}/`] : [{ sitemap: `${origin}/sitemap.xml${mode === 'sitemap' ? '' : '.gz'}` }];
  const rules = compileCrawlRules(
    { start, concurrency: CONCURRENCY, robots: 'ignore', retries: 0, ...(mode === 'seed' ? { maxPages: 1 } : {}) },
    { workers: CONCURRENCY, stepTimeoutMs: 30_000 },
  );
  const report = await new Crawler(rules, { frontier: new MemoryFrontier() }).run();
  if (report.broken) throw new Error(`${report.broken} broken URLs, e.g. ${JSON.stringify(report.brokenUrls[0])}`);
  const urls = mode === 'seed' ? (report.seeds?.fromSitemaps ?? 0) : report.crawled;
  return { mode, wallMs: performance.now() - started, cpuMs: cpuMs(), peakRssMb: peakRssMb(), urls };
}

let childScript: string | undefined;

function runChild(mode: string, origin: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [childScript!, '--child', mode, origin], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`${mode} child exited with ${code}: ${out.slice(-500)}`));
      else resolve(JSON.parse(line.slice(7)) as ChildResult);
    });
  });
}

const fmt = (r: ChildResult, idle: ChildResult) =>
  `${r.mode.padEnd(11)} ${String(r.urls).padStart(6)} URLs  ${(r.wallMs / 1000).toFixed(2).padStart(6)} s wall  ${(r.cpuMs / 1000).toFixed(2).padStart(6)} s CPU` +
  (r.bytes ? `  ${(r.bytes / 1048576).toFixed(2).padStart(5)} MB on the wire` : '') +
  `  peak RSS ${r.peakRssMb.toFixed(0).padStart(4)} MB (${(r.peakRssMb - idle.peakRssMb).toFixed(0)} MB over idle)`;

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [mode, origin] = process.argv.slice(3);
    console.log(`RESULT ${JSON.stringify(await child(mode!, origin!))}`);
    return;
  }
  childScript = await buildChildBundle(fileURLToPath(import.meta.url));
  const site = await startDocSite(siteDocs);
  try {
    console.log(`sitemap: ${URLS}-URL sitemap, concurrency ${CONCURRENCY}, each measure in its own process (compiled JS, no tsx)`);
    const idle = await runChild('idle', site.origin);
    const results: ChildResult[] = [];
    for (const mode of ['parse-tenth', 'parse', 'parse-gz', 'seed', 'sitemap', 'sitemap-gz', 'links']) results.push(await runChild(mode, site.origin));
    console.log(fmt(idle, idle));
    for (const r of results) console.log(fmt(r, idle));
    const by = (m: string) => results.find((r) => r.mode === m)!;
    const links = by('links');
    for (const m of ['sitemap', 'sitemap-gz']) {
      const r = by(m);
      console.log(
        `ratio ${m}/links: ${(r.wallMs / links.wallMs).toFixed(2)}× wall time, ${(r.cpuMs / links.cpuMs).toFixed(2)}× CPU time, ${(r.peakRssMb / links.peakRssMb).toFixed(2)}× peak RSS`,
      );
    }
    const [tenth, parse] = [by('parse-tenth'), by('parse')];
    console.log(
      `reader RSS over idle: ${(parse.peakRssMb - idle.peakRssMb).toFixed(0)} MB for ${parse.urls} URLs, ${(tenth.peakRssMb - idle.peakRssMb).toFixed(0)} MB for ${tenth.urls}`,
    );
    const seed = by('seed');
    console.log(
      `seeding ${seed.urls} URLs: ${(seed.wallMs / 1000).toFixed(2)} s wall, ${(seed.cpuMs / 1000).toFixed(2)} s CPU, ${(seed.peakRssMb - idle.peakRssMb).toFixed(0)} MB of RSS over idle`,
    );
  } finally {
    await site.close();
  }
}

await main();
