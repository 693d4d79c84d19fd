// The crawl frontier shared by several agents through Redis. Every operation is
// one Lua script, so "every URL fetched once" and the end of the crawl are
// decided atomically on the server:
//   seen    SET   of normalised URLs ever queued or marked seen
//   queue   LIST  of entries to fetch ("depth|flag|url", flag 0 or 1 = checkOnly,
//                 s = a sitemap to read, r = a robots.txt read for its sitemaps), FIFO
//   leases  ZSET  of entries in flight, member "agent|entry", score = lease expiry (server clock, ms)
//   done    counter of entries completed
// A taken entry is leased to its agent, which renews its leases while it lives;
// leases that expire (a killed agent) go back to the head of the queue for
// others. Parked takers are woken by pub/sub ("work" when entries went into an
// empty queue or back to it, "done" when nothing is queued or in flight) or, when only a lease can still
// free work, by a timer set for that lease's expiry; never by polling.
// Round trips are batched: addAll/markSeen calls made while an ADD is in flight
// share the next ADD, and the take()s and complete()s of one agent made while a script call is in flight
// share the next call (TAKE completes first, then leases): the takers waiting
// when a call starts get one entry each, plus, with a prefetch, the entries
// that top up the agent's local stock (leased, so in flight, until handed out
// or given back by stop()). A completion goes to the server only once complete() is
// called, which the crawler does after the entry's links were added (addAll
// resolved: they are in the queue) and its visit stored, so no agent can see
// "nothing queued, nothing in flight" while a page's links are still to come.
import { randomUUID } from 'node:crypto';
import type { Frontier, FrontierEntry, FrontierStats } from '../../contract/frontier.js';
import { Batcher } from './batcher.js';
import type { RedisConnection } from './connect.js';
import { DEFAULT_TTL_MS, LUA_CHUNKED, LuaScript, runKey } from './keys.js';

export interface RedisFrontierOptions {
  /** An open connection (see connectRedis); the frontier duplicates it for its subscription and never closes it. */
  client: RedisConnection;
  runId: string;
  /** This agent's name in its leases. Default: a random UUID. */
  agentId?: string;
  /** A taken entry goes back to the queue when its agent has not renewed the lease for this long. Default 30 s. */
  leaseMs?: number;
  /**
   * Entries leased ahead of take()s and kept locally, so a take() is answered without waiting for Redis: a crawl
   * passes its concurrency. Held entries are in flight (the crawl cannot end while an agent holds some), renewed with
   * the others, and given back to the queue by stop(). Default 0: an entry is leased only for a take() waiting for it.
   */
  prefetch?: number;
  /** Keys expire this long after the last operation or refresh. Default 24 h. */
  ttlMs?: number;
}

const DEFAULT_LEASE_MS = 30_000;

// Shared by every script: KEYS = seen, queue, leases, done; ARGV[1] = ttl ms.
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function stats()
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
  return { redis.call('LLEN', KEYS[2]), redis.call('ZCARD', KEYS[3]), tonumber(redis.call('GET', KEYS[4]) or '0'), redis.call('SCARD', KEYS[1]) }
end
local function over()
  return redis.call('LLEN', KEYS[2]) == 0 and redis.call('ZCARD', KEYS[3]) == 0
end
${LUA_CHUNKED}`;

/**
 * ARGV: ttl, channel, then url/prefix pairs: the entry queued is prefix .. url, so the URL is sent once (prefix '':
 * mark seen only). Returns the stats, then 1/0 per URL (new or not; a URL given twice is new once). One SMISMEMBER,
 * one SADD and one RPUSH for the whole call, not one SADD and RPUSH per URL: each redis.call from a script costs about
 * as much as the command itself. "work" is published only when a push finds the queue empty: a taker parks only after
 * seeing it empty, so the first entry queued after that (by this script or by one that re-queues, which always
 * publishes) wakes it.
 */
const ADD = new LuaScript(`${PRELUDE}
local urls = {}
for i = 3, #ARGV, 2 do urls[#urls + 1] = ARGV[i] end
local flags, fresh, entries, given = {}, {}, {}, {}
local known = chunked_replies('SMISMEMBER', KEYS[1], urls)
for k = 1, #urls do
  local url = urls[k]
  local new = (known[k] == 0 and not given[url]) and 1 or 0
  flags[k] = new
  if new == 1 then
    given[url] = true
    fresh[#fresh + 1] = url
    local prefix = ARGV[2 * k + 2]
    if prefix ~= '' then entries[#entries + 1] = prefix .. url end
  end
end
if #fresh > 0 then chunked('SADD', KEYS[1], fresh) end
if #entries > 0 then
  local empty = redis.call('LLEN', KEYS[2]) == 0
  chunked('RPUSH', KEYS[2], entries)
  if empty then redis.call('PUBLISH', ARGV[2], 'work') end
end
local out = stats()
for i = 1, #flags do out[#out + 1] = flags[i] end
return out`);

/**
 * ARGV: ttl, channel, agent, leaseMs, need, ahead, stocked, then entries this agent completed. Completes those first
 * (releases its leases, counts only entries still leased to it, publishes "done" when that left nothing queued or in
 * flight), re-queues expired leases, then leases up to `need` entries for waiting takers, and up to `ahead` more for
 * the agent's stock (which holds `stocked`) as long as the stock stays no larger than what the queue keeps for the
 * others: entries a few agents could share go to whichever asks for them, not idle into one agent's stock.
 * Returns the stats, the ms until the earliest remaining lease expires (-1: none), then the entries.
 */
const TAKE = new LuaScript(`${PRELUDE}
local members = {}
for i = 8, #ARGV do members[#members + 1] = ARGV[3] .. '|' .. ARGV[i] end
local completed = chunked('ZREM', KEYS[3], members)
if completed > 0 then
  redis.call('INCRBY', KEYS[4], completed)
  if over() then redis.call('PUBLISH', ARGV[2], 'done') end
end
local now = now_ms()
local expired = redis.call('ZRANGE', KEYS[3], '-inf', now, 'BYSCORE')
for i = #expired, 1, -1 do
  local member = expired[i]
  redis.call('LPUSH', KEYS[2], string.sub(member, string.find(member, '|', 1, true) + 1))
end
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  redis.call('PUBLISH', ARGV[2], 'work')
end
local need = tonumber(ARGV[5])
local count = need + math.max(0, math.min(tonumber(ARGV[6]), math.floor((redis.call('LLEN', KEYS[2]) - need - tonumber(ARGV[7])) / 2)))
local taken = {}
if count > 0 then taken = redis.call('LPOP', KEYS[2], count) or {} end
local leases, expiry = {}, now + tonumber(ARGV[4])
for i = 1, #taken do
  leases[#leases + 1] = expiry
  leases[#leases + 1] = ARGV[3] .. '|' .. taken[i]
end
chunked('ZADD', KEYS[3], leases)
local out = stats()
local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
out[#out + 1] = first[2] and (tonumber(first[2]) - now) or -1
for i = 1, #taken do out[#out + 1] = taken[i] end
return out`);

/** ARGV: ttl, channel, agent, leaseMs, then entries. Extends this agent's live leases (never revives an expired one) and the keys' expiry. */
const RENEW = new LuaScript(`${PRELUDE}
local until_ms = now_ms() + tonumber(ARGV[4])
for i = 5, #ARGV do redis.call('ZADD', KEYS[3], 'XX', 'GT', until_ms, ARGV[3] .. '|' .. ARGV[i]) end
return stats()`);

/** ARGV: ttl, channel, agent, then entries. Gives entries leased to this agent back to the head of the queue. */
const RELEASE = new LuaScript(`${PRELUDE}
for i = #ARGV, 4, -1 do
  if redis.call('ZREM', KEYS[3], ARGV[3] .. '|' .. ARGV[i]) == 1 then redis.call('LPUSH', KEYS[2], ARGV[i]) end
end
redis.call('PUBLISH', ARGV[2], 'work')
return stats()`);

/** ARGV: ttl, channel. Every lease back to the queue head: for a resumed run whose agents are all gone. */
const RECLAIM = new LuaScript(`${PRELUDE}
local members = redis.call('ZRANGE', KEYS[3], 0, -1)
for i = #members, 1, -1 do
  local member = members[i]
  redis.call('LPUSH', KEYS[2], string.sub(member, string.find(member, '|', 1, true) + 1))
end
redis.call('DEL', KEYS[3])
if #members > 0 then redis.call('PUBLISH', ARGV[2], 'work') end
return stats()`);

const SEED_FLAG = { sitemap: 's', robots: 'r' } as const;
/** An entry's "depth|flag|" (never empty): the entry is that followed by its URL. */
const prefixOf = (e: FrontierEntry) => `${e.depth}|${e.seed ? SEED_FLAG[e.seed] : e.checkOnly ? 1 : 0}|`;
const encode = (e: FrontierEntry) => prefixOf(e) + e.url;
function decode(s: string): FrontierEntry {
  const a = s.indexOf('|');
  const b = s.indexOf('|', a + 1);
  const flag = s.slice(a + 1, b);
  const entry: FrontierEntry = { depth: Number(s.slice(0, a)), checkOnly: flag !== '0', url: s.slice(b + 1) };
  if (flag === 's') entry.seed = 'sitemap';
  else if (flag === 'r') entry.seed = 'robots';
  return entry;
}

export class RedisFrontier implements Frontier {
  private readonly keys: string[];
  private readonly channel: string;
  private readonly agent: string;
  private readonly leaseMs: number;
  private readonly ttlMs: number;
  private last: FrontierStats = { queued: 0, inFlight: 0, done: 0, seen: 0 };
  /** Entries this agent holds (encoded): their leases are renewed while it lives. */
  private readonly held = new Set<string>();
  private readonly prefetch: number;
  /** Entries leased ahead (encoded), oldest first: the next take()s get them at once. */
  private ready: string[] = [];
  /** Local take() callers waiting for an answer, oldest first. */
  private wanting: Array<{ resolve(e: FrontierEntry | undefined): void; reject(e: unknown): void }> = [];
  private taking = false;
  /** Bumped by every notification: a TAKE that saw the queue empty retries at once if one came meanwhile. */
  private wakeups = 0;
  private parked = false;
  private leaseTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private closed = false;
  private failure: Error | undefined;
  private readonly adds = new Batcher<string[], boolean[]>((calls) => this.sendAdds(calls));
  /** Entries completed locally (encoded), sent with the next TAKE. */
  private completing: Array<{ raw: string; resolve(): void; reject(e: unknown): void }> = [];

  private constructor(
    private readonly client: RedisConnection,
    private readonly subscriber: RedisConnection,
    o: RedisFrontierOptions,
  ) {
    this.keys = ['seen', 'queue', 'leases', 'done'].map((k) => runKey(o.runId, `frontier:${k}`));
    this.channel = runKey(o.runId, 'frontier:wake');
    this.agent = o.agentId ?? randomUUID();
    if (this.agent.includes('|')) throw new Error(`invalid agent id ${JSON.stringify(this.agent)}: it must not contain "|"`);
    this.leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    this.prefetch = o.prefetch ?? 0;
    this.ttlMs = o.ttlMs ?? DEFAULT_TTL_MS;
  }

  /** Joins the run's frontier (a new one, or the stored one of an earlier run: resume). */
  static async open(options: RedisFrontierOptions): Promise<RedisFrontier> {
    const subscriber = options.client.duplicate();
    await subscriber.connect();
    const f = new RedisFrontier(options.client, subscriber, options);
    // Messages sent while the subscription was down are lost: a reconnect counts as a wake-up.
    subscriber.on('ready', () => f.wake());
    // Each failed attempt reports here; once the client gave up (closed), parked takers would wait forever.
    subscriber.on('error', (e: Error) => setImmediate(() => !subscriber.isOpen && !f.closed && f.fail(e)));
    try {
      await subscriber.subscribe(f.channel, () => f.wake());
      await f.script(RENEW, [f.agent, f.leaseMs]);
    } catch (e) {
      subscriber.destroy();
      throw e;
    }
    f.renewTimer = setInterval(() => void f.script(RENEW, [f.agent, f.leaseMs, ...f.held]).catch(() => {}), Math.max(100, Math.min(f.leaseMs, f.ttlMs) / 3));
    f.renewTimer.unref();
    return f;
  }

  /** Runs a script; its reply starts with the stats it saw (kept for stats()), the rest is returned with them. */
  private async script(script: LuaScript, args: Array<string | number>): Promise<[FrontierStats, unknown[]]> {
    const reply = (await script.run(this.client, this.keys, [this.ttlMs, this.channel, ...args])) as unknown[];
    const [queued, inFlight, done, seen] = reply as number[];
    const stats = { queued: queued!, inFlight: inFlight!, done: done!, seen: seen! };
    this.last = stats;
    return [stats, reply.slice(4)];
  }

  // The pairs are built, joined and split with plain loops: flatMap, flat and a slice per call cost an agent about
  // 2 µs per URL of the crawl bench, where its main thread is the bottleneck.
  async addAll(entries: FrontierEntry[]): Promise<boolean[]> {
    if (this.stopped || entries.length === 0) return entries.map(() => false);
    const pairs: string[] = [];
    for (const e of entries) pairs.push(e.url, prefixOf(e));
    return this.adds.push(pairs);
  }

  async markSeen(urls: string[]): Promise<boolean[]> {
    if (urls.length === 0) return [];
    const pairs: string[] = [];
    for (const u of urls) pairs.push(u, '');
    return this.adds.push(pairs);
  }

  /** One ADD for the addAll/markSeen calls made while one is in flight: each gets its own URLs' flags back. */
  private async sendAdds(calls: string[][]): Promise<boolean[][]> {
    const args: string[] = [];
    for (const pairs of calls) for (const a of pairs) args.push(a);
    const [, flags] = await this.script(ADD, args);
    let at = 0;
    return calls.map((pairs) => {
      const mine: boolean[] = [];
      for (let end = at + pairs.length / 2; at < end; at++) mine.push(flags[at] === 1);
      return mine;
    });
  }

  take(): Promise<FrontierEntry | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopped) return Promise.resolve(undefined);
    const raw = this.ready.shift();
    if (raw !== undefined) {
      this.pump();
      return Promise.resolve(decode(raw));
    }
    return new Promise((resolve, reject) => {
      this.wanting.push({ resolve, reject });
      this.pump();
    });
  }

  /**
   * One TAKE for the completions and the takers waiting now. Takers parked (queue empty, work in flight elsewhere)
   * ask again only when completions are to be sent anyway or a message or lease timer wakes them. Completions are
   * sent even after stop() (the entries were finished) and after the subscription failed (the script then fails them).
   * With a prefetch, the local stock is topped up once it is half gone, only from a queue deep enough to share.
   */
  private pump(): void {
    if (this.taking) return;
    const open = !this.parked && !this.stopped && !this.failure;
    // As the script would grant it from the queue last seen (the stock no larger than what the queue keeps), so a call
    // that asks ahead gets some: a shallow queue stops the restocking instead of looping on empty answers.
    const spare = Math.floor((this.last.queued - this.wanting.length - this.ready.length) / 2);
    const restock = open && this.ready.length <= this.prefetch / 2 ? Math.max(0, Math.min(this.prefetch - this.ready.length, spare)) : 0;
    const asking = open && (this.wanting.length > 0 || restock > 0);
    if (!asking && this.completing.length === 0) return;
    this.taking = true;
    const wakeupsBefore = this.wakeups;
    const completed = this.completing.splice(0);
    const [need, ahead] = this.stopped || this.failure ? [0, 0] : [this.wanting.length, restock];
    const count = need + ahead;
    if (count > 0) {
      this.parked = false;
      clearTimeout(this.leaseTimer);
    }
    this.script(TAKE, [this.agent, this.leaseMs, need, ahead, this.ready.length, ...completed.map((c) => c.raw)]).then(
      ([stats, [nextExpiry, ...taken]]) => {
        this.taking = false;
        for (const c of completed) {
          this.held.delete(c.raw);
          c.resolve();
        }
        if (this.stopped || this.failure) {
          // Leased for takers that are gone (stop() answered them): back to the others at once, not after the lease.
          if (taken.length > 0) void this.script(RELEASE, [this.agent, ...(taken as string[])]).catch(() => {});
          this.pump();
          return;
        }
        for (const raw of taken as string[]) {
          this.held.add(raw);
          const w = this.wanting.shift();
          if (w) w.resolve(decode(raw));
          else this.ready.push(raw);
        }
        if (this.wanting.length > 0) {
          if (stats.queued === 0 && stats.inFlight === 0) {
            for (const w of this.wanting.splice(0)) w.resolve(undefined);
          } else if (this.wakeups === wakeupsBefore && stats.queued === 0) {
            this.parked = true;
            // Only an expired lease can free work without a message: wake when the earliest one expires.
            if ((nextExpiry as number) >= 0) this.leaseTimer = setTimeout(() => this.wake(), (nextExpiry as number) + 5);
          }
        }
        this.pump();
      },
      (e: unknown) => {
        this.taking = false;
        const failed = frontierError(e);
        for (const c of completed) c.reject(failed);
        if (count > 0) for (const w of this.wanting.splice(0)) w.reject(failed);
        this.pump();
      },
    );
  }

  /** The subscription is gone for good: takers that would wait for its messages fail now instead of hanging. */
  private fail(e: Error): void {
    this.failure ??= frontierError(e);
    this.parked = false;
    clearTimeout(this.leaseTimer);
    for (const w of this.wanting.splice(0)) w.reject(this.failure);
  }

  private wake(): void {
    this.wakeups++;
    clearTimeout(this.leaseTimer);
    this.parked = false;
    this.pump();
  }

  complete(entry: FrontierEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.completing.push({ raw: encode(entry), resolve, reject });
      this.pump();
    });
  }

  /** Ends the crawl for this agent (pending and future take()s resolve undefined); the stored frontier stays for the others. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.leaseTimer);
    for (const w of this.wanting.splice(0)) w.resolve(undefined);
    // Leased ahead, never handed out: back to the head of the queue for the other agents now, not after the lease.
    const unused = this.ready.splice(0);
    for (const raw of unused) this.held.delete(raw);
    if (unused.length > 0) void this.script(RELEASE, [this.agent, ...unused]).catch(() => {});
  }

  /** Counts across all agents, as of this agent's last operation. */
  stats(): FrontierStats {
    return { ...this.last };
  }

  /** The counts across all agents now (one round trip). */
  async refreshStats(): Promise<FrontierStats> {
    const [stats] = await this.script(RENEW, [this.agent, this.leaseMs]);
    return stats;
  }

  /** Puts every in-flight entry back in the queue: for `--resume`, when no agent of the earlier run is left. */
  async reclaimLeases(): Promise<void> {
    await this.script(RECLAIM, []);
  }

  /** Stops this agent and its lease renewal. Its unfinished leases expire and go to other agents; the keys stay until their expiry. */
  async close(): Promise<void> {
    this.closed = true;
    this.stop();
    clearInterval(this.renewTimer);
    this.subscriber.destroy();
  }
}

/** Every error the frontier hands to its takers names the frontier, whichever call (the subscription, a script) met it. */
function frontierError(e: unknown): Error {
  return new Error(`Redis frontier failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}
