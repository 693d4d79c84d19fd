// loadPlan: file → YAML → schema → semantic checks → CompiledPlan, or one
// PlanError holding every problem found, in file order (schema and semantic
// problems together: see sections.ts). The deadlock check is not the loader's:
// it reads the execution graph compiled from this plan (src/graph/check.ts),
// which the commands run right after loading.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { IssueCollector } from './issue-collector.js';
import { compilePlan } from './compile.js';
import { checkDurations } from './durations.js';
import { PlanError } from './issues.js';
import type { CompiledPlan } from '../contract/plan.js';
import type * as Raw from './raw-plan.js';
import { planSchema, validatePlanSchema } from './schema.js';
import { reportSchemaErrors } from './schema-errors.js';
import { invalidSections, sectionsReading, withoutSections } from './sections.js';
import { PlanSource } from './source.js';
import { reportYamlErrors, toData } from './yaml-errors.js';

export interface LoadOptions {
  /** --var NAME=VALUE overrides. */
  vars?: Record<string, string>;
  /** Environment for `{ env: NAME }` vars; default process.env. */
  env?: Record<string, string | undefined>;
}

export async function loadPlan(file: string, options: LoadOptions = {}): Promise<CompiledPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a plan file' : (err as Error).message;
    throw new PlanError([{ file, line: 1, col: 1, message: `cannot read the plan: ${why}`, severity: 'error' }]);
  }
  return parsePlan(text, file, options);
}

/** Same as loadPlan for text already in memory; `file` names it in messages. */
export function parsePlan(text: string, file: string, options: LoadOptions = {}): CompiledPlan {
  const source = new PlanSource(file, text);
  const issues = new IssueCollector(source);
  reportYamlErrors(source, issues);
  issues.throwIfErrors();

  const data = toData(source, issues);
  issues.throwIfErrors();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    issues.push({
      file,
      line: 1,
      col: 1,
      severity: 'error',
      message: data === null || data === undefined ? 'the plan is empty: it needs at least `name:`' : 'a plan is a map of keys (name:, workers:, scenario:, …)',
    });
    issues.throwIfErrors();
  }
  // Schema errors do not stop here: the valid sections are compiled too, so every problem comes out at once.
  let raw = data as Record<string, unknown>;
  const errors = validatePlanSchema(data);
  if (errors.length > 0) {
    reportSchemaErrors(errors, data, planSchema(), issues);
    const invalid = invalidSections(errors);
    issues.mute(sectionsReading(invalid));
    raw = withoutSections(raw, invalid);
  }
  checkDurations(raw, planSchema(), issues);

  const plan = compilePlan(raw as unknown as Raw.Plan, issues, {
    file: resolve(file),
    ...(options.vars ? { vars: options.vars } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  issues.throwIfErrors();
  return plan;
}
