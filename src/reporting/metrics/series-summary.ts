// The whole run's time series in a few numbers, for the outputs that cannot
// carry every bucket (summary.md, junit.xml): the busiest bucket, the mean
// rate, the worst latency buckets, how many buckets saw errors, the drops.
import type { RunReport, TimeSeries } from '../../contract/report.js';

/** A value and the start of the bucket it came from (ms from the run's start). */
export interface AtBucket {
  value: number;
  t: number;
}

export interface SeriesSummary {
  buckets: number;
  bucketMs: number;
  /** HTTP requests over the run. */
  requests: number;
  /** Requests per second in the busiest bucket (the first of equals). */
  peakRps: AtBucket;
  /** Requests per second over the run's duration. */
  meanRps: number;
  /** The bucket with the highest HTTP p95 / p99; absent without HTTP requests. */
  worstP95?: AtBucket;
  worstP99?: AtBucket;
  /** Buckets in which at least one step run failed. */
  errorBuckets: number;
  failed: number;
  /** Open-model iterations dropped. */
  dropped: number;
}

export function summarizeSeries(series: TimeSeries, durationMs: number): SeriesSummary {
  const perSecond = 1000 / series.bucketMs;
  let peakRps: AtBucket = { value: 0, t: 0 };
  let worstP95: AtBucket | undefined;
  let worstP99: AtBucket | undefined;
  let requests = 0;
  let errorBuckets = 0;
  let failed = 0;
  let dropped = 0;
  for (const b of series.buckets) {
    requests += b.requests;
    failed += b.failed;
    dropped += b.dropped;
    if (b.failed > 0) errorBuckets++;
    if (b.requests * perSecond > peakRps.value) peakRps = { value: b.requests * perSecond, t: b.t };
    if (b.http && (!worstP95 || b.http.p95 > worstP95.value)) worstP95 = { value: b.http.p95, t: b.t };
    if (b.http && (!worstP99 || b.http.p99 > worstP99.value)) worstP99 = { value: b.http.p99, t: b.t };
  }
  return {
    buckets: series.buckets.length,
    bucketMs: series.bucketMs,
    requests,
    peakRps,
    meanRps: durationMs > 0 ? (requests * 1000) / durationMs : 0,
    ...(worstP95 ? { worstP95 } : {}),
    ...(worstP99 ? { worstP99 } : {}),
    errorBuckets,
    failed,
    dropped,
  };
}

/** The report's series summarized, or undefined for a report without one (written before planrun had it). */
export function reportSeriesSummary(r: RunReport): SeriesSummary | undefined {
  return r.series ? summarizeSeries(r.series, r.durationMs) : undefined;
}
