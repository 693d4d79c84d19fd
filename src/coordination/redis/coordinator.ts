// The Coordinator for several agents: every signal, arrival, give-up and shared
// value is appended to one Redis stream per run (atomically with its expiry
// refresh, in a Lua script), and each agent replays that stream, in its total
// order, into a local InMemoryCoordinator. Waits park on that mirror, so counts,
// scopes, breaks with their root cause and timeouts are those of one process by
// construction; they are woken by the blocking XREAD that delivers the entry,
// never by polling. sharedSnapshot() reads the mirror and stays synchronous.
import { SocketClosedUnexpectedlyError } from 'redis';
import type { BreakCause, Coordinator, WaitOptions } from '../../contract/coordinator.js';
import { InMemoryCoordinator } from '../memory.js';
import type { RedisConnection } from './connect.js';
import { DEFAULT_TTL_MS, LuaScript, runKey } from './keys.js';

export interface RedisCoordinatorOptions {
  /** An open connection (see connectRedis); the coordinator duplicates it for its blocking reads and never closes it. */
  client: RedisConnection;
  runId: string;
  /** Keys expire this long after the last write or refresh. Default 24 h. */
  ttlMs?: number;
  /**
   * The agent's id: it tells the run, every `tellEveryMs` (default 2 s), how far it applied the log, so that the
   * controller can trim what every agent has applied (trimApplied).
   */
  agent?: string;
  tellEveryMs?: number;
}

/** One log entry: signal, arrival, give-up (abandon) or shared value. */
type Entry =
  | ['s' | 'a', name: string, round: number, worker: number]
  | ['x', name: string, round: number, worker: number, cause: BreakCause, allLater: boolean]
  | ['v', key: string, value: unknown];

const APPEND = new LuaScript(`
local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return id`);

/** A shared value goes to the log and, latest per key, to a hash: what an opener reads once the log is trimmed. */
const APPEND_SHARED = new LuaScript(`
local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return id`);

const TELL_APPLIED = new LuaScript(`
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])`);

const DEFAULT_TELL_EVERY_MS = 2_000;

/** Entries read per XREAD: a backlog (late join, resume) is replayed in a few round trips. */
const READ_BATCH = 1_000;

/** Stream ids are "<ms>-<seq>": compared numerically, part by part. */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}

export class RedisCoordinator implements Coordinator {
  private readonly mirror = new InMemoryCoordinator();
  private readonly log: string;
  /** Shared values, the latest per key (the log's `v` entries may be trimmed). */
  private readonly sharedKey: string;
  /** How far each agent applied the log: agent id → entry id. */
  private readonly appliedKey: string;
  private readonly ttlMs: number;
  private lastApplied = '0-0';
  private told = '0-0';
  private tell: NodeJS.Timeout | undefined;
  /** Entries awaited before they were replayed (own appends, sync()): resolved when the reader applies them. */
  private readonly pending = new Map<string, Array<() => void>>();
  private failure: Error | undefined;
  private closed = false;
  private refresh: NodeJS.Timeout | undefined;

  private constructor(
    private readonly client: RedisConnection,
    private readonly reader: RedisConnection,
    runId: string,
    ttlMs: number,
  ) {
    this.log = runKey(runId, 'log');
    this.sharedKey = runKey(runId, 'shared');
    this.appliedKey = runKey(runId, 'log-applied');
    this.ttlMs = ttlMs;
  }

  /** Joins (or, with the id of an earlier run, resumes) the run: replays its log so far before answering. */
  static async open(options: RedisCoordinatorOptions): Promise<RedisCoordinator> {
    const reader = options.client.duplicate();
    reader.on('error', () => {}); // reported through the failed XREAD
    await reader.connect();
    const c = new RedisCoordinator(options.client, reader, options.runId, options.ttlMs ?? DEFAULT_TTL_MS);
    try {
      // Values whose log entries were trimmed first; the log then replays what is left in order (the same values
      // again, or newer ones).
      for (const [key, json] of Object.entries(await options.client.hGetAll(c.sharedKey))) await c.mirror.setShared(key, JSON.parse(json));
      while ((await c.read(undefined)) === READ_BATCH);
    } catch (e) {
      reader.destroy();
      throw e;
    }
    void c.follow();
    // Keeps the run's keys alive while it waits without writing (a long crawl, a long barrier timeout).
    const keys = [c.log, c.sharedKey, c.appliedKey];
    c.refresh = setInterval(() => void Promise.all(keys.map((k) => c.client.pExpire(k, c.ttlMs))).catch((e: Error) => c.fail(e)), Math.max(1_000, c.ttlMs / 3));
    c.refresh.unref();
    const agent = options.agent;
    if (agent !== undefined) {
      // A tell lost with a dropped connection is told again at the next tick; a Redis gone for good fails the reads.
      c.tell = setInterval(() => void c.tellApplied(agent).catch(() => {}), options.tellEveryMs ?? DEFAULT_TELL_EVERY_MS);
      c.tell.unref();
      await c.tellApplied(agent);
    }
    return c;
  }

  /** Tells the run how far this agent applied the log (when that moved). */
  private async tellApplied(agent: string): Promise<void> {
    if (this.told === this.lastApplied) return;
    const at = this.lastApplied;
    await TELL_APPLIED.run(this.client, [this.appliedKey], [this.ttlMs, agent, at]);
    this.told = at;
  }

  /**
   * Trims the log entries that `agents` (those still running their share) and this coordinator have all applied:
   * nobody replays them again. Nothing while one of the agents has not told yet: it may still be replaying from the
   * start. Shared values stay in their hash. Returns the entries removed.
   */
  async trimApplied(agents: string[]): Promise<number> {
    const told = agents.length > 0 ? await this.client.hmGet(this.appliedKey, agents) : [];
    if (told.some((id) => !id)) return 0;
    const upTo = [this.lastApplied, ...(told as string[])].sort(compareIds)[0]!;
    return this.client.xTrim(this.log, 'MINID', upTo);
  }

  /** Applies the next entries after the last applied one; BLOCK (ms) waits for them. Returns how many came. */
  private async read(block: number | undefined): Promise<number> {
    const reply = (await this.reader.xRead({ key: this.log, id: this.lastApplied }, { COUNT: READ_BATCH, ...(block !== undefined ? { BLOCK: block } : {}) })) as Array<{
      messages: Array<{ id: string; message: Record<string, string> }>;
    }> | null;
    const messages = reply?.[0]?.messages ?? [];
    for (const { id, message } of messages) {
      this.apply(JSON.parse(message.e!) as Entry);
      this.lastApplied = id;
      const done = this.pending.get(id);
      if (done) {
        this.pending.delete(id);
        for (const d of done) d();
      }
    }
    return messages.length;
  }

  private async follow(): Promise<void> {
    while (!this.closed) {
      try {
        await this.read(0);
      } catch (e) {
        // A lost socket rejects the blocked read at once: read again from the last applied entry, which waits
        // for the client's reconnection; only a client that gave up reconnecting (or a refused read) fails the run.
        if (this.closed) return;
        if (!(e instanceof SocketClosedUnexpectedlyError) || !this.reader.isOpen) return this.fail(e as Error);
      }
    }
  }

  private apply(e: Entry): void {
    switch (e[0]) {
      case 's':
        void this.mirror.signal(e[1], e[2], e[3]);
        break;
      case 'a':
        this.mirror.recordArrival(e[1], e[2], e[3]);
        break;
      case 'x':
        this.mirror.abandon(e[1], e[2], e[3], e[4], e[5]);
        break;
      case 'v':
        void this.mirror.setShared(e[1], e[2]);
        break;
    }
  }

  /** Appends an entry and resolves once this agent's mirror applied it, so the caller's next step sees its own write. */
  private async append(entry: Entry): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('the coordinator is closed');
    const json = JSON.stringify(entry);
    const id = String(
      entry[0] === 'v'
        ? // As the log's array holds it: undefined becomes null.
          await APPEND_SHARED.run(this.client, [this.log, this.sharedKey], [this.ttlMs, json, entry[1], JSON.stringify(entry[2]) ?? 'null'])
        : await APPEND.run(this.client, [this.log], [this.ttlMs, json]),
    );
    if (compareIds(id, this.lastApplied) <= 0) return;
    await this.applied(id);
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('the coordinator closed before its own write came back');
  }

  private applied(id: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const list = this.pending.get(id);
      if (list) list.push(resolve);
      else this.pending.set(id, [resolve]);
    });
  }

  /**
   * Resolves once this mirror applied every entry appended before the call, by any agent: a controller
   * that learnt from elsewhere (the agents' event stream) that the workers are done then sees their last
   * shared values.
   */
  async sync(): Promise<void> {
    if (this.failure) throw this.failure;
    const last = (await this.client.xRevRange(this.log, '+', '-', { COUNT: 1 }))?.[0];
    if (!last || compareIds(last.id, this.lastApplied) <= 0) return;
    await this.applied(last.id);
    if (this.failure) throw this.failure;
  }

  /** Redis is gone: every parked and future wait fails with the reason instead of hanging until its timeout. */
  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = new Error(`Redis coordinator failed: ${e.message}`);
    void this.mirror.close(this.failure.message);
    for (const done of this.pending.values()) for (const d of done) d();
    this.pending.clear();
  }

  async signal(event: string, round: number, worker: number): Promise<void> {
    await this.append(['s', event, round, worker]);
  }

  waitFor(event: string, round: number, options: WaitOptions): Promise<void> {
    return this.mirror.waitFor(event, round, options);
  }

  async arrive(barrier: string, round: number, worker: number, parties: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await this.append(['a', barrier, round, worker]);
    return this.mirror.meet(barrier, round, parties, timeoutMs, signal);
  }

  abandon(name: string, round: number, worker: number, cause: BreakCause, allLater = false): void {
    // The interface is synchronous: a failed append fails the coordinator, so waiters hear of it.
    this.append(['x', name, round, worker, cause, allLater]).catch((e: Error) => this.fail(e));
  }

  /** Only this agent's mirror forgets: other agents' workers may be in other rounds. */
  forgetRoundsBefore(round: number): void {
    this.mirror.forgetRoundsBefore(round);
  }

  /** Rounds of counts this agent's mirror holds (for tests and benches). */
  heldRounds(): number {
    return this.mirror.heldRounds();
  }

  /** Values travel as JSON: what JSON cannot hold (undefined, functions, class instances) arrives as JSON.parse makes it. */
  async setShared(key: string, value: unknown): Promise<void> {
    await this.append(['v', key, value]);
  }

  sharedSnapshot(): Record<string, unknown> {
    return this.mirror.sharedSnapshot();
  }

  /** Rejects parked waits and closes the reading connection; the run's keys stay (until they expire) for other agents and resume. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.refresh);
    clearInterval(this.tell);
    await this.mirror.close();
    for (const done of this.pending.values()) for (const d of done) d();
    this.pending.clear();
    this.reader.destroy();
  }
}
