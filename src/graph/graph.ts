// The execution graph of a plan: one lane per worker, step nodes in order per
// round, and sync nodes (events, meeting barriers) joining lanes across
// workers. Rounds are produced on demand by generators, so a plan that runs
// for hours (`duration:`) costs the same memory as a one-round plan.
//
// Node ids: `w<worker>.r<round>.<step id>` for steps, `event:<name>@<round>`
// (or `@run` for scope run) and `meeting:<name>@<round>` for sync nodes.
// Edges of one round (edges(round)) are those whose target is in that round:
//   next     step → following step of the same lane (the last step of round k-1 → the first of round k);
//   signal   signal step → its event node (round k, or the run node);
//   release  event node → wait step (scope round: same round; previous-round:
//            the event of round k-1, none in round 1 where the wait passes at once;
//            run: the run node), and meeting node → each party's barrier step;
//   arrive   barrier step → its meeting node (the step both arrives and is released).
import type { BarrierScope, BarrierSpec, CompiledPlan, StepSpec } from '../plan/model.js';
import { flattenSteps, pointInRound, type PointInRound, type StepPoint } from './points.js';

/** The steps one role runs per round, shared by every worker of the role. */
export interface RoleTrack {
  role: string;
  workers: number[];
  steps: StepSpec[];
  points: StepPoint[];
}

export interface Lane {
  worker: number;
  role: string;
  /** Index of the worker among the workers of its role. */
  index: number;
  track: RoleTrack;
}

export interface StepNode extends PointInRound {
  id: string;
  worker: number;
  role: string;
  round: number;
  point: StepPoint;
}

export interface SyncNode {
  id: string;
  barrier: BarrierSpec;
  /** The round it gathers, or 'run' for an event with scope run. */
  round: number | 'run';
}

export type EdgeKind = 'next' | 'signal' | 'release' | 'arrive';

export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  barrier?: string;
  scope?: BarrierScope;
}

export interface ExecutionGraph {
  plan: CompiledPlan;
  tracks: RoleTrack[];
  lanes: Lane[];
  /** Rounds per worker; undefined when the run is bounded by time. */
  rounds: number | undefined;
  /** The step nodes of one lane in one round, in order. */
  roundNodes(lane: Lane, round: number): Generator<StepNode>;
  /** The event and meeting nodes that steps of `round` signal or arrive at (the run node of scope-run events included). */
  syncNodes(round: number): Generator<SyncNode>;
  /** Every edge whose target is a node of `round` (see the header of graph.ts). */
  edges(round: number): Generator<GraphEdge>;
}

export function stepNodeId(worker: number, round: number, step: StepSpec): string {
  return `w${worker}.r${round}.${step.id}`;
}

export function syncNodeId(barrier: BarrierSpec, round: number | 'run'): string {
  return `${barrier.kind}:${barrier.name}@${round}`;
}

export function compileGraph(plan: CompiledPlan): ExecutionGraph {
  const tracks: RoleTrack[] = plan.roles.map((r) => {
    const steps = plan.scenarios.get(r.name) ?? [];
    return { role: r.name, workers: r.workers, steps, points: flattenSteps(steps) };
  });
  const lanes: Lane[] = [];
  for (const t of tracks) t.workers.forEach((worker, index) => lanes.push({ worker, role: t.role, index, track: t }));
  lanes.sort((a, b) => a.worker - b.worker);

  function* roundNodes(lane: Lane, round: number): Generator<StepNode> {
    for (const point of lane.track.points) {
      yield { id: stepNodeId(lane.worker, round, point.step), worker: lane.worker, role: lane.role, round, point, ...pointInRound(point, round) };
    }
  }

  function* syncNodes(round: number): Generator<SyncNode> {
    const used = new Set<string>();
    for (const t of tracks) for (const p of t.points) if (isSync(p.step)) used.add(p.step.barrier);
    for (const b of plan.barriers.values()) {
      if (!used.has(b.name)) continue;
      yield { id: syncNodeId(b, b.kind === 'event' && b.scope === 'run' ? 'run' : round), barrier: b, round: b.kind === 'event' && b.scope === 'run' ? 'run' : round };
    }
  }

  function* edges(round: number): Generator<GraphEdge> {
    for (const lane of lanes) {
      let prev = round > 1 ? lastPoint(lane.track) : undefined;
      let prevRound = round - 1;
      for (const point of lane.track.points) {
        const id = stepNodeId(lane.worker, round, point.step);
        if (prev) yield { from: stepNodeId(lane.worker, prevRound, prev.step), to: id, kind: 'next' };
        prev = point;
        prevRound = round;
        const step = point.step;
        if (!isSync(step)) continue;
        const b = plan.barriers.get(step.barrier);
        if (!b) continue;
        if (b.kind === 'meeting') {
          const meeting = syncNodeId(b, round);
          yield { from: id, to: meeting, kind: 'arrive', barrier: b.name };
          yield { from: meeting, to: id, kind: 'release', barrier: b.name };
        } else if (step.kind === 'signal') {
          yield { from: id, to: syncNodeId(b, b.scope === 'run' ? 'run' : round), kind: 'signal', barrier: b.name, scope: b.scope };
        } else if (step.kind === 'wait') {
          const source = b.scope === 'run' ? 'run' : b.scope === 'previous-round' ? round - 1 : round;
          if (source === 0) continue; // round 1's previous round: already satisfied
          yield { from: syncNodeId(b, source), to: id, kind: 'release', barrier: b.name, scope: b.scope };
        }
      }
    }
  }

  return { plan, tracks, lanes, rounds: plan.rounds, roundNodes, syncNodes, edges };
}

function lastPoint(track: RoleTrack): StepPoint | undefined {
  return track.points[track.points.length - 1];
}

export function isSync(step: StepSpec): step is StepSpec & { kind: 'signal' | 'wait' | 'barrier'; barrier: string } {
  return step.kind === 'signal' || step.kind === 'wait' || step.kind === 'barrier';
}
