// The static deadlock check: each case is a small plan written inline, with the
// exact message and position the check must report (or none).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { checkGraph } from '../../src/graph/check.js';
import { checkDeadlocks } from '../../src/graph/deadlock.js';
import { compileGraph } from '../../src/graph/graph.js';
import { PlanError, type PlanIssue } from '../../src/plan/issues.js';
import { loadPlan, parsePlan } from '../../src/plan/load.js';

/** The issues of the deadlock check alone (the loader's own checks must pass). */
function deadlocks(text: string): Array<Pick<PlanIssue, 'line' | 'col' | 'severity' | 'message'>> {
  return checkDeadlocks(compileGraph(parsePlan(text, 't.yml'))).map(({ line, col, severity, message }) => ({ line, col, severity, message }));
}

/** A plan loaded and checked the way the CLI does it: its warnings, or a PlanError. */
const checked = (text: string, file: string) => checkGraph(compileGraph(parsePlan(text, file)));

// A frozen copy of the first flagship plan, so plans/etherpad.yml can evolve without moving these positions.
const seed = readFileSync('test/fixtures/plan/good/etherpad-seed.yml', 'utf8');

test('the seed plan (writer waits "read" of the previous round, readers wait "written") has no deadlock', { timeout: 10_000 }, async () => {
  const plan = await loadPlan('test/fixtures/plan/good/etherpad-seed.yml');
  assert.deepEqual(checkDeadlocks(compileGraph(plan)), []);
});

test('the seed with `read` scoped to the round is a cycle across roles, named step by step', { timeout: 10_000 }, () => {
  const text = seed.replace('scope: previous-round', 'scope: round');
  assert.deepEqual(deadlocks(text), [
    {
      line: 18,
      col: 7,
      severity: 'error',
      message:
        'deadlock in round 1: writer waits for "read" (line 18), which reader signals only after waiting for "written" (line 27), which writer signals only after waiting for "read" (line 18)',
    },
  ]);
  // The loader does not play the plan forward; the check on its graph refuses it with a PlanError, like every other plan error.
  assert.equal(parsePlan(text, 't.yml').name, 'Etherpad — one writer, four readers');
  assert.throws(
    () => checked(text, 'test/fixtures/plan/good/etherpad-seed.yml'),
    (err: unknown) => err instanceof PlanError && err.issues.length === 1 && err.issues[0]!.line === 18,
  );
});

test('a previous-round wait in round 1 passes at once, also with one round and a role that signals itself', { timeout: 10_000 }, () => {
  const own = (scope: string, rounds: number) => `name: t
rounds: ${rounds}
roles:
  a: { count: 2 }
barriers:
  x: { signal: a, wait: a, scope: ${scope} }
scenario:
  a:
    - wait: x
    - signal: x
`;
  assert.deepEqual(deadlocks(own('previous-round', 1)), []);
  assert.deepEqual(deadlocks(own('previous-round', 5)), []);
  assert.deepEqual(deadlocks(own('round', 2)), [
    { line: 9, col: 7, severity: 'error', message: 'deadlock in round 1: a waits for "x" (line 9), which a itself signals only later (line 10)' },
  ]);
});

test('a wait skipped in round 1 by `if: round > 1` still deadlocks in round 2', { timeout: 10_000 }, () => {
  const text = `name: t
rounds: 3
roles:
  writer: { count: 1 }
  reader: { count: 2 }
barriers:
  written: { signal: writer, wait: reader }
  read: { signal: reader, wait: writer }
scenario:
  writer:
    - wait: read
      if: round > 1
    - signal: written
  reader:
    - wait: written
    - signal: read
`;
  assert.deepEqual(deadlocks(text), [
    {
      line: 11,
      col: 7,
      severity: 'error',
      message:
        'deadlock in round 2: writer waits for "read" (line 11), which reader signals only after waiting for "written" (line 15), which writer signals only after waiting for "read" (line 11)',
    },
  ]);
  // With rounds: 1 the guarded wait never runs: no deadlock.
  assert.deepEqual(deadlocks(text.replace('rounds: 3', 'rounds: 1')), []);
});

test('a count larger than the signals a round can get is an error at the barrier', { timeout: 10_000 }, () => {
  const text = (count: number, loop = false) => `name: t
roles:
  w: { count: 1 }
  r: { count: 4 }
barriers:
  done: { signal: r, wait: w, count: ${count} }
scenario:
  w:
    - wait: done
  r:
${loop ? '    - loop:\n        times: 2\n        steps:\n          - signal: done\n' : '    - signal: done\n'}`;
  assert.deepEqual(deadlocks(text(4)), []);
  assert.deepEqual(deadlocks(text(5)), [
    {
      line: 6,
      col: 3,
      severity: 'error',
      message: 'barriers.done: count 5 is larger than the 4 signals "done" can get in a round from its signalers r[1-4], so every wait for it would time out',
    },
  ]);
  // A loop with a static count signals once per iteration: 4 workers × 2.
  assert.deepEqual(deadlocks(text(8, true)), []);
  assert.equal(
    deadlocks(text(9, true))[0]?.message,
    'barriers.done: count 9 is larger than the 8 signals "done" can get in a round from its signalers r[1-4], so every wait for it would time out',
  );
  assert.throws(() => checked(text(5), 't.yml'), PlanError);
});

test('scope run counts the signals of every round', { timeout: 10_000 }, () => {
  const text = (count: number) => `name: t
rounds: 3
roles:
  w: { count: 1 }
  r: { count: 4 }
barriers:
  x: { signal: r, wait: w, scope: run, count: ${count} }
scenario:
  w:
    - wait: x
  r:
    - signal: x
`;
  assert.deepEqual(deadlocks(text(12)), []);
  assert.deepEqual(deadlocks(text(13)), [
    {
      line: 7,
      col: 3,
      severity: 'error',
      message: 'barriers.x: count 13 is larger than the 12 signals "x" can get in the whole run (3 rounds) from its signalers r[1-4], so every wait for it would time out',
    },
  ]);
});

test('waiting on an event nobody signals: the loader names the missing step; a loop of 0 times is caught here', { timeout: 10_000 }, () => {
  const text = (signal: string) => `name: t
roles:
  w: { count: 1 }
  r: { count: 2 }
barriers:
  go: { signal: w, wait: r }
scenario:
  w:
${signal}
  r:
    - wait: go
`;
  assert.throws(
    () => parsePlan(text('    - sleep: 1ms'), 't.yml'),
    (err: unknown) => err instanceof PlanError && /nobody signals `go`/.test(err.message),
  );
  assert.deepEqual(deadlocks(text('    - loop: { times: 0, steps: [ { signal: go } ] }')), [
    { line: 11, col: 7, severity: 'error', message: 'r waits for "go" (line 11), which nobody signals: `w` has no `signal: go` step that runs in round 1' },
  ]);
});

test('a meeting barrier a party never reaches in a round, and two meetings in opposite orders', { timeout: 10_000 }, () => {
  const skipped = `name: t
rounds: 2
roles:
  w: { count: 1 }
  r: { count: 2 }
barriers:
  sync: { parties: [w, r] }
scenario:
  w:
    - barrier: sync
  r:
    - barrier: sync
      if: round > 1
`;
  assert.deepEqual(deadlocks(skipped), [
    {
      line: 10,
      col: 7,
      severity: 'error',
      message: 'deadlock in round 1: w waits at barrier "sync" (line 10) for r, which never arrives there: r has no `barrier: sync` step that runs in round 1',
    },
  ]);
  const crossed = `name: t
roles:
  a: { count: 1 }
  b: { count: 1 }
barriers:
  m1: { parties: [a, b] }
  m2: { parties: [a, b] }
scenario:
  a:
    - barrier: m1
    - barrier: m2
  b:
    - barrier: m2
    - barrier: m1
`;
  assert.deepEqual(deadlocks(crossed), [
    {
      line: 10,
      col: 7,
      severity: 'error',
      message:
        'deadlock in round 1: a waits at barrier "m1" (line 10) for b, which arrives there only after waiting at barrier "m2" (line 13) for a, which arrives there only after waiting at barrier "m1" (line 10)',
    },
  ]);
  assert.deepEqual(deadlocks(crossed.replace(/ {4}- barrier: m2\n {4}- barrier: m1\n$/, '    - barrier: m1\n    - barrier: m2\n')), []);
});

test('conditions known only at run time: a wait whose only signals are conditional is a warning, not an error', { timeout: 10_000 }, () => {
  const text = readFileSync('test/fixtures/plan/good/maybe-hang.yml', 'utf8');
  assert.deepEqual(deadlocks(text), [
    {
      line: 13,
      col: 7,
      severity: 'warning',
      message:
        'may fail in round 1: r waits for "x" (line 13), which w signals only under a condition (line 10); when the condition is false, the wait fails at once (broken barrier)',
    },
  ]);
  // Warnings are returned, not thrown.
  assert.deepEqual(
    checked(text, 'maybe-hang.yml').map((i) => `${i.line}:${i.col} ${i.severity}`),
    ['13:7 warning'],
  );
  // A cycle closed only when a conditional wait runs is a possible deadlock (warning).
  const seedIf = seed
    .replace('scope: previous-round', 'scope: round')
    .replace('    - wait: read\n', '    - wait: read\n      if: vars.strict\n')
    .replace('roles:', 'vars: { strict: false }\nroles:');
  assert.deepEqual(deadlocks(seedIf), [
    {
      line: 19,
      col: 7,
      severity: 'warning',
      message:
        'possible deadlock in round 1, depending on `if:` conditions or loop counts: writer waits for "read" (line 19), which reader signals only after waiting for "written" (line 29), which writer signals only after waiting for "read" (line 19)',
    },
  ]);
});

test('a loop whose count is known only at run time makes no count error, only a warning', { timeout: 10_000 }, () => {
  const text = `name: t
vars: { n: 3 }
roles:
  w: { count: 1 }
  r: { count: 2 }
barriers:
  x: { signal: r, wait: w, count: 6 }
scenario:
  w:
    - wait: x
  r:
    - loop:
        times: "{{ vars.n }}"
        steps:
          - signal: x
`;
  // It may run 0 times, so the wait may hang (a warning), but it may also signal 6 times: no error.
  assert.deepEqual(deadlocks(text), [
    {
      line: 10,
      col: 7,
      severity: 'warning',
      message:
        'hang in round 1: w waits for "x" (line 10), which r signals only in a loop whose count is known at run time (line 15); when it is skipped, the wait runs into its timeout',
    },
  ]);
});

test("a role on a schedule runs as many iterations as its schedule allows: its scope-run signals are not capped by the plan's rounds", { timeout: 10_000 }, () => {
  // One round for the closed role `watcher`; the `load` pool of 2 signals `warm` on every iteration, so a count of 5 is reachable.
  const text = `name: t
roles:
  load: { count: 2, stages: [{ duration: 2s, target: 2 }] }
  watcher: { count: 1 }
barriers:
  warm: { signal: load, wait: watcher, scope: run, count: 5 }
scenario:
  load:
    - signal: warm
  watcher:
    - wait: warm
`;
  assert.deepEqual(deadlocks(text), []);
  // The same plan with a closed `load` role of one round is refused: 2 signals can never make 5.
  assert.deepEqual(
    deadlocks(text.replace(', stages: [{ duration: 2s, target: 2 }]', '')).map((i) => i.message),
    ['barriers.warm: count 5 is larger than the 2 signals "warm" can get in the whole run (1 round) from its signalers load[0-1], so every wait for it would time out'],
  );
});
