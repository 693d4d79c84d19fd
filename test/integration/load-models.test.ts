// Load models against a real HTTP server on 127.0.0.1: arrival rates reach
// their iteration counts, a slow server under an arrival rate drops iterations
// and shows its queueing in the latency from the scheduled start (the closed
// model would only slow down), stages ramp rates and workers, hold and pause.
// Counts are asserted with a tolerance, never wall-clock times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePlan } from '../../src/plan/load.js';
import { MetricsCollector } from '../../src/reporting/metrics/metrics-collector.js';
import type { RunEvent } from '../../src/contract/events.js';
import { ArrivalSchedule, ownIterations } from '../../src/runtime/executors/arrival-rate.js';
import { activeFrom } from '../../src/runtime/executors/ramping-workers.js';
import { roleStages } from '../../src/runtime/load-stages.js';
import { startServer } from '../helpers/http-helpers.js';
import { runYaml } from '../helpers/run-helpers.js';

/** A server answering after `delayMs`, counting requests and the most in flight at once. */
async function server(delayMs = 0) {
  let inFlight = 0;
  let peak = 0;
  const times: number[] = [];
  const s = await startServer((_req, res) => {
    times.push(performance.now());
    inFlight++;
    peak = Math.max(peak, inFlight);
    const done = () => {
      inFlight--;
      res.end('ok');
    };
    if (delayMs > 0) setTimeout(done, delayMs);
    else done();
  });
  return { ...s, peak: () => peak, times };
}

function dropped(events: RunEvent[], role = 'worker'): number {
  return events.reduce((n, e) => n + (e.type === 'iteration:dropped' && e.role === role ? e.count : 0), 0);
}

/** The load targets the executors reported for `role`, in order. */
function loadTargets(events: RunEvent[], role = 'worker'): number[] {
  return events.flatMap((e) => (e.type === 'load:target' && e.role === role ? [e.target] : []));
}

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);
}

test('load models compile to schedules: rate units, ramps, hold, pause, per-role pools', () => {
  const plan = parsePlan(
    `name: t
duration: 1m
roles:
  open: { maxWorkers: 3, rate: 90/m }
  staged: { count: 2, stages: [{ duration: 0s, target: 10/s }, { hold: 5s }, { pause: 2s }, { duration: 10s, target: 1/h }] }
  ramp: { count: 4, stages: [{ duration: 20s, target: 4 }, { duration: 10s, target: 1 }] }
  closed: { rest: true }
workers: 10
scenario:
  - sleep: 1ms
`,
    't.yml',
  );
  assert.deepEqual(
    plan.roles.map((r) => [r.name, r.workers, r.load]),
    [
      ['open', [0, 1, 2], { kind: 'arrival-rate', segments: [{ startMs: 0, durationMs: 60_000, from: 1.5, to: 1.5 }], durationMs: 60_000 }],
      [
        'staged',
        [3, 4],
        {
          kind: 'arrival-rate',
          segments: [
            { startMs: 0, durationMs: 0, from: 0, to: 10 },
            { startMs: 0, durationMs: 5000, from: 10, to: 10 },
            { startMs: 5000, durationMs: 2000, from: 0, to: 0 },
            { startMs: 7000, durationMs: 10_000, from: 10, to: 1 / 3600 },
          ],
          durationMs: 17_000,
        },
      ],
      [
        'ramp',
        [5, 6, 7, 8],
        {
          kind: 'ramping-workers',
          segments: [
            { startMs: 0, durationMs: 20_000, from: 0, to: 4 },
            { startMs: 20_000, durationMs: 10_000, from: 4, to: 1 },
          ],
          durationMs: 30_000,
        },
      ],
      ['closed', [9], undefined],
    ],
  );
  // Plan-level worker stages without `workers`: the pool is the highest target.
  const peak = parsePlan('name: t\nstages: [{ duration: 1s, target: 7 }, { duration: 1s, target: 2 }]\nscenario:\n  - sleep: 1ms\n', 't.yml');
  assert.equal(peak.workers, 7);
});

test('the arrival schedule: a constant rate, a ramp, a hold and a pause give exactly the integral of the rate', () => {
  const times = (segments: ConstructorParameters<typeof ArrivalSchedule>[0]) => {
    const s = new ArrivalSchedule(segments);
    const out: number[] = [];
    for (let t = s.next(); t !== undefined; t = s.next()) out.push(t);
    return out;
  };
  const constant = times([{ startMs: 0, durationMs: 2000, from: 200, to: 200 }]);
  assert.equal(constant.length, 400);
  assert.equal(constant[1], 5);
  assert.equal(constant[399], 1995);
  // 0 → 100/s over 1 s is 50 iterations; hold 100/s for 1 s is 100; a pause is none.
  const staged = times([
    { startMs: 0, durationMs: 1000, from: 0, to: 100 },
    { startMs: 1000, durationMs: 500, from: 0, to: 0 },
    { startMs: 1500, durationMs: 1000, from: 100, to: 100 },
  ]);
  assert.equal(staged.length, 150);
  assert.equal(staged.filter((t) => t < 1000).length, 50);
  assert.equal(staged.filter((t) => t >= 1000 && t < 1500).length, 0);
  // Later iterations of a ramp come closer together, and due times only grow.
  assert.ok(staged[2]! - staged[1]! > staged[49]! - staged[48]!);
  assert.ok(staged.every((t, i) => i === 0 || t >= staged[i - 1]!));
});

test("an arrival-rate role spread over agents: each runs the iterations of its workers' slots, together exactly the one schedule", () => {
  const segments = [
    { startMs: 0, durationMs: 1000, from: 0, to: 90 },
    { startMs: 1000, durationMs: 1000, from: 90, to: 90 },
  ];
  const times = (keep?: (k: number) => boolean) => {
    const s = new ArrivalSchedule(segments, keep);
    const out: number[] = [];
    for (let t = s.next(); t !== undefined; t = s.next()) out.push(t);
    return out;
  };
  const all = times();
  assert.equal(all.length, 135);
  // A pool of 5 dealt 3 + 2 (worker indexes 0, 2, 4 and 1, 3): 3/5 and 2/5 of the iterations, none twice, none lost.
  const role = { name: 'load', workers: [10, 11, 12, 13, 14] };
  const lanes = (indexes: number[]) => indexes.map((index) => ({ id: 10 + index, role: 'load', index, steps: [] }));
  const a = times(ownIterations({ role, lanes: lanes([0, 2, 4]) }));
  const b = times(ownIterations({ role, lanes: lanes([1, 3]) }));
  assert.equal(a.length, 81);
  assert.equal(b.length, 54);
  assert.deepEqual(
    [...a, ...b].sort((x, y) => x - y),
    all,
  );
  // Iterations 0, 2, 4 of every 5 go to the first: the rate is shared at every instant, not one stage each.
  assert.deepEqual(a.slice(0, 3), [all[0], all[2], all[4]]);
  assert.deepEqual(b.slice(0, 2), [all[1], all[3]]);
  // The whole pool in one process: no filter.
  assert.equal(ownIterations({ role, lanes: lanes([0, 1, 2, 3, 4]) }), undefined);
});

test('ramping workers: worker j is active from the moment the level reaches j + 1', () => {
  const load = {
    kind: 'ramping-workers' as const,
    segments: [
      { startMs: 0, durationMs: 1000, from: 0, to: 4 },
      { startMs: 1000, durationMs: 1000, from: 4, to: 4 },
      { startMs: 2000, durationMs: 500, from: 0, to: 0 },
    ],
    durationMs: 2500,
  };
  assert.equal(activeFrom(load, 0, 0), 250);
  assert.equal(activeFrom(load, 3, 0), 1000);
  assert.equal(activeFrom(load, 3, 1500), 1500);
  assert.equal(activeFrom(load, 0, 2000), undefined);
});

test("the live view's stage: the segment the time falls in and its level there, the last one once the schedule is over", () => {
  const plan = parsePlan(
    `name: t
roles:
  api: { maxWorkers: 4, stages: [{ duration: 0s, target: 10/s }, { hold: 2s }, { duration: 2s, target: 30/s }] }
  ui: { count: 4, stages: [{ duration: 1s, target: 4 }, { pause: 1s }] }
workers: 8
scenario:
  - sleep: 1ms
`,
    't.yml',
  );
  const at = (ms: number) => roleStages(plan, ms).map((s) => [s.role, s.kind, `${s.stage}/${s.of}`, s.target]);
  assert.deepEqual(at(0), [
    ['api', 'arrival-rate', '2/3', 10],
    ['ui', 'ramping-workers', '1/2', 0],
  ]);
  assert.deepEqual(at(500), [
    ['api', 'arrival-rate', '2/3', 10],
    ['ui', 'ramping-workers', '1/2', 2],
  ]);
  assert.deepEqual(at(3000), [
    ['api', 'arrival-rate', '3/3', 20],
    ['ui', 'ramping-workers', '2/2', 0],
  ]);
  assert.deepEqual(at(60_000), [
    ['api', 'arrival-rate', '3/3', 30],
    ['ui', 'ramping-workers', '2/2', 0],
  ]);
});

test('a constant arrival rate starts the expected number of iterations, none dropped, on stable worker ids', { timeout: 20_000 }, async () => {
  const s = await server();
  try {
    const run = await runYaml(`name: rate
target: ${s.origin}
rate: 50/s
maxWorkers: 100
duration: 2s
scenario:
  - request: GET /
`);
    assert.equal(run.outcome, 'passed');
    const requests = run.results.filter((r) => r.kind === 'request');
    // Every due iteration is started or dropped; on a shared, busy machine a few may drop.
    assert.equal(requests.length + dropped(run.events), 100);
    near(requests.length, 100, 10, 'iterations started');
    assert.ok(requests.every((r) => r.worker >= 0 && r.worker < 100 && r.lagMs !== undefined && r.scheduledStart !== undefined));
    // `round` counts each worker's own iterations: 1, 2, 3, … per worker id.
    for (let w = 0; w < 100; w++) {
      const rounds = requests.filter((r) => r.worker === w).map((r) => r.round);
      assert.deepEqual(
        rounds,
        rounds.map((_, i) => i + 1),
      );
    }
    const begin = run.events.find((e) => e.type === 'run:begin');
    assert.equal(begin?.type === 'run:begin' && begin.run.roles[0]!.load, 'arrival-rate');
  } finally {
    await s.close();
  }
});

test('a slow server under an arrival rate drops iterations and its scheduled-start latency shows the queueing; the closed model drops none', { timeout: 30_000 }, async () => {
  const s = await server(300);
  try {
    // 20/s for 2 s = 40 due; 2 workers finish at most ~2 × 2 s / 0.3 s ≈ 13 of them.
    const open = await runYaml(`name: slow open
target: ${s.origin}
rate: 20/s
maxWorkers: 2
duration: 2s
scenario:
  - request: GET /
`);
    const started = open.results.filter((r) => r.kind === 'request').length;
    const drops = dropped(open.events);
    assert.equal(started + drops, 40);
    assert.ok(drops >= 20, `only ${drops} dropped`);
    assert.ok(s.peak() <= 2);

    // The report counts the drops and keeps both latencies. A started iteration was started
    // when due (a busy pool drops, it does not queue), so its scheduled latency is its request time plus the tool's own lag.
    const collector = new MetricsCollector();
    const lagged = await runYaml(
      `name: lagged
target: ${s.origin}
rate: 4/s
maxWorkers: 1
duration: 1s
scenario:
  - request: GET /
`,
      { emit: (e) => collector.onEvent(e) },
    );
    const report = collector.buildReport({ outcome: lagged.outcome });
    assert.equal(report.dropped?.worker, dropped(lagged.events));
    const step = report.steps[0]!;
    assert.ok(step.latency && step.latency.max < 1000, `request latency ${step.latency?.max}`);
    assert.ok(step.scheduledLatency && step.scheduledLatency.max >= step.latency.max, 'scheduled latency includes the lag');
    // Thresholds on `http` use the request's own latency; `http.scheduled` the one from the scheduled start.
    assert.deepEqual(collector.select('http')?.latency, step.latency);
    assert.deepEqual(collector.select('http.scheduled')?.latency, step.scheduledLatency);

    const closed = await runYaml(`name: slow closed
target: ${s.origin}
workers: 2
duration: 1s
scenario:
  - request: GET /
`);
    assert.equal(dropped(closed.events), 0);
    assert.ok(closed.results.every((r) => r.lagMs === undefined && r.scheduledStart === undefined));
  } finally {
    await s.close();
  }
});

test('iterations that start late (a busy event loop) carry a lag from their scheduled start that dwarfs the request time', { timeout: 20_000 }, async () => {
  const s = await server(0);
  try {
    // Block the event loop for 1 s in the middle: the iterations due meanwhile start late, not never.
    const blocker = setTimeout(() => {
      const end = Date.now() + 1000;
      while (Date.now() < end);
    }, 500);
    const run = await runYaml(`name: lag
target: ${s.origin}
rate: 50/s
maxWorkers: 100
duration: 2s
scenario:
  - request: GET /
`);
    clearTimeout(blocker);
    const requests = run.results.filter((r) => r.kind === 'request');
    assert.equal(requests.length + dropped(run.events), 100);
    const late = requests.filter((r) => r.lagMs! >= 500);
    assert.ok(late.length >= 10, `${late.length} late iterations`);
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const lag = median(late.map((r) => r.lagMs!));
    const request = median(requests.map((r) => r.durationMs));
    assert.ok(lag > request, `median lag ${lag} ms, median request ${request} ms`);
  } finally {
    await s.close();
  }
});

test('rate stages reach their targets: iterations per stage window, hold and pause', { timeout: 30_000 }, async () => {
  const s = await server();
  try {
    const run = await runYaml(`name: stages
target: ${s.origin}
maxWorkers: 400
stages:
  - { duration: 1s, target: 200/s }
  - { hold: 1s }
  - { pause: 500ms }
  - { duration: 1s, target: 0/s }
scenario:
  - request: GET /
`);
    assert.equal(run.outcome, 'passed');
    // The executor reported its target along the way (the report's series carries it): the ramp from 0, the hold at 200/s, the pause, 0 at the end.
    const targets = loadTargets(run.events);
    assert.ok(targets.length >= 8, `${targets.length} target reports over 3.5 s`);
    assert.ok(targets[0]! < 20, `first target ${targets[0]}`);
    assert.ok(targets.includes(200) && targets.every((t) => t >= 0 && t <= 200), targets.join(' '));
    assert.ok(targets.slice(0, -1).includes(0), 'the pause reports 0');
    assert.equal(targets.at(-1), 0);
    const starts = run.results.filter((r) => r.kind === 'request').map((r) => r.scheduledStart!);
    const t0 = Math.min(...starts);
    const inWindow = (from: number, to: number) => starts.filter((t) => t - t0 >= from && t - t0 < to).length;
    // Ramp 0 → 200/s over 1 s: 100; hold: 200; pause: 0; ramp 200 → 0/s over 1 s (after the pause, from 200/s): 100.
    // 400 workers: an iteration is dropped only when 400 are busy, i.e. requests take 2 s (a machine loaded beyond use).
    assert.ok(dropped(run.events) <= 10, `${dropped(run.events)} dropped: a few at most on a busy machine`);
    near(inWindow(0, 1000), 100, 10, 'ramp up');
    near(inWindow(1000, 2000), 200, 10, 'hold');
    assert.equal(inWindow(2000, 2500), 0);
    near(inWindow(2500, 3500), 100, 10, 'ramp down');
  } finally {
    await s.close();
  }
});

test('worker stages ramp the active workers to their target, then pause them', { timeout: 30_000 }, async () => {
  const s = await server(50);
  try {
    const run = await runYaml(`name: ramping workers
target: ${s.origin}
stages:
  - { duration: 1s, target: 4 }
  - { hold: 1s }
  - { pause: 500ms }
scenario:
  - request: GET /
`);
    assert.equal(run.outcome, 'passed');
    const begin = run.events.find((e) => e.type === 'run:begin');
    assert.equal(begin?.type === 'run:begin' && begin.run.workers, 4);
    // No rounds to show; the run lasts as long as its stages.
    assert.deepEqual(begin?.type === 'run:begin' && [begin.run.rounds, begin.run.durationMs], [undefined, 2500]);
    const requests = run.results.filter((r) => r.kind === 'request');
    const t0 = Math.min(...requests.map((r) => r.start));
    assert.deepEqual([...new Set(requests.map((r) => r.worker))].sort(), [0, 1, 2, 3]);
    assert.equal(s.peak(), 4);
    // Worker 3 joins only when the level reaches 4 (at 1 s), worker 0 at 250 ms: it runs more iterations.
    const per = (w: number) => requests.filter((r) => r.worker === w).length;
    assert.ok(per(0) > per(3), `worker 0: ${per(0)}, worker 3: ${per(3)}`);
    // During the pause (2 s – 2.5 s) nothing starts.
    assert.equal(requests.filter((r) => r.start - t0 >= 2100).length, 0);
    const targets = loadTargets(run.events);
    assert.ok(targets.includes(4) && targets.every((t) => t >= 0 && t <= 4), targets.join(' '));
    assert.equal(targets.at(-1), 0);
  } finally {
    await s.close();
  }
});

test('Ctrl-C stops an arrival-rate schedule at once', { timeout: 20_000 }, async () => {
  const s = await server();
  try {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const began = performance.now();
    const run = await runYaml(
      `name: stop
target: ${s.origin}
rate: 100/s
maxWorkers: 5
duration: 30s
scenario:
  - request: GET /
`,
      { signal: abort.signal },
    );
    assert.equal(run.outcome, 'aborted');
    assert.ok(performance.now() - began < 5000);
    assert.ok(run.results.filter((r) => r.kind === 'request').length < 100);
  } finally {
    await s.close();
  }
});

test('per-role rates beside a closed role; the arrival-rate role signals a scope-run event the closed role waits for', { timeout: 20_000 }, async () => {
  const s = await server();
  try {
    const run = await runYaml(`name: roles
target: ${s.origin}
duration: 1s
roles:
  load: { maxWorkers: 5, rate: 50/s }
  watcher: { count: 1 }
barriers:
  warm: { signal: load, wait: watcher, scope: run, count: 10 }
scenario:
  load:
    - request: GET /load
    - signal: warm
  watcher:
    - wait: warm
    - request: GET /watch
`);
    assert.equal(run.outcome, 'passed');
    near(run.results.filter((r) => r.role === 'load' && r.kind === 'request').length, 50, 5, 'load iterations');
    assert.ok(run.results.some((r) => r.role === 'watcher' && r.kind === 'request' && r.outcome === 'ok'));
    assert.ok(run.results.filter((r) => r.role === 'load').every((r) => r.worker < 5));
    assert.ok(run.results.filter((r) => r.role === 'watcher').every((r) => r.worker === 5 && r.lagMs === undefined));
  } finally {
    await s.close();
  }
});

test('onError: abort-run stops an arrival-rate schedule at once', { timeout: 20_000 }, async () => {
  const s = await startServer((_req, res) => {
    res.statusCode = 500;
    res.end('no');
  });
  try {
    const began = performance.now();
    const run = await runYaml(`name: abort
target: ${s.origin}
rate: 20/s
maxWorkers: 5
duration: 30s
onError: abort-run
scenario:
  - request: GET /
`);
    assert.equal(run.outcome, 'failed');
    assert.match(run.reason ?? '', /failed at step "GET \/" in round 1 and its onError is abort-run/);
    assert.ok(performance.now() - began < 5000);
    // The first failure stops the schedule: nothing is due, started or dropped after it.
    assert.ok(run.results.filter((r) => r.kind === 'request').length <= 5);
  } finally {
    await s.close();
  }
});
