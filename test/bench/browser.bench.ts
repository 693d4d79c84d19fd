// Browser bench: one Chromium, a context + page per worker.
//  - browser start: planrun's engine (find + launch) vs a raw playwright-core launch;
//  - per worker at 5 and 20 workers: a plan whose workers each do goto + fill on a local
//    page, run through runPlan, vs a raw playwright-core loop doing the same (launch,
//    N contexts in parallel, goto + fill). Time is the whole run (launch included);
//    memory is the peak proportional set size (PSS, from /proc) of the Chromium process tree;
//  - the flagship round time (plans/etherpad.yml against a real Etherpad) when installed.
//   npm run bench -- browser          (BROWSER_BENCH_WORKERS=5,20 overrides)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { findBrowser } from '../../src/engines/browser/find-browser.js';
import { createBrowserEngine, launchArgs } from '../../src/engines/browser/browser-engine.js';
import { parsePlan } from '../../src/plan/load.js';
import type { RunEvent } from '../../src/contract/events.js';
import { Redactor } from '../../src/runtime/redact.js';
import type { RunContext } from '../../src/contract/engine.js';
import { runPlan } from '../../src/runtime/run.js';
import { InMemoryCoordinator } from '../../src/coordination/memory.js';
import { runPlanText, startSite } from '../helpers/browser-helpers.js';
import { freePort } from '../helpers/free-port.js';

const WORKER_COUNTS = (process.env.BROWSER_BENCH_WORKERS ?? '5,20').split(',').map(Number);
const LAUNCHES = 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const mb = (x: number) => `${x.toFixed(0)} MB`;
const ratio = (x: number, base: number) => `${(x / base).toFixed(2)}×`;

/** PSS (MB) of every Chromium process below this one: shared pages counted once. */
function chromiumTreePss(): number {
  const parent = new Map<number, number>();
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      pids.push(Number(name));
    } catch {
      /* gone */
    }
  }
  const below = (pid: number) => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  let kb = 0;
  for (const pid of pids) {
    if (!below(pid)) continue;
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      kb += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

/** Samples the tree's PSS every 100 ms while `work` runs; returns the peak. */
async function peakPss<T>(work: () => Promise<T>): Promise<{ value: T; peakMb: number; wallMs: number }> {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, chromiumTreePss())), 100);
  const t0 = performance.now();
  try {
    const value = await work();
    return { value, peakMb: Math.max(peak, chromiumTreePss()), wallMs: performance.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}

const executablePath = findBrowser({}, process.env).path;

async function benchStart(): Promise<void> {
  const plan = parsePlan('name: start\nscenario: [ { sleep: 1ms } ]\n', 'bench.yml');
  const run: RunContext = {
    runId: 'bench',
    plan,
    coordinator: new InMemoryCoordinator(),
    signal: new AbortController().signal,
    reportDir: tmpdir(),
    emit: () => undefined,
    redactor: new Redactor(plan.redact),
    engines: { http: undefined as never, ws: undefined as never, browser: async () => undefined as never },
  };
  const raw: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < LAUNCHES; i++) {
    let t0 = performance.now();
    const b = await chromium.launch({ executablePath, headless: true, args: launchArgs([]) });
    raw.push(performance.now() - t0);
    await b.close();
    t0 = performance.now();
    const engine = await createBrowserEngine(run, {});
    ours.push(performance.now() - t0);
    await engine.close();
  }
  console.log(`browser start (median of ${LAUNCHES})   planrun ${ms(median(ours))}   raw playwright-core ${ms(median(raw))}   ${ratio(median(ours), median(raw))}`);
}

async function benchWorkers(origin: string, workers: number): Promise<void> {
  // Baseline: what playwright-core alone does for the same work.
  const raw = await peakPss(async () => {
    const b = await chromium.launch({ executablePath, headless: true, args: launchArgs([]) });
    try {
      await Promise.all(
        Array.from({ length: workers }, async (_, i) => {
          const context = await b.newContext({ baseURL: origin });
          const page = await context.newPage();
          await page.goto('/');
          await page.locator('#name').fill(`worker ${i}`);
        }),
      );
    } finally {
      await b.close();
    }
  });
  const ours = await peakPss(() =>
    runPlanText(`name: bench\ntarget: ${origin}\nworkers: ${workers}\nscenario:\n  - browser: { goto: "/" }\n  - browser: { fill: "#name", value: "worker {{ worker.id }}" }\n`),
  );
  const failed = ours.value.steps.filter((s) => s.outcome !== 'ok').length;
  await rm(ours.value.reportDir, { recursive: true, force: true });
  console.log(
    `${String(workers).padStart(2)} workers   time: planrun ${ms(ours.wallMs)} (${ms(ours.wallMs / workers)}/worker)   raw ${ms(raw.wallMs)} (${ms(raw.wallMs / workers)}/worker)   ${ratio(ours.wallMs, raw.wallMs)}` +
      `\n             peak Chromium PSS: planrun ${mb(ours.peakMb)} (${mb(ours.peakMb / workers)}/worker)   raw ${mb(raw.peakMb)} (${mb(raw.peakMb / workers)}/worker)   ${ratio(ours.peakMb, raw.peakMb)}` +
      (failed ? `   (!! ${failed} failed steps)` : ''),
  );
}

async function benchFlagship(): Promise<void> {
  const base = process.env.PLANRUN_ETHERPAD_DIR ?? resolve('.planrun/etherpad');
  if (!existsSync(join(base, '.planrun-installed-1.8.14'))) {
    console.log('flagship: skipped (Etherpad not installed: scripts/setup-etherpad.sh)');
    return;
  }
  const port = await freePort();
  const text = readFileSync('plans/etherpad.yml', 'utf8')
    .replaceAll('9001', String(port))
    .replace(/rounds: \d+/, 'rounds: 6');
  const plan = parsePlan(text, resolve('plans/etherpad.yml'));
  const reportDir = await mkdtemp(join(tmpdir(), 'planrun-bench-'));
  const events: RunEvent[] = [];
  const t0 = performance.now();
  const result = await runPlan(plan, { reportDir, emit: (e) => events.push(e) });
  const total = performance.now() - t0;
  await rm(reportDir, { recursive: true, force: true });
  // A round, seen from the writer: from its round:begin to its round:end (round 1 waits for nobody).
  const begins = new Map<number, number>();
  const rounds: number[] = [];
  for (const e of events) {
    if (e.type === 'round:begin' && e.worker === 4) begins.set(e.round, e.time);
    if (e.type === 'round:end' && e.worker === 4) rounds.push(e.time - begins.get(e.round)!);
  }
  const ready = events.find((e) => e.type === 'service' && e.status === 'ready');
  const starting = events.find((e) => e.type === 'service' && e.status === 'starting');
  const warm = rounds.slice(1);
  const see = events.flatMap((e) => (e.type === 'step:end' && e.result.name === 'see round' && e.result.round > 1 ? [e.result.durationMs] : []));
  console.log(
    `flagship (5 workers, 6 rounds, ${result.outcome})   Etherpad ready in ${ms(ready!.time - starting!.time)}   whole run ${ms(total)}` +
      `\n             writer round: first ${ms(rounds[0] ?? NaN)} (cold pads), then median ${ms(median(warm))}, max ${ms(Math.max(...warm))}` +
      `\n             "see round" after the write (rounds 2+): median ${ms(median(see))}`,
  );
}

const site = await startSite();
try {
  await benchStart();
  for (const n of WORKER_COUNTS) await benchWorkers(site.origin, n);
} finally {
  await site.close();
}
await benchFlagship();
