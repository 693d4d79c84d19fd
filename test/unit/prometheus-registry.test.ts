// The live metrics registry (--metrics-port) over the real MetricsCollector fed
// a synthetic run: every number it exposes is the collector's (the report's),
// the live gauges follow the run, and the label values stay bounded (steps past
// the cap and codes past theirs fold into `other`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunEvent } from '../../src/contract/events.js';
import { MetricsCollector } from '../../src/reporting/metrics/metrics-collector.js';
import { CODE_LABEL_CAP, createLiveRegistry, type LiveRegistry } from '../../src/reporting/prometheus/live-registry.js';
import { parseExposition, samplesOf, sampleValue, type Sample } from '../helpers/prometheus-helpers.js';
import { RUN_INFO, T0, runEvents } from '../helpers/reporting-events.js';

async function scrape(
  events: readonly RunEvent[],
  o: { stepCap?: number; hasCrawl?: boolean } = {},
): Promise<{ samples: Sample[]; text: string; collector: MetricsCollector; registry: LiveRegistry }> {
  const collector = new MetricsCollector();
  const registry = createLiveRegistry({ runId: 'r1', live: () => collector.live(), hasCrawl: o.hasCrawl ?? false, ...(o.stepCap ? { stepCap: o.stepCap } : {}) });
  for (const e of events) collector.onEvent(e);
  const text = await registry.scrape();
  return { samples: parseExposition(text), text, collector, registry };
}

/** Seconds from the report's ms, to the microsecond the histograms record. */
function near(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);
}

describe('live metrics registry', () => {
  it('exposes the report totals per role, step and status, with the run id on every series', async () => {
    const { samples, text, collector } = await scrape(runEvents());
    const report = collector.buildReport({ outcome: 'passed' });
    assert.ok(samples.length > 0);
    for (const s of samples) assert.equal(s.labels.run_id, 'r1', `${s.name} has no run_id`);
    assert.match(text, /^# TYPE planrun_steps_total counter$/m);
    assert.match(text, /^# TYPE planrun_step_duration_seconds summary$/m);
    assert.equal(sampleValue(samples, 'planrun_run_info', { plan: 'pad-http' }), 1);
    assert.equal(sampleValue(samples, 'planrun_run_ended'), 1);
    for (const step of report.steps) {
      const labels = { role: step.role, step: step.name };
      assert.equal(sampleValue(samples, 'planrun_steps_total', { ...labels, status: 'ok' }), step.ok);
      assert.equal(sampleValue(samples, 'planrun_steps_total', { ...labels, status: 'failed' }), step.failed);
      assert.equal(sampleValue(samples, 'planrun_steps_total', { ...labels, status: 'skipped' }), step.skipped);
      assert.equal(sampleValue(samples, 'planrun_step_duration_seconds_count', labels), step.count);
      near(sampleValue(samples, 'planrun_step_duration_seconds', { ...labels, quantile: '0.5' }), step.latency!.p50 / 1000);
      near(sampleValue(samples, 'planrun_step_duration_seconds', { ...labels, quantile: '0.99' }), step.latency!.p99 / 1000);
    }
    // see round: 10..120 ms over 12 reads, one failed with `expectation`.
    assert.equal(sampleValue(samples, 'planrun_step_failures_total', { role: 'reader', step: 'see round', code: 'expectation' }), 1);
    assert.equal(samplesOf(samples, 'planrun_step_failures_total').length, 1);
    assert.equal(sampleValue(samples, 'planrun_step_duration_seconds_sum', { role: 'reader', step: 'see round' }), 0.78);
    assert.equal(sampleValue(samples, 'planrun_barrier_waits_total', { barrier: 'written', status: 'ok' }), 12);
    assert.equal(sampleValue(samples, 'planrun_barrier_waits_total', { barrier: 'round-end', status: 'ok' }), 15);
    assert.equal(sampleValue(samples, 'planrun_barrier_waits_total', { barrier: 'round-end', status: 'timeout' }), 0);
    near(sampleValue(samples, 'planrun_barrier_wait_seconds', { barrier: 'written', quantile: '0.5' }), report.barriers[0]!.wait!.p50 / 1000);
    assert.equal(sampleValue(samples, 'planrun_workers_active', { role: 'reader' }), 0);
    assert.equal(samplesOf(samples, 'planrun_crawl_urls_done_total').length, 0);
    // Never a URL or a message as a label value.
    assert.doesNotMatch(text, /http:\/\/|expected status/);
  });

  it('shows the workers running and busy while the run goes, and run_ended 0', async () => {
    // Stopped in round 2: reader 4 began "see round" and never ended it (round 1: 4 ok; round 2: readers 1, 2 ok, 3 failed).
    const { samples } = await scrape(runEvents({ stopInRound: 2 }));
    assert.equal(sampleValue(samples, 'planrun_run_ended'), 0);
    assert.equal(sampleValue(samples, 'planrun_workers_active', { role: 'writer' }), 1);
    assert.equal(sampleValue(samples, 'planrun_workers_active', { role: 'reader' }), 4);
    assert.equal(sampleValue(samples, 'planrun_workers_busy', { role: 'writer' }), 0);
    assert.equal(sampleValue(samples, 'planrun_workers_busy', { role: 'reader' }), 1);
    assert.equal(sampleValue(samples, 'planrun_steps_total', { role: 'reader', step: 'see round', status: 'ok' }), 6);
  });

  it('folds the steps past the cap into `other` of their role, keeping the totals', async () => {
    const { samples, collector, registry } = await scrape(runEvents(), { stepCap: 2 });
    const report = collector.buildReport({ outcome: 'passed' });
    const steps = new Set(samplesOf(samples, 'planrun_steps_total').map((s) => `${s.labels.role}/${s.labels.step}`));
    assert.deepEqual([...steps], ['writer/write pad', 'writer/signal written', 'writer/other', 'reader/other']);
    // reader: wait written 12, see round 11 + 1 failed, check text 11 + 1 skipped, meet 12.
    assert.equal(sampleValue(samples, 'planrun_steps_total', { role: 'reader', step: 'other', status: 'ok' }), 46);
    assert.equal(sampleValue(samples, 'planrun_steps_total', { role: 'reader', step: 'other', status: 'failed' }), 1);
    assert.equal(sampleValue(samples, 'planrun_steps_total', { role: 'reader', step: 'other', status: 'skipped' }), 1);
    assert.equal(sampleValue(samples, 'planrun_step_duration_seconds_count', { role: 'reader', step: 'other' }), 47);
    assert.equal(sampleValue(samples, 'planrun_step_failures_total', { role: 'reader', step: 'other', code: 'expectation' }), 1);
    const exposed = samplesOf(samples, 'planrun_steps_total').reduce((n, s) => n + s.value, 0);
    assert.equal(
      exposed,
      report.steps.reduce((n, s) => n + s.ok + s.failed + s.skipped, 0),
    );
    // Each scrape folds afresh: a second one shows the same numbers, not twice them.
    const again = parseExposition(await registry.scrape());
    assert.equal(sampleValue(again, 'planrun_step_duration_seconds_count', { role: 'reader', step: 'other' }), 47);
    assert.equal(sampleValue(again, 'planrun_steps_total', { role: 'reader', step: 'other', status: 'ok' }), 46);
  });

  it('folds a step the plan named `other` with the steps past the cap: one series per role, not two alike', async () => {
    const run = { ...RUN_INFO, steps: RUN_INFO.steps.map((s) => (s.stepId === 'w2' ? { ...s, name: 'other' } : s)) };
    const events = runEvents().map((e) => (e.type === 'run:begin' ? { ...e, run } : e));
    const { samples } = await scrape(events, { stepCap: 2 });
    // writer: `other` (signal written, 3) and meet (3), past the cap.
    assert.equal(sampleValue(samples, 'planrun_steps_total', { role: 'writer', step: 'other', status: 'ok' }), 6);
    assert.equal(sampleValue(samples, 'planrun_step_duration_seconds_count', { role: 'writer', step: 'other' }), 6);
    assert.deepEqual(
      samplesOf(samples, 'planrun_steps_total', { status: 'ok' }).map((s) => `${s.labels.role}/${s.labels.step}`),
      ['writer/write pad', 'writer/other', 'reader/other'],
    );
  });

  it(`keeps ${CODE_LABEL_CAP} error codes and folds the rest, and anything not shaped like a code, into \`other\``, async () => {
    const events: RunEvent[] = [{ type: 'run:begin', time: T0, run: RUN_INFO }];
    const fail = (code: string, n: number) => {
      const result = { worker: 1, role: 'reader', round: n, stepId: 'r2', name: 'see round', kind: 'request' as const, start: T0 + n, durationMs: 1, outcome: 'failed' as const };
      events.push({ type: 'step:end', time: T0 + n, result: { ...result, error: { message: `failed at http://x/${n}`, code } } });
    };
    for (let k = 1; k <= 25; k++) fail(`code-${k}`, k);
    fail('Not A Code: http://x/', 26);
    fail('code-3', 27);
    const collector = new MetricsCollector();
    const registry = createLiveRegistry({ runId: 'r1', live: () => collector.live(), hasCrawl: false });
    for (const e of events) collector.onEvent(e);
    const samples = parseExposition(await registry.scrape());
    const codes = samplesOf(samples, 'planrun_step_failures_total', { step: 'see round' });
    assert.equal(codes.length, CODE_LABEL_CAP + 1);
    assert.equal(sampleValue(samples, 'planrun_step_failures_total', { step: 'see round', code: 'code-3' }), 2);
    assert.equal(sampleValue(samples, 'planrun_step_failures_total', { step: 'see round', code: 'code-20' }), 1);
    assert.equal(sampleValue(samples, 'planrun_step_failures_total', { step: 'see round', code: 'other' }), 6);
    assert.equal(samplesOf(samples, 'planrun_step_failures_total', { code: 'code-21' }).length, 0);
  });

  it('counts the dropped iterations of arrival-rate roles', async () => {
    const run = { ...RUN_INFO, roles: RUN_INFO.roles.map((r) => (r.name === 'reader' ? { ...r, load: 'arrival-rate' as const } : r)) };
    const begin: RunEvent = { type: 'run:begin', time: T0, run };
    const none = await scrape([begin]);
    assert.equal(sampleValue(none.samples, 'planrun_iterations_dropped_total', { role: 'reader' }), 0);
    assert.equal(samplesOf(none.samples, 'planrun_iterations_dropped_total', { role: 'writer' }).length, 0);
    const dropped = (count: number, time: number): RunEvent => ({ type: 'iteration:dropped', time, role: 'reader', count });
    const { samples } = await scrape([begin, dropped(3, T0 + 1000), dropped(4, T0 + 2000)]);
    assert.equal(sampleValue(samples, 'planrun_iterations_dropped_total', { role: 'reader' }), 7);
  });

  it('adds the crawl progress when the plan crawls', async () => {
    const progress: RunEvent = { type: 'crawl:progress', time: T0 + 5, progress: { done: 7, queued: 3, inFlight: 2, broken: 1, pagesPerSecond: 4 } };
    const before = await scrape([{ type: 'run:begin', time: T0, run: RUN_INFO }], { hasCrawl: true });
    assert.equal(sampleValue(before.samples, 'planrun_crawl_urls_done_total'), 0);
    const { samples } = await scrape([{ type: 'run:begin', time: T0, run: RUN_INFO }, progress], { hasCrawl: true });
    assert.equal(sampleValue(samples, 'planrun_crawl_urls_done_total'), 7);
    assert.equal(sampleValue(samples, 'planrun_crawl_urls_broken_total'), 1);
    assert.equal(sampleValue(samples, 'planrun_crawl_urls_queued'), 3);
    assert.equal(sampleValue(samples, 'planrun_crawl_requests_in_flight'), 2);
  });
});
