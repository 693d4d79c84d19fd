// Cold `planrun validate plans/etherpad.yml` (built CLI, new process each time)
// against `node -e 0` measured in the same run. Target: well under 300 ms.
// Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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
