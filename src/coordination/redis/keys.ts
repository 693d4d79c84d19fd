// Every key of a run is `planrun:{RUN_ID}:…`: one prefix to inspect or delete a
// run, and (through the braces, a Redis Cluster hash tag) one slot, so Lua
// scripts may touch several keys of a run at once.
import { createHash } from 'node:crypto';
import type { RedisConnection } from './connect.js';

/** How long a run's keys outlive its last write (and its last refresh while it runs): long enough for `--resume`. */
export const DEFAULT_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The layout of what a run keeps in Redis (the frontier's entries, the crawl store's hashes), recorded with the run:
 * `--resume` refuses a run stored in another layout rather than read it wrongly. Bump it with any change to that layout.
 * 1: referrer counts in crawl:refcount; 2: a URL's count and kept referrers share crawl:referrers; 3: a settled URL's
 * fields as a JSON array, without the URL (crawl:urls). Recorded from 3 on: runs stored before have no mark.
 */
export const STORE_LAYOUT = '3';

const RUN_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function runKey(runId: string, suffix: string): string {
  if (!RUN_ID.test(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}: use 1 to 128 letters, digits, ".", "_" or "-"`);
  return `planrun:{${runId}}:${suffix}`;
}

/**
 * Lua for scripts that pass many members to one command, in chunks of 1000 arguments, as Lua's unpack fails near 8000.
 * `chunked(cmd, key, list)` sends them (a member per element, or field/value or score/member pairs) and returns the
 * replies summed (what SADD, ZREM, ZADD or HDEL changed); `chunked_replies(cmd, key, list)` returns the replies' elements
 * in order, one per member (HMGET's values, false where none; SMISMEMBER's 1 or 0).
 */
export const LUA_CHUNKED = `
local function chunked(cmd, key, list)
  local sum = 0
  for i = 1, #list, 1000 do sum = sum + redis.call(cmd, key, unpack(list, i, math.min(i + 999, #list))) end
  return sum
end
local function chunked_replies(cmd, key, list)
  local out = {}
  for i = 1, #list, 1000 do
    local got = redis.call(cmd, key, unpack(list, i, math.min(i + 999, #list)))
    for j = 1, #got do out[i + j - 1] = got[j] end
  end
  return out
end
`;

/** A Lua script run by its SHA1 (EVALSHA), sent in full only when the server does not know it yet. */
export class LuaScript {
  private readonly sha: string;
  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisConnection, keys: string[], args: Array<string | number>): Promise<unknown> {
    const options = { keys, arguments: args.map(String) };
    try {
      return await client.evalSha(this.sha, options);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
      return client.eval(this.source, options);
    }
  }
}
