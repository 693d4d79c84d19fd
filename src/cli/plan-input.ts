// What every command that reads a plan shares: --var flags, the colour of its
// messages, and loading the plan with its problems printed (exit code 2).
import type { ExecutionGraph } from '../graph/graph.js';
import { useColor } from '../text/colour.js';

/** Exit code of an invalid plan or bad usage. */
export const USAGE_EXIT_CODE = 2;

/** `--var a=1 --var b=x=y` → { a: '1', b: 'x=y' }, or an error message. */
export function parseVarFlags(flags: string[]): Record<string, string> | string {
  const vars: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) return `--var expects NAME=VALUE, got \`${flag}\``;
    vars[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return vars;
}

/** --color / --no-color when given, else the one colour policy (text/colour.ts) for that stream. */
export function colorFor(stream: { isTTY?: boolean }, flags: { color?: boolean; 'no-color'?: boolean } = {}): boolean {
  if (flags.color !== undefined) return flags.color;
  return !flags['no-color'] && useColor(stream, process.env);
}

export interface PlanInputOptions {
  vars: Record<string, string>;
  /** Colour of the problems printed on stderr. */
  color: boolean;
  /** false: leave the deadlock check to the caller (`planrun graph` prints it itself). */
  checkDeadlocks?: boolean;
}

/**
 * The compiled plan's execution graph (the plan is its `plan`), or
 * USAGE_EXIT_CODE after printing its errors to stderr. Warnings (a wait that
 * may hang) are printed and the graph is returned: the one a run then uses.
 */
export async function loadPlanInput(file: string, o: PlanInputOptions): Promise<ExecutionGraph | number> {
  const [{ loadPlan }, { PlanError }, { formatPlanError, formatIssues }, { compileGraph }, { checkGraph }] = await Promise.all([
    import('../plan/load.js'),
    import('../plan/issues.js'),
    import('../plan/format.js'),
    import('../graph/graph.js'),
    import('../graph/check.js'),
  ]);
  try {
    const graph = compileGraph(await loadPlan(file, { vars: o.vars }));
    if (o.checkDeadlocks !== false) {
      const warnings = checkGraph(graph);
      if (warnings.length > 0) process.stderr.write(`${formatIssues(warnings, { color: o.color })}\n\n`);
    }
    return graph;
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    process.stderr.write(`${formatPlanError(err, { color: o.color })}\n`);
    return USAGE_EXIT_CODE;
  }
}
