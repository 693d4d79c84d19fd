// A problem found in a plan, positioned in its file. Every check (YAML syntax,
// schema, semantics, deadlock analysis) reports these; the loader throws them
// all at once, in file order, as one PlanError.
export interface PlanIssue {
  file: string;
  line: number;
  col: number;
  message: string;
  /** How to fix it, e.g. "did you mean `workers`?". */
  hint?: string;
  severity: 'error' | 'warning';
}

export class PlanError extends Error {
  readonly code = 'plan-invalid';
  constructor(readonly issues: PlanIssue[]) {
    super(issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.severity}: ${i.message}`).join('\n'));
  }
}
