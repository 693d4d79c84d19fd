// The in-process Coordinator: every worker of one agent shares these maps.
// Waiters are promises parked per name and round. A signal or arrival looks at
// the waiters of its round only once its count reached the lowest any of them
// needs, so a meeting of N parties costs O(N) a round, not O(N²); a give-up
// re-checks every waiter of its name.
import { BarrierTimeoutError, BrokenBarrierError, type BreakCause, type Coordinator, type WaitOptions } from '../contract/coordinator.js';

interface Waiter {
  /** Evaluates the wait: settles the promise (true) or leaves it parked. */
  check(): boolean;
  cancel(error: Error): void;
  /** Below this many signals or arrivals (of its round, or of the run for `scope: run`) only a give-up can settle it. */
  needs: number;
}

/** The waiters parked on one round of a name, or on the whole run. */
class Parked {
  readonly waiters = new Set<Waiter>();
  /** The lowest `needs` among them: no record below it can release any. */
  needs = Infinity;

  add(w: Waiter): void {
    this.waiters.add(w);
    if (w.needs < this.needs) this.needs = w.needs;
  }

  recheck(): void {
    this.needs = Infinity;
    for (const w of [...this.waiters]) {
      if (w.check()) this.waiters.delete(w);
      else if (w.needs < this.needs) this.needs = w.needs;
    }
  }
}

const NONE: readonly BreakCause[] = Object.freeze([]);

/** Who gave up signalling a name: per round, or from a round onwards. */
class Abandons {
  private readonly perRound = new Map<number, Map<number, BreakCause>>();
  private readonly fromRound = new Map<number, { round: number; cause: BreakCause }>();

  add(round: number, worker: number, cause: BreakCause, allLater: boolean): void {
    if (allLater) {
      const known = this.fromRound.get(worker);
      if (!known || known.round > round) this.fromRound.set(worker, { round, cause });
      return;
    }
    let m = this.perRound.get(round);
    if (!m) this.perRound.set(round, (m = new Map()));
    if (!m.has(worker)) m.set(worker, cause);
  }

  /** Workers that will never act in `round`, except those in `done`. */
  missing(round: number | 'any', done: ReadonlySet<number>): readonly BreakCause[] {
    // The common case, checked on every arrival by every parked waiter: nobody gave up.
    if (this.fromRound.size === 0 && (round === 'any' || !this.perRound.has(round))) return NONE;
    const out = new Map<number, BreakCause>();
    for (const [worker, { round: from, cause }] of this.fromRound) if ((round === 'any' || from <= round) && !done.has(worker)) out.set(worker, cause);
    if (round !== 'any') for (const [worker, cause] of this.perRound.get(round) ?? []) if (!done.has(worker) && !out.has(worker)) out.set(worker, cause);
    return [...out.values()];
  }

  forgetBefore(round: number): void {
    for (const r of this.perRound.keys()) if (r < round) this.perRound.delete(r);
  }
}

interface NameState {
  /** Signals (events) or arrivals (meeting barriers) per round. */
  rounds: Map<number, { count: number; workers: Set<number> }>;
  total: number;
  abandons: Abandons;
  /** Waits per round (the round they name: `previous-round` ones under the round before), and `scope: run` ones. */
  parked: Map<number, Parked>;
  runParked: Parked;
}

export class InMemoryCoordinator implements Coordinator {
  private readonly names = new Map<string, NameState>();
  private readonly shared = new Map<string, unknown>();
  /** Rounds below this are forgotten: no wait here will name them again (forgetRoundsBefore). */
  private floor = 0;
  private snapshot: Readonly<Record<string, unknown>> | undefined;
  private closed = false;

  private state(name: string): NameState {
    let s = this.names.get(name);
    if (!s) this.names.set(name, (s = { rounds: new Map(), total: 0, abandons: new Abandons(), parked: new Map(), runParked: new Parked() }));
    return s;
  }

  /** Counts one signal or arrival, then checks the waits it may release: those of its round, and `scope: run` ones. */
  private record(s: NameState, round: number, worker: number): void {
    s.total++;
    if (s.total >= s.runParked.needs) s.runParked.recheck();
    if (round < this.floor) return;
    let r = s.rounds.get(round);
    if (!r) s.rounds.set(round, (r = { count: 0, workers: new Set() }));
    r.count++;
    r.workers.add(worker);
    const parked = s.parked.get(round);
    if (parked && r.count >= parked.needs) this.recheckRound(s, round, parked);
  }

  private recheckRound(s: NameState, round: number, parked: Parked): void {
    parked.recheck();
    if (parked.waiters.size === 0) s.parked.delete(round);
  }

  /** After a give-up: any wait of the name may have become impossible. */
  private recheckAll(s: NameState): void {
    s.runParked.recheck();
    for (const [round, parked] of s.parked) this.recheckRound(s, round, parked);
  }

  /** A wait naming a forgotten round would wait for counts that are gone: a bug in whoever raised the floor. */
  private forgotten(name: string, round: number): Promise<never> | undefined {
    if (round >= this.floor) return undefined;
    return Promise.reject(new Error(`round ${round} of "${name}" was forgotten already (every worker was past it)`));
  }

  async signal(event: string, round: number, worker: number): Promise<void> {
    this.record(this.state(event), round, worker);
  }

  waitFor(event: string, round: number, o: WaitOptions): Promise<void> {
    const target = o.scope === 'previous-round' ? round - 1 : round;
    if (o.scope === 'previous-round' && target < 1) return Promise.resolve();
    const s = this.state(event);
    const possible = o.possible ?? o.count;
    if (o.scope !== 'run') {
      const gone = this.forgotten(event, target);
      if (gone) return gone;
    }
    return this.park(s, event, target, o.scope === 'run' ? 'run' : target, o.count, o.timeoutMs, o.signal, () => {
      if (o.scope === 'run') {
        if (s.total >= o.count) return { done: true };
        // Only signallers gone for good count here: any of the others may still signal in a later round.
        const gone = s.abandons.missing('any', new Set());
        return gone.length >= possible ? { broken: gone[0]! } : { got: s.total, needed: o.count };
      }
      const r = s.rounds.get(target) ?? { count: 0, workers: new Set<number>() };
      if (r.count >= o.count) return { done: true };
      // Each signaller that gave up takes its signal away; once the rest cannot reach `count`, nobody will.
      const missing = s.abandons.missing(target, r.workers);
      const stillPossible = Math.max(0, possible - r.workers.size - missing.length);
      if (missing.length > 0 && r.count + stillPossible < o.count) return { broken: missing[0]! };
      return { got: r.count, needed: o.count };
    });
  }

  arrive(barrier: string, round: number, worker: number, parties: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    this.recordArrival(barrier, round, worker);
    return this.meet(barrier, round, parties, timeoutMs, signal);
  }

  /**
   * arrive() in two halves, for a mirror that replays a shared log (the Redis coordinator):
   * every agent records every arrival, only the arriving agent then waits for the meeting.
   */
  recordArrival(barrier: string, round: number, worker: number): void {
    this.record(this.state(barrier), round, worker);
  }

  /** Waits until `parties` workers arrived at `barrier` in `round` (the caller's arrival already recorded). */
  meet(barrier: string, round: number, parties: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const s = this.state(barrier);
    const gone = this.forgotten(barrier, round);
    if (gone) return gone;
    // Arrivals are counted per worker, signals (a count ≥ the workers) gate the checks: it reaches `parties` first.
    return this.park(s, barrier, round, round, parties, timeoutMs, signal, () => {
      const r = s.rounds.get(round) ?? { count: 0, workers: new Set<number>() };
      if (r.workers.size >= parties) return { done: true };
      const missing = s.abandons.missing(round, r.workers);
      if (missing.length > 0) return { broken: missing[0]! };
      return { got: r.workers.size, needed: parties };
    });
  }

  abandon(name: string, round: number, worker: number, cause: BreakCause, allLater = false): void {
    // A give-up of a forgotten round (replayed from another agent's log) breaks no wait here.
    if (!allLater && round < this.floor) return;
    const s = this.state(name);
    s.abandons.add(round, worker, cause, allLater);
    this.recheckAll(s);
  }

  /** Parks a wait under `at` (its round, or 'run'), released or broken by `evaluate`; `needs` as in Waiter. */
  private park(
    s: NameState,
    name: string,
    round: number,
    at: number | 'run',
    needs: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    evaluate: () => { done: true } | { broken: BreakCause } | { got: number; needed: number },
  ): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`the coordinator is closed: cannot wait for "${name}"`));
    return new Promise<void>((resolve, reject) => {
      let parked: Parked | undefined;
      let last = { got: 0, needed: 0 };
      const settle = (): boolean => {
        const state = evaluate();
        if ('done' in state) finish(resolve);
        else if ('broken' in state) finish(() => reject(new BrokenBarrierError(name, round, state.broken)));
        else {
          last = state;
          return false;
        }
        return true;
      };
      const onAbort = () => finish(() => reject(signal?.reason ?? new Error('aborted')));
      // Evaluated once more when it fires: records below `needs` did not evaluate the wait, so `last` may be old.
      const onTimeout = () => {
        if (!settle()) finish(() => reject(new BarrierTimeoutError(name, round, timeoutMs, last.got, last.needed)));
      };
      const timer = setTimeout(onTimeout, timeoutMs);
      const waiter: Waiter = { check: settle, cancel: (error) => finish(() => reject(error)), needs };
      function finish(action: () => void): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        parked?.waiters.delete(waiter);
        action();
      }
      if (signal?.aborted) return onAbort();
      if (settle()) return;
      if (at === 'run') parked = s.runParked;
      else if (!(parked = s.parked.get(at))) s.parked.set(at, (parked = new Parked()));
      parked.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  forgetRoundsBefore(round: number): void {
    if (round <= this.floor) return;
    this.floor = round;
    for (const s of this.names.values()) {
      for (const r of s.rounds.keys()) if (r < round) s.rounds.delete(r);
      // Waits that timed out or were aborted leave their round's group empty.
      for (const [r, parked] of s.parked) if (r < round && parked.waiters.size === 0) s.parked.delete(r);
      s.abandons.forgetBefore(round);
    }
  }

  /** Rounds of counts held over all names: what forgetRoundsBefore keeps bounded (for tests and benches). */
  heldRounds(): number {
    let n = 0;
    for (const s of this.names.values()) n += s.rounds.size;
    return n;
  }

  async setShared(key: string, value: unknown): Promise<void> {
    this.shared.set(key, value);
    this.snapshot = undefined;
  }

  /**
   * Every template scope asks for it, and shared values change rarely: one frozen
   * copy serves until the next setShared (a new object then, so callers may cache by identity).
   */
  sharedSnapshot(): Record<string, unknown> {
    return (this.snapshot ??= Object.freeze(Object.fromEntries(this.shared)));
  }

  /** Rejects every parked waiter: "<reason> while waiting for …" (the run ended, or a mirror lost its source). */
  async close(reason = 'the run ended'): Promise<void> {
    this.closed = true;
    for (const [name, s] of this.names) {
      for (const parked of [s.runParked, ...s.parked.values()]) for (const w of [...parked.waiters]) w.cancel(new Error(`${reason} while waiting for "${name}"`));
    }
  }
}
