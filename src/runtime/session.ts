// A run session: everything around runPlan that makes a run what `planrun run`
// does. The metrics collector and the reporters are fed by one multiplexer;
// one redactor hides secrets from the events and from the session's own
// messages; Ctrl-C and SIGTERM are handled by phase (interrupts.ts); a crash of
// ours becomes the run's failure rather than losing what ran; the reports are
// written whatever happened. With `metrics`, the collector's numbers are also
// served to Prometheus from before the run until its reports are written (and a
// linger after). The CLI, the benchmarks and the tests call this; the CLI only
// parses argv and prints.
import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolve } from 'node:path';
import type { CompiledPlan } from '../contract/plan.js';
import { graphOf, type ExecutionGraph } from '../graph/graph.js';
import { MetricsCollector } from '../reporting/metrics/metrics-collector.js';
import { openMetricsStream, type MetricsStream } from '../reporting/files/metrics-stream.js';
import { startMetricsEndpoint } from '../reporting/prometheus/endpoint.js';
import { createLiveRegistry } from '../reporting/prometheus/live-registry.js';
import { createReporters, DEFAULT_REPORTERS } from '../reporting/registry.js';
import type { RunReport } from '../contract/report.js';
import { LOAD_SNAPSHOT_MS, type Reporter } from '../contract/reporter.js';
import { formatThresholdActual } from '../reporting/metrics/evaluate-thresholds.js';
import { roleStages } from './load-stages.js';
import { ReporterMux } from '../reporting/reporter-mux.js';
import { INTERRUPTED_EXIT_CODE, Interrupts, type InterruptOptions } from './interrupts.js';
import { Redactor } from './redact.js';
import { formatDuration } from '../text/duration.js';
import { newRunId, runPlan, type RunOptions, type RunResult } from './run.js';

/** How often the abortOnFail thresholds are judged during the workers phase. */
const THRESHOLD_CHECK_MS = 1000;

export interface SessionOptions {
  /** Reporter names; default the plan's `reports.reporters`, else live and json. `[]`: none (the report is still built). */
  reporters?: readonly string[];
  /** Also fed every event and the report, after the named reporters (a test's or a benchmark's own). */
  extraReporters?: Reporter[];
  /** Report folder; default the plan's `reports.out`, else ./planrun-report. */
  reportDir?: string;
  /** Where the terminal reporter draws; default stdout. */
  stream?: NodeJS.WriteStream;
  /** Read for the colour policy, CI and $GITHUB_STEP_SUMMARY; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** false: do not start the plan's services (they already run). */
  services?: boolean;
  headed?: boolean;
  runId?: string;
  /** Seed of the generated values; default the plan's `seed:`. */
  seed?: number;
  /** Where the signal messages go and how a second signal exits (tests); default stderr, process.exit. */
  interrupts?: InterruptOptions;
  /** Step results kept whole in the report's timeline before it is sampled; default DEFAULT_TIMELINE_CAP. */
  timelineCap?: number;
  /** Width of the report's time-series buckets, in ms; default 1 s (short test runs use less, to get many). */
  bucketMs?: number;
  /** The session's own messages (a reporter that failed); default stderr. */
  write?(text: string): void;
  /** Serves the live metrics to Prometheus while the run lasts (`--metrics-port`). */
  metrics?: MetricsOptions;
  /** Runs the workers elsewhere (agents, src/agents/): called once the run id and report folder are known. */
  placeWorkers?(at: { runId: string; reportDir: string; signal: AbortSignal }): Promise<WorkerPlacement>;
}

export interface MetricsOptions {
  /** 0: any free port (the URL is written). */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** How long the endpoint stays up after the reports are written (a last scrape); default 0. A signal ends it. */
  lingerMs?: number;
  /** Steps with a `step` label of their own; default STEP_LABEL_CAP. */
  stepCap?: number;
}

/** Workers running outside this process: what runPlan needs to reach them, and how to let them go. */
export interface WorkerPlacement {
  runOptions(): Promise<Pick<RunOptions, 'coordinator' | 'runWorkers' | 'runCrawl' | 'resumeAtCrawl'>>;
  close(): Promise<void>;
}

/** The workers could not be placed (no agents came, Redis unreachable): nothing ran. */
export class PlacementError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface SessionResult {
  /** 0 passed, 1 failed, 130 interrupted (see RunReport.exitCode). */
  exitCode: number;
  report: RunReport;
  reportDir: string;
}

/**
 * Runs the plan (or its execution graph, built already) and writes its reports. Throws only before anything ran: a
 * ReporterSelectionError (reporters.js) for reporter names that cannot be used,
 * a MetricsEndpointError (reporting/prometheus/endpoint.js) when the metrics
 * port cannot be listened on, or a PlacementError when the workers could not be
 * placed on agents.
 */
export async function runSession(input: CompiledPlan | ExecutionGraph, o: SessionOptions = {}): Promise<SessionResult> {
  // `planrun run` hands over the graph it checked for deadlocks: the run uses it, not a second one.
  const graph = graphOf(input);
  const { plan } = graph;
  const write = o.write ?? ((text: string) => process.stderr.write(text));
  const reportDir = resolve(o.reportDir ?? plan.reports.out ?? 'planrun-report');
  // An empty list in the plan means its default, as if the key were absent.
  const names = o.reporters ?? (plan.reports.reporters?.length ? plan.reports.reporters : DEFAULT_REPORTERS);
  const reporters = await createReporters(names, { reportDir, stream: o.stream ?? process.stdout, env: o.env ?? process.env });
  const runId = o.runId ?? newRunId();
  // Set once the report folder exists (below); buckets close only after run:begin.
  let stream: MetricsStream | undefined;
  const collector = new MetricsCollector({
    thresholds: plan.thresholds,
    ...(o.timelineCap !== undefined ? { timelineCap: o.timelineCap } : {}),
    ...(o.bucketMs !== undefined ? { bucketMs: o.bucketMs } : {}),
    onBucket: (b) => stream?.write(b),
  });
  // Listening before anything is written or started: a port in use fails the command and leaves the folder as it was.
  const endpoint = o.metrics
    ? await startMetricsEndpoint({
        port: o.metrics.port,
        ...(o.metrics.host ? { host: o.metrics.host } : {}),
        registry: createLiveRegistry({ runId, live: () => collector.live(), hasCrawl: plan.crawl !== undefined, ...(o.metrics.stepCap ? { stepCap: o.metrics.stepCap } : {}) }),
      })
    : undefined;
  if (endpoint) write(`planrun: live metrics at ${endpoint.url}\n`);
  // Shared with the run, so the messages written here also hide what it learned (a token sent in a header).
  const redactor = new Redactor(plan.redact);
  const mux = new ReporterMux([collector, ...reporters, ...(o.extraReporters ?? [])]);
  const stop = new AbortController();
  // One timer: it closes the series' buckets when no event does (a long wait), hands the reporters the load a few
  // times a second, and judges the abortOnFail thresholds about every second (the collector's aggregates so far).
  const hasAbortThresholds = plan.thresholds.some((t) => t.abortOnFail);
  const wantsLoad = [...reporters, ...(o.extraReporters ?? [])].some((r) => r.onLoad);
  let lastJudged = 0;
  const ticker = setInterval(() => {
    const now = Date.now();
    collector.tick(now);
    const load = collector.load(now);
    if (!load) return;
    if (wantsLoad) mux.onLoad({ ...load, stages: roleStages(plan, load.elapsedMs) });
    if (!hasAbortThresholds || now - lastJudged < THRESHOLD_CHECK_MS) return;
    lastJudged = now;
    const failed = collector.abortingThreshold(now);
    if (failed)
      stop.abort(new Error(`threshold ${failed.selector} \`${failed.condition}\` failed during the run (actual ${formatThresholdActual(failed)}), so the run was stopped early`));
  }, LOAD_SNAPSHOT_MS);
  ticker.unref();

  const interrupts = new Interrupts(o.interrupts);
  try {
    await mkdir(reportDir, { recursive: true });
    // The series streams beside report.json (the same data, as the run goes), so a run killed hard keeps it.
    stream = names.includes('json') ? openMetricsStream(reportDir) : undefined;
    let placement: WorkerPlacement | undefined;
    try {
      placement = await o.placeWorkers?.({ runId, reportDir, signal: interrupts.signal });
    } catch (err) {
      // A placement may say how bad its failure is (a run id that cannot be resumed is a usage error).
      const exitCode = interrupts.interrupted ? INTERRUPTED_EXIT_CODE : ((err as { exitCode?: number }).exitCode ?? 1);
      throw new PlacementError(redactor.redactText((err as Error).message), exitCode);
    }
    let result: RunResult;
    try {
      result = await runPlan(graph, {
        ...(placement ? await placement.runOptions() : {}),
        emit: (e) => mux.onEvent(e),
        reportDir,
        signal: interrupts.signal,
        stop: stop.signal,
        runId,
        services: o.services ?? true,
        headed: o.headed ?? false,
        redactor,
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
      });
    } catch (err) {
      // A bug of ours must not lose what ran: report it as the run's failure.
      const reason = redactor.redactText(`planrun failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      mux.onEvent({ type: 'run:end', time: Date.now(), outcome: 'failed', reason });
      result = { outcome: 'failed', reason };
    } finally {
      await placement?.close();
    }
    // The run is over, whatever happened: from here a first signal lets the reports finish.
    interrupts.reporting();
    const report = collector.buildReport({ outcome: result.outcome, ...(result.reason ? { reason: result.reason } : {}), ...(result.crawl ? { crawl: result.crawl } : {}) });
    // Shown like the other phases (plain prints `▶ reports`): writing a big run's reports takes seconds.
    mux.onEvent({ type: 'phase:begin', time: Date.now(), phase: 'reports' });
    await mux.onEnd(report);
    if (stream?.error) write(redactor.redactText(`planrun: ${stream.file} stopped: ${stream.error instanceof Error ? stream.error.message : String(stream.error)}\n`));
    for (const { reporter, error } of mux.errors)
      write(redactor.redactText(`planrun: the ${reporter} reporter failed: ${error instanceof Error ? error.message : String(error)}\n`));
    // A last scrape can catch the final numbers; a signal ends the wait at once.
    if (endpoint && o.metrics?.lingerMs && !interrupts.interrupted) {
      write(`planrun: the live metrics stay at ${endpoint.url} for ${formatDuration(o.metrics.lingerMs)} (Ctrl-C ends it)\n`);
      await sleep(o.metrics.lingerMs, undefined, { signal: interrupts.anySignal }).catch(() => {});
    }
    // A signal while the reports were written let them finish; it still says the run was interrupted.
    return { exitCode: interrupts.interrupted ? INTERRUPTED_EXIT_CODE : report.exitCode, report, reportDir };
  } finally {
    clearInterval(ticker);
    stream?.close();
    interrupts.dispose();
    await endpoint?.close();
  }
}
