// The crawl loop: `concurrency` workers take entries from the frontier, fetch
// them (walking redirect chains themselves), stream HTML into the link
// extractor, classify every link against the rules and add the new ones to the
// frontier BEFORE completing their entry. The frontier resolves every take()
// with undefined once nothing is queued and nothing in flight, so the crawl
// ends exactly when the last page is done — no sleeps, no polling.
import { setMaxListeners } from 'node:events';
import type { Frontier, FrontierEntry } from '../../contract/frontier.js';
import type { CrawlSink, SitemapBudget, Visit, VisitTally } from '../../contract/crawl-store.js';
import type { CrawlProgress } from '../../contract/events.js';
import type { CrawlBrokenKind, CrawlReferrer, CrawlReport } from '../../contract/report.js';
import { PageRenderer } from './browser-fetch.js';
import { LinkExtractor, type PageData } from './extract.js';
import { Fetcher, FetchError, type Hop } from './fetcher.js';
import { FingerprintIndex } from './fingerprint.js';
import { normalizeUrl, pageBase } from './normalize.js';
import { UrlRecord } from './records.js';
import { summarizeCrawl } from './summary.js';
import { RobotsCache } from './robots.js';
import { LocalSitemapBudget, Seeder, type SeedHost } from './seeds.js';
import { describeStatus } from '../matchers.js';
import type { CrawlRules } from './rules.js';

export interface CrawlOptions {
  signal?: AbortSignal;
  /** Called at most every `progressEveryMs` and once at the end. */
  onProgress?: (p: CrawlProgress) => void;
  progressEveryMs?: number;
  /** Where the URLs to visit and the visited set live: in process, or shared by agents. */
  frontier: Frontier;
  /** Agents: where every visit is stored as it happens (the report is then built from all agents' visits). */
  sink?: CrawlSink;
  /** Agents: the run's count of sitemaps read, against maxSitemaps. Default: this process's own. */
  sitemapBudget?: SitemapBudget;
}

const HTML_TYPE = /^\s*(text\/html|application\/xhtml\+xml)/i;
const HTTP_SCHEMES = new Set(['http:', 'https:']);
const ignoreChunk = (): void => {};
/** The stored visit of what the URL files of crawl.start gave (every agent seeds them; the store keeps one visit). */
const FILE_SEEDS = 'planrun:url-files';
/** Largest document handed to the browser in browser mode. */
const MAX_RENDERED_BYTES = 16 * 1024 * 1024;

/** What is left of a visit once its response is read: the round trips to the frontier and the crawl store. */
type Finish = () => Promise<void>;
/**
 * Pages a worker may have finishing (links, visit, completion) while it fetches. Over Redis, 16 rather than 4 let the
 * finishing steps of an agent's pages share bigger script calls (docs/performance.md, the agents crawl); in one
 * process a page finishes within a few microtasks, so the bound hardly ever holds a worker back.
 */
const FINISHING = 16;

interface Outcome {
  status?: number;
  contentType?: string;
  finalUrl: string;
  redirects: Array<{ url: string; status: number }>;
  broken?: { kind: CrawlBrokenKind; message: string };
  page?: PageData;
  durationMs: number;
  /** The page a redirect landed on, when this fetch was the first to reach it. */
  landed?: UrlRecord;
}

export class Crawler {
  private readonly frontier: Frontier;
  private readonly fetcher: Fetcher;
  private readonly robots: RobotsCache;
  private readonly records = new Map<string, UrlRecord>();
  private readonly fingerprints?: FingerprintIndex;
  private readonly templateCounts: number[];
  private readonly sampled = new Set<string>();
  private readonly depthSkipped = new Set<string>();
  private readonly ignored = new Set<string>();
  /** target URL → fragment → referrers, for `fragments: true`. */
  private readonly fragmentRefs = new Map<string, Map<string, CrawlReferrer[]>>();
  private readonly abort = new AbortController();
  private readonly renderer?: PageRenderer;
  private skipped = { byRule: 0, byRobots: 0, byDepth: 0, byScheme: 0, outOfScope: 0 };
  private sampledAway = 0;
  private fetched = 0;
  private brokenCount = 0;
  private stoppedBy: CrawlReport['stoppedBy'] = 'complete';
  /** Reads the seed documents taken from the frontier, and queues the seeds of crawl.start (seeds.ts). */
  private seeder?: Seeder;
  /** Agents: what each seed document listed, until it is stored with its visit (seedHost). */
  private readonly seedVisits = new Map<string, { referrers: Visit['referrers']; tally: Required<Pick<VisitTally, 'byRule' | 'outOfScope' | 'sampledAway'>> & VisitTally }>();
  private lastProgress = 0;
  private startedAt = 0;

  /** The start URLs normalised like every link. */
  private readonly start: string[];
  /** The statuses crawl.expect accepts, as text for broken-link messages. */
  private readonly wantedStatus: string;

  constructor(
    private readonly rules: CrawlRules,
    private readonly opts: CrawlOptions,
  ) {
    this.start = rules.start.map((url) => normalizeUrl(url, undefined, rules.normalize)?.url ?? url);
    this.wantedStatus = describeStatus(rules.expect.status);
    this.frontier = opts.frontier;
    // Retry and rate-limit pauses each listen for the abort: up to one listener per worker.
    setMaxListeners(0, this.abort.signal);
    this.fetcher = new Fetcher(rules, this.abort.signal);
    this.robots = new RobotsCache(this.fetcher, rules.userAgent);
    if (rules.contentSampling) this.fingerprints = new FingerprintIndex(rules.similarityBits);
    this.templateCounts = rules.templates.map(() => 0);
    if (rules.browser) {
      this.renderer = new PageRenderer(rules.browser, {
        follow: rules.follow,
        check: rules.check,
        collectIds: rules.fragments,
        fingerprint: this.fingerprintMode(),
        collectText: rules.expect.text.length > 0 || rules.expect.notText.length > 0,
        headers: rules.headers,
        origins: rules.origins,
        timeoutMs: rules.timeoutMs,
      });
    }
  }

  private fingerprintMode(): 'exact' | 'near' | undefined {
    if (!this.rules.contentSampling) return undefined;
    return this.rules.similarityBits === 0 ? 'exact' : 'near';
  }

  async run(): Promise<CrawlReport> {
    this.startedAt = performance.now();
    const onAbort = () => {
      this.stoppedBy = 'aborted';
      this.frontier.stop();
      this.abort.abort();
      void this.renderer?.close();
    };
    if (this.opts.signal?.aborted) onAbort();
    this.opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.renderer?.start();
      const starts = this.start.map((url) => ({ url, depth: 0, checkOnly: false }));
      for (const s of starts) if (!this.records.has(s.url)) this.records.set(s.url, new UrlRecord(s.url, 0, false));
      await this.frontier.addAll(starts);
      this.seeder = new Seeder(this.seedHost());
      if (this.rules.seeds.length) {
        await this.seeder.start();
        await this.storeSeedVisit(FILE_SEEDS, []);
      }
      const workers = Array.from({ length: Math.max(1, this.rules.concurrency) }, () => this.work());
      await Promise.all(workers);
    } finally {
      this.opts.signal?.removeEventListener('abort', onAbort);
      await Promise.all([this.fetcher.close(), this.renderer?.close()]);
    }
    const report = this.report();
    this.opts.onProgress?.(this.progress());
    return report;
  }

  /**
   * One worker: take, fetch, then finish the page (add its links, store its visit, complete it) while taking and
   * fetching the next entries. With a shared frontier the finishing steps are round trips to Redis; off the worker's
   * path, a page costs it one round trip (its take) instead of four, and the finishing steps of several pages share
   * script calls. At most FINISHING pages per worker are finishing (the worker waits for the oldest before taking more),
   * and each page's steps stay in order, so its completion comes after its links are queued and its visit stored: the
   * crawl ends neither early nor twice, and a killed agent loses no finished visit.
   */
  private async work(): Promise<void> {
    const finishing: Array<Promise<void>> = [];
    try {
      for (;;) {
        while (finishing.length >= FINISHING) await finishing.shift();
        const entry = await this.frontier.take();
        if (!entry) return;
        let rest: Finish | undefined;
        try {
          rest = await this.visit(entry);
        } catch (e) {
          await this.finish(entry, undefined);
          throw e;
        }
        const done = this.finish(entry, rest);
        // Awaited later (above or on the way out), where a failure surfaces; meanwhile it is not unhandled.
        done.catch(() => {});
        finishing.push(done);
      }
    } finally {
      await Promise.all(finishing);
    }
  }

  /** The rest of a visit (links, stored visit), then the entry's completion. */
  private async finish(entry: FrontierEntry, rest: Finish | undefined): Promise<void> {
    try {
      await rest?.();
    } finally {
      // Aborted, the entry may be unfinished: a shared frontier gives it to another agent once its lease expires.
      if (!this.abort.signal.aborted) await this.frontier.complete(entry);
      this.maybeProgress();
    }
  }

  private record(entry: FrontierEntry): UrlRecord {
    let rec = this.records.get(entry.url);
    if (!rec) {
      rec = new UrlRecord(entry.url, entry.depth, entry.checkOnly);
      this.records.set(entry.url, rec);
    }
    return rec;
  }

  /** Fetches the entry; resolves what is left to do once the response is read (its links, its stored visit). */
  private async visit(entry: FrontierEntry): Promise<Finish | undefined> {
    // Seed documents are read whatever robots.txt says, and count towards no maxPages.
    if (entry.seed) return void (await this.seeder!.read(entry));
    const rec = this.record(entry);
    if (this.rules.robots === 'respect' && this.inScopeOrigin(entry.url) && !(await this.robots.allowed(entry.url))) {
      rec.state = 'robots';
      this.skipped.byRobots++;
      return () => this.store(entry, [rec], { byRobots: 1 });
    }
    if (this.stoppedBy === 'aborted') return;
    if (this.fetched >= this.rules.maxPages) {
      this.stoppedBy = 'maxPages';
      this.frontier.stop();
      return;
    }
    this.fetched++;
    const out = await this.fetchUrl(entry);
    if (!out) return; // aborted mid-fetch: not a result
    rec.status = out.status;
    rec.contentType = this.intern(out.contentType);
    rec.durationTenths = Math.round(out.durationMs * 10);
    if (out.redirects.length) rec.redirects = out.redirects;
    rec.state = entry.checkOnly ? 'checked' : 'crawled';
    rec.broken = out.broken ?? this.expectationFailure(entry, out);
    if (rec.broken) this.brokenCount++;
    rec.settle();
    const settled = out.landed ? [rec, out.landed] : [rec];
    if (!out.page) return () => this.store(entry, settled, {});
    if (this.rules.fragments) rec.ids = out.page.ids;
    if (out.finalUrl !== entry.url) {
      const target = this.records.get(out.finalUrl);
      if (target && this.rules.fragments) target.ids = out.page.ids;
    }
    if (out.page.fingerprint && this.fingerprints!.seenBefore(out.page.fingerprint)) {
      this.sampledAway++;
      return () => this.store(entry, settled, { sampledAway: 1 });
    }
    const page = out.page;
    return async () => {
      const links = await this.addLinks(out.finalUrl, entry.depth, page);
      await this.store(entry, settled, links.tally, links);
    };
  }

  /** Agents: the visit goes to the shared store before its entry is completed, so a killed agent loses none it finished. */
  private async store(entry: FrontierEntry, settled: UrlRecord[], tally: VisitTally, links?: Pick<Visit, 'referrers' | 'fragments' | 'counted'>): Promise<void> {
    if (!this.opts.sink) return;
    const visit: Visit = { url: entry.url, settled: settled.map((r) => r.toSettled()), referrers: links?.referrers ?? [], fragments: links?.fragments ?? [], tally };
    if (links?.counted) visit.counted = links.counted;
    await this.opts.sink.visit(visit);
  }

  /** Fetches with manual redirects; parses the final body when it is an HTML page to crawl. */
  private async fetchUrl(entry: FrontierEntry): Promise<Outcome | undefined> {
    const started = performance.now();
    const redirects: Outcome['redirects'] = [];
    const chain = new Set([entry.url]);
    let url = entry.url;
    let headers = this.fetcher.headersFor(url);
    const elapsed = () => performance.now() - started;
    for (;;) {
      let hop: Hop;
      try {
        hop = await this.fetchOnce(url, entry.checkOnly, headers);
      } catch (e) {
        const err = e as FetchError;
        if (err.kind === 'aborted') return undefined;
        return { finalUrl: url, redirects, durationMs: elapsed(), broken: { kind: err.kind, message: err.message } };
      }
      const location = hop.headers.location;
      if (hop.status >= 300 && hop.status < 400 && location) {
        await this.fetcher.discard(hop);
        redirects.push({ url, status: hop.status });
        const next = normalizeUrl(String(location), url, this.rules.normalize);
        const fail = (kind: CrawlBrokenKind, message: string): Outcome => ({ status: hop.status, finalUrl: url, redirects, durationMs: elapsed(), broken: { kind, message } });
        if (!next) return fail('network', `redirect to an invalid URL: ${String(location)}`);
        if (chain.has(next.url)) return fail('redirect-loop', `redirect loop: ${[...redirects.map((r) => r.url), next.url].join(' → ')}`);
        if (redirects.length > this.rules.maxRedirects) return fail('redirect-limit', `more than ${this.rules.maxRedirects} redirects`);
        if (!entry.checkOnly && !this.inScope(next.url)) return fail('out-of-scope-redirect', `redirects out of scope to ${next.url}`);
        chain.add(next.url);
        headers = this.fetcher.afterRedirect(headers, url, next.url);
        url = next.url;
        continue;
      }
      const ct = hop.headers['content-type'];
      const contentType = Array.isArray(ct) ? ct[0] : ct;
      const out: Outcome = { status: hop.status, contentType, finalUrl: url, redirects, durationMs: 0 };
      const parse = !entry.checkOnly && hop.status >= 200 && hop.status < 300 && HTML_TYPE.test(contentType ?? '');
      // A redirect landing on a page already seen must not crawl it twice.
      if (parse && url !== entry.url) {
        const [isNew] = await this.frontier.markSeen([url]);
        if (!isNew) {
          await this.fetcher.discard(hop);
          out.durationMs = elapsed();
          return out;
        }
        const target = new UrlRecord(url, entry.depth, false);
        target.status = hop.status;
        target.contentType = this.intern(contentType);
        target.state = 'crawled';
        this.records.set(url, target);
        out.landed = target;
      }
      try {
        if (parse) out.page = this.renderer ? await this.render(url, hop, contentType!) : await this.parse(hop);
        // Any other body its status would pass is read to its end too (and dropped): a download cut short is as broken as a page.
        else if (this.rules.expect.status(hop.status)) await this.fetcher.consume(hop, ignoreChunk);
        else await this.fetcher.discard(hop);
      } catch (e) {
        if (this.abort.signal.aborted) return undefined;
        const err = this.fetcher.classify(e);
        if (err.kind === 'aborted') return undefined;
        out.broken = { kind: err.kind, message: err.message };
      }
      out.durationMs = elapsed();
      return out;
    }
  }

  /** Check-only URLs try HEAD first and fall back to GET when the server does not answer HEAD well. */
  private async fetchOnce(url: string, checkOnly: boolean, headers: Record<string, string>): Promise<Hop> {
    if (!checkOnly) return this.fetcher.fetch(url, 'GET', headers);
    const head = await this.fetcher.fetch(url, 'HEAD', headers);
    if (head.status < 400) return head;
    await this.fetcher.discard(head);
    return this.fetcher.fetch(url, 'GET', headers);
  }

  /** Idle extractors: at most one per worker is ever in use, each reused page after page. */
  private readonly extractors: LinkExtractor[] = [];

  private async parse(hop: Hop): Promise<PageData> {
    const e = this.rules.expect;
    const extractor =
      this.extractors.pop() ??
      new LinkExtractor({
        follow: this.rules.follow,
        check: this.rules.check,
        collectIds: this.rules.fragments,
        fingerprint: this.fingerprintMode(),
        collectText: e.text.length > 0 || e.notText.length > 0,
      });
    try {
      await this.fetcher.consume(hop, (chunk) => extractor.write(chunk));
      return extractor.end();
    } catch (err) {
      extractor.abandon();
      throw err;
    } finally {
      this.extractors.push(extractor);
    }
  }

  /** Browser mode: the fetched document, rendered by Chromium at its URL, links read from the DOM. */
  private async render(url: string, hop: Hop, contentType: string): Promise<PageData> {
    const chunks: Buffer[] = [];
    let size = 0;
    await this.fetcher.consume(hop, (chunk) => {
      size += chunk.length;
      if (size > MAX_RENDERED_BYTES) throw new FetchError('network', `page larger than ${MAX_RENDERED_BYTES / 1048576} MB, too large to render`);
      chunks.push(chunk);
    });
    try {
      return await this.renderer!.render({ url, status: hop.status, contentType, body: Buffer.concat(chunks) });
    } catch (e) {
      const err = e as Error;
      if (err.name === 'TimeoutError') throw new FetchError('timeout', `browser: page did not load within ${this.rules.timeoutMs}ms`);
      throw new FetchError('network', `browser: ${err.message.split('\n')[0]}`);
    }
  }

  private expectationFailure(entry: FrontierEntry, out: Outcome): UrlRecord['broken'] {
    const e = this.rules.expect;
    const status = out.status!;
    if (!e.status(status)) {
      const kind: CrawlBrokenKind = status >= 500 ? '5xx' : status >= 400 ? '4xx' : 'expectation';
      return { kind, message: `status ${status}, expected ${this.wantedStatus}` };
    }
    if (e.maxDurationMs !== undefined && out.durationMs > e.maxDurationMs) {
      return { kind: 'expectation', message: `took ${Math.round(out.durationMs)}ms, more than ${e.maxDurationMs}ms` };
    }
    if (entry.checkOnly) return undefined;
    if (e.contentType && !e.contentType.test(out.contentType ?? '')) {
      return { kind: 'expectation', message: `content type "${out.contentType ?? ''}" does not match /${e.contentType.source}/` };
    }
    const page = out.page;
    if (!page) return undefined;
    if (e.title && !page.title) return { kind: 'expectation', message: 'page has no <title>' };
    for (const t of e.text) if (!page.text!.includes(t)) return { kind: 'expectation', message: `text "${t}" not found` };
    for (const t of e.notText) if (page.text!.includes(t)) return { kind: 'expectation', message: `text "${t}" found` };
    return undefined;
  }

  /**
   * Classifies each link of a page and queues the new ones. Resolves what the page counted and, for a sink, the
   * referrers it gave. Links skipped by rule or scope count when the frontier says they are new: with agents, the
   * frontier (not this process's records) knows whether another agent met the URL first.
   */
  private async addLinks(pageUrl: string, depth: number, page: PageData): Promise<Pick<Visit, 'referrers' | 'fragments' | 'counted'> & { tally: VisitTally }> {
    const n = this.rules.normalize;
    const base = pageBase(page.base, pageUrl);
    const fresh: FrontierEntry[] = [];
    const why: Array<'byRule' | 'outOfScope' | undefined> = [];
    const tally = { byScheme: 0, byRule: 0, byDepth: 0, outOfScope: 0, sampledAway: 0 };
    const referrers: Visit['referrers'] = [];
    const fragments: Visit['fragments'] = [];
    const sink = this.opts.sink;
    let counted: Visit['counted'];
    const seenHere = new Set<string>();
    for (const link of page.links) {
      // The scheme as the URL parser reads it: `java&#9;script:` is javascript: once the tab is stripped.
      const target = normalizeUrl(link.href, base, n);
      if (!target || !HTTP_SCHEMES.has(target.parsed.protocol)) {
        tally.byScheme++;
        continue;
      }
      const ref: CrawlReferrer = link.text ? { page: pageUrl, element: link.element, text: link.text } : { page: pageUrl, element: link.element };
      const refKey = `${target.url}\n${link.element}\n${link.text ?? ''}`;
      if (this.rules.fragments && target.fragment && link.follow && this.addFragmentRef(target.url, target.fragment, ref, refKey, seenHere) && sink)
        fragments.push([target.url, target.fragment, ref]);
      if (seenHere.has(refKey)) continue;
      seenHere.add(refKey);
      const known = this.records.get(target.url);
      // With a sink the store keeps the referrers (this agent's records may never settle: another agent fetches them),
      // or only counts the link when it has all it keeps of a fine URL.
      if (known) {
        if (!sink) known.addReferrer(ref);
        else if (!sink.countsOnly(target.url)) referrers.push([target.url, ref]);
        else (counted ??= []).push([target.url, 1]);
        continue;
      }
      const classified = this.classify(target.url, target.parsed, depth + 1, link.follow, tally);
      if (!classified) continue;
      const { entry } = classified;
      const rec = new UrlRecord(entry.url, entry.depth, entry.checkOnly);
      if (sink) referrers.push([target.url, ref]);
      else rec.addReferrer(ref);
      this.records.set(entry.url, rec);
      fresh.push(entry);
      why.push(classified.why);
    }
    if (fresh.length) {
      const added = await this.frontier.addAll(fresh);
      for (const [i, reason] of why.entries()) if (reason && added[i]) tally[reason]++;
    }
    for (const k of ['byScheme', 'byRule', 'byDepth', 'outOfScope'] as const) this.skipped[k] += tally[k];
    this.sampledAway += tally.sampledAway;
    return counted ? { referrers, fragments, tally, counted } : { referrers, fragments, tally };
  }

  /**
   * The seeder's view of the crawl: URLs from sitemaps and URL files are links at depth 0; sitemaps themselves are
   * checked URLs. With a sink (agents), what a document listed (referrers — of the sitemaps it lists too —, skip
   * counts) is stored as that document's visit once it settled, as a page's links are; what the URL files gave, once
   * they are queued (FILE_SEEDS).
   */
  private seedHost(): SeedHost {
    const sink = this.opts.sink;
    const seedVisit = (key: string) => {
      let v = this.seedVisits.get(key);
      if (!v) this.seedVisits.set(key, (v = { referrers: [], tally: { byRule: 0, outOfScope: 0, sampledAway: 0 } }));
      return v;
    };
    /** The referrer goes with the visit of the document listing the URL (a page or another document). */
    const refer = (target: string, ref: CrawlReferrer | undefined, rec: UrlRecord) => {
      if (!ref) return;
      if (sink) seedVisit(ref.page).referrers.push([target, ref]);
      else rec.addReferrer(ref);
    };
    const normalize = (url: string) => {
      const n = normalizeUrl(url, undefined, this.rules.normalize);
      return n && HTTP_SCHEMES.has(n.parsed.protocol) ? n : undefined;
    };
    return {
      rules: this.rules,
      fetcher: this.fetcher,
      frontier: this.frontier,
      sitemapBudget: this.opts.sitemapBudget ?? new LocalSitemapBudget(this.rules.sitemapLimits.maxSitemaps),
      normalize,
      startEntry: (n, ref) => {
        const known = this.records.get(n.url);
        if (known) return void refer(n.url, ref, known);
        // Counted now, without waiting for the frontier's answer: a sitemap's visit is stored once, by the agent that read it.
        const tally = { byDepth: 0, outOfScope: 0, sampledAway: 0 };
        const classified = this.classify(n.url, n.parsed, 0, true, tally);
        const counts = { byRule: classified?.why === 'byRule' ? 1 : 0, outOfScope: tally.outOfScope + (classified?.why === 'outOfScope' ? 1 : 0), sampledAway: tally.sampledAway };
        const into = sink ? seedVisit(ref?.page ?? FILE_SEEDS).tally : this.skipped;
        into.byRule += counts.byRule;
        into.outOfScope += counts.outOfScope;
        if (sink) seedVisit(ref?.page ?? FILE_SEEDS).tally.sampledAway += counts.sampledAway;
        else this.sampledAway += counts.sampledAway;
        if (!classified) return undefined;
        const rec = new UrlRecord(classified.entry.url, 0, classified.entry.checkOnly);
        this.records.set(rec.url, rec);
        refer(rec.url, ref, rec);
        return classified.entry;
      },
      documentRecord: (url, ref) => {
        const n = normalize(url);
        if (!n) return undefined;
        let rec = this.records.get(n.url);
        if (!rec) this.records.set(n.url, (rec = new UrlRecord(n.url, 0, true)));
        // Listed by the index or robots.txt being read: the referrer goes with that document's visit.
        refer(n.url, ref, rec);
        return rec;
      },
      settled: async (rec, read) => {
        if (rec.broken) this.brokenCount++;
        if (sink && read.sitemaps) Object.assign(seedVisit(rec.url).tally, read);
        await this.storeSeedVisit(rec.url, [rec]);
      },
    };
  }

  /** Agents: what a seed document (or, under FILE_SEEDS, the URL files) listed, stored once as a visit of its own. */
  private async storeSeedVisit(key: string, settled: UrlRecord[]): Promise<void> {
    if (!this.opts.sink) return;
    const v = this.seedVisits.get(key);
    this.seedVisits.delete(key);
    if (!v && !settled.length) return;
    await this.opts.sink.visit({ url: key, settled: settled.map((r) => r.toSettled()), referrers: v?.referrers ?? [], fragments: [], tally: v?.tally ?? {} });
  }

  /** Notes a `#fragment` link; false when the page already gave the same one. */
  private addFragmentRef(url: string, fragment: string, ref: CrawlReferrer, refKey: string, seenHere: Set<string>): boolean {
    const key = `#${fragment}\n${refKey}`;
    if (seenHere.has(key)) return false;
    seenHere.add(key);
    let byFrag = this.fragmentRefs.get(url);
    if (!byFrag) this.fragmentRefs.set(url, (byFrag = new Map()));
    const refs = byFrag.get(fragment);
    if (refs) refs.push(ref);
    else byFrag.set(fragment, [ref]);
    return true;
  }

  /** What to do with a link never seen: an entry to queue, or undefined when skipped (and counted). */
  /**
   * What to do with a link never seen here: an entry to queue (with the skip it counts once the frontier says it is
   * new), or undefined when skipped (counted in `tally` now: these sets are this process's own).
   */
  private classify(
    url: string,
    parsed: URL,
    depth: number,
    follow: boolean,
    tally: Required<Pick<VisitTally, 'byDepth' | 'outOfScope' | 'sampledAway'>>,
  ): { entry: FrontierEntry; why?: 'byRule' | 'outOfScope' } | undefined {
    if (!this.rules.origins.has(parsed.origin)) {
      if (this.rules.outOfScope === 'ignore') {
        if (!this.ignored.has(url)) {
          this.ignored.add(url);
          tally.outOfScope++;
        }
        return undefined;
      }
      return { entry: { url, depth, checkOnly: true }, why: 'outOfScope' };
    }
    if (!this.pathInScope(parsed.pathname)) return { entry: { url, depth, checkOnly: true }, why: 'byRule' };
    if (!follow) return { entry: { url, depth, checkOnly: true } };
    if (depth > this.rules.maxDepth) {
      if (!this.depthSkipped.has(url)) {
        this.depthSkipped.add(url);
        tally.byDepth++;
      }
      return undefined;
    }
    const t = this.rules.templates.findIndex((tpl) => tpl.match(parsed.pathname));
    if (t >= 0) {
      if (this.sampled.has(url)) return undefined;
      if (this.templateCounts[t]! >= this.rules.templates[t]!.keep) {
        this.sampled.add(url);
        tally.sampledAway++;
        return undefined;
      }
      this.templateCounts[t]!++;
    }
    return { entry: { url, depth, checkOnly: false } };
  }

  private readonly interned = new Map<string, string>();

  /** One shared copy of each content type (thousands of URLs say `text/html; charset=utf-8`). */
  private intern(s: string | undefined): string | undefined {
    if (s === undefined) return undefined;
    const known = this.interned.get(s);
    if (known !== undefined) return known;
    if (this.interned.size < 1000) this.interned.set(s, s);
    return s;
  }

  private inScopeOrigin(url: string): boolean {
    return this.rules.origins.has(new URL(url).origin);
  }

  private pathInScope(path: string): boolean {
    const r = this.rules;
    if (r.include.length && !r.include.some((m) => m(path))) return false;
    return !r.exclude.some((m) => m(path));
  }

  private inScope(url: string): boolean {
    const u = new URL(url);
    return this.rules.origins.has(u.origin) && this.pathInScope(u.pathname);
  }

  private progress(): CrawlProgress {
    const s = this.frontier.stats();
    const secs = (performance.now() - this.startedAt) / 1000;
    return { done: this.fetched, queued: s.queued, inFlight: s.inFlight, broken: this.brokenCount, pagesPerSecond: secs > 0 ? Math.round((this.fetched / secs) * 10) / 10 : 0 };
  }

  private maybeProgress(): void {
    if (!this.opts.onProgress) return;
    const now = performance.now();
    if (now - this.lastProgress < (this.opts.progressEveryMs ?? 250)) return;
    this.lastProgress = now;
    this.opts.onProgress(this.progress());
  }

  private report(): CrawlReport {
    return summarizeCrawl(this.records, this.fragmentRefs, {
      startUrls: this.start,
      ...(this.rules.seeds.length ? { seeds: { ...this.seeder!.stats } } : {}),
      stoppedBy: this.stoppedBy,
      durationMs: Math.round(performance.now() - this.startedAt),
      skipped: { ...this.skipped },
      sampledAway: this.sampledAway,
      retries: { ...this.fetcher.retries },
      requests: this.fetcher.requests,
      maxReportedUrls: this.rules.maxReportedUrls,
    });
  }
}

export function crawl(rules: CrawlRules, opts: CrawlOptions): Promise<CrawlReport> {
  return new Crawler(rules, opts).run();
}
