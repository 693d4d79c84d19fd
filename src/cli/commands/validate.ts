// `planrun validate <plan> [--var k=v]`: load a plan and check its execution
// graph for deadlocks; print what it compiles to (exit 0) or every problem with
// its position (exit 2).
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { colorFor, loadPlanInput, parseVarFlags } from '../plan-input.js';

export const command: Command = {
  name: 'validate',
  summary: 'Check a plan and print its roles, barriers and steps',
  usage: `Usage: planrun validate <plan.yml> [--var NAME=VALUE]...

Checks the plan (YAML syntax, schema, roles, barriers, templates, thresholds)
without running anything. Prints a summary, or every problem as
file:line:col with the line and a caret.

Options:
  --var NAME=VALUE   Override a plan variable (repeatable)
  --no-color         Plain output
  -h, --help         Show this help

Exit codes: 0 valid, 2 invalid plan or bad usage.`,
  async run(argv) {
    let values: { var?: string[]; color?: boolean; 'no-color'?: boolean; help?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { var: { type: 'string', multiple: true }, 'no-color': { type: 'boolean' }, color: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      }));
    } catch (err) {
      process.stderr.write(`planrun validate: ${(err as Error).message}\n\n${command.usage}\n`);
      return 2;
    }
    if (values.help) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
    if (positionals.length !== 1) {
      process.stderr.write(`planrun validate: give one plan file\n\n${command.usage}\n`);
      return 2;
    }
    const vars = parseVarFlags(values.var ?? []);
    if (typeof vars === 'string') {
      process.stderr.write(`planrun validate: ${vars}\n`);
      return 2;
    }
    const { summarizePlan } = await import('../../plan/describe-plan.js');
    const file = positionals[0]!;
    // Warnings (a wait that may hang) do not fail validation: they are printed above the summary.
    const graph = await loadPlanInput(file, { vars, color: colorFor(process.stderr, values) });
    if (typeof graph === 'number') return graph;
    process.stdout.write(`${summarizePlan(graph.plan, file, { color: colorFor(process.stdout, values) })}\n`);
    return 0;
  },
};
