// The whole run in the report, at a bounded size: a duration run against a real
// HTTP server gets one time-series bucket per second from its start to its end
// (their counts add up to the totals), metrics.ndjson holds the same buckets one
// per line, and its timeline, past the cap, is a sample spread over the whole
// run that keeps every failure. A small coordination run keeps every step.
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parsePlan } from '../../src/plan/load.js';
import type { SeriesBucket } from '../../src/contract/report.js';
import { runSession } from '../../src/runtime/session.js';
import { startServer, type TestServer } from '../helpers/http-helpers.js';
import { readReport } from '../helpers/report-helpers.js';

let server: TestServer;
let hits = 0;
before(async () => {
  server = await startServer((_req, res) => {
    hits++;
    // Every 50th request fails its expectation.
    res.writeHead(hits % 50 === 0 ? 500 : 200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
});
after(() => server.close());

const sum = (buckets: SeriesBucket[], f: (b: SeriesBucket) => number) => buckets.reduce((n, b) => n + f(b), 0);

test('a 3-second run: a bucket a second over the whole run, metrics.ndjson line for line, a capped timeline spread to the end with every failure', {
  timeout: 30_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'planrun-series-'));
  const plan = parsePlan(
    `name: series\ntarget: ${server.origin}\nworkers: 4\nduration: 3s\nonError: continue\nscenario:\n  - name: get\n    request: { url: /, expect: { status: 200 } }\n`,
    join(tmpdir(), 'series.yml'),
  );
  const { report: returned } = await runSession(plan, { reporters: ['json'], reportDir: dir, timelineCap: 300 });
  const report = await readReport(join(dir, 'report.json'));
  assert.deepEqual(report.series, returned.series);
  const series = report.series!;
  const get = report.steps.find((s) => s.name === 'get')!;
  assert.ok(get.count > 400 && get.failed > 0, `${get.count} runs, ${get.failed} failed: enough to sample`);

  // From the run's first second to the bucket its end falls in, without holes.
  const last = Math.floor(report.durationMs / 1000);
  assert.equal(series.bucketMs, 1000);
  assert.deepEqual(
    series.buckets.map((b) => b.t),
    Array.from({ length: last + 1 }, (_, i) => i * 1000),
  );
  // The three full seconds each saw requests; together the buckets are the totals.
  for (const b of series.buckets.slice(0, 3)) assert.ok(b.requests > 0 && b.http && b.activeWorkers === 4 && b.busyWorkers > 0, JSON.stringify(b));
  assert.deepEqual([sum(series.buckets, (b) => b.requests), sum(series.buckets, (b) => b.steps), sum(series.buckets, (b) => b.failed)], [get.count, get.count, get.failed]);
  assert.equal(
    sum(series.buckets, (b) => Object.values(b.errors).reduce((n, v) => n + v, 0)),
    get.failed,
  );
  assert.equal(
    sum(series.buckets, (b) => b.byStep.reduce((n, s) => n + s.count, 0)),
    get.count,
  );

  // One parseable line per bucket, the same buckets as the report.
  const lines = (await readFile(join(dir, 'metrics.ndjson'), 'utf8')).split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(
    lines.map((l) => JSON.parse(l) as SeriesBucket),
    series.buckets,
  );

  // The timeline: a sample of 300 ok runs plus every failure up to the cap too (a fast machine makes over 15,000
  // requests, so over 300 failures), reaching the run's last second.
  const failed = report.timeline.filter((r) => r.outcome === 'failed');
  const keptFailures = Math.min(get.failed, 300);
  assert.equal(failed.length, keptFailures);
  assert.equal(report.timeline.length, 300 + keptFailures);
  assert.deepEqual(report.timelineSampled, { kept: 300 + keptFailures, total: get.count, cap: 300 });
  assert.equal(report.timelineTruncated, get.count - 300 - keptFailures);
  const start = Date.parse(report.startedAt);
  const lastSecond = report.timeline.filter((r) => r.outcome === 'ok' && r.start >= start + 2000);
  assert.ok(lastSecond.length > 0, 'ok entries from the last second of the run');
  assert.ok(
    report.timeline.every((r, i) => i === 0 || report.timeline[i - 1]!.start <= r.start),
    'in start order',
  );
});

test('a small coordination run keeps every step in its timeline; its barrier waits are in the series', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'planrun-series-'));
  const plan = parsePlan(
    `name: small\ntarget: ${server.origin}\nworkers: 3\nrounds: 2\nonError: continue\nroles: { lead: { workers: [0] }, rest: { rest: true } }\nbarriers:\n  go: { signal: lead, wait: rest, scope: round }\nscenario:\n  lead:\n    - request: { url: / }\n    - signal: go\n  rest:\n    - wait: go\n    - request: { url: / }\n`,
    join(tmpdir(), 'small.yml'),
  );
  const { report } = await runSession(plan, { reporters: ['json'], reportDir: dir, timelineCap: 300 });
  await readReport(join(dir, 'report.json'));
  // lead: request + signal, rest (2 workers): wait + request; 2 rounds.
  assert.equal(report.timeline.length, (2 + 2 * 2) * 2);
  assert.deepEqual([report.timelineTruncated, report.timelineSampled], [0, undefined]);
  assert.deepEqual(
    report.timeline
      .filter((r) => r.wait)
      .map((r) => [r.worker, r.round])
      .sort(),
    [
      [1, 1],
      [1, 2],
      [2, 1],
      [2, 2],
    ],
  );
  assert.equal(
    sum(report.series!.buckets, (b) => b.barrierWaits),
    4,
  );
  assert.equal(
    sum(report.series!.buckets, (b) => b.requests),
    6,
  );
});
