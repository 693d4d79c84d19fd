// Test data from files (`data:`): CSV and JSON loading, located errors, and
// real runs against a recording server that count which rows each pick mode
// hands out (sequence once across workers, wrap, stop-worker, fail, per worker,
// seeded random), plus plans/data-users.yml against the pad server.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { PlanError } from '../../src/plan/issues.js';
import { parsePlan } from '../../src/plan/load.js';
import type { CompiledPlan } from '../../src/contract/plan.js';
import { summarizePlan } from '../../src/plan/describe-plan.js';
import type { RunEvent } from '../../src/contract/events.js';
import { runPlan, type RunOptions } from '../../src/runtime/run.js';
import { readBody, startServer, type TestServer } from '../helpers/http-helpers.js';
import { startPad, type Pad } from '../helpers/run-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'planrun-data-'));
const file = (name: string, text: string) => writeFileSync(join(dir, name), text);
const load = (yaml: string): CompiledPlan => parsePlan(yaml, join(dir, 'plan.yml'));
const issuesOf = (yaml: string): string[] => {
  try {
    load(yaml);
  } catch (err) {
    if (err instanceof PlanError) return err.issues.map((i) => `${i.line}:${i.col} ${i.message}${i.hint ? ` | hint: ${i.hint}` : ''}`);
    throw err;
  }
  return [];
};
const rowsOf = (plan: CompiledPlan, name: string) => {
  const { table } = plan.data.find((d) => d.name === name)!;
  return Array.from({ length: table.size }, (_, i) => table.row(i));
};

file('users.csv', 'username,password,email\nu1,p1,u1@x\nu2,p2,u2@x\nu3,p3,u3@x\nu4,p4,u4@x\nu5,p5,u5@x\nu6,p6,u6@x\nu7,p7,u7@x\n');

test('CSV: header, RFC 4180 quoting (delimiter, doubled quote, line break inside quotes), BOM, CRLF, blank lines skipped', () => {
  file('quoted.csv', '\uFEFFname,note\r\n"Lovelace, Ada","said ""hi"""\r\n\r\nplain,"two\nlines"\r\n');
  const plan = load('name: t\ndata:\n  people: { file: quoted.csv }\n');
  assert.deepEqual(plan.data[0]!.table.columns, ['name', 'note']);
  assert.deepEqual(rowsOf(plan, 'people'), [
    { name: 'Lovelace, Ada', note: 'said "hi"' },
    { name: 'plain', note: 'two\nlines' },
  ]);
  assert.deepEqual({ pick: plan.data[0]!.pick, every: plan.data[0]!.every, atEnd: plan.data[0]!.atEnd }, { pick: 'sequence', every: 'round', atEnd: 'wrap' }, 'the defaults');
});

test('CSV: columns named in the plan, without a header or replacing it; another delimiter', () => {
  file('bare.csv', 'a;1\nb;2\n');
  const bare = load('name: t\ndata:\n  kv: { file: bare.csv, header: false, columns: [key, value], delimiter: ";" }\n');
  assert.deepEqual(rowsOf(bare, 'kv'), [
    { key: 'a', value: '1' },
    { key: 'b', value: '2' },
  ]);
  const renamed = load('name: t\ndata:\n  users: { file: users.csv, columns: [login, secret, mail] }\n');
  assert.deepEqual(rowsOf(renamed, 'users')[6], { login: 'u7', secret: 'p7', mail: 'u7@x' });
});

test('CSV rows across the table blocks come back whole and in order', () => {
  file('many.csv', `n,sq\n${Array.from({ length: 2500 }, (_, i) => `${i},${i * i}`).join('\n')}\n`);
  const plan = load('name: t\ndata:\n  many: { file: many.csv }\n');
  const { table } = plan.data[0]!;
  assert.equal(table.size, 2500);
  for (const i of [0, 1, 1023, 1024, 1025, 2047, 2048, 2499]) assert.deepEqual(table.row(i), { n: String(i), sq: String(i * i) });
});

test('JSON: an array of objects (columns are their keys) or of plain values', () => {
  file(
    'items.json',
    JSON.stringify([
      { sku: 'a', qty: 1 },
      { sku: 'b', tags: ['x'] },
    ]),
  );
  file('tokens.json', JSON.stringify(['t1', 't2']));
  const plan = load('name: t\ndata:\n  items: { file: items.json }\n  tokens: { file: tokens.json }\nscenario:\n  - set: { a: "{{ data.items.tags }}", b: "{{ data.tokens }}" }\n');
  assert.deepEqual(plan.data[0]!.table.columns, ['sku', 'qty', 'tags']);
  assert.deepEqual(rowsOf(plan, 'items'), [
    { sku: 'a', qty: 1 },
    { sku: 'b', tags: ['x'] },
  ]);
  assert.deepEqual(rowsOf(plan, 'tokens'), ['t1', 't2']);
  assert.equal(plan.data[1]!.table.columns, undefined);
});

test('planrun validate lists the data sets with their rows, columns and pick, and the seed', () => {
  file('tokens.json', JSON.stringify(['t1', 't2']));
  const plan = load('name: t\nseed: 5\ndata:\n  users: { file: users.csv, atEnd: fail }\n  tokens: { file: tokens.json, pick: random, every: worker }\n');
  const text = summarizePlan(plan, 'plan.yml').split('\n');
  assert.equal(text[1], '  1 worker, 1 round, seed 5');
  const at = text.indexOf('data');
  assert.deepEqual(text.slice(at, at + 3), [
    'data',
    '  users   users.csv: 7 rows (username, password, email); sequence, every round, atEnd fail',
    '  tokens  tokens.json: 2 rows; random, every worker',
  ]);
});

test('data errors are located at the plan line that names the file, with the file line', () => {
  file('empty.csv', 'username,password\n');
  file('twice.csv', 'a,a\n1,2\n');
  file('bad.json', '[{"a": 1},');
  file('tokens.json', JSON.stringify(['t1', 't2']));
  assert.deepEqual(
    issuesOf(
      [
        'name: t',
        'data:',
        '  gone: { file: nope.csv }',
        '  empty: { file: empty.csv }',
        '  twice: { file: twice.csv }',
        '  renamed: { file: users.csv, columns: [a, b] }',
        '  json: { file: bad.json }',
        '  tokens: { file: tokens.json }',
        '  options: { file: tokens.json, delimiter: ";" }',
        'scenario:',
        '  - set: { x: "{{ data.tokens.value }}", y: "{{ data.nothing }}" }',
      ].join('\n'),
    ),
    [
      `3:17 data.gone: cannot read nope.csv: no such file (${join(dir, 'nope.csv')}) | hint: the path is relative to the plan file`,
      '4:18 data.empty: empty.csv has no rows',
      '5:18 data.twice: twice.csv line 1: the header names column `a` twice',
      '6:20 data.renamed: users.csv line 1: the header has 3 columns but `columns:` names 2',
      `7:17 data.json: bad.json is not valid JSON: ${(() => {
        try {
          JSON.parse('[{"a": 1},');
        } catch (e) {
          return (e as Error).message;
        }
      })()}`,
      '9:44 data.options: `delimiter` applies to CSV files; tokens.json is read as JSON',
      '11:31 scenario[0].set.x: the rows of tokens.json are plain values, not objects: use `data.tokens` itself, not `.value`',
      '11:49 scenario[0].set.y: unknown data set `data.nothing` | hint: data sets: gone, empty, twice, renamed, json, tokens, options',
    ],
  );
});

test("columns are checked through ['literal'] keys too, with the caret under the column; computed keys are left to run time", () => {
  const plan = (expr: string) => `name: t\nvars: { k: users }\ndata:\n  users: { file: users.csv }\nscenario:\n  - set: { a: "${expr}" }\n`;
  assert.deepEqual(issuesOf(plan('{{ data[vars.k].x }} {{ data.users[vars.k] }} {{ data.users.users }}')), [
    '6:76 scenario[0].set.a: unknown column `users` in users.csv (columns: username, password, email)',
  ]);
  assert.deepEqual(issuesOf(plan("{{ data['users'].emial }}")), [
    '6:33 scenario[0].set.a: unknown column `emial` in users.csv (columns: username, password, email) | hint: did you mean `email`?',
  ]);
});

// A server that records what each worker sent in each round.
interface Sent {
  worker: number;
  round: number;
  user: string;
  id?: string;
}
let server: TestServer;
let sent: Sent[] = [];
let pad: Pad;
before(async () => {
  server = await startServer(async (req, res) => {
    sent.push(JSON.parse(await readBody(req)) as Sent);
    res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
  });
  pad = await startPad();
});
after(async () => {
  await server.close();
  await pad.stop();
});

async function run(dataSpec: string, o: { workers: number; rounds: number; extra?: string } & Partial<RunOptions>) {
  sent = [];
  const plan = load(
    [
      'name: data run',
      `target: ${server.origin}`,
      `workers: ${o.workers}`,
      `rounds: ${o.rounds}`,
      o.extra ?? '',
      'data:',
      `  users: ${dataSpec}`,
      'scenario:',
      '  - name: send',
      '    request:',
      '      method: POST',
      '      url: /',
      '      json: { worker: "{{ worker.id }}", round: "{{ round }}", user: "{{ data.users.username }}", id: "{{ uuid() }}" }',
    ].join('\n'),
  );
  const events: RunEvent[] = [];
  const result = await runPlan(plan, { reportDir: await mkdtemp(join(tmpdir(), 'planrun-data-run-')), runId: 't', ...o, emit: (e) => events.push(e) });
  // By worker id: a worker without a row ends before the others.
  const outcomes = events
    .flatMap((e) => (e.type === 'worker:end' ? [[e.worker, e.outcome] as const] : []))
    .sort((x, y) => x[0] - y[0])
    .map(([, o]) => o);
  const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
  return { result, outcomes, logs, sent: [...sent] };
}

const counts = (xs: string[]) => Object.fromEntries([...new Set(xs)].sort().map((x) => [x, xs.filter((y) => y === x).length]));

test('pick: sequence, atEnd: stop-worker: each row used once across all workers, then every worker stops', { timeout: 30_000 }, async () => {
  const r = await run('{ file: users.csv, pick: sequence, atEnd: stop-worker }', { workers: 3, rounds: 5 });
  assert.equal(r.result.outcome, 'passed');
  assert.deepEqual(counts(r.sent.map((s) => s.user)), { u1: 1, u2: 1, u3: 1, u4: 1, u5: 1, u6: 1, u7: 1 });
  assert.deepEqual(r.outcomes, ['stopped', 'stopped', 'stopped']);
  assert.equal(r.logs.length, 3);
  assert.match(r.logs[0]!, /^worker \d \(worker\) found no row left: data\.users: every row of users\.csv is used \(7 rows, atEnd: stop-worker\)$/);
});

test('pick: sequence, atEnd: wrap (the default): the file starts over, rows shared in order', { timeout: 30_000 }, async () => {
  const r = await run('{ file: users.csv }', { workers: 3, rounds: 3 });
  assert.equal(r.result.outcome, 'passed');
  assert.deepEqual(counts(r.sent.map((s) => s.user)), { u1: 2, u2: 2, u3: 1, u4: 1, u5: 1, u6: 1, u7: 1 });
  assert.deepEqual(r.outcomes, ['done', 'done', 'done']);
});

test('pick: sequence, atEnd: fail: the run stops as failed once the rows are used up', { timeout: 30_000 }, async () => {
  // One worker: with more, a request in flight when the run stops is cut short.
  const r = await run('{ file: users.csv, atEnd: fail }', { workers: 1, rounds: 10 });
  assert.equal(r.result.outcome, 'failed');
  assert.equal(r.result.reason, 'worker 0 (worker) found no row left: data.users: every row of users.csv is used (7 rows, atEnd: fail)');
  assert.deepEqual(counts(r.sent.map((s) => s.user)), { u1: 1, u2: 1, u3: 1, u4: 1, u5: 1, u6: 1, u7: 1 });
});

test('every: worker: a fixed row per worker (worker N gets row N+1) for all its rounds', { timeout: 30_000 }, async () => {
  const r = await run('{ file: users.csv, every: worker }', { workers: 3, rounds: 2 });
  assert.equal(r.result.outcome, 'passed');
  assert.deepEqual(r.sent.map((s) => `w${s.worker}r${s.round}:${s.user}`).sort(), ['w0r1:u1', 'w0r2:u1', 'w1r1:u2', 'w1r2:u2', 'w2r1:u3', 'w2r2:u3']);
  const few = await run('{ file: users.csv, every: worker, atEnd: stop-worker }', { workers: 9, rounds: 1 });
  assert.deepEqual(few.outcomes, ['done', 'done', 'done', 'done', 'done', 'done', 'done', 'stopped', 'stopped'], 'workers 7 and 8 find no row');
});

test('pick: random with a seed: each worker and round draws the same row and uuid() again, whatever the worker count', { timeout: 30_000 }, async () => {
  const key = (s: Sent) => `w${s.worker}r${s.round}`;
  const byRound = (sent: Sent[]) => Object.fromEntries(sent.map((s) => [key(s), `${s.user} ${s.id}`]).sort());
  const a = await run('{ file: users.csv, pick: random }', { workers: 3, rounds: 4, extra: 'seed: 11' });
  const again = await run('{ file: users.csv, pick: random }', { workers: 3, rounds: 4, extra: 'seed: 11' });
  assert.deepEqual(byRound(again.sent), byRound(a.sent));
  assert.ok(new Set(a.sent.map((s) => s.user)).size >= 3, 'the picks vary');
  // Five workers now: workers 0-2 still see what they saw.
  const wider = await run('{ file: users.csv, pick: random }', { workers: 5, rounds: 4, extra: 'seed: 11' });
  assert.deepEqual(byRound(wider.sent.filter((s) => Number(s.worker) < 3)), byRound(a.sent));
  // --seed (RunOptions.seed) overrides the plan's seed.
  const overridden = await run('{ file: users.csv, pick: random }', { workers: 3, rounds: 4, extra: 'seed: 99', seed: 11 });
  assert.deepEqual(byRound(overridden.sent), byRound(a.sent));
  const other = await run('{ file: users.csv, pick: random }', { workers: 3, rounds: 4, extra: 'seed: 12' });
  assert.notDeepEqual(byRound(other.sent), byRound(a.sent));
});

test('plans/data-users.yml signs the pad once per user of plans/data/users.csv', { timeout: 30_000 }, async () => {
  const planFile = resolve('plans/data-users.yml');
  const plan = parsePlan(readFileSync(planFile, 'utf8').replaceAll('9012', String(pad.port)), planFile);
  const result = await runPlan(plan, { reportDir: await mkdtemp(join(tmpdir(), 'planrun-data-users-')), runId: 'users', services: false, emit: () => {} });
  assert.equal(result.outcome, 'passed');
  const res = await fetch(`${pad.url}/pads/users-users`);
  const { lines } = (await res.json()) as { lines: Array<{ text: string; by: string }> };
  const csvUsers = readFileSync('plans/data/users.csv', 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',')[0]);
  assert.equal(csvUsers.length, 10);
  assert.deepEqual(lines.map((l) => l.by).sort(), [...csvUsers].sort());
  const ada = lines.find((l) => l.by === 'ada')!;
  assert.match(ada.text, /^Lovelace, Ada <ada@example\.test>, token [0-9a-f]{8}, seen \d{4}-\d\d-\d\dT/);
});
