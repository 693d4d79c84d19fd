// runSession, the run as `planrun run` does it, in process: the reporters it
// picks, the report it writes and returns, a failing reporter reported without
// hiding the others, and reporter names refused before anything runs.
import assert from 'node:assert/strict';
import { readdir, readFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPlanInput } from '../../src/cli/plan-input.js';
import { parsePlan } from '../../src/plan/load.js';
import type { RunEvent } from '../../src/contract/events.js';
import { ReporterSelectionError } from '../../src/reporting/registry.js';
import { runSession } from '../../src/runtime/session.js';
import { startServer, type TestServer } from '../helpers/http-helpers.js';

let server: TestServer;
let hits = 0;
before(async () => {
  server = await startServer((req, res) => {
    hits++;
    res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
});
after(() => server.close());

const plan = (path: string, extra = '') =>
  parsePlan(
    `name: session\ntarget: ${server.origin}\nworkers: 2\nrounds: 2\n${extra}scenario:\n  - request: { url: '${path}', headers: { authorization: Bearer s3cret-token } }\n`,
    join(tmpdir(), 'session.yml'),
  );

describe('runSession', () => {
  it("writes the plan's reporters into its report folder and returns the report", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'planrun-session-'));
    const events: RunEvent[] = [];
    const before = hits;
    const r = await runSession(plan('/', `reports:\n  out: ${dir}\n  reporters: [json, markdown]\n`), {
      runId: 'session-1',
      extraReporters: [{ name: 'spy', onEvent: (e) => events.push(e) }],
    });
    assert.equal(hits - before, 4);
    assert.deepEqual([r.exitCode, r.report.outcome, r.reportDir, r.report.run.runId], [0, 'passed', dir, 'session-1']);
    // metrics.ndjson streams beside report.json.
    assert.deepEqual((await readdir(dir)).sort(), ['metrics.ndjson', 'report.json', 'summary.md']);
    const saved = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { outcome: string; steps: Array<{ count: number; ok: number }> };
    assert.deepEqual([saved.outcome, saved.steps.map((s) => [s.count, s.ok])], ['passed', [[4, 4]]]);
    // The spy sees every step and, last, the reports phase the session announces.
    assert.equal(events.filter((e) => e.type === 'step:end').length, 4);
    assert.deepEqual(events.at(-1), { type: 'phase:begin', time: events.at(-1)!.time, phase: 'reports' });
  });

  it('exits 1 on failed steps; a failing reporter is reported, redacted, and the others still write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'planrun-session-'));
    const lines: string[] = [];
    const boom = { name: 'boom', onEnd: () => Promise.reject(new Error('disk full after Bearer s3cret-token')) };
    const r = await runSession(plan('/missing'), { reporters: ['json'], reportDir: dir, extraReporters: [boom], write: (t) => lines.push(t) });
    assert.deepEqual([r.exitCode, r.report.outcome, r.report.reason], [1, 'failed', '4 steps failed']);
    assert.deepEqual((await readdir(dir)).sort(), ['metrics.ndjson', 'report.json']);
    assert.deepEqual(lines, ['planrun: the boom reporter failed: disk full after [redacted]\n']);
  });

  it('runs the execution graph `planrun run` checked, without building another', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'planrun-session-'));
    const file = join(dir, 'two-workers.yml');
    await writeFile(file, `name: handed graph\ntarget: ${server.origin}\nworkers: 2\nrounds: 2\nscenario:\n  - request: GET /\n`);
    // What `planrun run` does: load the plan and check its graph for deadlocks, then hand that graph to the session.
    const graph = await loadPlanInput(file, { vars: {}, color: false });
    assert.ok(typeof graph !== 'number');
    assert.deepEqual(
      graph.lanes.map((l) => l.worker),
      [0, 1],
    );
    // Worker 1's lane left out: a session that built its graph again from the plan would run both workers.
    const handed = { ...graph, lanes: graph.lanes.filter((l) => l.worker === 0) };
    const events: RunEvent[] = [];
    const before = hits;
    const r = await runSession(handed, { reporters: [], reportDir: dir, extraReporters: [{ name: 'spy', onEvent: (e) => events.push(e) }] });
    assert.deepEqual(
      events.flatMap((e) => (e.type === 'worker:begin' ? [e.worker] : [])),
      [0],
    );
    assert.deepEqual([r.exitCode, r.report.steps[0]!.count, hits - before], [0, 2, 2]);
  });

  it('with no reporters still builds the report and writes no file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'planrun-session-'));
    const r = await runSession(plan('/'), { reporters: [], reportDir: dir });
    assert.deepEqual([r.exitCode, r.report.steps[0]!.count], [0, 4]);
    assert.deepEqual(await readdir(dir), []);
  });

  it('refuses reporter names before anything runs', async () => {
    const before = hits;
    await assert.rejects(runSession(plan('/'), { reporters: ['json', 'xml'], reportDir: join(tmpdir(), 'never') }), (err: unknown) => {
      assert.ok(err instanceof ReporterSelectionError);
      assert.equal(err.message, 'Unknown reporter `xml`: choose from live, plain, json, junit, html, markdown.');
      return true;
    });
    assert.equal(hits, before);
  });
});
