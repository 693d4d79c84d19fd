// plans/load-staged.yml end to end through the CLI: its services start the pad
// server, the staged arrival rate runs (stages shortened from 10 s to 1 s, the
// port moved to a free one), and report.json counts every due iteration as
// started or dropped, with both latencies and the thresholds evaluated.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunReport } from '../../src/contract/report.js';
import { planrunSync } from '../helpers/cli-helpers.js';
import { freePort } from '../helpers/free-port.js';

test('plans/load-staged.yml runs: ramp up, hold, ramp down, every due iteration started or dropped', { timeout: 90_000 }, async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'planrun-load-plan-'));
  try {
    const plan = readFileSync('plans/load-staged.yml', 'utf8')
      .replaceAll('9012', String(port))
      .replaceAll('duration: 10s', 'duration: 1s')
      .replace('hold: 10s', 'hold: 1s')
      .replace('cwd: ..', `cwd: ${process.cwd()}`)
      .replace(/^ {2}reporters: .*$/m, '  reporters: [plain, json, markdown]');
    const file = join(dir, 'load-staged.yml');
    writeFileSync(file, plan);
    const out = join(dir, 'out');
    const run = planrunSync(['run', file, '--out', out], { env: { CI: 'true' }, timeoutMs: 60_000 });
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    // 0 → 200/s over 1 s, 200/s for 1 s, 200 → 0/s over 1 s: 100 + 200 + 100 iterations due.
    const write = report.steps.find((s) => s.name === 'write line')!;
    assert.equal(write.count + report.dropped!.worker!, 400);
    assert.equal(write.failed, 0);
    // Every due iteration is accounted for above; how many found a free worker depends on the machine's load.
    assert.ok(write.count >= 100, `${write.count} iterations started`);
    assert.ok(write.scheduledLatency && write.latency);
    assert.deepEqual(
      report.thresholds.map((t) => `${t.selector}: ${t.condition}`),
      ['http: p95 < 500ms', 'http: errors < 1%', 'http.scheduled: p95 < 1s'],
    );
    assert.equal(run.code, report.thresholds.every((t) => t.passed) ? 0 : 1, run.stdout + run.stderr);
    assert.match(run.stdout, /Open model \(latency from the scheduled start\)/);
    assert.match(run.stdout, new RegExp(`worker: ${report.dropped!.worker} iterations? dropped`));
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    assert.match(md, new RegExp(`### Open model\n\n- worker: \\*\\*${report.dropped!.worker}\\*\\* iterations? dropped`));
    assert.match(md, /\| worker \| write line \| [\d.]+ m?s \| [\d.]+ m?s \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
