// `planrun run <plan>` (or plain `planrun <plan>`): load, run, report. The
// report is written whatever happens: pass, fail, crash or Ctrl-C.
import { mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { INTERRUPTED_EXIT_CODE, Interrupts } from '../interrupts.js';
import { parseDuration } from '../../plan/duration.js';
import { parseVarFlags } from './validate.js';

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
    let values: { var?: string[]; out?: string; reporter?: string[]; 'no-services'?: boolean; headed?: boolean; 'run-id'?: string; seed?: string; agents?: string; redis?: string; 'agents-wait'?: string; help?: boolean };
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
    const agents = parseAgentsFlags(values);
    if (typeof agents === 'string') {
      process.stderr.write(`planrun run: ${agents}\n`);
      return 2;
    }
    const [{ loadPlan }, { PlanError }, { formatPlanError, formatIssues }] = await Promise.all([import('../../plan/load.js'), import('../../plan/issues.js'), import('../../plan/format.js')]);
    const color = process.stderr.isTTY === true && !process.env.NO_COLOR;
    let plan;
    try {
      // Warnings (a wait that may hang) go to stderr before the run starts; the run goes on.
      plan = await loadPlan(positionals[0]!, { vars, onWarnings: (w) => process.stderr.write(`${formatIssues(w, { color })}\n\n`) });
    } catch (err) {
      if (!(err instanceof PlanError)) throw err;
      process.stderr.write(`${formatPlanError(err, { color })}\n`);
      return 2;
    }
    const names = (values.reporter ?? []).flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean);
    const reporterNames = names.length > 0 ? names : (plan.reports.reporters ?? ['live', 'json']);
    const reportDir = resolve(values.out ?? plan.reports.out ?? 'planrun-report');
    // Agents compile the plan themselves, from the text this one compiled from.
    if (agents) agents.plan = { text: await readFile(plan.file, 'utf8'), vars };
    return execute(plan, { reporterNames, reportDir, services: !values['no-services'], headed: values.headed ?? false, ...(values['run-id'] ? { runId: values['run-id'] } : {}), ...(seed !== undefined ? { seed } : {}), ...(agents ? { agents } : {}) });
  },
};

interface ExecuteOptions {
  reporterNames: string[];
  reportDir: string;
  services: boolean;
  headed: boolean;
  runId?: string;
  seed?: number;
  agents?: AgentsFlags;
}

interface AgentsFlags {
  count: number;
  redisUrl?: string;
  waitMs?: number;
  plan?: { text: string; vars: Record<string, string> };
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

/** --seed's value, or null when it is not a seed (the plan's `seed:` has the same range). */
function parseSeed(text: string): number | null {
  const n = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(n) ? n : null;
}

async function execute(plan: import('../../plan/model.js').CompiledPlan, o: ExecuteOptions): Promise<number> {
  const [{ runPlan, newRunId }, { MetricsCollector }, { createReporters }, { ReporterMux }, { Redactor }] = await Promise.all([
    import('../../runtime/run.js'),
    import('../../reporting/collector.js'),
    import('../../reporting/outputs.js'),
    import('../../reporting/reporter.js'),
    import('../../reporting/redact.js'),
  ]);
  // Shared with the run, so messages printed here also hide what it learned (a token sent in a header).
  const redactor = new Redactor(plan.redact);
  let reporters;
  try {
    reporters = await createReporters(o.reporterNames, { reportDir: o.reportDir, stream: process.stdout, env: process.env });
  } catch (err) {
    process.stderr.write(`planrun run: ${(err as Error).message}\n`);
    return 2;
  }
  await mkdir(o.reportDir, { recursive: true });
  const collector = new MetricsCollector({ thresholds: plan.thresholds });
  const mux = new ReporterMux([collector, ...reporters]);

  const interrupts = new Interrupts();
  const runId = o.runId ?? newRunId();
  // --agents: the workers run in agent processes; the controller (here) keeps services, crawl and reports.
  let controller: import('../../agents/controller.js').Controller | undefined;
  if (o.agents) {
    const { startController } = await import('../../agents/controller.js');
    try {
      controller = await startController({
        agents: o.agents.count,
        ...(o.agents.redisUrl ? { redisUrl: o.agents.redisUrl } : {}),
        ...(o.agents.waitMs !== undefined ? { waitMs: o.agents.waitMs } : {}),
        runId,
        planFile: plan.file,
        planText: o.agents.plan!.text,
        vars: o.agents.plan!.vars,
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        headed: o.headed,
        reportDir: o.reportDir,
        log: (line) => process.stderr.write(`planrun: ${line}\n`),
        signal: interrupts.signal,
      });
    } catch (err) {
      interrupts.dispose();
      process.stderr.write(redactor.redactText(`planrun run: ${(err as Error).message}\n`));
      return interrupts.interrupted ? INTERRUPTED_EXIT_CODE : 1;
    }
  }
  let result: Awaited<ReturnType<typeof runPlan>>;
  try {
    result = await runPlan(plan, {
      ...(controller ? await controller.runOptions() : {}),
      emit: (e) => mux.onEvent(e),
      reportDir: o.reportDir,
      signal: interrupts.signal,
      runId,
      services: o.services,
      headed: o.headed,
      redactor,
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
    });
  } catch (err) {
    // A bug of ours must not lose what ran: report it as the run's failure.
    const reason = redactor.redactText(`planrun failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    mux.onEvent({ type: 'run:end', time: Date.now(), outcome: 'failed', reason });
    result = { outcome: 'failed', reason };
  } finally {
    await controller?.close();
  }
  // The run is over, whatever happened: from here a first signal lets the reports finish.
  interrupts.reporting();
  try {
    const report = collector.buildReport({ outcome: result.outcome, ...(result.reason ? { reason: result.reason } : {}), ...(result.crawl ? { crawl: result.crawl } : {}) });
    // Shown like the other phases (plain prints `▶ reports`): writing a big run's reports takes seconds.
    mux.onEvent({ type: 'phase:begin', time: Date.now(), phase: 'reports' });
    await mux.onEnd(report);
    for (const { reporter, error } of mux.errors) process.stderr.write(redactor.redactText(`planrun: the ${reporter} reporter failed: ${error instanceof Error ? error.message : String(error)}\n`));
    // A signal while the reports were written let them finish; it still says the run was interrupted.
    return interrupts.interrupted ? INTERRUPTED_EXIT_CODE : report.exitCode;
  } finally {
    interrupts.dispose();
  }
}
