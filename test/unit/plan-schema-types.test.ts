// Drift guard: schemas/plan.schema.json and src/plan/raw-plan.ts describe the
// same plan. For every interface named like a schema definition (`Plan` = the
// root), the property names and the required set must be equal.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import ts from 'typescript';

type Schema = { properties?: Record<string, unknown>; required?: string[]; definitions?: Record<string, Schema> };
interface Shape {
  properties: string[];
  required: string[];
}

/** Interface name → its properties (inherited ones included) and which are required. */
export function interfaceShapes(source: string): Map<string, Shape> {
  const file = ts.createSourceFile('raw-plan.ts', source, ts.ScriptTarget.ES2022, true);
  const own = new Map<string, { members: Map<string, boolean>; parents: string[] }>();
  for (const stmt of file.statements) {
    if (!ts.isInterfaceDeclaration(stmt)) continue;
    const members = new Map<string, boolean>();
    for (const m of stmt.members) {
      if (ts.isPropertySignature(m) && m.name) members.set(m.name.getText(file).replace(/^['"]|['"]$/g, ''), !m.questionToken);
    }
    const parents = (stmt.heritageClauses ?? []).flatMap((h) => h.types.map((t) => t.expression.getText(file)));
    own.set(stmt.name.text, { members, parents });
  }
  const resolve = (name: string, seen = new Set<string>()): Map<string, boolean> => {
    const decl = own.get(name);
    if (!decl || seen.has(name)) return new Map();
    seen.add(name);
    const all = new Map<string, boolean>();
    for (const p of decl.parents) for (const [k, v] of resolve(p, seen)) all.set(k, v);
    for (const [k, v] of decl.members) all.set(k, v);
    return all;
  };
  const out = new Map<string, Shape>();
  for (const name of own.keys()) {
    const members = resolve(name);
    out.set(name, {
      properties: [...members.keys()].sort(),
      required: [...members]
        .filter(([, r]) => r)
        .map(([k]) => k)
        .sort(),
    });
  }
  return out;
}

export function schemaShapes(schema: Schema): Map<string, Shape> {
  const shape = (s: Schema): Shape => ({ properties: Object.keys(s.properties ?? {}).sort(), required: [...(s.required ?? [])].sort() });
  const out = new Map<string, Shape>([['Plan', shape(schema)]]);
  for (const [name, def] of Object.entries(schema.definitions ?? {})) if (def.properties) out.set(name, shape(def));
  return out;
}

/** Human-readable differences; empty when the two sides agree. */
export function drift(schema: Schema, tsSource: string): string[] {
  const types = interfaceShapes(tsSource);
  const defs = schemaShapes(schema);
  const problems: string[] = [];
  for (const [name, t] of types) {
    if (name !== 'Plan' && !schema.definitions?.[name]) continue;
    const s = defs.get(name) ?? { properties: [], required: [] };
    const onlyTs = t.properties.filter((p) => !s.properties.includes(p));
    const onlySchema = s.properties.filter((p) => !t.properties.includes(p));
    if (onlyTs.length) problems.push(`${name}: only in raw-plan.ts: ${onlyTs.join(', ')}`);
    if (onlySchema.length) problems.push(`${name}: only in the schema: ${onlySchema.join(', ')}`);
    if (t.required.join() !== s.required.join())
      problems.push(`${name}: required ${t.required.join(', ') || '(none)'} in raw-plan.ts but ${s.required.join(', ') || '(none)'} in the schema`);
  }
  for (const name of defs.keys()) if (!types.has(name)) problems.push(`${name}: object definition with no interface in raw-plan.ts`);
  return problems;
}

const schema = JSON.parse(readFileSync('schemas/plan.schema.json', 'utf8')) as Schema;
const source = readFileSync('src/plan/raw-plan.ts', 'utf8');

test('raw-plan.ts interfaces match the schema definitions', () => {
  assert.deepEqual(drift(schema, source), []);
  // The guard really looks at the definitions it should.
  const checked = [...interfaceShapes(source).keys()].filter((n) => n === 'Plan' || schema.definitions?.[n]);
  assert.ok(checked.length >= 25, `only ${checked.length} interfaces compared`);
  assert.deepEqual(interfaceShapes(source).get('Expect')?.properties.includes('status'), true, 'inherited properties count');
});

test('a property added to one side only is caught', () => {
  const withSchemaProp = structuredClone(schema);
  withSchemaProp.definitions!.Role!.properties!.weight = { type: 'number' };
  assert.deepEqual(drift(withSchemaProp, source), ['Role: only in the schema: weight']);

  const withTsProp = source.replace('export interface Viewport {\n', 'export interface Viewport {\n  scale?: number;\n');
  assert.notEqual(withTsProp, source);
  assert.deepEqual(drift(schema, withTsProp), ['Viewport: only in raw-plan.ts: scale']);

  const rootProp = source.replace('export interface Plan {\n', 'export interface Plan {\n  priority?: number;\n');
  assert.deepEqual(drift(schema, rootProp), ['Plan: only in raw-plan.ts: priority']);

  const requiredChanged = source.replace('export interface Viewport {\n  width: number;', 'export interface Viewport {\n  width?: number;');
  assert.deepEqual(drift(schema, requiredChanged), ['Viewport: required height in raw-plan.ts but height, width in the schema']);
});
