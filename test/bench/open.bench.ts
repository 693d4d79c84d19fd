// Open-model bench: arrival-rate accuracy at 1,000 and 3,000 iterations/s
// against a fast local server (iterations started against the target, target
// within 1 %; the achieved rate per second from the report's series), the
// schedule lag (how late iterations start, p50/p99), and dropped-iteration
// counting against a server made slow on purpose: every due iteration is
// started or dropped, and the events, the report's `dropped` and its series
// agree. The server runs in its own process so it never shares the
// scheduler's event loop.
//   npm run bench -- open     (OPEN_BENCH_SECONDS=3 per run, OPEN_BENCH_RATES=1000,3000 override)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePlan } from '../../src/plan/load.js';
import { LatencyStats } from '../../src/reporting/metrics/latency-stats.js';
import { MetricsCollector } from '../../src/reporting/metrics/metrics-collector.js';
import { runPlan } from '../../src/runtime/run.js';

const SECONDS = Number(process.env.OPEN_BENCH_SECONDS ?? 3);
const RATES = (process.env.OPEN_BENCH_RATES ?? '1000,3000').split(',').map(Number);

const SERVER = `
const http = require('node:http');
const delay = Number(process.argv[1] ?? 0);
const server = http.createServer((req, res) => {
  const end = () => res.end('ok\\n');
  if (req.url.startsWith('/slow')) setTimeout(end, delay); else end();
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

async function startServer(slowMs: number): Promise<{ origin: string; stop(): void }> {
  const child = spawn(process.execPath, ['-e', SERVER, String(slowMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { origin: `http://127.0.0.1:${port}`, stop: () => child.stdin.end() };
}

interface Measured {
  due: number;
  started: number;
  dropped: number;
  lag: ReturnType<LatencyStats['percentiles']>;
  /** What the report built from the same events says: its dropped count, and its series' dropped and iterations summed. */
  report: { dropped: number; seriesDropped: number; seriesIterations: number };
  /** Iterations begun per second in the series' whole buckets after the first (the role starts a little after the run). */
  perSecond: number[];
}

async function measure(origin: string, rate: number, maxWorkers: number, path: string): Promise<Measured> {
  const plan = parsePlan(
    `name: open bench
target: ${origin}
rate: ${rate}/s
maxWorkers: ${maxWorkers}
duration: ${SECONDS}s
scenario:
  - request: GET ${path}
`,
    join(tmpdir(), 'open-bench.yml'),
  );
  const lag = new LatencyStats();
  let started = 0;
  let dropped = 0;
  const reportDir = mkdtempSync(join(tmpdir(), 'planrun-open-bench-'));
  const collector = new MetricsCollector();
  let outcome: Awaited<ReturnType<typeof runPlan>>['outcome'] = 'passed';
  try {
    ({ outcome } = await runPlan(plan, {
      reportDir,
      emit: (e) => {
        collector.onEvent(e);
        if (e.type === 'round:begin') started++;
        else if (e.type === 'iteration:dropped') dropped += e.count;
        else if (e.type === 'step:end' && e.result.lagMs !== undefined) lag.record(e.result.lagMs);
      },
    }));
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
  const report = collector.buildReport({ outcome });
  const buckets = report.series!.buckets;
  return {
    due: started + dropped,
    started,
    dropped,
    lag: lag.percentiles(),
    report: {
      dropped: Object.values(report.dropped ?? {}).reduce((n, v) => n + v, 0),
      seriesDropped: buckets.reduce((n, b) => n + b.dropped, 0),
      seriesIterations: buckets.reduce((n, b) => n + (b.iterations ?? 0), 0),
    },
    perSecond: buckets.slice(1, Math.max(1, Math.floor(report.durationMs / 1000))).map((b) => b.iterations ?? 0),
  };
}

const fast = await startServer(0);
const slowMs = 200;
const slow = await startServer(slowMs);
try {
  console.log(`arrival-rate accuracy, ${SECONDS} s per run, fast local server (own process)`);
  for (const rate of RATES) {
    const m = await measure(fast.origin, rate, 500, '/');
    const target = rate * SECONDS;
    const ratio = m.started / target;
    const seconds = m.perSecond.length ? `; per whole second (series) ${Math.min(...m.perSecond)}–${Math.max(...m.perSecond)}/s` : '';
    console.log(
      `  ${rate}/s: target ${target}, scheduled ${m.due}, started ${m.started} (${(ratio * 100).toFixed(2)} %), dropped ${m.dropped}; ` +
        `achieved ${(m.started / SECONDS).toFixed(0)}/s${seconds}; lag p50 ${m.lag?.p50.toFixed(2)} ms, p99 ${m.lag?.p99.toFixed(2)} ms, max ${m.lag?.max.toFixed(2)} ms` +
        `  ${Math.abs(1 - ratio) <= 0.01 ? 'OK (within 1 %)' : 'OFF by more than 1 %'}`,
    );
  }
  const rate = 100;
  const workers = 10;
  const m = await measure(slow.origin, rate, workers, '/slow');
  // Each worker finishes about one iteration per slowMs, so at most workers × SECONDS / slowMs start.
  const capacity = Math.floor((workers * SECONDS * 1000) / slowMs);
  console.log(`dropped iterations, server answering in ${slowMs} ms, ${rate}/s with ${workers} workers`);
  console.log(
    `  scheduled ${m.due} (target ${rate * SECONDS}), started ${m.started} (pool capacity ≈ ${capacity}), dropped ${m.dropped} (expected ≈ ${rate * SECONDS - capacity}); lag p99 ${m.lag?.p99.toFixed(2)} ms`,
  );
  // Every due iteration is either started or dropped, and each count is the same in the events, the report and its series.
  const all = m.due === rate * SECONDS;
  const same = m.report.dropped === m.dropped && m.report.seriesDropped === m.dropped && m.report.seriesIterations === m.started;
  console.log(`  every due iteration started or dropped: ${m.due} of ${rate * SECONDS} ${all ? 'ok' : 'MISCOUNTED'}`);
  console.log(
    `  the report agrees: dropped ${m.report.dropped}, its series ${m.report.seriesDropped} dropped and ${m.report.seriesIterations} iterations (events: ${m.dropped}, ${m.started}) ${same ? 'ok' : 'MISCOUNTED'}`,
  );
} finally {
  fast.stop();
  slow.stop();
}
