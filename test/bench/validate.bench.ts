// 1. Validation grows linearly: a plan with 1,000 and one with 10,000 events
//    (each signalled by one role, waited for by another), loaded in this process;
//    the 10k/1k time ratio should stay near 10 (it was about 80: quadratic).
// 2. Cold `planrun validate plans/etherpad.yml` (built CLI, new process each time)
//    against `node -e 0` measured in the same run. Target: well under 300 ms.
//    Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { checkGraph } from '../../src/graph/check.js';
import { compileGraph } from '../../src/graph/graph.js';
import { parsePlan } from '../../src/plan/load.js';

/** What `planrun validate` does before printing: load, then check the graph for deadlocks. */
const validatePlan = (text: string, file: string) => checkGraph(compileGraph(parsePlan(text, file)));

function barrierPlan(n: number): string {
  const lines = ['name: many barriers', 'roles:', '  a: { count: 1 }', '  b: { count: 1 }', 'barriers:'];
  for (let i = 0; i < n; i++) lines.push(`  e${i}: { signal: a, wait: b }`);
  lines.push('scenario:', '  a:');
  for (let i = 0; i < n; i++) lines.push(`    - signal: e${i}`);
  lines.push('  b:');
  for (let i = 0; i < n; i++) lines.push(`    - wait: e${i}`);
  return `${lines.join('\n')}\n`;
}

function loadMs(text: string): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    validatePlan(text, 'barriers.yml');
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

validatePlan(barrierPlan(100), 'warm-up.yml');
const small = loadMs(barrierPlan(1000));
const large = loadMs(barrierPlan(10_000));
console.log(`validate 1000 barriers    best of 3 ${small.toFixed(0)} ms`);
console.log(`validate 10000 barriers   best of 3 ${large.toFixed(0)} ms`);
console.log(`ratio 10k/1k ${(large / small).toFixed(1)} (linear: 10)`);
if (large / small > 20) {
  console.log('FAIL: validation grows faster than linearly with the number of barriers');
  process.exitCode = 1;
}

const RUNS = 15;
const CLI = 'dist/cli/main.js';

function wallMs(args: string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    out.push(ms);
  }
  return out.sort((a, b) => a - b);
}

const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run npm run build first`);
  process.exit(1);
}
// Alternate so that machine noise hits both series alike.
const base: number[] = [];
const validate: number[] = [];
for (let round = 0; round < 3; round++) {
  base.push(...wallMs(['-e', '0']));
  validate.push(...wallMs([CLI, 'validate', 'plans/etherpad.yml']));
}
base.sort((a, b) => a - b);
validate.sort((a, b) => a - b);
const b = median(base);
const v = median(validate);
console.log(`node -e 0                               median ${b.toFixed(1)} ms  (min ${base[0]!.toFixed(1)})`);
console.log(`planrun validate plans/etherpad.yml     median ${v.toFixed(1)} ms  (min ${validate[0]!.toFixed(1)})`);
console.log(`difference ${(v - b).toFixed(1)} ms, ratio ${(v / b).toFixed(2)}× node start-up`);
if (v >= 300) {
  console.log('FAIL: cold validation is not under 300 ms');
  process.exit(1);
}
