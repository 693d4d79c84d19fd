// loadPlan on valid plans: what the compiled model contains.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { checkGraph } from '../../src/graph/check.js';
import { compileGraph } from '../../src/graph/graph.js';
import { PlanError } from '../../src/plan/issues.js';
import { loadPlan, parsePlan } from '../../src/plan/load.js';
import { summarizePlan } from '../../src/plan/describe-plan.js';
import type { CompiledPlan, StepSpec, TemplateScope } from '../../src/contract/plan.js';

const scope = (over: Partial<TemplateScope> = {}): TemplateScope => ({
  worker: { id: 0, role: 'writer', index: 0 },
  round: 1,
  run: { id: 'run1' },
  vars: {},
  captures: {},
  shared: {},
  env: {},
  ...over,
});
const flat = (steps: StepSpec[]): StepSpec[] => steps.flatMap((s) => [s, ...(s.kind === 'group' || s.kind === 'loop' ? flat(s.steps) : [])]);
const summary = (plan: CompiledPlan, role: string) => flat(plan.scenarios.get(role)!).map((s) => `${s.id} ${s.kind} ${s.name}`);

test('test/fixtures/plan/good/etherpad-seed.yml compiles to roles, barriers and steps', async () => {
  const plan = await loadPlan('test/fixtures/plan/good/etherpad-seed.yml');
  assert.equal(plan.file, resolve('test/fixtures/plan/good/etherpad-seed.yml'));
  assert.equal(plan.workers, 5);
  assert.equal(plan.rounds, 3);
  assert.equal(plan.target?.href, 'http://127.0.0.1:9001/');
  assert.deepEqual(plan.roles, [
    { name: 'writer', workers: [4] },
    { name: 'reader', workers: [0, 1, 2, 3] },
  ]);
  assert.deepEqual(plan.workerRoles, ['reader', 'reader', 'reader', 'reader', 'writer']);
  const written = plan.barriers.get('written');
  assert.ok(written?.kind === 'event');
  assert.deepEqual([written.signalers, written.waiters, written.count, written.scope, written.timeoutMs], [[4], [0, 1, 2, 3], 1, 'round', 60_000]);
  const read = plan.barriers.get('read');
  assert.ok(read?.kind === 'event');
  assert.deepEqual([read.signalers, read.waiters, read.count, read.scope], [[0, 1, 2, 3], [4], 4, 'previous-round']);
  assert.deepEqual(summary(plan, 'writer'), ['writer/0 wait wait read', 'writer/1 browser open pad', 'writer/2 browser write round', 'writer/3 signal signal written']);
  assert.deepEqual(summary(plan, 'reader'), ['reader/0 browser open pad', 'reader/1 wait wait written', 'reader/2 expect see round', 'reader/3 signal signal read']);
  const goto = plan.scenarios.get('writer')![1]!;
  assert.ok(goto.kind === 'browser' && goto.browser.action === 'goto');
  assert.equal(goto.browser.url.render(scope()), '/p/planrun-run1');
  assert.deepEqual(goto.loc, { file: 'test/fixtures/plan/good/etherpad-seed.yml', line: 19, col: 7 });
  const see = plan.scenarios.get('reader')![2]!;
  assert.ok(see.kind === 'expect' && see.expect.on === 'page');
  assert.equal(see.expect.withinMs, 10_000);
  assert.deepEqual(plan.thresholds, []);
  assert.equal(plan.onError, 'skip-round');
  assert.equal(plan.stepTimeoutMs, 30_000);
});

test('every part of the format compiles (fixtures/plan/good/everything.yml)', async () => {
  const file = 'test/fixtures/plan/good/everything.yml';
  const plan = await loadPlan(file, { env: { PLANRUN_FIXTURE_TOKEN: 'secret' }, vars: { limit: '5', debug: 'true', extra: 'x' } });
  assert.deepEqual(plan.vars, { user: 'alice', limit: 5, debug: true, home: '/nowhere', token: 'secret', extra: 'x' });
  assert.equal(plan.workers, 6);
  assert.equal(plan.rounds, undefined);
  assert.equal(plan.durationMs, 90_000);
  assert.equal(plan.rampUpMs, 2000);
  assert.deepEqual(plan.think, { minMs: 100, maxMs: 500 });
  assert.equal(plan.stepTimeoutMs, 5000);
  assert.equal(plan.waitTimeoutMs, 120_000);
  assert.equal(plan.onError, 'continue');
  assert.deepEqual(plan.roles, [
    { name: 'admin', workers: [5] },
    { name: 'writer', workers: [0, 1] },
    { name: 'reader', workers: [2, 3, 4] },
  ]);
  assert.deepEqual(plan.workerRoles, ['writer', 'writer', 'reader', 'reader', 'reader', 'admin']);
  const written = plan.barriers.get('written')!;
  assert.ok(written.kind === 'event');
  assert.deepEqual([written.waitRoles, written.waiters, written.count, written.scope, written.timeoutMs], [['reader', 'admin'], [2, 3, 4, 5], 2, 'previous-round', 3000]);
  const meet = plan.barriers.get('meet')!;
  assert.ok(meet.kind === 'meeting');
  assert.deepEqual([meet.partyRoles, meet.parties, meet.timeoutMs], [['admin', 'writer', 'reader'], [0, 1, 2, 3, 4, 5], 120_000]);

  assert.deepEqual(summary(plan, 'writer'), [
    'writer/0 request login',
    'writer/1 request PUT /p/{{ captures.id }}?by={{ worker.i…',
    'writer/2 signal signal written',
    'writer/4 barrier barrier meet',
    'writer/5 group ui',
    'writer/5.0 browser browser goto /p/{{ captures.id }}',
    'writer/5.1 browser browser fill #name',
    'writer/5.3 browser browser press Enter',
    'writer/6 loop loop {{ vars.limit }}×',
    'writer/6.0 set set last',
    'writer/6.1 sleep sleep 10ms',
    'writer/7 loop loop over 2 items',
    'writer/7.0 set share seen',
    'writer/8 capture capture title, link',
    'writer/9 expect expect text hello {{ vars.last }}',
    'writer/10 expect expect value {{ captures.title }}, is',
    'writer/11 sleep sleep 1s',
  ]);
  assert.deepEqual(summary(plan, 'reader').slice(0, 3), ['reader/0 request login', 'reader/3 wait wait written', 'reader/4 barrier barrier meet']);
  assert.ok(summary(plan, 'reader').includes('reader/5.2 browser browser waitFor #done visible'));
  assert.deepEqual(summary(plan, 'admin').slice(0, 2), ['admin/0 request login', 'admin/3 wait wait written']);

  const [login, put] = plan.scenarios.get('writer')!;
  assert.ok(login?.kind === 'request');
  const r = login.request;
  assert.equal(r.method, 'POST');
  assert.equal(r.url.render(scope()), '/login');
  assert.ok(r.body.type === 'json');
  assert.deepEqual(r.body.value.render(scope({ worker: { id: 4, role: 'writer', index: 1 }, vars: { user: 'bob' } })), { user: 'bob', n: 4 });
  assert.deepEqual(
    r.captures.map((c) => c.from),
    ['header', 'regex'],
  );
  const rx = r.captures[1]!;
  assert.ok(rx.from === 'regex' && rx.group === 1 && rx.regex.source === 'id=(\\d+)');
  assert.equal(r.expect.status?.(201), true);
  assert.equal(r.expect.status?.(204), false);
  assert.deepEqual(
    r.expect.headers.map((h) => [h.name, h.matcher]),
    [['content-type', { contains: 'json' }]],
  );
  assert.deepEqual(r.expect.body, { contains: 'ok' });
  assert.deepEqual(r.expect.json, [{ path: '$.ok', matcher: { equals: true } }]);
  assert.equal(r.expect.maxDurationMs, 800);
  assert.equal(r.redirectHeaders, 'keep');
  assert.ok(put?.kind === 'request');
  assert.equal(put.request.method, 'PUT');
  assert.equal(put.request.redirectHeaders, undefined);
  assert.deepEqual(plan.http.redirectHeaders, ['x-user']);
  assert.equal(put.request.url.render(scope({ captures: { id: 9 }, worker: { id: 1, role: 'writer', index: 1 } })), '/p/9?by=1');

  const wait = plan.scenarios.get('reader')!.find((s) => s.kind === 'wait')!;
  assert.equal(wait.timeoutMs, 10_000);
  const cond = plan.scenarios.get('writer')!.at(-1)!;
  assert.equal(cond.if?.render(scope({ round: 1 })), false);
  assert.equal(cond.if?.render(scope({ round: 2 })), true);
  const loop = plan.scenarios.get('writer')!.find((s) => s.kind === 'loop')!;
  assert.ok(loop.kind === 'loop');
  assert.equal(loop.as, 'k');
  assert.equal(loop.times?.render(scope({ vars: { limit: 5 } })), 5);

  assert.deepEqual(plan.services, [
    {
      name: 'app',
      command: 'node server.js',
      cwd: resolve('test/fixtures/plan/app'),
      env: { PORT: '8080', DEBUG: 'true' },
      readyUrl: 'http://127.0.0.1:8080/health',
      readyLog: /listening on \d+/,
      timeoutMs: 20_000,
      loc: { file, line: 12, col: 5 },
    },
  ]);
  assert.deepEqual(plan.browser, { headless: false, args: ['--no-sandbox'], viewport: { width: 800, height: 600 } });
  assert.equal(plan.http.maxRedirects, 2);
  assert.equal(plan.http.connections, 6);
  assert.equal(plan.http.headers['X-User']?.render(scope({ vars: { user: 'zoe' } })), 'zoe');
  assert.deepEqual(
    plan.thresholds.map((t) => [t.selector, t.stat, t.op, t.value]),
    [
      ['http', 'p95', '<', 500],
      ['http', 'errors', '<', 0.01],
      ['http', 'max', '<=', 2000],
      ['step.login', 'count', '>=', 10],
      ['step.login', 'p99', '<', 1],
      ['barrier.written.wait', 'p50', '==', 250],
      ['steps', 'rate', '>', 2.5],
      ['steps', 'errors', '==', 0.05],
    ],
  );
  assert.deepEqual(plan.reports, { out: 'out/dir', reporters: ['json', 'junit'] });
});

test('without roles every worker has the role `worker`; a map scenario needs no role filter', () => {
  const plan = parsePlan('name: x\nworkers: 3\nscenario:\n  - sleep: 5\n  - sleep: 1m\n', 'mem.yml');
  assert.deepEqual(plan.roles, [{ name: 'worker', workers: [0, 1, 2] }]);
  assert.deepEqual(plan.workerRoles, ['worker', 'worker', 'worker']);
  assert.deepEqual(summary(plan, 'worker'), ['worker/0 sleep sleep 5ms', 'worker/1 sleep sleep 1m']);
  assert.equal(plan.rounds, 1);
});

test('without `workers`, the plan has as many workers as its roles take', () => {
  const plan = parsePlan('name: x\nroles:\n  a: { count: 2 }\n  b: { workers: [0] }\nscenario: { a: [], b: [] }\n', 'mem.yml');
  assert.equal(plan.workers, 3);
  assert.deepEqual(plan.roles, [
    { name: 'a', workers: [1, 2] },
    { name: 'b', workers: [0] },
  ]);
  assert.deepEqual(plan.workerRoles, ['b', 'a', 'a']);
  // An explicit id beyond the counts leaves a hole, which is an error.
  assert.throws(() => parsePlan('name: x\nroles:\n  a: { count: 1 }\n  b: { workers: [3] }\n', 'mem.yml'), /the roles take 2 of 4 workers; workers 1, 2 have no role/);
});

test('a required env var can come from --var; every error of a plan is reported at once in file order', () => {
  const text = 'name: x\nvars:\n  t: { env: PLANRUN_T }\nworkers: 0\nonError: nope\n';
  assert.doesNotThrow(() => parsePlan('name: x\nvars:\n  t: { env: PLANRUN_T }\n', 'mem.yml', { env: {}, vars: { t: 'v' } }));
  const err = (() => {
    try {
      parsePlan(text, 'mem.yml', { env: {} });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof PlanError);
  assert.deepEqual(
    err.issues.map((i) => [i.line, i.col]),
    // The unset env var (semantic) comes out with the schema errors of workers and onError.
    [
      [3, 13],
      [4, 10],
      [5, 10],
    ],
  );
});

test('loadPlan reads the file it is given and names it in locations', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'planrun-load-'));
  const file = join(dir, 'p.yml');
  writeFileSync(file, 'name: tmp\nscenario:\n  - sleep: 1s\n');
  const plan = await loadPlan(file);
  assert.equal(plan.file, file);
  assert.deepEqual(plan.scenarios.get('worker')![0]!.loc, { file, line: 3, col: 5 });
});

test('every example plan in plans/ loads without errors', async () => {
  const files = readdirSync('plans').filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.length >= 4, `example plans: ${files.join(', ')}`);
  for (const f of files) {
    const plan = await loadPlan(join('plans', f));
    assert.ok(plan.name.length > 0, f);
    assert.deepEqual(checkGraph(compileGraph(plan)), [], `${f} has no deadlock or possible hang`);
    assert.match(
      readFileSync(join('plans', f), 'utf8').split('\n')[0]!,
      /^# yaml-language-server: \$schema=\.\.\/schemas\/plan\.schema\.json$/,
      `${f} starts with the schema line`,
    );
  }
});

test('templates see only the environment variables they name, read at load time', () => {
  const text = [
    'name: env',
    'target: http://127.0.0.1:1',
    'vars: { home: "{{ env.HOME_X }}" }',
    'scenario:',
    '  - request: "GET /{{ env[\'PATH_X\'] }}/{{ env.UNSET_X }}"',
    'crawl: { start: [/], headers: { x-user: "{{ env.USER_X }}" } }',
  ].join('\n');
  const env = { HOME_X: '/h', PATH_X: '/p', USER_X: 'u', OTHER_X: 'leak' };
  // A --var value is a template too (workers render vars), so it is checked like one.
  assert.throws(
    () => parsePlan(text, 'mem.yml', { env, vars: { home: '{{ json(env) }}' } }),
    (e: unknown) => e instanceof PlanError && /vars\.home: bad template: `env` cannot be read as a whole/.test(e.issues[0]!.message),
  );
  const plan = parsePlan(text, 'mem.yml', { env });
  // Unset names are absent (they render as ''); the others never reach a template scope.
  assert.deepEqual(plan.env, { HOME_X: '/h', PATH_X: '/p', USER_X: 'u' });
  assert.equal(plan.crawl!.headers['x-user']!.renderString(scope({ env: plan.env })), 'u');
});

test('the values of secret vars, --var overrides included, are what the redactor starts from', () => {
  const text = [
    'name: secrets',
    'vars:',
    '  token: { env: TOKEN_X, secret: true }',
    '  pin: { env: PIN_X, default: 12345, secret: true }',
    '  user: { env: USER_X }',
    'redact: { headers: [X-Session], query: [sig] }',
  ].join('\n');
  const plan = parsePlan(text, 'mem.yml', { env: { TOKEN_X: 'from-env', USER_X: 'ada' } });
  assert.deepEqual(plan.redact, { secrets: ['from-env', '12345'], headers: ['X-Session'], query: ['sig'] });
  const overridden = parsePlan(text, 'mem.yml', { env: { USER_X: 'ada' }, vars: { token: 'from-flag', user: 'bob' } });
  assert.deepEqual(overridden.redact.secrets, ['from-flag', '12345']);
});

test('vars are compiled at load: workers render varsTemplate, and a bad template in an env default is refused at its line', () => {
  const plan = parsePlan(['name: vars', 'vars:', '  pad: "p-{{ run.id }}"', '  cfg: { env: CFG_X, default: { n: 3, who: "{{ worker.id }}" } }'].join('\n'), 'mem.yml', { env: {} });
  assert.deepEqual(plan.varsTemplate.render(scope({ worker: { id: 2, role: 'writer', index: 2 } })), { pad: 'p-run1', cfg: { n: 3, who: 2 } });
  assert.throws(
    () => parsePlan(['name: vars', 'vars:', '  cfg: { env: CFG_X, default: { a: "{{ 1 + }}" } }'].join('\n'), 'mem.yml', { env: {} }),
    (e: unknown) => e instanceof PlanError && e.message === 'mem.yml:3:44: error: vars.cfg.default.a: bad template: Expected expression after +',
  );
});

test('a template in http.headers names an env variable the templates may read', () => {
  const plan = parsePlan(['name: env in headers', 'http: { headers: { authorization: "Bearer {{ env.TOKEN_X }}" } }'].join('\n'), 'mem.yml', { env: { TOKEN_X: 't-1' } });
  assert.deepEqual(plan.env, { TOKEN_X: 't-1' });
  assert.equal(plan.http.headers.authorization!.renderString(scope({ env: plan.env })), 'Bearer t-1');
});

test("setup and teardown compile to their own step lists (ids setup/…, teardown/…); their names and captures count like a role's", async () => {
  const plan = parsePlan(
    `name: once\ntarget: http://127.0.0.1:1\nworkers: 2
setup:
  - name: log in
    request: { method: POST, url: /login, capture: { token: { json: token } } }
  - group:
      - share: { token: "{{ captures.token }}" }
scenario:
  - request: { url: /me, headers: { authorization: "Bearer {{ shared.token }}" } }
teardown:
  - name: log out
    request: { method: POST, url: /logout }
thresholds:
  step.log in: ["errors < 1"]
`,
    join(tmpdir(), 'once.yml'),
  );
  assert.deepEqual(
    flat(plan.setup).map((s) => `${s.id} ${s.kind} ${s.name}`),
    ['setup/0 request log in', 'setup/1 group group', 'setup/1.0 set share token'],
  );
  assert.deepEqual(
    flat(plan.teardown).map((s) => `${s.id} ${s.kind} ${s.name}`),
    ['teardown/0 request log out'],
  );
  assert.deepEqual(summary(plan, 'worker'), ['worker/0 request GET /me']);
  // Not part of any role's steps, so not of the execution graph.
  assert.deepEqual(
    compileGraph(plan).tracks.map((t) => t.role),
    ['worker'],
  );
});

test('thresholds in the object form: abortOnFail with its grace in ms, located like the string form, and told by the summary', () => {
  const plan = parsePlan(
    `name: t
target: http://127.0.0.1:1
duration: 1m
scenario:
  - request: GET /
thresholds:
  http:
    - "p99 < 2s"
    - { condition: "errors < 5%", abortOnFail: true }
    - { condition: "p95 < 500ms", abortOnFail: true, grace: 30s }
    - { condition: "count <= 1000" }
`,
    'mem.yml',
  );
  assert.deepEqual(
    plan.thresholds.map((t) => [t.source, t.stat, t.op, t.value, t.abortOnFail, `${t.loc.line}:${t.loc.col}`]),
    [
      ['p99 < 2s', 'p99', '<', 2000, undefined, '8:7'],
      ['errors < 5%', 'errors', '<', 0.05, { graceMs: 0 }, '9:20'],
      ['p95 < 500ms', 'p95', '<', 500, { graceMs: 30_000 }, '10:20'],
      ['count <= 1000', 'count', '<=', 1000, undefined, '11:20'],
    ],
  );
  assert.deepEqual(summarizePlan(plan, 'mem.yml').split('\n').slice(-4), [
    '  http: p99 < 2s',
    '  http: errors < 5%, stops the run when it fails',
    '  http: p95 < 500ms, stops the run when it fails after 30000 ms of load',
    '  http: count <= 1000',
  ]);
});
