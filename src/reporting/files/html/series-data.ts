// The run's time series, packed for the page's "Over time" charts: one line of
// values per bucket for each thing drawn, in columns (not one object per
// bucket) and rounded to three significant digits, so an hour-long run's 3,600
// buckets stay a few hundred kB. The page's script (series-client.ts) draws
// the charts from this and redraws them for the time range the user selects.
import type { RunReport, SeriesBucket, TimeSeries } from '../../../contract/report.js';

export interface ChartLine {
  name: string;
  color: string;
  /** One per bucket; null where there is nothing to draw (no request ended in it). */
  values: Array<number | null>;
  /** Targets are dashed. */
  dash?: true;
  /** How buckets merge into one column when more are in view than the chart has room for. */
  agg: 'mean' | 'max';
}

export interface Chart {
  id: 'throughput' | 'latency' | 'errors' | 'workers' | 'steps';
  title: string;
  /** How the y axis is labelled: `/s` rates, `ms` durations, plain counts. */
  unit: 'rate' | 'ms' | 'count';
  lines: ChartLine[];
}

export interface SeriesChartData {
  bucketMs: number;
  /** Number of buckets; bucket i starts at i × bucketMs from the run's start. */
  n: number;
  charts: Chart[];
}

const PALETTE = ['#3b6fd4', '#e07b24', '#2e9d5b', '#a04ac9', '#c7a414', '#1fa3a3', '#d64541', '#6b7a8f'];
const TARGET = '#111111';
const PERCENTILES = ['p50', 'p90', 'p95', 'p99', 'max'] as const;
/** Step kinds whose duration is not a latency worth charting (waiting, bookkeeping). */
export const NOT_LATENCY = new Set(['wait', 'barrier', 'signal', 'sleep', 'set', 'group', 'loop', 'capture']);

/** Three significant digits: what a chart can show, in fewer bytes. */
function sig3(v: number): number {
  return v === 0 || !Number.isFinite(v) ? 0 : Number(v.toPrecision(3));
}

/** The charts of a report's series; undefined when it has none (a report from before planrun had one). */
export function buildSeriesCharts(report: RunReport): SeriesChartData | undefined {
  const ts = report.series;
  if (!ts || ts.buckets.length === 0) return undefined;
  const perSecond = 1000 / ts.bucketMs;
  const col = (f: (b: SeriesBucket) => number | undefined) =>
    ts.buckets.map((b) => {
      const v = f(b);
      return v === undefined ? null : sig3(v);
    });
  const roleLoad = new Map(report.run.roles.map((r) => [r.name, r.load]));
  const targetRoles = (load: 'arrival-rate' | 'ramping-workers') =>
    [...roleLoad].filter(([role, l]) => l === load && ts.buckets.some((b) => b.targets?.[role] !== undefined)).map(([role]) => role);
  const target = (role: string, what: string): ChartLine => ({ name: `target ${role} (${what})`, color: TARGET, dash: true, agg: 'mean', values: col((b) => b.targets?.[role]) });

  const anyRequests = ts.buckets.some((b) => b.requests > 0);
  const throughput: ChartLine[] = [
    anyRequests
      ? { name: 'requests/s', color: PALETTE[0]!, agg: 'mean', values: col((b) => b.requests * perSecond) }
      : { name: 'step runs/s', color: PALETTE[0]!, agg: 'mean', values: col((b) => b.steps * perSecond) },
    // Reports written before the series counted iterations have no such line.
    ...(ts.buckets[0]!.iterations === undefined ? [] : [{ name: 'iterations/s', color: PALETTE[2]!, agg: 'mean' as const, values: col((b) => (b.iterations ?? 0) * perSecond) }]),
    ...targetRoles('arrival-rate').map((role) => target(role, 'iterations/s')),
  ];

  const codes = [...new Set(ts.buckets.flatMap((b) => Object.keys(b.errors)))].sort();
  const errors: ChartLine[] = codes.length
    ? codes.map((code, i) => ({
        name: `${code}/s`,
        color: i === 0 ? '#d64541' : PALETTE[(i + 1) % PALETTE.length]!,
        agg: 'mean',
        values: col((b) => (b.errors[code] ?? 0) * perSecond),
      }))
    : [{ name: 'failed/s', color: '#d64541', agg: 'mean', values: col((b) => b.failed * perSecond) }];
  if (ts.buckets.some((b) => b.dropped > 0) || [...roleLoad.values()].includes('arrival-rate'))
    errors.push({ name: 'dropped iterations/s', color: PALETTE[4]!, agg: 'mean', values: col((b) => b.dropped * perSecond) });

  const charts: Chart[] = [{ id: 'throughput', title: 'Throughput', unit: 'rate', lines: throughput }];
  if (ts.buckets.some((b) => b.http))
    charts.push({
      id: 'latency',
      title: 'HTTP latency percentiles',
      unit: 'ms',
      lines: PERCENTILES.map((p, i) => ({ name: p, color: PALETTE[i]!, agg: 'max' as const, values: col((b) => b.http?.[p]) })),
    });
  charts.push({ id: 'errors', title: 'Errors by code', unit: 'rate', lines: errors });
  charts.push({
    id: 'workers',
    title: 'Workers',
    unit: 'count',
    lines: [
      { name: 'active', color: PALETTE[0]!, agg: 'max', values: col((b) => b.activeWorkers) },
      { name: 'busy', color: PALETTE[1]!, agg: 'max', values: col((b) => b.busyWorkers) },
      ...targetRoles('ramping-workers').map((role) => target(role, 'workers')),
    ],
  });
  const steps = stepLines(report, ts);
  if (steps.length) charts.push({ id: 'steps', title: 'Mean latency per step', unit: 'ms', lines: steps });
  return { bucketMs: ts.bucketMs, n: ts.buckets.length, charts };
}

/** Mean latency per bucket of the busiest timed steps (up to 8). */
function stepLines(report: RunReport, ts: TimeSeries): ChartLine[] {
  const steps = report.steps
    .filter((s) => !NOT_LATENCY.has(s.kind) && s.ok + s.failed > 0)
    .sort((a, b) => b.count - a.count)
    .slice(0, PALETTE.length);
  return steps.map((s, i) => ({
    name: `${s.role} · ${s.name}`,
    color: PALETTE[i]!,
    agg: 'mean',
    values: ts.buckets.map((b) => {
      const m = b.byStep.find((x) => x.role === s.role && x.stepId === s.stepId);
      return m ? sig3(m.latency.mean) : null;
    }),
  }));
}
