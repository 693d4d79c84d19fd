// The crawl's report from its records: the same counting whether the records
// are one crawler's own or were read back from the agents' shared store.
import type { StoredCrawl } from '../../contract/crawl-store.js';
import type { CrawlReferrer, CrawlReport } from '../../contract/report.js';
import { UrlRecord } from './records.js';

/** What the records do not tell. */
export type CrawlTotals = Pick<CrawlReport, 'startUrls' | 'seeds' | 'stoppedBy' | 'durationMs' | 'skipped' | 'sampledAway' | 'retries' | 'requests'> & {
  maxReportedUrls: number;
};

/** `records`: every URL by its normalised form, in report order; `fragmentRefs`: target URL → fragment → referrers. */
export function summarizeCrawl(records: ReadonlyMap<string, UrlRecord>, fragmentRefs: ReadonlyMap<string, ReadonlyMap<string, CrawlReferrer[]>>, t: CrawlTotals): CrawlReport {
  let crawled = 0;
  let checked = 0;
  const statusHistogram: Record<string, number> = {};
  const brokenByKind: CrawlReport['brokenByKind'] = {};
  const broken: UrlRecord[] = [];
  const urls: CrawlReport['urls'] = [];
  let truncated = false;
  for (const rec of records.values()) {
    if (rec.state === 'queued' || rec.state === 'robots') continue;
    if (rec.state === 'crawled') crawled++;
    else checked++;
    if (rec.status !== undefined) statusHistogram[rec.status] = (statusHistogram[rec.status] ?? 0) + 1;
    if (rec.broken) broken.push(rec);
    if (urls.length < t.maxReportedUrls) urls.push(rec.toResult());
    else truncated = true;
  }
  broken.push(...fragmentBroken(records, fragmentRefs));
  for (const b of broken) brokenByKind[b.broken!.kind] = (brokenByKind[b.broken!.kind] ?? 0) + 1;
  return {
    startUrls: t.startUrls,
    ...(t.seeds ? { seeds: t.seeds } : {}),
    stoppedBy: t.stoppedBy,
    durationMs: t.durationMs,
    crawled,
    checked,
    broken: broken.length,
    brokenByKind,
    skipped: t.skipped,
    sampledAway: t.sampledAway,
    statusHistogram,
    brokenUrls: broken.map((b) => b.toResult()),
    urls,
    urlsTruncated: truncated,
    ...(t.retries ? { retries: t.retries } : {}),
    ...(t.requests !== undefined ? { requests: t.requests } : {}),
  };
}

/**
 * The report of a crawl shared by agents, from its stored visits. URLs are listed by depth, then URL (one process
 * lists them in the order found, which several agents do not share).
 */
export function summarizeStored(stored: StoredCrawl, t: Omit<CrawlTotals, 'skipped' | 'sampledAway'>): CrawlReport {
  const sorted = [...stored.urls].sort((a, b) => a.settled.depth - b.settled.depth || (a.settled.url < b.settled.url ? -1 : a.settled.url > b.settled.url ? 1 : 0));
  const records = new Map(sorted.map((u) => [u.settled.url, UrlRecord.fromStored(u.settled, u.referrers, u.referrerCount)]));
  const fragmentRefs = new Map<string, Map<string, CrawlReferrer[]>>();
  for (const f of stored.fragments) {
    let byFrag = fragmentRefs.get(f.url);
    if (!byFrag) fragmentRefs.set(f.url, (byFrag = new Map()));
    byFrag.set(f.fragment, f.referrers);
  }
  const { sampledAway, sitemaps, fromSitemaps, ...skipped } = stored.tally;
  // The sitemaps' counts are their stored visits' (each stored once); the URL files are every agent's (t.seeds).
  const seeds = t.seeds ? { ...t.seeds, sitemaps, fromSitemaps } : undefined;
  return summarizeCrawl(records, fragmentRefs, { ...t, seeds, skipped, sampledAway });
}

/** `#fragment` links whose target page has no such id or name, one pseudo-URL each with its referrers. */
function fragmentBroken(records: ReadonlyMap<string, UrlRecord>, fragmentRefs: ReadonlyMap<string, ReadonlyMap<string, CrawlReferrer[]>>): UrlRecord[] {
  const out: UrlRecord[] = [];
  for (const [url, byFrag] of fragmentRefs) {
    const target = records.get(url);
    if (!target?.ids || target.broken) continue;
    for (const [frag, refs] of byFrag) {
      if (frag === 'top' || target.ids.has(frag)) continue;
      const rec = new UrlRecord(`${url}#${frag}`, target.depth, false);
      rec.state = 'crawled';
      rec.status = target.status;
      rec.contentType = target.contentType;
      rec.broken = { kind: 'fragment', message: `no element with id or name "${frag}" on ${url}` };
      for (const r of refs) rec.addReferrer(r);
      out.push(rec);
    }
  }
  return out;
}
