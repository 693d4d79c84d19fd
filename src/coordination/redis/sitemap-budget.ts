// The crawl's maxSitemaps shared by the agents of a run (see
// contract/crawl-store.ts): one set of the sitemap URLs the crawl may read,
// claimed by a script, so N agents together read at most maxSitemaps
// documents, and a sitemap listed twice, or by every agent (the documents of
// crawl.start), or read again after its agent died, is counted once.
//   crawl:sitemaps  SET  sitemap URLs counted against maxSitemaps
import type { SitemapBudget } from '../../contract/crawl-store.js';
import type { RedisConnection } from './connect.js';
import { DEFAULT_TTL_MS, LuaScript, runKey } from './keys.js';

/** ARGV: ttl, maxSitemaps, then URLs. Returns 1 (may read) or 0 (over the cap) per URL. */
const CLAIM = new LuaScript(`
local max, out = tonumber(ARGV[2]), {}
for i = 3, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then out[#out + 1] = 1
  elseif redis.call('SCARD', KEYS[1]) < max then
    redis.call('SADD', KEYS[1], ARGV[i])
    out[#out + 1] = 1
  else out[#out + 1] = 0 end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return out`);

export class RedisSitemapBudget implements SitemapBudget {
  private readonly key: string;

  constructor(
    private readonly client: RedisConnection,
    runId: string,
    private readonly maxSitemaps: number,
    private readonly ttlMs = DEFAULT_TTL_MS,
  ) {
    this.key = runKey(runId, 'crawl:sitemaps');
  }

  async claim(urls: string[]): Promise<boolean[]> {
    if (urls.length === 0) return [];
    const flags = (await CLAIM.run(this.client, [this.key], [this.ttlMs, this.maxSitemaps, ...urls])) as number[];
    return flags.map((f) => f === 1);
  }
}
