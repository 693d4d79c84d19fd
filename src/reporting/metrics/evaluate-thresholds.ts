// Pass/fail criteria checked once, at the end of a run, against the collector's
// aggregates. The collector decides what a selector measures; this module only
// computes the stat and compares.
import type { ThresholdSpec } from '../../contract/plan.js';
import type { Percentiles, ThresholdResult } from '../../contract/report.js';

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
  return specs.map((spec) => {
    const actual = measure(spec, source);
    return { selector: spec.selector, condition: spec.source, actual, passed: actual !== null && compare(actual, spec.op, spec.value) };
  });
}

/** The stat in the spec's unit, or null when nothing was measured (an unproven threshold fails). */
function measure(spec: ThresholdSpec, source: ThresholdSource): number | null {
  const sel = source.select(spec.selector);
  switch (spec.stat) {
    case 'count':
      return sel?.executed ?? 0;
    case 'rate':
      return source.durationMs > 0 ? ((sel?.executed ?? 0) * 1000) / source.durationMs : null;
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
