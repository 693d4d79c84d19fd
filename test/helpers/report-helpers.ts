// Every report.json a test reads goes through here: parsed, then checked against
// schemas/report.schema.json, so the published shape cannot drift from what
// planrun writes. A mismatch fails with ajv's errors (path and reason).
import { readFile } from 'node:fs/promises';
import { Ajv, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import type { RunReport } from '../../src/contract/report.js';

export const REPORT_SCHEMA_FILE = new URL('../../schemas/report.schema.json', import.meta.url);

type AddFormats = (ajv: Ajv) => Ajv;
// ajv-formats is CommonJS with a `default` export; under ESM the function may be either.
const addFormats = ((formatsModule as unknown as { default?: AddFormats }).default ?? formatsModule) as unknown as AddFormats;

let validator: ValidateFunction | undefined;

/** The compiled schema; strict mode, so a typo in the schema itself fails too. */
export async function reportValidator(): Promise<ValidateFunction> {
  if (!validator) {
    const schema = JSON.parse(await readFile(REPORT_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
    validator = addFormats(new Ajv({ allErrors: true, strict: true })).compile(schema);
  }
  return validator;
}

/** Throws, listing every schema error, unless `data` is a valid report. */
export async function assertValidReport(data: unknown): Promise<RunReport> {
  const validate = await reportValidator();
  if (!validate(data)) {
    const errors = (validate.errors ?? []).map((e) => `  ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    throw new Error(`report does not match schemas/report.schema.json:\n${errors.join('\n')}`);
  }
  return data as RunReport;
}

/** Reads a report.json a run wrote and checks it against the schema. */
export async function readReport(file: string): Promise<RunReport> {
  return assertValidReport(JSON.parse(await readFile(file, 'utf8')));
}
