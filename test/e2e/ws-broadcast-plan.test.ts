// plans/ws-broadcast.yml end to end, services included (on a free port): in
// every round each receiver's expect ends after the sender's send, and the
// report counts each message once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadPlan } from '../../src/plan/load.js';
import { MetricsCollector } from '../../src/reporting/metrics/metrics-collector.js';
import type { RunEvent } from '../../src/contract/events.js';
import { formatSummary } from '../../src/reporting/terminal/summary.js';
import { runPlan } from '../../src/runtime/run.js';
import { freePort } from '../helpers/free-port.js';
import { end, named } from '../helpers/run-helpers.js';

test("plans/ws-broadcast.yml: each round the sender sends once and every receiver gets that round's message after it", { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'planrun-ws-plan-'));
  try {
    const port = await freePort();
    // The plan as shipped, on a free port, its service started from the repository as `cwd: ..` does.
    const file = join(dir, 'ws-broadcast.yml');
    const text = readFileSync('plans/ws-broadcast.yml', 'utf8').replaceAll('9012', String(port));
    assert.match(text, /^ {4}cwd: \.\.$/m);
    writeFileSync(file, text.replace(/^ {4}cwd: \.\.$/m, `    cwd: ${resolve('.')}`));
    const plan = await loadPlan(file);
    const events: RunEvent[] = [];
    const collector = new MetricsCollector({ thresholds: plan.thresholds });
    const result = await runPlan(plan, {
      reportDir: dir,
      emit: (e) => {
        events.push(e);
        collector.onEvent(e);
      },
    });
    const results = events.flatMap((e) => (e.type === 'step:end' ? [e.result] : []));
    assert.equal(result.outcome, 'passed', JSON.stringify(results.filter((r) => r.outcome !== 'ok')));

    for (const round of [1, 2, 3]) {
      const sends = named(results, 'send round', round);
      const receives = named(results, 'receive round', round);
      assert.deepEqual(
        sends.map((r) => r.worker),
        [4],
      );
      assert.deepEqual(receives.map((r) => r.worker).sort(), [0, 1, 2, 3]);
      for (const r of receives) {
        assert.ok(end(r) > end(sends[0]!), `round ${round}: worker ${r.worker} received at ${end(r)}, before the send ended at ${end(sends[0]!)}`);
        assert.deepEqual(r.ws, { url: `ws://127.0.0.1:${port}/broadcast`, sent: 0, received: 1, skipped: 0, dropped: 0, bytes: 7 });
      }
    }
    // One connection per worker for the whole run: connect ran in round 1 only.
    assert.deepEqual(
      results
        .filter((r) => r.name === 'connect')
        .map((r) => [r.round, r.outcome])
        .sort(),
      [...Array.from({ length: 5 }, () => [1, 'ok']), ...Array.from({ length: 5 }, () => [2, 'skipped']), ...Array.from({ length: 5 }, () => [3, 'skipped'])].sort(),
    );

    const report = collector.buildReport({ outcome: result.outcome });
    const agg = (name: string) => report.steps.find((s) => s.name === name)?.ws;
    assert.deepEqual(agg('send round'), { sent: 3, received: 0, skipped: 0, dropped: 0 });
    assert.deepEqual(agg('receive round'), { sent: 0, received: 12, skipped: 0, dropped: 0 });
    assert.ok(
      report.thresholds.every((t) => t.passed),
      JSON.stringify(report.thresholds),
    );
    assert.match(formatSummary(report, { color: false }), /\nWebSocket\n {2}3 sent, 12 received \(0 skipped\)\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
