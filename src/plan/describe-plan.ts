// The text `planrun validate` prints for a valid plan: roles with their worker
// ids, barriers with signalers and waiters, data sets, and the steps of each role.
import type { CompiledPlan, LoadModel, StepSpec } from '../contract/plan.js';
import { painter } from '../text/colour.js';
import { nounFor, plural } from '../text/plural.js';

/** `0-3, 7` for [0, 1, 2, 3, 7]. */
export function idRanges(ids: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    parts.push(j > i ? `${ids[i]}-${ids[j]}` : `${ids[i]}`);
    i = j + 1;
  }
  return parts.join(', ') || 'none';
}

export function summarizePlan(plan: CompiledPlan, file: string, options: { color?: boolean } = {}): string {
  const paint = painter(options.color ?? false);
  const bold = (s: string) => paint('bold', s);
  const green = (s: string) => paint('green', s);
  const out: string[] = [];
  out.push(`${green('✓')} ${file}: ${plan.name}`);
  const shape = [plural(plan.workers, 'worker')];
  if (plan.rounds !== undefined && plan.roles.some((r) => !r.load)) shape.push(plural(plan.rounds, 'round'));
  if (plan.durationMs !== undefined) shape.push(`for ${plan.durationMs} ms`);
  if (plan.target) shape.push(`target ${plan.target.href}`);
  if (plan.seed !== undefined) shape.push(`seed ${plan.seed}`);
  out.push(`  ${shape.join(', ')}`);
  out.push('', bold('roles'));
  const width = Math.max(longest(plan.roles.map((r) => r.name)), 4);
  for (const r of plan.roles) out.push(`  ${r.name.padEnd(width)}  ${nounFor(r.workers.length, 'worker')} ${idRanges(r.workers)}${r.load ? `, ${describeLoad(r.load)}` : ''}`);
  if (plan.barriers.size > 0) {
    out.push('', bold('barriers'));
    const bw = longest(plan.barriers.keys());
    for (const b of plan.barriers.values()) {
      if (b.kind === 'event') {
        out.push(
          `  ${b.name.padEnd(bw)}  event, scope ${b.scope}: signalers ${b.signalRoles.join(', ') || '-'} [${idRanges(b.signalers)}] → waiters ${b.waitRoles.join(', ') || '-'} [${idRanges(b.waiters)}], ${plural(b.count, 'signal')} needed`,
        );
      } else {
        out.push(`  ${b.name.padEnd(bw)}  meeting: parties ${b.partyRoles.join(', ')} [${idRanges(b.parties)}]`);
      }
    }
  }
  if (plan.data.length > 0) {
    out.push('', bold('data'));
    const dw = Math.max(...plan.data.map((d) => d.name.length));
    for (const d of plan.data) {
      const { size, columns } = d.table;
      const how = d.pick === 'random' ? `random, every ${d.every}` : `sequence, every ${d.every}, atEnd ${d.atEnd}`;
      out.push(`  ${d.name.padEnd(dw)}  ${d.file}: ${plural(size, 'row')}${columns ? ` (${columns.join(', ')})` : ''}; ${how}`);
    }
  }
  out.push('', bold('steps'));
  // Setup and teardown are listed where they run: before and after every role's steps.
  const once = (name: string, steps: StepSpec[]): Array<[string, StepSpec[]]> => (steps.length > 0 ? [[name, steps]] : []);
  for (const [role, steps] of [...once('setup', plan.setup), ...plan.scenarios, ...once('teardown', plan.teardown)]) {
    out.push(`  ${role} (${plural(countSteps(steps), 'step')})`);
    pushSteps(out, steps, 4);
  }
  if (plan.crawl) out.push('', bold('crawl'), `  start ${plan.crawl.start.join(', ')}`);
  if (plan.thresholds.length > 0) {
    out.push('', bold('thresholds'));
    for (const t of plan.thresholds) {
      const abort = t.abortOnFail ? `, stops the run when it fails${t.abortOnFail.graceMs > 0 ? ` after ${t.abortOnFail.graceMs} ms of load` : ''}` : '';
      out.push(`  ${t.selector}: ${t.source}${abort}`);
    }
  }
  return out.join('\n');
}

/** `arrival rate 0 → 200/s over 10000 ms, hold 10000 ms, …` */
function describeLoad(load: LoadModel): string {
  const unit = load.kind === 'arrival-rate' ? '/s' : ' workers';
  const parts = load.segments.map((s) =>
    s.from === s.to ? `${s.to === 0 ? 'pause' : `${s.to}${unit}`} for ${s.durationMs} ms` : `${s.from} → ${s.to}${unit} over ${s.durationMs} ms`,
  );
  return `${load.kind === 'arrival-rate' ? 'arrival rate' : 'ramping workers'}: ${parts.join(', ')}`;
}

function countSteps(steps: StepSpec[]): number {
  return steps.reduce((n, s) => n + 1 + (s.kind === 'group' || s.kind === 'loop' ? countSteps(s.steps) : 0), 0);
}

function pushSteps(out: string[], steps: StepSpec[], indent: number): void {
  const w = longest(steps.map((s) => s.id));
  for (const s of steps) {
    out.push(`${' '.repeat(indent)}${s.id.padEnd(w)}  ${s.kind.padEnd(7)} ${s.name}`);
    if (s.kind === 'group' || s.kind === 'loop') pushSteps(out, s.steps, indent + 2);
  }
}

/** Length of the longest text; a loop, since Math.max(...list) overflows the stack past about 100,000 items. */
function longest(texts: Iterable<string>): number {
  let n = 0;
  for (const t of texts) n = Math.max(n, t.length);
  return n;
}
