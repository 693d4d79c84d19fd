// Shared helpers of the crawl tests (not a test file itself).
import assert from 'node:assert/strict';
import { MemoryFrontier } from '../../src/coordination/memory-frontier.js';
import { stringify } from 'yaml';
import type { BrowserOptions, Crawl, RedirectHeaders } from '../../src/plan/raw-plan.js';
import type { CrawlReport, CrawlReferrer } from '../../src/contract/report.js';
import { parsePlan } from '../../src/plan/load.js';
import type { TemplateScope } from '../../src/contract/plan.js';
import { crawlRules, type CrawlRules } from '../../src/engines/crawl/rules.js';
import { crawl, type CrawlOptions } from '../../src/engines/crawl/crawler.js';
import type { Referrer, Site, TruthEntry } from '../fixtures/site/site.js';

export interface CrawlPlanOptions {
  workers?: number;
  stepTimeoutMs?: number;
  target?: string;
  /** Plain header values, added to the crawl's. */
  headers?: Record<string, string>;
  redirectHeaders?: RedirectHeaders;
  browser?: BrowserOptions;
}

/** The crawl rules of a plan holding `raw`, compiled by the plan compiler (a PlanError when they are bad), headers rendered. */
export function compileCrawlRules(raw: Crawl, opts: CrawlPlanOptions = {}): CrawlRules {
  const plan = parsePlan(
    stringify({
      name: 'crawl test',
      ...(opts.target ? { target: opts.target } : {}),
      workers: opts.workers ?? 8,
      timeout: opts.stepTimeoutMs ?? 5000,
      ...(opts.browser ? { browser: opts.browser } : {}),
      ...(opts.redirectHeaders ? { http: { redirectHeaders: opts.redirectHeaders } } : {}),
      crawl: { ...raw, ...(opts.headers ? { headers: { ...raw.headers, ...opts.headers } } : {}) },
    }),
    'crawl-test.yml',
  );
  const scope = { worker: { id: 0, role: 'crawl', index: 0 }, round: 1, run: { id: 'r' }, vars: {}, captures: {}, shared: {}, env: {} } satisfies TemplateScope;
  return crawlRules(plan.crawl!, Object.fromEntries(Object.entries(plan.crawl!.headers).map(([name, t]) => [name, t.renderString(scope)])));
}

export function crawlSite(raw: Crawl, opts: Partial<CrawlOptions> & { workers?: number } = {}): Promise<CrawlReport> {
  return crawl(compileCrawlRules(raw, { workers: opts.workers ?? 8 }), { frontier: new MemoryFrontier(), ...opts });
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

/**
 * The URLs as comparable data: fetch results, referrer counts, and the referrers themselves where all are kept
 * (depths left out: the first discovery's depth depends on timing, even in one process).
 */
export function comparableUrls(report: CrawlReport) {
  return report.urls
    .map((u) => ({
      url: u.url,
      mode: u.mode,
      status: u.status,
      redirects: u.redirects,
      broken: u.broken,
      count: u.referrerCount,
      kept: u.referrers.length,
      ...(u.broken ? { referrers: sortRefs(u.referrers) } : {}),
    }))
    .sort((a, b) => (a.url < b.url ? -1 : 1));
}

/** A crawl shared by agents (or crawlers) equals the site's ground truth and the one-process crawl, URL by URL. */
export function assertSameCrawl(crawl: CrawlReport | undefined, reference: CrawlReport, site: Pick<Site, 'truth' | 'fragmentTruth'>): asserts crawl is CrawlReport {
  assert.ok(crawl);
  assert.deepEqual(
    brokenOf(crawl, (k) => k !== 'fragment'),
    normalizeTruth(site.truth()),
  );
  assert.deepEqual(
    brokenOf(crawl, (k) => k === 'fragment'),
    normalizeTruth(site.fragmentTruth()),
  );
  assert.deepEqual(comparableUrls(crawl), comparableUrls(reference));
  for (const k of ['crawled', 'checked', 'broken', 'brokenByKind', 'skipped', 'sampledAway', 'statusHistogram'] as const) assert.deepEqual(crawl[k], reference[k], k);
}
