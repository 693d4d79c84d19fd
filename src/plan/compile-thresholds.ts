// Threshold conditions: `p95 < 500ms`, `errors < 1%`, `count >= 10`.
import { formatPath, type IssueCollector } from './issue-collector.js';
import { parseDuration } from './duration.js';
import type { ThresholdSpec, ThresholdStat } from '../contract/plan.js';
import { didYouMean } from './suggest.js';

const LATENCY: ThresholdStat[] = ['min', 'mean', 'max', 'p50', 'p90', 'p95', 'p99'];
const CONDITION = /^\s*(count|min|mean|max|p50|p90|p95|p99|errors|rate)\s*(<=|>=|<|>|==)\s*(\S+)\s*$/;

export interface ThresholdTargets {
  stepNames: Set<string>;
  barrierNames: Set<string>;
  hasCrawl: boolean;
  /** Some role runs an arrival rate: only its steps have a latency from the scheduled start. */
  hasArrivalRate: boolean;
}

export function compileThresholds(raw: Record<string, string[]> | undefined, targets: ThresholdTargets, issues: IssueCollector): ThresholdSpec[] {
  const out: ThresholdSpec[] = [];
  for (const [selector, conditions] of Object.entries(raw ?? {})) {
    checkSelector(selector, targets, issues);
    conditions.forEach((source, i) => {
      const path = ['thresholds', selector, i];
      const m = CONDITION.exec(source);
      if (!m) {
        issues.error(path, `${formatPath(path)}: \`${source}\` is not a condition like \`p95 < 500ms\`, \`errors < 1%\`, \`count >= 10\``);
        return;
      }
      const stat = m[1] as ThresholdStat;
      const value = parseValue(stat, m[3]!);
      if (typeof value === 'string') {
        issues.error(path, `${formatPath(path)}: ${value}`, { offset: source.indexOf(m[3]!) });
        return;
      }
      out.push({ selector, source, stat, op: m[2] as ThresholdSpec['op'], value, loc: issues.loc(path) });
    });
  }
  return out;
}

/** The value in the stat's unit, or an error message. */
function parseValue(stat: ThresholdStat, text: string): number | string {
  if (LATENCY.includes(stat)) {
    const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) : parseDuration(text);
    return ms ?? `\`${text}\` is not a duration: ${stat} is a time like 500ms, 2s or 1m`;
  }
  if (stat === 'errors') {
    const pct = /^(\d+(?:\.\d+)?)%$/.exec(text);
    if (pct) return Number(pct[1]) <= 100 ? Number(pct[1]) / 100 : `\`${text}\` is more than 100%`;
    if (/^\d+(\.\d+)?$/.test(text) && Number(text) <= 1) return Number(text);
    return `\`${text}\` is not an error rate: write a percentage like 1% or a fraction like 0.01`;
  }
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  return `\`${text}\` is not a number: ${stat} takes a plain number`;
}

function checkSelector(selector: string, targets: ThresholdTargets, issues: IssueCollector): void {
  const path = ['thresholds', selector];
  if (selector.startsWith('step.')) {
    const name = selector.slice(5);
    if (!targets.stepNames.has(name)) {
      issues.error(path, `thresholds: no step is named \`${name}\``, { at: 'key', hint: didYouMean(name, targets.stepNames) });
    }
  } else if (selector.startsWith('barrier.')) {
    const name = selector.slice(8, -5);
    if (!targets.barrierNames.has(name)) {
      issues.error(path, `thresholds: unknown barrier \`${name}\``, { at: 'key', hint: didYouMean(name, targets.barrierNames) });
    }
  } else if (selector.endsWith('.scheduled') && !targets.hasArrivalRate) {
    issues.error(path, `thresholds: \`${selector}\` times arrival-rate iterations from their scheduled start, and no role has \`rate\` or rate \`stages\``, {
      at: 'key',
      hint: `use \`${selector.slice(0, -'.scheduled'.length)}\` for the steps' own latency`,
    });
  } else if (selector === 'crawl' && !targets.hasCrawl) {
    issues.error(path, 'thresholds: `crawl` thresholds need a `crawl:` section', { at: 'key' });
  }
}
