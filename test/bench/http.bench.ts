// HTTP bench: 50 concurrent workers doing GET / against a local node:http
// server for a few seconds. Baseline: 50 raw undici loops on an Agent with the
// same options as the engine's. Measured: planrun's runPlan on a plan with
// `workers: 50` and one `request: GET /` step, once counting step:end events
// only and once through runSession, the run session `planrun run` uses
// (metrics collector, signal handling, the report built). The server and each
// client run in their own processes, so no side shares an event loop (or
// VmHWM) with another. Children run this file compiled
// to plain JS (as planrun ships and as the undici baseline is), not through tsx.
//   npm run bench -- http          (HTTP_BENCH_SECONDS, HTTP_BENCH_WORKERS override)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setMaxListeners } from 'node:events';
import type { RunEvent } from '../../src/contract/events.js';
import { buildChildBundle } from './child-bundle.js';
import { benchChild, peakRssMb, rawUndiciLoop, serveOk } from './processes.js';

const SECONDS = Number(process.env.HTTP_BENCH_SECONDS ?? 5);
const WORKERS = Number(process.env.HTTP_BENCH_WORKERS ?? 50);
/** Trials per client, interleaved; the best throughput counts (a shared machine only ever slows a trial down). */
const TRIALS = Number(process.env.HTTP_BENCH_TRIALS ?? 3);
const SELF = fileURLToPath(import.meta.url);

interface ClientResult {
  client: string;
  requests: number;
  failed: number;
  wallMs: number;
  cpuUs: number;
  peakRssMb: number;
}

const cpuUs = (u: NodeJS.CpuUsage) => u.user + u.system;

// ---------------------------------------------------------------- children

/** The baseline: what undici alone does with the engine's Agent options. */
async function rawClient(origin: string): Promise<ClientResult> {
  return { client: 'undici', ...(await rawUndiciLoop(origin, WORKERS, SECONDS)) };
}

/** The engine alone (no runtime): 50 loops calling createHttpEngine(...).execute, to split engine from runtime cost. */
async function engineClient(origin: string): Promise<ClientResult> {
  const { parsePlan } = await import('../../src/plan/load.js');
  const { createHttpEngine } = await import('../../src/engines/http/index.js');
  const { Redactor } = await import('../../src/runtime/redact.js');
  const plan = parsePlan(`name: http bench\ntarget: ${origin}\nworkers: ${WORKERS}\nscenario:\n  - request: GET /\n`, '/tmp/bench.yml');
  const step = plan.scenarios.get('worker')![0]!;
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const run = {
    runId: 'bench',
    plan,
    coordinator: undefined as never,
    signal: stop.signal,
    reportDir: tmpdir(),
    emit: () => {},
    redactor: new Redactor(plan.redact),
    engines: undefined as never,
  };
  const engine = createHttpEngine(run);
  let requests = 0;
  let failed = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, id) => {
      const worker = { id, role: 'worker', index: id, vars: {}, captures: {} };
      // One controller per worker, re-armed by a timer per step: the cheapest step signal a
      // runtime can give (a new AbortController per step costs ~5 µs in Node 20, AbortSignal.any ~16 µs).
      let step$ = new AbortController();
      const onStop = () => step$.abort(stop.signal.reason);
      stop.signal.addEventListener('abort', onStop);
      for (let round = 1; performance.now() < deadline; round++) {
        if (step$.signal.aborted) step$ = new AbortController();
        const armed = step$;
        const timer = setTimeout(() => armed.abort(new Error('step timeout')), 30_000);
        const scope = () => ({ worker: { id, role: 'worker', index: id }, round, run: { id: 'bench' }, vars: {}, captures: {}, shared: {}, env: {} });
        try {
          await engine.execute({ run, worker, round, step, signal: armed.signal, timeoutMs: 30_000, scope });
        } catch {
          failed++;
        } finally {
          clearTimeout(timer);
        }
        requests++;
      }
    }),
  );
  const wallMs = performance.now() - started;
  const cpu = cpuUs(process.cpuUsage(cpu0));
  await engine.close();
  return { client: 'engine', requests, failed, wallMs, cpuUs: cpu, peakRssMb: peakRssMb() };
}

/**
 * planrun end to end: plan file → loadPlan → runPlan, counting step:end events; with `collect`, through
 * runSession as `planrun run` does (metrics collector, signals, the report built), writing no report file.
 */
async function planrunClient(origin: string, collect = false): Promise<ClientResult> {
  const { loadPlan } = await import('../../src/plan/load.js');
  const { runPlan } = await import('../../src/runtime/run.js');
  const { runSession } = await import('../../src/runtime/session.js');
  const dir = mkdtempSync(join(tmpdir(), 'planrun-http-bench-'));
  const file = join(dir, 'bench.yml');
  writeFileSync(file, `name: http bench\ntarget: ${origin}\nworkers: ${WORKERS}\nduration: ${SECONDS}s\nscenario:\n  - request: GET /\n`);
  const plan = await loadPlan(file);
  let requests = 0;
  let failed = 0;
  const count = (e: RunEvent) => {
    if (e.type !== 'step:end') return;
    requests++;
    if (e.result.outcome !== 'ok') failed++;
  };
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const { outcome, reason, report } = collect
    ? await runSession(plan, { reporters: [], reportDir: dir, extraReporters: [{ name: 'bench', onEvent: count }] }).then(({ report: r }) => ({
        outcome: r.outcome,
        reason: r.reason,
        report: r,
      }))
    : { ...(await runPlan(plan, { reportDir: dir, emit: count })), report: undefined };
  const wallMs = performance.now() - started;
  const cpu = cpuUs(process.cpuUsage(cpu0));
  rmSync(dir, { recursive: true, force: true });
  if (outcome !== 'passed' && failed === 0) throw new Error(`run ${outcome}: ${reason}`);
  if (report) {
    const counted = report.steps.reduce((n, s) => n + s.count, 0);
    if (counted !== requests) throw new Error(`the collector counted ${counted} steps, the events ${requests}`);
  }
  return { client: collect ? 'cli' : 'planrun', requests, failed, wallMs, cpuUs: cpu, peakRssMb: peakRssMb() };
}

// ---------------------------------------------------------------- parent

let childScript = SELF;

const KINDS = ['raw', 'engine', 'planrun', 'cli'] as const;

async function runClient(kind: (typeof KINDS)[number], origin: string): Promise<ClientResult> {
  const c = benchChild(childScript, ['--client', kind, origin]);
  return JSON.parse(await c.line('RESULT ')) as ClientResult;
}

async function main(): Promise<void> {
  childScript = await buildChildBundle(SELF);
  const server = benchChild(childScript, ['--server']);
  const origin = `http://127.0.0.1:${(await server.line('PORT ')).trim()}`;
  try {
    console.log(
      `${WORKERS} workers, ${SECONDS}s each, GET ${origin}/ (server and each client in its own process, compiled JS; ${(await import('node:os')).availableParallelism()} CPUs)`,
    );
    const trials: Record<string, ClientResult[]> = { raw: [], engine: [], planrun: [], cli: [] };
    for (let t = 0; t < TRIALS; t++) for (const kind of KINDS) trials[kind]!.push(await runClient(kind, origin));
    const rate = (r: ClientResult) => r.requests / (r.wallMs / 1000);
    const cpuPer = (r: ClientResult) => r.cpuUs / Math.max(1, r.requests);
    const best = (kind: string) => trials[kind]!.reduce((a, b) => (rate(b) > rate(a) ? b : a));
    const medianCpu = (kind: string) => trials[kind]!.map(cpuPer).sort((a, b) => a - b)[Math.floor(TRIALS / 2)]!;
    const maxRss = (kind: string) => Math.max(...trials[kind]!.map((r) => r.peakRssMb));
    const row = (kind: string) => {
      const r = best(kind);
      return `${kind.padEnd(8)} ${rate(r).toFixed(0).padStart(7)} req/s (best of ${TRIALS}: ${trials[kind]!.map((x) => rate(x).toFixed(0)).join(', ')})  ${trials[kind]!.reduce((n, x) => n + x.failed, 0)} failed  ${medianCpu(kind).toFixed(1).padStart(5)} µs CPU/request (median)  peak RSS ${maxRss(kind).toFixed(0)} MB`;
    };
    for (const kind of KINDS) console.log(row(kind));
    const ratio = (kind: string) => rate(best(kind)) / rate(best('raw'));
    const verdict = (r: number) => `${r.toFixed(2)} (target ≥ 0.80) ${r >= 0.8 ? 'ok' : 'BELOW TARGET'}`;
    console.log(`throughput planrun/undici: ${verdict(ratio('planrun'))}`);
    console.log(`throughput planrun through runSession (as \`planrun run\`)/undici: ${verdict(ratio('cli'))}`);
    console.log(`throughput engine alone/undici: ${ratio('engine').toFixed(2)}`);
    const cpuRatio = (kind: string) => (medianCpu(kind) / medianCpu('raw')).toFixed(2);
    console.log(`CPU per request /undici: planrun ${cpuRatio('planrun')}, with collector ${cpuRatio('cli')}, engine alone ${cpuRatio('engine')}`);
    console.log(`peak RSS /undici: planrun ${(maxRss('planrun') / maxRss('raw')).toFixed(2)}, with collector ${(maxRss('cli') / maxRss('raw')).toFixed(2)}`);
  } finally {
    server.proc.stdin!.end();
    server.proc.kill();
  }
}

const args = process.argv.slice(2);
if (args[0] === '--server') serveOk();
else if (args[0] === '--client') {
  const clients = { raw: rawClient, engine: engineClient, planrun: (o: string) => planrunClient(o), cli: (o: string) => planrunClient(o, true) } as Record<
    string,
    (origin: string) => Promise<ClientResult>
  >;
  const result = await clients[args[1]!]!(args[2]!);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
} else await main();
