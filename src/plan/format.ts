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
  const shown = err.issues.slice(0, MAX_PRINTED);
  const more = err.issues.length - shown.length;
  return `${formatIssues(shown, options)}${more > 0 ? `\n\n… and ${more} more` : ''}\n\n${count}`;
}

/** Issues printed with their code frame; the rest are counted (a generated plan can have thousands). */
export const MAX_PRINTED = 50;

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
  const fullLine = fileLines?.[issue.line - 1];
  if (fullLine !== undefined) {
    const gutter = String(issue.line).length;
    const { line, col } = clip(fullLine, issue.col);
    const prevLine = fileLines?.[issue.line - 2];
    if (prevLine !== undefined && prevLine.trim() !== '') parts.push(dim(`  ${String(issue.line - 1).padStart(gutter)} | ${clip(prevLine, issue.col).line}`));
    parts.push(`${red('>')} ${String(issue.line).padStart(gutter)} | ${line}`);
    // Keep tabs so the caret lines up with the text above it.
    const pad = line.slice(0, Math.max(0, col - 1)).replace(/[^\t]/g, ' ');
    parts.push(`  ${' '.repeat(gutter)} | ${pad}${red('^')}`);
  }
  if (issue.hint) parts.push(`  ${cyan('hint:')} ${issue.hint}`);
  return parts.join('\n');
}

/** Widest source line shown in a frame: a minified or generated line can be megabytes long. */
export const FRAME_WIDTH = 160;

/** `line` cut to FRAME_WIDTH characters around the 1-based column `col`, with `…` where text was left out, and the column moved into the cut. */
export function clip(line: string, col: number): { line: string; col: number } {
  if (line.length <= FRAME_WIDTH) return { line, col };
  const from = Math.max(0, Math.min(col - 1 - FRAME_WIDTH / 4, line.length - FRAME_WIDTH));
  const head = from > 0 ? '…' : '';
  const tail = from + FRAME_WIDTH < line.length ? '…' : '';
  return { line: `${head}${line.slice(from, from + FRAME_WIDTH)}${tail}`, col: col - from + head.length };
}
