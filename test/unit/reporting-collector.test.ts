import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ThresholdSpec } from '../../src/contract/plan.js';
import { LatencyStats } from '../../src/reporting/metrics/latency-stats.js';
import { MetricsCollector } from '../../src/reporting/metrics/metrics-collector.js';
import type { RunEvent, StepResult } from '../../src/contract/events.js';
import type { CrawlReport, Percentiles, RunReport } from '../../src/contract/report.js';
import { RUN_INFO, T0, runEvents, seeRoundMs, waitWrittenMs } from '../helpers/reporting-events.js';

const T = { timeout: 10_000 };

function collect(events: RunEvent[], o: ConstructorParameters<typeof MetricsCollector>[0] = {}): MetricsCollector {
  const c = new MetricsCollector(o);
  for (const e of events) c.onEvent(e);
  return c;
}

/** The value of rank ceil(p·n) in sorted order: what an exact percentile would say. */
function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Histogram precision: 3 significant digits, i.e. within 0.1 %. */
function assertPercentiles(actual: Percentiles | undefined, values: number[]): void {
  assert.ok(actual, 'percentiles expected');
  assert.equal(actual.min, Math.min(...values));
  assert.equal(actual.max, Math.max(...values));
  assert.ok(Math.abs(actual.mean - values.reduce((a, b) => a + b, 0) / values.length) < 1e-9, `mean ${actual.mean}`);
  for (const p of [50, 90, 95, 99] as const) {
    const expected = nearestRank(values, p);
    const got = actual[`p${p}`];
    assert.ok(Math.abs(got - expected) <= expected * 0.001, `p${p}: ${got} is not within 0.1% of ${expected}`);
  }
}

function threshold(selector: string, source: string): ThresholdSpec {
  const m = /^(\w+)\s*(<=|>=|<|>|==)\s*(\S+)$/.exec(source)!;
  const raw = m[3]!;
  const value = raw.endsWith('%')
    ? Number(raw.slice(0, -1)) / 100
    : raw.endsWith('ms')
      ? Number(raw.slice(0, -2))
      : raw.endsWith('s')
        ? Number(raw.slice(0, -1)) * 1000
        : Number(raw);
  return { selector, source, stat: m[1] as ThresholdSpec['stat'], op: m[2] as ThresholdSpec['op'], value, loc: { file: 'plan.yml', line: 1, col: 1 } };
}

const readers = [1, 2, 3, 4];
const rounds = [1, 2, 3];
const all = <T>(f: (w: number, r: number) => T) => rounds.flatMap((r) => readers.map((w) => f(w, r)));

describe('MetricsCollector aggregates', () => {
  const report = collect(runEvents()).buildReport({ outcome: 'passed' });
  const step = (role: string, stepId: string) => report.steps.find((s) => s.role === role && s.stepId === stepId)!;

  it('counts every step per role, with ok / failed / skipped; count is the runs that executed, as thresholds count them', T, () => {
    assert.deepEqual(
      report.steps.map((s) => [s.role, s.name, s.count, s.ok, s.failed, s.skipped]),
      [
        ['writer', 'write pad', 3, 3, 0, 0],
        ['writer', 'signal written', 3, 3, 0, 0],
        ['writer', 'meet', 3, 3, 0, 0],
        ['reader', 'wait written', 12, 12, 0, 0],
        ['reader', 'see round', 12, 11, 1, 0],
        ['reader', 'check text', 11, 11, 0, 1],
        ['reader', 'meet', 12, 12, 0, 0],
      ],
    );
    assert.equal(step('reader', 'r2').bytes, 12_000);
    assert.equal(step('writer', 'w1').bytes, 300);
    const counted = collect(runEvents(), { thresholds: [threshold('step.check text', 'count == 11'), threshold('steps', 'count == 56')] }).buildReport({ outcome: 'passed' });
    assert.deepEqual(
      counted.thresholds.map((t) => [t.condition, t.actual, t.passed]),
      [
        ['count == 11', 11, true],
        ['count == 56', 56, true],
      ],
    );
    assert.equal(
      report.steps.reduce((n, s) => n + s.count, 0),
      56,
    );
  });

  it('computes latency percentiles from the histogram within its precision', T, () => {
    assertPercentiles(step('reader', 'r2').latency, all(seeRoundMs));
    assertPercentiles(step('writer', 'w2').latency, [0.1, 0.1, 0.1]);
    // Skipped runs did not happen: only the 11 checks that ran count.
    assertPercentiles(step('reader', 'r3').latency, Array(11).fill(1));
  });

  it('aggregates barrier waits per barrier across roles', T, () => {
    const written = report.barriers.find((b) => b.name === 'written')!;
    assert.deepEqual([written.waits, written.timeouts, written.broken], [12, 0, 0]);
    assertPercentiles(written.wait, all(waitWrittenMs));
    const meet = report.barriers.find((b) => b.name === 'round-end')!;
    assert.equal(meet.waits, 15);
    assertPercentiles(
      meet.wait,
      rounds.flatMap(() => [10, 11, 12, 13, 14]),
    );
  });

  it('groups the failure with its first occurrence, and fails the run', T, () => {
    assert.deepEqual(report.errors, [
      { message: 'expected status 200, got 500', code: 'expectation', count: 1, examples: [{ worker: 3, role: 'reader', round: 2, stepId: 'r2', name: 'see round' }] },
    ]);
    assert.equal(report.outcome, 'failed');
    assert.equal(report.exitCode, 1);
    assert.equal(report.reason, '1 step failed');
  });

  it('summarises workers, run times and the timeline in start order', T, () => {
    assert.deepEqual(
      report.workers,
      [0, 1, 2, 3, 4].map((id) => ({ id, role: id === 0 ? 'writer' : 'reader', rounds: 3, outcome: 'done' })),
    );
    assert.equal(report.startedAt, new Date(T0).toISOString());
    assert.equal(report.durationMs, 3020);
    assert.equal(report.timeline.length, 57);
    assert.equal(report.timelineTruncated, 0);
    for (let i = 1; i < report.timeline.length; i++) assert.ok(report.timeline[i - 1]!.start <= report.timeline[i]!.start);
    assert.equal(report.run, RUN_INFO);
  });
});

describe('MetricsCollector thresholds and exit codes', () => {
  const evaluate = (specs: ThresholdSpec[], outcome: RunReport['outcome'] = 'passed', crawl?: CrawlReport) => {
    // Without the failed read, so that only thresholds decide the outcome.
    const events = runEvents().map((e) =>
      e.type === 'step:end' && e.result.outcome === 'failed' ? { ...e, result: { ...e.result, outcome: 'ok' as const, error: undefined } } : e,
    );
    return collect(events, { thresholds: specs }).buildReport({ outcome, ...(crawl ? { crawl } : {}) });
  };

  it('passes a run whose thresholds hold (exit 0)', T, () => {
    const r = evaluate([
      threshold('http', 'p95 < 200ms'),
      threshold('http', 'errors < 1%'),
      threshold('steps', 'count == 56'), // 57 results, one of them skipped
      threshold('step.see round', 'count >= 12'),
      threshold('step.see round', 'max <= 120'),
      threshold('barrier.written.wait', 'p99 < 2s'),
      threshold('http', 'rate > 4'),
    ]);
    assert.deepEqual(
      r.thresholds.map((t) => [t.selector, t.condition, t.passed]),
      [
        ['http', 'p95 < 200ms', true],
        ['http', 'errors < 1%', true],
        ['steps', 'count == 56', true],
        ['step.see round', 'count >= 12', true],
        ['step.see round', 'max <= 120', true],
        ['barrier.written.wait', 'p99 < 2s', true],
        ['http', 'rate > 4', true],
      ],
    );
    // 15 requests (3 writes + 12 reads) over 3.02 s.
    assert.ok(Math.abs(r.thresholds[6]!.actual! - 15 / 3.02) < 1e-9);
    assert.equal(r.thresholds[2]!.actual, 56);
    assert.deepEqual([r.outcome, r.exitCode, r.reason], ['passed', 0, undefined]);
  });

  it('fails a passed run on a failed threshold and names it (exit 1)', T, () => {
    const r = evaluate([threshold('http', 'p95 < 200ms'), threshold('step.see round', 'p50 < 50ms')]);
    assert.deepEqual(
      r.thresholds.map((t) => t.passed),
      [true, false],
    );
    assert.ok(Math.abs(r.thresholds[1]!.actual! - 60) <= 0.06);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.exitCode, 1);
    assert.match(r.reason!, /^Threshold failed: step\.see round: `p50 < 50ms` \(actual 60(\.\d+)?ms\)$/);
  });

  it('fails a passed run whose service died during it, naming the service (exit 1); a service stopped by planrun is no failure', T, () => {
    const events = runEvents().filter((e) => !(e.type === 'step:end' && e.result.outcome === 'failed'));
    const service = (name: string, status: 'ready' | 'failed' | 'stopped', message: string): RunEvent => ({ type: 'service', time: T0, name, status, message });
    const end = events.pop()!;
    events.push(
      service('db', 'ready', 'ready in 5 ms'),
      service('api', 'ready', 'ready in 9 ms'),
      service('api', 'failed', 'Service "api" exited with code 3 during the run'),
      service('db', 'stopped', 'stopped by planrun'),
      end,
    );
    const r = collect(events).buildReport({ outcome: 'passed' });
    assert.deepEqual([r.outcome, r.exitCode, r.reason], ['failed', 1, 'service api failed during the run']);
    assert.deepEqual(
      r.services.map((s) => [s.name, s.status]),
      [
        ['db', 'stopped'],
        ['api', 'failed'],
      ],
    );
    const stoppedOnly = collect(events.filter((e) => !(e.type === 'service' && e.status === 'failed'))).buildReport({ outcome: 'passed' });
    assert.deepEqual([stoppedOnly.outcome, stoppedOnly.exitCode], ['passed', 0]);
  });

  it('measures errors as the failed fraction of executed steps', T, () => {
    const r = collect(runEvents(), { thresholds: [threshold('step.see round', 'errors < 5%'), threshold('http', 'errors < 10%')] }).buildReport({ outcome: 'passed' });
    assert.ok(Math.abs(r.thresholds[0]!.actual! - 1 / 12) < 1e-12);
    assert.ok(Math.abs(r.thresholds[1]!.actual! - 1 / 15) < 1e-12);
    assert.deepEqual(
      r.thresholds.map((t) => t.passed),
      [false, true],
    );
  });

  it('keeps an aborted run aborted (exit 130) while still evaluating thresholds', T, () => {
    const r = evaluate([threshold('http', 'p95 < 1ms')], 'aborted');
    assert.deepEqual([r.outcome, r.exitCode, r.thresholds[0]!.passed], ['aborted', 130, false]);
  });

  it('fails a threshold that measured nothing', T, () => {
    const r = evaluate([threshold('browser', 'p95 < 1s'), threshold('browser', 'count == 0')]);
    assert.deepEqual(
      r.thresholds.map((t) => [t.actual, t.passed]),
      [
        [null, false],
        [0, true],
      ],
    );
  });

  it('measures crawl URL latencies and broken links from the crawl report', T, () => {
    const urls = [10, 20, 30, 400].map((durationMs, i) => ({ url: `http://x/${i}`, mode: 'crawled' as const, status: 200, durationMs, depth: 1, redirects: [], referrers: [] }));
    const crawl: CrawlReport = {
      startUrls: ['http://x/'],
      stoppedBy: 'complete',
      durationMs: 500,
      crawled: 3,
      checked: 1,
      broken: 1,
      brokenByKind: { '4xx': 1 },
      skipped: { byRule: 0, byRobots: 0, byDepth: 0, byScheme: 0, outOfScope: 0 },
      sampledAway: 0,
      statusHistogram: { '200': 3, '404': 1 },
      brokenUrls: [],
      urls,
      urlsTruncated: false,
    };
    const r = evaluate([threshold('crawl', 'p50 < 25ms'), threshold('crawl', 'max < 300ms'), threshold('crawl', 'errors == 0')], 'passed', crawl);
    assert.deepEqual(
      r.thresholds.map((t) => [t.actual === null ? null : Math.round(t.actual * 100) / 100, t.passed]),
      [
        [20.02, true], // 20 ms within the histogram's 0.1 %
        [400, false],
        [0.25, false],
      ],
    );
    assert.equal(r.crawl, crawl);
  });
});

describe('MetricsCollector limits and partial runs', () => {
  it('past the cap, samples the ok results, keeps every failure and says so', T, () => {
    const c = new MetricsCollector({ timelineCap: 10 });
    c.onEvent({ type: 'run:begin', time: T0, run: RUN_INFO });
    for (let i = 0; i < 30; i++) {
      const failed = i % 10 === 9;
      c.onEvent({
        type: 'step:end',
        time: T0 + i + 1,
        result: result({ start: T0 + i, outcome: failed ? 'failed' : 'ok', round: i + 1, ...(failed ? { error: { message: 'boom' } } : {}) }),
      });
    }
    const r = c.buildReport({ outcome: 'failed' });
    assert.equal(r.timeline.length, 13); // 10 sampled ok + failures at i = 9, 19 and 29
    assert.deepEqual(
      r.timeline.filter((t) => t.outcome === 'failed').map((t) => t.round),
      [10, 20, 30],
    );
    assert.deepEqual([r.timelineTruncated, r.timelineSampled], [17, { kept: 13, total: 30, cap: 10 }]);
    assert.ok(
      r.timeline.every((t, i) => i === 0 || r.timeline[i - 1]!.start <= t.start),
      'in start order',
    );
    assert.equal(r.steps.find((s) => s.stepId === 'r2')!.count, 30);
  });

  it('builds a report for a run aborted mid-round: only ended steps count', T, () => {
    const c = collect(runEvents({ stopInRound: 2 }), { now: () => T0 + 1500 });
    const r = c.buildReport({ outcome: 'aborted', reason: 'SIGINT received' });
    assert.deepEqual([r.outcome, r.exitCode, r.reason, r.durationMs], ['aborted', 130, 'SIGINT received', 1500]);
    const see = r.steps.find((s) => s.role === 'reader' && s.stepId === 'r2')!;
    assert.deepEqual([see.count, see.ok, see.failed], [7, 6, 1]); // reader 4's round-2 read never ended
    // Round 2 stopped before its meeting: only round 1's meetings count.
    assert.equal(r.steps.find((s) => s.role === 'reader' && s.stepId === 'r4')!.count, 4);
    // Workers without worker:end are reported aborted after their completed rounds.
    assert.deepEqual(
      r.workers.map((w) => [w.id, w.rounds, w.outcome]),
      [0, 1, 2, 3, 4].map((id) => [id, 1, 'aborted']),
    );
    assert.equal(r.timeline.length, 19 + 12); // round 1 whole; round 2: writer 2, readers 1-3 three each, reader 4 its wait
  });

  it('counts barrier timeouts and broken barriers from the waits that failed', T, () => {
    const c = new MetricsCollector();
    c.onEvent({ type: 'run:begin', time: T0, run: RUN_INFO });
    const wait = (worker: number, waitedMs: number, code?: string) =>
      c.onEvent({
        type: 'step:end',
        time: T0 + waitedMs,
        result: result({
          worker,
          stepId: 'r1',
          name: 'wait written',
          kind: 'wait',
          durationMs: waitedMs,
          outcome: code ? 'failed' : 'ok',
          wait: { barrier: 'written', waitedMs },
          ...(code ? { error: { message: `barrier written ${code}`, code } } : {}),
        }),
      });
    wait(1, 5);
    wait(2, 2000, 'barrier-timeout');
    wait(3, 2000, 'barrier-timeout');
    wait(4, 40, 'broken-barrier');
    const r = c.buildReport({ outcome: 'failed', reason: 'barrier written timed out' });
    const b = r.barriers.find((x) => x.name === 'written')!;
    assert.deepEqual([b.waits, b.timeouts, b.broken, b.wait!.max, b.wait!.min], [4, 2, 1, 2000, 5]);
    assert.deepEqual(
      r.errors.map((g) => [g.code, g.count, g.examples.map((e) => e.worker)]),
      [
        ['barrier-timeout', 2, [2, 3]],
        ['broken-barrier', 1, [4]],
      ],
    );
    assert.equal(r.reason, 'barrier written timed out');
    // A barrier nobody waited on yet is listed with no waits.
    assert.deepEqual(
      r.barriers.find((x) => x.name === 'round-end'),
      { name: 'round-end', waits: 0, timeouts: 0, broken: 0 },
    );
  });

  it('groups errors by code and message, keeping the first five examples', T, () => {
    const c = new MetricsCollector();
    for (let i = 0; i < 8; i++)
      c.onEvent({ type: 'step:end', time: T0 + i, result: result({ worker: i, outcome: 'failed', error: { message: 'connection refused', code: 'connect' } }) });
    c.onEvent({ type: 'step:end', time: T0 + 9, result: result({ outcome: 'failed', error: { message: 'connection refused', code: 'timeout' } }) });
    const r = c.buildReport({ outcome: 'failed' });
    assert.deepEqual(
      r.errors.map((g) => [g.code, g.count, g.examples.map((e) => e.worker)]),
      [
        ['connect', 8, [0, 1, 2, 3, 4]],
        ['timeout', 1, [1]],
      ],
    );
    // No run:begin at all: the report is still well formed.
    assert.equal(r.run.workers, 0);
  });
});

describe('LatencyStats', () => {
  it('stays within 0.1% over a wide range and merges exactly', T, () => {
    const a = new LatencyStats();
    const b = new LatencyStats();
    const values: number[] = [];
    for (let i = 1; i <= 10_000; i++) {
      const v = ((i * 7919) % 100_000) / 10 + 0.001; // 0.001 ms .. 10 s, scrambled order
      values.push(v);
      (i % 2 ? a : b).record(v);
    }
    const merged = new LatencyStats().merge(a).merge(b);
    assert.equal(merged.count, 10_000);
    const p = merged.percentiles()!;
    for (const q of [50, 90, 95, 99] as const) {
      const exact = nearestRank(values, q);
      assert.ok(Math.abs(p[`p${q}`] - exact) <= exact * 0.001 + 0.001, `p${q} ${p[`p${q}`]} vs ${exact}`);
    }
    assert.equal(p.max, Math.max(...values.map((v) => Math.round(v * 1000) / 1000)));
  });

  it('gives one mean and total whatever the order of records and merges, a mean on a half microsecond too', T, () => {
    // A counterexample fast-check found (step-folder.test.ts): 513.358 ms over 4 is 128.3395. Added up as floats, some
    // orders made it 128.33949… (128.339), others 128.33950… (128.34).
    const values = [101.163, 34.031, 149.483, 228.681];
    const orders = (rest: number[]): number[][] => (rest.length <= 1 ? [rest] : rest.flatMap((v, i) => orders(rest.toSpliced(i, 1)).map((o) => [v, ...o])));
    const seen = new Set<string>();
    for (const order of orders(values)) {
      for (let split = 0; split <= order.length; split++) {
        const [a, b] = [new LatencyStats(), new LatencyStats()];
        for (const [i, v] of order.entries()) (i < split ? a : b).record(v);
        const merged = new LatencyStats().merge(b).merge(a);
        seen.add(`${merged.percentiles()!.mean} ${merged.total}`);
      }
    }
    assert.deepEqual([...seen], ['128.34 513.358']);
  });
});

function result(o: Partial<StepResult>): StepResult {
  return { worker: 1, role: 'reader', round: 1, stepId: 'r2', name: 'see round', kind: 'request', start: T0, durationMs: 10, outcome: 'ok', ...o };
}

describe('MetricsCollector during the run: abortOnFail thresholds and the live load', () => {
  const aborting = (selector: string, source: string, graceMs = 0): ThresholdSpec => ({ ...threshold(selector, source), abortOnFail: { graceMs } });
  /** run:begin at T0, the workers phase from T0 + 1000, then `n` requests ending at T0 + 1000 + i (failed ones first). */
  const during = (specs: ThresholdSpec[], n: number, failed = n, durationMs = 10) => {
    const c = new MetricsCollector({ thresholds: specs });
    c.onEvent({ type: 'run:begin', time: T0, run: RUN_INFO });
    c.onEvent({ type: 'phase:begin', time: T0 + 1000, phase: 'workers' });
    for (let i = 0; i < n; i++) {
      const bad = i < failed;
      c.onEvent({
        type: 'step:end',
        time: T0 + 1000 + i,
        result: result({ start: T0 + 1000 + i, durationMs, outcome: bad ? 'failed' : 'ok', ...(bad ? { error: { message: 'down' } } : {}) }),
      });
    }
    return c;
  };

  it('judges a statistical stat only from 10 results, answers once, and the report marks the threshold that stopped the run', T, () => {
    const spec = aborting('http', 'errors < 10%');
    assert.equal(during([spec], 9).abortingThreshold(T0 + 2000), undefined);
    const c = during([threshold('http', 'errors < 10%'), spec], 10);
    const failed = c.abortingThreshold(T0 + 2500);
    assert.deepEqual(failed, { selector: 'http', condition: 'errors < 10%', actual: 1, passed: false });
    assert.equal(c.abortingThreshold(T0 + 3500), undefined, 'one answer: the run is already stopping');
    const r = c.buildReport({ outcome: 'failed', reason: 'stopped' });
    assert.deepEqual(
      r.thresholds.map((t) => [t.passed, t.aborted]),
      [
        [false, undefined],
        [false, { afterMs: 2500, actual: 1 }],
      ],
    );
  });

  it('count, min and max are judged from the first result; a condition that holds is not an answer', T, () => {
    assert.equal(during([aborting('http', 'count < 3')], 2).abortingThreshold(T0 + 2000), undefined);
    assert.equal(during([aborting('http', 'count < 3')], 3).abortingThreshold(T0 + 2000)?.actual, 3);
    assert.equal(during([aborting('http', 'max < 50ms')], 1, 0, 60).abortingThreshold(T0 + 2000)?.actual, 60);
    assert.equal(during([aborting('http', 'p95 < 50ms')], 20, 0, 10).abortingThreshold(T0 + 2000), undefined);
  });

  it('waits out the grace, counted from the workers phase, and judges nothing outside it', T, () => {
    const spec = aborting('http', 'errors < 10%', 5000);
    const c = during([spec], 20);
    assert.equal(c.abortingThreshold(T0 + 1000 + 4999), undefined);
    assert.equal(c.abortingThreshold(T0 + 1000 + 5000)?.condition, 'errors < 10%');

    const before = new MetricsCollector({ thresholds: [aborting('steps', 'count < 1')] });
    before.onEvent({ type: 'run:begin', time: T0, run: RUN_INFO });
    before.onEvent({ type: 'step:end', time: T0 + 1, result: result({ role: 'setup', worker: -1 }) });
    assert.equal(before.abortingThreshold(T0 + 2000), undefined, 'setup: before the workers phase');
    const ended = during([aborting('http', 'errors < 10%')], 20);
    ended.onEvent({ type: 'phase:end', time: T0 + 1100, phase: 'workers', ok: true });
    assert.equal(ended.abortingThreshold(T0 + 2000), undefined, 'after the workers phase');
  });

  it('the load: nothing outside the workers phase, then the last complete bucket, the workers and the drops', T, () => {
    const c = new MetricsCollector();
    c.onEvent({ type: 'run:begin', time: T0, run: { ...RUN_INFO, roles: [...RUN_INFO.roles, { name: 'open', workers: [5], load: 'arrival-rate' }] } });
    assert.equal(c.load(T0 + 10), undefined);
    c.onEvent({ type: 'phase:begin', time: T0 + 10, phase: 'workers' });
    c.onEvent({ type: 'worker:begin', time: T0 + 10, worker: 1, role: 'reader' });
    c.onEvent({ type: 'worker:begin', time: T0 + 10, worker: 2, role: 'reader' });
    assert.deepEqual(c.load(T0 + 20), { time: T0 + 20, elapsedMs: 10, activeWorkers: 2, busyWorkers: 0, dropped: 0 });
    // Bucket 0 (T0 … T0 + 1 s): 4 requests, one failed, 10-40 ms; then a drop in bucket 1.
    for (let i = 1; i <= 4; i++) c.onEvent({ type: 'step:end', time: T0 + 100 * i, result: result({ durationMs: 10 * i, ...(i === 4 ? { outcome: 'failed' } : {}) }) });
    c.onEvent({ type: 'iteration:dropped', time: T0 + 1200, role: 'open', count: 3 });
    c.onEvent({ type: 'step:begin', time: T0 + 1300, worker: 2, role: 'reader', round: 1, stepId: 'r2', name: 'see round', kind: 'request' });
    const load = c.load(T0 + 1500)!;
    assert.deepEqual(
      { ...load, last: { ...load.last, p95Ms: Math.round(load.last!.p95Ms!) } },
      {
        time: T0 + 1500,
        elapsedMs: 1490,
        last: { requestsPerSecond: 4, stepsPerSecond: 4, p95Ms: 40, errorRate: 0.25 },
        activeWorkers: 2,
        busyWorkers: 1,
        dropped: 3,
      },
    );
    c.onEvent({ type: 'phase:end', time: T0 + 1600, phase: 'workers', ok: true });
    assert.equal(c.load(T0 + 1700), undefined);
  });
});
