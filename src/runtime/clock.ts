// Step times are epoch milliseconds from the monotonic clock: EPOCH_ORIGIN +
// performance.now(). performance.timeOrigin is no good origin across
// processes: Node reads the wall clock and the monotonic clock one after the
// other at start-up, and a process preempted between the two reads carries
// the gap for its whole life (among 12 processes started at once on 2 cores,
// most within 0.1 ms of the wall clock, one 0.4 ms off, one 20 ms off).
// Agents' step times are compared across processes (a read after the write it
// waited for), so the origin is measured here instead, at
// the instant Date.now() ticks to its next millisecond. A reading can only
// come out early (the process paused between the tick and performance.now()),
// so the latest of five is kept (up to 5 ms of spinning, once per process).
// 36 processes started 12 at a time: within -0.013..0.008 ms of the wall
// clock, against 0.021..0.070 ms for timeOrigin in the same processes.
import { performance } from 'node:perf_hooks';

function atTick(): number {
  const before = Date.now();
  let now = before;
  while (now === before) now = Date.now();
  return now - performance.now();
}

/** The epoch time (ms) at which performance.now() read 0, as the wall clock of this machine says. */
export const EPOCH_ORIGIN: number = Math.max(atTick(), atTick(), atTick(), atTick(), atTick());
