// Gathers the issues of one plan, positioned by YAML path, so every check can
// report and go on; the loader (and the deadlock check after it) throws them all at once.
import { PlanError, type PlanIssue } from './issues.js';
import type { SourceLoc } from '../contract/plan.js';
import type { PlanSource, YamlPath } from './source.js';

export interface IssueOptions {
  hint?: string;
  /** Point at the key instead of the value (unknown keys, duplicate names). */
  at?: 'key' | 'value';
  /** Offset inside the string value (a template expression), 0-based in the parsed string. */
  offset?: number;
  severity?: 'error' | 'warning';
}

/**
 * Issues already positioned (the deadlock check finds its positions in the
 * compiled steps): long quotes shortened, repeats dropped, thrown at once.
 */
export class IssueList {
  readonly issues: PlanIssue[] = [];
  /** line:col:message of every issue, so a repeated report is dropped without scanning them all. */
  private readonly seen = new Set<string>();

  push(raw: PlanIssue): void {
    const issue = { ...raw, message: shortenQuotes(raw.message), ...(raw.hint !== undefined ? { hint: shortenQuotes(raw.hint) } : {}) };
    const key = `${issue.line}:${issue.col}:${issue.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.issues.push(issue);
  }

  get hasErrors(): boolean {
    return this.issues.some((i) => i.severity === 'error');
  }

  /** Throws every issue found (warnings too), in file order, when one is an error. */
  throwIfErrors(): void {
    if (this.hasErrors) throw new PlanError(sortIssues(this.issues));
  }
}

/** The loader's issues, positioned by their YAML path in the plan's source. */
export class IssueCollector extends IssueList {
  /** Top-level sections whose issues are dropped (see sections.ts). */
  private readonly muted = new Set<string>();

  constructor(readonly source: PlanSource) {
    super();
  }

  mute(sections: Iterable<string>): void {
    for (const s of sections) this.muted.add(s);
  }

  error(path: YamlPath, message: string, options: IssueOptions = {}): void {
    if (typeof path[0] === 'string' && this.muted.has(path[0])) return;
    const pos = this.source.position(path, options.at ?? 'value', options.offset);
    this.push({ file: this.source.file, line: pos.line, col: pos.col, message, severity: options.severity ?? 'error', ...(options.hint ? { hint: options.hint } : {}) });
  }

  loc(path: YamlPath, at: 'key' | 'value' = 'value'): SourceLoc {
    const pos = this.source.position(path, at);
    return { file: this.source.file, line: pos.line, col: pos.col };
  }
}

/** Longest `quoted` plan text kept whole in a message; longer ones keep their start and end. */
export const MAX_QUOTE = 80;

// Messages quote the plan's own text (keys, values, expressions): a 10 MB value
// must not become a 10 MB message.
function shortenQuotes(text: string): string {
  return text.replace(/`([^`]*)`/g, (whole, inner: string) => (inner.length <= MAX_QUOTE ? whole : `\`${shorten(inner)}\` (${inner.length} characters)`));
}

function shorten(text: string): string {
  return text.length <= MAX_QUOTE ? text : `${text.slice(0, MAX_QUOTE - 20)}…${text.slice(-19)}`;
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
    else out += `[${JSON.stringify(shorten(seg))}]`;
  }
  return out || 'the plan';
}
