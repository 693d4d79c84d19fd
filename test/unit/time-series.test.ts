// The run's time series (buckets from the event stream, closed by events or by
// the session's timer, streamed once each) and the sampled timeline (a uniform
// sample over the whole run, failures and barrier waits kept up to the cap).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StepResult } from '../../src/contract/events.js';
import type { SeriesBucket } from '../../src/contract/report.js';
import { buildSeriesCharts } from '../../src/reporting/files/html/series-data.js';
import { MetricsCollector } from '../../src/reporting/metrics/metrics-collector.js';
import { SeriesRecorder } from '../../src/reporting/metrics/time-series.js';
import { TimelineSample } from '../../src/reporting/metrics/timeline-sample.js';
import { OPEN_RUN_INFO, RUN_INFO, T0, openRunEvents, runEvents } from '../helpers/reporting-events.js';

describe('SeriesRecorder', () => {
  it('buckets the run a second at a time; the buckets add up to the totals and stream once each, in order', () => {
    const streamed: SeriesBucket[] = [];
    const c = new MetricsCollector({ onBucket: (b) => streamed.push(b) });
    for (const e of runEvents()) c.onEvent(e);
    const r = c.buildReport({ outcome: 'passed' });
    const buckets = r.series!.buckets;
    // The run ends at T0 + 3020: four buckets, the last one partial.
    assert.deepEqual(
      buckets.map((b) => [b.t, b.requests, b.steps, b.failed, b.barrierWaits, b.activeWorkers]),
      [
        [0, 5, 19, 0, 9, 5],
        [1000, 5, 18, 1, 9, 5],
        [2000, 5, 19, 0, 9, 5],
        [3000, 0, 0, 0, 0, 5],
      ],
    );
    assert.deepEqual(buckets[1]!.errors, { expectation: 1 });
    const reads = r.steps.find((s) => s.stepId === 'r2')!;
    assert.equal(
      buckets.reduce((n, b) => n + (b.byStep.find((s) => s.stepId === 'r2')?.count ?? 0), 0),
      reads.count,
    );
    assert.deepEqual(streamed, buckets);
  });

  it('closes the buckets a quiet run has passed on the timer; a report mid-run shows the open one without streaming it', () => {
    const streamed: number[] = [];
    const s = new SeriesRecorder({ onBucket: (b) => streamed.push(b.t) });
    s.onEvent({ type: 'run:begin', time: T0, run: RUN_INFO });
    s.tick(T0 + 2500);
    assert.deepEqual(streamed, [0, 1000]);
    assert.deepEqual(
      s.series().buckets.map((b) => b.t),
      [0, 1000, 2000],
    );
    s.onEvent({ type: 'run:end', time: T0 + 2600, outcome: 'passed' });
    assert.deepEqual(streamed, [0, 1000, 2000]);
    // Nothing after the end.
    s.tick(T0 + 9000);
    assert.deepEqual(s.series().buckets.length, 3);
  });

  it("counts the iterations begun and carries each open-model role's load target (the mean of its reports in a bucket)", () => {
    const closed = new MetricsCollector();
    for (const e of runEvents()) closed.onEvent(e);
    const closedBuckets = closed.buildReport({ outcome: 'passed' }).series!.buckets;
    assert.deepEqual(
      closedBuckets.map((b) => [b.iterations, b.targets]),
      [
        [5, undefined],
        [5, undefined],
        [5, undefined],
        [0, undefined],
      ],
      'a round per worker a second, no target without an open-model role',
    );
    const c = new MetricsCollector();
    for (const e of openRunEvents()) c.onEvent(e);
    const buckets = c.buildReport({ outcome: 'failed' }).series!.buckets;
    assert.deepEqual(
      buckets.map((b) => [b.t, b.iterations, b.requests, b.dropped, b.targets]),
      [
        [0, 100, 100, 0, { api: 100 }],
        [1000, 10, 10, 90, { api: 75 }],
        [2000, 1, 1, 0, { api: 0 }],
      ],
    );
    // A bucket without a report carries the last one.
    const s = new SeriesRecorder();
    s.onEvent({ type: 'run:begin', time: T0, run: OPEN_RUN_INFO });
    s.onEvent({ type: 'load:target', time: T0 + 10, role: 'api', target: 40 });
    s.onEvent({ type: 'run:end', time: T0 + 2500, outcome: 'passed' });
    assert.deepEqual(
      s.series().buckets.map((b) => b.targets),
      [{ api: 40 }, { api: 40 }, { api: 40 }],
    );
  });

  it('counts dropped iterations and the most workers busy at once', () => {
    const s = new SeriesRecorder({ bucketMs: 100 });
    s.onEvent({ type: 'run:begin', time: T0, run: RUN_INFO });
    for (const w of [0, 1, 2]) s.onEvent({ type: 'worker:begin', time: T0 + 1, worker: w, role: 'reader' });
    for (const w of [0, 1]) s.onEvent({ type: 'step:begin', time: T0 + 2, worker: w, role: 'reader', round: 1, stepId: 'r2', name: 'see round', kind: 'request' });
    s.onEvent({ type: 'iteration:dropped', time: T0 + 150, role: 'reader', count: 7 });
    s.onEvent({ type: 'worker:end', time: T0 + 160, worker: 2, role: 'reader', outcome: 'done', rounds: 1 });
    s.onEvent({ type: 'run:end', time: T0 + 210, outcome: 'passed' });
    assert.deepEqual(
      s.series().buckets.map((b) => [b.t, b.activeWorkers, b.busyWorkers, b.dropped]),
      [
        [0, 3, 2, 0],
        [100, 3, 2, 7],
        [200, 2, 2, 0],
      ],
    );
  });
});

/** A seeded generator, so the sample is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const step = (i: number, extra: Partial<StepResult> = {}): StepResult => ({
  worker: i % 50,
  role: 'r',
  round: 1,
  stepId: 's',
  name: 's',
  kind: 'request',
  start: i,
  durationMs: 1,
  outcome: 'ok',
  ...extra,
});

describe('TimelineSample', () => {
  it('keeps everything up to the cap', () => {
    const t = new TimelineSample(100);
    for (let i = 99; i >= 0; i--) t.add(step(i));
    assert.deepEqual([t.kept, t.total], [100, 100]);
    assert.deepEqual(
      t.entries().map((r) => r.start),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it('past the cap, spreads its sample over the whole run: every tenth of it is represented', () => {
    const t = new TimelineSample(100, seeded(13));
    for (let i = 0; i < 100_000; i++) t.add(step(i));
    const tenths = new Set(t.entries().map((r) => Math.floor(r.start / 10_000)));
    assert.deepEqual([t.kept, t.total, tenths.size], [100, 100_000, 10]);
  });

  it('keeps failures and barrier waits apart from the sample, up to the cap', () => {
    const t = new TimelineSample(100, seeded(7));
    for (let i = 0; i < 1000; i++) t.add(step(i));
    for (let i = 0; i < 60; i++) t.add(step(1000 + i, { outcome: 'failed', error: { message: 'boom' } }));
    for (let i = 0; i < 60; i++) t.add(step(2000 + i, { kind: 'wait', wait: { barrier: 'b', waitedMs: 1 } }));
    const e = t.entries();
    assert.deepEqual([t.kept, t.total, e.filter((r) => r.outcome === 'failed').length, e.filter((r) => r.wait).length], [200, 1120, 60, 40]);
  });
});

describe('the HTML charts of the series', () => {
  it('are drawn from the series: they span the whole run, whatever the sampled timeline kept', () => {
    const c = new MetricsCollector({ timelineCap: 1 });
    for (const e of runEvents()) c.onEvent(e);
    const report = c.buildReport({ outcome: 'passed' });
    assert.ok(report.timelineSampled);
    const data = buildSeriesCharts(report)!;
    // Four 1-second buckets; the reads ran in the first three (4 reads each: 10…40, 50…80, 90…120 ms), busiest step first.
    assert.equal(data.n, 4);
    const steps = data.charts.find((ch) => ch.id === 'steps')!;
    assert.deepEqual(
      steps.lines.map((l) => [l.name, l.values]),
      [
        ['reader · see round', [25, 65, 105, null]],
        ['reader · check text', [1, 1, 1, null]],
        ['writer · write pad', [5, 5, 5, null]],
      ],
    );
    const latency = data.charts.find((ch) => ch.id === 'latency')!;
    assert.deepEqual(
      latency.lines.map((l) => [l.name, l.values]),
      [
        ['p50', [20, 60, 100, null]],
        ['p90', [40, 80, 120, null]],
        ['p95', [40, 80, 120, null]],
        ['p99', [40, 80, 120, null]],
        ['max', [40, 80, 120, null]],
      ],
    );
    // No load target without an open-model role; no dropped line without an arrival rate.
    assert.deepEqual(
      data.charts.map((ch) => [ch.id, ch.lines.map((l) => l.name)]),
      [
        ['throughput', ['requests/s', 'iterations/s']],
        ['latency', ['p50', 'p90', 'p95', 'p99', 'max']],
        ['errors', ['expectation/s']],
        ['workers', ['active', 'busy']],
        ['steps', ['reader · see round', 'reader · check text', 'writer · write pad']],
      ],
    );
    // A report written before the series counted iterations: no iterations line rather than a false zero.
    for (const b of report.series!.buckets) delete b.iterations;
    assert.deepEqual(
      buildSeriesCharts(report)!.charts[0]!.lines.map((l) => l.name),
      ['requests/s'],
    );
  });
});
