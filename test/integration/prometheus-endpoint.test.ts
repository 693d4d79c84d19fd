// The live metrics endpoint of a run session (--metrics-port), against a real
// HTTP server: /metrics scraped while the run goes and once more while its
// reports are written, whose numbers are the report's; the endpoint closed when
// the session returns; a linger that a signal ends; a port in use refused
// before anything runs or is written.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunEvent } from '../../src/contract/events.js';
import { parsePlan } from '../../src/plan/load.js';
import { MetricsEndpointError } from '../../src/reporting/prometheus/endpoint.js';
import { runSession } from '../../src/runtime/session.js';
import { startServer, type TestServer } from '../helpers/http-helpers.js';
import { parseExposition, sampleValue, samplesOf, type Sample } from '../helpers/prometheus-helpers.js';

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

// Per worker and round: `home` ok, a pause (so a scrape lands mid-run), `missing` fails, `after` is skipped (skip-round).
const plan = () =>
  parsePlan(
    `name: live\ntarget: ${server.origin}\nworkers: 2\nrounds: 3\nscenario:\n  - name: home\n    request: GET /\n  - name: pause\n    sleep: 400ms\n  - name: missing\n    request: GET /missing\n  - name: after\n    request: GET /\n`,
    join(tmpdir(), 'live.yml'),
  );

async function scrape(url: string): Promise<{ text: string; samples: Sample[]; type: string | null }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, samples: parseExposition(text), type: res.headers.get('content-type') };
}

describe('the live metrics endpoint', () => {
  it('serves the run as it goes, and its final numbers while the reports are written', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'planrun-prom-'));
    const lines: string[] = [];
    let url = '';
    let during: Promise<Awaited<ReturnType<typeof scrape>>> | undefined;
    let atEnd: Awaited<ReturnType<typeof scrape>> | undefined;
    const probe = {
      name: 'probe',
      onEvent(e: RunEvent) {
        // The first round's end: the second round's pause keeps the run going while this is served.
        if (e.type === 'round:end' && e.round === 1 && !during) during = scrape(url);
      },
      async onEnd() {
        atEnd = await scrape(url);
      },
    };
    const write = (t: string) => {
      lines.push(t);
      url ||= /live metrics at (\S+)/.exec(t)?.[1] ?? '';
    };
    const r = await runSession(plan(), { reporters: ['json'], reportDir: dir, runId: 'live-1', metrics: { port: 0 }, extraReporters: [probe], write });
    assert.match(lines[0]!, /^planrun: live metrics at http:\/\/127\.0\.0\.1:\d+\/metrics\n$/);
    assert.equal(r.exitCode, 1);

    const mid = await during!;
    assert.equal(mid.type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(sampleValue(mid.samples, 'planrun_run_ended', { run_id: 'live-1' }), 0);
    assert.equal(sampleValue(mid.samples, 'planrun_workers_active', { run_id: 'live-1', role: 'worker' }), 2);
    const midHome = sampleValue(mid.samples, 'planrun_steps_total', { role: 'worker', step: 'home', status: 'ok' });

    const end = atEnd!;
    assert.equal(sampleValue(end.samples, 'planrun_run_ended'), 1);
    assert.equal(sampleValue(end.samples, 'planrun_workers_active', { role: 'worker' }), 0);
    const home = sampleValue(end.samples, 'planrun_steps_total', { run_id: 'live-1', role: 'worker', step: 'home', status: 'ok' });
    assert.ok(midHome >= 1 && midHome < home, `home ok: ${midHome} mid-run, ${home} at the end`);
    // The report's numbers, step by step.
    assert.deepEqual(
      r.report.steps.map((s) => [s.name, s.ok, s.failed, s.skipped]),
      [
        ['home', 6, 0, 0],
        ['pause', 6, 0, 0],
        ['missing', 0, 6, 0],
        ['after', 0, 0, 6],
      ],
    );
    for (const s of r.report.steps) {
      for (const status of ['ok', 'failed', 'skipped'] as const) {
        assert.equal(sampleValue(end.samples, 'planrun_steps_total', { role: 'worker', step: s.name, status }), s[status], `${s.name} ${status}`);
      }
    }
    assert.equal(sampleValue(end.samples, 'planrun_step_failures_total', { role: 'worker', step: 'missing', code: 'expectation' }), 6);
    assert.equal(sampleValue(end.samples, 'planrun_step_duration_seconds_count', { role: 'worker', step: 'pause' }), 6);
    assert.ok(sampleValue(end.samples, 'planrun_step_duration_seconds', { role: 'worker', step: 'pause', quantile: '0.5' }) >= 0.4);
    assert.equal(samplesOf(end.samples, 'planrun_step_duration_seconds_count', { step: 'after' }).length, 0);
    assert.doesNotMatch(end.text, new RegExp(server.origin.replace(/\./g, '\\.')));

    // Other paths name /metrics; once the session returned, nothing listens.
    assert.equal(lines.length, 1);
    await assert.rejects(fetch(url), /fetch failed/);
  });

  it('answers 404 naming /metrics on other paths, and lingers after the reports until a signal', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'planrun-prom-'));
    const lines: string[] = [];
    let lingering: Promise<{ status: number; body: string; ended: number }> | undefined;
    const write = (t: string) => {
      lines.push(t);
      const at = /^planrun: the live metrics stay at (\S+) for 60\.0 s \(Ctrl-C ends it\)\n$/.exec(t)?.[1];
      if (at && !lingering) {
        lingering = (async () => {
          const other = await fetch(at.replace(/\/metrics$/, '/'));
          const { samples } = await scrape(at);
          // The linger would last a minute: Ctrl-C ends it.
          process.emit('SIGINT', 'SIGINT');
          return { status: other.status, body: await other.text(), ended: sampleValue(samples, 'planrun_run_ended') };
        })();
      }
    };
    const interruptLines: string[] = [];
    const started = Date.now();
    const r = await runSession(plan(), {
      reporters: ['json'],
      reportDir: dir,
      metrics: { port: 0, lingerMs: 60_000 },
      write,
      interrupts: { write: (t) => interruptLines.push(t), exit: () => assert.fail('a second signal') },
    });
    assert.ok(lingering, `no linger line in ${JSON.stringify(lines)}`);
    assert.deepEqual(await lingering, { status: 404, body: 'planrun serves its live metrics at /metrics\n', ended: 1 });
    // Interrupted while lingering: 130, well before the minute.
    assert.equal(r.exitCode, 130);
    assert.ok(Date.now() - started < 45_000);
    assert.equal(interruptLines.length, 1);
  });

  it('refuses a port in use before anything runs or is written', { timeout: 30_000 }, async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    const dir = join(await mkdtemp(join(tmpdir(), 'planrun-prom-')), 'report');
    const before = hits;
    try {
      await assert.rejects(runSession(plan(), { reporters: ['json'], reportDir: dir, metrics: { port }, write: () => {} }), (err: unknown) => {
        assert.ok(err instanceof MetricsEndpointError);
        assert.equal(err.message, `cannot serve the metrics at 127.0.0.1:${port}: the port is in use by another program; choose another --metrics-port`);
        return true;
      });
    } finally {
      holder.close();
    }
    assert.equal(hits, before);
    assert.equal(existsSync(dir), false);
  });
});
