// Human text for plan errors: `file:line:col: error: message`, the line with a
// caret under the column, and the hint.
import { readFileSync } from 'node:fs';
import type { PlanError, PlanIssue } from './issues.js';
import { painter } from '../text/colour.js';
import { plural } from '../text/plural.js';

export interface FormatOptions {
  color?: boolean;
  /** File texts by name; read from disk when missing. */
  sources?: Record<string, string>;
}

export function formatPlanError(err: PlanError, options: FormatOptions = {}): string {
  const errors = err.issues.filter((i) => i.severity === 'error').length;
  const count = `${plural(errors, 'error')} in ${[...new Set(err.issues.map((i) => i.file))].join(', ')}`;
  return `${formatIssues(err.issues, options)}\n\n${count}`;
}

/** Each issue with its code frame, blank-line separated (warnings printed on their own use this too). */
export function formatIssues(issues: PlanIssue[], options: FormatOptions = {}): string {
  const lines = new Map<string, string[] | undefined>();
  const linesOf = (file: string) => {
    if (!lines.has(file)) {
      let text = options.sources?.[file];
      if (text === undefined) {
        try {
          text = readFileSync(file, 'utf8');
        } catch {
          text = undefined;
        }
      }
      lines.set(file, text?.split(/\r?\n/));
    }
    return lines.get(file);
  };
  return issues.map((issue) => formatIssue(issue, linesOf(issue.file), options.color ?? false)).join('\n\n');
}

export function formatIssue(issue: PlanIssue, fileLines: string[] | undefined, color: boolean): string {
  const paint = painter(color);
  const red = (s: string) => paint(['red', 'bold'], s);
  const yellow = (s: string) => paint(['yellow', 'bold'], s);
  const dim = (s: string) => paint('dim', s);
  const cyan = (s: string) => paint('cyan', s);
  const sev = issue.severity === 'error' ? red('error') : yellow('warning');
  const parts = [`${issue.file}:${issue.line}:${issue.col}: ${sev}: ${issue.message}`];
  const line = fileLines?.[issue.line - 1];
  if (line !== undefined) {
    const gutter = String(issue.line).length;
    const prev = fileLines?.[issue.line - 2];
    if (prev !== undefined && prev.trim() !== '') parts.push(dim(`  ${String(issue.line - 1).padStart(gutter)} | ${prev}`));
    parts.push(`${red('>')} ${String(issue.line).padStart(gutter)} | ${line}`);
    // Keep tabs so the caret lines up with the text above it.
    const pad = line.slice(0, Math.max(0, issue.col - 1)).replace(/[^\t]/g, ' ');
    parts.push(`  ${' '.repeat(gutter)} | ${pad}${red('^')}`);
  }
  if (issue.hint) parts.push(`  ${cyan('hint:')} ${issue.hint}`);
  return parts.join('\n');
}
