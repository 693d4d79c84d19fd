// A role's round as a flat sequence of step points: groups and loops are
// opened in place (they run their children in order), and each point knows
// the `if:` conditions and loop counts around it so the graph and the
// deadlock check can tell, per round, whether it runs always, never or maybe.
import type { StepSpec, Template, TemplateScope } from '../contract/plan.js';

export interface StepPoint {
  step: StepSpec;
  /** Position in the flattened round, 0-based. */
  seq: number;
  /** 0 for top-level steps, +1 per enclosing group or loop. */
  depth: number;
  /** Enclosing groups and loops, outermost first. */
  parents: StepSpec[];
}

export type Runs = 'always' | 'never' | 'maybe';

/** One round's view of a point: whether it runs, and how often per worker (Infinity: a loop counted at run time). */
export interface PointInRound {
  runs: Runs;
  times: number;
}

export function flattenSteps(steps: StepSpec[]): StepPoint[] {
  const out: StepPoint[] = [];
  const walk = (list: StepSpec[], parents: StepSpec[]) => {
    for (const step of list) {
      out.push({ step, seq: out.length, depth: parents.length, parents });
      if (step.kind === 'group' || step.kind === 'loop') walk(step.steps, [...parents, step]);
    }
  };
  walk(steps, []);
  return out;
}

/**
 * Whether the point runs in `round`. A condition counts as known only when it
 * refers to nothing but `round` (e.g. `round > 1`): anything about the worker,
 * vars or captures may differ at run time and makes the point `maybe`.
 * Loops: a static `times` (or one computed from `round`) multiplies; `times: 0`
 * means never; a count known only at run time (or `over:`) makes the body `maybe`
 * with an unknown number of iterations (times = Infinity).
 */
export function pointInRound(point: StepPoint, round: number): PointInRound {
  let runs: Runs = 'always';
  let times = 1;
  for (const s of [...point.parents, point.step]) {
    if (s.if) {
      const v = roundOnlyValue(s.if, round);
      if (v === UNKNOWN) runs = 'maybe';
      else if (!v || v === 'false') return { runs: 'never', times: 0 };
    }
    if (s.kind === 'loop' && s !== point.step) {
      const n = s.times ? roundOnlyValue(s.times, round) : UNKNOWN;
      const count = typeof n === 'number' ? n : typeof n === 'string' && /^\s*\d+\s*$/.test(n) ? Number(n) : undefined;
      if (count === undefined) {
        runs = 'maybe';
        times = Infinity;
      } else if (count <= 0) return { runs: 'never', times: 0 };
      else times *= count;
    }
  }
  return { runs, times };
}

const UNKNOWN = Symbol('unknown');

/** The template's value when it depends on the round only; UNKNOWN otherwise. */
function roundOnlyValue(t: Template, round: number): unknown {
  if (t.isStatic) return t.render(emptyScope(round));
  const refs = (t as Template & { refs?: Array<{ root: string }> }).refs;
  if (!refs || refs.some((r) => r.root !== 'round')) return UNKNOWN;
  try {
    return t.render(emptyScope(round));
  } catch {
    return UNKNOWN;
  }
}

function emptyScope(round: number): TemplateScope {
  return { worker: { id: 0, role: '', index: 0 }, round, run: { id: '' }, vars: {}, captures: {}, shared: {}, env: {} };
}
