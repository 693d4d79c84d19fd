// What every executor shares: the role it drives, its workers' lanes, and
// timers that end at once when the run stops. An executor owns the iterations
// of one role: when each worker runs one and how it counts them.
import type { LoadSegment, RoleSpec } from '../../contract/plan.js';
import type { RunContext } from '../../contract/engine.js';
import type { RoundFloor } from '../round-floor.js';
import type { Worker, WorkerLane } from '../worker.js';
import { EPOCH_ORIGIN } from '../clock.js';

export interface ExecutorContext {
  run: RunContext;
  role: RoleSpec;
  /** The role's workers, in id order. */
  lanes: WorkerLane[];
  newWorker(lane: WorkerLane): Worker;
  /**
   * Epoch ms when the workers phase began: the closed model's `duration` and the stages count from it. Agents get
   * the controller's, so every agent's schedule lines up.
   */
  startedAt: number;
  /** The closed-model workers' rounds in this process: the closed model tells it each round its workers begin and their end. */
  rounds: RoundFloor;
}

/** `startedAt` on the performance.now() clock (monotonic), the one the schedulers' timers use. */
export function scheduleOrigin(cx: ExecutorContext): number {
  return cx.startedAt - EPOCH_ORIGIN;
}

export type Executor = (cx: ExecutorContext) => Promise<void>;

/**
 * Resolves at `until` (a performance.now() time) or as soon as `signal` aborts.
 * One timer per wait, not per iteration: schedulers wait for their next due time.
 */
export function pauseUntil(until: number, signal: AbortSignal): Promise<void> {
  const ms = until - performance.now();
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Waits for every promise, then rethrows the first failure: one crashed worker does not cut the others short. */
export async function settleAll(work: Array<Promise<unknown>>): Promise<void> {
  const crashed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (crashed) throw crashed.reason;
}

/** One worker from begin to finish: `body` runs its iterations; finish always reports it. */
export async function withWorker(cx: ExecutorContext, lane: WorkerLane, body: (worker: Worker) => Promise<void>): Promise<void> {
  const worker = cx.newWorker(lane);
  worker.begin();
  try {
    await body(worker);
  } finally {
    worker.finish();
  }
}

/** How often an open-model role reports its load target (a few times per 1 s series bucket). */
const TARGET_REPORT_MS = 250;

/** The load level (iterations/s or workers) of the stages `t` ms after the role started; 0 before and after them. */
export function levelAt(segments: LoadSegment[], t: number): number {
  for (const s of segments) {
    if (t < s.startMs || t >= s.startMs + s.durationMs) continue;
    return s.from + ((s.to - s.from) * (t - s.startMs)) / s.durationMs;
  }
  return 0;
}

/**
 * Emits the role's load target (`load:target`) now and every TARGET_REPORT_MS
 * from `t0` (performance.now() when its stages began), so the report's series
 * shows the target beside what was achieved; `stop` reports 0 (the stages ended).
 */
export function reportTarget(cx: ExecutorContext, t0: number): { stop(): void } {
  const segments = cx.role.load?.segments ?? [];
  const send = (target: number) => cx.run.emit({ type: 'load:target', time: Date.now(), role: cx.role.name, target });
  send(levelAt(segments, performance.now() - t0));
  const timer = setInterval(() => send(levelAt(segments, performance.now() - t0)), TARGET_REPORT_MS);
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      send(0);
    },
  };
}
