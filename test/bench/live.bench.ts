// Live view bench: what drawing the load while the run goes costs. 50 workers
// do GET / against a local node:http server for a few seconds through
// runSession, as `planrun run` does; the baseline is the same run with no
// terminal reporter (no load snapshots are built then). Measured: the live
// view (listr2's default renderer on a real pseudo-terminal made by
// script(1), redrawing the load line), and the plain output (the load line
// every 10 s, one line per failure) into a pipe. Server and clients each run
// in their own process, compiled to plain JS; trials are interleaved and the
// best throughput of each counts (a shared machine only ever slows a trial).
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
  wallMs: number;
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
  const spy = {
    name: 'bench',
    onEvent: (e: RunEvent) => {
      if (e.type === 'step:end') requests++;
    },
    // Counting the snapshots needs onLoad, which turns them on: only where a terminal reporter wants them anyway.
    ...(mode === 'off' ? {} : { onLoad: () => void snapshots++ }),
  };
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const { report } = await runSession(plan, { reporters: mode === 'off' ? [] : [mode], reportDir: dir, env: {}, extraReporters: [spy] });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  rmSync(dir, { recursive: true, force: true });
  if (report.outcome !== 'passed') throw new Error(`run ${report.outcome}: ${report.reason}`);
  const result: ClientResult = { mode, requests, wallMs, cpuUs: cpu.user + cpu.system, snapshots };
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

async function main(): Promise<void> {
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
        `${mode.padEnd(6)} ${rate(best(mode)).toFixed(0).padStart(7)} req/s (best of ${TRIALS}: ${trials[mode].map((x) => rate(x).toFixed(0)).join(', ')})  ${cpuPer(mode).toFixed(1).padStart(5)} µs CPU/request (median)`,
      );
    }
    const ratio = (mode: Mode) => rate(best(mode)) / rate(best('off'));
    const verdict = (r: number) => `${r.toFixed(2)} (target ≥ 0.95) ${r >= 0.95 ? 'ok' : 'BELOW TARGET'}`;
    console.log(`throughput live view/no terminal output: ${verdict(ratio('live'))}`);
    console.log(`throughput plain output/no terminal output: ${verdict(ratio('plain'))}`);
    console.log(`CPU per request /no terminal output: live ${(cpuPer('live') / cpuPer('off')).toFixed(2)}, plain ${(cpuPer('plain') / cpuPer('off')).toFixed(2)}`);
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
