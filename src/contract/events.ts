// Everything a run tells the outside world. The runner and engines emit these;
// reporters (live view, JSON, JUnit, HTML…) only subscribe. Times are epoch
// milliseconds (fractional) so orderings across workers can be asserted.
import type { StepKind } from './plan.js';

export type StepOutcome = 'ok' | 'failed' | 'skipped';

export interface StepError {
  message: string;
  /** Short machine-readable kind: timeout, connect, expectation, broken-barrier, browser, … */
  code?: string;
}

export interface Attachment {
  name: string;
  /** Path relative to the report folder. */
  path: string;
  contentType: string;
}

/** Message counts of one ws step; `bytes` counts message payloads sent and received. */
export interface WsStepInfo {
  url: string;
  sent: number;
  /** Messages this step took off the connection: the one an expect matched and those it skipped. */
  received: number;
  /** Received messages that did not match (expect), or were left unread when the connection closed. */
  skipped: number;
  /** Messages dropped because the buffer was full, since the previous step on this connection. */
  dropped: number;
  bytes: number;
  /** How the connection closed, when it did during this step (or before it). */
  closeCode?: number;
}

export interface StepResult {
  /** The worker's id; -1 and -2 for the setup and teardown pseudo-workers (roles `setup`, `teardown`). */
  worker: number;
  role: string;
  round: number;
  stepId: string;
  name: string;
  kind: StepKind | 'crawl';
  start: number;
  durationMs: number;
  outcome: StepOutcome;
  error?: StepError;
  http?: { method: string; url: string; status?: number; bytes: number };
  /** For wait / barrier steps: the barrier and how long the worker waited. */
  wait?: { barrier: string; waitedMs: number };
  /** For signal steps: the event barrier signalled. */
  signal?: { barrier: string };
  /** For ws steps: the connection's URL and what this step sent and took off it. */
  ws?: WsStepInfo;
  /** For browser steps: the page URL at the end of the step. */
  pageUrl?: string;
  attachments?: Attachment[];
  /**
   * Open-model iterations only (`rate` or rate `stages`): when the iteration was
   * due (epoch ms) and how late it started. lagMs + durationMs is the step's
   * latency from the scheduled start, which queueing in the tool cannot hide.
   */
  scheduledStart?: number;
  lagMs?: number;
}

export interface RunInfo {
  runId: string;
  planName: string;
  planFile: string;
  description?: string;
  target?: string;
  workers: number;
  rounds?: number;
  durationMs?: number;
  /** `load`: the role's load model when it is not the closed model (rounds or duration). */
  roles: Array<{ name: string; workers: number[]; load?: 'arrival-rate' | 'ramping-workers' }>;
  barriers: Array<{ name: string; kind: 'event' | 'meeting'; scope?: string; signal: string[]; wait: string[]; count: number }>;
  /** Step ids and names per role, in order, so a live view can show progress. */
  steps: Array<{ role: string; stepId: string; name: string; kind: StepKind }>;
  hasCrawl: boolean;
  reportDir: string;
}

export type Phase = 'services' | 'setup' | 'workers' | 'crawl' | 'teardown' | 'reports';

export type ServiceStatus = 'starting' | 'ready' | 'failed' | 'stopped' | 'skipped';

export type WorkerOutcome = 'done' | 'failed' | 'stopped' | 'aborted';

export interface CrawlProgress {
  done: number;
  queued: number;
  inFlight: number;
  broken: number;
  pagesPerSecond: number;
}

export type RunEvent =
  | { type: 'run:begin'; time: number; run: RunInfo }
  | { type: 'phase:begin'; time: number; phase: Phase }
  | { type: 'phase:end'; time: number; phase: Phase; ok: boolean; message?: string }
  | { type: 'service'; time: number; name: string; status: ServiceStatus; message?: string; logFile?: string }
  /** `agent`: the agent process that runs the worker, in a run shared by agents (--agents). */
  | { type: 'worker:begin'; time: number; worker: number; role: string; agent?: string }
  | { type: 'round:begin'; time: number; worker: number; role: string; round: number }
  | { type: 'step:begin'; time: number; worker: number; role: string; round: number; stepId: string; name: string; kind: StepKind }
  | { type: 'step:end'; time: number; result: StepResult }
  | { type: 'round:end'; time: number; worker: number; role: string; round: number; ok: boolean }
  /**
   * Whole rounds that ended ok, folded by an agent instead of sent as their round, step and result events (see
   * StepTally). Nothing is emitted this way in one process.
   */
  | { type: 'steps:tally'; time: number; tally: StepTally }
  | { type: 'worker:end'; time: number; worker: number; role: string; outcome: WorkerOutcome; rounds: number }
  /** Open-model iterations that were due while every worker of the role was busy: not started (batched, about one event a second). */
  | { type: 'iteration:dropped'; time: number; role: string; count: number }
  /**
   * An open-model role's load target now (rate or stages): iterations/s for `arrival-rate`, workers for
   * `ramping-workers`. Sent when the role starts, a few times a second while it runs, and 0 when its stages end.
   */
  | { type: 'load:target'; time: number; role: string; target: number }
  | { type: 'crawl:progress'; time: number; progress: CrawlProgress }
  | { type: 'log'; time: number; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'run:end'; time: number; outcome: RunOutcome; reason?: string };

/** Numbers per round in StepTally.rounds: worker, index in `roles`, round, its begin time, its end time, its results. */
export const TALLY_ROUND_FIELDS = 6;
/**
 * Numbers per result in StepTally.results: index in `steps`, start, durationMs, bytes, lagMs (-1 in the closed
 * model), then the ws counters sent, received, skipped, dropped (sent -1 when the result had no ws counters).
 */
export const TALLY_RESULT_FIELDS = 9;

/**
 * Rounds in which every step ended ok and none waited, signalled or attached a file: what every aggregate of the
 * report needs of them, as numbers, instead of a round:begin, step:begin, step:end and round:end event each. An
 * agent sends one every batch (agents/step-folder.ts): at thousands of requests a second the events themselves
 * cost the agent and the controller more than the requests. The rounds are in the order they ended, each followed
 * in `results` by its results in the order they ended; a result ended at start + durationMs.
 */
export interface StepTally {
  /** Who folded them (an agent's id): busy workers are counted per source. */
  source: string;
  roles: string[];
  steps: Array<{ role: string; stepId: string; name: string; kind: StepKind }>;
  /** TALLY_ROUND_FIELDS numbers per round. */
  rounds: number[];
  /** TALLY_RESULT_FIELDS numbers per result. */
  results: number[];
  /**
   * The results the source's own reservoir kept for the report's timeline, whole, with the chance it kept each
   * with (see timeline-sample.ts) and its place among the tally's results.
   */
  sampled: Array<{ at: number; keptWith: number; result: StepResult }>;
  /** The source's workers inside a step of a round it was holding when the tally was made (their step:begin is held). */
  busy: number[];
}

export type RunOutcome = 'passed' | 'failed' | 'aborted';

export type RunEventOf<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;
