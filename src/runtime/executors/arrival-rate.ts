// The open model: iterations start on a schedule (a constant rate, or rate
// stages), whether or not earlier ones finished, each on a free worker of the
// role's pool. An iteration due while every worker is busy is dropped and
// counted, not started late, so a slow server cannot slow the test down; the
// ones that start late (a busy event loop) carry their lag in their results.
// A role spread over agents shares one schedule: iteration k belongs to the
// agent running the role's worker of index k mod pool (docs/agents.md).
import type { LoadSegment } from '../../contract/plan.js';
import type { RunContext } from '../../contract/engine.js';
import type { Worker } from '../worker.js';
import { type Executor, type ExecutorContext, pauseUntil, reportTarget, scheduleOrigin } from './base.js';

/** Dropped iterations are reported at most this often per role (and once at the end). */
const DROP_REPORT_MS = 1000;

export const runArrivalRate: Executor = async (cx) => {
  const { run, role } = cx;
  const { signal } = run;
  const workers = cx.lanes.map((lane) => cx.newWorker(lane));
  for (const w of workers) w.begin();
  // A stack: the worker that finished last goes next, so a light load stays on few workers (and their warm connections).
  const free = [...workers].reverse();
  const rounds = new Map<Worker, number>();
  const inFlight = new Set<Promise<void>>();
  const drops = new DropCounter(run, role.name);
  const schedule = new ArrivalSchedule(role.load!.segments, ownIterations(cx));
  let crash: { error: unknown } | undefined;
  // The run's start (the controller's, under agents): iterations due before this process was ready start late or drop.
  const t0 = scheduleOrigin(cx);
  const epoch0 = cx.startedAt;
  const target = reportTarget(cx, t0);
  try {
    for (let due = schedule.next(); due !== undefined && !signal.aborted && !crash; ) {
      const now = performance.now() - t0;
      if (due > now) {
        await pauseUntil(t0 + due, signal);
        continue;
      }
      const worker = free.pop();
      if (worker) {
        const round = (rounds.get(worker) ?? 0) + 1;
        rounds.set(worker, round);
        const p: Promise<void> = worker
          .iteration(round, { scheduledStart: epoch0 + due, lagMs: now - due })
          .then(
            (end) => {
              if (end === 'more') free.push(worker);
            },
            (error: unknown) => {
              crash ??= { error };
            },
          )
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      } else drops.add();
      due = schedule.next();
    }
    drops.flush();
    target.stop();
    // Iterations in flight when the schedule ends finish (bounded by their steps' timeouts).
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  } finally {
    target.stop();
    for (const w of workers) w.finish();
  }
  if (crash) throw crash.error;
};

/**
 * Which iterations of the role's schedule this process runs: all of them, or, when it has only some of the role's
 * workers (an agent's share), iteration k when it has the worker of index k mod pool. Every iteration is thus run
 * by exactly one process, and a process with m of the pool's n workers gets m/n of the rate at every instant.
 */
export function ownIterations(cx: Pick<ExecutorContext, 'role' | 'lanes'>): ((k: number) => boolean) | undefined {
  const pool = cx.role.workers.length;
  const mine = new Set(cx.lanes.map((lane) => lane.index));
  return mine.size >= pool ? undefined : (k) => mine.has(k % pool);
}

/**
 * Due times (ms since the role started) of iterations 0, 1, 2, … of a
 * piecewise-linear rate: iteration k is due when the integral of the rate
 * reaches k. Absolute times, so a late timer never shifts the ones after it.
 * With `keep`, only the iterations k it keeps.
 */
export class ArrivalSchedule {
  private k = 0;
  private segment = 0;
  /** Iterations due before the current segment (fractional). */
  private before = 0;

  constructor(
    private readonly segments: LoadSegment[],
    private readonly keep?: (k: number) => boolean,
  ) {}

  next(): number | undefined {
    while (this.segment < this.segments.length) {
      const s = this.segments[this.segment]!;
      const a = s.from / 1000;
      const b = s.to / 1000;
      const total = ((a + b) / 2) * s.durationMs;
      const m = this.k - this.before;
      if (m < total - 1e-9) {
        const k = this.k++;
        if (this.keep && !this.keep(k)) continue;
        return s.startMs + offsetOf(m, a, b, s.durationMs);
      }
      this.before += total;
      this.segment++;
    }
    return undefined;
  }
}

/** The s in [0, d] where a·s + (b − a)·s²/(2d) = m (the count of a linear ramp from rate a to b, per ms). */
function offsetOf(m: number, a: number, b: number, d: number): number {
  const slope = (b - a) / d;
  if (Math.abs(slope) < 1e-15) return m / a;
  return (Math.sqrt(Math.max(0, a * a + 2 * slope * m)) - a) / slope;
}

/** Batches `iteration:dropped` events: thousands of drops a second are one event a second. */
class DropCounter {
  private pending = 0;
  private last = performance.now();

  constructor(
    private readonly run: RunContext,
    private readonly role: string,
  ) {}

  add(): void {
    this.pending++;
    if (performance.now() - this.last >= DROP_REPORT_MS) this.flush();
  }

  flush(): void {
    this.last = performance.now();
    if (this.pending === 0) return;
    this.run.emit({ type: 'iteration:dropped', time: Date.now(), role: this.role, count: this.pending });
    this.pending = 0;
  }
}
