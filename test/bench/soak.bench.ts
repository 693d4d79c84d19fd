// Soak bench: does a longer run cost more memory, or run slower? 50 workers
// doing GET / against a local server through runSession as `planrun run` does
// (metrics collector, time series, metrics.ndjson, the JSON report written),
// for a short run (30 s) and a long one (180 s). Raw undici loops (the HTTP
// engine's Agent options) at the same load, each for the short run's length,
// bracket the runs: before the short run, between the two, after the long one;
// each run is compared with the mean of the two baselines around it, because
// the load of a shared machine drifts over minutes. Printed per run: requests
// and rate, peak RSS, report.json size, buckets, metrics.ndjson lines, timeline
// entries, and the rate in each tenth of the run (from its own series, so a
// slowdown inside a long run shows whatever the baselines did); then the
// ratios: peak RSS long/short (target ≤ 1.15: memory flat in the run's
// length), peak RSS against undici, report.json long/short, throughput of each
// run against its baselines (target ≥ 0.80), the long run's last tenth
// against its first and its rate against the short run's; then pairs of
// short runs back to back (undici, planrun; SOAK_PAIRS × SOAK_PAIR_SECONDS,
// default 5 × 10 s), whose median ratio resolves what baselines drifting
// around the long runs cannot. The server and each run have a process of their own,
// compiled to plain JS (child-bundle.ts).
//   npm run bench -- soak     (SOAK_SHORT_SECONDS=30, SOAK_LONG_SECONDS=180, SOAK_BENCH_WORKERS=50 override)
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildChildBundle } from './child-bundle.js';
import { benchChild, type LoopResult, peakRssMb, rawUndiciLoop, serveOk } from './processes.js';

const SHORT = Number(process.env.SOAK_SHORT_SECONDS ?? 30);
/** Paired trials: undici then planrun for PAIR_SECONDS each, PAIRS times; each pair's ratio shares the machine's load of that minute. */
const PAIRS = Number(process.env.SOAK_PAIRS ?? 5);
const PAIR_SECONDS = Number(process.env.SOAK_PAIR_SECONDS ?? 10);
const LONG = Number(process.env.SOAK_LONG_SECONDS ?? 180);
const WORKERS = Number(process.env.SOAK_BENCH_WORKERS ?? 50);
const SELF = fileURLToPath(import.meta.url);

interface SoakResult {
  seconds: number;
  requests: number;
  failed: number;
  wallMs: number;
  peakRssMb: number;
  reportBytes: number;
  buckets: number;
  ndjsonLines: number;
  timeline: number;
  /** Requests/s in each tenth of the run, read from its series. */
  tenths: number[];
}

/** The series' requests in ten equal slices of the run, per second. */
function ratesByTenth(buckets: Array<{ t: number; requests: number }>, durationMs: number): number[] {
  const slice = durationMs / 10;
  const requests = new Array<number>(10).fill(0);
  for (const b of buckets) requests[Math.min(9, Math.floor(b.t / slice))]! += b.requests;
  return requests.map((n) => n / (slice / 1000));
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
    failed: report.steps.reduce((n, s) => n + s.failed, 0),
    // From the run's start to its end: the workers' `duration`, as the raw loop times its own.
    wallMs: report.durationMs,
    peakRssMb: peakRssMb(),
    reportBytes: statSync(join(dir, 'report.json')).size,
    buckets: report.series!.buckets.length,
    ndjsonLines: readFileSync(join(dir, 'metrics.ndjson'), 'utf8').trimEnd().split('\n').length,
    timeline: report.timeline.length,
    tenths: ratesByTenth(report.series!.buckets, report.durationMs),
  };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

const rate = (r: { requests: number; wallMs: number }) => r.requests / (r.wallMs / 1000);
const mb = (n: number) => `${n.toFixed(0)} MB`;

async function main(): Promise<void> {
  const script = await buildChildBundle(SELF);
  const server = benchChild(script, ['--server']);
  const origin = `http://127.0.0.1:${(await server.line('PORT ')).trim()}`;
  try {
    console.log(
      `soak: ${WORKERS} workers, GET ${origin}/; planrun (runSession, json reporter) for ${SHORT} s and ${LONG} s, bracketed by undici alone for ${SHORT} s (before, between, after), each in its own process`,
    );
    // One client in a process of its own: the raw undici loop or planrun, for `seconds`.
    const child = async <T>(kind: '--raw' | '--run', seconds: number) => JSON.parse(await benchChild(script, [kind, origin, String(seconds)]).line('RESULT ')) as T;
    const baseline = async () => {
      const raw = await child<LoopResult>('--raw', SHORT);
      console.log(
        `undici  ${String(SHORT).padStart(3)} s  ${String(raw.requests).padStart(9)} requests  ${rate(raw).toFixed(0).padStart(6)} req/s  ${raw.failed} failed  peak RSS ${mb(raw.peakRssMb).padStart(7)}`,
      );
      return raw;
    };
    const raws: LoopResult[] = [await baseline()];
    const runs: SoakResult[] = [];
    for (const seconds of [SHORT, LONG]) {
      const r = await child<SoakResult>('--run', seconds);
      runs.push(r);
      console.log(
        `planrun ${String(r.seconds).padStart(3)} s  ${String(r.requests).padStart(9)} requests  ${rate(r).toFixed(0).padStart(6)} req/s  ${r.failed} failed  peak RSS ${mb(r.peakRssMb).padStart(7)}  report.json ${(r.reportBytes / 1048576).toFixed(2)} MiB  ${r.buckets} buckets, ${r.ndjsonLines} metrics.ndjson lines, ${r.timeline} timeline entries`,
      );
      console.log(`        req/s by tenth of the run: ${r.tenths.map((x) => x.toFixed(0)).join(', ')}`);
      raws.push(await baseline());
    }
    const [short, long] = runs as [SoakResult, SoakResult];
    const rawRss = Math.max(...raws.map((r) => r.peakRssMb));
    const memory = long.peakRssMb / short.peakRssMb;
    console.log(`peak RSS ${LONG} s / ${SHORT} s: ${memory.toFixed(2)} (${mb(long.peakRssMb)} / ${mb(short.peakRssMb)}; target ≤ 1.15) ${memory <= 1.15 ? 'ok' : 'ABOVE TARGET'}`);
    console.log(`peak RSS planrun / undici: ${SHORT} s ${(short.peakRssMb / rawRss).toFixed(2)}, ${LONG} s ${(long.peakRssMb / rawRss).toFixed(2)} (undici ${mb(rawRss)})`);
    console.log(`report.json ${LONG} s / ${SHORT} s: ${(long.reportBytes / short.reportBytes).toFixed(2)} (${long.reportBytes} / ${short.reportBytes} bytes)`);
    runs.forEach((r, i) => {
      const [before, after] = [rate(raws[i]!), rate(raws[i + 1]!)];
      const ratio = rate(r) / ((before + after) / 2);
      console.log(
        `throughput planrun ${r.seconds} s / undici around it: ${ratio.toFixed(2)} (${rate(r).toFixed(0)} / mean of ${before.toFixed(0)} before and ${after.toFixed(0)} after, req/s; target ≥ 0.80) ${ratio >= 0.8 ? 'ok' : 'BELOW TARGET'}`,
      );
    });
    const trend = long.tenths[9]! / long.tenths[0]!;
    console.log(`planrun ${LONG} s, last tenth / first tenth: ${trend.toFixed(2)} (${long.tenths[9]!.toFixed(0)} / ${long.tenths[0]!.toFixed(0)} req/s)`);
    console.log(`planrun ${LONG} s / ${SHORT} s, req/s: ${(rate(long) / rate(short)).toFixed(2)} (${rate(long).toFixed(0)} / ${rate(short).toFixed(0)})`);
    // On a machine whose speed drifts by 2× between 30 s baselines, the ratio to undici is read from pairs run back to back.
    const pairs: number[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const raw = await child<LoopResult>('--raw', PAIR_SECONDS);
      const run = await child<SoakResult>('--run', PAIR_SECONDS);
      pairs.push(rate(run) / rate(raw));
      console.log(`pair ${i + 1}: undici ${rate(raw).toFixed(0)} req/s, planrun ${rate(run).toFixed(0)} req/s, ${pairs.at(-1)!.toFixed(2)}`);
    }
    const median = [...pairs].sort((a, b) => a - b)[Math.floor(pairs.length / 2)]!;
    console.log(
      `throughput planrun / undici, ${PAIRS} pairs of ${PAIR_SECONDS} s back to back: median ${median.toFixed(2)} (${pairs.map((r) => r.toFixed(2)).join(', ')}; target ≥ 0.80) ${median >= 0.8 ? 'ok' : 'BELOW TARGET'}`,
    );
  } finally {
    server.proc.stdin!.end();
    server.proc.kill();
  }
}

const args = process.argv.slice(2);
if (args[0] === '--server') serveOk();
else if (args[0] === '--raw') {
  process.stdout.write(`RESULT ${JSON.stringify(await rawUndiciLoop(args[1]!, WORKERS, Number(args[2])))}\n`);
  process.exit(0);
} else if (args[0] === '--run') {
  const result = await soak(args[1]!, Number(args[2]));
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
} else await main();
