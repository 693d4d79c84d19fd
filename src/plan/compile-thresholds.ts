// Threshold conditions: `p95 < 500ms`, `errors < 1%`, `count >= 10`.
import { formatPath, type IssueCollector } from './issue-collector.js';
import { parseDuration } from './duration.js';
import type { ThresholdSpec, ThresholdStat } from '../contract/plan.js';
import { didYouMean } from './suggest.js';
import type * as Raw from './raw-plan.js';
import type { YamlPath } from './source.js';

const LATENCY: ThresholdStat[] = ['min', 'mean', 'max', 'p50', 'p90', 'p95', 'p99'];
const CONDITION = /^\s*(count|min|mean|max|p50|p90|p95|p99|errors|rate)\s*(<=|>=|<|>|==)\s*(\S+)\s*$/;

export interface ThresholdTargets {
  stepNames: Set<string>;
  barrierNames: Set<string>;
  hasCrawl: boolean;
  /** Some role runs an arrival rate: only its steps have a latency from the scheduled start. */
  hasArrivalRate: boolean;
}

export function compileThresholds(raw: Raw.Plan['thresholds'], targets: ThresholdTargets, issues: IssueCollector): ThresholdSpec[] {
  const out: ThresholdSpec[] = [];
  for (const [selector, items] of Object.entries(raw ?? {})) {
    checkSelector(selector, targets, issues);
    items.forEach((item, i) => {
      const at: YamlPath = ['thresholds', selector, i];
      const source = typeof item === 'string' ? item : item.condition;
      const path = typeof item === 'string' ? at : [...at, 'condition'];
      const m = CONDITION.exec(source);
      if (!m) {
        issues.error(path, `${formatPath(at)}: \`${source}\` is not a condition like \`p95 < 500ms\`, \`errors < 1%\`, \`count >= 10\``);
        return;
      }
      const stat = m[1] as ThresholdStat;
      const op = m[2] as ThresholdSpec['op'];
      const value = parseValue(stat, m[3]!);
      if (typeof value === 'string') {
        issues.error(path, `${formatPath(at)}: ${value}`, { offset: source.indexOf(m[3]!) });
        return;
      }
      const abortOnFail = typeof item === 'string' ? undefined : compileAbort(item, stat, op, at, issues);
      out.push({ selector, source, stat, op, value, ...(abortOnFail ? { abortOnFail } : {}), loc: issues.loc(path) });
    });
  }
  return out;
}

/**
 * The object form's abortOnFail and grace. A condition judged on the results so far must not be one that later
 * results could still make true: `count >= 10` fails at the start of every run.
 */
function compileAbort(item: Raw.Threshold, stat: ThresholdStat, op: ThresholdSpec['op'], at: YamlPath, issues: IssueCollector): { graceMs: number } | undefined {
  if (item.abortOnFail !== true) {
    if (item.grace !== undefined)
      issues.error([...at, 'grace'], `${formatPath(at)}: \`grace\` delays abortOnFail, and this threshold does not have \`abortOnFail: true\``, { at: 'key' });
    return undefined;
  }
  if (at[1] === 'crawl') {
    issues.error([...at, 'abortOnFail'], `${formatPath(at)}: \`crawl\` thresholds are judged at the end: the crawl runs after the workers, so it cannot stop their load`, {
      hint: 'remove abortOnFail',
    });
    return undefined;
  }
  if (!canFailForGood(stat, op)) {
    issues.error(
      [...at, 'abortOnFail'],
      `${formatPath(at)}: \`${item.condition.trim()}\` can only be judged at the end (later results can still make it true), so it cannot stop the run early`,
      {
        hint:
          stat === 'count' || stat === 'max'
            ? 'remove abortOnFail, or use an upper bound (`<`, `<=`)'
            : stat === 'min'
              ? 'remove abortOnFail, or use a lower bound (`>`, `>=`)'
              : 'remove abortOnFail, or use `<`, `<=`, `>` or `>=`',
      },
    );
    return undefined;
  }
  return { graceMs: parseDuration(item.grace ?? 0) ?? 0 };
}

/** Whether a failure on the results so far can be final: count and max only grow, min only shrinks; == is a point. */
function canFailForGood(stat: ThresholdStat, op: ThresholdSpec['op']): boolean {
  if (op === '==') return false;
  if (stat === 'count' || stat === 'max') return op === '<' || op === '<=';
  if (stat === 'min') return op === '>' || op === '>=';
  return true;
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
