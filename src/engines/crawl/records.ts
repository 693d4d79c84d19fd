// What the crawl remembers per URL, kept compact: strings are shared (page
// URLs, element labels), and once a URL answered fine only its first few
// referrers are kept (plus a count) — broken URLs keep every referrer.
import type { SettledUrl } from '../../contract/crawl-store.js';
import type { CrawlBrokenKind, CrawlReferrer, CrawlUrlResult } from '../../contract/report.js';

export const OK_REFERRERS_KEPT = 3;
const EMPTY: CrawlReferrer[] = [];

export class UrlRecord {
  status?: number;
  /** Tenths of a millisecond, an integer so V8 stores it unboxed. */
  durationTenths?: number;
  contentType?: string;
  redirects?: Array<{ url: string; status: number }>;
  broken?: { kind: CrawlBrokenKind; message: string };
  referrers: CrawlReferrer[] = EMPTY;
  referrerCount = 0;
  /** crawled/checked once fetched; skipped by robots; unfetched while queued or after a stop. */
  state: 'queued' | 'crawled' | 'checked' | 'robots' = 'queued';
  /** ids and names of the page, for fragment checks (only when `fragments: true`). */
  ids?: Set<string>;

  constructor(
    readonly url: string,
    readonly depth: number,
    readonly checkOnly: boolean,
  ) {}

  addReferrer(r: CrawlReferrer): void {
    this.referrerCount++;
    const keepAll = this.state === 'queued' || this.broken;
    if (!keepAll && this.referrers.length >= OK_REFERRERS_KEPT) return;
    // Exact-size copies for short lists: push() on a small array reserves ~17 slots.
    if (this.referrers.length < 4) this.referrers = [...this.referrers, r];
    else this.referrers.push(r);
  }

  /** Called once the fetch settled: a fine URL drops all but its first referrers. */
  settle(): void {
    if (!this.broken && this.referrers.length > OK_REFERRERS_KEPT) this.referrers = this.referrers.slice(0, OK_REFERRERS_KEPT);
  }

  /** What the agents' store keeps of a settled URL. */
  toSettled(): SettledUrl {
    const s: SettledUrl = { url: this.url, depth: this.depth, checkOnly: this.checkOnly, state: this.state === 'queued' ? 'checked' : this.state };
    if (this.status !== undefined) s.status = this.status;
    if (this.durationTenths !== undefined) s.durationTenths = this.durationTenths;
    if (this.contentType !== undefined) s.contentType = this.contentType;
    if (this.redirects) s.redirects = this.redirects;
    if (this.broken) s.broken = this.broken;
    if (this.ids) s.ids = [...this.ids];
    return s;
  }

  /** A record read back from the agents' store, its referrers as stored (already cut to the kept few when fine). */
  static fromStored(s: SettledUrl, referrers: CrawlReferrer[], referrerCount: number): UrlRecord {
    const rec = new UrlRecord(s.url, s.depth, s.checkOnly);
    rec.state = s.state;
    rec.status = s.status;
    rec.durationTenths = s.durationTenths;
    rec.contentType = s.contentType;
    rec.redirects = s.redirects;
    rec.broken = s.broken;
    if (s.ids) rec.ids = new Set(s.ids);
    rec.referrers = referrers;
    rec.referrerCount = referrerCount;
    return rec;
  }

  toResult(): CrawlUrlResult {
    const r: CrawlUrlResult = {
      url: this.url,
      mode: this.state === 'crawled' ? 'crawled' : 'checked',
      depth: this.depth,
      redirects: this.redirects ?? [],
      referrers: [...this.referrers],
      referrerCount: this.referrerCount,
    };
    if (this.status !== undefined) r.status = this.status;
    if (this.durationTenths !== undefined) r.durationMs = this.durationTenths / 10;
    if (this.contentType !== undefined) r.contentType = this.contentType;
    if (this.broken) r.broken = this.broken;
    return r;
  }
}
