// What a crawl shared by several agents stores besides its frontier: every
// visit (the URLs it settled, the links of the page it parsed, what it counted)
// is written as it happens, so the controller builds one report from all
// agents' visits, a killed agent loses nothing it finished, and a resumed run
// reads back what the earlier one found. One process needs none of this.
import type { CrawlBrokenKind, CrawlReferrer } from './report.js';

/** A URL whose fetch settled (or that robots.txt kept from being fetched). */
export interface SettledUrl {
  url: string;
  depth: number;
  checkOnly: boolean;
  state: 'crawled' | 'checked' | 'robots';
  status?: number;
  durationTenths?: number;
  contentType?: string;
  redirects?: Array<{ url: string; status: number }>;
  broken?: { kind: CrawlBrokenKind; message: string };
  /** ids and names of the page, for fragment checks (`fragments: true`). */
  ids?: string[];
}

/**
 * Counts of one visit, added to the crawl's totals once per visited URL. A seed document's visit counts the sitemap
 * it read and the URLs it listed, so a document read again (its agent died) counts once.
 */
export type VisitTally = Partial<Record<'byScheme' | 'byRule' | 'byDepth' | 'outOfScope' | 'byRobots' | 'sampledAway' | 'sitemaps' | 'fromSitemaps', number>>;

export interface Visit {
  /** The URL taken from the frontier. A visit already stored under it (taken again after its agent died) is not stored twice. */
  url: string;
  /** The URL itself, and the page a redirect landed on when this visit was the first to reach it. */
  settled: SettledUrl[];
  /** Every link the page gives that the crawl keeps (known or queued), as [target URL, referrer]. */
  referrers: Array<[string, CrawlReferrer]>;
  /** `fragments: true`: links to `target#fragment`, as [target URL, fragment, referrer]. */
  fragments: Array<[string, string, CrawlReferrer]>;
  /** Links to URLs the sink only counts (see CrawlSink.countsOnly), as [target URL, links]; absent when none. */
  counted?: Array<[string, number]>;
  tally: VisitTally;
}

export interface CrawlSink {
  /** Stores one visit; resolves once it is stored. The crawler calls it before completing the URL in the frontier. */
  visit(v: Visit): Promise<void>;
  /**
   * True when a link to `url` needs no referrer: the store holds the URL settled fine, with as many referrers as it
   * keeps for a fine URL, so it would only count the link. The crawler then gives the link in `counted`. A site's menu
   * and footer links are most of its links, and all point to a few such URLs.
   */
  countsOnly(url: string): boolean;
}

/** Everything stored for a crawl, read back once it is over. */
export interface StoredCrawl {
  urls: Array<{ settled: SettledUrl; referrers: CrawlReferrer[]; referrerCount: number }>;
  fragments: Array<{ url: string; fragment: string; referrers: CrawlReferrer[] }>;
  tally: Required<VisitTally>;
}

/**
 * The crawl's `maxSitemaps`: how many distinct sitemap documents it reads. One process counts its own; agents share
 * one count in Redis, so the cap is the run's whatever the number of agents (each counting its own would read N ×).
 */
export interface SitemapBudget {
  /** Per URL, in order: true when the crawl may read that sitemap (counted before, or counted now while under the cap). */
  claim(urls: string[]): Promise<boolean[]>;
}
