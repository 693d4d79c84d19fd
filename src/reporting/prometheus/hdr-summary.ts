// A Prometheus summary whose quantiles, sum and count come from a LatencyStats
// (an HDR histogram kept by the metrics collector) read at scrape time, instead
// of prom-client's own sliding-window sketch: the live numbers are the ones the
// report will show, and no value is recorded twice.
import { Summary } from 'prom-client';
import type { LatencyStats } from '../metrics/latency-stats.js';

/** The quantiles exposed; the report's p50, p90, p95 and p99. */
export const QUANTILES = [0.5, 0.9, 0.95, 0.99] as const;

export interface SummarySource<L extends string> {
  /** Only `L`'s labels: `quantile` is the summary's own. */
  labels: Partial<Record<L | 'quantile', string>>;
  stats: LatencyStats;
}

type Values<L extends string> = Awaited<ReturnType<Summary<L | 'quantile'>['get']>>['values'];

/** Durations in ms in the stats, in seconds in the exposition (Prometheus' base unit). */
export class HdrSummary<L extends string> extends Summary<L | 'quantile'> {
  private readonly read: () => Iterable<SummarySource<L>>;

  constructor(o: { name: string; help: string; labelNames: readonly L[]; read: () => Iterable<SummarySource<L>> }) {
    super({ name: o.name, help: o.help, labelNames: o.labelNames, registers: [] });
    this.read = o.read;
  }

  override async get(): ReturnType<Summary<L | 'quantile'>['get']> {
    // Nothing is ever observed on this summary, so the base gives its name, help and type with no values.
    const base = await super.get();
    const values: Values<L> = [];
    for (const { labels, stats } of this.read()) {
      if (stats.count === 0) continue;
      for (const q of QUANTILES) values.push({ labels: { ...labels, quantile: q }, value: seconds(stats.at(q * 100)) });
      values.push({ metricName: `${base.name}_sum`, labels, value: seconds(stats.total) });
      values.push({ metricName: `${base.name}_count`, labels, value: stats.count });
    }
    return { ...base, values };
  }
}

/** ms → s, to the microsecond the histograms record (no float noise in the text). */
function seconds(ms: number): number {
  return Math.round(ms * 1000) / 1e6;
}
