// The crawl's visits, stored in Redis as the agents make them (see
// contract/crawl-store.ts). One Lua script per batch of visits, so a visit is
// stored whole or not at all, and a visit of a URL already stored (taken again
// after its agent died mid-visit, or after a resume) changes nothing:
//   crawl:urls        HASH  url → "k" (fine) or "b" (broken) + its SettledUrl as a JSON array (encodeSettled)
//   crawl:referrers   HASH  url → "COUNT:" (links pointing to it) then its first OK_REFERRERS_KEPT referrers, each
//                           "LEN:" + encodeRef (LEN in bytes): what every URL keeps, fine or broken
//   crawl:refs        HASH  "url\nN" → the referrer of the Nth link to url, for N past the kept few, while url is
//                           unsettled or broken (a URL that settles fine loses them)
//   crawl:frags       SET   "url#fragment" of every #fragment link (fragments: true)
//   crawl:frefs:U#F   LIST  referrers of that fragment link (encodeRef)
//   crawl:tally       HASH  skipped and sampled counts, sitemaps read and URLs they listed, summed over visits
// A URL's count and first referrers share one field: a field per referrer, beside one for the count, cost about
// 230 of the 870 bytes Redis held per visited URL of the generated site, where most URLs have one to three links.
// The referrers live in hashes, not a list per URL: a key per URL cost each
// batch a PEXPIRE per list it wrote (about 3 per visited URL) and the keyspace
// a key, an expiry and a list per URL. The visits of one agent made while a
// script call is in flight share the next call; each key a call writes gets
// its TTL refreshed once by that call.
import type { CrawlSink, SettledUrl, StoredCrawl, Visit, VisitTally } from '../../contract/crawl-store.js';
import type { CrawlReferrer } from '../../contract/report.js';
import { Batcher } from './batcher.js';
import type { RedisConnection } from './connect.js';
import { DEFAULT_TTL_MS, LUA_CHUNKED, LuaScript, runKey } from './keys.js';

/** Lua shared by STORE and READ_REFS: a referrers field "COUNT:…" gives its count and the colon that ends it. */
const LUA_COUNT_OF = `
local function count_of(field)
  local colon = string.find(field, ':', 1, true)
  return tonumber(string.sub(field, 1, colon - 1)), colon
end
`;

/**
 * KEYS: urls, referrers, frags, tally, refs. ARGV: ttl, fragment refs prefix, referrers kept for a fine URL, the number
 * of targets the batch only counts links to and those as pairs (URL, links), then per visit (flat, see encodeVisits):
 * url, counts of settled URLs, referrers and fragment links, its share of the counted links, the count of tally
 * fields, then those as pairs. Flat arguments need no JSON decoding in the script; a visit stored before (taken again
 * after its agent died) gives its share of the counted links back. The visits are stored first; then the links of the
 * batch's new visits are counted target by target: the target's referrers field gives the links counted before, and one
 * rewrite of it adds this batch's links to the count and the first of them to the kept few (plain finds and
 * concatenation: a pattern match and a table.concat per target cost the script about a tenth more). A page's navigation
 * links point to the same few URLs as every other page's, so a batch counts each of those once, not once per page.
 * Links past the kept few are kept (one HSET for the batch) only while the target is not settled fine. The fields those
 * steps read are read with one HMGET per hash and batch (a redis.call per field cost the script about 5% more in the
 * replay of a recorded crawl). The referrers fields of a batch go in one HSET and its tallies in one HINCRBY per field;
 * then the URLs it settled fine lose the referrers past `kept` that came while they were unsettled (after the HSET, so
 * those of this batch go too). Each key written gets one PEXPIRE per batch: its TTL still runs from the batch that last
 * wrote it.
 * Returns the targets found settled fine with links past the kept few: the agent gives later links to them as counts
 * (countsOnly), which add to the count and nothing else, as their referrers would.
 */
const STORE = new LuaScript(`${LUA_CHUNKED}${LUA_COUNT_OF}
local ttl, kept = ARGV[1], tonumber(ARGV[3])
local tally, touched, fine = {}, {}, {}
local targets, links, extra = {}, {}, {}
local i = 5 + 2 * tonumber(ARGV[4])
-- The counted targets come first in targets: a visit's share names them by that index.
for j = 5, i - 1, 2 do
  local target = ARGV[j]
  links[target] = {}
  targets[#targets + 1] = target
  extra[target] = tonumber(ARGV[j + 1])
end
while i <= #ARGV do
  local url, share = ARGV[i], ARGV[i + 4]
  local s = i + 6
  local r = s + 2 * tonumber(ARGV[i + 1])
  local f = r + 2 * tonumber(ARGV[i + 2])
  local t = f + 2 * tonumber(ARGV[i + 3])
  i = t + 2 * tonumber(ARGV[i + 5])
  -- The crawler settles a visit's own URL first: then one HSETNX both claims the visit and stores that URL.
  local fresh
  if s < r and ARGV[s] == url then fresh = redis.call('HSETNX', KEYS[1], url, ARGV[s + 1]) == 1
  else fresh = redis.call('HEXISTS', KEYS[1], url) == 0 end
  if not fresh and share ~= '' then
    for k, n in string.gmatch(share, '(%d+):(%d+)') do
      local target = targets[tonumber(k) + 1]
      extra[target] = extra[target] - tonumber(n)
    end
  end
  if fresh then
    for j = s, r - 1, 2 do
      -- A URL settled again (a redirect target shared by many pages) already lost its extra referrers: cut once.
      local was
      if j > s or ARGV[j] ~= url then
        was = redis.call('HGET', KEYS[1], ARGV[j])
        redis.call('HSET', KEYS[1], ARGV[j], ARGV[j + 1])
      end
      if string.sub(ARGV[j + 1], 1, 1) == 'k' and not (was and string.sub(was, 1, 1) == 'k') then fine[#fine + 1] = ARGV[j] end
    end
    for j = r, f - 1, 2 do
      local list = links[ARGV[j]]
      if not list then
        list = {}
        links[ARGV[j]] = list
        targets[#targets + 1] = ARGV[j]
      end
      list[#list + 1] = ARGV[j + 1]
    end
    for j = f, t - 1, 2 do
      local key = ARGV[2] .. ARGV[j]
      redis.call('SADD', KEYS[3], ARGV[j])
      redis.call('RPUSH', key, ARGV[j + 1])
      touched[key] = true
    end
    for j = t, i - 1, 2 do tally[ARGV[j]] = (tally[ARGV[j]] or 0) + tonumber(ARGV[j + 1]) end
  end
end
local counted, past, over, overAt, saturated = {}, {}, {}, {}, {}
local knowns = chunked_replies('HMGET', KEYS[2], targets)
for k, target in ipairs(targets) do
  local list = links[target]
  local added = #list + (extra[target] or 0)
  local value
  local before = 0
  local known = knowns[k]
  if known then
    local colon
    before, colon = count_of(known)
    value = (before + added) .. string.sub(known, colon)
  else
    value = added .. ':'
  end
  local m = 1
  while m <= #list and before + m <= kept do
    value = value .. #list[m] .. ':' .. list[m]
    m = m + 1
  end
  counted[#counted + 1] = target
  counted[#counted + 1] = value
  if m <= #list then
    over[#over + 1] = target
    overAt[target] = { before, m }
  end
end
if #over > 0 then
  local settled = chunked_replies('HMGET', KEYS[1], over)
  for k, target in ipairs(over) do
    if settled[k] and string.sub(settled[k], 1, 1) == 'k' then saturated[#saturated + 1] = target
    else
      local list, before, m = links[target], overAt[target][1], overAt[target][2]
      for n = m, #list do
        past[#past + 1] = target .. '\\n' .. (before + n)
        past[#past + 1] = list[n]
      end
    end
  end
end
if #counted > 0 then chunked('HSET', KEYS[2], counted) end
if #past > 0 then chunked('HSET', KEYS[5], past) end
local fineKnown = chunked_replies('HMGET', KEYS[2], fine)
for k, url in ipairs(fine) do
  local known = fineKnown[k]
  local n = known and count_of(known) or 0
  if n > kept then
    local cut = {}
    for m = kept + 1, n do cut[#cut + 1] = url .. '\\n' .. m end
    chunked('HDEL', KEYS[5], cut)
  end
end
for field, n in pairs(tally) do redis.call('HINCRBY', KEYS[4], field, n) end
for key in pairs(touched) do redis.call('PEXPIRE', key, ttl) end
for k = 1, 5 do redis.call('PEXPIRE', KEYS[k], ttl) end
return saturated`);

/**
 * The visits as STORE's flat arguments. Counted links are summed over the batch, one pair per target up front: a
 * site's menu gives every page the same targets. Each visit names its share ("index:links,…"), which the script reads
 * only to take it back from a visit stored before. Tally fields that are 0 are left out (they would add nothing). The
 * tally's count goes in once its fields are: one pass over them, no entries array per visit.
 */
function encodeVisits(visits: Visit[]): string[] {
  const counted = new Map<string, number>();
  const totals: Array<[string, number]> = [];
  const shares: string[] = [];
  for (const v of visits) {
    let share = '';
    if (v.counted) {
      for (const [url, links] of v.counted) {
        let k = counted.get(url);
        if (k === undefined) counted.set(url, (k = totals.push([url, 0]) - 1));
        totals[k]![1] += links;
        share += `${share ? ',' : ''}${k}:${links}`;
      }
    }
    shares.push(share);
  }
  const out = [String(totals.length)];
  for (const [url, links] of totals) out.push(url, String(links));
  for (let i = 0; i < visits.length; i++) {
    const v = visits[i]!;
    out.push(v.url, String(v.settled.length), String(v.referrers.length), String(v.fragments.length), shares[i]!, '');
    const tallyAt = out.length - 1;
    for (const s of v.settled) out.push(s.url, encodeSettled(s));
    for (const [url, ref] of v.referrers) out.push(url, encodeRef(ref));
    for (const [url, fragment, ref] of v.fragments) out.push(`${url}#${fragment}`, encodeRef(ref));
    let fields = 0;
    for (const field in v.tally) {
      const n = v.tally[field as keyof VisitTally];
      if (n) {
        out.push(field, String(n));
        fields++;
      }
    }
    out[tallyAt] = String(fields);
  }
  return out;
}

/**
 * KEYS: referrers, refs; ARGV: per URL "k" (settled fine) or "b" (broken) then the URL. Per URL its referrer count
 * (0 when none) and its referrers, in link order: the kept few of its referrers field, then, for a broken URL, every
 * later one from refs. One command for a chunk of URLs, where a few commands per URL would cost the reader a promise
 * each. The field is cut in the script, which counts its lengths in bytes as they were written.
 */
const READ_REFS = new LuaScript(`${LUA_CHUNKED}${LUA_COUNT_OF}
local kept = tonumber(ARGV[1])
local out = {}
for i = 2, #ARGV do
  local url = string.sub(ARGV[i], 2)
  local known = redis.call('HGET', KEYS[1], url)
  local count, refs = 0, {}
  if known then
    local colon
    count, colon = count_of(known)
    local at = colon + 1
    while at <= #known do
      local sep = string.find(known, ':', at, true)
      local stop = sep + tonumber(string.sub(known, at, sep - 1))
      refs[#refs + 1] = string.sub(known, sep + 1, stop)
      at = stop + 1
    end
    if string.sub(ARGV[i], 1, 1) == 'b' and count > kept then
      local fields = {}
      for m = kept + 1, count do fields[#fields + 1] = url .. '\\n' .. m end
      for _, ref in ipairs(chunked_replies('HMGET', KEYS[2], fields)) do
        if ref then refs[#refs + 1] = ref end
      end
    end
  end
  out[#out + 1] = count
  out[#out + 1] = refs
end
return out`);

/** URLs read back per READ_REFS call: a few ms of Redis time each, so other clients are not held up for long. */
const READ_CHUNK = 500;

/**
 * URLs an agent remembers as only counted. The ones that matter are the targets of a site's menus and footers: a few
 * dozen, linked from every page. Past this many the set starts again, so memory stays flat on any site.
 */
const SATURATED_KEPT = 10_000;

/** Must equal OK_REFERRERS_KEPT of the crawler's records (engines/crawl/records.ts): a test checks both reports. */
export const STORED_REFERRERS_KEPT = 3;

const TALLY_FIELDS = ['byScheme', 'byRule', 'byDepth', 'outOfScope', 'byRobots', 'sampledAway', 'sitemaps', 'fromSitemaps'] as const;

interface Keys {
  urls: string;
  referrers: string;
  frags: string;
  tally: string;
  refs: string;
  frefs: string;
}

function keysOf(runId: string): Keys {
  return {
    urls: runKey(runId, 'crawl:urls'),
    referrers: runKey(runId, 'crawl:referrers'),
    frags: runKey(runId, 'crawl:frags'),
    tally: runKey(runId, 'crawl:tally'),
    refs: runKey(runId, 'crawl:refs'),
    frefs: runKey(runId, 'crawl:frefs:'),
  };
}

export class RedisCrawlStore implements CrawlSink {
  private readonly keys: Keys;
  private readonly batcher = new Batcher<Visit, undefined>((visits) => this.send(visits));
  /** URLs STORE said it only counts links to (fine, referrers kept in full): at most SATURATED_KEPT, then forgotten and learnt again. */
  private saturated = new Set<string>();

  constructor(
    private readonly client: RedisConnection,
    runId: string,
    private readonly ttlMs = DEFAULT_TTL_MS,
  ) {
    this.keys = keysOf(runId);
  }

  visit(v: Visit): Promise<void> {
    return this.batcher.push(v);
  }

  countsOnly(url: string): boolean {
    return this.saturated.has(url);
  }

  private async send(visits: Visit[]): Promise<undefined[]> {
    const k = this.keys;
    const saturated = (await STORE.run(
      this.client,
      [k.urls, k.referrers, k.frags, k.tally, k.refs],
      [this.ttlMs, k.frefs, STORED_REFERRERS_KEPT, ...encodeVisits(visits)],
    )) as string[];
    for (const url of saturated) {
      if (this.saturated.size >= SATURATED_KEPT) this.saturated = new Set();
      this.saturated.add(url);
    }
    return [];
  }

  /** Everything stored for the run, read in chunks (one script call per chunk of URLs, the calls pipelined). */
  static async read(client: RedisConnection, runId: string): Promise<StoredCrawl> {
    const k = keysOf(runId);
    const settled = new Map<string, SettledUrl>();
    for await (const entries of client.hScanIterator(k.urls, { COUNT: 1_000 })) {
      for (const { field, value } of entries) settled.set(field, decodeSettled(field, value));
    }
    const urls: StoredCrawl['urls'] = [];
    const all = [...settled.values()];
    const chunks: SettledUrl[][] = [];
    for (let i = 0; i < all.length; i += READ_CHUNK) chunks.push(all.slice(i, i + READ_CHUNK));
    const replies = await Promise.all(
      chunks.map(
        (chunk) =>
          READ_REFS.run(client, [k.referrers, k.refs], [STORED_REFERRERS_KEPT, ...chunk.map((s) => `${s.broken ? 'b' : 'k'}${s.url}`)]) as Promise<Array<number | string[]>>,
      ),
    );
    for (const [c, chunk] of chunks.entries()) {
      const reply = replies[c]!;
      for (const [j, s] of chunk.entries()) urls.push({ settled: s, referrers: (reply[2 * j + 1] as string[]).map(decodeRef), referrerCount: reply[2 * j] as number });
    }
    const fragments: StoredCrawl['fragments'] = [];
    const fragKeys = new Set<string>();
    for await (const members of client.sScanIterator(k.frags, { COUNT: 1_000 })) for (const m of members) fragKeys.add(m);
    const sortedFrags = [...fragKeys].sort();
    const fragLists = await Promise.all(sortedFrags.map((f) => client.lRange(k.frefs + f, 0, -1)));
    for (const [i, f] of sortedFrags.entries()) {
      const at = f.indexOf('#');
      fragments.push({ url: f.slice(0, at), fragment: f.slice(at + 1), referrers: fragLists[i]!.map(decodeRef) });
    }
    const raw = await client.hGetAll(k.tally);
    const tally = Object.fromEntries(TALLY_FIELDS.map((f) => [f, Number(raw[f] ?? 0)])) as Required<VisitTally>;
    return { urls, fragments, tally };
  }
}

/**
 * A settled URL as stored under its URL: "k" (fine) or "b" (broken), then its fields as a JSON array in a fixed order
 * (absent ones null, trailing ones left out). The URL is the hash field already; the URL and field names in each
 * value cost Redis 127 of the 631 bytes it held per visited URL of the generated site (504 without them).
 */
function encodeSettled(s: SettledUrl): string {
  const fields: unknown[] = [s.depth, s.checkOnly ? 1 : 0, s.state, s.status, s.durationTenths, s.contentType, s.redirects, s.broken, s.ids];
  while (fields[fields.length - 1] === undefined) fields.pop();
  return (s.broken ? 'b' : 'k') + JSON.stringify(fields);
}

function decodeSettled(url: string, value: string): SettledUrl {
  const [depth, checkOnly, state, status, durationTenths, contentType, redirects, broken, ids] = JSON.parse(value.slice(1)) as unknown[];
  const s: SettledUrl = { url, depth: depth as number, checkOnly: checkOnly === 1, state: state as SettledUrl['state'] };
  if (status != null) s.status = status as number;
  if (durationTenths != null) s.durationTenths = durationTenths as number;
  if (contentType != null) s.contentType = contentType as string;
  if (redirects != null) s.redirects = redirects as SettledUrl['redirects'];
  if (broken != null) s.broken = broken as SettledUrl['broken'];
  if (ids != null) s.ids = ids as string[];
  return s;
}

/**
 * A referrer as stored: its page, element and text (when it has one) on lines of their own, which none of them holds
 * (a parsed URL, a selector like `a[href]`, link text with its whitespace squashed). A link makes one, and a stored
 * page has thousands: JSON would cost the agent a stringify, and the reader a parse, for each.
 */
function encodeRef(r: CrawlReferrer): string {
  return r.text === undefined ? `${r.page}\n${r.element}` : `${r.page}\n${r.element}\n${r.text}`;
}

function decodeRef(s: string): CrawlReferrer {
  const a = s.indexOf('\n');
  const b = s.indexOf('\n', a + 1);
  return b < 0 ? { page: s.slice(0, a), element: s.slice(a + 1) } : { page: s.slice(0, a), element: s.slice(a + 1, b), text: s.slice(b + 1) };
}
