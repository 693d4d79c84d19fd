// Stages with worker-count targets: the level ramps linearly between targets,
// and the role's j-th worker (index j) runs iterations back to back while the
// level is at least j + 1. A worker above the level finishes its iteration,
// then idles until the level comes back up or the stages end.
import type { LoadModel } from '../../contract/plan.js';
import { type Executor, pauseUntil, reportTarget, scheduleOrigin, settleAll, withWorker } from './base.js';

export const runRampingWorkers: Executor = async (cx) => {
  const load = cx.role.load!;
  const { signal } = cx.run;
  // The run's start, not this executor's: the workers of a role spread over agents follow one ramp.
  const t0 = scheduleOrigin(cx);
  const target = reportTarget(cx, t0);
  try {
    await settleAll(
      cx.lanes.map((lane) =>
        withWorker(cx, lane, async (worker) => {
          let round = 0;
          while (!signal.aborted) {
            const now = performance.now() - t0;
            const at = activeFrom(load, lane.index, now);
            if (at === undefined) break;
            if (at > now) {
              await pauseUntil(t0 + at, signal);
              continue;
            }
            if ((await worker.iteration(++round)) !== 'more') break;
          }
        }),
      ),
    );
  } finally {
    target.stop();
  }
};

/** The first time ≥ `t` (ms since the role started) at which worker `index` is active, or undefined if never again. */
export function activeFrom(load: LoadModel, index: number, t: number): number | undefined {
  const need = index + 1;
  for (const s of load.segments) {
    const end = s.startMs + s.durationMs;
    if (s.durationMs === 0 || end <= t) continue;
    const from = Math.max(t, s.startMs);
    const level = s.from + ((s.to - s.from) * (from - s.startMs)) / s.durationMs;
    // The slack absorbs rounding: a worker the ramp reaches exactly at `from` is active.
    if (level >= need - 1e-9) return from;
    if (s.to > s.from) {
      const at = s.startMs + (s.durationMs * (need - s.from)) / (s.to - s.from);
      if (at < end) return Math.max(at, from);
    }
  }
  return undefined;
}
