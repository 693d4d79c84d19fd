// `{{ }}` templates: rendering, the restricted expression language, errors with columns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TemplateScope } from '../../src/contract/plan.js';
import { compileTemplate, compileValue, TemplateSyntaxError } from '../../src/plan/template.js';

const scope: TemplateScope = {
  worker: { id: 3, role: 'reader', index: 1 },
  round: 2,
  run: { id: 'r1' },
  vars: { name: ' Ada ', list: [1, 2, 3], obj: { a: { b: 'deep' } }, key: 'a', n: '41' },
  captures: { token: 'T0K', count: 7 },
  shared: { ready: true },
  env: { HOME: '/home/x' },
};
const render = (s: string) => compileTemplate(s).render(scope);

test('a string without braces is static', () => {
  const t = compileTemplate('plain text');
  assert.equal(t.isStatic, true);
  assert.equal(t.render(scope), 'plain text');
  assert.equal(compileTemplate('').render(scope), '');
});

test('one whole expression keeps its type; mixed text becomes a string', () => {
  assert.equal(render('{{ round }}'), 2);
  assert.deepEqual(render('{{ vars.list }}'), [1, 2, 3]);
  assert.equal(render('{{ shared.ready }}'), true);
  assert.equal(render('r{{ round }}-w{{ worker.id }}'), 'r2-w3');
  assert.equal(render('list={{ vars.list }}'), 'list=[1,2,3]');
  assert.equal(render(' {{ round }}'), ' 2');
  assert.equal(compileTemplate('{{ round }}').renderString(scope), '2');
});

test('member access: dot, [literal], [expr], length, missing → undefined', () => {
  assert.equal(render('{{ vars.obj.a.b }}'), 'deep');
  assert.equal(render("{{ vars.obj['a'].b }}"), 'deep');
  assert.equal(render('{{ vars.obj[vars.key].b }}'), 'deep');
  assert.equal(render('{{ vars.list[1] }}'), 2);
  assert.equal(render('{{ vars.list.length }}'), 3);
  assert.equal(render('{{ vars.nope.deeper }}'), undefined);
  assert.equal(render('x{{ vars.nope }}y'), 'xy');
  assert.equal(render('{{ env.HOME }}'), '/home/x');
});

test('arithmetic, comparisons, logic and the ternary', () => {
  assert.equal(render('{{ round * 10 + worker.id % 2 }}'), 21);
  assert.equal(render('{{ (round + 1) / 2 }}'), 1.5);
  assert.equal(render('{{ round - 3 }}'), -1);
  assert.equal(render("{{ 'a' + round }}"), 'a2');
  assert.equal(render('{{ round > 1 && !shared.ready }}'), false);
  assert.equal(render('{{ round >= 2 || false }}'), true);
  assert.equal(render("{{ round == 2 ? 'even' : 'odd' }}"), 'even');
  assert.equal(render('{{ vars.n == 41 }}'), true, 'numeric strings compare by value with ==');
  assert.equal(render("{{ worker.role != 'writer' }}"), true);
});

test('whitelisted functions', () => {
  assert.equal(render('{{ upper(worker.role) }}'), 'READER');
  assert.equal(render("{{ lower('ABC') }}"), 'abc');
  assert.equal(render('{{ trim(vars.name) }}'), 'Ada');
  assert.equal(render("{{ default(captures.missing, 'fallback') }}"), 'fallback');
  assert.equal(render("{{ default(captures.token, 'fallback') }}"), 'T0K');
  assert.equal(render('{{ json(vars.obj) }}'), '{"a":{"b":"deep"}}');
  assert.equal(render("{{ urlencode('a b&c') }}"), 'a%20b%26c');
  assert.equal(render('{{ length(vars.list) }}'), 3);
  assert.equal(render('{{ int(vars.n) + 1 }}'), 42);
  assert.equal(render('{{ str(round) }}'), '2');
});

test('nothing outside the scope is reachable', () => {
  for (const [source, pattern] of [
    ['{{ process }}', /unknown name `process`/],
    ['{{ globalThis }}', /unknown name `globalThis`/],
    ['{{ require("fs") }}', /unknown function `require`/],
    ['{{ vars.constructor }}', /`constructor` cannot be read/],
    ["{{ vars['__proto__'] }}", /`__proto__` cannot be read/],
    ['{{ vars.list.map(x) }}', /unknown function/],
    ['{{ this }}', /`this` is not available/],
    ['{{ round = 3 }}', /./],
    ['{{ round | 1 }}', /operator `\|` is not allowed/],
    ['{{ a b }}', /./],
  ] as const) {
    assert.throws(
      () => compileTemplate(source),
      (e: unknown) => e instanceof TemplateSyntaxError && pattern.test(e.message),
      source,
    );
  }
  // Computed keys are checked at run time too.
  assert.equal(compileTemplate("{{ vars.obj[lower('__PROTO__')] }}").render(scope), undefined);
  assert.equal(compileTemplate("{{ vars.obj[lower('CONSTRUCTOR')] }}").render(scope), undefined);
  assert.equal(compileTemplate("{{ vars.name['trim'] }}").render(scope), undefined);
});

test('parse errors carry the 1-based column inside the template source', () => {
  const col = (s: string) => {
    try {
      compileTemplate(s);
    } catch (e) {
      assert.ok(e instanceof TemplateSyntaxError);
      return e.column;
    }
    assert.fail(`no error for ${s}`);
  };
  assert.equal(col('abc {{ foo }}'), 8);
  assert.equal(col('/x/{{ round }}/{{ bar.x }}'), 19);
  assert.equal(col('abc {{ round'), 5);
  assert.equal(col('{{}}'), 1);
  assert.equal(col('{{ upper(1, 2) }}'), 4);
});

test('compileValue renders templates inside nested JSON values', () => {
  const v = compileValue({ id: '{{ worker.id }}', tags: ['r{{ round }}', 5, null], nested: { ok: true, t: '{{ captures.token }}' } });
  assert.deepEqual(v.render(scope), { id: 3, tags: ['r2', 5, null], nested: { ok: true, t: 'T0K' } });
  assert.equal(compileValue(12).render(scope), 12);
});
