// What `planrun graph` prints. Workers of a role run the same steps, so both
// views show one lane per role (its worker ids as ranges) rather than one per
// worker: text per round with who waits for whom, and a Mermaid flowchart.
import type { BarrierSpec, EventBarrier, StepSpec } from '../contract/plan.js';
import { idRanges } from '../plan/describe-plan.js';
import { isSync, sourceRound, type ExecutionGraph, type RoleTrack } from './graph.js';
import { pointInRound, type StepPoint } from './points.js';

const who = (t: RoleTrack) => `${t.role}[${idRanges(t.workers)}]`;

function rolesText(graph: ExecutionGraph, roles: string[]): string {
  return (
    graph.tracks
      .filter((t) => roles.includes(t.role) && t.workers.length > 0)
      .map(who)
      .join(', ') || 'nobody'
  );
}

/** The rounds shown by default: 1 and 2 (round 2 is how every later round looks). */
function defaultRounds(graph: ExecutionGraph): number[] {
  return graph.rounds === 1 ? [1] : [1, 2];
}

export function renderText(graph: ExecutionGraph, options: { round?: number } = {}): string {
  const plan = graph.plan;
  const shape = [`${plan.workers} worker${plan.workers === 1 ? '' : 's'} in ${graph.tracks.length} role${graph.tracks.length === 1 ? '' : 's'}`];
  shape.push(graph.rounds !== undefined ? `${graph.rounds} round${graph.rounds === 1 ? '' : 's'}` : `rounds for ${plan.durationMs} ms`);
  const out = [`${plan.name}: ${shape.join(', ')}`];
  const rounds = options.round !== undefined ? [options.round] : defaultRounds(graph);
  for (const round of rounds) {
    out.push('', `round ${round}`);
    for (const t of graph.tracks) {
      if (t.workers.length === 0) continue;
      out.push(`  ${t.role} [${idRanges(t.workers)}]`);
      const width = Math.max(0, ...t.points.map((p) => p.step.id.length + 2 * p.depth));
      for (const p of t.points) out.push(`    ${' '.repeat(2 * p.depth)}${p.step.id.padEnd(width - 2 * p.depth)}  ${describe(graph, p, round)}`);
      if (t.points.length === 0) out.push('    (no steps)');
    }
    const waits = whoWaits(graph, round);
    if (waits.length > 0) out.push('  who waits for whom', ...waits.map((w) => `    ${w}`));
  }
  const last = rounds[rounds.length - 1]!;
  if (options.round === undefined && (graph.rounds === undefined || graph.rounds > last)) {
    out.push(
      '',
      graph.rounds === undefined
        ? `rounds ${last + 1} and later: like round ${last}`
        : graph.rounds === last + 1
          ? `round ${last + 1}: like round ${last}`
          : `rounds ${last + 1}-${graph.rounds}: like round ${last}`,
    );
  }
  return out.join('\n');
}

function conditionText(p: StepPoint, round: number): string {
  const { runs, times } = pointInRound(p, round);
  if (runs === 'never') return ' [skipped in this round]';
  const notes: string[] = [];
  if (p.step.if) notes.push(`if ${p.step.if.source}`);
  if (runs === 'maybe' && !p.step.if) notes.push('maybe');
  if (times > 1 && Number.isFinite(times)) notes.push(`${times}× per round`);
  return notes.length ? ` [${notes.join(', ')}]` : '';
}

function describe(graph: ExecutionGraph, p: StepPoint, round: number): string {
  const step = p.step;
  const cond = conditionText(p, round);
  if (step.kind === 'loop') return `loop ${step.times ? `${step.times.source}×` : `over ${step.as}`}${cond}`;
  if (step.kind === 'group') return `group ${step.name === 'group' ? '' : step.name}`.trimEnd() + cond;
  // Default names already start with their kind (`browser goto /p/x`, `sleep 10ms`): do not say it twice.
  if (!isSync(step)) return `${step.name.startsWith(step.kind) ? step.name : `${step.kind.padEnd(7)} ${step.name}`}${cond}`;
  const b = graph.plan.barriers.get(step.barrier);
  if (!b) return `${step.kind} ${step.barrier}${cond}`;
  if (b.kind === 'meeting') return `⏸ barrier ${b.name} (meets ${rolesText(graph, b.partyRoles)}, round ${round})${cond}`;
  if (step.kind === 'signal') {
    const when =
      b.scope === 'round'
        ? `in round ${round}`
        : b.scope === 'run'
          ? 'over the run'
          : graph.rounds !== undefined && round >= graph.rounds
            ? 'in a later round (none: this is the last)'
            : `in round ${round + 1}`;
    return `→ signal ${b.name} (${rolesText(graph, b.waitRoles)} wait${waiterCount(graph, b) === 1 ? 's' : ''} for it ${when})${cond}`;
  }
  const source = sourceRound(b, round);
  if (source === 0) return `⏸ wait ${b.name} (previous round: none in round 1, passes at once)${cond}`;
  return `⏸ wait ${b.name} (needs ${b.count} of ${rolesText(graph, b.signalRoles)}, ${source === 'run' ? 'over the run' : `round ${source}`})${cond}`;
}

function waiterCount(graph: ExecutionGraph, b: EventBarrier): number {
  return graph.tracks.filter((t) => b.waitRoles.includes(t.role)).reduce((n, t) => n + t.workers.length, 0);
}

/** One line per wait or meeting in `round`, in the order the roles are declared. */
function whoWaits(graph: ExecutionGraph, round: number): string[] {
  const lines: string[] = [];
  const meetings = new Set<string>();
  for (const t of graph.tracks) {
    if (t.workers.length === 0) continue;
    for (const p of t.points) {
      const step = p.step;
      if (!isSync(step) || step.kind === 'signal' || pointInRound(p, round).runs === 'never') continue;
      const b = graph.plan.barriers.get(step.barrier);
      if (!b) continue;
      if (b.kind === 'meeting') {
        if (!meetings.has(b.name)) lines.push(`${rolesText(graph, b.partyRoles)} meet at "${b.name}" (round ${round})`);
        meetings.add(b.name);
        continue;
      }
      const source = sourceRound(b, round);
      if (source === 0) continue;
      lines.push(
        `${who(t)} waits for ${rolesText(graph, b.signalRoles)}: "${b.name}" (${b.count} signal${b.count === 1 ? '' : 's'} ${source === 'run' ? 'over the run' : `of round ${source}`})`,
      );
    }
  }
  return lines;
}

const nodeId = (s: StepSpec) => `s_${s.id.replace(/[^A-Za-z0-9]/g, '_')}`;
const safe = (name: string) => name.replace(/[^A-Za-z0-9]/g, '_');
const label = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;

/**
 * A Mermaid flowchart: a subgraph per role with its steps in order, edges
 * signal → wait labelled with the barrier and scope (dashed when the signal
 * comes from another round), and a node per meeting barrier joining its parties.
 * Without `round`, the edges of every round are drawn; with it, only those live
 * in that round (no previous-round edges in round 1, skipped steps greyed).
 */
export function renderMermaid(graph: ExecutionGraph, options: { round?: number } = {}): string {
  const out = ['flowchart TB'];
  const round = options.round;
  const skipped: string[] = [];
  for (const t of graph.tracks) {
    if (t.workers.length === 0) continue;
    out.push(`  subgraph role_${safe(t.role)}[${label(`${t.role} [${idRanges(t.workers)}]`)}]`, '    direction TB');
    for (const p of t.points) {
      const s = p.step;
      const text = shortLabel(s);
      out.push(`    ${nodeId(s)}${s.kind === 'wait' || s.kind === 'barrier' ? `{{${label(text)}}}` : s.kind === 'signal' ? `>${label(text)}]` : `[${label(text)}]`}`);
      if (round !== undefined && pointInRound(p, round).runs === 'never') skipped.push(nodeId(s));
    }
    for (let i = 1; i < t.points.length; i++) out.push(`    ${nodeId(t.points[i - 1]!.step)} --> ${nodeId(t.points[i]!.step)}`);
    out.push('  end');
  }
  const meetings = new Set<string>();
  for (const t of graph.tracks) {
    for (const p of t.points) {
      const s = p.step;
      if (!isSync(s) || s.kind === 'signal' || t.workers.length === 0) continue;
      const b = graph.plan.barriers.get(s.barrier);
      if (!b) continue;
      if (b.kind === 'meeting') {
        if (!meetings.has(b.name)) out.push(`  meet_${safe(b.name)}((${label(`${b.name}${round !== undefined ? ` · round ${round}` : ''}`)}))`);
        meetings.add(b.name);
        out.push(`  ${nodeId(s)} <--> meet_${safe(b.name)}`);
        continue;
      }
      if (round === 1 && b.scope === 'previous-round') continue;
      for (const st of graph.tracks) {
        if (!b.signalRoles.includes(st.role) || st.workers.length === 0) continue;
        for (const sp of st.points) {
          if (sp.step.kind !== 'signal' || sp.step.barrier !== b.name) continue;
          out.push(`  ${nodeId(sp.step)} ${b.scope === 'round' ? '-->' : '-.->'}|${label(edgeLabel(b, round))}| ${nodeId(s)}`);
        }
      }
    }
  }
  if (skipped.length > 0) out.push('  classDef skipped stroke-dasharray: 4 4, opacity: 0.5', `  class ${skipped.join(',')} skipped`);
  return out.join('\n');
}

function edgeLabel(b: BarrierSpec, round: number | undefined): string {
  if (b.kind !== 'event') return b.name;
  if (b.scope === 'run') return `${b.name} · run · ${b.count} needed`;
  if (b.scope === 'previous-round') return `${b.name} · previous round${round !== undefined ? ` (${round - 1})` : ''} · ${b.count} needed`;
  return `${b.name} · round${round !== undefined ? ` ${round}` : ''} · ${b.count} needed`;
}

function shortLabel(s: StepSpec): string {
  const cond = s.if ? ` [if ${s.if.source}]` : '';
  switch (s.kind) {
    case 'signal':
      return `→ signal ${s.barrier}${cond}`;
    case 'wait':
      return `⏸ wait ${s.barrier}${cond}`;
    case 'barrier':
      return `⏸ barrier ${s.barrier}${cond}`;
    case 'loop':
      return `loop ${s.times ? `${s.times.source}×` : `over ${s.as}`}${cond}`;
    default:
      return `${s.name}${cond}`;
  }
}
