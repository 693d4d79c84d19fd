// runPlan: the phases of a run (services → setup → workers → crawl → teardown),
// the engines they share, and the one abort signal that stops everything. Each
// role's workers run under the executor of its load model (executors/); setup
// and teardown run their steps once as pseudo-workers of their own. It reports
// only through events; how they are shown is the reporters' business.
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Coordinator } from '../contract/coordinator.js';
import { createHttpEngine } from '../engines/http/index.js';
import { createWsEngine } from '../engines/ws/index.js';
import { graphOf, type ExecutionGraph } from '../graph/graph.js';
import { flattenSteps } from '../graph/points.js';
import { InMemoryCoordinator } from '../coordination/memory.js';
import { MemoryFrontier } from '../coordination/memory-frontier.js';
import type { CompiledPlan, RoleSpec, StepSpec } from '../contract/plan.js';
import type { Phase, RunEvent, RunInfo, RunOutcome } from '../contract/events.js';
import { Redactor } from './redact.js';
import type { CrawlReport } from '../contract/report.js';
import type { Engine, RunContext } from '../contract/engine.js';
import { RunDraws } from './draws.js';
import { runArrivalRate } from './executors/arrival-rate.js';
import type { Executor } from './executors/base.js';
import { runConstantWorkers } from './executors/constant-workers.js';
import { runRampingWorkers } from './executors/ramping-workers.js';
import { RoundFloor } from './round-floor.js';
import { Worker, type WorkerLane } from './worker.js';

export interface RunOptions {
  emit(event: RunEvent): void;
  reportDir: string;
  /** Abort to stop the run (Ctrl-C): steps stop, what ran is reported, outcome `aborted`. */
  signal?: AbortSignal;
  /**
   * Abort with an Error saying why to stop the run early as an abort-run step does (a failed abortOnFail
   * threshold): the workers stop, the crawl is skipped, teardown runs, outcome `failed` with that reason.
   */
  stop?: AbortSignal;
  runId?: string;
  /** false: do not start the plan's services (they already run). */
  services?: boolean;
  headed?: boolean;
  coordinator?: Coordinator;
  /** Redacts every event and the result; pass one to redact the caller's own messages with what it learned. */
  redactor?: Redactor;
  /** Seed of the generated values (--seed); default the plan's `seed:`. */
  seed?: number;
  // Agents (src/agents/): a run shared by several processes through Redis.
  /** Runs the workers phase's lanes somewhere else (the agents' controller); default: one Worker per lane here. */
  runWorkers?: WorkersRunner;
  /** This process is an agent running its share of someone else's run: only these workers, no services, no crawl. */
  share?: RunShare;
  /** Runs the crawl phase somewhere else (the agents' controller); default: the crawler here, on a memory frontier. */
  runCrawl?: CrawlRunner;
  /** A resumed run (`--resume`) that had reached its crawl: setup and workers are not run again, the crawl goes on. */
  resumeAtCrawl?: boolean;
}

/**
 * Runs the lanes, their events going through run.emit; `abortRun` stops the whole run with a reason (abort-run).
 * Resolves a failure that failed steps do not tell (workers lost with their agent), if any.
 */
export type WorkersRunner = (run: RunContext, lanes: WorkerLane[], abortRun: (reason: string) => void) => Promise<string | undefined>;

/** Runs the crawl; resolves its report and a failure the report does not tell (an agent lost), if any. */
export type CrawlRunner = (run: RunContext) => Promise<{ report: CrawlReport; problem?: string }>;

export interface RunShare {
  workers: ReadonlySet<number>;
  /** The controller's start (epoch ms): every agent computes the same deadline of a duration run. */
  startedAt: number;
}

export interface RunResult {
  outcome: RunOutcome;
  reason?: string;
  crawl?: CrawlReport;
  /** Why a worker stopped the whole run (abort-run, a data set with atEnd: fail), if one did. */
  stopReason?: string;
}

/** The worker ids of the setup and teardown pseudo-workers in events and reports (a role's workers count from 0). */
export const SETUP_WORKER = -1;
export const TEARDOWN_WORKER = -2;

export function newRunId(): string {
  const d = new Date();
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

export function runInfo(graph: ExecutionGraph, runId: string, reportDir: string): RunInfo {
  const { plan } = graph;
  return {
    runId,
    planName: plan.name,
    planFile: plan.file,
    ...(plan.description ? { description: plan.description } : {}),
    ...(plan.target ? { target: plan.target.href } : {}),
    workers: plan.workers,
    // Roles on a schedule have no rounds: show them only when a closed-model role runs them.
    ...(plan.rounds !== undefined && plan.roles.some((r) => !r.load) ? { rounds: plan.rounds } : {}),
    ...(runLength(plan) !== undefined ? { durationMs: runLength(plan) } : {}),
    roles: plan.roles.map((r) => ({ name: r.name, workers: r.workers, ...(r.load ? { load: r.load.kind } : {}) })),
    barriers: [...plan.barriers.values()].map((b) =>
      b.kind === 'event'
        ? { name: b.name, kind: b.kind, scope: b.scope, signal: b.signalRoles, wait: b.waitRoles, count: b.count }
        : { name: b.name, kind: b.kind, signal: b.partyRoles, wait: b.partyRoles, count: b.parties.length },
    ),
    // Leaf steps only: groups and loops are not reported, their children are.
    steps: [{ role: 'setup', points: flattenSteps(plan.setup) }, ...graph.tracks, { role: 'teardown', points: flattenSteps(plan.teardown) }].flatMap((t) =>
      t.points.filter(({ step: s }) => s.kind !== 'group' && s.kind !== 'loop').map(({ step: s }) => ({ role: t.role, stepId: s.id, name: s.name, kind: s.kind })),
    ),
    hasCrawl: plan.crawl !== undefined,
    reportDir,
  };
}

/** The plan's duration, or else the longest schedule of its roles (stages bound themselves). */
function runLength(plan: CompiledPlan): number | undefined {
  return plan.durationMs ?? plan.roles.reduce<number | undefined>((max, r) => (r.load ? Math.max(max ?? 0, r.load.durationMs) : max), undefined);
}

/** The workers of each role (one per lane of the execution graph; roles without steps have none), in id order. */
export function roleLanes(graph: ExecutionGraph, only?: ReadonlySet<number>): Map<string, WorkerLane[]> {
  const out = new Map<string, WorkerLane[]>(graph.plan.roles.map((r) => [r.name, []]));
  for (const lane of graph.lanes) {
    if (lane.track.steps.length > 0 && (!only || only.has(lane.worker))) out.get(lane.role)?.push({ id: lane.worker, role: lane.role, index: lane.index, steps: lane.track.steps });
  }
  return out;
}

/** The executor of a role: its load model, or the closed model. */
function executorOf(role: RoleSpec): Executor {
  if (role.load?.kind === 'arrival-rate') return runArrivalRate;
  if (role.load?.kind === 'ramping-workers') return runRampingWorkers;
  return runConstantWorkers;
}

/** Lazily creates an engine once, even when many workers ask at the same moment. */
function once(create: () => Promise<Engine>): { get(): Promise<Engine>; created(): Promise<Engine> | undefined } {
  let engine: Promise<Engine> | undefined;
  return {
    get: () => (engine ??= create()),
    created: () => engine,
  };
}

/** Runs a plan, or the execution graph of one that the caller built already (then it is not built again). */
export async function runPlan(input: CompiledPlan | ExecutionGraph, options: RunOptions): Promise<RunResult> {
  const graph = graphOf(input);
  const { plan } = graph;
  const runId = options.runId ?? newRunId();
  const coordinator = options.coordinator ?? new InMemoryCoordinator();
  const stop = new AbortController();
  // Every worker listens for the stop: one listener each is expected, not a leak.
  setMaxListeners(0, stop.signal);
  let stopReason: string | undefined;
  const onUserAbort = () => stop.abort(new Error('interrupted'));
  if (options.signal?.aborted) onUserAbort();
  options.signal?.addEventListener('abort', onUserAbort, { once: true });

  let failedSteps = 0;
  // The one place every event leaves the run: reporters (and the report built from the events) only see redacted text.
  const redactor = options.redactor ?? new Redactor(plan.redact);
  const emit = (event: RunEvent) => {
    if (event.type === 'step:end' && event.result.outcome === 'failed') failedSteps++;
    options.emit(redactor.redactEvent(event));
  };
  const browser = once(async () => (await import('../engines/browser/browser-engine.js')).createBrowserEngine(run, { headed: options.headed ?? false }));
  let http: Engine | undefined;
  let ws: Engine | undefined;
  const run: RunContext = {
    runId,
    plan,
    coordinator,
    signal: stop.signal,
    reportDir: options.reportDir,
    emit,
    redactor,
    engines: {
      get http() {
        return (http ??= createHttpEngine(run));
      },
      get ws() {
        return (ws ??= createWsEngine(run));
      },
      browser: browser.get,
    },
  };

  /** The workers in this process, each role by its executor; every worker released from the engines once all ended. */
  const runHere = async (lanes: Map<string, WorkerLane[]>, abortRun: (reason: string) => void, startedAt: number) => {
    const draws = new RunDraws(plan, options.seed ?? plan.seed);
    const newWorker = (lane: WorkerLane) => new Worker(run, lane, abortRun, draws);
    const roles = plan.roles.filter((role) => (lanes.get(role.name) ?? []).length > 0);
    // A wait names its round or the one before: rounds below the slowest closed-model worker's previous one can go.
    const closed = roles.filter((role) => executorOf(role) === runConstantWorkers).flatMap((role) => lanes.get(role.name)!.map((lane) => lane.id));
    const rounds = new RoundFloor(closed, (floor) => coordinator.forgetRoundsBefore(floor - 1));
    const ended = await Promise.allSettled(roles.map((role) => executorOf(role)({ run, role, lanes: lanes.get(role.name)!, newWorker, startedAt, rounds })));
    await Promise.allSettled([...lanes.values()].flat().map((lane) => releaseWorker([http, ws], browser.created(), lane.id)));
    const crashed = ended.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (crashed) throw crashed.reason;
    return undefined;
  };

  /**
   * Setup's or teardown's steps, once, as its pseudo-worker on `on` (teardown's has a signal of its own).
   * Its own data draws: its rows do not take the workers'. Resolves the first failure, if any.
   */
  const runAlone = async (on: RunContext, role: 'setup' | 'teardown', steps: StepSpec[], abortRun: (reason: string) => void) => {
    const id = role === 'setup' ? SETUP_WORKER : TEARDOWN_WORKER;
    try {
      return await new Worker(on, { id, role, index: 0, steps }, abortRun, new RunDraws(plan, options.seed ?? plan.seed)).once();
    } finally {
      await releaseWorker([http, ws], browser.created(), id);
    }
  };

  emit({ type: 'run:begin', time: Date.now(), run: runInfo(graph, runId, options.reportDir) });
  let failure: string | undefined;
  let teardownFailure: string | undefined;
  let crawl: CrawlReport | undefined;
  let services: { stop(): Promise<void> } | undefined;
  const phase = async (name: Phase, body: () => Promise<string | undefined>) => {
    emit({ type: 'phase:begin', time: Date.now(), phase: name });
    let problem: string | undefined;
    try {
      problem = await body();
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    emit({ type: 'phase:end', time: Date.now(), phase: name, ok: problem === undefined, ...(problem ? { message: problem } : {}) });
    return problem;
  };

  const abortRun = (reason: string) => {
    stopReason ??= reason;
    stop.abort(new Error(reason));
  };
  const onStop = () => abortRun(options.stop?.reason instanceof Error ? options.stop.reason.message : String(options.stop?.reason));
  if (options.stop?.aborted) onStop();
  options.stop?.addEventListener('abort', onStop, { once: true });
  try {
    if (plan.services.length > 0 && !options.share) {
      failure = await phase('services', async () => {
        if (options.services === false) {
          for (const s of plan.services) emit({ type: 'service', time: Date.now(), name: s.name, status: 'skipped', message: 'started by the user (--no-services)' });
          return undefined;
        }
        const { startServices } = await import('../services/start-services.js');
        services = await startServices(plan.services, { reportDir: options.reportDir, emit, signal: stop.signal });
        return undefined;
      });
    }
    // Once, before any worker: what it shares the workers read as shared.*. If it fails, nothing else runs but the teardown.
    if (!failure && !stop.signal.aborted && plan.setup.length > 0 && !options.share && !options.resumeAtCrawl) {
      const problem = await phase('setup', () => runAlone(run, 'setup', plan.setup, abortRun));
      if (problem) failure = `setup failed: ${problem}`;
    }
    // Failed services or setup: neither the workers nor the crawl run.
    const stoppedBeforeWorkers = failure !== undefined;
    // An agent runs only its share of the workers, on the controller's clock.
    const share = options.share;
    const lanes = roleLanes(graph, share?.workers);
    const all = [...lanes.values()].flat();
    if (!failure && !stop.signal.aborted && all.length > 0 && !options.resumeAtCrawl) {
      failure = await phase('workers', async () => {
        // The agents' controller runs no worker itself: no wait of its own will name a round.
        if (options.runWorkers) coordinator.forgetRoundsBefore(Infinity);
        const problem = options.runWorkers ? await options.runWorkers(run, all, abortRun) : await runHere(lanes, abortRun, share?.startedAt ?? Date.now());
        if (stopReason) return stopReason;
        const failed = failedSteps > 0 ? `${failedSteps} step${failedSteps === 1 ? '' : 's'} failed` : undefined;
        return problem && failed ? `${problem}; ${failed}` : (problem ?? failed);
      });
    }
    // The crawl runs even after failed scenario steps (both get reported), but not without its services or setup.
    if (plan.crawl && !stop.signal.aborted && !stoppedBeforeWorkers && !options.share) {
      const crawlProblem = await phase('crawl', async () => {
        const { runCrawl } = await import('../engines/crawl/index.js');
        const done = options.runCrawl ? await options.runCrawl(run) : { report: await runCrawl(run, new MemoryFrontier()) };
        crawl = done.report;
        const broken = crawl.broken > 0 ? `the crawl found ${crawl.broken} broken link${crawl.broken === 1 ? '' : 's'}` : undefined;
        return [done.problem, broken].filter(Boolean).join('; ') || undefined;
      });
      if (crawlProblem) failure = failure ? `${failure}; ${crawlProblem}` : crawlProblem;
    }
  } finally {
    options.signal?.removeEventListener('abort', onUserAbort);
    options.stop?.removeEventListener('abort', onStop);
    // Whatever happened before (failures, Ctrl-C), with the services still up. A signal of its own: the run's may
    // be aborted already, so only the steps' timeouts bound it (and the session's second Ctrl-C, which exits).
    if (plan.teardown.length > 0 && !options.share) {
      const end = new AbortController();
      const problem = await phase('teardown', () => runAlone({ ...run, signal: end.signal }, 'teardown', plan.teardown, (reason) => end.abort(new Error(reason))));
      if (problem) teardownFailure = `teardown failed: ${problem}`;
    }
    await closeAll(run, http, ws, browser.created(), services, coordinator);
  }

  const outcome: RunOutcome = options.signal?.aborted ? 'aborted' : failure || teardownFailure ? 'failed' : 'passed';
  // A failed teardown is told beside what went wrong before it, never instead.
  const reason = [outcome === 'aborted' ? 'interrupted: the run was stopped before it finished' : failure, teardownFailure].filter(Boolean).join('; ') || undefined;
  emit({ type: 'run:end', time: Date.now(), outcome, ...(reason ? { reason } : {}) });
  return redactor.redact({ outcome, ...(reason ? { reason } : {}), ...(crawl ? { crawl } : {}), ...(stopReason ? { stopReason } : {}) });
}

async function releaseWorker(engines: Array<Engine | undefined>, browser: Promise<Engine> | undefined, worker: number): Promise<void> {
  for (const engine of engines) await engine?.releaseWorker?.(worker);
  if (browser) await (await browser).releaseWorker?.(worker);
}

async function closeAll(
  run: RunContext,
  http: Engine | undefined,
  ws: Engine | undefined,
  browser: Promise<Engine> | undefined,
  services: { stop(): Promise<void> } | undefined,
  coordinator: Coordinator,
): Promise<void> {
  const warn = (what: string) => (error: unknown) =>
    run.emit({ type: 'log', time: Date.now(), level: 'warn', message: `${what}: ${error instanceof Error ? error.message : String(error)}` });
  await Promise.all([
    http?.close().catch(warn('closing the HTTP engine')),
    ws?.close().catch(warn('closing the WebSocket connections')),
    browser?.then((b) => b.close()).catch(warn('closing the browser')),
  ]);
  await services?.stop().catch(warn('stopping the services'));
  await coordinator.close().catch(warn('closing the coordinator'));
}
