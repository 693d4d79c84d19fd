// Generated values for templates: uuid(), randomInt(), randomChoice(),
// randomString(), now(), dateOffset(), base64encode/decode(), sha256().
// Each function's argument check runs twice: at validate on the arguments
// written as literals (`randomInt('a', 2)`), and at run time on the values the
// arguments evaluated to, so both refuse the same things with the same words.
import { createHash } from 'node:crypto';
import type jsep from 'jsep';
import type { RandomSource } from './random.js';

/** An argument whose value is only known at run time (a reference, a call…). */
const UNKNOWN = Symbol('unknown');
type Arg = unknown;

export const TIME_FORMATS = ['ms', 's', 'iso', 'date'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];
export const MAX_RANDOM_STRING = 65_536;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const OFFSET_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const known = (v: Arg): boolean => v !== UNKNOWN;
const show = (v: Arg): string => (typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v)));

// Numbers from CSV rows and captures arrive as strings: "42" is a whole number too.
function wholeNumber(v: Arg): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

function checkWhole(fn: string, v: Arg): string | undefined {
  return !known(v) || wholeNumber(v) !== undefined ? undefined : `${fn}() takes whole numbers: ${show(v)} is not one`;
}

function checkFormat(fn: string, v: Arg): string | undefined {
  if (!known(v) || v === undefined || (TIME_FORMATS as readonly unknown[]).includes(v)) return undefined;
  return `${fn}(): the format is one of ${TIME_FORMATS.map((f) => `'${f}'`).join(', ')}, not ${show(v)}`;
}

/** `-2d`, `+1h30m`, `90s`, `1.5h` → signed milliseconds; undefined when it is not an offset. */
export function parseOffset(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^([+-]?)((?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+)$/.exec(text.replace(/\s+/g, ''));
  if (!m) return undefined;
  let total = 0;
  for (const [, n, unit] of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) total += Number(n) * OFFSET_UNITS[unit!]!;
  return m[1] === '-' ? -total : total;
}

/** What is wrong with a call's arguments, or undefined; UNKNOWN arguments pass. */
const CHECKS: Record<string, (args: Arg[]) => string | undefined> = {
  randomInt: ([min, max]) => {
    const bad = checkWhole('randomInt', min) ?? checkWhole('randomInt', max);
    if (bad || !known(min) || !known(max)) return bad;
    return wholeNumber(min)! > wholeNumber(max)! ? `randomInt(): min ${show(min)} is larger than max ${show(max)}` : undefined;
  },
  randomChoice: ([list]) => {
    if (!known(list)) return undefined;
    if (!Array.isArray(list)) return `randomChoice() takes a list, e.g. randomChoice(['a', 'b']), not ${show(list)}`;
    return list.length === 0 ? 'randomChoice() got an empty list' : undefined;
  },
  randomString: ([length, alphabet]) => {
    const n = wholeNumber(length);
    if (known(length) && (n === undefined || n < 0 || n > MAX_RANDOM_STRING)) {
      return `randomString(): the length is a whole number from 0 to ${MAX_RANDOM_STRING}, not ${show(length)}`;
    }
    if (known(alphabet) && alphabet !== undefined && (typeof alphabet !== 'string' || alphabet === '')) {
      return `randomString(): the alphabet is a non-empty string of the characters to use, not ${show(alphabet)}`;
    }
    return undefined;
  },
  now: ([format]) => checkFormat('now', format),
  dateOffset: ([offset, format]) => {
    if (known(offset) && parseOffset(offset) === undefined) {
      return `dateOffset(): ${show(offset)} is not an offset; write e.g. '-2d', '+1h30m' or '90s' (units ms, s, m, h, d, w)`;
    }
    return checkFormat('dateOffset', format);
  },
};

function checked(fn: string, args: Arg[]): void {
  const problem = CHECKS[fn]?.(args);
  if (problem) throw new Error(problem);
}

function formatTime(ms: number, format: unknown): number | string {
  switch ((format ?? 'ms') as TimeFormat) {
    case 's':
      return Math.floor(ms / 1000);
    case 'iso':
      return new Date(ms).toISOString();
    case 'date':
      return new Date(ms).toISOString().slice(0, 10);
    default:
      return ms;
  }
}

/** The generators, taking the caller's random source first; text arguments are already strings. */
export const generate = {
  uuid: (random: RandomSource) => random.uuid(),
  randomInt: (random: RandomSource, min: Arg, max: Arg) => {
    checked('randomInt', [min, max]);
    const lo = wholeNumber(min)!;
    return lo + Math.floor(random.next() * (wholeNumber(max)! - lo + 1));
  },
  randomChoice: (random: RandomSource, list: Arg) => {
    checked('randomChoice', [list]);
    const items = list as unknown[];
    return items[Math.floor(random.next() * items.length)];
  },
  randomString: (random: RandomSource, length: Arg, alphabet: Arg) => {
    checked('randomString', [length, alphabet]);
    const chars = [...((alphabet as string | undefined) ?? ALPHANUMERIC)];
    let out = '';
    for (let i = wholeNumber(length)!; i > 0; i--) out += chars[Math.floor(random.next() * chars.length)];
    return out;
  },
  now: (format: Arg) => {
    checked('now', [format]);
    return formatTime(Date.now(), format);
  },
  dateOffset: (offset: Arg, format: Arg) => {
    checked('dateOffset', [offset, format]);
    return formatTime(Date.now() + parseOffset(offset)!, format);
  },
  base64encode: (text: string) => Buffer.from(text, 'utf8').toString('base64'),
  base64decode: (text: string) => Buffer.from(text, 'base64').toString('utf8'),
  sha256: (text: string) => createHash('sha256').update(text, 'utf8').digest('hex'),
};

/** Refuses, at validate, a call whose literal arguments can never work (`randomString(-1)`). */
export function checkLiteralArguments(name: string, args: jsep.Expression[]): string | undefined {
  return CHECKS[name]?.(args.map(literalValue));
}

// The value of an argument written as a literal: 'a', 2, -1, ['x', 'y']; UNKNOWN otherwise.
function literalValue(node: jsep.Expression): Arg {
  if (node.type === 'Literal') return (node as jsep.Literal).value;
  if (node.type === 'UnaryExpression') {
    const u = node as jsep.UnaryExpression;
    const v = literalValue(u.argument);
    if (typeof v === 'number' && (u.operator === '-' || u.operator === '+')) return u.operator === '-' ? -v : v;
    return UNKNOWN;
  }
  // A list is a list even when its items are only known at run time.
  if (node.type === 'ArrayExpression') return (node as jsep.ArrayExpression).elements.map((e) => (e ? literalValue(e) : undefined));
  return UNKNOWN;
}
