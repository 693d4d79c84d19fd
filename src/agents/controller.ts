// The controller of a run shared by agents (`planrun run --agents N`): it owns
// the run (services, crawl, reports, as in one process) and hands the workers
// phase to agents through Redis. It claims N free agents (waiting a bounded time
// for them), deals them the workers (assign.ts), hands each the plan's text and
// its workers, and feeds the events they stream back into the run's emit, so the
// collector and reporters see what one process would have emitted. It watches
// the agents' heartbeats: a lost agent's unfinished workers are ended, and every
// wait on them breaks at once naming the agent (the coordinator's abandon).
// The crawl phase runs in every agent on one shared frontier; the report is
// built from the visits they stored (crawl-share.ts, coordination/redis/crawl-store.ts).
// `--resume RUN_ID` continues a run's crawl from what Redis kept of it.
// Without --redis it starts a private redis-server and N local agent processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { connectionFailure, connectRedis, redactRedisUrl, type RedisConnection } from '../coordination/redis/connect.js';
import { RedisCoordinator } from '../coordination/redis/coordinator.js';
import { RedisCrawlStore } from '../coordination/redis/crawl-store.js';
import { RedisFrontier } from '../coordination/redis/frontier.js';
import { DEFAULT_TTL_MS, STORE_LAYOUT } from '../coordination/redis/keys.js';
import { startRedisServer, type RedisServer } from '../coordination/redis/server.js';
import { TALLY_ROUND_FIELDS, type CrawlProgress, type RunEvent, type WorkerOutcome } from '../contract/events.js';
import type { RunContext } from '../contract/engine.js';
import type { CrawlReport } from '../contract/report.js';
import type { CrawlRunner, RunOptions, WorkersRunner } from '../runtime/run.js';
import { coordinationNames, type WorkerLane } from '../runtime/worker.js';
import { assignLanes } from './assign.js';
import { EventReader, lastEventId, type StreamItem } from './event-stream.js';
import { RedisLiveness } from './liveness.js';
import {
  AGENT_KEY,
  AGENT_PROTOCOL,
  type AgentInfo,
  agentKey,
  claimKey,
  controllerKey,
  eventsKey,
  HEARTBEAT_MS,
  inboxKey,
  LOG_TRIM_MS,
  LOST_AFTER_MS,
  metaKey,
  errorText,
  type InboxMessage,
  type Job,
  type ShareEnd,
} from './protocol.js';

export interface ControllerOptions {
  agents: number;
  /** An agents' Redis; absent: a private redis-server and `agents` local agent processes. */
  redisUrl?: string;
  /** How long to wait for `agents` free agents. Default 30 s. */
  waitMs?: number;
  runId: string;
  planFile: string;
  planText: string;
  vars: Record<string, string>;
  seed?: number;
  headed: boolean;
  reportDir: string;
  log(line: string): void;
  /** Ctrl-C: stops the wait for the agents. */
  signal?: AbortSignal;
  /** `--resume`: `runId` is an earlier run whose crawl goes on (refused unless Redis knows it, with the same plan). */
  resume?: boolean;
  /** How long a crawl URL an agent took stays its own without renewal. Default 30 s. */
  crawlLeaseMs?: number;
  /** The report's timeline cap (--timeline-cap), handed to the agents. */
  timelineCap?: number;
}

/**
 * The private redis-server's niceness during a crawl. On a machine whose cores are all busy (agents, the site, Redis),
 * redis-server woken by an agent's call took that agent's core: its thread waited for one a sixth of its time. A lower
 * priority leaves the agents running and Redis the gaps: on the 2-core bench machine `--agents 1` went from 0.74× to
 * 0.785× one process, the median of 10 pairs each (docs/performance.md). Not before the crawl: at this niceness, with
 * every core busy, a barrier's release p99 went from about 4 to 7.5 ms.
 */
export const CRAWL_REDIS_NICE = 10;

/** A run that cannot be resumed (unknown, another plan, no crawl reached), or a run id used before: a usage error, nothing ran. */
export class ResumeRefused extends Error {
  readonly exitCode = 2;
}

const DEFAULT_WAIT_MS = 30_000;
const DEFAULT_LEASE_MS = 30_000;
/** After a stop order, agents get this long to send their last events; then they count as lost. */
const STOP_GRACE_MS = 10_000;
/** Local agents get this long to exit on SIGTERM, then SIGKILL. */
const KILL_AFTER_MS = 5_000;

/** Starts what the run needs (server, local agents), waits for and claims the agents; close() undoes it all. */
export async function startController(o: ControllerOptions): Promise<Controller> {
  const c = new Controller(o);
  try {
    await c.start();
    return c;
  } catch (e) {
    await c.close();
    throw e;
  }
}

/** An agent's part of a phase, as the controller follows it. */
interface Followed {
  agent: string;
  over: boolean;
}

interface Share extends Followed {
  lanes: Map<number, WorkerLane>;
  /** Workers that reported their start, their end. */
  begun: Set<number>;
  ended: Set<number>;
  /** Each worker's latest round (the round a lost agent's worker gives up from). */
  rounds: Map<number, number>;
  roundsDone: Map<number, number>;
}

interface CrawlShare extends Followed {
  end?: ShareEnd;
  progress?: CrawlProgress;
}

export class Controller {
  private server: RedisServer | undefined;
  private client: RedisConnection | undefined;
  private readonly local: ChildProcess[] = [];
  private readonly localTail = new Map<ChildProcess, string>();
  private agentIds: string[] = [];
  private liveness: RedisLiveness | undefined;
  /** The connection reading the agents' events, while the workers phase runs. */
  private reader: RedisConnection | undefined;
  private url = '';
  private coordinator: RedisCoordinator | undefined;
  private resumeAtCrawl = false;

  constructor(private readonly o: ControllerOptions) {}

  async start(): Promise<void> {
    const o = this.o;
    if (o.redisUrl) this.url = o.redisUrl;
    else {
      // A password even on loopback: other local users must not hand our agents work.
      this.server = await startRedisServer({ password: randomBytes(16).toString('hex') });
      this.url = this.server.url;
      for (let k = 1; k <= o.agents; k++) this.spawnLocal(`local-${k}`);
    }
    const client = await connectRedis(this.url);
    this.client = client;
    await this.checkRun();
    await this.beat();
    // Cut off from Redis (a partition): the blocked reads would wait for ever; destroying the connections fails
    // them at once, and the workers phase ends with the reason (runWorkers).
    this.liveness = new RedisLiveness(
      () => client.isReady,
      () => this.beat(),
      () => {
        client.destroy();
        this.reader?.destroy();
      },
    );
    this.liveness.start();
    this.agentIds = await this.claim();
  }

  /** Options for runPlan: the shared coordinator, the workers and crawl phases run by the agents. */
  async runOptions(): Promise<Pick<RunOptions, 'coordinator' | 'runWorkers' | 'runCrawl' | 'resumeAtCrawl'>> {
    this.coordinator = await RedisCoordinator.open({ client: this.client!, runId: this.o.runId });
    return { coordinator: this.coordinator, runWorkers: this.runWorkers, runCrawl: this.runCrawl, resumeAtCrawl: this.resumeAtCrawl };
  }

  /** A new run records its plan's hash; a resumed one must be known, with the same plan, and have reached its crawl. */
  private async checkRun(): Promise<void> {
    const { o } = this;
    const client = this.client!;
    const key = metaKey(o.runId);
    const hash = createHash('sha256')
      .update(JSON.stringify([o.planText, Object.entries(o.vars).sort()]))
      .digest('hex');
    const where = redactRedisUrl(this.url);
    if (!o.resume) {
      // A run id used before would meet that run's frontier, visits and coordinator log: refused rather than mixed.
      const [fresh] = (await client.multi().hSetNX(key, 'plan', hash).pExpire(key, DEFAULT_TTL_MS).exec()) as unknown as [number];
      if (!fresh) throw new ResumeRefused(`run id ${o.runId} was already used on the Redis at ${where}: give another --run-id, or --resume ${o.runId} to continue its crawl`);
      await client.hSet(key, 'layout', STORE_LAYOUT);
      return;
    }
    const meta = await client.hGetAll(key);
    if (!meta.plan)
      throw new ResumeRefused(
        `run ${o.runId} is unknown to the Redis at ${where}: nothing to resume (a run's keys expire ${DEFAULT_TTL_MS / 3_600_000}h after it ends; check the run id)`,
      );
    if (meta.plan !== hash) throw new ResumeRefused(`run ${o.runId} ran another plan: ${o.planFile} or the --var values changed since; resume it with the plan it ran`);
    if (!meta.crawl) throw new ResumeRefused(`run ${o.runId} stopped before its crawl: only a crawl can be resumed; run the plan again`);
    if (meta.layout !== STORE_LAYOUT) {
      const stored = meta.layout ? `storage layout ${meta.layout}` : 'a storage layout it did not record';
      throw new ResumeRefused(
        `run ${o.runId} was stored by another version of planrun (${stored}; this one reads layout ${STORE_LAYOUT}): resume it with the planrun that started it, or run the plan again`,
      );
    }
    this.resumeAtCrawl = true;
  }

  /** The controller's presence (agents stop without it) and its claims on its agents. */
  private async beat(): Promise<void> {
    const m = this.client!.multi().set(controllerKey(this.o.runId), '1', { PX: LOST_AFTER_MS });
    for (const id of this.agentIds) m.pExpire(claimKey(id), LOST_AFTER_MS);
    await m.exec();
  }

  private spawnLocal(id: string): void {
    // The same program as this one (node, its flags, planrun's entry), as an agent; the URL and its password go
    // through the environment, not the command line that `ps` shows. stdin is the lifeline: it ends when we die.
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'agent', '--id', id], {
      env: { ...process.env, PLANRUN_REDIS_URL: this.url, PLANRUN_AGENT_LOCAL: '1' },
      stdio: ['pipe', 'ignore', 'pipe'],
      detached: true,
    });
    child.stderr!.on('data', (d: Buffer) => this.localTail.set(child, ((this.localTail.get(child) ?? '') + d.toString()).slice(-2_000)));
    child.on('error', () => {});
    this.local.push(child);
  }

  /** Claims `agents` free agents (SET NX of each one's claim key), waiting for them within the bound. */
  private async claim(): Promise<string[]> {
    const { o } = this;
    const client = this.client!;
    const deadline = Date.now() + (o.waitMs ?? DEFAULT_WAIT_MS);
    const claimed: string[] = [];
    /** Agents of another planrun (another AGENT_PROTOCOL), not claimed: why, for the log (once) and the timeout's message. */
    const foreign = new Map<string, string>();
    let told = false;
    for (;;) {
      const seen: string[] = [];
      for await (const keys of client.scanIterator({ MATCH: 'planrun:agent:*', COUNT: 1_000 })) {
        for (const key of keys) {
          const id = AGENT_KEY.exec(key)?.[1];
          if (id) seen.push(id);
        }
      }
      for (const id of seen.sort()) {
        if (claimed.length === o.agents) break;
        if (claimed.includes(id)) continue;
        // Asked again on every pass: an agent restarted from the right planrun under the same id is claimed.
        const why = await this.foreignAgent(id);
        if (why) {
          if (!foreign.has(id)) o.log(`not using ${why}`);
          foreign.set(id, why);
          continue;
        }
        foreign.delete(id);
        if ((await client.set(claimKey(id), o.runId, { NX: true, PX: LOST_AFTER_MS })) === 'OK') claimed.push(id);
      }
      this.agentIds = claimed;
      // In name order, whichever registered first: the deal (and so the report) does not depend on start-up races.
      if (claimed.length === o.agents) return claimed.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      const exited = this.local.find((c) => c.exitCode !== null || c.signalCode !== null);
      if (exited)
        throw new Error(
          `a local agent exited before the run started: ${(this.localTail.get(exited) ?? '').trim().split('\n').slice(-3).join(' | ') || `exit ${exited.exitCode ?? exited.signalCode}`}`,
        );
      if (o.signal?.aborted) throw new Error(`interrupted while waiting for the agents (${claimed.length} of ${o.agents} found)`);
      if (Date.now() >= deadline) {
        throw new Error(
          `waited ${(o.waitMs ?? DEFAULT_WAIT_MS) / 1000}s for ${o.agents} free agent${o.agents === 1 ? '' : 's'} at ${redactRedisUrl(this.url)}: ${claimed.length} found (start them with \`planrun agent --redis URL\`)${[...foreign.values()].map((why) => `; not used: ${why}`).join('')}`,
        );
      }
      if (o.redisUrl && !told) o.log(`waiting for ${o.agents} agent${o.agents === 1 ? '' : 's'} at ${redactRedisUrl(this.url)}…`);
      told = true;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Why agent `id` cannot take part (it runs another planrun), or undefined. An agent gone meanwhile is left to the claim. */
  private async foreignAgent(id: string): Promise<string | undefined> {
    const raw = await this.client!.get(agentKey(id));
    if (raw === null) return undefined;
    let info: Partial<AgentInfo> = {};
    try {
      info = JSON.parse(raw) as Partial<AgentInfo>;
    } catch {
      // Not an agent's heartbeat: reported below as an unknown protocol.
    }
    if (info.protocol === AGENT_PROTOCOL) return undefined;
    const host = typeof info.host === 'string' ? ` on ${info.host}` : '';
    return `agent ${id}${host}: it runs another version of planrun (agent protocol ${info.protocol ?? 'none'}, this one speaks ${AGENT_PROTOCOL}); run the same planrun on every machine`;
  }

  private async send(agent: string, m: InboxMessage): Promise<void> {
    await this.client!.rPush(inboxKey(agent), JSON.stringify(m));
  }

  private readonly runWorkers: WorkersRunner = async (run, lanes, abortRun) => {
    const { o } = this;
    const byId = new Map(lanes.map((l) => [l.id, l]));
    const deal = assignLanes(
      lanes,
      run.plan.roles.map((r) => r.name),
      this.agentIds,
    );
    const shares: Share[] = [];
    const startedAt = Date.now();
    for (const [agent, ids] of deal) {
      if (ids.length === 0) continue;
      shares.push({ agent, lanes: new Map(ids.map((id) => [id, byId.get(id)!])), begun: new Set(), ended: new Set(), rounds: new Map(), roundsDone: new Map(), over: false });
      const job: Job = {
        type: 'run',
        runId: o.runId,
        planFile: o.planFile,
        planText: o.planText,
        vars: o.vars,
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        workers: ids,
        startedAt,
        reportDir: o.reportDir,
        headed: o.headed,
        ...(o.timelineCap !== undefined ? { timelineCap: o.timelineCap } : {}),
      };
      await this.send(agent, job);
    }
    const problems: string[] = [];
    // The coordination log would grow by every signal and arrival of the run: what every agent still running (and
    // this controller) applied goes. A failed trim is retried at the next tick; a Redis that is gone ends the run
    // through the event stream.
    const trim = setInterval(() => {
      const running = shares.filter((s) => !s.over).map((s) => s.agent);
      this.coordinator?.trimApplied(running).catch(() => {});
    }, LOG_TRIM_MS);
    const followed = this.follow(run, shares, '0-0', {
      event: (share, e) => {
        if (e.type === 'worker:begin') share.begun.add(e.worker);
        if (e.type === 'round:begin') share.rounds.set(e.worker, e.round);
        if (e.type === 'round:end') share.roundsDone.set(e.worker, e.round);
        if (e.type === 'steps:tally') {
          const { rounds } = e.tally;
          for (let i = 0; i < rounds.length; i += TALLY_ROUND_FIELDS) {
            share.rounds.set(rounds[i]!, rounds[i + 2]!);
            share.roundsDone.set(rounds[i]!, rounds[i + 2]!);
          }
        }
        if (e.type === 'worker:end') share.ended.add(e.worker);
        run.emit(e);
      },
      end: (_, end) => {
        if (end.reason) abortRun(end.reason);
      },
      lost: (share, why) => this.lose(run, share, why, problems),
    });
    try {
      await followed.finally(() => clearInterval(trim));
      // The agents' last shared values (a login cookie for the crawl headers) reached the log before their end
      // entries reached the event stream; the crawl must see them.
      await this.coordinator?.sync();
    } catch (e) {
      // Nothing after the workers can run without Redis (the crawl is shared through it): the run stops here.
      abortRun(this.redisLost(e, 'the report keeps what the agents had sent before').message);
      return undefined;
    }
    return problems.length > 0 ? problems.join('; ') : undefined;
  };

  /**
   * Reads the agents' events of a phase (stream entries after `from`) until every share is over: a stop order to
   * each on Ctrl-C, an agent without heartbeat (or silent past the grace after a stop) is lost. Rejects with what
   * Redis failed with once it is gone (redisLost makes the run's message of it).
   */
  private async follow<S extends Followed>(
    run: RunContext,
    shares: S[],
    from: string,
    on: { event(share: S, e: RunEvent): void; end(share: S, end: ShareEnd): void; lost(share: S, why: string): void },
  ): Promise<void> {
    const { o } = this;
    const client = this.client!;
    const reader = client.duplicate();
    this.reader = reader;
    reader.on('error', () => {});
    await reader.connect();
    const stream = new EventReader(reader, eventsKey(o.runId), from);
    let stopSentAt: number | undefined;
    let nextCheck = Date.now() + HEARTBEAT_MS;
    const lose = (s: S, why: string) => {
      s.over = true;
      on.lost(s, why);
    };
    try {
      while (shares.some((s) => !s.over)) {
        if (run.signal.aborted && stopSentAt === undefined) {
          stopSentAt = Date.now();
          const reason = (run.signal.reason as Error | undefined)?.message ?? 'the run was stopped';
          for (const s of shares) if (!s.over) await this.send(s.agent, { type: 'stop', runId: o.runId, reason });
        }
        let items: StreamItem[];
        try {
          items = await stream.next(250);
        } catch (e) {
          // While the client still reconnects (a few seconds, see connectRedis), a failed read is tried again;
          // once it gave up, the read fails with the last reason (refused, unreachable).
          if (!reader.isOpen) throw e;
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        for (const item of items) {
          const share = shares.find((s) => s.agent === item.agent);
          if (!share || share.over) continue;
          for (const e of item.events ?? []) on.event(share, e);
          if (item.end) {
            share.over = true;
            on.end(share, item.end);
          }
        }
        if (Date.now() >= nextCheck) {
          nextCheck = Date.now() + HEARTBEAT_MS;
          const graceOver = stopSentAt !== undefined && Date.now() - stopSentAt > STOP_GRACE_MS;
          for (const s of shares) {
            if (s.over) continue;
            if (graceOver) lose(s, `agent ${s.agent} did not stop within ${STOP_GRACE_MS / 1000}s`);
            else if ((await client.exists(agentKey(s.agent))) === 0) lose(s, `agent ${s.agent} lost: no heartbeat for ${LOST_AFTER_MS / 1000}s`);
          }
        }
      }
    } finally {
      reader.destroy();
      this.reader = undefined;
    }
  }

  /**
   * The crawl phase on every claimed agent, one shared frontier and store; the report from the stored visits.
   * A resumed run first puts the URLs its dead agents held back in the queue.
   */
  private readonly runCrawl: CrawlRunner = async (run) => {
    const { o } = this;
    const client = this.client!;
    const { renderCrawlHeaders, summarizeStored } = await import('../engines/crawl/index.js');
    const headers = renderCrawlHeaders(run);
    const started = performance.now();
    const leaseMs = o.crawlLeaseMs ?? DEFAULT_LEASE_MS;
    const frontier = await RedisFrontier.open({ client, runId: o.runId, agentId: 'controller', leaseMs });
    const shares: CrawlShare[] = this.agentIds.map((agent) => ({ agent, over: false }));
    const problems: string[] = [];
    // No barrier waits on Redis from here on: only the crawl's throughput counts, and the private server yields.
    this.server?.renice(CRAWL_REDIS_NICE);
    try {
      if (this.resumeAtCrawl) await frontier.reclaimLeases();
      await client.hSet(metaKey(o.runId), 'crawl', 'started');
      const from = await lastEventId(client, eventsKey(o.runId));
      for (const s of shares) {
        await this.send(s.agent, { type: 'crawl', runId: o.runId, planFile: o.planFile, planText: o.planText, vars: o.vars, headers, agents: shares.length, leaseMs });
      }
      await this.follow(run, shares, from, {
        event: (share, e) => {
          if (e.type !== 'crawl:progress') return run.emit(e);
          share.progress = e.progress;
          run.emit({ ...e, progress: combinedProgress(shares, e.progress) });
        },
        end: (share, end) => {
          share.end = end;
          if (end.outcome === 'failed' && end.reason) problems.push(end.reason);
        },
        lost: (_, why) => {
          run.emit({ type: 'log', time: Date.now(), level: 'error', message: `${why}; the crawl URLs it had taken go back to the other agents when their lease expires` });
          problems.push(why);
        },
      }).catch((e: unknown) => {
        throw this.redisLost(e, 'the report has no crawl: its results are stored in that Redis');
      });
      // As in one process, the crawl lasts until its last URL settled (every agent ended): reading the stored visits
      // back is the report's assembly, as summarizing the crawler's own records is there.
      const durationMs = Math.round(performance.now() - started);
      const left = await frontier.refreshStats();
      const ends = shares.flatMap((s) => (s.end?.crawl ? [s.end.crawl] : []));
      const stoppedBy = run.signal.aborted ? 'aborted' : ends.some((e) => e.stoppedBy === 'maxPages') ? 'maxPages' : left.queued + left.inFlight > 0 ? 'aborted' : 'complete';
      if (stoppedBy === 'complete') await client.hSet(metaKey(o.runId), 'crawl', 'done');
      const report = summarizeStored(await RedisCrawlStore.read(client, o.runId), {
        startUrls: ends[0]?.startUrls ?? run.plan.crawl!.start,
        ...seedsOf(ends),
        stoppedBy,
        durationMs,
        retries: { network: sum(ends.map((e) => e.retries.network)), status: sum(ends.map((e) => e.retries.status)) },
        requests: sum(ends.map((e) => e.requests)),
        maxReportedUrls: run.plan.crawl!.maxReportedUrls,
      });
      return { report, ...(problems.length > 0 ? { problem: problems.join('; ') } : {}) };
    } finally {
      await frontier.close();
    }
  };

  /**
   * The one message of a Redis gone mid-run, whichever connection noticed first (the event reader, the heartbeat's
   * silence, the coordinator's sync): the Redis, why (refused, reset, no answer) and what the report keeps.
   */
  private redisLost(e: unknown, keeps: string): Error {
    const why = this.liveness?.lost?.message ?? (this.client ? connectionFailure(this.client, e) : errorText(e));
    return new Error(`lost the connection to the agents' Redis at ${redactRedisUrl(this.url)} (${why}): the run stopped, and ${keeps}`);
  }

  /** The agent is gone: its unfinished workers end (aborted) and every wait on them breaks now, naming it. */
  private lose(run: RunContext, share: Share, why: string, problems: string[]): void {
    const lost = [...share.lanes.values()].filter((l) => !share.ended.has(l.id));
    run.emit({
      type: 'log',
      time: Date.now(),
      level: 'error',
      message: `${why}; its worker${lost.length === 1 ? '' : 's'} ${lost.map((l) => l.id).join(', ') || '(none left)'} did not finish`,
    });
    problems.push(why);
    for (const lane of lost) {
      const round = share.rounds.get(lane.id) ?? 1;
      const cause = { worker: lane.id, role: lane.role, round, step: '(agent lost)', reason: why };
      for (const name of coordinationNames(lane.steps)) run.coordinator.abandon(name, round, lane.id, cause, true);
      const outcome: WorkerOutcome = 'aborted';
      // A worker whose start never reached us still belongs to the agent in the report.
      if (!share.begun.has(lane.id)) run.emit({ type: 'worker:begin', time: Date.now(), worker: lane.id, role: lane.role, agent: share.agent });
      run.emit({ type: 'worker:end', time: Date.now(), worker: lane.id, role: lane.role, outcome, rounds: share.roundsDone.get(lane.id) ?? 0 });
    }
  }

  /** Releases the agents (their claims), stops the local ones and the private server. Safe to call twice. */
  async close(): Promise<void> {
    this.liveness?.stop();
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.del([controllerKey(this.o.runId), ...this.agentIds.map(claimKey)]).catch(() => {});
      client.destroy();
    }
    await Promise.all(this.local.map(stopChild));
    await this.server?.stop();
    this.server = undefined;
  }
}

const sum = (ns: number[]) => ns.reduce((a, b) => a + b, 0);

/** The crawl's progress over all agents: their pages and broken links added up, the frontier as the latest saw it. */
function combinedProgress(shares: CrawlShare[], latest: CrawlProgress): CrawlProgress {
  const all = shares.flatMap((s) => (s.progress ? [s.progress] : []));
  return {
    done: sum(all.map((p) => p.done)),
    queued: latest.queued,
    inFlight: latest.inFlight,
    broken: sum(all.map((p) => p.broken)),
    pagesPerSecond: Math.round(sum(all.map((p) => p.pagesPerSecond)) * 10) / 10,
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The seeds of all agents: every agent reads the URL files; summarizeStored counts the sitemaps from their stored visits. */
function seedsOf(ends: Array<NonNullable<ShareEnd['crawl']>>): { seeds?: CrawlReport['seeds'] } {
  const all = ends.flatMap((e) => (e.seeds ? [e.seeds] : []));
  if (!all.length) return {};
  return { seeds: { sitemaps: sum(all.map((s) => s.sitemaps)), fromSitemaps: sum(all.map((s) => s.fromSitemaps)), fromFiles: Math.max(...all.map((s) => s.fromFiles)) } };
}
