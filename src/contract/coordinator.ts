// All coordination state of a run lives behind this interface: events,
// meeting barriers, shared variables and (for crawls) the shared frontier.
// The in-process implementation serves one agent; a Redis-backed one can
// replace it for several agents without touching engines or the runner.
import type { BarrierScope } from './plan.js';

/** Why a barrier will never be released for a round: names the worker and step that broke it. */
export interface BreakCause {
  worker: number;
  role: string;
  round: number;
  step: string;
  reason: string;
  /** The step was skipped (its `if:` was false) rather than failed. */
  skipped?: boolean;
}

export class BarrierTimeoutError extends Error {
  readonly code = 'barrier-timeout';
  constructor(
    readonly barrier: string,
    readonly round: number,
    readonly timeoutMs: number,
    readonly got: number,
    readonly needed: number,
  ) {
    super(`timed out after ${timeoutMs}ms waiting for "${barrier}" in round ${round} (${got} of ${needed} arrived)`);
  }
}

export class BrokenBarrierError extends Error {
  readonly code = 'broken-barrier';
  constructor(
    readonly barrier: string,
    readonly round: number,
    readonly breakCause: BreakCause,
  ) {
    super(
      `barrier "${barrier}" broken in round ${round}: worker ${breakCause.worker} (${breakCause.role}) ${breakCause.skipped ? 'skipped' : 'failed at'} step "${breakCause.step}" in round ${breakCause.round}: ${breakCause.reason}`,
    );
  }
}

export interface WaitOptions {
  scope: BarrierScope;
  /** Signals needed. */
  count: number;
  /** Signals that can arrive at most (the signalling workers); once abandons make `count` unreachable, the wait breaks. Default: count. */
  possible?: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Coordinator {
  /** Record one signal of `event` by `worker` in `round`. */
  signal(event: string, round: number, worker: number): Promise<void>;
  /** Resolve once enough signals arrived for the waiter's round and scope; reject on timeout, break or abort. */
  waitFor(event: string, round: number, options: WaitOptions): Promise<void>;
  /** Meeting barrier: resolve when `parties` workers arrived in this round. */
  arrive(barrier: string, round: number, worker: number, parties: number, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /**
   * `worker` will not signal / arrive at `name` in `round` (and, with `allLater`, any later round):
   * every present and future waiter that needed it fails at once with BrokenBarrierError naming `cause`
   * (the root cause, which may be another worker's failure that this one inherited through a broken wait).
   */
  abandon(name: string, round: number, worker: number, cause: BreakCause, allLater?: boolean): void;
  /**
   * No wait in this process will name a round below `round` again (every worker that could is past it, or
   * Infinity: none is left): their counts and give-ups may go, and later signals for them keep only the
   * run-wide total. What keeps a long run's barrier state flat.
   */
  forgetRoundsBefore(round: number): void;
  setShared(key: string, value: unknown): Promise<void>;
  sharedSnapshot(): Record<string, unknown>;
  close(): Promise<void>;
}
