// The ahead-of-time schema validator must be generated from the current schema
// and agree with the full ajv validator.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { validate as quick } from '../../src/plan/plan-validator.generated.js';
import { detailedErrors } from '../../src/plan/schema.js';
import { GENERATED_FILE, generateValidatorSource } from '../../src/plan/validator-codegen.js';

test('plan-validator.generated.ts is up to date with schemas/plan.schema.json', () => {
  assert.equal(readFileSync(GENERATED_FILE, 'utf8'), generateValidatorSource(), 'regenerate: node --import tsx src/plan/validator-codegen.ts --write');
});

test('the generated validator and the full validator agree on every fixture plan', () => {
  const files = [
    'plans/etherpad.yml',
    ...['good', 'bad'].flatMap((d) =>
      readdirSync(join('test/fixtures/plan', d))
        .filter((f) => f.endsWith('.yml'))
        .map((f) => join('test/fixtures/plan', d, f)),
    ),
  ];
  let invalid = 0;
  for (const file of files) {
    const doc = parseDocument(readFileSync(file, 'utf8'));
    if (doc.errors.length > 0) continue;
    let data: unknown;
    try {
      data = doc.toJS();
    } catch {
      continue; // e.g. an alias without anchor: never reaches the schema
    }
    const ok = (quick as (d: unknown) => boolean)(data);
    assert.equal(ok, detailedErrors(data).length === 0, file);
    if (!ok) invalid++;
  }
  assert.ok(invalid >= 15, `only ${invalid} schema-invalid fixtures compared`);
});
