// The whole run in fixed time buckets (1 s by default), so a report covers an
// hour-long run as well as a 3-second one. Only the current bucket holds HDR
// histograms; a closed bucket is reduced to its counts and percentiles, so the
// memory grows by a few hundred bytes a bucket, not with the results. Each
// closed bucket is handed to `onBucket` once (metrics.ndjson streams them).
import { TALLY_RESULT_FIELDS, TALLY_ROUND_FIELDS, type RunEvent, type StepResult, type StepTally } from '../../contract/events.js';
import type { SeriesBucket, TimeSeries } from '../../contract/report.js';
import { LatencyStats } from './latency-stats.js';

export const DEFAULT_BUCKET_MS = 1000;

interface StepCount {
  role: string;
  stepId: string;
  failed: number;
  latency: LatencyStats;
}

interface OpenBucket {
  index: number;
  steps: number;
  requests: number;
  failed: number;
  errors: Map<string, number>;
  http: LatencyStats;
  byStep: Map<string, StepCount>;
  activeWorkers: number;
  busyWorkers: number;
  iterations: number;
  dropped: number;
  barrierWaits: number;
  /** Per role, the load targets reported in the bucket. */
  targets: Map<string, { sum: number; n: number }>;
}

export interface SeriesOptions {
  bucketMs?: number;
  /** Called with every bucket as it closes, in order. */
  onBucket?: (bucket: SeriesBucket) => void;
}

export class SeriesRecorder {
  readonly bucketMs: number;
  private readonly onBucket: ((bucket: SeriesBucket) => void) | undefined;
  private origin: number | undefined;
  private readonly closed: SeriesBucket[] = [];
  private open: OpenBucket | undefined;
  private ended = false;
  private readonly active = new Set<number>();
  /** Workers inside a step now: those whose steps came as events, and per tallying source its latest tally's. */
  private readonly busy = new Set<number>();
  private readonly tallyBusy = new Map<string, readonly number[]>();
  /** The workers tallyBusy lists, all sources together: what a step:begin adds to the busy count without a set union. */
  private tallyBusyCount = 0;
  /** Per open-model role, its last reported load target: a bucket without a report carries it. */
  private readonly target = new Map<string, number>();

  constructor(o: SeriesOptions = {}) {
    this.bucketMs = o.bucketMs ?? DEFAULT_BUCKET_MS;
    this.onBucket = o.onBucket;
  }

  onEvent(event: RunEvent): void {
    if (event.type === 'run:begin') {
      this.origin = event.time;
      this.open = this.newBucket(0);
      return;
    }
    if (this.ended || this.origin === undefined) return;
    if (event.type === 'steps:tally') {
      this.recordTally(event.tally, event.time);
      return;
    }
    const b = this.advance(event.time);
    switch (event.type) {
      case 'worker:begin':
        this.active.add(event.worker);
        b.activeWorkers = Math.max(b.activeWorkers, this.active.size);
        break;
      case 'worker:end':
        this.active.delete(event.worker);
        this.busy.delete(event.worker);
        for (const [source, ids] of this.tallyBusy)
          if (ids.includes(event.worker))
            this.setTallyBusy(
              source,
              ids.filter((id) => id !== event.worker),
            );
        break;
      case 'step:begin':
        this.busy.add(event.worker);
        b.busyWorkers = Math.max(b.busyWorkers, this.busy.size + this.tallyBusyCount);
        break;
      case 'step:end':
        this.busy.delete(event.result.worker);
        record(b, event.result);
        break;
      case 'round:begin':
        b.iterations++;
        break;
      case 'iteration:dropped':
        b.dropped += event.count;
        break;
      case 'load:target': {
        this.target.set(event.role, event.target);
        const t = b.targets.get(event.role);
        if (t) {
          t.sum += event.target;
          t.n++;
        } else b.targets.set(event.role, { sum: event.target, n: 1 });
        break;
      }
      case 'run:end':
        // The last, partial bucket: streamed now, so Ctrl-C and the normal end both leave it.
        this.close(b);
        this.open = undefined;
        this.ended = true;
        break;
      default:
        break;
    }
  }

  /** Closes the buckets that ended before `now` (a timer calls this, so a quiet run still streams). */
  tick(now: number): void {
    if (!this.ended && this.origin !== undefined) this.advance(now);
  }

  /** The last complete bucket, if one closed (the live view's numbers: a full bucket, not a partial one). */
  lastClosed(): SeriesBucket | undefined {
    return this.closed.at(-1);
  }

  /** Workers begun and not ended, and those inside a step, now: the live view counts them, the live metrics split the busy ones by role. */
  workersNow(): { readonly active: ReadonlySet<number>; readonly busy: ReadonlySet<number> } {
    return { active: this.active, busy: this.busyNow() };
  }

  private busyNow(): ReadonlySet<number> {
    if (this.tallyBusy.size === 0) return this.busy;
    const all = new Set(this.busy);
    for (const ids of this.tallyBusy.values()) for (const id of ids) all.add(id);
    return all;
  }

  /**
   * A tally's rounds and results, each in the bucket of its own time (a round's begin, a result's end). Its
   * source's busy workers are those it names until its next tally: a bucket's busy count is sampled at tallies
   * for them, not at each step. They are the workers whose step:begin the source held, so they are not also in
   * `busy` (but for a round released after the tally, until the next one).
   */
  private recordTally(t: StepTally, time: number): void {
    const { rounds, results, steps } = t;
    for (let i = 0; i < rounds.length; i += TALLY_ROUND_FIELDS) this.advance(rounds[i + 3]!).iterations++;
    for (let i = 0; i < results.length; i += TALLY_RESULT_FIELDS) {
      const step = steps[results[i]!]!;
      const durationMs = results[i + 2]!;
      countRun(this.advance(results[i + 1]! + durationMs), step.role, step.stepId, step.kind, durationMs);
    }
    this.setTallyBusy(t.source, t.busy);
    const b = this.advance(time);
    b.busyWorkers = Math.max(b.busyWorkers, this.busy.size + this.tallyBusyCount);
  }

  private setTallyBusy(source: string, ids: readonly number[]): void {
    this.tallyBusyCount += ids.length - (this.tallyBusy.get(source)?.length ?? 0);
    this.tallyBusy.set(source, ids);
  }

  /** Every bucket so far, the current one included (without closing it). */
  series(): TimeSeries {
    return { bucketMs: this.bucketMs, buckets: this.open ? [...this.closed, this.summarize(this.open)] : [...this.closed] };
  }

  /** The bucket `time` falls in, closing the ones before it (empty ones too, so the series has no holes). */
  private advance(time: number): OpenBucket {
    let b = this.open!;
    // Step times come from the monotonic clock, the others from Date.now: never go back a bucket.
    const index = Math.floor((time - this.origin!) / this.bucketMs);
    while (b.index < index) {
      this.close(b);
      b = this.newBucket(b.index + 1);
    }
    this.open = b;
    return b;
  }

  private close(b: OpenBucket): void {
    const summary = this.summarize(b);
    this.closed.push(summary);
    this.onBucket?.(summary);
  }

  private newBucket(index: number): OpenBucket {
    return {
      index,
      steps: 0,
      requests: 0,
      failed: 0,
      errors: new Map(),
      http: new LatencyStats(),
      byStep: new Map(),
      activeWorkers: this.active.size,
      busyWorkers: this.busy.size,
      iterations: 0,
      dropped: 0,
      barrierWaits: 0,
      targets: new Map(),
    };
  }

  private summarize(b: OpenBucket): SeriesBucket {
    const http = b.http.percentiles();
    const targets: Record<string, number> = {};
    for (const [role, last] of this.target) {
      const t = b.targets.get(role);
      targets[role] = t ? t.sum / t.n : last;
    }
    return {
      t: b.index * this.bucketMs,
      steps: b.steps,
      requests: b.requests,
      failed: b.failed,
      errors: Object.fromEntries(b.errors),
      ...(http ? { http } : {}),
      byStep: [...b.byStep.values()].map((s) => ({ role: s.role, stepId: s.stepId, count: s.latency.count, failed: s.failed, latency: s.latency.percentiles()! })),
      activeWorkers: b.activeWorkers,
      busyWorkers: b.busyWorkers,
      iterations: b.iterations,
      dropped: b.dropped,
      barrierWaits: b.barrierWaits,
      ...(this.target.size > 0 ? { targets } : {}),
    };
  }
}

function record(b: OpenBucket, r: StepResult): void {
  if (r.wait) b.barrierWaits++;
  if (r.outcome === 'skipped') return;
  const tally = countRun(b, r.role, r.stepId, r.kind, r.durationMs);
  if (r.outcome === 'failed') {
    b.failed++;
    tally.failed++;
    const code = r.error?.code ?? 'error';
    b.errors.set(code, (b.errors.get(code) ?? 0) + 1);
  }
}

/** Counts a step that ran (ok or failed) in its bucket; the failure is the caller's to count. */
function countRun(b: OpenBucket, role: string, stepId: string, kind: StepResult['kind'], durationMs: number): StepCount {
  b.steps++;
  const key = `${role}\u0000${stepId}`;
  let tally = b.byStep.get(key);
  if (!tally) {
    tally = { role, stepId, failed: 0, latency: new LatencyStats() };
    b.byStep.set(key, tally);
  }
  tally.latency.record(durationMs);
  if (kind === 'request') {
    b.requests++;
    b.http.record(durationMs);
  }
  return tally;
}
