// Plans built to break the loader (huge values, deep nesting, long lines): each
// must end as a located PlanError with an exact, short message, never another
// exception. Inputs are generated here because they are too large for fixtures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkGraph } from '../../src/graph/check.js';
import { compileGraph } from '../../src/graph/graph.js';
import { formatPlanError } from '../../src/plan/format.js';
import { PlanError, type PlanIssue } from '../../src/plan/issues.js';
import { parsePlan } from '../../src/plan/load.js';
import { MAX_WORKERS } from '../../src/plan/roles.js';
import { planSchema } from '../../src/plan/schema.js';
import { summarizePlan } from '../../src/plan/describe-plan.js';

function issuesOf(text: string): PlanIssue[] {
  try {
    parsePlan(text, 'mem.yml', { env: {} });
  } catch (err) {
    if (err instanceof PlanError) return err.issues;
    throw err;
  }
  return assert.fail('the plan loaded without errors');
}

const located = (issues: PlanIssue[]) => issues.map((i) => `${i.line}:${i.col} ${i.message}${i.hint ? ` | hint: ${i.hint}` : ''}`);

test('a code frame shows a window of a long line around the column, with … where it was cut', () => {
  const text = `name: x\nscenario:\n  - set: { a: "${'x'.repeat(10_000)}{{ nope }}${'y'.repeat(10_000)}" }\n`;
  const err = (() => {
    try {
      parsePlan(text, 'mem.yml');
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof PlanError);
  const frame = formatPlanError(err, { sources: { 'mem.yml': text } }).split('\n');
  assert.equal(frame[0], 'mem.yml:3:10019: error: scenario[0].set.a: bad template: unknown name `nope`; use one of worker, round, run, vars, captures, shared, env, data');
  assert.equal(frame[1], '  2 | scenario:');
  assert.equal(frame[2], `> 3 | …${'x'.repeat(37)}{{ nope }}${'y'.repeat(113)}…`);
  assert.equal(frame[3], `    | ${' '.repeat(41)}^`);
  assert.ok(frame.every((l) => l.length < 200));
});

test('a long value quoted in a message keeps its start and end and says how long it was', () => {
  const name = `k${'a'.repeat(500)}z`;
  assert.deepEqual(located(issuesOf(`name: x\nscenario:\n  - set: { a: "{{ vars.${name} }}" }\n`)), [
    `3:19 scenario[0].set.a: unknown variable \`vars.k${'a'.repeat(54)}…${'a'.repeat(18)}z\` (507 characters) | hint: declare it under \`vars:\` or set it with a \`set:\` step`,
  ]);
});

test('the schema caps workers, role counts and worker ids at MAX_WORKERS', () => {
  const schema = planSchema() as {
    properties: { workers: { maximum: number } };
    definitions: { Role: { properties: { count: { maximum: number }; workers: { items: { maximum: number } } } } };
  };
  assert.equal(schema.properties.workers.maximum, MAX_WORKERS);
  assert.equal(schema.definitions.Role.properties.count.maximum, MAX_WORKERS);
  assert.equal(schema.definitions.Role.properties.workers.items.maximum, MAX_WORKERS - 1);
});

const blockNest = (levels: number) => {
  let text = 'name: x\nvars:\n';
  for (let i = 0; i < levels; i++) text += `${'  '.repeat(i + 1)}k${i}:\n`;
  return `${text}${'  '.repeat(levels + 1)}v: 1\n`;
};

test('maps nested deeper than 100 levels: located at the first map too deep', () => {
  // The root map is level 1, vars level 2: k98's value is level 101.
  assert.deepEqual(located(issuesOf(blockNest(150))), ['102:201 the plan nests maps and lists too deeply: at most 100 levels']);
  // 100 levels are fine (vars then fails the schema, not the nesting check).
  assert.ok(!issuesOf(blockNest(98)).some((i) => /nests/.test(i.message)));
});

test('nesting 5000 deep (block or flow) is the same error, where the YAML parser gave up', () => {
  for (const text of [blockNest(5000), `name: x\nvars: { a: ${'['.repeat(5000)}${']'.repeat(5000)} }\n`]) {
    const issues = issuesOf(text);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.message, 'the plan nests maps and lists too deeply: at most 100 levels');
    assert.ok(issues[0]!.line > 1);
  }
});

function barrierPlan(n: number): string {
  const lines = ['name: many barriers', 'roles:', '  a: { count: 1 }', '  b: { count: 1 }', 'barriers:'];
  for (let i = 0; i < n; i++) lines.push(`  e${i}: { signal: a, wait: b }`);
  lines.push('scenario:', '  a:', ...Array.from({ length: n }, (_, i) => `    - signal: e${i}`), '  b:', ...Array.from({ length: n }, (_, i) => `    - wait: e${i}`));
  return `${lines.join('\n')}\n`;
}

test('10x the events take about 10x the time to validate, not 100x (10,000 took 41 s)', () => {
  const time = (text: string) => {
    const started = performance.now();
    const plan = parsePlan(text, 'mem.yml');
    // Validation is what `planrun validate` does: load, then check the graph for deadlocks.
    assert.deepEqual(checkGraph(compileGraph(plan)), []);
    return { ms: performance.now() - started, barriers: plan.barriers.size };
  };
  const small = barrierPlan(1000);
  time(small); // warm-up
  const one = time(small);
  const ten = time(barrierPlan(10_000));
  assert.equal(ten.barriers, 10_000);
  // Linear is 10; the quadratic code measured about 80. The margin absorbs a busy machine.
  assert.ok(ten.ms / one.ms < 40, `1k: ${one.ms.toFixed(0)} ms, 10k: ${ten.ms.toFixed(0)} ms`);
});

test('a key twice in a map with thousands of keys is found, at the second one', () => {
  const keys = Array.from({ length: 5000 }, (_, i) => `  v${i}: ${i}`);
  keys.push('  v17: again');
  assert.deepEqual(located(issuesOf(`name: x\nvars:\n${keys.join('\n')}\n`)), ['5003:3 duplicate key `v17`: a key appears once in a map | hint: remove or rename one of them']);
});

test('a long key in a path is shortened too', () => {
  const key = `k ${'b'.repeat(3000)}`;
  assert.deepEqual(located(issuesOf(`name: x\nscenario:\n  - set:\n      ? "${key}"\n      : "{{ nope }}"\n`)), [
    `5:13 scenario[0].set["k ${'b'.repeat(58)}…${'b'.repeat(19)}"]: bad template: unknown name \`nope\`; use one of worker, round, run, vars, captures, shared, env, data`,
  ]);
});

test('workers without a role are named up to ten, then counted', () => {
  assert.deepEqual(located(issuesOf('name: x\nworkers: 100000\nroles:\n  a: { count: 1 }\nscenario:\n  a: []\n')), [
    '2:10 the roles take 1 of 100000 workers; workers 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, … (99999 in all) have no role | hint: make the counts add up to `workers`, or give one role `rest: true`',
  ]);
});

test('a plan with thousands of errors prints the first 50 with their frames and counts the rest', () => {
  const text = `name: x\nscenario:\n${Array.from({ length: 2000 }, (_, i) => `  - wait: nope${i}`).join('\n')}\n`;
  let err: unknown;
  try {
    parsePlan(text, 'mem.yml');
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof PlanError);
  assert.equal(err.issues.length, 2000);
  const out = formatPlanError(err, { sources: { 'mem.yml': text } });
  assert.equal(out.match(/^mem\.yml:\d+:\d+: error: /gm)?.length, 50);
  assert.ok(out.endsWith('\n\n… and 1950 more\n\n2000 errors in mem.yml'), out.slice(-200));
});

test('the summary of a plan with 200,000 steps in one role is printed (Math.max(...steps) overflowed the stack)', () => {
  const plan = parsePlan('name: x\nscenario:\n  - sleep: 1ms\n', 'mem.yml');
  const step = plan.scenarios.get('worker')![0]!;
  plan.scenarios.set(
    'worker',
    Array.from({ length: 200_000 }, (_, i) => ({ ...step, id: `worker/${i}` })),
  );
  const lines = summarizePlan(plan, 'mem.yml').split('\n');
  assert.equal(lines.at(-1), '    worker/199999  sleep   sleep 1ms');
  assert.equal(lines.at(-200_000), '    worker/0       sleep   sleep 1ms');
});
