// The restricted expression language inside `{{ }}`: parsed by jsep, evaluated by
// walking the tree. No eval, no Function, no prototype access: an expression can
// only read the template scope and call the whitelisted functions below.
import jsep from 'jsep';
import { checkLiteralArguments, generate } from './generated.js';
import type { TemplateScope } from '../contract/plan.js';
import { systemRandom } from './random.js';

export const ROOTS = ['worker', 'round', 'run', 'vars', 'captures', 'shared', 'env', 'data'] as const;
export type Root = (typeof ROOTS)[number];

const BINARY_OPS = new Set(['+', '-', '*', '/', '%', '==', '!=', '===', '!==', '<', '>', '<=', '>=', '&&', '||', '??']);
const UNARY_OPS = new Set(['-', '+', '!']);
// Bounds that keep parsing and checking (both recursive) far from the call stack's
// limit: no real template needs a longer expression or deeper nesting.
export const MAX_EXPRESSION_LENGTH = 1000;
export const MAX_EXPRESSION_DEPTH = 100;
// Property names that would reach past plain data into JavaScript internals.
const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);

/** A function is called with the scope as `this`: generators draw from its random source. */
export const FUNCTIONS: Record<string, (this: TemplateScope, ...args: unknown[]) => unknown> = {
  upper: (v) => toText(v).toUpperCase(),
  lower: (v) => toText(v).toLowerCase(),
  trim: (v) => toText(v).trim(),
  default: (v, fallback) => (v === undefined || v === null || v === '' ? fallback : v),
  json: (v) => JSON.stringify(v ?? null),
  urlencode: (v) => encodeURIComponent(toText(v)),
  length: (v) => (typeof v === 'string' || Array.isArray(v) ? v.length : isPlainObject(v) ? Object.keys(v).length : 0),
  int: (v) => {
    const n = typeof v === 'number' ? v : Number.parseInt(toText(v), 10);
    return Number.isFinite(n) ? Math.trunc(n) : 0;
  },
  str: (v) => toText(v),
  uuid() {
    return generate.uuid(this.random ?? systemRandom);
  },
  randomInt(min, max) {
    return generate.randomInt(this.random ?? systemRandom, min, max);
  },
  randomChoice(list) {
    return generate.randomChoice(this.random ?? systemRandom, list);
  },
  randomString(length, alphabet) {
    return generate.randomString(this.random ?? systemRandom, length, alphabet);
  },
  now: (format) => generate.now(format),
  dateOffset: (offset, format) => generate.dateOffset(offset, format),
  base64encode: (v) => generate.base64encode(toText(v)),
  base64decode: (v) => generate.base64decode(toText(v)),
  sha256: (v) => generate.sha256(toText(v)),
};

/** How many arguments each function takes (min, max). */
const ARITY: Record<string, [number, number]> = {
  upper: [1, 1],
  lower: [1, 1],
  trim: [1, 1],
  default: [2, 2],
  json: [1, 1],
  urlencode: [1, 1],
  length: [1, 1],
  int: [1, 1],
  str: [1, 1],
  uuid: [0, 0],
  randomInt: [2, 2],
  randomChoice: [1, 1],
  randomString: [1, 2],
  now: [0, 1],
  dateOffset: [1, 2],
  base64encode: [1, 1],
  base64decode: [1, 1],
  sha256: [1, 1],
};

/** A problem in an expression; `index` is the 0-based offset inside the expression text. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly index: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

// A plan reads only the environment variables it names, so no expression can
// enumerate the environment (`json(env)`) and send it to the target.
const ENV_HINT = 'name the variable: env.NAME, e.g. {{ env.HOME }}';

/** A reference like `vars.name` or `captures.token`, with the offset of the root inside the expression. */
export interface ExpressionRef {
  root: Root;
  /** The first property after the root, when it is a plain name or string literal. */
  key?: string;
  /** The property after `key`, likewise (`data.users.email` → email), and its offset in the expression. */
  subkey?: string;
  subkeyIndex?: number;
  index: number;
}

export interface CompiledExpression {
  readonly source: string;
  readonly refs: ExpressionRef[];
  evaluate(scope: TemplateScope): unknown;
}

type Node = jsep.Expression;

/** Parses and checks an expression; throws ExpressionError with the offset of the problem. */
export function compileExpression(source: string): CompiledExpression {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(`expression too long: ${source.length} characters, at most ${MAX_EXPRESSION_LENGTH}`, 0);
  }
  let ast: Node;
  try {
    ast = jsep(source);
  } catch (err) {
    const e = err as Error & { index?: number; description?: string };
    throw new ExpressionError(e.description ?? e.message, e.index ?? 0);
  }
  if (!ast || (ast.type === 'Compound' && (ast as jsep.Compound).body.length === 0)) {
    throw new ExpressionError('empty expression', 0);
  }
  const refs: ExpressionRef[] = [];
  check(ast, source, refs, 1);
  return { source, refs, evaluate: (scope) => evaluate(ast, scope) };
}

// jsep nodes carry no offsets, so problems are located by searching the source
// for the offending token; good enough for a caret under the right word.
function locate(source: string, token: string, from = 0): number {
  const i = source.indexOf(token, from);
  return Math.max(0, i);
}

function check(node: Node, source: string, refs: ExpressionRef[], depth: number): void {
  if (depth > MAX_EXPRESSION_DEPTH) throw new ExpressionError(`expression too deeply nested: more than ${MAX_EXPRESSION_DEPTH} levels of operators, calls or brackets`, 0);
  const sub = (n: Node) => check(n, source, refs, depth + 1);
  switch (node.type) {
    case 'Literal':
      return;
    case 'Identifier': {
      const name = (node as jsep.Identifier).name;
      if (name === 'env')
        throw new ExpressionError('`env` cannot be read as a whole: a plan reads only the environment variables it names', identifierIndex(source, name), ENV_HINT);
      if (!(ROOTS as readonly string[]).includes(name)) {
        const hint = isFunction(name) ? ` (${name} is a function: ${name}(…))` : `; use one of ${ROOTS.join(', ')}`;
        throw new ExpressionError(`unknown name \`${name}\`${hint}`, identifierIndex(source, name));
      }
      refs.push({ root: name as Root, index: identifierIndex(source, name) });
      return;
    }
    case 'MemberExpression': {
      const m = node as jsep.MemberExpression;
      const key = propertyKey(m);
      if (m.object.type === 'Identifier' && (m.object as jsep.Identifier).name === 'env') {
        const index = identifierIndex(source, 'env');
        if (key === undefined) throw new ExpressionError('`env[…]` needs a literal name: a plan reads only the environment variables it names', index, ENV_HINT);
        refs.push({ root: 'env', key, index });
        return;
      }
      sub(m.object);
      if (m.computed) sub(m.property);
      if (key !== undefined && FORBIDDEN_KEYS.has(key)) throw new ExpressionError(`\`${key}\` cannot be read`, locate(source, key));
      // Remember the first key under a root (vars.X, captures.X) for reference checks.
      if (m.object.type === 'Identifier' && key !== undefined) {
        const ref = [...refs].reverse().find((r) => r.root === (m.object as jsep.Identifier).name && r.key === undefined);
        if (ref) ref.key = key;
      }
      // And the one after it (data.users.email), for column checks.
      const inner = m.object.type === 'MemberExpression' ? (m.object as jsep.MemberExpression) : undefined;
      const innerKey = inner ? propertyKey(inner) : undefined;
      if (inner?.object.type === 'Identifier' && innerKey !== undefined && key !== undefined) {
        const ref = [...refs].reverse().find((r) => r.root === (inner.object as jsep.Identifier).name && r.key === innerKey && r.subkey === undefined);
        if (ref) Object.assign(ref, { subkey: key, subkeyIndex: locate(source, key, locate(source, innerKey, ref.index) + innerKey.length) });
      }
      return;
    }
    case 'CallExpression': {
      const c = node as jsep.CallExpression;
      if (c.callee.type !== 'Identifier' || !isFunction((c.callee as jsep.Identifier).name)) {
        const name = c.callee.type === 'Identifier' ? (c.callee as jsep.Identifier).name : '';
        throw new ExpressionError(`unknown function${name ? ` \`${name}\`` : ''}; functions are ${Object.keys(FUNCTIONS).join(', ')}`, name ? locate(source, name) : 0);
      }
      const name = (c.callee as jsep.Identifier).name;
      const [min, max] = ARITY[name]!;
      if (c.arguments.length < min || c.arguments.length > max) {
        throw new ExpressionError(`${name}() takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}`, locate(source, name));
      }
      const misuse = checkLiteralArguments(name, c.arguments);
      if (misuse) throw new ExpressionError(misuse, locate(source, name));
      for (const a of c.arguments) sub(a);
      return;
    }
    case 'BinaryExpression': {
      const b = node as jsep.BinaryExpression;
      if (!BINARY_OPS.has(b.operator)) throw new ExpressionError(`operator \`${b.operator}\` is not allowed`, locate(source, b.operator));
      sub(b.left);
      sub(b.right);
      return;
    }
    case 'UnaryExpression': {
      const u = node as jsep.UnaryExpression;
      if (!UNARY_OPS.has(u.operator)) throw new ExpressionError(`operator \`${u.operator}\` is not allowed`, locate(source, u.operator));
      sub(u.argument);
      return;
    }
    case 'ConditionalExpression': {
      const t = node as jsep.ConditionalExpression;
      sub(t.test);
      sub(t.consequent);
      sub(t.alternate);
      return;
    }
    case 'ArrayExpression':
      for (const el of (node as jsep.ArrayExpression).elements) if (el) sub(el);
      return;
    case 'Compound':
      throw new ExpressionError('one expression only: missing an operator between two values?', compoundIndex(source));
    case 'SequenceExpression':
      throw new ExpressionError('one expression only: `,` outside a function call', locate(source, ','));
    case 'ThisExpression':
      throw new ExpressionError('`this` is not available', locate(source, 'this'));
    default:
      throw new ExpressionError(`${node.type} is not supported`, 0);
  }
}

// Own keys only: `in` would also find toString, constructor, __proto__… on the prototype.
function isFunction(name: string): boolean {
  return Object.hasOwn(FUNCTIONS, name);
}

function identifierIndex(source: string, name: string): number {
  const re = new RegExp(`(?<![\\w.$])${name.replace(/[$]/g, '\\$')}(?![\\w$])`);
  const m = re.exec(source);
  return m ? m.index : 0;
}

function compoundIndex(source: string): number {
  // The second value starts after the first run of whitespace following a token.
  const m = /\S\s+(?=\S)/.exec(source.trim());
  const lead = source.length - source.trimStart().length;
  return m ? lead + m.index + m[0].length : 0;
}

function propertyKey(m: jsep.MemberExpression): string | undefined {
  if (!m.computed && m.property.type === 'Identifier') return (m.property as jsep.Identifier).name;
  if (m.computed && m.property.type === 'Literal') return String((m.property as jsep.Literal).value);
  return undefined;
}

function evaluate(node: Node, scope: TemplateScope): unknown {
  switch (node.type) {
    case 'Literal':
      return (node as jsep.Literal).value;
    case 'Identifier':
      return scope[(node as jsep.Identifier).name as Root];
    case 'MemberExpression': {
      const m = node as jsep.MemberExpression;
      const obj = evaluate(m.object, scope);
      const key = m.computed ? evaluate(m.property, scope) : (m.property as jsep.Identifier).name;
      return readMember(obj, key);
    }
    case 'CallExpression': {
      const c = node as jsep.CallExpression;
      const fn = FUNCTIONS[(c.callee as jsep.Identifier).name]!;
      return fn.apply(
        scope,
        c.arguments.map((a) => evaluate(a, scope)),
      );
    }
    case 'BinaryExpression': {
      const b = node as jsep.BinaryExpression;
      if (b.operator === '&&') return evaluate(b.left, scope) && evaluate(b.right, scope);
      if (b.operator === '||') return evaluate(b.left, scope) || evaluate(b.right, scope);
      if (b.operator === '??') return evaluate(b.left, scope) ?? evaluate(b.right, scope);
      return binary(b.operator, evaluate(b.left, scope), evaluate(b.right, scope));
    }
    case 'UnaryExpression': {
      const u = node as jsep.UnaryExpression;
      const v = evaluate(u.argument, scope);
      return u.operator === '!' ? !v : u.operator === '-' ? -Number(v) : Number(v);
    }
    case 'ConditionalExpression': {
      const t = node as jsep.ConditionalExpression;
      return evaluate(t.test, scope) ? evaluate(t.consequent, scope) : evaluate(t.alternate, scope);
    }
    case 'ArrayExpression':
      return (node as jsep.ArrayExpression).elements.map((e) => (e ? evaluate(e, scope) : undefined));
    default:
      return undefined;
  }
}

// Only own data: strings and arrays by index (plus length), plain objects by own key.
function readMember(obj: unknown, key: unknown): unknown {
  if (obj === null || obj === undefined) return undefined;
  const k = typeof key === 'number' ? key : String(key);
  if (typeof k === 'string' && FORBIDDEN_KEYS.has(k)) return undefined;
  if (typeof obj === 'string' || Array.isArray(obj)) {
    if (k === 'length') return obj.length;
    const i = typeof k === 'number' ? k : /^\d+$/.test(k) ? Number(k) : NaN;
    return Number.isInteger(i) ? obj[i] : undefined;
  }
  if (typeof obj === 'object' && Object.hasOwn(obj, k)) {
    const v = (obj as Record<string | number, unknown>)[k];
    return typeof v === 'function' ? undefined : v;
  }
  return undefined;
}

function binary(op: string, a: unknown, b: unknown): unknown {
  switch (op) {
    case '+':
      return typeof a === 'number' && typeof b === 'number' ? a + b : toText(a) + toText(b);
    case '-':
      return Number(a) - Number(b);
    case '*':
      return Number(a) * Number(b);
    case '/':
      return Number(a) / Number(b);
    case '%':
      return Number(a) % Number(b);
    case '==':
    case '===':
      return looseEqual(a, b);
    case '!=':
    case '!==':
      return !looseEqual(a, b);
    case '<':
      return compare(a, b) < 0;
    case '>':
      return compare(a, b) > 0;
    case '<=':
      return compare(a, b) <= 0;
    case '>=':
      return compare(a, b) >= 0;
    default:
      return undefined;
  }
}

// `==` compares numbers with numeric strings by value (captures are often strings), nothing else is coerced.
function looseEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'string' && b.trim() !== '') return a === Number(b);
  if (typeof b === 'number' && typeof a === 'string' && a.trim() !== '') return b === Number(a);
  return a === b;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN;
}

/** How a value appears inside a string template. */
export function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
