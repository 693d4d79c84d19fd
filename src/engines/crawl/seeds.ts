// Start URLs from the seeds of `crawl.start`: files of URLs (read when the plan
// loaded), sitemaps and sitemap indexes, and the `Sitemap:` lines of
// robots.txt files. start() queues the URL files' entries and the seed
// documents; each document is a frontier entry of its own (`seed`), taken and
// read by any worker of any agent sharing the frontier (read()), so reading it
// is work in flight: the crawl cannot end while a sitemap is read, and a killed
// agent's document goes back to the queue like any URL. Every URL a document
// lists is handed to the crawler (which classifies it like a link at depth 0),
// and the sitemaps an index or robots.txt lists are queued as documents; both
// go to the frontier in batches while the document is still being parsed, all
// of them before the document's entry is completed.
// Each sitemap or robots.txt read is itself a checked URL of the report: one
// that cannot be fetched, parsed or read whole is broken, and the crawl goes on.
// The sitemaps a document lists are claimed against maxSitemaps (SitemapBudget:
// this process's count, or the run's shared by its agents) before they are queued.
import type { SitemapBudget } from '../../contract/crawl-store.js';
import type { Frontier, FrontierEntry } from '../../contract/frontier.js';
import type { CrawlBrokenKind, CrawlReferrer, CrawlReport } from '../../contract/report.js';
import type { Fetcher, FetchError, Hop } from './fetcher.js';
import type { UrlRecord } from './records.js';
import { readRobots } from './robots.js';
import type { CrawlRules } from './rules.js';
import type { NormalizedUrl } from './normalize.js';
import { MAX_LOC_CHARS, SitemapReader } from './sitemap.js';

/** Entries handed to frontier.addAll at once. */
const BATCH = 1000;

/** What the seeder needs from the crawler. */
export interface SeedHost {
  readonly rules: CrawlRules;
  readonly fetcher: Fetcher;
  readonly frontier: Frontier;
  /** The sitemaps the crawl may read (maxSitemaps): this process's count, or the run's across agents. */
  readonly sitemapBudget: SitemapBudget;
  /** An absolute http(s) URL normalised by the crawl's rules, or undefined. */
  normalize(url: string): NormalizedUrl | undefined;
  /** Classifies a start URL found by a seed: the entry to queue, or undefined when known (it gains `ref`) or skipped. */
  startEntry(url: NormalizedUrl, ref?: CrawlReferrer): FrontierEntry | undefined;
  /** The record of a sitemap or robots.txt (its normalised URL, or undefined when it is not one), shown with the checked URLs; it gains `ref`. */
  documentRecord(url: string, ref?: CrawlReferrer): UrlRecord | undefined;
  /** Called once a document's record holds its outcome, with what it read (agents: resolves once its visit is stored). */
  settled(rec: UrlRecord, read: Read): void | Promise<void>;
}

type Seeds = NonNullable<CrawlReport['seeds']>;

/** What one document read: 1 sitemap or none (robots.txt, unread), and the URLs it listed. */
export type Read = Pick<Seeds, 'sitemaps' | 'fromSitemaps'>;

interface Fetched {
  hop: Hop;
  url: string;
  redirects: Array<{ url: string; status: number }>;
}

type Broken = { kind: CrawlBrokenKind; message: string };

export class Seeder {
  /** What this process's seeding added: every agent counts the URL files, and the documents it read. */
  readonly stats: Seeds = { sitemaps: 0, fromSitemaps: 0, fromFiles: 0 };
  private batch: FrontierEntry[] = [];
  private adding: Promise<unknown> = Promise.resolve();

  constructor(private readonly host: SeedHost) {}

  /** Queues the URL files' entries and the seed documents of crawl.start (every agent does; the frontier keeps each URL once). */
  async start(): Promise<void> {
    // Every agent claims the start's sitemaps: the budget counts each URL once.
    const sitemaps = this.sitemapList(0);
    for (const seed of this.host.rules.seeds) {
      if (seed.kind === 'urls') {
        for (const url of seed.urls) {
          const n = this.host.normalize(url);
          if (n) this.queue(this.host.startEntry(n));
        }
        this.stats.fromFiles += seed.urls.length;
      } else if (seed.kind === 'robots') this.queueDocument('robots', seed.url, 0);
      else sitemaps.add(seed.url);
    }
    await sitemaps.done();
    await this.flushed();
  }

  /** The sitemaps one document (or crawl.start) lists, queued at `nesting` as far as maxSitemaps allows. */
  private sitemapList(nesting: number, ref?: CrawlReferrer): SitemapList {
    return new SitemapList(this.host, (url) => this.queueDocument('sitemap', url, nesting, ref));
  }

  /** The document gains its referrer now (stored with the visit of the document listing it) and is queued when it is an http(s) URL. */
  private queueDocument(seed: 'sitemap' | 'robots', url: string, nesting: number, ref?: CrawlReferrer): void {
    const rec = this.host.documentRecord(url, ref);
    if (rec) this.queue({ url: rec.url, depth: nesting, checkOnly: true, seed });
  }

  private queue(entry: FrontierEntry | undefined): void {
    if (!entry) return;
    this.batch.push(entry);
    if (this.batch.length >= BATCH) this.flush();
  }

  /** Hands the batch to the frontier without waiting: parsing goes on meanwhile, and flushed() awaits the adds. */
  private flush(): void {
    if (!this.batch.length) return;
    const batch = this.batch;
    this.batch = [];
    this.adding = this.adding.then(() => this.host.frontier.addAll(batch));
    // Handled now, so a failing frontier (Redis gone) is not an unhandled rejection while parsing goes on: flushed() awaits it and throws.
    this.adding.catch(() => {});
  }

  /** Resolves once everything queued so far (by any concurrent read) is in the frontier. */
  private async flushed(): Promise<void> {
    this.flush();
    await this.adding;
  }

  /**
   * Reads the seed document of a frontier entry: what it lists is in the frontier, and its record settled, when this
   * resolves. Aborted, it resolves with nothing settled (the entry is not the crawler's to complete then).
   */
  async read(entry: FrontierEntry): Promise<void> {
    const rec = this.host.documentRecord(entry.url);
    if (!rec) return;
    const started = performance.now();
    const read: Read = { sitemaps: 0, fromSitemaps: 0 };
    let broken: Broken | undefined;
    try {
      const got = await this.fetchDocument(rec);
      if (!got) return; // aborted
      if ('kind' in got) broken = got;
      else {
        if (got.redirects.length) rec.redirects = got.redirects;
        rec.status = got.hop.status;
        const ct = got.hop.headers['content-type'];
        rec.contentType = Array.isArray(ct) ? ct[0] : ct;
        broken = entry.seed === 'robots' ? await this.readRobots(got, rec.url) : await this.readSitemap(got, entry.depth, rec.url, read);
      }
    } catch (e) {
      const err = this.host.fetcher.classify(e);
      if (err.kind === 'aborted') return;
      broken = { kind: err.kind, message: err.message };
    } finally {
      // What was parsed before a problem is kept: queued before the document settles and its entry completes.
      await this.flushed();
    }
    rec.state = 'checked';
    rec.durationTenths = Math.round((performance.now() - started) * 10);
    if (broken) rec.broken = broken;
    rec.settle();
    await this.host.settled(rec, read);
  }

  /** GET with redirects followed (headers per hop as for any crawl request); a 2xx answer, or why the document is broken. */
  private async fetchDocument(rec: UrlRecord): Promise<Fetched | Broken | undefined> {
    const { fetcher, rules } = this.host;
    const redirects: Fetched['redirects'] = [];
    let url = rec.url;
    let headers = fetcher.headersFor(url);
    for (;;) {
      let hop: Hop;
      try {
        hop = await fetcher.fetch(url, 'GET', headers);
      } catch (e) {
        const err = e as FetchError;
        return err.kind === 'aborted' ? undefined : { kind: err.kind, message: err.message };
      }
      const location = hop.headers.location;
      if (hop.status >= 300 && hop.status < 400 && location) {
        await fetcher.discard(hop);
        redirects.push({ url, status: hop.status });
        rec.redirects = redirects;
        if (redirects.length > rules.maxRedirects) return { kind: 'redirect-limit', message: `more than ${rules.maxRedirects} redirects` };
        const next = new URL(String(location), url).href;
        headers = fetcher.afterRedirect(headers, url, next);
        url = next;
        continue;
      }
      if (hop.status >= 200 && hop.status < 300) return { hop, url, redirects };
      await fetcher.discard(hop);
      rec.status = hop.status;
      const kind: CrawlBrokenKind = hop.status >= 500 ? '5xx' : hop.status >= 400 ? '4xx' : 'expectation';
      return { kind, message: `status ${hop.status}, expected 2xx: not read` };
    }
  }

  private async readRobots(got: Fetched, page: string): Promise<Broken | undefined> {
    const sitemaps = (await readRobots(this.host.fetcher, got.hop, got.url)).getSitemaps();
    if (!sitemaps.length) return { kind: 'sitemap', message: 'robots.txt has no Sitemap: line' };
    const listed = this.sitemapList(0, { page, element: 'Sitemap:' });
    // Node 20 has URL.canParse, not URL.parse.
    for (const s of sitemaps) if (URL.canParse(s, got.url)) listed.add(new URL(s, got.url).href);
    const overLimit = await listed.done();
    return overLimit ? this.overLimit(overLimit) : undefined;
  }

  private overLimit(n: number): Broken {
    return { kind: 'sitemap', message: `${n} sitemaps not read: the crawl reads at most ${this.host.rules.sitemapLimits.maxSitemaps}` };
  }

  /** Streams the sitemap into the reader: pages go to the crawler as they are parsed, sitemaps of an index are read next. */
  private async readSitemap(got: Fetched, nesting: number, page: string, read: Read): Promise<Broken | undefined> {
    const limits = this.host.rules.sitemapLimits;
    // This process's counts include a read cut short by an abort; `read` is stored with the document's visit.
    this.stats.sitemaps++;
    read.sitemaps = 1;
    // One referrer object for every entry of this sitemap.
    let ref: CrawlReferrer | undefined;
    const listed = this.sitemapList(nesting + 1, { page, element: 'sitemap>loc' });
    let tooDeep = 0;
    let invalid = 0;
    let firstInvalid = '';
    const reader = new SitemapReader(limits, (loc) => {
      // Entries must be absolute http(s) URLs (the protocol's rule).
      const url = loc.length <= MAX_LOC_CHARS ? this.host.normalize(loc) : undefined;
      if (!url) {
        if (++invalid === 1) firstInvalid = loc.length > 80 ? `${loc.slice(0, 80)}…` : loc;
      } else if (reader.kind === 'urlset') {
        this.stats.fromSitemaps++;
        read.fromSitemaps++;
        this.queue(this.host.startEntry(url, (ref ??= { page, element: 'url>loc' })));
      } else if (nesting + 1 > limits.maxNesting) tooDeep++;
      else listed.add(url.url);
    });
    let failure: unknown;
    try {
      await this.host.fetcher.consume(got.hop, (chunk) => reader.write(chunk));
      await reader.end();
    } catch (e) {
      failure = e;
    }
    // The sitemaps listed before a problem are queued too.
    const overLimit = await listed.done();
    if (failure !== undefined) {
      if (reader.error) return { kind: 'sitemap', message: reader.error };
      throw failure;
    }
    if (invalid) return { kind: 'sitemap', message: `${invalid} ${invalid === 1 ? 'entry is' : 'entries are'} not an absolute http(s) URL, e.g. "${firstInvalid}"` };
    if (tooDeep) return { kind: 'sitemap', message: `${tooDeep} sitemaps not read: nested in more than ${limits.maxNesting} sitemap indexes` };
    if (overLimit) return this.overLimit(overLimit);
    return undefined;
  }
}

/**
 * Sitemaps listed by one document: claimed against maxSitemaps in batches while the document is parsed, and queued
 * in the order listed; those past the cap are counted for the listing document's message.
 */
class SitemapList {
  private overLimit = 0;
  private pending: string[] = [];
  private claiming: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: Pick<SeedHost, 'sitemapBudget' | 'normalize'>,
    private readonly queue: (url: string) => void,
  ) {}

  add(url: string): void {
    // Normalised, so one sitemap is counted once however it is spelt.
    const n = this.host.normalize(url);
    if (!n) return;
    this.pending.push(n.url);
    if (this.pending.length >= BATCH) this.claim();
  }

  /** Resolves, once every sitemap added is queued or refused, with how many were refused. */
  async done(): Promise<number> {
    this.claim();
    await this.claiming;
    return this.overLimit;
  }

  private claim(): void {
    if (!this.pending.length) return;
    const urls = this.pending;
    this.pending = [];
    this.claiming = this.claiming.then(async () => {
      const allowed = await this.host.sitemapBudget.claim(urls);
      for (const [i, url] of urls.entries()) {
        if (allowed[i]) this.queue(url);
        else this.overLimit++;
      }
    });
    // Handled now, so a failing budget (Redis gone) is not an unhandled rejection while parsing goes on: done() throws.
    this.claiming.catch(() => {});
  }
}

/** One process's maxSitemaps: the sitemaps it may read, each URL counted once. */
export class LocalSitemapBudget implements SitemapBudget {
  private readonly counted = new Set<string>();

  constructor(private readonly maxSitemaps: number) {}

  async claim(urls: string[]): Promise<boolean[]> {
    return urls.map((url) => {
      if (this.counted.has(url)) return true;
      if (this.counted.size >= this.maxSitemaps) return false;
      this.counted.add(url);
      return true;
    });
  }
}
