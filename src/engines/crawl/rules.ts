// What the crawler runs: the plan's compiled crawl (src/plan/crawl.ts) with its
// header templates rendered, which can only happen when the crawl starts
// (after the scenario shared, say, a login cookie).
import type { CrawlSpec } from '../../contract/plan.js';

export type CrawlRules = Omit<CrawlSpec, 'headers'> & {
  /** Rendered, lower-case names; sent to the in-scope origins only. */
  headers: Record<string, string>;
};

export function crawlRules(spec: CrawlSpec, headers: Record<string, string>): CrawlRules {
  return { ...spec, headers };
}
