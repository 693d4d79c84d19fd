// The execution graph: one track per role, one lane per worker over its role's
// track, rounds not unrolled; and `planrun graph` as users run it.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileGraph, sourceRound } from '../../src/graph/graph.js';
import { flattenSteps, pointInRound } from '../../src/graph/points.js';
import { loadPlan, parsePlan } from '../../src/plan/load.js';
import type { EventBarrier } from '../../src/contract/plan.js';
import { planrunSync } from '../helpers/cli-helpers.js';

test('etherpad: a track per role, a lane per worker on the track of its role; what each wait needs, per round', { timeout: 10_000 }, async () => {
  const graph = compileGraph(await loadPlan('test/fixtures/plan/good/etherpad-seed.yml'));
  assert.deepEqual(
    graph.lanes.map((l) => `${l.worker}:${l.role}#${l.index}`),
    ['0:reader#0', '1:reader#1', '2:reader#2', '3:reader#3', '4:writer#0'],
  );
  assert.equal(graph.rounds, 3);
  assert.deepEqual(
    graph.tracks.map((t) => `${t.role}[${t.workers.join(',')}] ${t.points.map((p) => p.step.kind).join(' ')}`),
    ['writer[4] wait browser browser signal', 'reader[0,1,2,3] browser wait expect signal'],
  );
  assert.ok(
    graph.lanes.every((l) => l.track === graph.tracks.find((t) => t.role === l.role)),
    'the workers of a role share its track',
  );
  const read = graph.plan.barriers.get('read') as EventBarrier;
  const written = graph.plan.barriers.get('written') as EventBarrier;
  // The writer's previous-round wait needs nothing in round 1, then the reads of the round before.
  assert.deepEqual(
    [1, 2, 3].map((r) => sourceRound(read, r)),
    [0, 1, 2],
  );
  assert.deepEqual(
    [1, 2, 3].map((r) => sourceRound(written, r)),
    [1, 2, 3],
  );
});

test('rounds are not unrolled: a duration run of 2000 workers is 2000 lanes over one track, known in round 10^9', { timeout: 10_000 }, () => {
  const plan = parsePlan(
    `name: long
duration: 8h
workers: 2000
scenario:
  - request: GET http://127.0.0.1:1/x
  - sleep: 10ms
    if: round > 1
`,
    'long.yml',
  );
  const graph = compileGraph(plan);
  assert.equal(graph.rounds, undefined);
  assert.equal(graph.lanes.length, 2000);
  assert.equal(graph.tracks.length, 1);
  assert.equal(graph.lanes[1999]!.track, graph.tracks[0]);
  assert.deepEqual(
    graph.tracks[0]!.points.map((p) => pointInRound(p, 1e9).runs),
    ['always', 'always'],
  );
  assert.deepEqual(
    graph.tracks[0]!.points.map((p) => pointInRound(p, 1).runs),
    ['always', 'never'],
  );
});

test('the loader does not reach into graph/: no file of src/plan imports src/graph', () => {
  const upward = readdirSync('src/plan')
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => /from '\.\.\/graph\//.test(readFileSync(join('src/plan', f), 'utf8')));
  assert.deepEqual(upward, []);
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
  assert.deepEqual(
    a.points.map((p) => `${'  '.repeat(p.depth)}${p.step.id} ${p.step.kind}`),
    ['a/0 group', '  a/0.0 sleep', '  a/0.1 loop', '    a/0.1.0 signal', 'a/1 barrier'],
  );
  assert.deepEqual(pointInRound(a.points[3]!, 1), { runs: 'always', times: 3 });
  assert.deepEqual(pointInRound(a.points[4]!, 1), { runs: 'never', times: 0 });
  assert.deepEqual(pointInRound(a.points[4]!, 2), { runs: 'always', times: 1 });
  // `if:` on anything but the round, and loops counted at run time, are "maybe".
  const dyn = flattenSteps(
    parsePlan(
      'name: d\nvars: { n: 2 }\nscenario:\n  - loop:\n      times: "{{ vars.n }}"\n      steps:\n        - sleep: 1ms\n  - sleep: 1ms\n    if: vars.n > 1\n',
      'd.yml',
    ).scenarios.get('worker')!,
  );
  assert.deepEqual(
    dyn.map((p) => pointInRound(p, 1)),
    [
      { runs: 'always', times: 1 },
      { runs: 'maybe', times: Infinity },
      { runs: 'maybe', times: 1 },
    ],
  );
});

const planrun = (...args: string[]) => planrunSync(args);

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

test('a plan that may hang: graph draws it, prints the warning with its frame, exits 0', { timeout: 30_000 }, () => {
  const file = 'test/fixtures/plan/good/maybe-hang.yml';
  const r = planrun('graph', file);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^maybe hang: 3 workers in 2 roles, 1 round$/m);
  assert.equal(
    r.stderr,
    `${file}:13:7: warning: may fail in round 1: r waits for "x" (line 13), which w signals only under a condition (line 10); when the condition is false, the wait fails at once (broken barrier)
  12 |   r:
> 13 |     - wait: x
     |       ^
`,
  );
});

test('planrun graph usage errors exit 2', { timeout: 30_000 }, () => {
  assert.match(planrun('graph', 'test/fixtures/plan/good/etherpad-seed.yml', '--format', 'dot').stderr, /--format is text or mermaid, not `dot`/);
  const late = planrun('graph', 'test/fixtures/plan/good/etherpad-seed.yml', '--round', '4');
  assert.equal(late.code, 2);
  assert.match(late.stderr, /--round 4: the plan has 3 rounds/);
  assert.equal(planrun('graph').code, 2);
});
