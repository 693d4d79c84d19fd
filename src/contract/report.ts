// The JSON report: the single source every other format (JUnit, HTML, Markdown)
// renders from, and what `planrun report <report.json>` reads back.
// schemas/report.schema.json publishes this shape (timeline entries are
// StepResult, events.ts): change both together; the tests check every
// report.json they read against the schema (test/helpers/report-helpers.ts).
import type { StepKind } from './plan.js';
import type { RunInfo, RunOutcome, StepResult, WorkerOutcome, ServiceStatus, Attachment } from './events.js';

export const REPORT_VERSION = 1;

export interface Percentiles {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface StepAggregate {
  stepId: string;
  name: string;
  kind: StepKind | 'crawl';
  role: string;
  /** Runs that executed: ok + failed. Skipped runs are counted in `skipped` only. */
  count: number;
  ok: number;
  failed: number;
  skipped: number;
  /** Latency of executed (ok + failed) runs, in ms. Absent when none ran. */
  latency?: Percentiles;
  /** Open-model runs only: latency from the iteration's scheduled start (lagMs + durationMs), in ms. */
  scheduledLatency?: Percentiles;
  bytes: number;
  /** For ws steps: messages sent, received, skipped and dropped over every run of the step. */
  ws?: WsCounts;
}

export interface WsCounts {
  sent: number;
  received: number;
  skipped: number;
  dropped: number;
}

export interface BarrierAggregate {
  name: string;
  waits: number;
  timeouts: number;
  broken: number;
  /** Time waiters spent waiting, in ms. */
  wait?: Percentiles;
}

export interface ErrorGroup {
  message: string;
  code?: string;
  count: number;
  /** A few occurrences, first ones first. */
  examples: Array<{ worker: number; role: string; round: number; stepId: string; name: string; attachments?: Attachment[] }>;
}

export interface ThresholdResult {
  selector: string;
  condition: string;
  /** The measured value, in the unit of the condition (ms, fraction, number); null when nothing was measured. */
  actual: number | null;
  passed: boolean;
  /** This abortOnFail threshold failed during the run and stopped it: when (ms after the run began) and what it measured then. */
  aborted?: { afterMs: number; actual: number | null };
}

export interface CrawlReferrer {
  page: string;
  /** The element and attribute the link came from, e.g. `a[href]`. */
  element: string;
  /** Link text or alt text, trimmed. */
  text?: string;
}

export type CrawlBrokenKind = '4xx' | '5xx' | 'network' | 'timeout' | 'redirect-loop' | 'redirect-limit' | 'out-of-scope-redirect' | 'expectation' | 'fragment' | 'sitemap';

export interface CrawlUrlResult {
  url: string;
  /** crawled: fetched and parsed for links; checked: fetched only. */
  mode: 'crawled' | 'checked';
  status?: number;
  durationMs?: number;
  depth: number;
  contentType?: string;
  redirects: Array<{ url: string; status: number }>;
  referrers: CrawlReferrer[];
  /** How many links point here; `referrers` lists them all for broken URLs, the first few otherwise. */
  referrerCount?: number;
  broken?: { kind: CrawlBrokenKind; message: string };
}

export interface CrawlReport {
  startUrls: string[];
  /** Start URLs read from sitemaps and URL files (absent when `start` lists URLs only). */
  seeds?: {
    /** Sitemaps and sitemap indexes read (each is also in `urls`, checked). */
    sitemaps: number;
    /** `<url><loc>` entries read from them. */
    fromSitemaps: number;
    /** URLs read from URL files. */
    fromFiles: number;
  };
  /** How the crawl stopped: by itself when nothing was left, or at a limit. */
  stoppedBy: 'complete' | 'maxPages' | 'aborted';
  durationMs: number;
  crawled: number;
  checked: number;
  broken: number;
  brokenByKind: Partial<Record<CrawlBrokenKind, number>>;
  skipped: { byRule: number; byRobots: number; byDepth: number; byScheme: number; outOfScope: number };
  sampledAway: number;
  statusHistogram: Record<string, number>;
  /** Broken URLs, each with every referrer. */
  brokenUrls: CrawlUrlResult[];
  /** Every URL fetched (may be capped for huge crawls; see `urlsTruncated`). */
  urls: CrawlUrlResult[];
  urlsTruncated: boolean;
  /** Retries done: after network errors, and after 429/503 answers. */
  retries?: { network: number; status: number };
  /** HTTP requests sent in total: redirect hops, retries, GET after a failed HEAD and robots.txt included. */
  requests?: number;
}

/** The run in fixed time buckets, from its start to its end: bounded in size whatever the run's length. */
export interface TimeSeries {
  /** Width of a bucket, in ms. */
  bucketMs: number;
  buckets: SeriesBucket[];
}

/** What happened in one bucket. A step counts in the bucket where it ended. */
export interface SeriesBucket {
  /** Start of the bucket, in ms from the run's start. */
  t: number;
  /** Step runs that executed (ok + failed). */
  steps: number;
  /** Of them, HTTP request steps. */
  requests: number;
  failed: number;
  /** Failed runs by error code (`error` for failures without one). */
  errors: Record<string, number>;
  /** Latency of the HTTP request steps. Absent when none ended. */
  http?: Percentiles;
  /** Per step that executed in the bucket. */
  byStep: Array<{ role: string; stepId: string; count: number; failed: number; latency: Percentiles }>;
  /** Workers running (begun, not ended), the most at once. */
  activeWorkers: number;
  /** Workers inside a step, the most at once. */
  busyWorkers: number;
  /** Iterations (rounds) that began. Absent in reports written before planrun counted them. */
  iterations?: number;
  /** Open-model iterations dropped. */
  dropped: number;
  /**
   * Per open-model role, its load target in the bucket (the mean of what its executor reported):
   * iterations/s for `arrival-rate`, workers for `ramping-workers`. Absent when no role has one.
   */
  targets?: Record<string, number>;
  /** Waits on barriers that ended. */
  barrierWaits: number;
}

export interface WorkerSummary {
  id: number;
  role: string;
  rounds: number;
  outcome: WorkerOutcome;
  /** The agent that ran it, in a run shared by agents. */
  agent?: string;
}

export interface RunReport {
  version: typeof REPORT_VERSION;
  run: RunInfo;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  outcome: RunOutcome;
  exitCode: number;
  /** Why the run failed or stopped early, in one sentence. */
  reason?: string;
  services: Array<{ name: string; status: ServiceStatus; message?: string; logFile?: string }>;
  workers: WorkerSummary[];
  steps: StepAggregate[];
  barriers: BarrierAggregate[];
  errors: ErrorGroup[];
  thresholds: ThresholdResult[];
  /**
   * Step executions in start order, for the coordination timeline: every one
   * when the run is small. Past the cap, a uniform sample of the ok/skipped
   * results over the whole run plus the failures and barrier waits (up to the
   * cap again); `timelineSampled` then says so.
   */
  timeline: StepResult[];
  /** Results left out of the timeline (0 when it is complete). */
  timelineTruncated: number;
  /** Present when the timeline is a sample: entries kept, results seen, the cap. */
  timelineSampled?: { kept: number; total: number; cap: number };
  /** The whole run in time buckets. Absent in reports written before it existed. */
  series?: TimeSeries;
  /** Per arrival-rate role: iterations not started because every worker of its pool was busy. Absent without such roles. */
  dropped?: Record<string, number>;
  crawl?: CrawlReport;
}
