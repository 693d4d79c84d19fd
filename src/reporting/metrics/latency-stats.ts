// One latency distribution, shared by the run's totals and each bucket of its
// time series (time-series.ts), which both need the same percentiles.
import { build, type Histogram } from 'hdr-histogram-js';
import type { Percentiles } from '../../contract/report.js';

/**
 * Latency distribution of one metric. Percentiles come from an HDR histogram at
 * microsecond resolution (3 significant digits, ±0.1 %), so memory stays flat
 * however long the run; count, min, max and mean are kept exactly. The sum is
 * whole microseconds: a sum of floats depends on the order its values came in,
 * and a mean that falls on a half microsecond (the same values, recorded in
 * another order or merged from another split) rounded either way.
 */
export class LatencyStats {
  private readonly histogram: Histogram = build({ numberOfSignificantValueDigits: 3 });
  count = 0;
  /** In whole microseconds: exact whatever the order of records and merges. */
  private sumUs = 0;
  private min = Infinity;
  private max = -Infinity;

  record(ms: number): void {
    const value = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const us = Math.round(value * 1000);
    this.histogram.recordValue(us);
    this.count++;
    this.sumUs += us;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** Adds another distribution into this one (combining steps for `http`, `steps`…). */
  merge(other: LatencyStats): this {
    if (other.count === 0) return this;
    this.histogram.add(other.histogram);
    this.count += other.count;
    this.sumUs += other.sumUs;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    return this;
  }

  /** Every recorded value added up, in ms to the microsecond (a Prometheus summary's `_sum`). */
  get total(): number {
    return this.sumUs / 1000;
  }

  /** The value at percentile `p` (0-100), in ms; 0 when nothing was recorded. */
  at(p: number): number {
    if (this.count === 0) return 0;
    // A bucket reports its highest equivalent value, which can sit a hair
    // outside the exact range: clamp so p99 never exceeds max.
    return Math.min(this.max, Math.max(this.min, this.histogram.getValueAtPercentile(p) / 1000));
  }

  /** In ms; undefined when nothing was recorded. */
  percentiles(): Percentiles | undefined {
    if (this.count === 0) return undefined;
    const at = (p: number) => this.at(p);
    return {
      min: round3(this.min),
      mean: Math.round(this.sumUs / this.count) / 1000,
      p50: round3(at(50)),
      p90: round3(at(90)),
      p95: round3(at(95)),
      p99: round3(at(99)),
      max: round3(this.max),
    };
  }
}

/** Microseconds are all a histogram of microseconds can claim. */
function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
