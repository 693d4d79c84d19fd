// `planrun run <plan>` (or plain `planrun <plan>`): argv → plan → the run
// session (runtime/session.ts), which runs it and writes the reports whatever
// happens: pass, fail, crash or Ctrl-C.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../plan/duration.js';
import type { Command } from '../command.js';
import { colorFor, loadPlanInput, parseVarFlags, USAGE_EXIT_CODE } from '../plan-input.js';

const usage = `Usage: planrun run <plan.yml> [options]
       planrun <plan.yml> [options]

Runs the plan: starts its services, runs every worker's rounds, then the
crawl, and writes the reports.

Options:
  --var NAME=VALUE      Override a plan variable (repeatable)
  --out DIR             Report folder (default: the plan's reports.out, else ./planrun-report)
  --reporter LIST       Comma-separated: live, plain, json, junit, html, markdown
                        (default: the plan's reports.reporters, else live,json)
  --no-services         Do not start the plan's services: they already run
  --headed              Show the browser windows
  --run-id ID           Use this run id ({{ run.id }}) instead of a fresh one
  --seed N              Seed the generated values (uuid(), randomInt()…, random
                        data picks) to replay a run; overrides the plan's seed:
  --agents N            Run the workers in N agent processes coordinated through
                        Redis: local ones with a private redis-server, or with
                        --redis, N \`planrun agent\` processes already waiting there
  --redis URL           The agents' Redis (redis://, rediss://, unix://)
  --agents-wait TIME    How long to wait for the agents (default 30s)
  --timeline-cap N      Keep every step result in the report's timeline up to N
                        (default 10000); past it, a sample over the whole run
                        plus up to N failures and barrier waits
  -h, --help            Show this help

Exit codes: 0 passed, 1 failed steps, broken links or thresholds,
2 invalid plan or usage, 130 interrupted (the partial report is written).
Ctrl-C or SIGTERM stops the run and writes its reports; one while the reports
are written lets them finish, then exits 130. A second one quits at once.
Report files are replaced whole, never left half-written.`;

export const command: Command = {
  name: 'run',
  summary: 'Run a plan and write its reports',
  usage,
  async run(argv) {
    let values: {
      var?: string[];
      out?: string;
      reporter?: string[];
      'no-services'?: boolean;
      headed?: boolean;
      'run-id'?: string;
      seed?: string;
      'timeline-cap'?: string;
      agents?: string;
      redis?: string;
      'agents-wait'?: string;
      help?: boolean;
    };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          var: { type: 'string', multiple: true },
          out: { type: 'string' },
          reporter: { type: 'string', multiple: true },
          'no-services': { type: 'boolean' },
          headed: { type: 'boolean' },
          'run-id': { type: 'string' },
          seed: { type: 'string' },
          'timeline-cap': { type: 'string' },
          agents: { type: 'string' },
          redis: { type: 'string' },
          'agents-wait': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (err) {
      process.stderr.write(`planrun run: ${(err as Error).message}\n\n${usage}\n`);
      return 2;
    }
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    if (positionals.length !== 1) {
      process.stderr.write(`planrun run: give one plan file\n\n${usage}\n`);
      return 2;
    }
    const vars = parseVarFlags(values.var ?? []);
    if (typeof vars === 'string') {
      process.stderr.write(`planrun run: ${vars}\n`);
      return 2;
    }
    const seed = values.seed === undefined ? undefined : parseSeed(values.seed);
    if (seed === null) {
      process.stderr.write(`planrun run: --seed takes a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, not \`${values.seed}\`\n`);
      return 2;
    }
    const timelineCap = values['timeline-cap'] === undefined ? undefined : Number(values['timeline-cap']);
    if (timelineCap !== undefined && !(/^\d+$/.test(values['timeline-cap']!) && Number.isSafeInteger(timelineCap) && timelineCap > 0)) {
      process.stderr.write(`planrun run: --timeline-cap takes a whole number above 0, not \`${values['timeline-cap']}\`\n`);
      return 2;
    }
    const agents = parseAgentsFlags(values);
    if (typeof agents === 'string') {
      process.stderr.write(`planrun run: ${agents}\n`);
      return 2;
    }
    // The graph checked for deadlocks here is the one the run uses: it is built once.
    const graph = await loadPlanInput(positionals[0]!, { vars, color: colorFor(process.stderr) });
    if (typeof graph === 'number') return graph;
    const { plan } = graph;
    if (agents && plan.roles.some((r) => r.load)) {
      // Each agent would run the whole schedule for its part of the pool: the rate would be multiplied by the agents.
      process.stderr.write('planrun run: --agents does not run arrival-rate or staged roles (rate, stages) yet: run this plan in one process\n');
      return USAGE_EXIT_CODE;
    }
    const reporters = (values.reporter ?? [])
      .flatMap((r) => r.split(','))
      .map((r) => r.trim())
      .filter(Boolean);
    const [{ runSession, PlacementError }, { ReporterSelectionError }] = await Promise.all([import('../../runtime/session.js'), import('../../reporting/registry.js')]);
    // --agents: the workers run in agent processes, which compile the plan themselves from the text this one came from.
    const planText = agents ? await readFile(plan.file, 'utf8') : '';
    const placeWorkers = agents
      ? async (at: { runId: string; reportDir: string; signal: AbortSignal }) => {
          const { startController } = await import('../../agents/controller.js');
          return startController({
            agents: agents.count,
            ...(agents.redisUrl ? { redisUrl: agents.redisUrl } : {}),
            ...(agents.waitMs !== undefined ? { waitMs: agents.waitMs } : {}),
            runId: at.runId,
            planFile: plan.file,
            planText,
            vars,
            ...(seed !== undefined ? { seed } : {}),
            headed: values.headed ?? false,
            reportDir: at.reportDir,
            log: (line) => process.stderr.write(`planrun: ${line}\n`),
            signal: at.signal,
          });
        }
      : undefined;
    try {
      const { exitCode } = await runSession(graph, {
        ...(placeWorkers ? { placeWorkers } : {}),
        ...(reporters.length > 0 ? { reporters } : {}),
        ...(values.out !== undefined ? { reportDir: values.out } : {}),
        services: !values['no-services'],
        headed: values.headed ?? false,
        ...(values['run-id'] ? { runId: values['run-id'] } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(timelineCap !== undefined ? { timelineCap } : {}),
      });
      return exitCode;
    } catch (err) {
      if (err instanceof PlacementError) {
        process.stderr.write(`planrun run: ${err.message}\n`);
        return err.exitCode;
      }
      if (!(err instanceof ReporterSelectionError)) throw err;
      process.stderr.write(`planrun run: ${err.message}\n`);
      return USAGE_EXIT_CODE;
    }
  },
};

/** --seed's value, or null when it is not a seed (the plan's `seed:` has the same range). */
function parseSeed(text: string): number | null {
  const n = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(n) ? n : null;
}

interface AgentsFlags {
  count: number;
  redisUrl?: string;
  waitMs?: number;
}

/** --agents, --redis and --agents-wait; undefined without --agents, a message when they do not fit. */
function parseAgentsFlags(v: { agents?: string; redis?: string; 'agents-wait'?: string }): AgentsFlags | string | undefined {
  if (v.agents === undefined) return v.redis !== undefined || v['agents-wait'] !== undefined ? '--redis and --agents-wait need --agents N' : undefined;
  const count = Number(v.agents);
  if (!/^\d+$/.test(v.agents) || count < 1 || count > 1_000) return `--agents takes a number of agents from 1 to 1000, not \`${v.agents}\``;
  const waitMs = v['agents-wait'] === undefined ? undefined : parseDuration(v['agents-wait']);
  if (waitMs === undefined && v['agents-wait'] !== undefined) return `--agents-wait takes a duration (30s, 2m), not \`${v['agents-wait']}\``;
  return { count, ...(v.redis !== undefined ? { redisUrl: v.redis } : {}), ...(waitMs !== undefined ? { waitMs } : {}) };
}
