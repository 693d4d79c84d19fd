// Runs shared by agent processes, end to end: real planrun processes (controller
// and `planrun agent`s), a real redis-server, the pad server. The report of a run
// on agents has the shape and counts of a one-process run plus each worker's
// agent; barriers hold across agents; a killed agent breaks the waits on its
// workers at once, naming it; Ctrl-C stops the agents and writes the partial report.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { assignLanes } from '../../src/agents/assign.js';
import { AGENT_PROTOCOL } from '../../src/agents/protocol.js';
import { parsePlan } from '../../src/plan/load.js';
import { ArrivalSchedule } from '../../src/runtime/executors/arrival-rate.js';
import { connectRedis } from '../../src/coordination/redis/connect.js';
import { startRedisServer, type RedisServer } from '../../src/coordination/redis/server.js';
import { writerReadersPlan } from '../helpers/plans.js';
import { killProcesses, planrun, watchChildNiceness } from '../helpers/planrun-process.js';
import { readReport } from '../helpers/report-helpers.js';
import { startPad, type Pad } from '../helpers/run-helpers.js';

let pad: Pad;
let redis: RedisServer;
let dir: string;
before(async () => {
  [pad, redis] = await Promise.all([startPad(), startRedisServer({ password: 'agents-test' })]);
  dir = await mkdtemp(join(tmpdir(), 'planrun-agents-'));
});
after(async () => {
  killProcesses();
  await Promise.all([pad.stop(), redis.stop()]);
});

async function planFile(name: string, yaml: string): Promise<string> {
  const file = join(dir, `${name}.yml`);
  await writeFile(file, yaml);
  return file;
}

/** The compiled schedule of a role of a plan file. */
function compiledLoad(file: string, role: string) {
  return parsePlan(readFileSync(file, 'utf8'), file).roles.find((r) => r.name === role)!.load!.segments;
}

const writerReaders = (rounds: number) => writerReadersPlan({ target: pad.url, rounds });

test('workers are dealt role by role to the agents in turn: balanced, every role spread', () => {
  const lanes = [0, 1, 2, 3, 4, 5, 6].map((id) => ({ id, role: id < 2 ? 'writer' : 'reader' }));
  // Readers first in the plan's role order: readers 2…6 are dealt a, b, c, a, b; the writers go on at c.
  assert.deepEqual(Object.fromEntries(assignLanes(lanes, ['reader', 'writer'], ['a', 'b', 'c'])), { a: [2, 5, 1], b: [3, 6], c: [4, 0] });
  assert.deepEqual(Object.fromEntries(assignLanes(lanes.slice(0, 2), ['writer', 'reader'], ['a', 'b', 'c'])), { a: [0], b: [1], c: [] });
});

test("--agents 2: local agents run the workers; barriers hold across them; the report is that of one process plus each worker's agent", { timeout: 120_000 }, async () => {
  const out = join(dir, 'local-out');
  const run = planrun(['run', await planFile('local', writerReaders(3)), '--agents', '2', '--out', out, '--reporter', 'json', '--run-id', 'agents-local']);
  const niceness = watchChildNiceness(run, 'redis-server');
  assert.equal(await run.ended(), 0, run.stderr());
  // No crawl: the private redis-server kept planrun's priority for the barriers throughout.
  assert.deepEqual(await niceness, [getPriority()]);
  const report = await readReport(join(out, 'report.json'));
  assert.equal(report.outcome, 'passed');
  assert.equal(report.run.runId, 'agents-local');
  // writer first in role order: writer 4 → local-1, then readers 0…3 → local-2, local-1, local-2, local-1.
  assert.deepEqual(
    report.workers.map((w) => [w.id, w.role, w.rounds, w.outcome, w.agent]),
    [
      [0, 'reader', 3, 'done', 'local-2'],
      [1, 'reader', 3, 'done', 'local-1'],
      [2, 'reader', 3, 'done', 'local-2'],
      [3, 'reader', 3, 'done', 'local-1'],
      [4, 'writer', 3, 'done', 'local-1'],
    ],
  );
  assert.deepEqual(
    report.steps.map((s) => [s.role, s.name, s.count, s.ok]),
    [
      ['writer', 'wait read', 3, 3],
      ['writer', 'write', 3, 3],
      ['writer', 'signal written', 3, 3],
      ['reader', 'wait written', 12, 12],
      ['reader', 'read', 12, 12],
      ['reader', 'check', 12, 12],
      ['reader', 'same round', 12, 12],
      ['reader', 'signal read', 12, 12],
    ],
  );
  assertWriterReadersOrder(report, 3);
});

test('--agents 3: the writer and its readers spread over three agents keep their order; a failed write breaks the waits on the other agents, naming it', {
  timeout: 120_000,
}, async () => {
  const out = join(dir, 'three-out');
  const run = planrun(['run', await planFile('three', writerReaders(3)), '--agents', '3', '--out', out, '--reporter', 'json']);
  assert.equal(await run.ended(), 0, run.stderr());
  const report = await readReport(join(out, 'report.json'));
  assert.equal(report.outcome, 'passed');
  // writer 4 → local-1, then readers 0…3 → local-2, local-3, local-1, local-2.
  assert.deepEqual(
    report.workers.map((w) => [w.id, w.role, w.agent]),
    [
      [0, 'reader', 'local-2'],
      [1, 'reader', 'local-3'],
      [2, 'reader', 'local-1'],
      [3, 'reader', 'local-2'],
      [4, 'writer', 'local-1'],
    ],
  );
  assertWriterReadersOrder(report, 3);

  const failedOut = join(dir, 'three-fail-out');
  const failed = planrun([
    'run',
    await planFile('three-fail', writerReadersPlan({ target: pad.url, rounds: 2, padId: 'fail-pad' })),
    '--agents',
    '3',
    '--out',
    failedOut,
    '--reporter',
    'json',
  ]);
  assert.equal(await failed.ended(), 1, failed.stderr());
  const broken = await readReport(join(failedOut, 'report.json'));
  assert.equal(broken.outcome, 'failed');
  const write = broken.timeline.find((r) => r.name === 'write' && r.round === 1)!;
  assert.match(write.error!.message, /expected status 201, got 500/);
  // Every reader's wait, on the writer's agent and on the two others, breaks with the writer's failure as its root cause.
  const waits = broken.timeline.filter((r) => r.name === 'wait written');
  assert.equal(waits.length, 8);
  for (const w of waits) {
    assert.equal(w.outcome, 'failed');
    assert.equal(w.error?.message, `barrier "written" broken in round ${w.round}: worker 4 (writer) failed at step "write" in round 1: ${write.error!.message}`);
  }
  assert.deepEqual([...new Set(broken.workers.map((w) => w.agent))].sort(), ['local-1', 'local-2', 'local-3']);
});

/** Across processes, by the report's times: every read of round k ends after the write of round k, every write of k+1 starts after each read of k. */
function assertWriterReadersOrder(report: Awaited<ReturnType<typeof readReport>>, rounds: number): void {
  const t = report.timeline;
  for (let round = 1; round <= rounds; round++) {
    const write = t.find((r) => r.name === 'write' && r.round === round)!;
    const reads = t.filter((r) => r.name === 'read' && r.round === round);
    assert.equal(reads.length, 4, `round ${round}: four reads`);
    for (const read of reads) {
      assert.ok(read.start >= write.start + write.durationMs, `round ${round}: read by ${read.worker} before the write`);
      const next = t.find((r) => r.name === 'write' && r.round === round + 1);
      if (next) assert.ok(next.start >= read.start + read.durationMs, `round ${round + 1} written before worker ${read.worker} read round ${round}`);
    }
  }
}

test('--agents 2 runs a staged arrival-rate role: one schedule shared by the agents, the total its stages give', { timeout: 120_000 }, async () => {
  const plan = await planFile(
    'open',
    `
name: open model on agents
target: ${pad.url}
roles:
  load: { maxWorkers: 4, stages: [{ duration: 2s, target: 20/s }, { hold: 3s }, { duration: 2s, target: 0/s }] }
  ramp: { count: 2, stages: [{ duration: 0s, target: 1 }, { hold: 3s }, { duration: 0s, target: 2 }, { hold: 1s }] }
scenario:
  load:
    - request: GET /health
  ramp:
    - sleep: 250ms
`,
  );
  const out = join(dir, 'open-out');
  const run = planrun(['run', plan, '--agents', '2', '--out', out, '--reporter', 'json']);
  assert.equal(await run.ended(), 0, run.stderr());
  const report = await readReport(join(out, 'report.json'));
  assert.equal(report.outcome, 'passed');
  // Roles dealt in turn: load 0…3 → local-1, local-2, local-1, local-2; ramp 4, 5 → local-1, local-2.
  assert.deepEqual(
    report.workers.map((w) => [w.id, w.role, w.agent]),
    [
      [0, 'load', 'local-1'],
      [1, 'load', 'local-2'],
      [2, 'load', 'local-1'],
      [3, 'load', 'local-2'],
      [4, 'ramp', 'local-1'],
      [5, 'ramp', 'local-2'],
    ],
  );
  // 0 → 20/s over 2 s (20), 20/s for 3 s (60), 20/s → 0 over 2 s (20): the schedule has exactly 100 iterations, each
  // run or dropped by exactly one agent (without the split, each agent would run all 100).
  const started = (agent: string) => report.workers.filter((w) => w.role === 'load' && w.agent === agent).reduce((n, w) => n + w.rounds, 0);
  const dropped = report.dropped?.load ?? Number.NaN;
  assert.equal(started('local-1') + started('local-2') + dropped, 100);
  // Each agent holds half the pool, so half the schedule: 50 each (without the split, about 100 each). A drop needs
  // the agent's 2 workers busy when one is due (10/s per agent, GET /health takes ms): rare, but an agent ready
  // late or stalled (a busy machine) drops what fell due meanwhile beyond its 2 workers: a few seconds' worth at most.
  for (const agent of ['local-1', 'local-2']) assert.ok(started(agent) >= 30 && started(agent) <= 50, `${agent} ran ${started(agent)} of its 50`);
  const get = report.steps.find((st) => st.role === 'load')!;
  assert.equal(get.count, started('local-1') + started('local-2'));
  assert.ok(get.scheduledLatency, 'the latency from the scheduled start is kept');
  // One clock for both: every iteration's due time is that of the one-process schedule from the controller's start,
  // iterations 0, 2, 4… on local-1 and 1, 3, 5… on local-2 (the worker of index k mod 4 holds iteration k).
  const schedule = new ArrivalSchedule(compiledLoad(plan, 'load'));
  const due: number[] = [];
  for (let t = schedule.next(); t !== undefined; t = schedule.next()) due.push(t);
  const load = report.timeline.filter((r) => r.role === 'load');
  // Iteration 0 (due at the start, on a free pool) always runs: the earliest due time is the common start.
  const t0 = Math.min(...load.map((r) => r.scheduledStart!));
  for (const r of load) {
    const k = due.findIndex((d) => Math.abs(t0 + d - r.scheduledStart!) < 1);
    assert.ok(k >= 0, `worker ${r.worker}: due ${r.scheduledStart! - t0}ms after the start is not on the schedule`);
    assert.equal(k % 2, r.worker % 2, `iteration ${k} ran on worker ${r.worker}`);
  }
  // The ramp's second worker (index 1, on local-2) starts when the level reaches 2, 3 s after the common start.
  const second = report.timeline.filter((r) => r.worker === 5);
  assert.ok(second.length > 0 && second.every((r) => r.start >= t0 + 2_950), `worker 5 started ${Math.min(...second.map((r) => r.start)) - t0}ms after the start`);
});

test('a long run on agents keeps its coordination log short: what every agent applied is trimmed while it runs', { timeout: 120_000 }, async () => {
  const a = planrun(['agent', '--redis', redis.url, '--id', 'trim-a']);
  const b = planrun(['agent', '--redis', redis.url, '--id', 'trim-b']);
  await Promise.all([a.until(/agent trim-a waiting for runs/), b.until(/agent trim-b waiting for runs/)]);
  const plan = await planFile(
    'trim',
    `
name: meetings for ten seconds
target: ${pad.url}
workers: 4
duration: 10s
barriers: { sync: { parties: all } }
scenario:
  - { name: meet, barrier: sync }
  - sleep: 5ms
`,
  );
  const out = join(dir, 'trim-out');
  const run = planrun(['run', plan, '--redis', redis.url, '--agents', '2', '--out', out, '--reporter', 'json', '--run-id', 'agents-trim']);
  try {
    assert.equal(await run.ended(), 0, run.stderr());
  } finally {
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
  }
  const report = await readReport(join(out, 'report.json'));
  const arrivals = report.steps.find((s) => s.name === 'meet')!;
  assert.equal(arrivals.ok, arrivals.count);
  assert.ok(arrivals.count > 400, `${arrivals.count} arrivals`);
  // Untrimmed, the log holds one entry per arrival; trimmed every 2 s, only about the last few seconds' worth.
  const probe = await connectRedis(redis.url);
  try {
    const left = await probe.xLen('planrun:{agents-trim}:log');
    assert.ok(left < arrivals.count / 2, `${left} of ${arrivals.count} entries left in the log`);
  } finally {
    probe.destroy();
  }
  assert.deepEqual(await Promise.all([a.ended(), b.ended()]), [0, 0]);
});

test("--agents 2: an abortOnFail threshold on the controller's collector stops the agents' workers early (exit 1, the threshold marked)", { timeout: 120_000 }, async () => {
  const out = join(dir, 'threshold-out');
  // 2 workers reading and sleeping 100 ms for 60 s: at most 1200 reads. Every read is a 404 (errors 100%); with
  // onError: continue the sleep still runs after it (a skipped sleep made a tight loop: 700 reads in the second the
  // stop took to reach the agents on a quiet machine).
  const plan = await planFile(
    'threshold',
    `name: failing reads
target: ${pad.url}
duration: 60s
workers: 2
onError: continue
scenario:
  - name: read
    request: GET /nowhere
  - sleep: 100ms
thresholds:
  http:
    - { condition: "errors < 10%", abortOnFail: true }
`,
  );
  const run = planrun(['run', plan, '--agents', '2', '--out', out, '--reporter', 'json']);
  assert.equal(await run.ended(), 1, run.stderr());
  const report = await readReport(join(out, 'report.json'));
  assert.match(report.reason!, /^threshold http `errors < 10%` failed during the run \(actual 100%\), so the run was stopped early$/);
  assert.deepEqual(report.thresholds[0]!.aborted?.actual, 1);
  const read = report.steps.find((s) => s.name === 'read')!;
  assert.ok(read.count >= 10 && read.count < 600, `${read.count} reads: the agents' workers were not stopped early`);
  assert.deepEqual(new Set(report.workers.map((w) => w.agent)), new Set(['local-1', 'local-2']));
});

test('planrun agent serves runs one after another; --redis waits for the agents, bounded', { timeout: 120_000 }, async () => {
  const url = redis.url;
  const plan = await planFile('external', writerReaders(2));
  const early = planrun(['run', plan, '--redis', url, '--agents', '2', '--agents-wait', '1s', '--out', join(dir, 'none-out'), '--reporter', 'json']);
  assert.equal(await early.ended(), 1);
  assert.match(early.stderr(), /planrun run: waited 1s for 2 free agents at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: 0 found \(start them with `planrun agent --redis URL`\)/);
  assert.doesNotMatch(early.stderr(), /agents-test/, 'the password is never printed');
  const interrupted = planrun(['run', plan, '--redis', url, '--agents', '1', '--out', join(dir, 'none-out'), '--reporter', 'json']);
  await interrupted.until(/waiting for 1 agent at /);
  interrupted.child.kill('SIGINT');
  assert.equal(await interrupted.ended(), 130);
  assert.match(interrupted.stderr(), /planrun run: interrupted while waiting for the agents \(0 of 1 found\)\n/);

  const a = planrun(['agent', '--redis', url, '--id', 'ext-a']);
  const b = planrun(['agent', '--redis', url, '--id', 'ext-b']);
  await Promise.all([a.until(/agent ext-a waiting for runs/), b.until(/agent ext-b waiting for runs/)]);
  for (const n of [1, 2]) {
    const out = join(dir, `ext-out-${n}`);
    const run = planrun(['run', plan, '--redis', url, '--agents', '2', '--out', out, '--reporter', 'json']);
    assert.equal(await run.ended(), 0, run.stderr());
    const report = await readReport(join(out, 'report.json'));
    assert.equal(report.outcome, 'passed');
    assert.deepEqual(
      report.workers.map((w) => w.agent),
      ['ext-b', 'ext-a', 'ext-b', 'ext-a', 'ext-a'],
    );
    assert.equal(report.steps.find((s) => s.name === 'same round')?.ok, 8);
  }
  assert.equal(a.stderr().match(/run \S+ passed; waiting for runs/g)?.length, 2, a.stderr());
  a.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
  assert.deepEqual(await Promise.all([a.ended(), b.ended()]), [0, 0]);
  // Gone from Redis as they exit: no controller can claim them any more.
  const probe = await connectRedis(url);
  try {
    assert.deepEqual(await probe.keys('planrun:agent:ext-*'), []);
  } finally {
    probe.destroy();
  }
});

test('agents of another planrun are not claimed: the controller says which and why, times out naming them, and claims one restarted from its planrun', {
  timeout: 90_000,
}, async () => {
  // Heartbeats as an agent from before AGENT_PROTOCOL and one from a later planrun would write them.
  const admin = await connectRedis(redis.url);
  try {
    await admin.set('planrun:agent:old-1', JSON.stringify({ host: 'build-7', pid: 1 }), { PX: 30_000 });
    await admin.set('planrun:agent:next-1', JSON.stringify({ host: 'build-8', pid: 2, protocol: AGENT_PROTOCOL + 1 }), { PX: 30_000 });
    const plan = await planFile('foreign', writerReaders(1));
    const run = planrun(['run', plan, '--redis', redis.url, '--agents', '1', '--agents-wait', '1s', '--out', join(dir, 'foreign-out'), '--reporter', 'json']);
    assert.equal(await run.ended(), 1);
    const old = `agent old-1 on build-7: it runs another version of planrun (agent protocol none, this one speaks ${AGENT_PROTOCOL}); run the same planrun on every machine`;
    const next = `agent next-1 on build-8: it runs another version of planrun (agent protocol ${AGENT_PROTOCOL + 1}, this one speaks ${AGENT_PROTOCOL}); run the same planrun on every machine`;
    const lines = run.stderr().trimEnd().split('\n');
    assert.deepEqual(
      lines.filter((l) => l.includes('not using')),
      [`planrun: not using ${next}`, `planrun: not using ${old}`],
      'each foreign agent is told once, as soon as it is seen',
    );
    assert.match(
      lines.at(-1)!,
      /^planrun run: waited 1s for 1 free agent at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: 0 found \(start them with `planrun agent --redis URL`\); not used: /,
    );
    assert.ok(lines.at(-1)!.endsWith(`; not used: ${next}; not used: ${old}`), lines.at(-1));
    assert.equal(await admin.exists(['planrun:agent:old-1:run', 'planrun:agent:next-1:run']), 0, 'neither was claimed');

    // old-1 restarted from this planrun under the same id while a run waits: it is claimed, and the run goes through.
    const waiting = planrun(['run', plan, '--redis', redis.url, '--agents', '1', '--agents-wait', '30s', '--out', join(dir, 'foreign-out-2'), '--reporter', 'json']);
    await waiting.until(/not using agent old-1/);
    const agent = planrun(['agent', '--redis', redis.url, '--id', 'old-1']);
    assert.equal(await waiting.ended(), 0, waiting.stderr());
    const report = await readReport(join(dir, 'foreign-out-2', 'report.json'));
    assert.deepEqual(new Set(report.workers.map((w) => w.agent)), new Set(['old-1']));
    assert.equal(waiting.stderr().match(/not using agent old-1/g)?.length, 1);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.ended(), 0);
  } finally {
    await admin.del(['planrun:agent:old-1', 'planrun:agent:next-1']);
    admin.destroy();
  }
});

test('an agent killed mid-run: the waits on its workers break at once naming it, the run ends 1 with a complete report', { timeout: 120_000 }, async () => {
  const url = redis.url;
  const plan = await planFile(
    'lost',
    `
name: lost agent
target: ${pad.url}
workers: 2
rounds: 1
waitTimeout: 60s
roles: { writer: { workers: [0] }, reader: { workers: [1] } }
barriers:
  written: { signal: writer, wait: reader }
scenario:
  writer:
    - sleep: 60s
    - signal: written
  reader:
    - wait: written
`,
  );
  const a = planrun(['agent', '--redis', url, '--id', 'lost-a']);
  const b = planrun(['agent', '--redis', url, '--id', 'lost-b']);
  await Promise.all([a.until(/waiting for runs/), b.until(/waiting for runs/)]);
  const out = join(dir, 'lost-out');
  const run = planrun(['run', plan, '--redis', url, '--agents', '2', '--out', out, '--reporter', 'json']);
  await a.until(/run \S+, workers 0/);
  const killedAt = Date.now();
  a.child.kill('SIGKILL');
  assert.equal(await run.ended(), 1, run.stderr());
  const took = Date.now() - killedAt;
  assert.ok(took < 20_000, `the controller ended ${took}ms after the kill`);
  const report = await readReport(join(out, 'report.json'));
  assert.equal(report.outcome, 'failed');
  assert.match(report.reason ?? '', /agent lost-a lost: no heartbeat for 5s/);
  assert.deepEqual(
    report.workers.map((w) => [w.id, w.outcome, w.agent]),
    [
      [0, 'aborted', 'lost-a'],
      [1, 'done', 'lost-b'],
    ],
  );
  const wait = report.timeline.find((r) => r.worker === 1);
  assert.equal(wait?.outcome, 'failed');
  assert.equal(wait?.error?.message, 'barrier "written" broken in round 1: worker 0 (writer) failed at step "(agent lost)" in round 1: agent lost-a lost: no heartbeat for 5s');
  // The surviving agent is free again for the next run.
  await b.until(/run \S+ failed; waiting for runs/);
  b.child.kill('SIGTERM');
  assert.equal(await b.ended(), 0);
});

test("Ctrl-C on the controller stops the agents' workers and writes the partial report (exit 130)", { timeout: 120_000 }, async () => {
  const plan = await planFile(
    'ctrlc',
    `
name: long
target: ${pad.url}
workers: 2
duration: 5m
scenario:
  - request: GET /health
  - sleep: 50ms
`,
  );
  const out = join(dir, 'ctrlc-out');
  const run = planrun(['run', plan, '--agents', '2', '--out', out, '--reporter', 'json,plain']);
  // Both agents' workers ran rounds: their events reached the controller's plain reporter.
  await Promise.all([run.until(/worker 0 \(\w+\) round 2\b/), run.until(/worker 1 \(\w+\) round 2\b/)]);
  run.child.kill('SIGINT');
  assert.equal(await run.ended(), 130, run.stderr());
  const report = await readReport(join(out, 'report.json'));
  assert.equal(report.outcome, 'aborted');
  assert.deepEqual(
    report.workers.map((w) => [w.outcome, w.agent]),
    [
      ['aborted', 'local-1'],
      ['aborted', 'local-2'],
    ],
  );
  assert.ok(report.steps[0]!.count > 0);
});

const sleeper = () => `
name: sleeper
target: ${pad.url}
workers: 1
rounds: 1
scenario:
  - sleep: 60s
`;

test("the controller killed: its agent stops that run's workers within seconds and waits for the next run", { timeout: 120_000 }, async () => {
  const a = planrun(['agent', '--redis', redis.url, '--id', 'orphan-a']);
  await a.until(/waiting for runs/);
  const run = planrun(['run', await planFile('orphan', sleeper()), '--redis', redis.url, '--agents', '1', '--out', join(dir, 'orphan-out'), '--reporter', 'json']);
  await a.until(/run \S+, workers 0/);
  const killedAt = Date.now();
  run.child.kill('SIGKILL');
  await a.until(/the controller of run \S+ is gone \(no heartbeat for 5s\): stopping its workers\n[\s\S]*run \S+ aborted; waiting for runs/);
  const took = Date.now() - killedAt;
  assert.ok(took < 15_000, `the agent stopped ${took}ms after the controller died`);
  a.child.kill('SIGTERM');
  assert.equal(await a.ended(), 0);
});

test('Redis gone mid-run: the controller ends within bounded time with the reason and writes what it received', { timeout: 120_000 }, async () => {
  const own = await startRedisServer();
  const a = planrun(['agent', '--redis', own.url, '--id', 'gone-a']);
  await a.until(/waiting for runs/);
  const out = join(dir, 'gone-out');
  const run = planrun(['run', await planFile('gone', sleeper()), '--redis', own.url, '--agents', '1', '--out', out, '--reporter', 'json']);
  await a.until(/run \S+, workers 0/);
  const stoppedAt = Date.now();
  await own.stop();
  assert.equal(await run.ended(), 1, run.stderr());
  const took = Date.now() - stoppedAt;
  assert.ok(took < 30_000, `the controller ended ${took}ms after Redis went away`);
  const report = await readReport(join(out, 'report.json'));
  assert.equal(report.outcome, 'failed');
  // One message whichever of the controller's connections sees the refused reconnection first.
  assert.match(
    report.reason ?? '',
    /^lost the connection to the agents' Redis at redis:\/\/127\.0\.0\.1:(\d+)\/? \(connect ECONNREFUSED 127\.0\.0\.1:\1\): the run stopped, and the report keeps what the agents had sent before$/,
  );
  await a.until(/agent gone-a: .*Redis.*; retrying every 1s/);
  a.child.kill('SIGTERM');
  assert.equal(await a.ended(), 0);
});

test("the plan's services start once, on the controller, never on the agents", { timeout: 120_000 }, async () => {
  const marker = join(dir, 'service-starts.txt');
  const plan = await planFile(
    'services',
    `
name: services on the controller
target: ${pad.url}
workers: 2
rounds: 1
services:
  - name: marker
    command: "echo started >> '${marker}' && echo ready-now && sleep 60"
    ready: { log: ready-now }
scenario:
  - request: GET /health
`,
  );
  const out = join(dir, 'services-out');
  const run = planrun(['run', plan, '--agents', '2', '--out', out, '--reporter', 'json']);
  assert.equal(await run.ended(), 0, run.stderr());
  assert.equal(await readFile(marker, 'utf8'), 'started\n');
  const report = await readReport(join(out, 'report.json'));
  assert.deepEqual(
    report.services.map((s) => s.name),
    ['marker'],
  );
  assert.deepEqual(
    report.workers.map((w) => w.agent),
    ['local-1', 'local-2'],
  );
});
