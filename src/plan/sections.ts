// Every problem of a plan at once: a schema error in one top-level section
// (say `timeout: fast`) must not hide the semantic problems of the others (an
// unknown barrier, a role count). The invalid sections are left out of the
// compile, and so are the semantic checks of the sections that read them,
// which would otherwise report errors that are only echoes of the schema error.
import type { ErrorObject } from 'ajv';

/** The sections whose semantic checks read other sections (roles count workers, steps name barriers, vars and roles, …). */
const READS: Record<string, readonly string[]> = {
  roles: ['workers', 'rate', 'maxWorkers', 'stages'],
  // The load model's keys are checked together: each is judged by the others.
  rate: ['maxWorkers', 'stages', 'duration', 'rounds', 'rampUp', 'workers', 'roles'],
  maxWorkers: ['rate', 'stages', 'workers', 'roles'],
  stages: ['rate', 'maxWorkers', 'duration', 'rounds', 'rampUp', 'roles'],
  barriers: ['workers', 'roles', 'scenario', 'waitTimeout', 'rate', 'stages'],
  scenario: ['target', 'vars', 'workers', 'roles', 'barriers'],
  setup: ['target', 'vars'],
  teardown: ['target', 'vars'],
  http: ['vars'],
  crawl: ['target', 'vars'],
  thresholds: ['scenario', 'barriers', 'crawl'],
};

/** The top-level keys that hold a schema error (the plan's own keys, not unknown ones at the root). */
export function invalidSections(errors: ErrorObject[]): Set<string> {
  const out = new Set<string>();
  for (const e of errors) {
    const first = e.instancePath.split('/')[1];
    if (first !== undefined) out.add(first.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  return out;
}

/** The sections whose semantic checks must stay quiet because they read an invalid one. */
export function sectionsReading(invalid: ReadonlySet<string>): Set<string> {
  return new Set(Object.entries(READS).flatMap(([section, reads]) => (reads.some((r) => invalid.has(r)) ? [section] : [])));
}

/** The plan without its invalid sections: what remains has the types the compiler expects. */
export function withoutSections(data: Record<string, unknown>, invalid: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([key]) => !invalid.has(key)));
}
