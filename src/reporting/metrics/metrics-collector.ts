// The one place metrics are computed. Fed by the run's event stream, it builds
// the RunReport every output (summary, JSON, JUnit, HTML…) only formats.
import type { ThresholdSpec } from '../../contract/plan.js';
import {
  TALLY_RESULT_FIELDS,
  TALLY_ROUND_FIELDS,
  type CrawlProgress,
  type RunEvent,
  type RunInfo,
  type RunOutcome,
  type StepResult,
  type StepTally,
} from '../../contract/events.js';
import type { BarrierAggregate, CrawlReport, ErrorGroup, RunReport, SeriesBucket, StepAggregate, ThresholdResult, WorkerSummary } from '../../contract/report.js';
import { REPORT_VERSION } from '../../contract/report.js';
import type { LoadSnapshot, Reporter } from '../../contract/reporter.js';
import { describeFailedThresholds, evaluateThresholds, failingSoFar, type MetricSelection } from './evaluate-thresholds.js';
import { nounFor, plural } from '../../text/plural.js';
import { LatencyStats } from './latency-stats.js';
import { TimelineSample } from './timeline-sample.js';
import { SeriesRecorder } from './time-series.js';

/** Timeline entries kept as a sample of a big run (and as many failures and barrier waits): a few MB of report.json. */
export const DEFAULT_TIMELINE_CAP = 10_000;
const ERROR_EXAMPLES = 5;

interface StepBucket {
  agg: Omit<StepAggregate, 'latency' | 'scheduledLatency'>;
  latency: LatencyStats;
  /** From the scheduled start, for open-model iterations. */
  scheduled: LatencyStats;
  /** Failed runs by error code (`error` without one). */
  codes: Map<string, number>;
}

/**
 * The collector's aggregates as they stand, for readers that sample a run while
 * it goes (the Prometheus endpoint, at each scrape): the buckets themselves,
 * not copies, so a scrape re-aggregates nothing. Readers must not change them.
 */
export interface LiveMetrics {
  /** Undefined before run:begin. */
  run: RunInfo | undefined;
  ended: boolean;
  /** In plan order (setup, the roles, teardown), then any step first seen in a result (the crawl). */
  steps: ReadonlyArray<{ readonly agg: Readonly<StepBucket['agg']>; readonly latency: LatencyStats; readonly codes: ReadonlyMap<string, number> }>;
  barriers: ReadonlyArray<Readonly<BarrierBucket>>;
  /** Per arrival-rate role. */
  dropped: ReadonlyMap<string, number>;
  /** Per role: workers begun and not ended, and of them those inside a step. */
  workers: Map<string, { active: number; busy: number }>;
  /** The crawl's latest progress, once it reported some. */
  crawl: CrawlProgress | undefined;
}

interface BarrierBucket {
  name: string;
  waits: number;
  timeouts: number;
  broken: number;
  wait: LatencyStats;
}

export interface MetricsCollectorOptions {
  thresholds?: readonly ThresholdSpec[];
  /** Step results sampled into the timeline past this many (see timeline-sample.ts). */
  timelineCap?: number;
  /** Width of a time-series bucket, in ms; default 1 s. */
  bucketMs?: number;
  /** Each bucket of the time series as it closes (metrics.ndjson). */
  onBucket?: (bucket: SeriesBucket) => void;
  /** Clock for a report built before run:end (tests). */
  now?: () => number;
}

export interface ReportEnd {
  outcome: RunOutcome;
  reason?: string;
  crawl?: CrawlReport;
}

export class MetricsCollector implements Reporter {
  readonly name = 'metrics';
  private readonly thresholds: readonly ThresholdSpec[];
  private readonly now: () => number;

  private run?: RunInfo;
  private startTime?: number;
  private endTime?: number;
  private readonly steps = new Map<string, StepBucket>();
  private readonly barriers = new Map<string, BarrierBucket>();
  private readonly errors = new Map<string, ErrorGroup>();
  private readonly services = new Map<string, RunReport['services'][number]>();
  private readonly workers = new Map<number, WorkerSummary & { ended: boolean }>();
  private readonly timeline: TimelineSample;
  private readonly series: SeriesRecorder;
  private readonly dropped = new Map<string, number>();
  private crawlProgress?: CrawlProgress;
  /** The workers phase: when it began, and whether it ended (abortOnFail thresholds and the live load only then). */
  private workersBegan?: number;
  private workersEnded = false;
  /** The abortOnFail threshold that stopped the run: its index in `thresholds`, when and what it measured. */
  private abortedBy?: { index: number; afterMs: number; actual: number | null };

  constructor(o: MetricsCollectorOptions = {}) {
    this.thresholds = o.thresholds ?? [];
    this.timeline = new TimelineSample(o.timelineCap ?? DEFAULT_TIMELINE_CAP);
    this.series = new SeriesRecorder({ ...(o.bucketMs !== undefined ? { bucketMs: o.bucketMs } : {}), ...(o.onBucket ? { onBucket: o.onBucket } : {}) });
    this.now = o.now ?? Date.now;
  }

  onEvent(event: RunEvent): void {
    this.series.onEvent(event);
    switch (event.type) {
      case 'run:begin':
        this.run = event.run;
        this.startTime = event.time;
        for (const s of event.run.steps) this.stepBucket(s.role, s.stepId, s.name, s.kind);
        for (const b of event.run.barriers) if (b.wait.length > 0 || b.kind === 'meeting') this.barrierBucket(b.name);
        for (const r of event.run.roles) if (r.load === 'arrival-rate') this.dropped.set(r.name, 0);
        break;
      case 'phase:begin':
        if (event.phase === 'workers') this.workersBegan = event.time;
        break;
      case 'phase:end':
        if (event.phase === 'workers') this.workersEnded = true;
        break;
      case 'iteration:dropped':
        this.dropped.set(event.role, (this.dropped.get(event.role) ?? 0) + event.count);
        break;
      case 'service':
        this.services.set(event.name, { name: event.name, status: event.status, message: event.message, logFile: event.logFile ?? this.services.get(event.name)?.logFile });
        break;
      case 'worker:begin':
        if (!this.workers.has(event.worker))
          this.workers.set(event.worker, { id: event.worker, role: event.role, rounds: 0, outcome: 'aborted', ended: false, ...(event.agent ? { agent: event.agent } : {}) });
        break;
      case 'round:end': {
        const w = this.workers.get(event.worker);
        if (w && !w.ended) w.rounds = Math.max(w.rounds, event.round);
        break;
      }
      case 'worker:end':
        this.workers.set(event.worker, { ...this.workers.get(event.worker), id: event.worker, role: event.role, rounds: event.rounds, outcome: event.outcome, ended: true });
        break;
      case 'step:end':
        this.recordStep(event.result);
        break;
      case 'steps:tally':
        this.recordTally(event.tally);
        break;
      case 'crawl:progress':
        this.crawlProgress = event.progress;
        break;
      case 'run:end':
        this.endTime = event.time;
        break;
      default:
        break;
    }
  }

  private stepBucket(role: string, stepId: string, name: string, kind: StepAggregate['kind']): StepBucket {
    const key = `${role}\u0000${stepId}`;
    let b = this.steps.get(key);
    if (!b) {
      b = { agg: { stepId, name, kind, role, count: 0, ok: 0, failed: 0, skipped: 0, bytes: 0 }, latency: new LatencyStats(), scheduled: new LatencyStats(), codes: new Map() };
      this.steps.set(key, b);
    }
    return b;
  }

  private barrierBucket(name: string): BarrierBucket {
    let b = this.barriers.get(name);
    if (!b) {
      b = { name, waits: 0, timeouts: 0, broken: 0, wait: new LatencyStats() };
      this.barriers.set(name, b);
    }
    return b;
  }

  private recordStep(r: StepResult): void {
    const b = this.stepBucket(r.role, r.stepId, r.name, r.kind);
    b.agg[r.outcome]++;
    // count is what thresholds count too: the runs that happened (skipped ones did not).
    if (r.outcome !== 'skipped') {
      b.agg.count++;
      b.latency.record(r.durationMs);
      if (r.lagMs !== undefined) b.scheduled.record(r.lagMs + r.durationMs);
    }
    if (r.http) b.agg.bytes += r.http.bytes;
    if (r.ws) {
      b.agg.bytes += r.ws.bytes;
      const w = (b.agg.ws ??= { sent: 0, received: 0, skipped: 0, dropped: 0 });
      w.sent += r.ws.sent;
      w.received += r.ws.received;
      w.skipped += r.ws.skipped;
      w.dropped += r.ws.dropped;
    }

    if (r.wait) {
      const w = this.barrierBucket(r.wait.barrier);
      w.waits++;
      w.wait.record(r.wait.waitedMs);
      if (r.error?.code === 'barrier-timeout') w.timeouts++;
      if (r.error?.code === 'broken-barrier') w.broken++;
    }

    if (r.outcome === 'failed') {
      const code = r.error?.code ?? 'error';
      b.codes.set(code, (b.codes.get(code) ?? 0) + 1);
      this.recordError(r);
    }

    this.timeline.add(r);
  }

  /** What recordStep does for each of the tally's ok results, from their numbers; the rounds' ends for the workers. */
  private recordTally(t: StepTally): void {
    const buckets = t.steps.map((s) => this.stepBucket(s.role, s.stepId, s.name, s.kind));
    const { results, rounds } = t;
    for (let i = 0; i < results.length; i += TALLY_RESULT_FIELDS) {
      const b = buckets[results[i]!]!;
      const durationMs = results[i + 2]!;
      const lagMs = results[i + 4]!;
      b.agg.ok++;
      b.agg.count++;
      b.latency.record(durationMs);
      if (lagMs >= 0) b.scheduled.record(lagMs + durationMs);
      b.agg.bytes += results[i + 3]!;
      const sent = results[i + 5]!;
      if (sent >= 0) {
        const w = (b.agg.ws ??= { sent: 0, received: 0, skipped: 0, dropped: 0 });
        w.sent += sent;
        w.received += results[i + 6]!;
        w.skipped += results[i + 7]!;
        w.dropped += results[i + 8]!;
      }
    }
    for (let i = 0; i < rounds.length; i += TALLY_ROUND_FIELDS) {
      const w = this.workers.get(rounds[i]!);
      if (w && !w.ended) w.rounds = Math.max(w.rounds, rounds[i + 2]!);
    }
    this.timeline.addTallied(results.length / TALLY_RESULT_FIELDS, t.sampled);
  }

  get bucketMs(): number {
    return this.series.bucketMs;
  }

  /** Closes the time-series buckets that ended before `now`, so they stream while no event comes. */
  tick(now: number): void {
    this.series.tick(now);
  }

  /**
   * The first abortOnFail threshold that fails on the results so far, past its grace (counted from the workers
   * phase's start), while the workers run; remembered, so the report marks it. The session asks about every
   * second and stops the run on an answer; once one answered, the others are not judged again.
   */
  abortingThreshold(now: number): ThresholdResult | undefined {
    if (this.abortedBy || this.workersBegan === undefined || this.workersEnded) return undefined;
    const startTime = this.startTime ?? now;
    const sinceWorkers = now - this.workersBegan;
    for (const [index, spec] of this.thresholds.entries()) {
      if (!spec.abortOnFail || sinceWorkers < spec.abortOnFail.graceMs) continue;
      const failed = failingSoFar(spec, { select: (s) => this.select(s), durationMs: now - startTime });
      if (failed) {
        this.abortedBy = { index, afterMs: Math.round(now - startTime), actual: failed.actual };
        return failed;
      }
    }
    return undefined;
  }

  /** The load now, while the workers run (the live view): the last complete bucket, workers and drops so far. */
  load(now: number): Omit<LoadSnapshot, 'stages'> | undefined {
    if (this.workersBegan === undefined || this.workersEnded) return undefined;
    const b = this.series.lastClosed();
    const perSecond = 1000 / this.series.bucketMs;
    const workers = this.series.workersNow();
    let dropped = 0;
    for (const n of this.dropped.values()) dropped += n;
    return {
      time: now,
      elapsedMs: now - this.workersBegan,
      ...(b
        ? {
            last: {
              requestsPerSecond: b.requests * perSecond,
              stepsPerSecond: b.steps * perSecond,
              ...(b.http ? { p95Ms: b.http.p95 } : {}),
              errorRate: b.steps > 0 ? b.failed / b.steps : null,
            },
          }
        : {}),
      activeWorkers: workers.active.size,
      busyWorkers: workers.busy.size,
      dropped,
    };
  }

  private recordError(r: StepResult): void {
    const message = r.error?.message ?? 'failed without a message';
    const key = `${r.error?.code ?? ''}\u0000${message}`;
    let g = this.errors.get(key);
    if (!g) {
      g = { message, code: r.error?.code, count: 0, examples: [] };
      this.errors.set(key, g);
    }
    g.count++;
    if (g.examples.length < ERROR_EXAMPLES) {
      g.examples.push({ worker: r.worker, role: r.role, round: r.round, stepId: r.stepId, name: r.name, ...(r.attachments?.length ? { attachments: r.attachments } : {}) });
    }
  }

  /** The aggregates as of now (see LiveMetrics); O(steps + workers), no histogram copied. */
  live(): LiveMetrics {
    const workers = new Map<string, { active: number; busy: number }>();
    const roleOf = new Map<number, string>();
    for (const w of this.workers.values()) {
      roleOf.set(w.id, w.role);
      const n = workers.get(w.role) ?? { active: 0, busy: 0 };
      if (!w.ended) n.active++;
      workers.set(w.role, n);
    }
    for (const id of this.series.workersNow().busy) {
      const role = roleOf.get(id);
      const n = role === undefined ? undefined : workers.get(role);
      if (n) n.busy++;
    }
    return {
      run: this.run,
      ended: this.endTime !== undefined,
      steps: [...this.steps.values()],
      barriers: [...this.barriers.values()],
      dropped: this.dropped,
      workers,
      crawl: this.crawlProgress,
    };
  }

  /** What a threshold selector measures; see README "Thresholds". */
  select(selector: string, crawl?: CrawlReport): MetricSelection | undefined {
    const barrier = /^barrier\.(.+)\.wait$/.exec(selector);
    if (barrier) {
      const b = this.barriers.get(barrier[1]!);
      return b && { executed: b.waits, failed: b.timeouts + b.broken, latency: b.wait.percentiles() };
    }
    if (selector === 'crawl') return crawl && crawlSelection(crawl);
    // `http.scheduled`: the same steps, timed from their iteration's scheduled start (open model only).
    const scheduled = selector.endsWith('.scheduled') && !selector.startsWith('step.');
    const match = stepFilter(scheduled ? selector.slice(0, -'.scheduled'.length) : selector);
    if (!match) return undefined;
    const latency = new LatencyStats();
    let executed = 0;
    let failed = 0;
    for (const b of this.steps.values()) {
      if (!match(b.agg)) continue;
      executed += b.agg.ok + b.agg.failed;
      failed += b.agg.failed;
      latency.merge(scheduled ? b.scheduled : b.latency);
    }
    return { executed, failed, latency: latency.percentiles() };
  }

  /** The report as of now; safe to call for a run stopped half-way (steps not ended are absent). */
  buildReport(end: ReportEnd): RunReport {
    const endTime = this.endTime ?? this.now();
    const startTime = this.startTime ?? endTime;
    const durationMs = Math.max(0, endTime - startTime);

    // The threshold that stopped the run failed when it was judged, whatever the results after it say.
    const thresholds = evaluateThresholds(this.thresholds, { select: (s) => this.select(s, end.crawl), durationMs }).map((r, i) =>
      i === this.abortedBy?.index ? { ...r, passed: false, aborted: { afterMs: this.abortedBy.afterMs, actual: this.abortedBy.actual } } : r,
    );
    const steps = [...this.steps.values()].map(
      (b): StepAggregate => ({ ...b.agg, ...optional('latency', b.latency.percentiles()), ...optional('scheduledLatency', b.scheduled.percentiles()) }),
    );

    let outcome = end.outcome;
    let reason = end.reason;
    if (outcome === 'passed') {
      const failedSteps = steps.reduce((n, s) => n + s.failed, 0);
      const thresholdReason = describeFailedThresholds(thresholds);
      // A service that died during the run (the run itself went on): the likely cause of anything else, so named first.
      const failedServices = [...this.services.values()].filter((s) => s.status === 'failed').map((s) => s.name);
      if (failedServices.length > 0) {
        outcome = 'failed';
        reason = `${nounFor(failedServices.length, 'service')} ${failedServices.join(', ')} failed during the run`;
      } else if (failedSteps > 0) {
        outcome = 'failed';
        reason = `${plural(failedSteps, 'step')} failed`;
      } else if (thresholdReason) {
        outcome = 'failed';
        reason = thresholdReason;
      }
    } else if (outcome === 'failed' && !reason) {
      reason = describeFailedThresholds(thresholds);
    }

    return {
      version: REPORT_VERSION,
      run: this.run ?? emptyRunInfo(),
      startedAt: new Date(startTime).toISOString(),
      endedAt: new Date(endTime).toISOString(),
      durationMs,
      outcome,
      exitCode: exitCodeFor(outcome),
      ...optional('reason', reason),
      services: [...this.services.values()].map((s) => stripUndefined(s)),
      workers: [...this.workers.values()].sort((a, b) => a.id - b.id).map(({ ended: _ended, ...w }) => w),
      steps,
      barriers: [...this.barriers.values()].map(
        (b): BarrierAggregate => ({ name: b.name, waits: b.waits, timeouts: b.timeouts, broken: b.broken, ...optional('wait', b.wait.percentiles()) }),
      ),
      errors: [...this.errors.values()].sort((a, b) => b.count - a.count).map((g) => stripUndefined({ ...g, examples: [...g.examples] })),
      thresholds,
      timeline: this.timeline.entries(),
      timelineTruncated: this.timeline.total - this.timeline.kept,
      ...optional('timelineSampled', this.timeline.kept < this.timeline.total ? { kept: this.timeline.kept, total: this.timeline.total, cap: this.timeline.cap } : undefined),
      series: this.series.series(),
      ...optional('dropped', this.dropped.size > 0 ? Object.fromEntries(this.dropped) : undefined),
      ...optional('crawl', end.crawl),
    };
  }
}

export function exitCodeFor(outcome: RunOutcome): number {
  return outcome === 'passed' ? 0 : outcome === 'aborted' ? 130 : 1;
}

/** `http` → request steps, `browser` → browser steps, `steps` → all, `step.NAME` → by name. */
function stepFilter(selector: string): ((s: StepBucket['agg']) => boolean) | undefined {
  if (selector === 'steps') return () => true;
  if (selector === 'http') return (s) => s.kind === 'request';
  if (selector === 'browser') return (s) => s.kind === 'browser';
  if (selector.startsWith('step.')) {
    const name = selector.slice(5);
    return (s) => s.name === name;
  }
  return undefined;
}

function crawlSelection(crawl: CrawlReport): MetricSelection {
  const latency = new LatencyStats();
  for (const u of crawl.urls) if (u.durationMs !== undefined) latency.record(u.durationMs);
  return { executed: crawl.crawled + crawl.checked, failed: crawl.broken, latency: latency.percentiles() };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function emptyRunInfo(): RunInfo {
  return { runId: '', planName: '', planFile: '', workers: 0, roles: [], barriers: [], steps: [], hasCrawl: false, reportDir: '' };
}
