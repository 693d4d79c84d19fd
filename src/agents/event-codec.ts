// The compact form of an agent's most frequent events on the event stream. A
// request step in a duration run sends four events (its step's begin and end,
// its iteration's round begin and end), about 630 bytes of JSON as objects; most
// of it is field names and what the controller has already been told: a
// worker's role, a step's name and kind. The encoder sends an event in full the
// first time (and whenever it differs from what was sent before), then as a
// tuple of what changes; the decoder, reading one agent's batches in order,
// rebuilds the same object. Anything else goes as it is.
import type { RunEvent, StepResult } from '../contract/events.js';

type StepBegin = Extract<RunEvent, { type: 'step:begin' }>;
type RoundBegin = Extract<RunEvent, { type: 'round:begin' }>;
type RoundEnd = Extract<RunEvent, { type: 'round:end' }>;
type StepEnd = Extract<RunEvent, { type: 'step:end' }>;

/** What a step:end result holds besides these goes in the tuple's last element. */
type Rest = Omit<StepResult, 'worker' | 'role' | 'round' | 'stepId' | 'name' | 'kind' | 'start' | 'durationMs' | 'outcome'>;

/** One item of a batch: an event as it is, or a tuple whose first element says which. */
export type WireEvent =
  | RunEvent
  | [0, time: number, worker: number, round: number, stepId: string]
  | [1, time: number, worker: number, round: number, stepId: string, start: number, durationMs: number, outcome: StepResult['outcome'], rest?: Rest]
  | [2, time: number, worker: number, round: number]
  | [3, time: number, worker: number, round: number, ok: boolean];

const BEGIN_KEYS = 8;
const ROUND_BEGIN_KEYS = 5;
const ROUND_END_KEYS = 6;
const RESULT_KEYS = new Set(['worker', 'role', 'round', 'stepId', 'name', 'kind', 'start', 'durationMs', 'outcome']);

/** What both sides know of one agent's share: each worker's role, each step's name and kind. */
class Known {
  protected readonly roles = new Map<number, string>();
  protected readonly steps = new Map<string, { name: string; kind: string }>();

  protected learnStep(worker: number, role: string, stepId: string, name: string, kind: string): void {
    this.roles.set(worker, role);
    this.steps.set(stepId, { name, kind });
  }
}

/** The agent's side: one per share (its batches are one ordered stream). */
export class EventEncoder extends Known {
  encode(e: RunEvent): WireEvent {
    switch (e.type) {
      case 'step:begin':
        if (keyCount(e) === BEGIN_KEYS && this.knows(e.worker, e.role, e.stepId, e.name, e.kind)) return [0, e.time, e.worker, e.round, e.stepId];
        this.learnStep(e.worker, e.role, e.stepId, e.name, e.kind);
        return e;
      case 'step:end':
        return this.encodeEnd(e);
      case 'round:begin':
        if (keyCount(e) === ROUND_BEGIN_KEYS && this.roles.get(e.worker) === e.role) return [2, e.time, e.worker, e.round];
        this.roles.set(e.worker, e.role);
        return e;
      case 'round:end':
        if (keyCount(e) === ROUND_END_KEYS && this.roles.get(e.worker) === e.role) return [3, e.time, e.worker, e.round, e.ok];
        this.roles.set(e.worker, e.role);
        return e;
      default:
        return e;
    }
  }

  private encodeEnd(e: StepEnd): WireEvent {
    const r = e.result;
    if (keyCount(e) !== 3 || !this.knows(r.worker, r.role, r.stepId, r.name, r.kind)) {
      this.learnStep(r.worker, r.role, r.stepId, r.name, r.kind);
      return e;
    }
    let rest: Record<string, unknown> | undefined;
    for (const key in r) {
      if (RESULT_KEYS.has(key)) continue;
      rest ??= {};
      rest[key] = r[key as keyof StepResult];
    }
    return rest
      ? [1, e.time, r.worker, r.round, r.stepId, r.start, r.durationMs, r.outcome, rest as Rest]
      : [1, e.time, r.worker, r.round, r.stepId, r.start, r.durationMs, r.outcome];
  }

  private knows(worker: number, role: string, stepId: string, name: string, kind: string): boolean {
    const step = this.steps.get(stepId);
    return step !== undefined && step.name === name && step.kind === kind && this.roles.get(worker) === role;
  }
}

/** The controller's side: one per share, fed that share's items in the order they were sent. */
export class EventDecoder extends Known {
  decode(w: WireEvent): RunEvent {
    if (!Array.isArray(w)) {
      this.learnFrom(w);
      return w;
    }
    const role = this.roles.get(w[2]);
    if (role === undefined) throw new Error(`a compact event of worker ${w[2]} came before its role`);
    switch (w[0]) {
      case 0: {
        const step = this.step(w[4]);
        return { type: 'step:begin', time: w[1], worker: w[2], role, round: w[3], stepId: w[4], name: step.name, kind: step.kind } as StepBegin;
      }
      case 1: {
        const step = this.step(w[4]);
        const result = { worker: w[2], role, round: w[3], stepId: w[4], name: step.name, kind: step.kind, start: w[5], durationMs: w[6], outcome: w[7], ...w[8] } as StepResult;
        return { type: 'step:end', time: w[1], result };
      }
      case 2:
        return { type: 'round:begin', time: w[1], worker: w[2], role, round: w[3] } satisfies RoundBegin;
      case 3:
        return { type: 'round:end', time: w[1], worker: w[2], role, round: w[3], ok: w[4] } satisfies RoundEnd;
      default:
        throw new Error(`an event of an unknown compact form: ${JSON.stringify(w).slice(0, 100)}`);
    }
  }

  private learnFrom(e: RunEvent): void {
    if (e.type === 'step:begin') this.learnStep(e.worker, e.role, e.stepId, e.name, e.kind);
    else if (e.type === 'step:end') this.learnStep(e.result.worker, e.result.role, e.result.stepId, e.result.name, e.result.kind);
    else if (e.type === 'round:begin' || e.type === 'round:end') this.roles.set(e.worker, e.role);
  }

  private step(stepId: string): { name: string; kind: string } {
    const step = this.steps.get(stepId);
    if (!step) throw new Error(`a compact event of step ${stepId} came before its name`);
    return step;
  }
}

function keyCount(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}
