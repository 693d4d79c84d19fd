// The crawl frontier: a queue of URLs still to fetch, the visited set of
// normalised URLs, and the count of URLs in flight. It lives behind this
// interface so that several agents can later share one crawl through Redis;
// the crawler only talks to it, never to its storage.

export interface FrontierEntry {
  /** Normalised URL (no fragment). */
  url: string;
  /** Links followed from a start URL to reach it (start URLs are 0). */
  depth: number;
  /** Fetch only, never parse for links (images, scripts, out-of-scope links). */
  checkOnly: boolean;
  /**
   * A seed document to read for the URLs it lists (seeds.ts), not a page: a sitemap or sitemap index, or a
   * robots.txt read for its `Sitemap:` lines. Its `depth` is the number of sitemap indexes above it, and
   * `checkOnly` is true. Reading it is work in flight like any fetch, so no agent ends while one is read.
   */
  seed?: 'sitemap' | 'robots';
}

export interface FrontierStats {
  queued: number;
  inFlight: number;
  /** Entries taken and completed. */
  done: number;
  /** Size of the visited set. */
  seen: number;
}

export interface Frontier {
  /**
   * Queues every entry whose URL was never seen and marks it seen.
   * Resolves, per entry, true when it was new.
   */
  addAll(entries: FrontierEntry[]): Promise<boolean[]>;
  /** Marks URLs seen without queuing them (redirect targets, sampled-away URLs). True per URL that was new. */
  markSeen(urls: string[]): Promise<boolean[]>;
  /**
   * The next entry, now counted in flight. Resolves undefined exactly when the
   * crawl is over: nothing queued and nothing in flight, or after stop().
   */
  take(): Promise<FrontierEntry | undefined>;
  /** The taken entry is finished. Call it AFTER adding the entry's links, so the crawl cannot end early. */
  complete(entry: FrontierEntry): Promise<void>;
  /** Ends the crawl now: every pending and future take() resolves undefined. */
  stop(): void;
  stats(): FrontierStats;
}
