// Shared helpers of the crawl tests (not a test file itself).
import type { Crawl } from '../src/plan/raw-plan.js';
import type { CrawlReport, CrawlReferrer } from '../src/reporting/report.js';
import { compileCrawlRules } from '../src/engines/crawl/rules.js';
import { crawl, type CrawlOptions } from '../src/engines/crawl/crawler.js';
import type { Referrer, TruthEntry } from './fixtures/site/site.js';

export function crawlSite(raw: Crawl, opts: CrawlOptions & { workers?: number } = {}): Promise<CrawlReport> {
  // Plain headers as written (runCrawl renders templates in them; these tests have none).
  const headers = Object.fromEntries(Object.entries(raw.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const rules = compileCrawlRules(raw, { workers: opts.workers ?? 8, stepTimeoutMs: 5000, headers });
  return crawl(rules, opts);
}

const refKey = (r: CrawlReferrer | Referrer) => `${r.page} ${r.element} ${r.text ?? ''}`;

/** Broken URLs as comparable data: sorted by URL, referrers sorted. */
export function brokenOf(report: CrawlReport, kinds?: (k: string) => boolean): TruthEntry[] {
  return report.brokenUrls
    .filter((b) => !kinds || kinds(b.broken!.kind))
    .map((b) => ({ url: b.url, kind: b.broken!.kind as TruthEntry['kind'], referrers: sortRefs(b.referrers) }))
    .sort((a, b) => (a.url < b.url ? -1 : 1));
}

export function sortRefs<T extends CrawlReferrer | Referrer>(refs: T[]): T[] {
  return [...refs].sort((a, b) => (refKey(a) < refKey(b) ? -1 : refKey(a) > refKey(b) ? 1 : 0));
}

export function normalizeTruth(truth: TruthEntry[]): TruthEntry[] {
  return truth.map((t) => ({ ...t, referrers: sortRefs(t.referrers) }));
}
