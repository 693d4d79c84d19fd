// The closed model: every worker of the role runs iteration after iteration,
// each as soon as its previous one ended, for `rounds` or until `duration`.
// Starts are spread over `rampUp`. A slow server slows the whole test down.
// Its rounds are the ones workers meet in, so it tells cx.rounds where each worker is.
import { type Executor, pauseUntil, settleAll, withWorker } from './base.js';

export const runConstantWorkers: Executor = async (cx) => {
  const { plan, signal } = cx.run;
  const deadline = plan.durationMs !== undefined ? cx.startedAt + plan.durationMs : undefined;
  const more = (round: number) => !signal.aborted && (deadline !== undefined ? Date.now() < deadline : round <= (plan.rounds ?? 1));
  await settleAll(
    cx.lanes.map((lane) =>
      withWorker(cx, lane, async (worker) => {
        try {
          const delay = plan.workers > 1 ? Math.round((plan.rampUpMs * lane.id) / plan.workers) : 0;
          if (delay > 0) await pauseUntil(performance.now() + delay, signal);
          for (let round = 1; more(round); round++) {
            cx.rounds.enter(lane.id, round);
            if ((await worker.iteration(round)) !== 'more') break;
          }
        } finally {
          cx.rounds.leave(lane.id);
        }
      }),
    ),
  );
};
