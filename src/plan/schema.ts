// The plan JSON Schema and its validators. A valid plan is checked by the
// validator generated ahead of time (plan-validator.generated.ts, no compile at
// start-up); only an invalid plan pays for compiling the full ajv validator that
// lists every error with the details schema-errors.ts needs.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import { validate as quickValidate } from './plan-validator.generated.js';

export const SCHEMA_URL = new URL('../../schemas/plan.schema.json', import.meta.url);

let schemaCache: Record<string, unknown> | undefined;
let detailedCache: ValidateFunction | undefined;

export function planSchema(): Record<string, unknown> {
  schemaCache ??= JSON.parse(schemaText()) as Record<string, unknown>;
  return schemaCache;
}

export function schemaText(): string {
  return readFileSync(SCHEMA_URL, 'utf8');
}

/** Every schema error of `data` (empty when valid). */
export function validatePlanSchema(data: unknown): ErrorObject[] {
  if ((quickValidate as (d: unknown) => boolean)(data)) return [];
  return detailedErrors(data);
}

export function detailedErrors(data: unknown): ErrorObject[] {
  if (!detailedCache) {
    // ajv is CommonJS: required synchronously, only on this slow path.
    const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass };
    detailedCache = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(planSchema());
  }
  return detailedCache(data) ? [] : [...(detailedCache.errors ?? [])];
}
