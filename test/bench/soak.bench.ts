// Soak bench: does a longer run cost more memory? 50 workers doing GET / against
// a local server for 10 s, then for 30 s, each through runSession as
// `planrun run` does (metrics collector, time series, metrics.ndjson, the JSON
// report written). Printed: requests, peak RSS of each run and their ratio
// (target: about 1, memory flat in the run's length), report.json's size and
// metrics.ndjson's lines. The server and each run have a process of their own,
// compiled to plain JS (child-bundle.ts).
//   npm run bench -- soak          (SOAK_BENCH_SECONDS=10,30 and SOAK_BENCH_WORKERS override)
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildChildBundle } from './child-bundle.js';
import { benchChild, peakRssMb, serveOk } from './processes.js';

const DURATIONS = (process.env.SOAK_BENCH_SECONDS ?? '10,30').split(',').map(Number);
const WORKERS = Number(process.env.SOAK_BENCH_WORKERS ?? 50);
const SELF = fileURLToPath(import.meta.url);

interface SoakResult {
  seconds: number;
  requests: number;
  peakRssMb: number;
  reportBytes: number;
  buckets: number;
  ndjsonLines: number;
  timeline: number;
}

async function soak(origin: string, seconds: number): Promise<SoakResult> {
  const { loadPlan } = await import('../../src/plan/load.js');
  const { runSession } = await import('../../src/runtime/session.js');
  const dir = mkdtempSync(join(tmpdir(), 'planrun-soak-bench-'));
  const file = join(dir, 'soak.yml');
  writeFileSync(file, `name: soak\ntarget: ${origin}\nworkers: ${WORKERS}\nduration: ${seconds}s\nscenario:\n  - request: GET /\n`);
  const plan = await loadPlan(file);
  const { report } = await runSession(plan, { reporters: ['json'], reportDir: dir });
  if (report.outcome !== 'passed') throw new Error(`run ${report.outcome}: ${report.reason}`);
  const result: SoakResult = {
    seconds,
    requests: report.steps.reduce((n, s) => n + s.count, 0),
    peakRssMb: peakRssMb(),
    reportBytes: statSync(join(dir, 'report.json')).size,
    buckets: report.series!.buckets.length,
    ndjsonLines: readFileSync(join(dir, 'metrics.ndjson'), 'utf8').trimEnd().split('\n').length,
    timeline: report.timeline.length,
  };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

async function main(): Promise<void> {
  const script = await buildChildBundle(SELF);
  const server = benchChild(script, ['--server']);
  const origin = `http://127.0.0.1:${(await server.line('PORT ')).trim()}`;
  try {
    console.log(`soak: ${WORKERS} workers, GET ${origin}/ for ${DURATIONS.join(' s and ')} s through runSession (json reporter), each run in its own process`);
    const results: SoakResult[] = [];
    for (const seconds of DURATIONS) {
      const r = JSON.parse(await benchChild(script, ['--run', origin, String(seconds)]).line('RESULT ')) as SoakResult;
      results.push(r);
      console.log(
        `${String(r.seconds).padStart(4)} s  ${String(r.requests).padStart(9)} requests  peak RSS ${r.peakRssMb.toFixed(0).padStart(4)} MB  report.json ${(r.reportBytes / 1048576).toFixed(2)} MiB  ${r.buckets} buckets, ${r.ndjsonLines} metrics.ndjson lines, ${r.timeline} timeline entries`,
      );
    }
    const first = results[0]!;
    const last = results.at(-1)!;
    const ratio = last.peakRssMb / first.peakRssMb;
    console.log(`peak RSS ${last.seconds} s / ${first.seconds} s: ${ratio.toFixed(2)} (target ≤ 1.15) ${ratio <= 1.15 ? 'ok' : 'ABOVE TARGET'}`);
    console.log(`report.json ${last.seconds} s / ${first.seconds} s: ${(last.reportBytes / first.reportBytes).toFixed(2)}`);
  } finally {
    server.proc.stdin!.end();
    server.proc.kill();
  }
}

const args = process.argv.slice(2);
if (args[0] === '--server') serveOk();
else if (args[0] === '--run') {
  const result = await soak(args[1]!, Number(args[2]));
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
} else await main();
