// Thresholds during the run (abortOnFail, grace) and the live load line, with
// runSession against a real HTTP server on 127.0.0.1 that turns bad after its
// first requests. Early stops are asserted by counts against the schedule an
// arrival rate makes exact (20/s for 30 s is 600 iterations), never by timings.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { RunEvent } from '../../src/contract/events.js';
import type { LoadSnapshot } from '../../src/contract/reporter.js';
import { parsePlan } from '../../src/plan/load.js';
import { runSession } from '../../src/runtime/session.js';
import { startServer, type TestServer } from '../helpers/http-helpers.js';
import { readReport } from '../helpers/report-helpers.js';

/** After `goodFor` requests to /api, answers 500 (`fail`) or after 150 ms (`slow`); /setup and /teardown are counted. */
let mode: { goodFor: number; after: 'fail' | 'slow' } = { goodFor: 0, after: 'slow' };
let api = 0;
const paths: string[] = [];
let server: TestServer;
before(async () => {
  server = await startServer((req, res) => {
    paths.push(req.url ?? '');
    if (req.url !== '/api') return res.end('ok');
    if (++api <= mode.goodFor) return res.end('ok');
    if (mode.after === 'fail') {
      res.writeHead(500);
      return res.end('down');
    }
    setTimeout(() => res.end('slow'), 150);
  });
});
after(() => server.close());

const T = { timeout: 60_000 };

async function run(threshold: string, o: { duration: string; goodFor: number; after: 'fail' | 'slow'; reporters?: string[]; stream?: PassThrough; stages?: string }) {
  mode = { goodFor: o.goodFor, after: o.after };
  api = 0;
  paths.length = 0;
  const load = o.stages ? `stages: ${o.stages}\n` : `duration: ${o.duration}\nrate: 20/s\n`;
  const plan = parsePlan(
    `name: thresholds live
target: ${server.origin}
${load}maxWorkers: 8
setup:
  - name: prepare
    request: GET /setup
scenario:
  - name: call
    request: GET /api
teardown:
  - name: clean up
    request: GET /teardown
thresholds:
  http:
    - ${threshold}
`,
    join(tmpdir(), 'thresholds-live.yml'),
  );
  const dir = await mkdtemp(join(tmpdir(), 'planrun-thresholds-'));
  const events: RunEvent[] = [];
  const loads: LoadSnapshot[] = [];
  const r = await runSession(plan, {
    reporters: o.reporters ?? ['json'],
    reportDir: dir,
    // The live view draws only outside CI: its own environment, whatever CI runs the tests with.
    ...(o.stream ? { stream: o.stream as never, env: {} } : {}),
    extraReporters: [{ name: 'spy', onEvent: (e) => events.push(e), onLoad: (l) => loads.push(l) }],
  });
  // Read back and checked against schemas/report.schema.json.
  const saved = await readReport(join(dir, 'report.json'));
  const calls = r.report.steps.find((s) => s.name === 'call')!;
  return { ...r, saved, events, loads, calls, dropped: r.report.dropped?.worker ?? 0 };
}

describe('abortOnFail thresholds', () => {
  it('a server that starts failing stops the run early: exit 1, the reason, teardown ran, the report marks the threshold', T, async () => {
    const r = await run('{ condition: "errors < 10%", abortOnFail: true }', { duration: '30s', goodFor: 20, after: 'fail' });
    assert.equal(r.exitCode, 1);
    assert.equal(r.report.outcome, 'failed');
    assert.match(r.report.reason!, /^threshold http `errors < 10%` failed during the run \(actual \d+(\.\d+)?%\), so the run was stopped early$/);
    // 600 iterations were due over 30 s; judged every second, it stops within a few seconds of the 21st request.
    assert.ok(r.calls.count + r.dropped < 300, `${r.calls.count} calls, ${r.dropped} dropped: the run was not stopped early`);
    assert.ok(r.calls.failed > 0 && r.calls.ok === 20, `${r.calls.ok} ok, ${r.calls.failed} failed`);
    // The same early stop as an abort-run step: setup before, teardown after, the workers phase names the reason.
    assert.equal(paths[0], '/setup');
    assert.equal(paths.at(-1), '/teardown');
    const workersEnd = r.events.find((e) => e.type === 'phase:end' && e.phase === 'workers');
    assert.deepEqual(workersEnd && workersEnd.type === 'phase:end' && [workersEnd.ok, workersEnd.message], [false, r.report.reason]);
    const [t] = r.saved.thresholds;
    assert.equal(t!.passed, false);
    assert.ok(t!.aborted, 'the threshold is marked as the one that stopped the run');
    assert.ok(t!.aborted.actual! >= 0.1 && t!.aborted.afterMs > 0, JSON.stringify(t));
    assert.equal(r.saved.reason, r.report.reason);
  });

  it('a server that turns slow stops the run on a latency threshold', T, async () => {
    const r = await run('{ condition: "p95 < 100ms", abortOnFail: true }', { duration: '30s', goodFor: 20, after: 'slow' });
    assert.deepEqual([r.exitCode, r.report.outcome], [1, 'failed']);
    assert.match(r.report.reason!, /^threshold http `p95 < 100ms` failed during the run \(actual \d+(\.\d+)?ms\), so the run was stopped early$/);
    assert.ok(r.calls.count + r.dropped < 300, `${r.calls.count} calls, ${r.dropped} dropped: the run was not stopped early`);
    assert.equal(r.calls.failed, 0);
    assert.ok(r.saved.thresholds[0]!.aborted);
  });

  it('grace: a threshold failing from the start does not stop the run before its grace; the end still judges it', T, async () => {
    const r = await run('{ condition: "p95 < 100ms", abortOnFail: true, grace: 1m }', { duration: '3s', goodFor: 0, after: 'slow' });
    assert.deepEqual([r.exitCode, r.report.outcome], [1, 'failed']);
    assert.match(r.report.reason!, /^Threshold failed: http: `p95 < 100ms` \(actual \d+(\.\d+)?ms\)$/);
    // The whole schedule ran: 60 iterations due over 3 s, started or dropped.
    assert.ok(r.calls.count + r.dropped >= 55, `${r.calls.count} calls, ${r.dropped} dropped`);
    assert.equal(r.saved.thresholds[0]!.aborted, undefined);
    assert.equal(paths.at(-1), '/teardown');
  });

  it('a threshold without abortOnFail never stops the run', T, async () => {
    const r = await run('"p95 < 100ms"', { duration: '3s', goodFor: 0, after: 'slow' });
    assert.deepEqual([r.exitCode, r.report.outcome], [1, 'failed']);
    assert.match(r.report.reason!, /^Threshold failed: http: `p95 < 100ms`/);
    assert.ok(r.calls.count + r.dropped >= 55, `${r.calls.count} calls, ${r.dropped} dropped`);
    assert.equal(r.saved.thresholds[0]!.aborted, undefined);
  });
});

describe('the live load line', () => {
  it('the live reporter shows requests/s, p95, errors, active workers, drops and the stage of a real run', T, async () => {
    const out = Object.assign(new PassThrough(), { isTTY: true, columns: 200 });
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const r = await run('"p95 < 1s"', {
      duration: '',
      stages: '[{ duration: 1s, target: 20/s }, { hold: 3s }]',
      goodFor: 1000,
      after: 'slow',
      reporters: ['live', 'json'],
      stream: out,
    });
    assert.equal(r.exitCode, 0);
    // The snapshots the reporters were handed: measured once the first bucket closed, the stage moving on.
    const measured = r.loads.filter((l) => l.last);
    assert.ok(measured.length >= 4, `${measured.length} measured snapshots of ${r.loads.length}`);
    assert.ok(measured.some((l) => l.last!.requestsPerSecond > 0));
    // The stage moves on: the ramp (stage 1) while it lasts, the hold (stage 2) at the end; nothing else.
    const stages = r.loads.map((l) => `${l.stages[0]!.role} ${l.stages[0]!.stage}/${l.stages[0]!.of}`);
    assert.equal(stages.at(-1), 'worker 2/2');
    assert.deepEqual(
      stages.filter((s) => s !== 'worker 1/2' && s !== 'worker 2/2'),
      [],
    );
    assert.deepEqual(stages, [...stages].sort(), 'stage 2 never goes back to stage 1');
    const line = /load: (\d+\.\d) req\/s, p95 [\d.]+m?s, 0\.00% errors, \d+ workers? active, 0 dropped, worker stage 2\/2 → 20\.0\/s/.exec(text);
    assert.ok(line, `no load line in:\n${text.slice(-2000)}`);
    assert.ok(Number(line[1]) > 0, line[0]);
  });
});
