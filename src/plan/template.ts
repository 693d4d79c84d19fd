// `{{ expr }}` templates. Parsed once at load time; rendering only walks the
// pre-checked expression trees. See expression.ts for the language itself.
import { compileExpression, ExpressionError, toText, type CompiledExpression, type ExpressionRef } from './expression.js';
import type { Template, TemplateScope, ValueTemplate } from '../contract/plan.js';

/** A template that failed to parse; `column` is 1-based inside the template source. */
export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly column: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A reference of a template (vars.X, captures.X…) with its 0-based offset in the template source. */
export interface TemplateRef extends ExpressionRef {
  /** Offset of the root name in the template source. */
  offset: number;
}

export interface CompiledTemplate extends Template {
  readonly refs: TemplateRef[];
}

type Part = string | CompiledExpression;

const OPEN = '{{';
const CLOSE = '}}';

export function compileTemplate(source: string): CompiledTemplate {
  const parts: Part[] = [];
  const refs: TemplateRef[] = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf(OPEN, pos);
    if (open < 0) {
      parts.push(source.slice(pos));
      break;
    }
    if (open > pos) parts.push(source.slice(pos, open));
    const close = source.indexOf(CLOSE, open + OPEN.length);
    if (close < 0) throw new TemplateSyntaxError('`{{` is never closed with `}}`', open + 1);
    const start = open + OPEN.length;
    const text = source.slice(start, close);
    if (text.trim() === '') throw new TemplateSyntaxError('empty `{{ }}`', open + 1);
    let expr: CompiledExpression;
    try {
      expr = compileExpression(text);
    } catch (err) {
      if (err instanceof ExpressionError) throw new TemplateSyntaxError(err.message, start + err.index + 1, err.hint);
      throw err;
    }
    for (const r of expr.refs) refs.push({ ...r, offset: start + r.index });
    parts.push(expr);
    pos = close + CLOSE.length;
  }
  return makeTemplate(source, parts, refs);
}

/** Compiles a bare expression (no braces), e.g. an `if:` written as `round > 1`. */
export function compileExpressionTemplate(source: string): CompiledTemplate {
  let expr: CompiledExpression;
  try {
    expr = compileExpression(source);
  } catch (err) {
    if (err instanceof ExpressionError) throw new TemplateSyntaxError(err.message, err.index + 1, err.hint);
    throw err;
  }
  return makeTemplate(
    source,
    [expr],
    expr.refs.map((r) => ({ ...r, offset: r.index })),
  );
}

function makeTemplate(source: string, parts: Part[], refs: TemplateRef[]): CompiledTemplate {
  const isStatic = parts.every((p) => typeof p === 'string');
  const only = parts.length === 1 && typeof parts[0] !== 'string' ? parts[0] : undefined;
  const renderString = (scope: TemplateScope): string => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : toText(p.evaluate(scope));
    return out;
  };
  return {
    source,
    isStatic,
    refs,
    // A string that is one whole `{{ expr }}` keeps the value's type (number, list…).
    render: only ? (scope) => only.evaluate(scope) : isStatic ? () => source : renderString,
    renderString: isStatic ? () => source : renderString,
  };
}

/** Compiles every string inside a JSON-like value as a template. */
export function compileValue(value: unknown): ValueTemplate {
  const build = compileValueNode(value);
  return { render: (scope) => build(scope) };
}

function compileValueNode(value: unknown): (scope: TemplateScope) => unknown {
  if (typeof value === 'string') {
    const t = compileTemplate(value);
    return t.isStatic ? () => value : (scope) => t.render(scope);
  }
  if (Array.isArray(value)) {
    const items = value.map(compileValueNode);
    return (scope) => items.map((f) => f(scope));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, compileValueNode(v)] as const);
    return (scope) => {
      const out: Record<string, unknown> = {};
      for (const [k, f] of entries) out[k] = f(scope);
      return out;
    };
  }
  return () => value;
}
