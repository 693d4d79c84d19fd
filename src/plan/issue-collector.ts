// Gathers the issues of one plan, positioned by YAML path, so every check can
// report and go on; the loader throws them all at once.
import { PlanError, type PlanIssue } from './issues.js';
import type { SourceLoc } from './model.js';
import type { PlanSource, YamlPath } from './source.js';

export interface IssueOptions {
  hint?: string;
  /** Point at the key instead of the value (unknown keys, duplicate names). */
  at?: 'key' | 'value';
  /** Offset inside the string value (a template expression), 0-based in the parsed string. */
  offset?: number;
  severity?: 'error' | 'warning';
}

export class IssueCollector {
  readonly issues: PlanIssue[] = [];

  constructor(readonly source: PlanSource) {}

  error(path: YamlPath, message: string, options: IssueOptions = {}): void {
    const pos = this.source.position(path, options.at ?? 'value', options.offset);
    this.push({ file: this.source.file, line: pos.line, col: pos.col, message, severity: options.severity ?? 'error', ...(options.hint ? { hint: options.hint } : {}) });
  }

  push(issue: PlanIssue): void {
    const dup = this.issues.some((i) => i.line === issue.line && i.col === issue.col && i.message === issue.message);
    if (!dup) this.issues.push(issue);
  }

  loc(path: YamlPath, at: 'key' | 'value' = 'value'): SourceLoc {
    const pos = this.source.position(path, at);
    return { file: this.source.file, line: pos.line, col: pos.col };
  }

  get hasErrors(): boolean {
    return this.issues.some((i) => i.severity === 'error');
  }

  /** Throws every error found, in file order. */
  throwIfErrors(): void {
    if (this.hasErrors) throw new PlanError(sortIssues(this.issues));
  }
}

export function sortIssues(issues: PlanIssue[]): PlanIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}

/** `scenario.writer[2].browser.goto` */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || 'the plan';
}
