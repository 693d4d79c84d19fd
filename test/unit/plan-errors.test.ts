// The malformed-plan corpus: every file under test/fixtures/plan/bad/ starts with
// `# expect: LINE:COL message | hint: …` lines, and the loader must report
// exactly those issues, in that order.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatPlanError } from '../../src/plan/format.js';
import { PlanError } from '../../src/plan/issues.js';
import { loadPlan } from '../../src/plan/load.js';

const dir = join(import.meta.dirname, '../fixtures/plan/bad');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yml'))
  .sort();

test('the corpus has at least 30 malformed plans', () => {
  assert.ok(files.length >= 30, `only ${files.length} fixtures`);
});

for (const name of files) {
  test(`bad/${name}`, async () => {
    const file = join(dir, name);
    const expected = [...readFileSync(file, 'utf8').matchAll(/^# expect: (.*)$/gm)].map((m) => m[1]);
    assert.ok(expected.length > 0, 'fixture without # expect: lines');
    const err = await loadPlan(file, { env: {} }).then(
      () => assert.fail('the plan loaded without errors'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof PlanError, `not a PlanError: ${String(err)}`);
    const got = err.issues.map((i) => `${i.line}:${i.col} ${i.message}${i.hint ? ` | hint: ${i.hint}` : ''}`);
    assert.deepEqual(got, expected);
    for (const i of err.issues) assert.equal(i.file, file);
  });
}

test('formatPlanError prints file:line:col, the line, a caret under the column and the hint', async () => {
  const file = join(dir, 'schema-unknown-key-root.yml');
  const err = await loadPlan(file).catch((e: unknown) => e);
  assert.ok(err instanceof PlanError);
  const text = formatPlanError(err, { color: false });
  assert.equal(
    text,
    [`${file}:3:1: error: unknown key \`wokers\``, '  2 | name: typo', '> 3 | wokers: 3', '    | ^', '  hint: did you mean `workers`?', '', `1 error in ${file}`].join('\n'),
  );
});

test('formatPlanError puts the caret under a template expression inside a string', async () => {
  const file = join(dir, 'tpl-unknown-root.yml');
  const err = await loadPlan(file).catch((e: unknown) => e);
  assert.ok(err instanceof PlanError);
  const frame = formatPlanError(err, { color: false }).split('\n');
  const at = frame.findIndex((l) => l.startsWith('>') && l.includes('process.env.HOME'));
  assert.ok(at > 0);
  const caret = frame[at + 1]!.indexOf('^');
  assert.equal(frame[at]!.slice(caret, caret + 'process'.length), 'process');
});

test('formatPlanError colours only when asked', async () => {
  const err = await loadPlan(join(dir, 'schema-enum.yml')).catch((e: unknown) => e);
  assert.ok(err instanceof PlanError);
  assert.doesNotMatch(formatPlanError(err, { color: false }), /\x1b\[/);
  assert.match(formatPlanError(err, { color: true }), /\x1b\[31;1merror/);
});

test('a missing file is a PlanError naming the file', async () => {
  const err = await loadPlan(join(dir, 'does-not-exist.yml')).catch((e: unknown) => e);
  assert.ok(err instanceof PlanError);
  assert.match(err.issues[0]!.message, /cannot read the plan: no such file/);
});
