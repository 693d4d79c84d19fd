// Pass/fail criteria checked at the end of a run against the collector's
// aggregates, and the abortOnFail ones also during it on the aggregates so far.
// The collector decides what a selector measures; this module only computes
// the stat and compares.
import type { ThresholdSpec } from '../../contract/plan.js';
import type { Percentiles, ThresholdResult } from '../../contract/report.js';
import { formatDuration } from '../../text/duration.js';

/** What one selector (`http`, `step.NAME`, `barrier.NAME.wait`…) measured. */
export interface MetricSelection {
  /** Executions that ran: ok + failed (skipped steps did not happen). */
  executed: number;
  failed: number;
  /** Latencies in ms; absent when nothing ran. */
  latency?: Percentiles;
}

export interface ThresholdSource {
  /** undefined when the selector matches nothing in this run. */
  select(selector: string): MetricSelection | undefined;
  /** Run duration, for `rate`. */
  durationMs: number;
}

export function evaluateThresholds(specs: readonly ThresholdSpec[], source: ThresholdSource): ThresholdResult[] {
  return specs.map((spec) => judge(spec, source.select(spec.selector), source.durationMs));
}

/**
 * Results a statistical stat (a percentile, the mean, errors, rate) needs before it is judged during the run:
 * one slow request among three is a p95 of noise. count, min and max are exact from the first result.
 */
export const MIN_RESULTS_DURING_RUN = 10;

/**
 * An abortOnFail threshold judged on the results so far (`durationMs`: the run's length so far): its failed
 * result, or undefined while it holds or cannot be judged yet (too few results, nothing measured).
 */
export function failingSoFar(spec: ThresholdSpec, source: ThresholdSource): ThresholdResult | undefined {
  const sel = source.select(spec.selector);
  const exact = spec.stat === 'count' || spec.stat === 'min' || spec.stat === 'max';
  if (!exact && (sel?.executed ?? 0) < MIN_RESULTS_DURING_RUN) return undefined;
  const result = judge(spec, sel, source.durationMs);
  return result.actual !== null && !result.passed ? result : undefined;
}

function judge(spec: ThresholdSpec, sel: MetricSelection | undefined, durationMs: number): ThresholdResult {
  const actual = measure(spec, sel, durationMs);
  return { selector: spec.selector, condition: spec.source, actual, passed: actual !== null && compare(actual, spec.op, spec.value) };
}

/** The stat in the spec's unit, or null when nothing was measured (an unproven threshold fails). */
function measure(spec: ThresholdSpec, sel: MetricSelection | undefined, durationMs: number): number | null {
  switch (spec.stat) {
    case 'count':
      return sel?.executed ?? 0;
    case 'rate':
      return durationMs > 0 ? ((sel?.executed ?? 0) * 1000) / durationMs : null;
    case 'errors':
      return sel && sel.executed > 0 ? sel.failed / sel.executed : null;
    default:
      return sel?.latency ? sel.latency[spec.stat] : null;
  }
}

function compare(actual: number, op: ThresholdSpec['op'], value: number): boolean {
  switch (op) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
      return actual === value;
  }
}

/** `p95 < 500ms` → the unit the actual value is shown in. */
export function formatThresholdActual(result: ThresholdResult): string {
  if (result.actual === null) return 'no data';
  const stat = /^\s*(\w+)/.exec(result.condition)?.[1] ?? '';
  if (stat === 'errors') return `${round(result.actual * 100, 2)}%`;
  if (stat === 'rate') return `${round(result.actual, 2)}/s`;
  if (stat === 'count') return String(result.actual);
  return `${round(result.actual, 2)}ms`;
}

/** `stopped the run at 12.0 s (812ms then)` for the abortOnFail threshold that did; undefined for the others. */
export function formatThresholdAbort(result: ThresholdResult): string | undefined {
  if (!result.aborted) return undefined;
  return `stopped the run at ${formatDuration(result.aborted.afterMs)} (${formatThresholdActual({ ...result, actual: result.aborted.actual })} then)`;
}

/** One sentence naming the failed thresholds, for RunReport.reason. */
export function describeFailedThresholds(results: readonly ThresholdResult[]): string | undefined {
  const failed = results.filter((r) => !r.passed);
  if (failed.length === 0) return undefined;
  const parts = failed.map((r) => `${r.selector}: \`${r.condition}\` (actual ${formatThresholdActual(r)})`);
  return `${failed.length === 1 ? 'Threshold' : `${failed.length} thresholds`} failed: ${parts.join('; ')}`;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
