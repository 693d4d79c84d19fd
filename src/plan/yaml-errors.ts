// YAML syntax problems (tabs, indentation, duplicate keys, unclosed quotes) as plan issues.
import type { IssueCollector } from './collector.js';
import type { PlanSource } from './source.js';

const FRIENDLY: Record<string, string> = {
  TAB_AS_INDENT: 'tabs are not allowed for indentation in YAML: indent with spaces',
  DUPLICATE_KEY: 'duplicate key',
  MISSING_CHAR: 'a quote, bracket or brace is never closed',
  BAD_INDENT: 'bad indentation',
  MULTILINE_IMPLICIT_KEY: 'a key must be on one line: is a `:` or an indentation wrong above?',
  UNEXPECTED_TOKEN: 'unexpected text',
  BLOCK_AS_IMPLICIT_KEY: 'nested block in a key: check the indentation',
};

export function reportYamlErrors(source: PlanSource, issues: IssueCollector): void {
  for (const e of source.doc.errors) {
    const pos = source.positionOf(e.pos[0]);
    const detail = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const friendly = FRIENDLY[e.code];
    let message = friendly && e.code !== 'UNEXPECTED_TOKEN' ? friendly : `YAML: ${detail}`;
    if (e.code === 'DUPLICATE_KEY') message = duplicateKeyMessage(source, e.pos[0]);
    issues.push({ file: source.file, line: pos.line, col: pos.col, message, severity: 'error' });
  }
}

function duplicateKeyMessage(source: PlanSource, offset: number): string {
  const key = /^[^:\n]*/.exec(source.text.slice(offset))?.[0]?.trim().replace(/^["']|["']$/g, '');
  return key ? `duplicate key \`${key}\`: each key appears once in a map` : 'duplicate key: each key appears once in a map';
}
