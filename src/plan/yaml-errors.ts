// YAML syntax problems (tabs, indentation, duplicate keys, unclosed quotes) as
// plan issues, pointing where the fix goes: the opening quote or brace that is
// never closed, the first character of a badly indented key.
import { isAlias, isCollection, isMap, isPair, isScalar, visit, type Node, type YAMLError } from 'yaml';
import type { IssueCollector } from './issue-collector.js';
import type { PlanSource } from './source.js';

// After the first syntax error yaml often reports every following token too;
// one error per line, and a handful at most, is what helps.
const MAX_YAML_ERRORS = 5;
/** Maps and lists inside each other: a real plan needs a dozen levels; every later stage recurses. */
export const MAX_NESTING = 100;
/** Alias expansions while building the data: more is an alias bomb (a few lines that expand to gigabytes). */
const MAX_ALIAS_COUNT = 1000;

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
    case 'MISSING_CHAR': {
      const quote = /closing (["'])/.exec(yamlMessage)?.[1];
      if (quote) return { offset: lastIndexBefore(text, quote, at), message: `the ${quote} quote opened here is never closed`, hint: `add the closing ${quote}` };
      if (/without - indicator/.test(yamlMessage)) return misindentedItemKey(text, at);
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
    case 'RESOURCE_EXHAUSTION':
      // yaml composes recursively and reports the stack running out where it happened.
      if (/call stack/i.test(yamlMessage)) return { offset: at, message: `the plan nests maps and lists too deeply: at most ${MAX_NESTING} levels` };
      return { offset: firstNonSpace(text, at), message: `YAML: ${lowerFirst(yamlMessage)}` };
    default:
      return { offset: firstNonSpace(text, at), message: `YAML: ${lowerFirst(yamlMessage)}` };
  }
}

/**
 * yaml says "sequence item without - indicator" at the start of the line when a
 * key under a list item is not lined up with the item's first key. Point at the
 * key and say which column it belongs in.
 */
function misindentedItemKey(text: string, at: number): { offset: number; message: string; hint: string } {
  const offset = firstNonSpace(text, at);
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const indent = offset - lineStart;
  const key = /^[^:\n]*/.exec(text.slice(offset))![0].trim();
  const above = text.slice(0, lineStart).split('\n');
  for (let i = above.length - 1; i >= 0; i--) {
    // The item it belongs to: the nearest line above that starts a list item, less indented than the key.
    const item = /^( *)- +([^:\s]+)/.exec(above[i]!);
    if (!item || item[1]!.length >= indent) continue;
    const column = item[0].length - item[2]!.length + 1;
    return {
      offset,
      message: `\`${key}\` is not lined up with the list item on line ${i + 1}`,
      hint: `indent it to column ${column}, under \`${item[2]}\`, to add it to that item, or start a new item with \`- \``,
    };
  }
  return { offset, message: `\`${key}\` is not lined up with the list above it`, hint: 'start each list item with `- ` and line up its keys under the first one' };
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

/** The document as plain data; duplicate keys, aliases without an anchor, aliases inside their own anchor, alias bombs and too deep nesting become issues. */
export function toData(source: PlanSource, issues: IssueCollector): unknown {
  if (!checkStructure(source, issues)) return undefined;
  try {
    return source.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
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
    if (!reported) {
      const bomb = /alias count/i.test((err as Error).message);
      const pos = bomb ? firstAlias(source) : { line: 1, col: 1 };
      issues.push({
        file: source.file,
        ...pos,
        severity: 'error',
        message: bomb ? `the aliases expand to more than ${MAX_ALIAS_COUNT} copies of their anchors` : `YAML: ${(err as Error).message}`,
        ...(bomb ? { hint: 'write the data out, or use fewer aliases of aliases' } : {}),
      });
    }
    return undefined;
  }
}

/**
 * Walks the document without recursion (it may be thousands deep): false, with
 * issues, when a map has a key twice, a collection nests deeper than MAX_NESTING
 * or an alias stands inside the node its anchor names (`&a [*a]` is a list
 * containing itself).
 */
function checkStructure(source: PlanSource, issues: IssueCollector): boolean {
  const at = (node: Node) => source.positionOf(node.range?.[0] ?? 0);
  const stack: Array<[unknown, number]> = [[source.doc.contents, 1]];
  let ok = true;
  let deepReported = false;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (isPair(node)) {
      stack.push([node.value, depth], [node.key, depth]);
    } else if (isCollection(node)) {
      if (depth > MAX_NESTING) {
        if (!deepReported) issues.push({ file: source.file, ...at(node), severity: 'error', message: `the plan nests maps and lists too deeply: at most ${MAX_NESTING} levels` });
        deepReported = true;
        ok = false;
        continue;
      }
      if (isMap(node)) ok = checkUniqueKeys(source, node.items, issues) && ok;
      for (let i = node.items.length - 1; i >= 0; i--) stack.push([node.items[i], depth + 1]);
    } else if (isAlias(node)) {
      const target = node.resolve(source.doc);
      if (target?.range && node.range && target.range[0] <= node.range[0] && node.range[1] <= target.range[1]) {
        issues.push({
          file: source.file,
          ...at(node),
          severity: 'error',
          message: `the alias \`*${node.source}\` is inside the value its anchor \`&${node.source}\` names, so that value would contain itself`,
        });
        ok = false;
      }
    }
  }
  return ok;
}

function checkUniqueKeys(source: PlanSource, pairs: unknown[], issues: IssueCollector): boolean {
  const keys = new Set<string>();
  let ok = true;
  for (const pair of pairs) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    if (!keys.has(key)) {
      keys.add(key);
      continue;
    }
    const pos = source.positionOf(pair.key.range?.[0] ?? 0);
    issues.push({ file: source.file, ...pos, severity: 'error', message: `duplicate key \`${key}\`: a key appears once in a map`, hint: 'remove or rename one of them' });
    ok = false;
  }
  return ok;
}

function firstAlias(source: PlanSource): { line: number; col: number } {
  let pos = { line: 1, col: 1 };
  visit(source.doc, {
    Alias(_, node) {
      if (node.range) pos = source.positionOf(node.range[0]);
      return visit.BREAK;
    },
  });
  return pos;
}
