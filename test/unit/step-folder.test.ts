// An agent's ok rounds go to the controller as tallies (agents/step-folder.ts).
// Whatever the run, the report built from the folded stream equals the one
// built from the events themselves, nothing is lost or sent twice, each
// worker's events keep their order, and the plain reporter prints the same
// round lines. The timeline's sampling of tallied results keeps every result
// of the run equally likely to stay.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_FOLDED_ROUND_EVENTS, MAX_HELD_MS, StepFolder } from '../../src/agents/step-folder.js';
import { TALLY_RESULT_FIELDS, TALLY_ROUND_FIELDS, type RunEvent, type RunInfo, type StepResult } from '../../src/contract/events.js';
import { MetricsCollector } from '../../src/reporting/metrics/metrics-collector.js';
import { TimelineSample } from '../../src/reporting/metrics/timeline-sample.js';
import { plainReporter } from '../../src/reporting/terminal/plain.js';
import { seededRandom } from '../../src/plan/random.js';
import { Redactor } from '../../src/runtime/redact.js';

const T0 = Date.UTC(2026, 0, 1);
const KINDS = ['request', 'ws', 'wait', 'set'] as const;

interface StepDraw {
  outcome: 'ok' | 'failed' | 'skipped';
  kind: (typeof KINDS)[number];
  /** Whole microseconds, so the tally's rounding to the microsecond changes nothing. */
  durationUs: number;
  lagUs: number | undefined;
  bytes: number;
}
interface RoundDraw {
  steps: StepDraw[];
  /** False: the worker stops in this round (Ctrl-C), which never ends. */
  ends: boolean;
}

const stepDraw = fc.record({
  outcome: fc.constantFrom('ok', 'ok', 'ok', 'failed', 'skipped'),
  kind: fc.constantFrom(...KINDS),
  durationUs: fc.integer({ min: 0, max: 400_000 }),
  lagUs: fc.option(fc.integer({ min: 0, max: 50_000 }), { nil: undefined }),
  bytes: fc.nat(5_000),
}) as fc.Arbitrary<StepDraw>;
const roundDraw = fc.record({ steps: fc.array(stepDraw, { maxLength: 4 }), ends: fc.boolean().map((b) => b || Math.random() < 0.8) });
const runDraw = fc.record({
  workers: fc.array(fc.array(roundDraw, { maxLength: 5 }), { minLength: 1, maxLength: 4 }),
  /** Which worker emits next, each pick taken modulo the workers with events left. */
  picks: fc.array(fc.nat(), { maxLength: 300 }),
  /** Where the batcher takes a tally (after the event at each index that is true). */
  takes: fc.array(fc.boolean(), { maxLength: 300 }),
});

const role = (w: number) => (w === 0 ? 'writer' : 'reader');

function runInfo(workers: number): RunInfo {
  const ids = Array.from({ length: workers }, (_, i) => i);
  return {
    runId: 'r1',
    planName: 'p',
    planFile: '/p.yml',
    workers,
    roles: [
      { name: 'writer', workers: [0] },
      { name: 'reader', workers: ids.slice(1) },
    ],
    barriers: [],
    steps: ['writer', 'reader'].flatMap((r) => KINDS.map((kind, i) => ({ role: r, stepId: `${r}/${i}`, name: `${kind} step`, kind }))),
    hasCrawl: false,
    reportDir: '/tmp/r',
  };
}

/** One worker's events, times counted from `clock` (each event 1-40 ms after the one before, a result ending when its event says). */
function workerEvents(w: number, rounds: RoundDraw[]): RunEvent[] {
  const out: RunEvent[] = [];
  let t = T0 + 10 + w;
  out.push({ type: 'worker:begin', time: t, worker: w, role: role(w) });
  let done = 0;
  for (const [i, r] of rounds.entries()) {
    const round = i + 1;
    t += 3;
    out.push({ type: 'round:begin', time: t, worker: w, role: role(w), round });
    let ok = true;
    for (const s of r.steps) {
      const k = KINDS.indexOf(s.kind);
      const stepId = `${role(w)}/${k}`;
      const name = `${s.kind} step`;
      const start = t + 0.25;
      out.push({ type: 'step:begin', time: start, worker: w, role: role(w), round, stepId, name, kind: s.kind });
      const durationMs = s.durationUs / 1000;
      const result: StepResult = { worker: w, role: role(w), round, stepId, name, kind: s.kind, start, durationMs, outcome: s.outcome };
      if (s.kind === 'request') result.http = { method: 'GET', url: `http://h/${w}/${round}`, status: 200, bytes: s.bytes };
      if (s.kind === 'ws') result.ws = { url: 'ws://h/echo', sent: 1, received: 2, skipped: s.bytes % 3, dropped: 0, bytes: s.bytes };
      if (s.kind === 'wait') result.wait = { barrier: 'b', waitedMs: durationMs };
      if (s.lagUs !== undefined) {
        result.lagMs = s.lagUs / 1000;
        result.scheduledStart = start - result.lagMs;
      }
      if (s.outcome === 'failed') {
        result.error = { message: `boom in ${s.kind}`, code: 'error' };
        ok = false;
      }
      t = start + durationMs;
      out.push({ type: 'step:end', time: t, result });
    }
    if (!r.ends) break;
    t += 1;
    out.push({ type: 'round:end', time: t, worker: w, role: role(w), round, ok });
    done = round;
  }
  out.push({ type: 'worker:end', time: t + 1, worker: w, role: role(w), outcome: 'done', rounds: done });
  return out;
}

interface Run {
  info: RunInfo;
  /** Each worker's events, in order. */
  perWorker: RunEvent[][];
  /** All of them, interleaved as the picks say. */
  events: RunEvent[];
}

function buildRun(draw: { workers: RoundDraw[][]; picks: number[] }): Run {
  const perWorker = draw.workers.map((rounds, w) => workerEvents(w, rounds));
  const left = perWorker.map((es) => [...es]);
  const events: RunEvent[] = [];
  let pick = 0;
  for (;;) {
    const open = left.filter((es) => es.length > 0);
    if (open.length === 0) break;
    events.push(open[(draw.picks[pick++] ?? 0) % open.length]!.shift()!);
  }
  return { info: runInfo(draw.workers.length), perWorker, events };
}

/** The events through a folder, tallies taken where `takes` says, and through JSON as the stream carries them. */
function folded(events: RunEvent[], takes: boolean[] = [], timelineCap = 10_000, random?: () => number): RunEvent[] {
  const folder = new StepFolder('a1', timelineCap, random);
  const out: RunEvent[] = [];
  for (const [i, e] of events.entries()) {
    folder.add(e, out);
    if (takes[i]) {
      const t = folder.take();
      if (t) out.push(t);
    }
  }
  folder.drain(out);
  const last = folder.take();
  if (last) out.push(last);
  return JSON.parse(JSON.stringify(out)) as RunEvent[];
}

/** The report of a run seen as `events`, without what depends on when it was built. */
function reportOf(info: RunInfo, events: RunEvent[]) {
  // One bucket for the whole run: a held round's results may land a bucket later (see MAX_HELD_MS), tested apart.
  const c = new MetricsCollector({ bucketMs: 3_600_000, now: () => T0 + 100_000 });
  c.onEvent({ type: 'run:begin', time: T0, run: info });
  for (const e of events) c.onEvent(e);
  c.onEvent({ type: 'run:end', time: T0 + 100_000, outcome: 'passed' });
  const r = c.buildReport({ outcome: 'passed' });
  // Busy workers are sampled at tallies for tallied rounds: compared apart. A bucket lists its steps and errors
  // in the order it first saw them, which is the order results arrived in, even in one process.
  const buckets = (r.series?.buckets ?? []).map(({ busyWorkers: _, ...b }) => ({
    ...b,
    byStep: [...b.byStep].sort((x, y) => `${x.role}/${x.stepId}`.localeCompare(`${y.role}/${y.stepId}`)),
    errors: Object.fromEntries(Object.entries(b.errors).sort()),
  }));
  return { ...r, series: { ...r.series, buckets } };
}

/** What a consumer learns of each worker's rounds: per round, its events' types or `folded`, in the order seen. */
function roundsSeen(events: RunEvent[]): Map<number, string[]> {
  const seen = new Map<number, string[]>();
  const note = (w: number, what: string) => seen.set(w, [...(seen.get(w) ?? []), what]);
  for (const e of events) {
    if (e.type === 'steps:tally') {
      const { rounds, results } = e.tally;
      let r = 0;
      for (let i = 0; i < rounds.length; i += TALLY_ROUND_FIELDS) {
        note(rounds[i]!, `folded ${rounds[i + 2]} (${rounds[i + 5]} results)`);
        r += rounds[i + 5]!;
      }
      assert.equal(r * TALLY_RESULT_FIELDS, results.length, 'the rounds name every result of the tally');
    } else if (e.type === 'step:end') note(e.result.worker, labelOf(e));
    else if (e.type === 'round:begin' || e.type === 'round:end' || e.type === 'step:begin' || e.type === 'worker:begin' || e.type === 'worker:end') note(e.worker, labelOf(e));
  }
  return seen;
}

/** How roundsSeen and roundsExpected name one event of a worker: its type, and its round when it has one. */
function labelOf(e: RunEvent): string {
  if (e.type === 'step:end') return `step:end ${e.result.round}`;
  return 'round' in e ? `${e.type} ${e.round}` : e.type;
}

/** The same, as it should be: a round folds when it ended ok with every step ok and none waited. */
function roundsExpected(perWorker: RunEvent[][]): Map<number, string[]> {
  const expected = new Map<number, string[]>();
  for (const events of perWorker) {
    const w = (events[0] as { worker: number }).worker;
    const out: string[] = [];
    let round: RunEvent[] = [];
    for (const e of events) {
      if (e.type === 'round:begin') round = [e];
      else if (e.type === 'step:begin' || e.type === 'step:end') round.push(e);
      else if (e.type === 'round:end') {
        const results = round.filter((x): x is Extract<RunEvent, { type: 'step:end' }> => x.type === 'step:end').map((x) => x.result);
        const folds = e.ok && round.length <= MAX_FOLDED_ROUND_EVENTS && results.every((r) => r.outcome === 'ok' && !r.wait);
        if (folds) out.push(`folded ${e.round} (${results.length} results)`);
        else out.push(...round.map(labelOf), labelOf(e));
        round = [];
      } else {
        out.push(...round.map(labelOf), labelOf(e));
        round = [];
      }
    }
    expected.set(w, out);
  }
  return expected;
}

/**
 * Equal as JSON; else fails naming where they part. (A deepEqual of two reports that differ builds a diff
 * whose cost grows with their square: while fast-check shrinks, that took gigabytes.)
 */
function sameJson(actual: unknown, expected: unknown): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a === e) return;
  let i = 0;
  while (a[i] === e[i]) i++;
  assert.fail(`they part at character ${i}:\n  got      …${a.slice(Math.max(0, i - 150), i + 100)}\n  expected …${e.slice(Math.max(0, i - 150), i + 100)}`);
}

/** A failed property's message with its counterexample (fast-check's own report leaves the message out). */
function explain<Ts>(d: fc.RunDetails<Ts>): void {
  if (!d.failed) return;
  const why = d.errorInstance instanceof Error ? d.errorInstance.message : String(d.errorInstance);
  throw new Error(`${why}\n${fc.defaultReportMessage(d)}`);
}

describe('StepFolder', () => {
  it('the report from the folded stream equals the report from the events', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(runDraw, (draw) => {
        const run = buildRun(draw);
        sameJson(reportOf(run.info, folded(run.events, draw.takes)), reportOf(run.info, run.events));
      }),
      { numRuns: 300, reporter: explain },
    );
  });

  it('folds exactly the ok rounds, sends every other event once, and keeps each worker in order', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(runDraw, (draw) => {
        const run = buildRun(draw);
        sameJson(Object.fromEntries(roundsSeen(folded(run.events, draw.takes))), Object.fromEntries(roundsExpected(run.perWorker)));
      }),
      { numRuns: 300, reporter: explain },
    );
  });

  it('the plain reporter prints the same round and failure lines from the folded stream', { timeout: 60_000 }, () => {
    const lines = (info: RunInfo, events: RunEvent[]) => {
      let text = '';
      const plain = plainReporter({ stream: { write: (s: string) => (text += s) }, color: false });
      plain.onEvent?.({ type: 'run:begin', time: T0, run: info });
      for (const e of events) plain.onEvent?.(e);
      return text
        .split('\n')
        .filter((l) => / round \d|✖/.test(l))
        .sort();
    };
    fc.assert(
      fc.property(runDraw, (draw) => {
        const run = buildRun(draw);
        sameJson(lines(run.info, folded(run.events, draw.takes)), lines(run.info, run.events));
      }),
      { numRuns: 200, reporter: explain },
    );
  });

  it('a round held past MAX_HELD_MS goes out as events, and the rest of it as it comes', () => {
    const folder = new StepFolder('a1', 10);
    const out: RunEvent[] = [];
    const [begin, step] = workerEvents(0, [{ steps: [{ outcome: 'ok', kind: 'request', durationUs: 1000, lagUs: undefined, bytes: 1 }], ends: true }]).slice(1, 3);
    folder.add(begin!, out);
    folder.add(step!, out);
    folder.releaseHeld(begin!.time + MAX_HELD_MS - 1, out);
    assert.equal(out.length, 0, 'not held long enough yet');
    assert.equal(folder.holding, true);
    folder.releaseHeld(begin!.time + MAX_HELD_MS, out);
    assert.deepEqual(
      out.map((e) => e.type),
      ['round:begin', 'step:begin'],
    );
    assert.equal(folder.holding, false);
    folder.add({ type: 'round:end', time: begin!.time + 300, worker: 0, role: 'writer', round: 1, ok: true }, out);
    assert.deepEqual(
      out.map((e) => e.type),
      ['round:begin', 'step:begin', 'round:end'],
    );
    assert.equal(folder.take(), undefined);
  });

  it('a tally names the busy workers of its source whose step:begin it held: the series counts them, and forgets a worker once it ended', () => {
    const folder = new StepFolder('a1', 10);
    const out: RunEvent[] = [];
    const ok: StepDraw = { outcome: 'ok', kind: 'request', durationUs: 1000, lagUs: undefined, bytes: 1 };
    const events = [0, 1, 2].map((w) => workerEvents(w, [{ steps: [ok], ends: true }]));
    // Worker 3's round fails its first step, so it goes as events: it is inside its second step, begun as an event.
    for (const e of workerEvents(3, [{ steps: [{ ...ok, outcome: 'failed' }, ok], ends: true }]).slice(1, 5)) folder.add(e, out);
    // Workers 0 and 1 end a round; 2 begins one and is inside its step when the tally is taken.
    for (const w of [0, 1]) for (const e of events[w]!.slice(1, 5)) folder.add(e, out);
    for (const e of events[2]!.slice(1, 3)) folder.add(e, out);
    assert.deepEqual(
      out.filter((e) => e.type === 'step:begin').map((e) => e.type === 'step:begin' && e.worker),
      [3, 3],
    );
    const tally = folder.take()!;
    assert.deepEqual(tally.tally.busy, [2]);
    const c = new MetricsCollector({ now: () => T0 + 1000 });
    c.onEvent({ type: 'run:begin', time: T0, run: runInfo(3) });
    c.onEvent({ type: 'phase:begin', time: T0, phase: 'workers' });
    for (const w of [0, 1, 2]) c.onEvent(events[w]![0]!);
    c.onEvent(tally);
    assert.deepEqual(
      [...c.live().workers],
      [
        ['reader', { active: 2, busy: 1 }],
        ['writer', { active: 1, busy: 0 }],
      ].reverse(),
    );
    c.onEvent({ type: 'worker:end', time: T0 + 500, worker: 2, role: 'reader', outcome: 'aborted', rounds: 0 });
    assert.equal(c.live().workers.get('reader')!.busy, 0);
  });
});

describe('TimelineSample with tallies', () => {
  it('two agents folding in turn: each result of the run is kept about equally often (cap/results), early or late', () => {
    const CAP = 50;
    const PER_AGENT = 1_000;
    const TRIALS = 400;
    // The plan's own seeded source (--seed), so the test gives the same answer every time.
    const random = seededRandom(7).next;
    const kept = new Array<number>(2 * PER_AGENT).fill(0);
    for (let trial = 0; trial < TRIALS; trial++) {
      const folders = [new StepFolder('a', CAP, random), new StepFolder('b', CAP, random)];
      const sample = new TimelineSample(CAP, random);
      // The agents' results interleave: agent a has the even places of the run, b the odd ones; tallies of 10 rounds.
      for (let i = 0; i < PER_AGENT; i += 10) {
        for (const [k, folder] of folders.entries()) {
          const out: RunEvent[] = [];
          for (let j = i; j < i + 10; j++) {
            const place = 2 * j + k;
            const result: StepResult = { worker: k, role: 'r', round: j + 1, stepId: 's', name: 's', kind: 'request', start: place, durationMs: 1, outcome: 'ok' };
            folder.add({ type: 'round:begin', time: place, worker: k, role: 'r', round: j + 1 }, out);
            folder.add({ type: 'step:end', time: place + 1, result }, out);
            folder.add({ type: 'round:end', time: place + 1, worker: k, role: 'r', round: j + 1, ok: true }, out);
          }
          const t = folder.take()!.tally;
          sample.addTallied(t.results.length / TALLY_RESULT_FIELDS, t.sampled);
        }
      }
      assert.equal(sample.total, 2 * PER_AGENT);
      assert.equal(sample.kept, CAP);
      for (const r of sample.entries()) kept[r.start]!++;
    }
    // Expected per result: TRIALS * CAP / results = 10. Compare tenths of the run (200 results, 2,000 expected each).
    const tenths = Array.from({ length: 10 }, (_, d) => kept.slice(d * 200, (d + 1) * 200).reduce((a, b) => a + b, 0));
    for (const [d, n] of tenths.entries()) assert.ok(n > 1_700 && n < 2_300, `tenth ${d + 1} of the run kept ${n} times, expected about 2,000: ${tenths.join(', ')}`);
  });
});

describe('Redactor and tallies', () => {
  it('redacts the names and the sampled results of a tally, and leaves its numbers', () => {
    const redactor = new Redactor({ secrets: ['hunter22'], headers: [], query: [] });
    const result: StepResult = {
      worker: 0,
      role: 'writer',
      round: 1,
      stepId: 'w/0',
      name: 'login hunter22',
      kind: 'request',
      start: 1,
      durationMs: 2,
      outcome: 'ok',
      http: { method: 'GET', url: 'http://h/?token=abc123&x=1', bytes: 3 },
    };
    const folder = new StepFolder('a1', 10);
    const out: RunEvent[] = [];
    folder.add({ type: 'round:begin', time: 1, worker: 0, role: 'writer', round: 1 }, out);
    folder.add({ type: 'step:end', time: 3, result }, out);
    folder.add({ type: 'round:end', time: 3, worker: 0, role: 'writer', round: 1, ok: true }, out);
    const event = folder.take()!;
    const redacted = redactor.redactEvent(event);
    assert.ok(redacted.type === 'steps:tally');
    const text = JSON.stringify(redacted);
    assert.ok(!text.includes('hunter22') && !text.includes('abc123'), text);
    assert.equal(redacted.tally.steps[0]!.name, 'login [redacted]');
    assert.equal(redacted.tally.sampled[0]!.result.http!.url, 'http://h/?token=[redacted]&x=1');
    assert.deepEqual(redacted.tally.results, event.tally.results);
    assert.deepEqual(redacted.tally.rounds, event.tally.rounds);
  });
});
