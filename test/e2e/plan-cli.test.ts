// The CLI as users run it: `planrun validate`, `planrun schema`, help, version,
// exit codes. Runs src/cli/main.ts through tsx in a child process.
import { CLI_NODE_ARGS } from '../helpers/cli-entry.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { planrunSync } from '../helpers/cli-helpers.js';

const planrun = (...args: string[]) => planrunSync(args);

test('validate prints roles with worker ids, barriers with signalers and waiters, steps per role; exit 0', () => {
  const r = planrun('validate', 'test/fixtures/plan/good/etherpad-seed.yml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    `✓ test/fixtures/plan/good/etherpad-seed.yml: Etherpad — one writer, four readers
  5 workers, 3 rounds, target http://127.0.0.1:9001/

roles
  writer  worker 4
  reader  workers 0-3

barriers
  written  event, scope round: signalers writer [4] → waiters reader [0-3], 1 signal needed
  read     event, scope previous-round: signalers reader [0-3] → waiters writer [4], 4 signals needed

steps
  writer (4 steps)
    writer/0  wait    wait read
    writer/1  browser open pad
    writer/2  browser write round
    writer/3  signal  signal written
  reader (4 steps)
    reader/0  browser open pad
    reader/1  wait    wait written
    reader/2  expect  see round
    reader/3  signal  signal read
`,
  );
});

test('validate on an invalid plan prints every error with a code frame; exit 2', () => {
  const r = planrun('validate', 'test/fixtures/plan/bad/sem-worker-ids.yml');
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^test\/fixtures\/plan\/bad\/sem-worker-ids\.yml:6:26: error: roles\.writer\.workers\[1\]: worker id 5 is out of range/m);
  assert.match(r.stderr, /^> 6 \| {3}writer: \{ workers: \[0, 5\] \}\n {4}\| {26}\^$/m);
  assert.match(r.stderr, /:7:23: error: roles\.reader\.workers\[0\]: worker 0 is already in role `writer`/);
  assert.match(r.stderr, /2 errors in test\/fixtures\/plan\/bad\/sem-worker-ids\.yml\n$/);
});

test('--var overrides a plan variable (and satisfies a required env var)', () => {
  assert.equal(planrun('validate', 'test/fixtures/plan/bad/sem-env-required.yml').code, 2);
  const r = planrun('validate', 'test/fixtures/plan/bad/sem-env-required.yml', '--var', 'token=abc');
  assert.equal(r.code, 0, r.stderr);
  const bad = planrun('validate', 'test/fixtures/plan/good/etherpad-seed.yml', '--var', 'novalue');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--var expects NAME=VALUE, got `novalue`/);
});

test('schema prints the JSON Schema', () => {
  const r = planrun('schema');
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout), JSON.parse(readFileSync('schemas/plan.schema.json', 'utf8')));
});

test('--version, --help, unknown command, no arguments', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  assert.deepEqual(planrun('--version'), { code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  const help = planrun('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^ {2}validate {2,}Check a plan/m);
  assert.match(help.stdout, /^ {2}schema {2,}Print the JSON Schema/m);
  assert.match(help.stdout, /Exit codes: 0 passed, 1 run failed, 2 invalid plan or usage, 130 interrupted\./);
  const unknown = planrun('frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^planrun: unknown command `frobnicate`\n\nplanrun /);
  assert.equal(planrun().code, 2);
  const usage = planrun('validate', '--help');
  assert.equal(usage.code, 0);
  assert.match(usage.stdout, /^Usage: planrun validate <plan.yml>/);
  assert.equal(planrun('validate').code, 2);
});

test('plan errors follow the one colour policy: FORCE_COLOR colours a pipe, NO_COLOR wins, --no-color too', () => {
  const { NO_COLOR: _nc, FORCE_COLOR: _fc, ...base } = process.env;
  const run = (env: NodeJS.ProcessEnv, ...flags: string[]) => {
    const r = spawnSync(process.execPath, [...CLI_NODE_ARGS, 'validate', ...flags, 'test/fixtures/plan/bad/schema-enum.yml'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...base, ...env },
    });
    assert.equal(r.status, 2, r.stderr);
    return /\x1b\[31;1merror\x1b\[39;22m/.test(r.stderr);
  };
  assert.deepEqual([run({ FORCE_COLOR: '1' }), run({ FORCE_COLOR: '1', NO_COLOR: '1' }), run({ FORCE_COLOR: '1' }, '--no-color'), run({})], [true, false, false, false]);
});
