// The runtime against a real HTTP server: orderings through barriers, timeouts,
// broken barriers, onError policies, duration runs. Orderings use the position
// of events in the one stream the runner emits: that order is the truth.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RunEvent } from '../../src/contract/events.js';
import { InMemoryCoordinator } from '../../src/coordination/memory.js';
import { parsePlan } from '../../src/plan/load.js';
import { runPlan } from '../../src/runtime/run.js';
import { writerReadersPlan, type WriterReadersOptions } from '../helpers/plans.js';
import { named, runYaml, startPad, type Pad } from '../helpers/run-helpers.js';

let pad: Pad;
before(async () => {
  pad = await startPad();
});
after(() => pad.stop());

// The pad id reads the environment: templates see `env.NAME` values read at load time.
const writerReaders = (opts: Omit<WriterReadersOptions, 'target'> = {}) =>
  writerReadersPlan({ target: pad.url, waitTimeout: '20s', padId: 'p-{{ run.id }}-{{ env.TEST_PAD_SUFFIX }}', ...opts });

function index(events: RunEvent[], pred: (e: RunEvent) => boolean): number[] {
  return events.flatMap((e, i) => (pred(e) ? [i] : []));
}

test('the barriers keep only the rounds workers are in: over 150 rounds at most 3 per barrier at a time, none at the end', { timeout: 60_000 }, async () => {
  process.env.TEST_PAD_SUFFIX = String(Math.random()).slice(2);
  const coordinator = new InMemoryCoordinator();
  let most = 0;
  let samples = 0;
  const run = await runYaml(writerReaders({ rounds: 150 }), {
    coordinator,
    emit: (e) => {
      if (e.type !== 'round:end') return;
      most = Math.max(most, coordinator.heldRounds());
      samples++;
    },
  });
  assert.equal(run.outcome, 'passed', run.reason);
  assert.equal(samples, 750);
  // Two barriers; the writer is at most a round ahead of its readers, and `previous-round` keeps the round before.
  assert.ok(most >= 2 && most <= 6, `held ${most} rounds at most`);
  assert.equal(coordinator.heldRounds(), 0);
});

test('readers read round k only after the writer wrote it; the writer writes k+1 only after every reader read k', { timeout: 30_000 }, async () => {
  process.env.TEST_PAD_SUFFIX = String(Math.random()).slice(2);
  const run = await runYaml(writerReaders());
  assert.equal(run.outcome, 'passed', run.reason);
  assert.equal(named(run.results, 'write').length, 3);
  assert.equal(named(run.results, 'read').length, 12);
  assert.ok(
    run.results.every((r) => r.outcome === 'ok'),
    'every step ok',
  );
  for (let round = 1; round <= 3; round++) {
    const writeEnd = index(run.events, (e) => e.type === 'step:end' && e.result.name === 'write' && e.result.round === round);
    const readBegins = index(run.events, (e) => e.type === 'step:begin' && e.name === 'read' && e.round === round);
    assert.equal(writeEnd.length, 1);
    assert.equal(readBegins.length, 4);
    for (const i of readBegins) assert.ok(i > writeEnd[0]!, `round ${round}: a read began (event ${i}) before the write ended (event ${writeEnd[0]})`);
    if (round < 3) {
      const readEnds = index(run.events, (e) => e.type === 'step:end' && e.result.name === 'signal read' && e.result.round === round);
      const nextWrite = index(run.events, (e) => e.type === 'step:begin' && e.name === 'write' && e.round === round + 1);
      assert.equal(readEnds.length, 4);
      for (const i of readEnds) assert.ok(i < nextWrite[0]!, `round ${round + 1} was written before a reader read round ${round}`);
    }
  }
  const waits = named(run.results, 'wait written');
  assert.equal(waits.length, 12);
  assert.ok(waits.every((w) => w.wait?.barrier === 'written' && w.wait.waitedMs >= 0));
  // Each signal result names the barrier it signals (the HTML timeline outlines releases by it).
  assert.deepEqual([...new Set(named(run.results, 'signal read').map((r) => r.signal?.barrier))], ['read']);
  assert.deepEqual([...new Set(named(run.results, 'signal written').map((r) => r.signal?.barrier))], ['written']);
  const ends = run.events.filter((e) => e.type === 'worker:end');
  assert.deepEqual(
    ends.map((e) => e.type === 'worker:end' && e.outcome),
    ['done', 'done', 'done', 'done', 'done'],
  );
});

test('a failed write breaks the barrier: readers fail at once naming the writer, its step and the round', { timeout: 15_000 }, async () => {
  // A pad id starting with fail- refuses writes with 500. The wait timeout (20 s) is longer than this test's own.
  const run = await runYaml(writerReaders({ padId: 'fail-pad', rounds: 2 }));
  assert.equal(run.outcome, 'failed');
  const writes = named(run.results, 'write');
  assert.equal(writes.length, 2);
  assert.equal(writes[0]!.outcome, 'failed');
  assert.equal(writes[0]!.error?.code, 'expectation');
  assert.match(writes[0]!.error!.message, /expected status 201, got 500/);
  // Round 2's writer first waits for "read" of round 1, which no reader signalled: broken, so its write is skipped.
  assert.equal(writes[1]!.outcome, 'skipped');
  const waits = named(run.results, 'wait written');
  assert.equal(waits.length, 8);
  for (const w of waits) {
    assert.equal(w.outcome, 'failed');
    assert.equal(w.error?.code, 'broken-barrier');
    // Round 2 breaks through a chain (the readers skipped "read", so the writer's wait broke): the root cause is named.
    assert.equal(w.error!.message, `barrier "written" broken in round ${w.round}: worker 4 (writer) failed at step "write" in round 1: ${writes[0]!.error!.message}`);
  }
  // skip-round (the default): the rest of each reader's round is reported as skipped, not run.
  const reads = named(run.results, 'read');
  assert.equal(reads.length, 8);
  assert.ok(reads.every((r) => r.outcome === 'skipped'));
  const writerWait = named(run.results, 'wait read', 2)[0]!;
  assert.equal(writerWait.error?.code, 'broken-barrier');
  assert.match(writerWait.error!.message, /^barrier "read" broken in round 1: worker 4 \(writer\) failed at step "write" in round 1: POST \S+: expected status 201, got 500/);
});

test('a wait gives up after its timeout with the barrier, round and count in the message', { timeout: 15_000 }, async () => {
  const run = await runYaml(`
name: slow signaller
workers: 2
roles: { a: { count: 1 }, b: { rest: true } }
barriers: { ready: { signal: a, wait: b, timeout: 300ms } }
scenario:
  a:
    - sleep: 1500ms
    - signal: ready
  b:
    - wait: ready
    - name: after
      sleep: 1ms
`);
  assert.equal(run.outcome, 'failed');
  const wait = named(run.results, 'wait ready')[0]!;
  assert.equal(wait.error?.code, 'barrier-timeout');
  assert.equal(wait.error?.message, 'timed out after 300ms waiting for "ready" in round 1 (0 of 1 arrived)');
  assert.equal(wait.wait?.barrier, 'ready');
  assert.ok(wait.wait.waitedMs >= 290, 'the failed wait reports how long it waited');
  assert.equal(named(run.results, 'after')[0]?.outcome, 'skipped');
  assert.equal(named(run.results, 'signal ready')[0]?.outcome, 'ok');
});

test('meeting barriers release every party together, each round', { timeout: 15_000 }, async () => {
  const run = await runYaml(`
name: meet
workers: 3
rounds: 2
barriers: { together: { parties: worker } }
scenario:
  - name: late
    sleep: 200ms
    if: "{{ worker.id == 2 }}"
  - barrier: together
  - name: go
    sleep: 1ms
`);
  assert.equal(run.outcome, 'passed', run.reason);
  for (const round of [1, 2]) {
    const arrivals = index(run.events, (e) => e.type === 'step:begin' && e.kind === 'barrier' && e.round === round);
    const goes = index(run.events, (e) => e.type === 'step:begin' && e.name === 'go' && e.round === round);
    assert.equal(arrivals.length, 3);
    assert.ok(Math.min(...goes) > Math.max(...arrivals), 'nobody went on before all arrived');
    const late = index(run.events, (e) => e.type === 'step:end' && e.result.name === 'late' && e.result.round === round && e.result.outcome === 'ok');
    assert.equal(late.length, 1);
    assert.ok(Math.min(...goes) > late[0]!, 'the early workers waited for the late one');
  }
});

test('onError: continue runs the next steps; stop-worker ends the worker; abort-run stops everyone', { timeout: 20_000 }, async () => {
  const plan = (onError: string) => `
name: policies
target: ${pad.url}
workers: 2
rounds: 2
onError: ${onError}
scenario:
  - name: bad
    request: { url: /nope, expect: { status: 200 } }
  - name: after
    request: GET /health
`;
  const cont = await runYaml(plan('continue'));
  assert.equal(cont.outcome, 'failed');
  assert.equal(named(cont.results, 'after').filter((r) => r.outcome === 'ok').length, 4);
  assert.equal(named(cont.results, 'bad').filter((r) => r.outcome === 'failed').length, 4);

  const stop = await runYaml(plan('stop-worker'));
  assert.equal(named(stop.results, 'bad').length, 2, 'one failure per worker, then it stops');
  assert.ok(named(stop.results, 'after').every((r) => r.outcome === 'skipped'));
  assert.deepEqual(
    stop.events.flatMap((e) => (e.type === 'worker:end' ? [e.outcome] : [])),
    ['stopped', 'stopped'],
  );

  const abort = await runYaml(plan('abort-run'));
  assert.equal(abort.outcome, 'failed');
  assert.match(abort.reason ?? '', /failed at step "bad" in round 1 and its onError is abort-run/);
  assert.ok(named(abort.results, 'after').every((r) => r.outcome === 'skipped'));
});

test('duration runs repeat rounds until time is up, and no worker waits for one that finished', { timeout: 20_000 }, async () => {
  const run = await runYaml(`
name: duration
workers: 3
duration: 600ms
rampUp: 100ms
roles: { leader: { count: 1 }, follower: { rest: true } }
barriers: { tick: { signal: leader, wait: follower } }
scenario:
  leader:
    - name: work
      sleep: 40ms
    - signal: tick
  follower:
    - wait: tick
`);
  assert.equal(run.outcome, 'passed', run.reason);
  const rounds = run.events.flatMap((e) => (e.type === 'worker:end' ? [e.rounds] : []));
  assert.equal(rounds.length, 3);
  assert.ok(
    rounds.every((n) => n >= 3),
    `every worker ran several rounds: ${rounds}`,
  );
  const starts = run.events.flatMap((e) => (e.type === 'worker:begin' ? [e.time] : []));
  assert.ok(starts.length === 3);
});

test('if: false skips a step and its signal without blocking waiters; loops and set vars render', { timeout: 15_000 }, async () => {
  const run = await runYaml(`
name: conditions
workers: 2
rounds: 2
roles: { a: { count: 1 }, b: { rest: true } }
barriers: { go: { signal: a, wait: b, timeout: 10s } }
scenario:
  a:
    - signal: go
      if: "{{ round == 1 || env.PLANRUN_TEST_UNSET == 'yes' }}"
    - set: { total: 0 }
    - loop:
        over: [1, 2, 3]
        steps:
          - set: { total: "{{ vars.total + vars.item }}" }
    - name: total is six
      expect: { value: "{{ vars.total }}", is: 6 }
  b:
    - wait: go
`);
  const check = named(run.results, 'total is six');
  assert.deepEqual(
    check.map((r) => r.outcome),
    ['ok', 'ok'],
  );
  const waits = named(run.results, 'wait go');
  assert.equal(waits[0]?.outcome, 'ok');
  assert.equal(waits[1]?.outcome, 'failed');
  assert.equal(waits[1]?.error?.code, 'broken-barrier');
  assert.match(waits[1]!.error!.message, /worker 0 \(a\) skipped step "signal go" in round 2: its condition was false/);
});

test('a loop whose steps wait holds no memory per iteration until it ends', { timeout: 30_000 }, async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // A `share` step waits (the coordinator answers with a promise), so every iteration goes on from a promise.
  const plan = parsePlan(
    'name: long loop\nworkers: 1\nscenario:\n  - loop:\n      times: 60000\n      steps:\n        - name: put\n          share: { n: "{{ vars.index }}" }\n',
    join(tmpdir(), 'long-loop.yml'),
  );
  const heap: number[] = [];
  let steps = 0;
  // The events are counted, not kept: only the run itself may hold memory here.
  const result = await runPlan(plan, {
    reportDir: await mkdtemp(join(tmpdir(), 'planrun-test-')),
    runId: 'test',
    emit: (e) => {
      if (e.type !== 'step:end' || e.result.outcome !== 'ok' || ++steps % 20_000 !== 0) return;
      gc();
      heap.push(process.memoryUsage().heapUsed);
    },
  });
  assert.equal(result.outcome, 'passed', result.reason);
  assert.equal(steps, 60_000);
  assert.equal(heap.length, 3);
  // Each iteration's promise used to be resolved with the next one's: about 100 bytes an iteration, 4 MB over these 40,000.
  const grown = heap[2]! - heap[0]!;
  assert.ok(grown < 1_000_000, `the heap grew by ${(grown / 1e6).toFixed(2)} MB over 40,000 iterations`);
});

test('a loop stops at the iteration whose waiting step fails, and its flow goes on to the rest of the round', { timeout: 15_000 }, async () => {
  const run = await runYaml(`
name: loop failure
target: ${pad.url}
workers: 1
rounds: 2
onError: skip-round
scenario:
  - loop:
      over: [/health, /health, /nope, /health]
      steps:
        - name: get
          request: { url: "{{ vars.item }}", expect: { status: 200 } }
  - name: after
    request: GET /health
`);
  assert.equal(run.outcome, 'failed');
  for (const round of [1, 2]) {
    assert.deepEqual(
      named(run.results, 'get', round).map((r) => r.outcome),
      ['ok', 'ok', 'failed'],
      `round ${round}: the loop stops at its third iteration`,
    );
    assert.deepEqual(
      named(run.results, 'after', round).map((r) => r.outcome),
      ['skipped'],
    );
  }
});

test('Ctrl-C (the run signal) stops waits and requests at once; the outcome is aborted', { timeout: 15_000 }, async () => {
  const stop = new AbortController();
  const started = Date.now();
  const run = await runYaml(
    `
name: interrupted
target: ${pad.url}
workers: 2
rounds: 100
scenario:
  - name: slow
    request: GET /health?delay=200
`,
    {
      signal: stop.signal,
      emit: (e) => {
        if (e.type === 'step:end' && e.result.round === 2) stop.abort();
      },
    },
  );
  assert.equal(run.outcome, 'aborted');
  assert.ok(Date.now() - started < 10_000);
  const last = run.events.at(-1)!;
  assert.equal(last.type, 'run:end');
  assert.ok(named(run.results, 'slow').filter((r) => r.outcome === 'ok').length >= 2);
  assert.ok(run.events.filter((e) => e.type === 'worker:end').every((e) => e.type === 'worker:end' && e.outcome === 'aborted'));
});

test('a step that overruns its timeout fails with code timeout, even when it ignores its signal', { timeout: 15_000 }, async () => {
  const run = await runYaml(`
name: slow steps
target: ${pad.url}
workers: 1
rounds: 2
onError: continue
scenario:
  - name: nap
    sleep: 2s
    timeout: 200ms
  - name: slow request
    request: GET /health?delay=3000
    timeout: 300ms
`);
  const naps = named(run.results, 'nap');
  assert.deepEqual(
    naps.map((r) => r.error?.code),
    ['timeout', 'timeout'],
  );
  assert.ok(
    naps.every((r) => r.durationMs < 1500),
    `naps stopped near 200 ms: ${naps.map((r) => r.durationMs)}`,
  );
  const slow = named(run.results, 'slow request');
  assert.deepEqual(
    slow.map((r) => r.error?.code),
    ['timeout', 'timeout'],
  );
  // The engine's own message (with the request) wins over the bare timer's.
  assert.match(slow[0]!.error!.message, /GET http:\/\/127\.0\.0\.1:\d+\/health\?delay=3000/);
  assert.equal(slow[0]!.http?.method, 'GET');
});

test('one step timer per worker: a short timeout does not cut the next, longer step short, and a short one after a long one still fires', { timeout: 15_000 }, async () => {
  const run = await runYaml(`
name: step timer
workers: 1
rounds: 2
onError: continue
scenario:
  - name: quick
    set: { a: 1 }
    timeout: 100ms
  - name: nap
    sleep: 400ms
    timeout: 5s
  - name: stuck
    sleep: 10s
    timeout: 300ms
`);
  assert.equal(run.outcome, 'failed');
  // The timer armed for quick's 100 ms fires during nap and waits again for nap's own 5 s.
  assert.deepEqual(
    named(run.results, 'nap').map((r) => [r.outcome, r.error]),
    [
      ['ok', undefined],
      ['ok', undefined],
    ],
  );
  // Armed for nap's 5 s, the timer is moved up to stuck's 300 ms.
  const stuck = named(run.results, 'stuck');
  assert.deepEqual(
    stuck.map((r) => r.error),
    [
      { code: 'timeout', message: 'timed out after 300ms' },
      { code: 'timeout', message: 'timed out after 300ms' },
    ],
  );
  assert.ok(
    stuck.every((r) => r.durationMs < 4000),
    `stuck stopped near 300 ms, long before its 10 s sleep and nap's 5 s: ${stuck.map((r) => r.durationMs)}`,
  );
});

/** A coordinator whose signal never settles, whatever the step's signal says: an engine that ignores its abort. */
class DeafCoordinator extends InMemoryCoordinator {
  override signal(): Promise<void> {
    return new Promise(() => {});
  }
}

test('a signal that ignores its timeout fails 1 s after it (the grace); its barrier breaks for the waiters', { timeout: 15_000 }, async () => {
  const run = await runYaml(
    `
name: deaf coordinator
workers: 2
waitTimeout: 10s
roles:
  writer: { workers: [0] }
  reader: { rest: true }
barriers:
  written: { signal: writer, wait: reader, scope: round }
scenario:
  writer:
    - name: tell
      signal: written
      timeout: 200ms
  reader:
    - name: listen
      wait: written
`,
    { coordinator: new DeafCoordinator() },
  );
  assert.equal(run.outcome, 'failed');
  const [tell] = named(run.results, 'tell');
  assert.equal(tell?.outcome, 'failed');
  assert.deepEqual(tell?.error, { message: 'timed out after 200ms', code: 'timeout' });
  // The step's timer fired at 200 ms; the work never settled, so the grace of 1 s ended the step.
  assert.ok(tell!.durationMs >= 1150 && tell!.durationMs < 5000, `tell took ${tell!.durationMs} ms`);
  const [listen] = named(run.results, 'listen');
  assert.equal(listen?.outcome, 'failed');
  assert.match(listen!.error!.message, /worker 0 .*tell/);
});
