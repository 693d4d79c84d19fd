// Plan data files at scale: a generated 1,000,000-row users CSV (~45 MB).
// Loading it (what `planrun validate` and `run` pay once): wall and CPU time
// (wall alone misleads on a busy machine), and RSS and heap added once loaded.
// Then runs that draw rows in sequence from that same loaded table, 1 worker
// vs 100 workers, the same number of draws: the table is shared, so 100
// workers add only their current rows, not copies of the file.
//   npm run bench -- data        (BENCH_ROWS=… to change the size)
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePlan } from '../../src/plan/load.js';
import type { CompiledPlan } from '../../src/contract/plan.js';
import { runPlan } from '../../src/runtime/run.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const DRAWS = 100_000;
const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

const dir = mkdtempSync(join(tmpdir(), 'planrun-data-bench-'));
try {
  const csv = join(dir, 'users.csv');
  // Written in slices, so that making the file does not inflate the RSS measured next.
  writeFileSync(csv, 'username,password,email\n');
  for (let from = 0; from < ROWS; from += 10_000) {
    const slice: string[] = [];
    for (let i = from; i < Math.min(ROWS, from + 10_000); i++) slice.push(`user${i},"pw,${i}",user${i}@example.test\n`);
    appendFileSync(csv, slice.join(''));
  }

  const plan = (workers: number, rounds: number) =>
    [
      'name: data bench',
      `workers: ${workers}`,
      `rounds: ${rounds}`,
      'data:',
      '  users: { file: users.csv }',
      'scenario:',
      '  - set: { who: "{{ data.users.username }} {{ data.users.email }}" }',
    ].join('\n');

  gc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const loaded: CompiledPlan = parsePlan(plan(1, 1), join(dir, 'plan.yml'));
  const cpu = process.cpuUsage(cpu0);
  const loadMs = performance.now() - t0;
  gc();
  const after = process.memoryUsage();
  console.log(`file: ${ROWS.toLocaleString('en')} rows, ${mib(statSync(csv).size)}`);
  console.log(
    `load (parse + table): ${loadMs.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU; added RSS ${mib(after.rss - before.rss)}, heap ${mib(after.heapUsed - before.heapUsed)} (table of ${loaded.data[0]!.table.size.toLocaleString('en')} rows)`,
  );

  // The runs reuse the loaded table (a plan with a one-row file, its data swapped): the file is loaded once.
  writeFileSync(join(dir, 'one.csv'), 'username,password,email\nu,p,e\n');
  for (const workers of [1, 100]) {
    const compiled = { ...parsePlan(plan(workers, DRAWS / workers).replace('users.csv', 'one.csv'), join(dir, 'plan.yml')), data: loaded.data };
    gc();
    const base = process.memoryUsage();
    let peakRss = base.rss;
    let peakHeap = base.heapUsed;
    let events = 0;
    // Sampled from the event stream: the steps never yield to a timer.
    const emit = () => {
      if (++events % 1000 !== 0) return;
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    };
    const t = performance.now();
    const result = await runPlan(compiled, { reportDir: dir, runId: 'bench', emit });
    console.log(
      `${String(workers).padStart(3)} worker${workers === 1 ? ' ' : 's'} × ${DRAWS / workers} rounds (${DRAWS.toLocaleString('en')} rows drawn): ${(performance.now() - t).toFixed(0)} ms, ${result.outcome}; peak over the loaded plan: RSS +${mib(peakRss - base.rss)}, heap +${mib(peakHeap - base.heapUsed)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
