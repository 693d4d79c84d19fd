// A synthetic but realistic run, as the runner would emit it: 5 workers (writer 0,
// readers 1-4), 3 rounds. The writer writes then signals `written`; readers wait
// for it, read, check the text, then everyone meets at `round-end`.
// Reader 3 fails "see round" in round 2 (the check after it is skipped).
import type { RunEvent, RunInfo, StepResult } from '../../src/contract/events.js';
import type { RunReport } from '../../src/contract/report.js';
import { MetricsCollector, type MetricsCollectorOptions, type ReportEnd } from '../../src/reporting/metrics/metrics-collector.js';

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

export const RUN_INFO: RunInfo = {
  runId: 'r1',
  planName: 'pad-http',
  planFile: '/plans/pad-http.yml',
  workers: 5,
  rounds: 3,
  roles: [
    { name: 'writer', workers: [0] },
    { name: 'reader', workers: [1, 2, 3, 4] },
  ],
  barriers: [
    { name: 'written', kind: 'event', scope: 'round', signal: ['writer'], wait: ['reader'], count: 1 },
    { name: 'round-end', kind: 'meeting', signal: [], wait: ['writer', 'reader'], count: 5 },
  ],
  steps: [
    { role: 'writer', stepId: 'w1', name: 'write pad', kind: 'request' },
    { role: 'writer', stepId: 'w2', name: 'signal written', kind: 'signal' },
    { role: 'writer', stepId: 'w3', name: 'meet', kind: 'barrier' },
    { role: 'reader', stepId: 'r1', name: 'wait written', kind: 'wait' },
    { role: 'reader', stepId: 'r2', name: 'see round', kind: 'request' },
    { role: 'reader', stepId: 'r3', name: 'check text', kind: 'expect' },
    { role: 'reader', stepId: 'r4', name: 'meet', kind: 'barrier' },
  ],
  hasCrawl: false,
  reportDir: '/tmp/report',
};

/** "see round" latency of reader w in round r: 10, 20, … 120 ms over the 12 reads. */
export const seeRoundMs = (w: number, r: number) => ((r - 1) * 4 + w) * 10;
/** Reader wait on `written`: 1..12 ms. */
export const waitWrittenMs = (w: number, r: number) => (r - 1) * 4 + w;

export interface StreamOptions {
  /** Stop emitting after this many rounds' events (partial run); the last round's last steps begin but never end. */
  stopInRound?: number;
}

export function runEvents(o: StreamOptions = {}): RunEvent[] {
  const events: RunEvent[] = [];
  const ev = (e: RunEvent) => events.push(e);
  ev({ type: 'run:begin', time: T0, run: RUN_INFO });
  ev({ type: 'phase:begin', time: T0 + 1, phase: 'workers' });
  for (let w = 0; w < 5; w++) ev({ type: 'worker:begin', time: T0 + 2, worker: w, role: w === 0 ? 'writer' : 'reader' });

  const lastRound = o.stopInRound ?? 3;
  for (let round = 1; round <= lastRound; round++) {
    const base = T0 + 10 + (round - 1) * 1000;
    const partial = round === o.stopInRound;
    for (let w = 0; w < 5; w++) ev({ type: 'round:begin', time: base, worker: w, role: w === 0 ? 'writer' : 'reader', round });

    const step = (worker: number, stepId: string, name: string, kind: StepResult['kind'], start: number, durationMs: number, extra: Partial<StepResult> = {}): void => {
      const role = worker === 0 ? 'writer' : 'reader';
      ev({ type: 'step:begin', time: start, worker, role, round, stepId, name, kind: kind as Exclude<StepResult['kind'], 'crawl'> });
      ev({ type: 'step:end', time: start + durationMs, result: { worker, role, round, stepId, name, kind, start, durationMs, outcome: 'ok', ...extra } });
    };

    // writer
    step(0, 'w1', 'write pad', 'request', base, 5, { http: { method: 'POST', url: 'http://127.0.0.1/pad', status: 200, bytes: 100 } });
    step(0, 'w2', 'signal written', 'signal', base + 5, 0.1);
    // readers
    for (let w = 1; w <= 4; w++) {
      step(w, 'r1', 'wait written', 'wait', base, waitWrittenMs(w, round), { wait: { barrier: 'written', waitedMs: waitWrittenMs(w, round) } });
      const readStart = base + 20;
      if (partial && w === 4) {
        // Begun, never ended: the run was aborted during this read.
        ev({ type: 'step:begin', time: readStart, worker: w, role: 'reader', round, stepId: 'r2', name: 'see round', kind: 'request' });
        continue;
      }
      const failed = w === 3 && round === 2;
      step(w, 'r2', 'see round', 'request', readStart, seeRoundMs(w, round), {
        http: { method: 'GET', url: 'http://127.0.0.1/pad', status: failed ? 500 : 200, bytes: 1000 },
        ...(failed ? { outcome: 'failed', error: { message: 'expected status 200, got 500', code: 'expectation' } } : {}),
      });
      step(w, 'r3', 'check text', 'expect', readStart + 200, failed ? 0 : 1, failed ? { outcome: 'skipped' } : {});
    }
    if (partial) break;
    for (let w = 0; w < 5; w++) {
      step(w, w === 0 ? 'w3' : 'r4', 'meet', 'barrier', base + 400, 10 + w, { wait: { barrier: 'round-end', waitedMs: 10 + w } });
      ev({ type: 'round:end', time: base + 420, worker: w, role: w === 0 ? 'writer' : 'reader', round, ok: !(w === 3 && round === 2) });
    }
  }
  if (o.stopInRound !== undefined) return events;

  const end = T0 + 3010;
  for (let w = 0; w < 5; w++) ev({ type: 'worker:end', time: end, worker: w, role: w === 0 ? 'writer' : 'reader', outcome: 'done', rounds: 3 });
  ev({ type: 'phase:end', time: end, phase: 'workers', ok: true });
  ev({ type: 'run:end', time: end + 10, outcome: 'passed' });
  return events;
}

/**
 * Feeds an event stream through the real MetricsCollector and returns its
 * report: every report fixture derives from a synthetic run this way, so what
 * the outputs are tested on is what the collector produces.
 */
export function reportFrom(events: readonly RunEvent[], end: ReportEnd, o: MetricsCollectorOptions = {}): RunReport {
  const collector = new MetricsCollector(o);
  for (const e of events) collector.onEvent(e);
  return collector.buildReport(end);
}

/** A step's begin and end events, as a worker emits them. */
export function stepEvents(r: StepResult): RunEvent[] {
  const { worker, role, round, stepId, name, kind, start, durationMs } = r;
  if (kind === 'crawl') return [{ type: 'step:end', time: start + durationMs, result: r }];
  return [
    { type: 'step:begin', time: start, worker, role, round, stepId, name, kind },
    { type: 'step:end', time: start + durationMs, result: r },
  ];
}

export const OPEN_RUN_INFO: RunInfo = {
  runId: 'r2',
  planName: 'open',
  planFile: '/plans/open.yml',
  workers: 10,
  durationMs: 2000,
  roles: [{ name: 'api', workers: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], load: 'arrival-rate' }],
  barriers: [],
  steps: [{ role: 'api', stepId: 'a1', name: 'get', kind: 'request' }],
  hasCrawl: false,
  reportDir: '/tmp/report',
};

/**
 * An open-model run of 2.5 s (rate 100/s, then 50/s; one GET per iteration), in
 * three buckets of 1 s whose summary is known exactly:
 * - second 0: 100 requests, 96 of 10 ms and 4 of 900 ms that fail (`timeout`): p95 10 ms, p99 900 ms; target 100/s;
 * - second 1: 10 requests of 200 ms (p95 = p99 = 200 ms), 90 iterations dropped; targets 100 and 50 reported: 75;
 * - second 2 (half): 1 request of 20 ms that fails (`expectation`); the target drops to 0 (stages over).
 */
export function openRunEvents(): RunEvent[] {
  const events: RunEvent[] = [{ type: 'run:begin', time: T0, run: OPEN_RUN_INFO }];
  const ev = (e: RunEvent) => events.push(e);
  for (let w = 0; w < 10; w++) ev({ type: 'worker:begin', time: T0 + 1, worker: w, role: 'api' });
  let round = 0;
  const get = (start: number, durationMs: number, error?: StepResult['error']) => {
    const worker = round % 10;
    round++;
    ev({ type: 'round:begin', time: start, worker, role: 'api', round });
    for (const e of stepEvents({
      worker,
      role: 'api',
      round,
      stepId: 'a1',
      name: 'get',
      kind: 'request',
      start,
      durationMs,
      outcome: error ? 'failed' : 'ok',
      ...(error ? { error } : {}),
    }))
      ev(e);
  };
  ev({ type: 'load:target', time: T0 + 2, role: 'api', target: 100 });
  for (let k = 0; k < 96; k++) get(T0 + 5 + k * 9, 10);
  for (let k = 0; k < 4; k++) get(T0 + 50 + k, 900, { message: 'timed out after 900 ms', code: 'timeout' });
  ev({ type: 'load:target', time: T0 + 1100, role: 'api', target: 100 });
  for (let k = 0; k < 10; k++) get(T0 + 1200 + k * 50, 200);
  ev({ type: 'iteration:dropped', time: T0 + 1500, role: 'api', count: 90 });
  ev({ type: 'load:target', time: T0 + 1600, role: 'api', target: 50 });
  get(T0 + 2050, 20, { message: 'expected status 200, got 500', code: 'expectation' });
  ev({ type: 'load:target', time: T0 + 2100, role: 'api', target: 0 });
  for (let w = 0; w < 10; w++) ev({ type: 'worker:end', time: T0 + 2400, worker: w, role: 'api', outcome: 'done', rounds: 11 });
  ev({ type: 'run:end', time: T0 + 2500, outcome: 'failed', reason: '5 steps failed' });
  return events;
}
