// `planrun agent`: a process that waits in Redis for runs and runs its share of
// their workers (and then of their crawl, crawl-share.ts), one run after another. It announces itself with a key that
// expires unless refreshed (its heartbeat), takes jobs and stop orders from its
// inbox list, runs its workers with a RedisCoordinator (so barriers span every
// agent) and streams their events to the controller. It never starts the plan's
// services or a browser binary the plan names: the plan comes from
// whoever can write to the Redis (docs/agents.md, "Trust model").
import { hostname } from 'node:os';
import { connectRedis, redactRedisUrl, type RedisConnection } from '../coordination/redis/connect.js';
import { RedisCoordinator } from '../coordination/redis/coordinator.js';
import type { RunEvent } from '../contract/events.js';
import { crawlShare } from './crawl-share.js';
import { EventBatcher } from './event-stream.js';
import { RedisLiveness } from './liveness.js';
import {
  agentKey,
  checkAgentId,
  claimKey,
  controllerKey,
  eventsKey,
  HEARTBEAT_MS,
  inboxKey,
  LOG_TELL_MS,
  LOST_AFTER_MS,
  errorText,
  AGENT_PROTOCOL,
  type AgentInfo,
  type CrawlJob,
  type InboxMessage,
  type Job,
  type ShareEnd,
} from './protocol.js';

export interface AgentOptions {
  url: string;
  /** Default: `<host>-<pid>`. */
  id?: string;
  /** Abort to stop: the run in progress ends its share (aborted), the agent deregisters. */
  signal: AbortSignal;
  /** One line per thing worth telling the operator. */
  log(line: string): void;
  /** Delay before reconnecting after Redis went away. Default 1 s. */
  reconnectDelayMs?: number;
}

/**
 * Events the controller needs: what workers did, and the open model's dropped iterations (each agent counts its
 * own; the controller's collector adds them up). Run and phase events are the controller's own.
 */
const FORWARDED = new Set<RunEvent['type']>(['worker:begin', 'round:begin', 'step:begin', 'step:end', 'round:end', 'worker:end', 'iteration:dropped', 'load:target', 'log']);

export function defaultAgentId(): string {
  return `${hostname()
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 80)}-${process.pid}`;
}

/** Serves runs until `signal` aborts; reconnects when Redis goes away. */
export async function serveAgent(o: AgentOptions): Promise<void> {
  const id = checkAgentId(o.id ?? defaultAgentId());
  const where = redactRedisUrl(o.url);
  // Loaded before announcing itself, not on the first job: a duration run's deadline is the controller's,
  // and loading the runtime (and the crawler, for the crawl phase) takes seconds on a busy machine.
  await Promise.all([import('../plan/load.js'), import('../runtime/run.js'), import('../engines/crawl/index.js')]);
  let announced = false;
  while (!o.signal.aborted) {
    let client: RedisConnection | undefined;
    try {
      client = await connectRedis(o.url);
      o.log(`agent ${id} waiting for runs at ${where}`);
      announced = false;
      await new Session(client, id, o).serve();
    } catch (e) {
      if (o.signal.aborted) break;
      // Said once per outage, not once per attempt.
      const why = client ? `lost the connection to Redis at ${where}: ${errorText(e)}` : errorText(e);
      if (!announced) o.log(`agent ${id}: ${why}; retrying every ${(o.reconnectDelayMs ?? 1_000) / 1000}s`);
      announced = true;
    } finally {
      client?.destroy();
    }
    if (o.signal.aborted) break;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, o.reconnectDelayMs ?? 1_000);
      o.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
}

/** One connection's life: heartbeat, inbox, at most one run at a time. */
class Session {
  private current: { runId: string; stop: AbortController; done: Promise<void> } | undefined;

  constructor(
    private readonly client: RedisConnection,
    private readonly id: string,
    private readonly o: AgentOptions,
  ) {}

  async serve(): Promise<void> {
    const { client, id } = this;
    const info: AgentInfo = { host: hostname(), pid: process.pid, protocol: AGENT_PROTOCOL };
    const beat = () => client.set(agentKey(id), JSON.stringify(info), { PX: LOST_AFTER_MS });
    await beat();
    const inbox = client.duplicate();
    inbox.on('error', () => {});
    // Cut off from Redis (a partition): the controller counts this agent lost after the same time, so its share
    // stops (below, as the inbox read fails) and the agent reconnects and waits again.
    const liveness = new RedisLiveness(
      () => client.isReady,
      beat,
      () => {
        client.destroy();
        inbox.destroy();
      },
    );
    liveness.start();
    try {
      await inbox.connect();
      while (!this.o.signal.aborted) {
        // Bounded, so an abort is noticed within a second without a second connection to interrupt the read.
        const popped = await inbox.blPop(inboxKey(id), 1);
        if (popped) this.receive(JSON.parse(popped.element) as InboxMessage);
      }
      this.current?.stop.abort(new Error('the agent was stopped'));
      await this.current?.done;
      // Heartbeats stop first: one sent after the DEL would show this agent for LOST_AFTER_MS more, free to be claimed.
      liveness.stop();
      await client.del([agentKey(id), claimKey(id)]).catch(() => {});
    } catch (e) {
      throw liveness.lost ?? e;
    } finally {
      liveness.stop();
      inbox.destroy();
      // A connection lost mid-run: the run cannot report any more, stop it.
      this.current?.stop.abort(new Error('lost the connection to Redis'));
      await this.current?.done;
    }
  }

  private receive(m: InboxMessage): void {
    if (m.type === 'stop') {
      if (this.current?.runId === m.runId) this.current.stop.abort(new Error(m.reason));
      return;
    }
    if (this.current?.runId === m.runId) {
      // The next phase of the same run (its crawl) may arrive before this share finished reporting its end.
      // A stop order meant for the run stops this job too (it then ends at once, reporting its end).
      const previous = this.current;
      const done = previous.done.then(() => this.start(m, previous.stop.signal.aborted ? (previous.stop.signal.reason as Error) : undefined));
      this.current = { ...previous, done };
      return;
    }
    if (this.current) {
      // Claims make this rare (two controllers, one stale claim): refuse rather than mix two runs.
      void new EventBatcher(this.client, eventsKey(m.runId), this.id).end({ outcome: 'failed', reason: `agent ${this.id} is busy with run ${this.current.runId}` }).catch(() => {});
      return;
    }
    void this.start(m);
  }

  /** Runs a job as the current one; a stop order for its run reaches it through `current.stop`. */
  private start(m: Job | CrawlJob, stopped?: Error): Promise<void> {
    const stop = new AbortController();
    if (stopped) stop.abort(stopped);
    const done = this.run(m, stop).finally(() => {
      if (this.current?.stop === stop) this.current = undefined;
    });
    this.current = { runId: m.runId, stop, done };
    return done;
  }

  private async run(job: Job | CrawlJob, stop: AbortController): Promise<void> {
    const { client, id } = this;
    this.o.log(`agent ${id}: run ${job.runId}, ${job.type === 'crawl' ? 'crawl' : `workers ${job.workers.join(', ')}`}`);
    const batcher = new EventBatcher(client, eventsKey(job.runId), id, job.type === 'run' && job.timelineCap !== undefined ? { timelineCap: job.timelineCap } : {});
    // The controller's heartbeat: without it, nobody reads this run's events any more.
    const watch = setInterval(() => {
      void client.exists(controllerKey(job.runId)).then(
        (n) => {
          if (n === 0 && !stop.signal.aborted) {
            this.o.log(`agent ${id}: the controller of run ${job.runId} is gone (no heartbeat for ${LOST_AFTER_MS / 1000}s): stopping its workers`);
            stop.abort(new Error('the controller is gone'));
          }
        },
        () => {},
      );
    }, HEARTBEAT_MS);
    let end: ShareEnd;
    try {
      if (job.type === 'crawl') end = await crawlShare(client, id, job, stop.signal, (e) => batcher.push(e));
      else end = await this.runWorkers(job, stop, batcher);
    } catch (e) {
      end = { outcome: 'failed', reason: `agent ${id} failed: ${(e as Error).message}` };
    } finally {
      clearInterval(watch);
    }
    try {
      await batcher.end(end);
    } catch (e) {
      this.o.log(`agent ${id}: could not report the end of run ${job.runId}: ${(e as Error).message}`);
    }
    this.o.log(`agent ${id}: run ${job.runId} ${end.outcome}; waiting for runs`);
  }

  /** The job's workers, run by runPlan as this run's share: no services, no crawl, a Redis coordinator. */
  private async runWorkers(job: Job, stop: AbortController, batcher: EventBatcher): Promise<ShareEnd> {
    const { client, id } = this;
    const [{ parsePlan }, { runPlan }] = await Promise.all([import('../plan/load.js'), import('../runtime/run.js')]);
    const plan = parsePlan(job.planText, job.planFile, { vars: job.vars });
    // Never a binary named by the plan: it came through Redis.
    delete plan.browser.executablePath;
    const coordinator = await RedisCoordinator.open({ client, runId: job.runId, agent: id, tellEveryMs: LOG_TELL_MS });
    const result = await runPlan(plan, {
      emit: (e) => {
        if (!FORWARDED.has(e.type)) return;
        batcher.push(e.type === 'worker:begin' ? { ...e, agent: id } : e);
      },
      reportDir: job.reportDir,
      signal: stop.signal,
      runId: job.runId,
      coordinator,
      headed: job.headed,
      ...(job.seed !== undefined ? { seed: job.seed } : {}),
      share: { workers: new Set(job.workers), startedAt: job.startedAt },
    });
    return { outcome: result.outcome, ...(result.stopReason ? { reason: result.stopReason, abortRun: true } : {}) };
  }
}
