// The coordination timeline, packed for the page: the browser draws it on a
// <canvas> and only ever paints the rows and time window in view, so the data
// must be compact (a 1,000 × 100 run is ~400k bars) and cheap to decode.
// Each lane (worker) gets one flat integer array, 6 numbers per bar:
//   [start delta, duration, step index, round, outcome, error index]
// start delta is from the previous bar of the same lane (lane bars are sorted
// by start), times in tenths of a millisecond; outcome 0 ok, 1 failed, 2
// skipped; error index points into `errors` or is -1.
import type { StepResult } from '../../../contract/events.js';
import type { RunReport } from '../../../contract/report.js';

export const BAR_STRIDE = 6;

export interface TimelineData {
  /** Run length in tenths of ms; the x axis spans 0 … end. */
  end: number;
  roles: string[];
  /** [worker id, role index], grouped by role in plan order, then by worker id. */
  lanes: Array<[number, number]>;
  /** [name, kind, role index, barrier index or -1] */
  steps: Array<[string, string, number, number]>;
  barriers: Array<{ name: string; kind: string; scope: string; signal: string[]; wait: string[] }>;
  errors: string[];
  /** Per lane, BAR_STRIDE integers per bar. */
  bars: number[][];
  /** Step results the report left out of its sampled timeline. */
  truncated: number;
}

export function buildTimelineData(report: RunReport): TimelineData {
  const t0 = Date.parse(report.startedAt);
  const firstStart = report.timeline.reduce((m, r) => Math.min(m, r.start), Number.POSITIVE_INFINITY);
  // The report's start may be later than the first step when clocks disagree; never draw before 0.
  const origin = Number.isFinite(t0) ? Math.min(t0, firstStart) : firstStart;

  const roles = report.run.roles.map((r) => r.name);
  const roleIndex = (role: string) => {
    let i = roles.indexOf(role);
    if (i < 0) i = roles.push(role) - 1;
    return i;
  };

  const workerRole = new Map<number, string>();
  for (const r of report.run.roles) for (const w of r.workers) workerRole.set(w, r.name);
  for (const w of report.workers) if (!workerRole.has(w.id)) workerRole.set(w.id, w.role);
  for (const r of report.timeline) if (!workerRole.has(r.worker)) workerRole.set(r.worker, r.role);
  const lanes: Array<[number, number]> = [...workerRole.entries()].map(([w, role]): [number, number] => [w, roleIndex(role)]).sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  const laneOf = new Map(lanes.map(([w], i) => [w, i]));

  const barrierNames = report.run.barriers.map((b) => b.name);
  const barriers = report.run.barriers.map((b) => ({ name: b.name, kind: b.kind, scope: b.scope ?? (b.kind === 'meeting' ? 'round' : 'round'), signal: b.signal, wait: b.wait }));
  const barrierIndex = (name: string) => {
    let i = barrierNames.indexOf(name);
    if (i < 0) {
      i = barrierNames.push(name) - 1;
      barriers.push({ name, kind: 'event', scope: 'round', signal: [], wait: [] });
    }
    return i;
  };

  const steps: TimelineData['steps'] = [];
  const stepIndex = new Map<string, number>();
  const stepOf = (r: StepResult) => {
    const k = `${r.role}\u0000${r.stepId}`;
    const barrier = r.wait?.barrier ?? r.signal?.barrier;
    let i = stepIndex.get(k);
    if (i === undefined) {
      i = steps.push([r.name, r.kind, roleIndex(r.role), barrier !== undefined ? barrierIndex(barrier) : -1]) - 1;
      stepIndex.set(k, i);
    } else if (barrier !== undefined && steps[i]![3] < 0) {
      steps[i]![3] = barrierIndex(barrier);
    }
    return i;
  };

  const errors: string[] = [];
  const errorIndex = new Map<string, number>();
  const perLane: StepResult[][] = lanes.map(() => []);
  for (const r of report.timeline) perLane[laneOf.get(r.worker)!]!.push(r);

  const tenths = (ms: number) => Math.max(0, Math.round(ms * 10));
  const bars = perLane.map((rs) => {
    rs.sort((a, b) => a.start - b.start);
    const out: number[] = [];
    let prev = 0;
    for (const r of rs) {
      const start = tenths(r.start - origin);
      let err = -1;
      if (r.error) {
        const e = errorIndex.get(r.error.message);
        err = e ?? errors.push(r.error.message) - 1;
        if (e === undefined) errorIndex.set(r.error.message, err);
      }
      out.push(start - prev, tenths(r.durationMs), stepOf(r), r.round, r.outcome === 'ok' ? 0 : r.outcome === 'failed' ? 1 : 2, err);
      prev = start;
    }
    return out;
  });
  const lastEnd = report.timeline.reduce((m, r) => Math.max(m, r.start + r.durationMs), origin);
  const end = Math.max(tenths(lastEnd - origin), tenths(report.durationMs), 1);
  return { end, roles, lanes, steps, barriers, errors, bars, truncated: report.timelineTruncated };
}

/** JSON safe to put inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
