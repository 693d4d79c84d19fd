// YAML syntax problems (tabs, indentation, duplicate keys, unclosed quotes) as
// plan issues, pointing where the fix goes: the opening quote or brace that is
// never closed, the first character of a badly indented key.
import { isAlias, visit, type YAMLError } from 'yaml';
import type { IssueCollector } from './issue-collector.js';
import type { PlanSource } from './source.js';

// After the first syntax error yaml often reports every following token too;
// one error per line, and a handful at most, is what helps.
const MAX_YAML_ERRORS = 5;

export function reportYamlErrors(source: PlanSource, issues: IssueCollector): void {
  const lines = new Set<number>();
  for (const e of source.doc.errors) {
    const { offset, message, hint } = describe(source.text, e);
    const pos = source.positionOf(offset);
    if (lines.has(pos.line)) continue;
    if (lines.size >= MAX_YAML_ERRORS) break;
    lines.add(pos.line);
    issues.push({ file: source.file, line: pos.line, col: pos.col, message, severity: 'error', ...(hint ? { hint } : {}) });
  }
}

function describe(text: string, e: YAMLError): { offset: number; message: string; hint?: string } {
  const at = e.pos[0];
  const yamlMessage = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  switch (e.code) {
    case 'TAB_AS_INDENT':
      return { offset: at, message: 'tabs are not allowed for indentation in YAML', hint: 'indent with spaces' };
    case 'DUPLICATE_KEY': {
      const key = /^[^:\n]*/.exec(text.slice(at))?.[0]?.trim().replace(/^["']|["']$/g, '');
      return { offset: at, message: `duplicate key${key ? ` \`${key}\`` : ''}: a key appears once in a map`, hint: 'remove or rename one of them' };
    }
    case 'MISSING_CHAR': {
      const quote = /closing (["'])/.exec(yamlMessage)?.[1];
      if (quote) return { offset: lastIndexBefore(text, quote, at), message: `the ${quote} quote opened here is never closed`, hint: `add the closing ${quote}` };
      return { offset: at, message: lowerFirst(yamlMessage) };
    }
    case 'BAD_INDENT': {
      const flow = /Flow (map|sequence)/.exec(yamlMessage)?.[1];
      if (flow) {
        const open = flow === 'map' ? '{' : '[';
        const close = flow === 'map' ? '}' : ']';
        return { offset: lastIndexBefore(text, open, at), message: `the \`${open}\` opened here is never closed`, hint: `add \`${close}\`, or indent the lines that continue it` };
      }
      return { offset: firstNonSpace(text, at), message: `bad indentation: ${lowerFirst(yamlMessage)}`, hint: 'line the keys of one map up in the same column, with spaces' };
    }
    default:
      return { offset: firstNonSpace(text, at), message: `YAML: ${lowerFirst(yamlMessage)}` };
  }
}

function lastIndexBefore(text: string, ch: string, offset: number): number {
  const i = text.lastIndexOf(ch, Math.max(0, offset - 1));
  return i < 0 ? offset : i;
}

function firstNonSpace(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return i < text.length && text[i] !== '\n' ? i : offset;
}

function lowerFirst(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}

/** The document as plain data; aliases without an anchor (or alias bombs) become issues. */
export function toData(source: PlanSource, issues: IssueCollector): unknown {
  try {
    return source.doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    let reported = false;
    visit(source.doc, {
      Alias(_, node) {
        if (isAlias(node) && node.resolve(source.doc) === undefined && node.range) {
          const pos = source.positionOf(node.range[0]);
          issues.push({ file: source.file, line: pos.line, col: pos.col, severity: 'error', message: `the alias \`*${node.source}\` has no anchor \`&${node.source}\` before it` });
          reported = true;
        }
      },
    });
    if (!reported) issues.push({ file: source.file, line: 1, col: 1, severity: 'error', message: `YAML: ${(err as Error).message}` });
    return undefined;
  }
}
