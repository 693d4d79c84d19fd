// The one interface every output implements. A reporter sees the live event
// stream, a few times a second the load as the metrics collector measures it,
// then the finished report model (built once by the collector) from which it
// renders its file.
import type { RunEvent } from './events.js';
import type { RunReport } from './report.js';

export interface Reporter {
  readonly name: string;
  onEvent?(event: RunEvent): void;
  /** The load now, about every LOAD_SNAPSHOT_MS while the workers phase runs; only format it. */
  onLoad?(load: LoadSnapshot): void;
  /** Called once with the final report; write files here. Must not throw for a partial run. */
  onEnd?(report: RunReport): Promise<void> | void;
}

/** How often the session hands reporters a LoadSnapshot. */
export const LOAD_SNAPSHOT_MS = 250;

/** The load while the workers run, from the collector's time series (metrics are not computed twice). */
export interface LoadSnapshot {
  /** Epoch ms of the snapshot. */
  time: number;
  /** Since the workers phase began. */
  elapsedMs: number;
  /** The last complete bucket of the series (1 s by default); absent until the first one closes. */
  last?: {
    requestsPerSecond: number;
    stepsPerSecond: number;
    /** Of the HTTP requests; absent when the bucket had none. */
    p95Ms?: number;
    /** Failed steps / steps; null when no step ended in the bucket. */
    errorRate: number | null;
  };
  /** Workers begun and not ended, and those inside a step, now. */
  activeWorkers: number;
  busyWorkers: number;
  /** Open-model iterations dropped so far, all roles together. */
  dropped: number;
  /** Where each role on a schedule (`rate` or `stages`) is now. */
  stages: RoleStage[];
}

export interface RoleStage {
  role: string;
  kind: 'arrival-rate' | 'ramping-workers';
  /** 1-based stage now, of `of`; a constant `rate` is stage 1 of 1. */
  stage: number;
  of: number;
  /** The schedule's level now: iterations per second (arrival-rate) or active workers (ramping-workers). */
  target: number;
}
