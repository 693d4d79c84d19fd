// One virtual user: runs its role's steps one iteration (round) at a time when
// its executor (executors/) asks, applies the onError policy, and tells the
// coordinator about every signal it will no longer give, so nobody waits for
// it in vain.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BarrierTimeoutError, BrokenBarrierError, type BreakCause } from '../contract/coordinator.js';
import type { DataSetSpec, OnError, StepSpec, TemplateScope } from '../contract/plan.js';
import type { RandomSource } from '../plan/random.js';
import type { StepError, StepResult, WorkerOutcome } from '../contract/events.js';
import { StepFailure, type RunContext, type StepContext, type StepDetails, type WorkerState } from '../contract/engine.js';
import type { RunDraws } from './draws.js';
import { EPOCH_ORIGIN } from './clock.js';
import { executeStep } from './steps.js';

/** An engine gets this long after its step's signal fired to fail with its own, more precise error. */
const ENGINE_GRACE_MS = 1000;

/** Marks a break caused by a worker that simply ran out of time, not by a failure. */
export const FINISHED_STEP = '(end of its rounds)';

/** One worker of a role: its id, its index among the role's workers, and the steps of one iteration. */
export interface WorkerLane {
  id: number;
  role: string;
  index: number;
  steps: StepSpec[];
}

/** When an open-model iteration was due and how late it started (ms); absent in the closed model. */
export interface IterationSchedule {
  scheduledStart: number;
  lagMs: number;
}

/** How an iteration ended for its worker: run more, or leave for good (stop-worker, abort-run, or a wait that can no longer pass). */
export type IterationEnd = 'more' | 'stopped' | 'end';

/** How a step sequence ended. */
type Flow = 'next' | 'skip-round' | 'stop-worker' | 'end';

/** Names of the events and meeting barriers a list of steps signals or arrives at. */
export function coordinationNames(steps: StepSpec[], out = new Set<string>()): Set<string> {
  for (const s of steps) {
    if (s.kind === 'signal' || s.kind === 'barrier') out.add(s.barrier);
    else if (s.kind === 'group' || s.kind === 'loop') coordinationNames(s.steps, out);
  }
  return out;
}

function describe(error: unknown, timeoutMs: number, runSignal: AbortSignal, stepSignal: AbortSignal): StepError {
  if (error instanceof StepFailure) return { message: error.message, code: error.code };
  if (error instanceof BarrierTimeoutError || error instanceof BrokenBarrierError) return { message: error.message, code: error.code };
  if (runSignal.aborted) return { message: 'the run was stopped during this step', code: 'aborted' };
  // Whatever an engine threw once the step's timer fired (an AbortError, say) is the timeout.
  if ((error as Error | undefined)?.name === 'TimeoutError' || (stepSignal.reason as Error | undefined)?.name === 'TimeoutError') {
    return { message: `timed out after ${timeoutMs}ms`, code: 'timeout' };
  }
  return { message: error instanceof Error ? error.message : String(error), code: 'error' };
}

export class Worker {
  readonly state: WorkerState;
  private roundsDone = 0;
  private readonly signalled: Set<string>;
  /** The current row of each data set; `{{ data.NAME }}`. */
  private readonly rows: Record<string, unknown> = {};
  private random: RandomSource;
  /** A data set drawn once per worker that had no row left for it. */
  private readonly noRowAtStart: DataSetSpec | undefined;

  constructor(
    private readonly run: RunContext,
    private readonly lane: WorkerLane,
    private readonly onAbortRun: (reason: string) => void,
    private readonly draws: RunDraws,
  ) {
    this.state = { id: lane.id, role: lane.role, index: lane.index, vars: {}, captures: {} };
    // Workers are built in id order, so `every: worker` sequences give worker N row N+1.
    this.random = draws.random(lane.id, 0);
    this.noRowAtStart = draws.draw('worker', lane.id, 0, this.rows);
    // Plan vars may be templates themselves (`pad: "p-{{ run.id }}"`): rendered once per worker, in round 1's scope.
    this.state.vars = run.plan.varsTemplate.render(this.scope(1)) as Record<string, unknown>;
    this.signalled = coordinationNames(lane.steps);
  }

  /** Announces the worker and ties its steps to the run's stop. Executors call begin once, iterations, then finish once. */
  begin(): void {
    const { run, lane } = this;
    run.signal.addEventListener('abort', this.onRunAbort, { once: true });
    run.emit({ type: 'worker:begin', time: Date.now(), worker: lane.id, role: lane.role });
  }

  /**
   * Runs one round of the scenario. `round` is this worker's iteration count
   * (1, 2, …); `schedule` marks an open-model iteration, whose step results
   * carry when it was due.
   */
  async iteration(round: number, schedule?: IterationSchedule): Promise<IterationEnd> {
    const { run, lane } = this;
    this.schedule = schedule;
    this.random = this.draws.random(lane.id, round);
    const noRow = (round === 1 ? this.noRowAtStart : undefined) ?? this.draws.draw('round', lane.id, round, this.rows);
    if (noRow) {
      this.outcome = this.outOfRows(noRow);
      return 'stopped';
    }
    run.emit({ type: 'round:begin', time: Date.now(), worker: lane.id, role: lane.role, round });
    this.failedThisRound = false;
    let flow: Flow;
    try {
      flow = await this.runSteps(lane.steps, round, 'next');
    } catch (error) {
      // Stopped mid-step: the round did not end, so it is neither counted nor reported as ended.
      if (!run.signal.aborted) throw error;
      return 'end';
    }
    this.roundsDone = round;
    run.emit({ type: 'round:end', time: Date.now(), worker: lane.id, role: lane.role, round, ok: !this.failedThisRound });
    if (flow === 'stop-worker') {
      this.outcome = 'stopped';
      return 'stopped';
    }
    return flow === 'end' || run.signal.aborted ? 'end' : 'more';
  }

  /**
   * Runs the steps once as the setup or teardown pseudo-worker: one round and no worker events (it is
   * no worker of a role), its steps stopped with its run's signal. Resolves the first failure as
   * "<step>: <message>", if a step failed.
   */
  async once(): Promise<string | undefined> {
    this.run.signal.addEventListener('abort', this.onRunAbort, { once: true });
    try {
      await this.iteration(1);
    } finally {
      this.run.signal.removeEventListener('abort', this.onRunAbort);
      this.stopStepTimer();
    }
    return this.firstFailure;
  }

  /** Tells the coordinator this worker signals nothing more and reports how it ended. */
  finish(): WorkerOutcome {
    const { run, lane } = this;
    run.signal.removeEventListener('abort', this.onRunAbort);
    this.stopStepTimer();
    if (run.signal.aborted) this.outcome = 'aborted';
    this.giveUp(this.roundsDone + 1, { step: FINISHED_STEP, reason: 'it has no more rounds to run' });
    run.emit({ type: 'worker:end', time: Date.now(), worker: lane.id, role: lane.role, outcome: this.outcome, rounds: this.roundsDone });
    return this.outcome;
  }

  /** A sequence ran out before this worker's next round: it stops there, or the run fails (atEnd). */
  private outOfRows(set: DataSetSpec): WorkerOutcome {
    const why = `worker ${this.lane.id} (${this.lane.role}) found no row left: data.${set.name}: every row of ${set.file} is used (${set.table.size} row${set.table.size === 1 ? '' : 's'}, atEnd: ${set.atEnd})`;
    if (set.atEnd === 'fail') this.onAbortRun(why);
    else this.run.emit({ type: 'log', time: Date.now(), level: 'info', message: why });
    return 'stopped';
  }

  private outcome: WorkerOutcome = 'done';
  private schedule: IterationSchedule | undefined;
  private readonly onRunAbort = () => this.stepController.abort(this.run.signal.reason);
  private failedThisRound = false;
  private stepController = this.newStepController();
  /** stepController.signal, kept at hand: the getter checks its receiver at every call. */
  private stepSignal = this.stepController.signal;
  /** Rejects the step in flight; set while a leaf step runs. */
  private rejectStep: ((reason: unknown) => void) | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  /** The first step that failed, "<step>: <message>": what a failed setup or teardown reports. */
  private firstFailure: string | undefined;
  /** Why this worker's later signals will not come; for a broken wait, the cause that broke it (the root, not a chain). */
  private lastCause: BreakCause | undefined;

  /**
   * The worker's step controller, with one abort listener for its whole life
   * (a listener added and removed per step costs more than the rest of the
   * step's bookkeeping): once it fires, the step in flight gets ENGINE_GRACE_MS
   * to fail with its engine's own, more precise error, then fails with the signal's reason.
   */
  private newStepController(): AbortController {
    const controller = new AbortController();
    const { signal } = controller;
    signal.addEventListener(
      'abort',
      () => {
        if (!this.rejectStep) return;
        const reject = this.rejectStep;
        this.graceTimer = setTimeout(() => reject(signal.reason), ENGINE_GRACE_MS);
      },
      { once: true },
    );
    return controller;
  }

  /** When the step in flight times out (a performance.now() time), 0 between steps; see armStepTimer. */
  private stepDeadline = 0;
  /** The step in flight's limit, for its timeout's message. */
  private stepLimit = 0;
  private stepTimer: NodeJS.Timeout | undefined;
  /** When stepTimer fires (a performance.now() time). */
  private stepTimerDue = 0;

  /**
   * Times the step out at `deadline` with one timer per worker, not one per
   * step (a timer set and cleared per step costs as much as the rest of a
   * `set` step): it stays armed across steps and, when it fires before the
   * step in flight is due, waits again for the rest. A step due before the
   * timer (a shorter timeout than the previous step's) re-arms it.
   */
  private armStepTimer(deadline: number, limit: number): void {
    this.stepDeadline = deadline;
    this.stepLimit = limit;
    if (this.stepTimer && this.stepTimerDue <= deadline) return;
    clearTimeout(this.stepTimer);
    this.startStepTimer(deadline);
  }

  private startStepTimer(due: number): void {
    this.stepTimerDue = due;
    this.stepTimer = setTimeout(this.onStepTimer, Math.max(1, Math.ceil(due - performance.now())));
  }

  private readonly onStepTimer = () => {
    this.stepTimer = undefined;
    // Between steps: the next step arms it again.
    if (this.stepDeadline === 0) return;
    // Timers may fire a fraction of a millisecond early (libuv counts whole ms).
    if (this.stepDeadline > performance.now()) return this.startStepTimer(this.stepDeadline);
    this.stepController.abort(new DOMException(`timed out after ${this.stepLimit}ms`, 'TimeoutError'));
  };

  /** The worker runs no more steps: its timer must not hold the process up. */
  private stopStepTimer(): void {
    clearTimeout(this.stepTimer);
    this.stepTimer = undefined;
  }

  /**
   * Ends a step that waits once its work settles, or with the step signal's reason if the work ignores the signal
   * (see newStepController), whichever comes first: endLeaf runs in that callback, without a promise of the work's
   * own in between (one microtask per waiting step, not two).
   */
  private endLeafLater(ctx: StepContext, began: number, start: number, work: Promise<StepDetails | undefined>): Promise<Flow> {
    return new Promise<Flow>((resolve, reject) => {
      let ended = false;
      const end = (details: StepDetails | undefined, failure: unknown) => {
        if (ended) return;
        ended = true;
        try {
          resolve(this.endLeaf(ctx, began, start, details, failure));
        } catch (error) {
          reject(error);
        }
      };
      const fail = (reason: unknown) => end(undefined, reason);
      this.rejectStep = fail;
      if (ctx.signal.aborted) this.graceTimer = setTimeout(fail, ENGINE_GRACE_MS, ctx.signal.reason);
      work.then((details) => end(details, NO_FAILURE), fail);
    });
  }

  /** This worker will not signal its events from `round` on (or only in that round). */
  private giveUp(round: number, why: { step: string; reason: string; skipped?: boolean } | BreakCause, onlyThisRound = false, names = this.signalled): void {
    const cause: BreakCause = 'worker' in why ? why : { worker: this.lane.id, role: this.lane.role, round, ...why };
    for (const name of names) this.run.coordinator.abandon(name, round, this.lane.id, cause, !onlyThisRound);
  }

  /**
   * Runs `steps` from `from` on. Steps done at once (a `set`, a ws send) run
   * one after another without a promise; the first step that waits hands the
   * rest of the list to its promise. A message loop then costs no promise
   * hops of the worker's own for the steps that do not wait.
   */
  private runSteps(steps: StepSpec[], round: number, flow: Flow, from = 0): Flow | Promise<Flow> {
    for (let i = from; i < steps.length; i++) {
      const step = steps[i]!;
      if (flow !== 'next' || this.run.signal.aborted) {
        this.reportSkipped(
          step,
          round,
          flow === 'end' ? undefined : { message: `skipped: ${flow === 'skip-round' ? 'an earlier step of this round failed' : 'the worker stopped'}`, code: 'skipped' },
        );
        continue;
      }
      if (step.if && !this.truthy(step, round)) {
        this.reportSkipped(step, round, undefined);
        this.giveUp(round, { step: step.name, reason: 'its condition was false', skipped: true }, true, coordinationNames([step]));
        continue;
      }
      const ran = step.kind === 'group' ? this.runSteps(step.steps, round, flow) : step.kind === 'loop' ? this.runLoop(step, round) : this.runLeaf(step, round);
      if (ran instanceof Promise) return ran.then((f) => this.runSteps(steps, round, this.afterStep(steps, i, round, f), i + 1));
      flow = this.afterStep(steps, i, round, ran);
    }
    return flow;
  }

  /** After steps[i] ended with `flow`: a failure that skips the round or stops the worker gives up its later signals. */
  private afterStep(steps: StepSpec[], i: number, round: number, flow: Flow): Flow {
    if (flow !== 'skip-round' && flow !== 'stop-worker') return flow;
    const cause = this.lastCause ?? { step: steps[i]!.name, reason: 'a step failed' };
    if (flow === 'skip-round') this.giveUp(round, cause, true, coordinationNames(steps.slice(i + 1)));
    else this.giveUp(round, cause);
    return flow;
  }

  private truthy(step: StepSpec, round: number): boolean {
    const v = step.if!.render(this.scope(round));
    return Boolean(v) && v !== 'false';
  }

  /**
   * Runs the loop's iterations synchronously while their steps are (see runSteps). Once one waits, one promise
   * stands for the rest of the loop: it goes on after each waiting iteration and settles when the loop ends.
   * Returning each waiting iteration's continuation from a then() instead resolved every iteration's promise with
   * the next one's, a chain as long as the loop, held until it ended (about 100 bytes an iteration), with two more
   * microtasks per iteration.
   */
  private runLoop(step: Extract<StepSpec, { kind: 'loop' }>, round: number): Flow | Promise<Flow> {
    const scope = this.scope(round);
    const items: unknown[] = step.over ? toList(step.over.render(scope)) : Array.from({ length: Math.max(0, Math.floor(Number(step.times?.render(scope) ?? 0))) }, (_, i) => i);
    let index = 0;
    /** Runs iterations from `index` on while `flow` is 'next': the loop's flow, or the promise of the iteration that waits. */
    const iterate = (flow: Flow): Flow | Promise<Flow> => {
      while (index < items.length && flow === 'next') {
        this.state.vars[step.as] = items[index];
        this.state.vars.index = index++;
        const ran = this.runSteps(step.steps, round, flow);
        if (ran instanceof Promise) return ran;
        flow = ran;
      }
      return flow;
    };
    const first = iterate('next');
    if (!(first instanceof Promise)) return first;
    return new Promise<Flow>((resolve, reject) => {
      const next = (flow: Flow) => {
        let ran: Flow | Promise<Flow>;
        try {
          ran = iterate(flow);
        } catch (error) {
          reject(error);
          return;
        }
        if (ran instanceof Promise) ran.then(next, reject);
        else resolve(ran);
      };
      first.then(next, reject);
    });
  }

  private runLeaf(step: StepSpec, round: number): Flow | Promise<Flow> {
    const { run, lane } = this;
    const timeoutMs = this.timeoutOf(step);
    // Fractional epoch ms from the monotonic clock: start + durationMs orders steps across workers exactly.
    const began = performance.now();
    const start = EPOCH_ORIGIN + began;
    run.emit({ type: 'step:begin', time: start, worker: lane.id, role: lane.role, round, stepId: step.id, name: step.name, kind: step.kind });
    // Waits get a little slack so the coordinator's own timeout, which knows who is missing, fires first.
    const isWait = step.kind === 'wait' || step.kind === 'barrier';
    const limit = isWait ? timeoutMs + 1000 : timeoutMs;
    // One controller per worker, aborted by the worker's step timer: AbortSignal.any costs ~16 µs a step
    // and in Node 20 its timeout signal can be collected before it fires (nodejs/node#57736).
    if (this.stepSignal.aborted) {
      this.stepController = this.newStepController();
      this.stepSignal = this.stepController.signal;
    }
    if (run.signal.aborted) this.stepController.abort(run.signal.reason);
    const signal = this.stepSignal;
    this.armStepTimer(began + limit, limit);
    const ctx: StepContext = { run, worker: this.state, round, step, signal, timeoutMs, scope: () => this.scope(round) };
    let work: ReturnType<typeof executeStep>;
    try {
      work = executeStep(ctx);
    } catch (e) {
      return this.endLeaf(ctx, began, start, undefined, e);
    }
    // A step done at once (set, a ws send) returns its details: no promise, no await.
    if (!(work instanceof Promise)) return this.endLeaf(ctx, began, start, work, NO_FAILURE);
    return this.endLeafLater(ctx, began, start, work);
  }

  /** Reports the step that began at `began` with what it gave (`failure` is NO_FAILURE when it succeeded) and says how the worker goes on. */
  private endLeaf(ctx: StepContext, began: number, start: number, details: StepDetails | undefined, failure: unknown): Flow | Promise<Flow> {
    const { run, lane } = this;
    const { step, round, timeoutMs, signal } = ctx;
    this.stepDeadline = 0;
    clearTimeout(this.graceTimer);
    this.rejectStep = undefined;
    let error: StepError | undefined;
    if (failure !== NO_FAILURE) {
      error = describe(failure, timeoutMs, run.signal, signal);
      if (failure instanceof StepFailure) details = failure.extra;
    }
    const result: StepResult = {
      worker: lane.id,
      role: lane.role,
      round,
      stepId: step.id,
      name: step.name,
      kind: step.kind,
      start,
      durationMs: performance.now() - began,
      outcome: 'ok',
      ...this.schedule,
      ...details,
    };
    // A failed wait still waited: barrier statistics count its time, timeouts and breaks.
    if ((step.kind === 'wait' || step.kind === 'barrier') && !result.wait) result.wait = { barrier: step.barrier, waitedMs: result.durationMs };
    if (step.kind === 'signal') result.signal = { barrier: step.barrier };
    if (error) {
      const finished = failure instanceof BrokenBarrierError && failure.breakCause.step === FINISHED_STEP;
      // A wait on a worker that ran out of rounds (duration runs) ends this worker quietly.
      result.outcome = finished || error.code === 'aborted' ? 'skipped' : 'failed';
      result.error = error;
      run.emit({ type: 'step:end', time: Date.now(), result });
      if (finished || error.code === 'aborted') return 'end';
      this.failedThisRound = true;
      this.firstFailure ??= `${step.name}: ${error.message}`;
      this.lastCause =
        failure instanceof BrokenBarrierError
          ? failure.breakCause
          : { worker: lane.id, role: lane.role, round, step: step.name, reason: error.message.length > 300 ? `${error.message.slice(0, 300)}…` : error.message };
      // A signal that failed may not have been given: its waiters break now, naming this failure, instead of timing
      // out (a signal that did reach the coordinator still counts: a worker's signal outweighs its give-up).
      if (step.kind === 'signal') this.giveUp(round, this.lastCause, true, new Set([step.barrier]));
      return this.policy(step, round, error);
    }
    run.emit({ type: 'step:end', time: Date.now(), result });
    if ((step.kind === 'request' || step.kind === 'browser' || step.kind === 'ws') && run.plan.think) return this.think().then(() => 'next');
    return 'next';
  }

  private policy(step: StepSpec, round: number, error: StepError): Flow {
    const policy: OnError = step.onError ?? this.run.plan.onError;
    if (policy === 'continue') return 'next';
    if (policy === 'skip-round') return 'skip-round';
    if (policy === 'abort-run')
      this.onAbortRun(`worker ${this.lane.id} (${this.lane.role}) failed at step "${step.name}" in round ${round} and its onError is abort-run: ${error.message}`);
    return 'stop-worker';
  }

  private timeoutOf(step: StepSpec): number {
    if (step.timeoutMs !== undefined) return step.timeoutMs;
    if (step.kind === 'wait' || step.kind === 'barrier') return this.run.plan.barriers.get(step.barrier)?.timeoutMs ?? this.run.plan.waitTimeoutMs;
    // A sleep always ends: the timeout only covers a late wake-up. A templated one's length is known
    // only when it runs, so nothing but its own `timeout:` bounds it (the longest timer Node allows).
    if (step.kind === 'sleep') return typeof step.ms === 'number' ? step.ms + this.run.plan.stepTimeoutMs : MAX_TIMER_MS;
    return this.run.plan.stepTimeoutMs;
  }

  private async think(): Promise<void> {
    const t = this.run.plan.think!;
    const ms = t.minMs + Math.random() * (t.maxMs - t.minMs);
    if (ms > 0) await sleep(ms, undefined, { signal: this.run.signal }).catch(() => undefined);
  }

  private reportSkipped(step: StepSpec, round: number, error: StepError | undefined): void {
    if (step.kind === 'group' || step.kind === 'loop') {
      for (const s of step.steps) this.reportSkipped(s, round, error);
      return;
    }
    const { lane } = this;
    const result: StepResult = { worker: lane.id, role: lane.role, round, stepId: step.id, name: step.name, kind: step.kind, start: Date.now(), durationMs: 0, outcome: 'skipped' };
    if (error) result.error = error;
    this.run.emit({ type: 'step:end', time: result.start, result });
  }

  private cachedScope: TemplateScope | undefined;

  /**
   * The template scope of a round. Vars and captures are live references, so
   * one object serves every step of the round until the shared snapshot (or
   * the vars/captures objects themselves) change.
   */
  private scope(round: number): TemplateScope {
    const { state, run } = this;
    const shared = run.coordinator.sharedSnapshot();
    const c = this.cachedScope;
    if (c && c.round === round && c.shared === shared && c.vars === state.vars && c.captures === state.captures && c.random === this.random) return c;
    return (this.cachedScope = {
      worker: { id: state.id, role: state.role, index: state.index },
      round,
      run: { id: run.runId },
      vars: state.vars,
      captures: state.captures,
      shared,
      env: run.plan.env,
      data: this.rows,
      random: this.random,
    });
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** What endLeaf gets as the failure of a step that succeeded (anything, even undefined, can be thrown). */
const NO_FAILURE: unique symbol = Symbol('no failure');

function toList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v === undefined || v === null || v === '') return [];
  return [v];
}
