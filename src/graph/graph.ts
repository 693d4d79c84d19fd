// The execution graph of a plan: the one model the runner (lanes), the deadlock
// check and `planrun graph` (tracks) read. Workers of a role run the same steps,
// so there is one track per role (its steps, and their points: groups and loops
// opened in place, see points.ts) and one lane per worker pointing at its role's
// track. Rounds are not unrolled: every round runs the track again, and
// pointInRound(point, round) tells whether a step runs in a given round, so a
// plan that runs for hours (`duration:`) costs the same memory as a one-round plan.
//
// Tracks join at barriers (plan.barriers), through their sync steps: a signal
// counts for its event in its own round (or for the whole run: scope run); a
// wait is released by the signals of sourceRound(); a meeting barrier releases
// its parties once every party role has arrived there in the same round.
import type { CompiledPlan, EventBarrier, StepSpec } from '../contract/plan.js';
import { flattenSteps, type StepPoint } from './points.js';

/** The steps one role runs per round, shared by every worker of the role. */
export interface RoleTrack {
  role: string;
  workers: number[];
  steps: StepSpec[];
  points: StepPoint[];
  /** The most rounds the role runs: the plan's rounds, or unbounded for a role on a schedule (`rate`, `stages`) or a `duration`. */
  maxRounds: number;
}

export interface Lane {
  worker: number;
  role: string;
  /** Index of the worker among the workers of its role. */
  index: number;
  track: RoleTrack;
}

export interface ExecutionGraph {
  plan: CompiledPlan;
  /** One per role, in the order the plan declares them (roles without workers included). */
  tracks: RoleTrack[];
  /** One per worker, by worker id. */
  lanes: Lane[];
  /** Rounds per worker; undefined when the run is bounded by time. */
  rounds: number | undefined;
}

export function compileGraph(plan: CompiledPlan): ExecutionGraph {
  const tracks: RoleTrack[] = plan.roles.map((r) => {
    const steps = plan.scenarios.get(r.name) ?? [];
    return { role: r.name, workers: r.workers, steps, points: flattenSteps(steps), maxRounds: r.load ? Infinity : (plan.rounds ?? Infinity) };
  });
  const lanes: Lane[] = [];
  for (const t of tracks) for (const [index, worker] of t.workers.entries()) lanes.push({ worker, role: t.role, index, track: t });
  lanes.sort((a, b) => a.worker - b.worker);
  return { plan, tracks, lanes, rounds: plan.rounds };
}

/**
 * The execution graph of `input`: built from a plan, or handed over as is by a
 * caller that built it already (`planrun run` checks it for deadlocks before
 * the run), so a run compiles its graph once.
 */
export function graphOf(input: CompiledPlan | ExecutionGraph): ExecutionGraph {
  return 'lanes' in input ? input : compileGraph(input);
}

export function isSync(step: StepSpec): step is StepSpec & { kind: 'signal' | 'wait' | 'barrier'; barrier: string } {
  return step.kind === 'signal' || step.kind === 'wait' || step.kind === 'barrier';
}

/** The round whose signals release a wait for `b` in `round`: 'run' for scope run, 0 when none is needed (previous-round in round 1 passes at once). */
export function sourceRound(b: EventBarrier, round: number): number | 'run' {
  return b.scope === 'run' ? 'run' : b.scope === 'previous-round' ? round - 1 : round;
}
