// Where each role on a schedule is now, for the live view's load line: the
// stage (one segment per `stages` entry, or the one of a constant `rate`) and
// the level the schedule asks for at this moment.
import type { CompiledPlan, LoadModel } from '../contract/plan.js';
import type { RoleStage } from '../contract/reporter.js';

/** `elapsedMs`: since the workers phase began, when every role's schedule starts. */
export function roleStages(plan: CompiledPlan, elapsedMs: number): RoleStage[] {
  const out: RoleStage[] = [];
  for (const role of plan.roles) if (role.load) out.push({ role: role.name, kind: role.load.kind, ...stageAt(role.load, elapsedMs) });
  return out;
}

/** The segment `t` falls in (the last one once the schedule is over) and its linear level there. */
function stageAt(load: LoadModel, t: number): { stage: number; of: number; target: number } {
  const segments = load.segments;
  let i = 0;
  while (i < segments.length - 1 && t >= segments[i]!.startMs + segments[i]!.durationMs) i++;
  const s = segments[i]!;
  const into = Math.min(Math.max(t - s.startMs, 0), s.durationMs);
  const target = s.durationMs > 0 ? s.from + ((s.to - s.from) * into) / s.durationMs : s.to;
  return { stage: i + 1, of: segments.length, target };
}
