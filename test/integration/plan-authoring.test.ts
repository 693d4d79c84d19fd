// Authoring fixes: what a plan may write and what it then does at run time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkGraph } from '../../src/graph/check.js';
import { compileGraph } from '../../src/graph/graph.js';
import { PlanError } from '../../src/plan/issues.js';
import { parsePlan } from '../../src/plan/load.js';
import { named, runYaml } from '../helpers/run-helpers.js';

test('sleep takes a template, rendered when the step runs; one that gives no duration fails the step with what it gave', async () => {
  const run = await runYaml(
    [
      'name: templated sleep',
      'rounds: 3',
      'onError: continue',
      'scenario:',
      '  - { name: nap, sleep: "{{ 40 * round }}ms" }',
      '  - { name: bad, sleep: "{{ round }} seconds" }',
    ].join('\n'),
  );
  const naps = named(run.results, 'nap');
  assert.deepEqual(
    naps.map((r) => r.outcome),
    ['ok', 'ok', 'ok'],
  );
  for (const [i, r] of naps.entries()) assert.ok(r.durationMs >= 40 * (i + 1) - 1 && r.durationMs < 40 * (i + 1) + 200, `round ${i + 1}: ${r.durationMs}ms`);
  assert.deepEqual(
    named(run.results, 'bad').map((r) => [r.outcome, r.error?.message]),
    [1, 2, 3].map((n) => ['failed', `sleep: \`{{ round }} seconds\` gave \`${n} seconds\`, not a duration like 500ms, 10s, 2m`]),
  );
});

test('a sleep that is neither a duration nor a template is refused at load; a bad template at its column', () => {
  const issues = (sleep: string) => {
    try {
      parsePlan(`name: s\nscenario:\n  - sleep: ${sleep}\n`, 's.yml');
    } catch (e) {
      if (e instanceof PlanError) return e.issues.map((i) => `${i.line}:${i.col} ${i.message}`);
      throw e;
    }
    return [];
  };
  assert.deepEqual(issues('soon'), ['3:12 scenario[0].sleep must be a duration like 500ms, 10s, 2m, or a `{{ }}` template giving one']);
  assert.deepEqual(issues('"{{ 1 + }}ms"'), ['3:20 scenario[0].sleep: bad template: Expected expression after +']);
});

test('a signal skipped by its condition: the load warning says the wait fails at once, and at run time it does, saying the step was skipped', async () => {
  const text = [
    'name: conditional signal',
    'vars: { go: false }',
    'waitTimeout: 20s',
    'roles: { w: { count: 1 }, r: { count: 1 } }',
    'barriers: { x: { signal: w, wait: r } }',
    'scenario:',
    '  w:',
    '    - { signal: x, if: vars.go }',
    '  r:',
    '    - wait: x',
  ].join('\n');
  const warnings = checkGraph(compileGraph(parsePlan(text, 'c.yml'))).map((i) => `${i.line}:${i.col} ${i.message}`);
  assert.deepEqual(warnings, [
    '10:7 may fail in round 1: r waits for "x" (line 10), which w signals only under a condition (line 8); when the condition is false, the wait fails at once (broken barrier)',
  ]);
  const run = await runYaml(text);
  const wait = named(run.results, 'wait x')[0]!;
  assert.deepEqual(
    [wait.outcome, wait.error?.code, wait.error?.message],
    ['failed', 'broken-barrier', 'barrier "x" broken in round 1: worker 0 (w) skipped step "signal x" in round 1: its condition was false'],
  );
  assert.ok(wait.durationMs < 1000, `waited ${wait.durationMs}ms`);
});
