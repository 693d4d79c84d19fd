// `planrun run <plan>` (or plain `planrun <plan>`): argv → plan → the run
// session (runtime/session.ts), which runs it and writes the reports whatever
// happens: pass, fail, crash or Ctrl-C.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../plan/duration.js';
import type { MetricsOptions } from '../../runtime/session.js';
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
  --crawl-lease TIME    With --agents: a crawl URL an agent took goes back to the
                        others when the agent has not renewed it this long, e.g.
                        after it was killed (default 30s)
  --resume RUN_ID       Continue the crawl of run RUN_ID, killed mid-crawl, from
                        what the Redis of --redis kept (needs --redis, --agents
                        and the same plan and --var values); setup and workers
                        are not run again
  --timeline-cap N      Keep every step result in the report's timeline up to N
                        (default 10000); past it, a sample over the whole run
                        plus up to N failures and barrier waits
  --metrics-port PORT   Serve the live metrics for Prometheus at
                        http://HOST:PORT/metrics while the run lasts, until its
                        reports are written (0: any free port, printed)
  --metrics-host HOST   Address to listen on (default 127.0.0.1, this machine
                        only; 0.0.0.0 exposes the metrics to the network)
  --metrics-linger TIME
                        Keep serving them this long after the reports are
                        written, for a last scrape (default 0s; Ctrl-C ends it)
  -h, --help            Show this help

Exit codes: 0 passed, 1 failed steps, broken links or thresholds,
2 invalid plan or usage (a metrics port in use too), 130 interrupted
(the partial report is written).
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
      'metrics-port'?: string;
      'metrics-host'?: string;
      'metrics-linger'?: string;
      'crawl-lease'?: string;
      resume?: string;
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
          'metrics-port': { type: 'string' },
          'metrics-host': { type: 'string' },
          'metrics-linger': { type: 'string' },
          'crawl-lease': { type: 'string' },
          resume: { type: 'string' },
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
    const metrics = parseMetricsFlags(values);
    if (typeof metrics === 'string') {
      process.stderr.write(`planrun run: ${metrics}\n`);
      return 2;
    }
    // The graph checked for deadlocks here is the one the run uses: it is built once.
    const graph = await loadPlanInput(positionals[0]!, { vars, color: colorFor(process.stderr) });
    if (typeof graph === 'number') return graph;
    const { plan } = graph;
    const reporters = (values.reporter ?? [])
      .flatMap((r) => r.split(','))
      .map((r) => r.trim())
      .filter(Boolean);
    const [{ runSession, PlacementError }, { ReporterSelectionError }, { MetricsEndpointError }] = await Promise.all([
      import('../../runtime/session.js'),
      import('../../reporting/registry.js'),
      import('../../reporting/prometheus/endpoint.js'),
    ]);
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
            ...(agents.resume ? { resume: true } : {}),
            ...(agents.leaseMs !== undefined ? { crawlLeaseMs: agents.leaseMs } : {}),
            ...(timelineCap !== undefined ? { timelineCap } : {}),
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
        ...(agents?.resume ? { runId: agents.resume } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(timelineCap !== undefined ? { timelineCap } : {}),
        ...(metrics ? { metrics } : {}),
      });
      return exitCode;
    } catch (err) {
      if (err instanceof PlacementError) {
        process.stderr.write(`planrun run: ${err.message}\n`);
        return err.exitCode;
      }
      if (!(err instanceof ReporterSelectionError) && !(err instanceof MetricsEndpointError)) throw err;
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

/** --metrics-port, --metrics-host and --metrics-linger; undefined without --metrics-port, a message when they do not fit. */
function parseMetricsFlags(v: { 'metrics-port'?: string; 'metrics-host'?: string; 'metrics-linger'?: string }): MetricsOptions | string | undefined {
  const portText = v['metrics-port'];
  if (portText === undefined) {
    return v['metrics-host'] !== undefined || v['metrics-linger'] !== undefined ? '--metrics-host and --metrics-linger need --metrics-port PORT' : undefined;
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65_535) return `--metrics-port takes a port from 0 to 65535 (0: any free one), not \`${portText}\``;
  const host = v['metrics-host'];
  if (host !== undefined && host.trim() === '') return '--metrics-host takes an address to listen on (127.0.0.1, ::1, 0.0.0.0), not an empty one';
  const lingerText = v['metrics-linger'];
  const lingerMs = lingerText === undefined ? undefined : parseDuration(lingerText);
  if (lingerText !== undefined && lingerMs === undefined) return `--metrics-linger takes a duration (15s, 1m), not \`${lingerText}\``;
  return { port, ...(host !== undefined ? { host } : {}), ...(lingerMs !== undefined ? { lingerMs } : {}) };
}

interface AgentsFlags {
  count: number;
  redisUrl?: string;
  waitMs?: number;
  leaseMs?: number;
  resume?: string;
}

/** --agents, --redis, --agents-wait, --crawl-lease and --resume; undefined without --agents, a message when they do not fit. */
function parseAgentsFlags(v: {
  agents?: string;
  redis?: string;
  'agents-wait'?: string;
  'crawl-lease'?: string;
  resume?: string;
  'run-id'?: string;
}): AgentsFlags | string | undefined {
  if (v.resume !== undefined) {
    // A private redis-server keeps nothing once its run ends: only a Redis that outlives runs can resume one.
    if (v.redis === undefined || v.agents === undefined) return '--resume RUN_ID needs --redis URL and --agents N: the run is resumed from what that Redis kept';
    if (v['run-id'] !== undefined) return '--resume RUN_ID already names the run: drop --run-id';
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(v.resume)) return `--resume takes a run id (letters, digits, ".", "_", "-"), not \`${v.resume}\``;
  }
  if (v.agents === undefined)
    return v.redis !== undefined || v['agents-wait'] !== undefined || v['crawl-lease'] !== undefined ? '--redis, --agents-wait and --crawl-lease need --agents N' : undefined;
  const count = Number(v.agents);
  if (!/^\d+$/.test(v.agents) || count < 1 || count > 1_000) return `--agents takes a number of agents from 1 to 1000, not \`${v.agents}\``;
  const waitMs = v['agents-wait'] === undefined ? undefined : parseDuration(v['agents-wait']);
  if (waitMs === undefined && v['agents-wait'] !== undefined) return `--agents-wait takes a duration (30s, 2m), not \`${v['agents-wait']}\``;
  const leaseMs = v['crawl-lease'] === undefined ? undefined : parseDuration(v['crawl-lease']);
  if (v['crawl-lease'] !== undefined && !(leaseMs !== undefined && leaseMs >= 100))
    return `--crawl-lease takes a duration of at least 100ms (30s, 2m), not \`${v['crawl-lease']}\``;
  return {
    count,
    ...(v.redis !== undefined ? { redisUrl: v.redis } : {}),
    ...(waitMs !== undefined ? { waitMs } : {}),
    ...(leaseMs !== undefined ? { leaseMs } : {}),
    ...(v.resume !== undefined ? { resume: v.resume } : {}),
  };
}
