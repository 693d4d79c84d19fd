// `planrun graph <plan> [--format text|mermaid] [--round N] [--var k=v]`: show
// who waits for whom, per round. A deadlocking plan is still drawn (stdout) so
// the cycle can be seen; the deadlock goes to stderr and the exit code is 2.
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import type { PlanIssue } from '../../plan/issues.js';
import { plural } from '../../text/plural.js';
import { colorFor, loadPlanInput, parseVarFlags } from '../plan-input.js';

export const command: Command = {
  name: 'graph',
  summary: 'Show the execution graph of a plan: steps per role and round, who waits for whom',
  usage: `Usage: planrun graph <plan.yml> [--format text|mermaid] [--round N] [--var NAME=VALUE]...

Prints each role's steps per round (workers grouped by role), what every wait
needs and from whom, and checks the plan for deadlocks. Without --round, text
shows rounds 1 and 2 (every later round looks like round 2) and Mermaid draws
the edges of all rounds.

Options:
  --format text|mermaid   Output format (default text)
  --round N               Only round N
  --var NAME=VALUE        Override a plan variable (repeatable)
  --no-color              Plain error output
  -h, --help              Show this help

Exit codes: 0 no deadlock (warnings may be printed), 2 invalid or deadlocking plan, or bad usage.`,
  async run(argv) {
    let values: { format?: string; round?: string; var?: string[]; 'no-color'?: boolean; help?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          format: { type: 'string' },
          round: { type: 'string' },
          var: { type: 'string', multiple: true },
          'no-color': { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (err) {
      return usageError((err as Error).message);
    }
    if (values.help) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
    if (positionals.length !== 1) return usageError('give one plan file');
    const format = values.format ?? 'text';
    if (format !== 'text' && format !== 'mermaid') return usageError(`--format is text or mermaid, not \`${format}\``);
    let round: number | undefined;
    if (values.round !== undefined) {
      round = Number(values.round);
      if (!Number.isInteger(round) || round < 1) return usageError(`--round expects a round number (1, 2, …), got \`${values.round}\``);
    }
    const vars = parseVarFlags(values.var ?? []);
    if (typeof vars === 'string') return usageError(vars);

    const [{ PlanError }, { formatPlanError, formatIssues }, { checkGraph }, { renderText, renderMermaid }] = await Promise.all([
      import('../../plan/issues.js'),
      import('../../plan/format.js'),
      import('../../graph/check.js'),
      import('../../graph/render.js'),
    ]);
    const color = colorFor(process.stderr, values);
    // The deadlock check runs below, after the graph is drawn, so that a deadlocking plan is still shown.
    const graph = await loadPlanInput(positionals[0]!, { vars, color, checkDeadlocks: false });
    if (typeof graph === 'number') return graph;
    const { rounds } = graph.plan;
    if (round !== undefined && rounds !== undefined && round > rounds) {
      return usageError(`--round ${round}: the plan has ${plural(rounds, 'round')}`);
    }
    const opts = round !== undefined ? { round } : {};
    process.stdout.write(`${format === 'mermaid' ? renderMermaid(graph, opts) : renderText(graph, opts)}\n`);
    let warnings: PlanIssue[];
    try {
      warnings = checkGraph(graph);
    } catch (err) {
      if (!(err instanceof PlanError)) throw err;
      process.stderr.write(`${formatPlanError(err, { color })}\n`);
      return 2;
    }
    if (warnings.length > 0) process.stderr.write(`${formatIssues(warnings, { color })}\n`);
    return 0;
  },
};

function usageError(message: string): number {
  process.stderr.write(`planrun graph: ${message}\n\n${command.usage}\n`);
  return 2;
}
