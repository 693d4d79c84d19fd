// The execution graph: lanes per worker, step nodes and sync nodes per round
// produced lazily, edges across roles; and `planrun graph` as users run it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileGraph, type GraphEdge } from '../src/graph/graph.js';
import { flattenSteps, pointInRound } from '../src/graph/points.js';
import { loadPlan, parsePlan } from '../src/plan/load.js';

const edgeText = (e: GraphEdge) => `${e.from} -${e.kind}${e.barrier ? `:${e.barrier}` : ''}-> ${e.to}`;

test('etherpad: one lane per worker with its role steps; edges of round 1 and 2', { timeout: 10_000 }, async () => {
  const graph = compileGraph(await loadPlan('test/fixtures/plan/good/etherpad-seed.yml'));
  assert.deepEqual(graph.lanes.map((l) => `${l.worker}:${l.role}#${l.index}`), ['0:reader#0', '1:reader#1', '2:reader#2', '3:reader#3', '4:writer#0']);
  assert.equal(graph.rounds, 3);
  const writer = graph.lanes[4]!;
  assert.deepEqual([...graph.roundNodes(writer, 2)].map((n) => `${n.id} ${n.point.step.kind} ${n.runs}`), [
    'w4.r2.writer/0 wait always',
    'w4.r2.writer/1 browser always',
    'w4.r2.writer/2 browser always',
    'w4.r2.writer/3 signal always',
  ]);
  assert.deepEqual([...graph.syncNodes(1)].map((n) => n.id), ['event:written@1', 'event:read@1']);

  const round1 = [...graph.edges(1)].filter((e) => e.kind !== 'next').map(edgeText);
  assert.deepEqual(round1, [
    'event:written@1 -release:written-> w0.r1.reader/1',
    'w0.r1.reader/3 -signal:read-> event:read@1',
    'event:written@1 -release:written-> w1.r1.reader/1',
    'w1.r1.reader/3 -signal:read-> event:read@1',
    'event:written@1 -release:written-> w2.r1.reader/1',
    'w2.r1.reader/3 -signal:read-> event:read@1',
    'event:written@1 -release:written-> w3.r1.reader/1',
    'w3.r1.reader/3 -signal:read-> event:read@1',
    // no release for the writer's previous-round wait in round 1: it passes at once
    'w4.r1.writer/3 -signal:written-> event:written@1',
  ]);
  const round2 = [...graph.edges(2)].map(edgeText);
  assert.ok(round2.includes('event:read@1 -release:read-> w4.r2.writer/0'), 'round 2 waits for the reads of round 1');
  assert.ok(round2.includes('w4.r1.writer/3 -next-> w4.r2.writer/0'), 'a lane runs its rounds in order');
  assert.ok(round2.includes('w0.r2.reader/0 -next-> w0.r2.reader/1'));
  assert.equal(round2.length, 5 * 4 + 4 + 4 + 1 + 1, 'next edges (4 per lane, one from round 1), reader releases and signals, writer release and signal');
});

test('rounds unroll lazily: a duration run gives round 10^9 without building the ones before', { timeout: 10_000 }, () => {
  const plan = parsePlan(
    `name: long
duration: 8h
workers: 2000
scenario:
  - request: GET http://127.0.0.1:1/x
  - sleep: 10ms
`,
    'long.yml',
  );
  const graph = compileGraph(plan);
  assert.equal(graph.rounds, undefined);
  assert.equal(graph.lanes.length, 2000);
  const before = process.memoryUsage().heapUsed;
  const nodes = [...graph.roundNodes(graph.lanes[1999]!, 1e9)];
  assert.deepEqual(nodes.map((n) => n.id), ['w1999.r1000000000.worker/0', 'w1999.r1000000000.worker/1']);
  const first = graph.edges(1e9).next().value as GraphEdge;
  assert.equal(edgeText(first), 'w0.r999999999.worker/1 -next-> w0.r1000000000.worker/0');
  assert.ok(process.memoryUsage().heapUsed - before < 5e6, 'no round is materialised');
});

test('groups and loops open in place; conditions on the round and static loop counts are known per round', { timeout: 10_000 }, () => {
  const plan = parsePlan(
    `name: nested
rounds: 3
roles:
  a: { count: 2 }
  b: { count: 1 }
barriers:
  sync: { parties: [a, b] }
  tick: { signal: a, wait: b, count: 6 }
scenario:
  a:
    - group:
        - sleep: 1ms
        - loop:
            times: 3
            steps:
              - signal: tick
    - barrier: sync
      if: round > 1
  b:
    - wait: tick
    - barrier: sync
      if: round > 1
`,
    'nested.yml',
  );
  const graph = compileGraph(plan);
  const a = graph.tracks[0]!;
  assert.deepEqual(a.points.map((p) => `${'  '.repeat(p.depth)}${p.step.id} ${p.step.kind}`), ['a/0 group', '  a/0.0 sleep', '  a/0.1 loop', '    a/0.1.0 signal', 'a/1 barrier']);
  assert.deepEqual(pointInRound(a.points[3]!, 1), { runs: 'always', times: 3 });
  assert.deepEqual(pointInRound(a.points[4]!, 1), { runs: 'never', times: 0 });
  assert.deepEqual(pointInRound(a.points[4]!, 2), { runs: 'always', times: 1 });
  const meeting = [...graph.edges(2)].filter((e) => e.barrier === 'sync').map(edgeText);
  assert.deepEqual(meeting, [
    'w0.r2.a/1 -arrive:sync-> meeting:sync@2',
    'meeting:sync@2 -release:sync-> w0.r2.a/1',
    'w1.r2.a/1 -arrive:sync-> meeting:sync@2',
    'meeting:sync@2 -release:sync-> w1.r2.a/1',
    'w2.r2.b/1 -arrive:sync-> meeting:sync@2',
    'meeting:sync@2 -release:sync-> w2.r2.b/1',
  ]);
  // `if:` on anything but the round, and loops counted at run time, are "maybe".
  const dyn = flattenSteps(
    parsePlan('name: d\nvars: { n: 2 }\nscenario:\n  - loop:\n      times: "{{ vars.n }}"\n      steps:\n        - sleep: 1ms\n  - sleep: 1ms\n    if: vars.n > 1\n', 'd.yml').scenarios.get('worker')!,
  );
  assert.deepEqual(dyn.map((p) => pointInRound(p, 1)), [
    { runs: 'always', times: 1 },
    { runs: 'maybe', times: Infinity },
    { runs: 'maybe', times: 1 },
  ]);
});

function planrun(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('planrun graph prints rounds 1 and 2 per role, with who waits for whom', { timeout: 30_000 }, () => {
  const r = planrun('graph', 'test/fixtures/plan/good/etherpad-seed.yml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(
    r.stdout,
    `Etherpad — one writer, four readers: 5 workers in 2 roles, 3 rounds

round 1
  writer [4]
    writer/0  ⏸ wait read (previous round: none in round 1, passes at once)
    writer/1  browser open pad
    writer/2  browser write round
    writer/3  → signal written (reader[0-3] wait for it in round 1)
  reader [0-3]
    reader/0  browser open pad
    reader/1  ⏸ wait written (needs 1 of writer[4], round 1)
    reader/2  expect  see round
    reader/3  → signal read (writer[4] waits for it in round 2)
  who waits for whom
    reader[0-3] waits for writer[4]: "written" (1 signal of round 1)

round 2
  writer [4]
    writer/0  ⏸ wait read (needs 4 of reader[0-3], round 1)
    writer/1  browser open pad
    writer/2  browser write round
    writer/3  → signal written (reader[0-3] wait for it in round 2)
  reader [0-3]
    reader/0  browser open pad
    reader/1  ⏸ wait written (needs 1 of writer[4], round 2)
    reader/2  expect  see round
    reader/3  → signal read (writer[4] waits for it in round 3)
  who waits for whom
    writer[4] waits for reader[0-3]: "read" (4 signals of round 1)
    reader[0-3] waits for writer[4]: "written" (1 signal of round 2)

round 3: like round 2
`,
  );
  const last = planrun('graph', 'test/fixtures/plan/good/etherpad-seed.yml', '--round', '3');
  assert.equal(last.code, 0, last.stderr);
  assert.match(last.stdout, /^round 3$/m);
  assert.match(last.stdout, /reader\/3 {2}→ signal read \(writer\[4\] waits for it in a later round \(none: this is the last\)\)/);
  assert.doesNotMatch(last.stdout, /^round [12]$/m);
});

test('planrun graph --format mermaid: a subgraph per role, signal → wait edges labelled with barrier and scope', { timeout: 30_000 }, () => {
  const r = planrun('graph', 'test/fixtures/plan/good/etherpad-seed.yml', '--format', 'mermaid');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    `flowchart TB
  subgraph role_writer["writer [4]"]
    direction TB
    s_writer_0{{"⏸ wait read"}}
    s_writer_1["open pad"]
    s_writer_2["write round"]
    s_writer_3>"→ signal written"]
    s_writer_0 --> s_writer_1
    s_writer_1 --> s_writer_2
    s_writer_2 --> s_writer_3
  end
  subgraph role_reader["reader [0-3]"]
    direction TB
    s_reader_0["open pad"]
    s_reader_1{{"⏸ wait written"}}
    s_reader_2["see round"]
    s_reader_3>"→ signal read"]
    s_reader_0 --> s_reader_1
    s_reader_1 --> s_reader_2
    s_reader_2 --> s_reader_3
  end
  s_reader_3 -.->|"read · previous round · 4 needed"| s_writer_0
  s_writer_3 -->|"written · round · 1 needed"| s_reader_1
`,
  );
  // In round 1 the previous-round edge does not exist.
  const first = planrun('graph', 'test/fixtures/plan/good/etherpad-seed.yml', '--format', 'mermaid', '--round', '1');
  assert.doesNotMatch(first.stdout, /s_reader_3 -\.->/);
  assert.match(first.stdout, /s_writer_3 -->\|"written · round 1 · 1 needed"\| s_reader_1/);
});

test('a deadlocking plan: validate exits 2 naming the cycle; graph still draws it and exits 2', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'planrun-graph-'));
  const file = join(dir, 'cycle.yml');
  writeFileSync(
    file,
    `name: cycle
roles:
  writer: { count: 1 }
  reader: { count: 2 }
barriers:
  written: { signal: writer, wait: reader }
  read: { signal: reader, wait: writer }
scenario:
  writer:
    - wait: read
    - signal: written
  reader:
    - wait: written
    - signal: read
`,
  );
  const v = planrun('validate', file);
  assert.equal(v.code, 2);
  assert.equal(v.stdout, '');
  assert.ok(
    v.stderr.startsWith(
      `${file}:10:7: error: deadlock in round 1: writer waits for "read" (line 10), which reader signals only after waiting for "written" (line 13), which writer signals only after waiting for "read" (line 10)`,
    ),
    v.stderr,
  );
  assert.match(v.stderr, /hint: break the cycle: signal before waiting in one of these roles, or wait with `scope: previous-round` for one of "read", "written"/);
  const g = planrun('graph', file);
  assert.equal(g.code, 2);
  assert.match(g.stdout, /writer\/0 {2}⏸ wait read \(needs 2 of reader\[1-2\], round 1\)/);
  assert.match(g.stderr, /error: deadlock in round 1: writer waits for "read"/);
});

test('planrun graph usage errors exit 2', { timeout: 30_000 }, () => {
  assert.match(planrun('graph', 'test/fixtures/plan/good/etherpad-seed.yml', '--format', 'dot').stderr, /--format is text or mermaid, not `dot`/);
  const late = planrun('graph', 'test/fixtures/plan/good/etherpad-seed.yml', '--round', '4');
  assert.equal(late.code, 2);
  assert.match(late.stderr, /--round 4: the plan has 3 rounds/);
  assert.equal(planrun('graph').code, 2);
});
