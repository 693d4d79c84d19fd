// Agents HTTP bench: one plan (AGENTS_HTTP_WORKERS workers, 20; each a loop of
// GET /health for AGENTS_HTTP_SECONDS, 15) against the pad server, run by
// `planrun run` as a user runs it: in one process and with --agents 1 in
// AGENTS_HTTP_PAIRS (3) back-to-back pairs (see pairs.ts), then with --agents 2
// (private redis-server, local agents). Prints requests/s (from the report's
// step count over the plan's duration), the pairs' ratios and their median, and
// CPU per request of the whole process tree (controller, agents, redis-server:
// the shell's `times` for its children), start-up (loading the built dist/)
// included, so compare the rows with each other rather than with http.bench.ts.
// 15 s, not less: the first --timeline-cap results of an agent go whole with its
// tallies (the report's timeline keeps them all), and two processes' code warms
// up; over 5 s that start is a tenth of the run.
//   npm run bench -- agents
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_NODE_ARGS } from '../helpers/cli-entry.js';
import { type AgentsRun, pairOrder, printAgentsRatios } from './pairs.js';

const WORKERS = Number(process.env.AGENTS_HTTP_WORKERS ?? 20);
const SECONDS = Number(process.env.AGENTS_HTTP_SECONDS ?? 15);
const PAIRS = Number(process.env.AGENTS_HTTP_PAIRS ?? 3);
const PAD = fileURLToPath(new URL('../fixtures/pad/server.mjs', import.meta.url));

async function startPad(): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, [PAD, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`pad server exited with ${code}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

/** Seconds of `times`' children line ("0m1.234s 0m0.567s"): user + system. */
function childCpuSeconds(times: string): number {
  const line = times.trim().split('\n').at(-1)!;
  return line.split(/\s+/).reduce((sum, t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t);
    return sum + (m ? Number(m[1]) * 60 + Number(m[2]) : 0);
  }, 0);
}

function run(dir: string, plan: string, flags: string[]): { requests: number; cpuS: number } {
  const out = join(dir, `out-${flags.join('') || 'one'}`);
  // The shell waits for planrun, then `times` prints the CPU of everything it ran, descendants included.
  const r = spawnSync(
    'bash',
    ['-c', '"$@" >/dev/null; s=$?; times >&2; exit $s', '_', process.execPath, ...CLI_NODE_ARGS, 'run', plan, '--out', out, '--reporter', 'json', ...flags],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`planrun ${flags.join(' ')} exited with ${r.status}: ${r.stderr}`);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { steps: Array<{ count: number; failed: number }> };
  if (report.steps[0]!.failed > 0) throw new Error(`${report.steps[0]!.failed} requests failed`);
  return { requests: report.steps[0]!.count, cpuS: childCpuSeconds(r.stderr) };
}

async function main(): Promise<void> {
  const pad = await startPad();
  const dir = mkdtempSync(join(tmpdir(), 'planrun-agents-bench-'));
  try {
    const plan = join(dir, 'plan.yml');
    writeFileSync(plan, `name: agents http bench\ntarget: ${pad.url}\nworkers: ${WORKERS}\nduration: ${SECONDS}s\nscenario:\n  - request: GET /health\n`);
    console.log(`agents http: ${WORKERS} workers × GET /health for ${SECONDS}s, planrun from dist/ (npm run build; start-up CPU included)`);
    const runs: AgentsRun[] = [];
    // Pairs of one process and one agent, in turn first and second, then two agents.
    for (const agents of [...pairOrder(PAIRS, 0, 1), 2]) {
      const { requests, cpuS } = run(dir, plan, agents ? ['--agents', String(agents)] : []);
      const rate = requests / SECONDS;
      runs.push({ agents, rate });
      const name = agents ? `--agents ${agents}` : 'one process';
      console.log(`${name.padEnd(12)} ${rate.toFixed(0).padStart(8)} req/s  CPU ${((cpuS * 1e6) / requests).toFixed(0).padStart(6)} µs/request (${cpuS.toFixed(2)} s)`);
    }
    printAgentsRatios(runs, 0.9);
  } finally {
    pad.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
