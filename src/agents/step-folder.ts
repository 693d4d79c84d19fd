// Folds an agent's ok rounds into tallies (StepTally) before they go on the
// event stream. A request step in a duration run is four events: with one
// agent, serialising, sending, parsing and dispatching them cost the agent and
// the controller more CPU than the requests themselves (docs/agents.md,
// "Measuring"). A round is held back from its round:begin to its round:end;
// if every step of it ended ok without waiting, signalling or attaching a
// file, it becomes numbers in the next tally, otherwise its events go out as
// they are, in their order. The reporters see the same rounds either way; the
// tally is made before any event that follows it goes out, so each worker's
// events keep their order.
import { TALLY_RESULT_FIELDS, type RunEvent, type StepResult, type StepTally } from '../contract/events.js';
import { keepChance } from '../reporting/metrics/timeline-sample.js';

/** A round with more events than this (a long loop) goes out as events: the folder holds no unbounded round. */
export const MAX_FOLDED_ROUND_EVENTS = 256;
/**
 * A round held longer than this goes out as events (see releaseHeld): the time series counts a tallied result in
 * the bucket it ended in only while that bucket is open, and the live view shows what a worker began.
 */
export const MAX_HELD_MS = 200;

type TallyEvent = Extract<RunEvent, { type: 'steps:tally' }>;

interface OpenRound {
  events: RunEvent[];
  /** False once an event shows it cannot fold: the rest of the round goes out as it comes. */
  folding: boolean;
}

export class StepFolder {
  /** The rounds being held or passed through, per worker. */
  private readonly open = new Map<number, OpenRound>();
  private readonly busy = new Set<number>();
  /** Ok results folded so far, for the timeline's reservoir (see keepChance). */
  private folded = 0;
  private tally: StepTally;
  private readonly roleIndex = new Map<string, number>();
  private readonly stepIndex = new Map<string, number>();

  constructor(
    private readonly source: string,
    /** The report's timeline cap: the folder's reservoir keeps at least what the controller's would. */
    private readonly timelineCap: number,
    private readonly random: () => number = Math.random,
  ) {
    // Not a field initializer: those run before the parameters above are set.
    this.tally = this.emptyTally();
  }

  /** Takes the next event of the agent's run; appends to `out` what is to be sent now, in order. */
  add(e: RunEvent, out: RunEvent[]): void {
    switch (e.type) {
      case 'round:begin':
        this.release(e.worker, out);
        this.open.set(e.worker, { events: [e], folding: true });
        return;
      case 'step:begin':
        this.busy.add(e.worker);
        this.hold(e.worker, e, true, out);
        return;
      case 'step:end':
        this.busy.delete(e.result.worker);
        this.hold(e.result.worker, e, foldable(e.result), out);
        return;
      case 'round:end': {
        const round = this.open.get(e.worker);
        this.open.delete(e.worker);
        if (round?.folding && e.ok) this.fold(round.events, e);
        else this.pass(round?.folding ? [...round.events, e] : [e], out);
        return;
      }
      case 'worker:end':
        // Stopped in the middle of a round (Ctrl-C): what it began is still reported, as in one process.
        this.release(e.worker, out);
        this.pass([e], out);
        return;
      default:
        this.pass([e], out);
    }
  }

  /** Sends every round still held (the share is ending). */
  drain(out: RunEvent[]): void {
    for (const worker of [...this.open.keys()]) this.release(worker, out);
  }

  /** Sends the rounds held since before `now` - MAX_HELD_MS; the rest of each goes out as it comes. */
  releaseHeld(now: number, out: RunEvent[]): void {
    for (const round of this.open.values()) {
      if (!round.folding || round.events[0]!.time > now - MAX_HELD_MS) continue;
      round.folding = false;
      this.pass(round.events, out);
      round.events = [];
    }
  }

  /** True while a round is held: its events are not sent until it ends or is released. */
  get holding(): boolean {
    for (const round of this.open.values()) if (round.folding) return true;
    return false;
  }

  /** Sends what is held of the worker's round, which will not end. */
  private release(worker: number, out: RunEvent[]): void {
    const round = this.open.get(worker);
    this.open.delete(worker);
    if (round?.folding) this.pass(round.events, out);
  }

  /** Results folded since the last tally was taken. */
  get heldResults(): number {
    return this.tally.results.length / TALLY_RESULT_FIELDS;
  }

  /** The tally of the rounds folded since the last one, as an event; undefined when none were. */
  take(): TallyEvent | undefined {
    if (this.tally.rounds.length === 0) return undefined;
    const tally = this.tally;
    // Only the workers whose step:begin it held: the others' came as events, and the controller counts those.
    tally.busy = [...this.busy].filter((w) => this.open.get(w)?.folding);
    this.tally = this.emptyTally();
    this.roleIndex.clear();
    this.stepIndex.clear();
    // Its time is its last round's end: a tally says nothing of later times (the folder reads no clock).
    return { type: 'steps:tally', time: tally.rounds[tally.rounds.length - 2]!, tally };
  }

  /** An event inside a worker's round: held while the round may fold, else sent. */
  private hold(worker: number, e: RunEvent, canFold: boolean, out: RunEvent[]): void {
    const round = this.open.get(worker);
    if (!round?.folding) {
      this.pass([e], out);
      return;
    }
    round.events.push(e);
    if (canFold && round.events.length <= MAX_FOLDED_ROUND_EVENTS) return;
    round.folding = false;
    this.pass(round.events, out);
    round.events = [];
  }

  /** Sends events, after the tally of what folded before them. */
  private pass(events: RunEvent[], out: RunEvent[]): void {
    const tally = this.take();
    if (tally) out.push(tally);
    for (const e of events) out.push(e);
  }

  private fold(events: RunEvent[], end: Extract<RunEvent, { type: 'round:end' }>): void {
    const t = this.tally;
    const begin = events[0] as Extract<RunEvent, { type: 'round:begin' }>;
    const first = t.results.length / TALLY_RESULT_FIELDS;
    for (const e of events) {
      if (e.type !== 'step:end') continue;
      const r = e.result;
      const at = t.results.length / TALLY_RESULT_FIELDS;
      t.results.push(this.indexOfStep(r), micro(r.start), micro(r.durationMs), (r.http?.bytes ?? 0) + (r.ws?.bytes ?? 0), r.lagMs === undefined ? -1 : micro(r.lagMs));
      if (r.ws) t.results.push(r.ws.sent, r.ws.received, r.ws.skipped, r.ws.dropped);
      else t.results.push(-1, 0, 0, 0);
      const keptWith = keepChance(++this.folded, this.timelineCap);
      if (keptWith >= 1 || this.random() < keptWith) t.sampled.push({ at, keptWith, result: r });
    }
    t.rounds.push(end.worker, this.indexOfRole(end.role), end.round, begin.time, end.time, t.results.length / TALLY_RESULT_FIELDS - first);
  }

  private indexOfRole(role: string): number {
    let i = this.roleIndex.get(role);
    if (i === undefined) {
      i = this.tally.roles.push(role) - 1;
      this.roleIndex.set(role, i);
    }
    return i;
  }

  private indexOfStep(r: StepResult): number {
    const key = `${r.role}\u0000${r.stepId}`;
    let i = this.stepIndex.get(key);
    if (i === undefined) {
      i = this.tally.steps.push({ role: r.role, stepId: r.stepId, name: r.name, kind: r.kind as StepTally['steps'][number]['kind'] }) - 1;
      this.stepIndex.set(key, i);
    }
    return i;
  }

  private emptyTally(): StepTally {
    return { source: this.source, roles: [], steps: [], rounds: [], results: [], sampled: [], busy: [] };
  }
}

/** A result the tally can carry: ok, and nothing in it but what the aggregates count (no wait, signal or file). */
function foldable(r: StepResult): boolean {
  return r.outcome === 'ok' && r.wait === undefined && r.signal === undefined && r.attachments === undefined && r.kind !== 'crawl';
}

/** To the microsecond, what the report's figures keep: fewer digits to send. */
function micro(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
