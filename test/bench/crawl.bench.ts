// Crawl bench: planrun's crawler against linkinator on the same generated
// 10k-page site, same concurrency, same run; each crawler in its own child
// process so peak RSS (VmHWM) is its own. Then planrun alone on 100k pages.
//   npm run bench -- crawl           (CRAWL_BENCH_PAGES / CRAWL_BENCH_BIG / CRAWL_BENCH_CONCURRENCY override)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startSite } from '../fixtures/site/site.js';
import { buildChildBundle } from './child-bundle.js';
import { compileCrawlRules } from '../helpers/crawl-helpers.js';
import { MemoryFrontier } from '../../src/coordination/memory-frontier.js';
import { Crawler } from '../../src/engines/crawl/crawler.js';

interface ChildResult {
  crawler: string;
  pages: number;
  wallMs: number;
  peakRssMb: number;
  bytesPerUrl?: number;
  broken: number;
}

const PAGES = Number(process.env.CRAWL_BENCH_PAGES ?? 10_000);
const BIG = Number(process.env.CRAWL_BENCH_BIG ?? 100_000);
const CONCURRENCY = Number(process.env.CRAWL_BENCH_CONCURRENCY ?? 16);

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1048576;
}

async function childPlanrun(origin: string, concurrency: number): Promise<ChildResult> {
  const rules = compileCrawlRules({ start: [`${origin}/`], concurrency, robots: 'ignore', retries: 0 }, { workers: concurrency, stepTimeoutMs: 30_000 });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const crawler = new Crawler(rules, { frontier: new MemoryFrontier() });
  const report = await crawler.run();
  const wallMs = performance.now() - started;
  gc?.();
  // The crawler (visited set, per-URL records) is still referenced here.
  const heapAfter = process.memoryUsage().heapUsed;
  const urls = report.crawled + report.checked;
  void crawler;
  return { crawler: 'planrun', pages: urls, wallMs, peakRssMb: peakRssMb(), bytesPerUrl: gc ? (heapAfter - heapBefore) / urls : undefined, broken: report.broken };
}

async function childLinkinator(origin: string, concurrency: number): Promise<ChildResult> {
  // Loaded here, not at the top: the planrun child must not carry linkinator's modules in its RSS.
  const { LinkChecker } = await import('linkinator');
  const checker = new LinkChecker();
  const seen = new Set<string>();
  checker.on('link', (r) => seen.add(r.url));
  const started = performance.now();
  const result = await checker.check({ path: `${origin}/`, recurse: true, concurrency, timeout: 30_000 });
  const wallMs = performance.now() - started;
  return { crawler: 'linkinator', pages: seen.size, wallMs, peakRssMb: peakRssMb(), broken: result.links.filter((l) => l.state === 'BROKEN').length };
}

let childScript: string | undefined;

function runChild(crawler: string, origin: string): Promise<ChildResult> {
  const script = childScript!;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', script, '--child', crawler, origin, String(CONCURRENCY)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`${crawler} child exited with ${code}: ${out.slice(-500)}`));
      else resolve(JSON.parse(line.slice(7)) as ChildResult);
    });
  });
}

const fmt = (r: ChildResult) =>
  `${r.crawler.padEnd(10)} ${String(r.pages).padStart(7)} URLs  ${(r.wallMs / 1000).toFixed(2).padStart(6)} s  ${(r.pages / (r.wallMs / 1000)).toFixed(0).padStart(6)} URLs/s  peak RSS ${r.peakRssMb.toFixed(0).padStart(4)} MB` +
  (r.bytesPerUrl !== undefined ? `  ${r.bytesPerUrl.toFixed(0)} heap bytes/URL` : '');

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [crawler, origin, conc] = process.argv.slice(3);
    const r = crawler === 'linkinator' ? await childLinkinator(origin!, Number(conc)) : await childPlanrun(origin!, Number(conc));
    console.log(`RESULT ${JSON.stringify(r)}`);
    return;
  }
  childScript = await buildChildBundle(fileURLToPath(import.meta.url));
  console.log(`crawl: ${PAGES}-page generated site, concurrency ${CONCURRENCY}, each crawler in its own process (compiled JS, no tsx)`);
  const site = await startSite({ pages: PAGES, specials: false, variants: false, relativeJumps: false, log: false });
  try {
    const planrun = await runChild('planrun', site.origin);
    const linkinator = await runChild('linkinator', site.origin);
    console.log(fmt(planrun));
    console.log(fmt(linkinator));
    const speed = planrun.pages / planrun.wallMs / (linkinator.pages / linkinator.wallMs);
    const rss = planrun.peakRssMb / linkinator.peakRssMb;
    console.log(`ratio planrun/linkinator: ${speed.toFixed(2)}× URLs/s (target ≥ 2×), ${rss.toFixed(2)}× peak RSS (target ≤ 1×)`);
    if (speed < 2 || rss > 1) console.log('!!! crawl target missed');
  } finally {
    await site.close();
  }
  if (BIG > 0) {
    const big = await startSite({ pages: BIG, specials: false, variants: false, relativeJumps: false, log: false });
    try {
      const r = await runChild('planrun', big.origin);
      console.log(fmt(r));
      console.log(`${BIG}-page crawl: peak RSS ${r.peakRssMb.toFixed(0)} MB (target < 300 MB)`);
      // A missed target is a figure to report, not a failed measurement: the bench exits 0.
      if (r.peakRssMb >= 300) console.log('!!! 100k peak RSS target missed');
    } finally {
      await big.close();
    }
  }
}

await main();
