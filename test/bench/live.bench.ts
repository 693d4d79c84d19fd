// Live view bench: what drawing the load while the run goes costs. 50 workers
// do GET / against a local node:http server for a few seconds through
// runSession, as `planrun run` does; the baseline is the same run with no
// terminal reporter (no load snapshots are built then). Measured: the live
// view (listr2's default renderer on a real pseudo-terminal made by
// script(1), redrawing the load line), and the plain output (the load line
// every 10 s, one line per failure) into a pipe. Server and clients each run
// in their own process, compiled to plain JS; trials are interleaved and the
// best throughput of each counts (a shared machine only ever slows a trial).
// First, in process, the CPU one snapshot and its line cost: the figure a
// loaded machine cannot blur.
//   npm run bench -- live          (LIVE_BENCH_SECONDS, LIVE_BENCH_WORKERS, LIVE_BENCH_TRIALS override)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '../../src/contract/events.js';
import { buildChildBundle } from './child-bundle.js';
import { benchChild, serveOk } from './processes.js';

const SECONDS = Number(process.env.LIVE_BENCH_SECONDS ?? 5);
const WORKERS = Number(process.env.LIVE_BENCH_WORKERS ?? 50);
const TRIALS = Number(process.env.LIVE_BENCH_TRIALS ?? 3);
const SELF = fileURLToPath(import.meta.url);

const MODES = ['off', 'live', 'plain'] as const;
type Mode = (typeof MODES)[number];

interface ClientResult {
  mode: Mode;
  requests: number;
  /** The workers phase's wall time (start-up and the report left out, as from its CPU time). */
  wallMs: number;
  /** Process CPU time during the workers phase. */
  cpuUs: number;
  /** Load snapshots the reporters were handed. */
  snapshots: number;
}

// ---------------------------------------------------------------- child

async function client(mode: Mode, origin: string, resultFile: string): Promise<void> {
  const { loadPlan } = await import('../../src/plan/load.js');
  const { runSession } = await import('../../src/runtime/session.js');
  const dir = mkdtempSync(join(tmpdir(), 'planrun-live-bench-'));
  const file = join(dir, 'bench.yml');
  writeFileSync(file, `name: live bench\ntarget: ${origin}\nworkers: ${WORKERS}\nduration: ${SECONDS}s\nscenario:\n  - request: GET /\n`);
  const plan = await loadPlan(file);
  let requests = 0;
  let snapshots = 0;
  // CPU of the workers phase alone: start-up, module loading and the report would drown a small per-request cost.
  let workersCpu0: NodeJS.CpuUsage | undefined;
  let workersCpuUs = 0;
  let workersBegan = 0;
  let workersMs = 0;
  const spy = {
    name: 'bench',
    onEvent: (e: RunEvent) => {
      if (e.type === 'step:end') requests++;
      else if (e.type === 'phase:begin' && e.phase === 'workers') {
        workersCpu0 = process.cpuUsage();
        workersBegan = performance.now();
      } else if (e.type === 'phase:end' && e.phase === 'workers' && workersCpu0) {
        const u = process.cpuUsage(workersCpu0);
        workersCpuUs = u.user + u.system;
        workersMs = performance.now() - workersBegan;
      }
    },
    // Counting the snapshots needs onLoad, which turns them on: only where a terminal reporter wants them anyway.
    ...(mode === 'off' ? {} : { onLoad: () => void snapshots++ }),
  };
  const { report } = await runSession(plan, { reporters: mode === 'off' ? [] : [mode], reportDir: dir, env: {}, extraReporters: [spy] });
  rmSync(dir, { recursive: true, force: true });
  if (report.outcome !== 'passed') throw new Error(`run ${report.outcome}: ${report.reason}`);
  const result: ClientResult = { mode, requests, wallMs: workersMs, cpuUs: workersCpuUs, snapshots };
  writeFileSync(resultFile, JSON.stringify(result));
}

// ---------------------------------------------------------------- parent

let childScript = SELF;

/** One client run; `live` on a pseudo-terminal (script -q), so listr2 draws as on a developer's terminal. */
async function runClient(mode: Mode, origin: string): Promise<ClientResult> {
  const resultFile = join(mkdtempSync(join(tmpdir(), 'planrun-live-bench-result-')), 'result.json');
  const argv = [process.execPath, childScript, '--client', mode, origin, resultFile];
  const proc =
    mode === 'live'
      ? // A terminal 160 columns wide: script's pseudo-terminal has none, and listr2 would wrap every character.
        spawn('script', ['-qec', `stty cols 160 rows 40; ${argv.map((a) => `'${a}'`).join(' ')}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  let drawn = 0;
  proc.stdout!.on('data', (d: Buffer) => (drawn += d.length));
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  if (code !== 0) throw new Error(`${mode} client exited with ${code}`);
  const result = JSON.parse(readFileSync(resultFile, 'utf8')) as ClientResult;
  rmSync(resultFile, { force: true });
  console.log(
    `  ${mode.padEnd(5)} ${(result.requests / (result.wallMs / 1000)).toFixed(0).padStart(6)} req/s, ${result.snapshots} snapshots, ${(drawn / 1024).toFixed(0)} KiB drawn`,
  );
  return result;
}

/**
 * The load line's own cost, which a loaded machine cannot hide: building one snapshot (the collector's `load`, the
 * roles' stages) and formatting its line, in process, on a collector that has seen a bucket of 50 workers' requests.
 */
async function snapshotCost(): Promise<{ usPerSnapshot: number; usPerSecondOfRun: number }> {
  const { MetricsCollector } = await import('../../src/reporting/metrics/metrics-collector.js');
  const { roleStages } = await import('../../src/runtime/load-stages.js');
  const { formatLoadLine } = await import('../../src/reporting/terminal/load-line.js');
  const { parsePlan } = await import('../../src/plan/load.js');
  const { LOAD_SNAPSHOT_MS } = await import('../../src/contract/reporter.js');
  const plan = parsePlan(
    'name: cost\ntarget: http://127.0.0.1:1\nmaxWorkers: 50\nstages: [{ duration: 1m, target: 500/s }, { hold: 1h }]\nscenario:\n  - request: GET /\n',
    '/tmp/cost.yml',
  );
  const c = new MetricsCollector();
  const t0 = Date.now();
  c.onEvent({
    type: 'run:begin',
    time: t0,
    run: {
      runId: 'c',
      planName: 'cost',
      planFile: '',
      workers: 50,
      roles: [{ name: 'worker', workers: [], load: 'arrival-rate' }],
      barriers: [],
      steps: [],
      hasCrawl: false,
      reportDir: '',
    },
  });
  c.onEvent({ type: 'phase:begin', time: t0, phase: 'workers' });
  for (let w = 0; w < 50; w++) c.onEvent({ type: 'worker:begin', time: t0, worker: w, role: 'worker' });
  for (let i = 0; i < 5000; i++) {
    const result = { worker: i % 50, role: 'worker', round: 1, stepId: 's1', name: 'GET /', kind: 'request' as const, start: t0, durationMs: 1 + (i % 97), outcome: 'ok' as const };
    c.onEvent({ type: 'step:end', time: t0 + (i % 1000), result });
  }
  c.tick(t0 + 1500);
  const n = 100_000;
  let chars = 0;
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const load = c.load(t0 + 1500 + i)!;
    chars += formatLoadLine({ ...load, stages: roleStages(plan, load.elapsedMs) }).length;
  }
  const used = process.cpuUsage(started);
  if (chars === 0) throw new Error('no line');
  const usPerSnapshot = (used.user + used.system) / n;
  return { usPerSnapshot, usPerSecondOfRun: (usPerSnapshot * 1000) / LOAD_SNAPSHOT_MS };
}

async function main(): Promise<void> {
  const cost = await snapshotCost();
  console.log(
    `one snapshot and its line: ${cost.usPerSnapshot.toFixed(2)} µs of CPU; at one per ${(await import('../../src/contract/reporter.js')).LOAD_SNAPSHOT_MS} ms, ${cost.usPerSecondOfRun.toFixed(1)} µs per second of run (${((cost.usPerSecondOfRun / 1e6) * 100).toFixed(4)}% of a core)`,
  );
  childScript = await buildChildBundle(SELF);
  const server = benchChild(childScript, ['--server']);
  const origin = `http://127.0.0.1:${(await server.line('PORT ')).trim()}`;
  try {
    console.log(`${WORKERS} workers, ${SECONDS}s each, GET ${origin}/ through runSession (server and each client in its own process; ${availableParallelism()} CPUs)`);
    const trials: Record<Mode, ClientResult[]> = { off: [], live: [], plain: [] };
    for (let t = 0; t < TRIALS; t++) for (const mode of MODES) trials[mode].push(await runClient(mode, origin));
    const rate = (r: ClientResult) => r.requests / (r.wallMs / 1000);
    const best = (mode: Mode) => trials[mode].reduce((a, b) => (rate(b) > rate(a) ? b : a));
    const cpuPer = (mode: Mode) => trials[mode].map((r) => r.cpuUs / Math.max(1, r.requests)).sort((a, b) => a - b)[Math.floor(TRIALS / 2)]!;
    for (const mode of MODES) {
      console.log(
        `${mode.padEnd(6)} ${rate(best(mode)).toFixed(0).padStart(7)} req/s (best of ${TRIALS}: ${trials[mode].map((x) => rate(x).toFixed(0)).join(', ')})  ${cpuPer(mode).toFixed(1).padStart(5)} µs CPU/request in the workers phase (median)`,
      );
    }
    const ratio = (mode: Mode) => rate(best(mode)) / rate(best('off'));
    const verdict = (r: number) => `${r.toFixed(2)} (target ≥ 0.95) ${r >= 0.95 ? 'ok' : 'BELOW TARGET'}`;
    console.log(`throughput live view/no terminal output: ${verdict(ratio('live'))}`);
    console.log(`throughput plain output/no terminal output: ${verdict(ratio('plain'))}`);
    console.log(
      `CPU per request in the workers phase /no terminal output: live ${(cpuPer('live') / cpuPer('off')).toFixed(2)}, plain ${(cpuPer('plain') / cpuPer('off')).toFixed(2)}`,
    );
  } finally {
    server.proc.stdin!.end();
    server.proc.kill();
  }
}

const args = process.argv.slice(2);
if (args[0] === '--server') serveOk();
else if (args[0] === '--client') {
  await client(args[1] as Mode, args[2]!, args[3]!);
  process.exit(0);
} else await main();
