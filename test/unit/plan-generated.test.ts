// Generated values in templates: uuid(), randomInt(), randomChoice(),
// randomString(), now(), dateOffset(), base64, sha256; the seeded random source
// (same seed and stream → same values); misuse refused at validate, located.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlanError } from '../../src/plan/issues.js';
import { parsePlan } from '../../src/plan/load.js';
import type { TemplateScope } from '../../src/contract/plan.js';
import { seededRandom, type RandomSource } from '../../src/plan/random.js';
import { compileTemplate } from '../../src/plan/template.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const scope = (random?: RandomSource): TemplateScope => ({
  worker: { id: 0, role: 'worker', index: 0 },
  round: 1,
  run: { id: 'r' },
  vars: { list: ['x', 'y', 'z'], lo: '3', hi: '5', bad: 'abc' },
  captures: {},
  shared: {},
  env: {},
  ...(random ? { random } : {}),
});
const render = (source: string, random?: RandomSource) => compileTemplate(source).render(scope(random));

const SAMPLE = "{{ uuid() }} {{ randomInt(1, 1000000) }} {{ randomString(12) }} {{ randomChoice(['a', 'b', 'c', 'd', 'e', 'f']) }}";

test('uuid(): version 4 UUIDs, unseeded and seeded, never twice the same', () => {
  const unseeded = new Set(Array.from({ length: 200 }, () => render('{{ uuid() }}')));
  const source = seededRandom(1, 0, 1);
  const seeded = new Set(Array.from({ length: 200 }, () => render('{{ uuid() }}', source)));
  for (const set of [unseeded, seeded]) {
    assert.equal(set.size, 200);
    for (const id of set) assert.match(id as string, UUID_V4);
  }
});

test('seeded: the same seed and stream give the same values; another seed or stream other values', () => {
  const draw = (seed: number, ...stream: number[]) => {
    const random = seededRandom(seed, ...stream);
    return [render(SAMPLE, random), render(SAMPLE, random)];
  };
  const a = draw(42, 3, 2);
  assert.deepEqual(draw(42, 3, 2), a);
  assert.notEqual(a[0], a[1], 'the stream moves on between calls');
  assert.notDeepEqual(draw(43, 3, 2), a);
  assert.notDeepEqual(draw(42, 3, 3), a, 'another round');
  assert.notDeepEqual(draw(42, 4, 2), a, 'another worker');
  assert.notDeepEqual(draw(42 + 2 ** 32, 3, 2), a, 'seeds beyond 32 bits count whole');
  // Pinned: a replay must give these exact values in later versions too.
  assert.equal(render('{{ uuid() }}', seededRandom(7, 0, 1, 0)), '5f027854-f6eb-4fdb-9965-80ff4361fdce');
});

test('randomInt(min, max): whole numbers in [min, max], both ends reached; numeric strings accepted', () => {
  const random = seededRandom(5, 0, 0);
  const seen = new Map<unknown, number>();
  for (let i = 0; i < 3000; i++) {
    const n = render('{{ randomInt(-2, 3) }}', random);
    seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  assert.deepEqual(
    [...seen.keys()].sort((x, y) => Number(x) - Number(y)),
    [-2, -1, 0, 1, 2, 3],
  );
  for (const count of seen.values()) assert.ok(count > 400 && count < 600, `about 500 each: ${[...seen]}`);
  assert.equal(render('{{ randomInt(7, 7) }}'), 7);
  const fromStrings = render('{{ randomInt(vars.lo, vars.hi) }}');
  assert.ok([3, 4, 5].includes(fromStrings as number), String(fromStrings));
});

test('randomString(length, alphabet?): the length asked, letters and digits by default, else only the alphabet given', () => {
  assert.equal(render('{{ randomString(0) }}'), '');
  assert.match(render('{{ randomString(40) }}') as string, /^[A-Za-z0-9]{40}$/);
  assert.match(render("{{ randomString(30, 'ab') }}") as string, /^[ab]{30}$/);
  // Characters, not UTF-16 halves.
  assert.equal(
    [...(render("{{ randomString(10, '🙂é') }}") as string)].every((c) => c === '🙂' || c === 'é'),
    true,
  );
});

test('randomChoice(list): an item of the list; all items come up', () => {
  const random = seededRandom(9, 0, 0);
  const seen = new Set(Array.from({ length: 100 }, () => render('{{ randomChoice(vars.list) }}', random)));
  assert.deepEqual([...seen].sort(), ['x', 'y', 'z']);
});

test('now(format?) and dateOffset(offset, format?): epoch ms by default, or s, iso, date', () => {
  const before = Date.now();
  const ms = render('{{ now() }}') as number;
  const after = Date.now();
  assert.ok(ms >= before && ms <= after);
  assert.ok(Math.abs((render("{{ now('s') }}") as number) - Math.floor(after / 1000)) <= 1);
  assert.match(render("{{ now('iso') }}") as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(render("{{ now('date') }}"), new Date().toISOString().slice(0, 10));
  const twoDaysAgo = render("{{ dateOffset('-2d') }}") as number;
  assert.ok(Math.abs(twoDaysAgo - (Date.now() - 2 * 86_400_000)) < 1000);
  const later = Date.parse(render("{{ dateOffset('+1h30m', 'iso') }}") as string);
  assert.ok(Math.abs(later - (Date.now() + 90 * 60_000)) < 1000);
  assert.equal(render("{{ dateOffset('1w', 'date') }}"), new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10));
});

test('base64encode / base64decode (UTF-8) and sha256 (hex)', () => {
  assert.equal(render("{{ base64encode('user:pass') }}"), 'dXNlcjpwYXNz');
  assert.equal(render("{{ base64decode(base64encode('héllo wörld 🙂')) }}"), 'héllo wörld 🙂');
  assert.equal(render("{{ sha256('abc') }}"), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(render("Basic {{ base64encode('a' + ':' + 'b') }}"), 'Basic YTpi');
});

test('a value only known at run time is checked then, with the words validate uses', () => {
  assert.throws(() => render('{{ randomInt(vars.bad, 2) }}'), { message: "randomInt() takes whole numbers: 'abc' is not one" });
  assert.throws(() => render('{{ randomChoice(vars.bad) }}'), { message: "randomChoice() takes a list, e.g. randomChoice(['a', 'b']), not 'abc'" });
  assert.throws(() => render('{{ randomInt(vars.hi, vars.lo) }}'), { message: "randomInt(): min '5' is larger than max '3'" });
});

test('misuse is refused at validate with the line and column of the call', () => {
  const plan = [
    'name: misuse',
    'scenario:',
    '  - set:',
    '      a: "{{ randomInt(\'a\', 2) }}"',
    '      b: "id-{{ randomString(-1) }}"',
    '      c: "{{ uuid(1) }}"',
    "      d: \"{{ randomChoice(['a']) }} {{ now('x') }}\"",
    '      e: "{{ dateOffset(\'2 days\') }}"',
  ].join('\n');
  const err = (() => {
    try {
      parsePlan(plan, 'misuse.yml');
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof PlanError);
  assert.deepEqual(
    err.issues.map((i) => `${i.line}:${i.col} ${i.message}`),
    [
      "4:14 scenario[0].set.a: bad template: randomInt() takes whole numbers: 'a' is not one",
      '5:17 scenario[0].set.b: bad template: randomString(): the length is a whole number from 0 to 65536, not -1',
      '6:14 scenario[0].set.c: bad template: uuid() takes 0 arguments',
      "7:40 scenario[0].set.d: bad template: now(): the format is one of 'ms', 's', 'iso', 'date', not 'x'",
      "8:14 scenario[0].set.e: bad template: dateOffset(): '2 days' is not an offset; write e.g. '-2d', '+1h30m' or '90s' (units ms, s, m, h, d, w)",
    ],
  );
});
