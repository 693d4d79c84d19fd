// The plan JSON Schema and its compiled validator. Compiled once per process,
// on first use.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

export const SCHEMA_URL = new URL('../../schemas/plan.schema.json', import.meta.url);

let schemaCache: Record<string, unknown> | undefined;
let validatorCache: ValidateFunction | undefined;

export function planSchema(): Record<string, unknown> {
  schemaCache ??= JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Record<string, unknown>;
  return schemaCache;
}

export function schemaText(): string {
  return readFileSync(SCHEMA_URL, 'utf8');
}

export function validatePlanSchema(data: unknown): ErrorObject[] {
  if (!validatorCache) {
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
    // ajv-formats is CommonJS; under NodeNext its default export is the module object.
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv, f: string[]) => void;
    addFormats(ajv, ['uri']);
    validatorCache = ajv.compile(planSchema());
  }
  return validatorCache(data) ? [] : [...(validatorCache.errors ?? [])];
}
