// The cost of one scrape of the live metrics (--metrics-port) while a big run
// goes: the collector fed BENCH_RESULTS step results over BENCH_STEPS steps in
// two roles (1 in 50 failed). Baseline, measured in the same run: building the
// report from the same collector (buildReport, done once at the end, which also
// reads every step's percentiles). Then a scrape with the default step cap
// (the steps past it folded, their histograms merged) and with every step
// labelled, and a scrape of a 10-step plan. The run's event loop waits during a
// scrape, so this is also how long a scrape holds the run up.
import type { RunInfo } from '../../src/contract/events.js';
import { MetricsCollector } from '../../src/reporting/metrics/metrics-collector.js';
import { createLiveRegistry, STEP_LABEL_CAP } from '../../src/reporting/prometheus/live-registry.js';

const STEPS = Number(process.env.BENCH_STEPS ?? 200);
const RESULTS = Number(process.env.BENCH_RESULTS ?? 1_000_000);
const RUNS = 10;

function collectorWith(steps: number, results: number): MetricsCollector {
  const list = Array.from({ length: steps }, (_, i) => ({ role: i % 2 ? 'reader' : 'writer', stepId: `s${i}`, name: `step ${i}`, kind: 'request' as const }));
  const run: RunInfo = {
    runId: 'bench',
    planName: 'bench',
    planFile: 'bench.yml',
    workers: 100,
    roles: [
      { name: 'writer', workers: [] },
      { name: 'reader', workers: [] },
    ],
    barriers: [],
    steps: list,
    hasCrawl: false,
    reportDir: '/tmp',
  };
  const c = new MetricsCollector({ timelineCap: 1_000 });
  c.onEvent({ type: 'run:begin', time: 0, run });
  for (let k = 0; k < results; k++) {
    const s = list[k % steps]!;
    const failed = k % 50 === 0;
    c.onEvent({
      type: 'step:end',
      time: 1,
      result: {
        worker: k % 100,
        role: s.role,
        round: 1,
        stepId: s.stepId,
        name: s.name,
        kind: 'request',
        start: 1,
        durationMs: 1 + ((k * 7919) % 500_000) / 1000,
        outcome: failed ? 'failed' : 'ok',
        ...(failed ? { error: { message: 'expected status 200, got 500', code: 'expectation' } } : {}),
      },
    });
  }
  return c;
}

async function best(f: () => unknown): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await f();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

const big = collectorWith(STEPS, RESULTS);
const report = await best(() => big.buildReport({ outcome: 'passed' }));
const capped = createLiveRegistry({ runId: 'bench', live: () => big.live(), hasCrawl: false });
const whole = createLiveRegistry({ runId: 'bench', live: () => big.live(), hasCrawl: false, stepCap: STEPS });
const cappedMs = await best(() => capped.scrape());
const wholeMs = await best(() => whole.scrape());
const small = collectorWith(10, RESULTS / 10);
const smallRegistry = createLiveRegistry({ runId: 'bench', live: () => small.live(), hasCrawl: false });
const smallMs = await best(() => smallRegistry.scrape());
const kib = async (r: { scrape(): Promise<string> }) => `${(Buffer.byteLength(await r.scrape()) / 1024).toFixed(0)} KiB`;

console.log(`${RESULTS} results over ${STEPS} steps; best of ${RUNS}`);
console.log(`baseline  buildReport                     ${report.toFixed(1).padStart(7)} ms`);
console.log(`scrape    cap ${STEP_LABEL_CAP} (rest folded)        ${cappedMs.toFixed(1).padStart(7)} ms (${(cappedMs / report).toFixed(2)}× buildReport)  ${await kib(capped)}`);
console.log(`scrape    every step labelled         ${wholeMs.toFixed(1).padStart(7)} ms (${(wholeMs / report).toFixed(2)}× buildReport)  ${await kib(whole)}`);
console.log(`scrape    10 steps, ${RESULTS / 10} results   ${smallMs.toFixed(1).padStart(7)} ms (${(smallMs / report).toFixed(2)}× buildReport)  ${await kib(smallRegistry)}`);
