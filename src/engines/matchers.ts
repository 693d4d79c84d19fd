// Pure checks shared by the HTTP and WebSocket engines and the runtime's standalone
// `capture:` / `expect:` steps: matchers, a small JSON path, response
// expectations and captures from responses and messages. No I/O, no engine state: every function
// here takes values and returns values (or sentences describing a mismatch).
import type { CaptureSpec, HttpExpectSpec, MatcherSpec } from '../contract/plan.js';
import { formatSize } from '../text/bytes.js';
import type { HttpResponseData } from '../contract/engine.js';

// ---------------------------------------------------------------- values

/** Short, single-line rendering of a value for messages. */
export function show(value: unknown, max = 80): string {
  let text: string;
  if (value === undefined) text = 'nothing';
  else if (typeof value === 'string') text = JSON.stringify(value);
  else if (value instanceof RegExp) text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The first characters of a body, whitespace collapsed, for failure messages. */
export function excerpt(body: string, max = 120): string {
  const flat = body
    .slice(0, max * 4)
    .replace(/\s+/g, ' ')
    .trim();
  if (flat.length <= max) return JSON.stringify(flat);
  // Cut at a word boundary when one is near, so the excerpt does not end mid-word.
  const cut = flat.lastIndexOf(' ', max - 1);
  return JSON.stringify(`${flat.slice(0, cut > max - 20 ? cut : max - 1)}…`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Structural equality. A string compared with a number or boolean compares as
 * text, because headers, regex groups and form values are always text while
 * YAML writes `equals: 5`.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a === 'string' && (typeof b === 'number' || typeof b === 'boolean')) return a === String(b);
  if (typeof b === 'string' && (typeof a === 'number' || typeof a === 'boolean')) return b === String(a);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Text a `contains` / `matches` looks into: strings as they are, other values as JSON. */
function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

const COMPARISONS = [
  ['lt', '<', (a: number, b: number) => a < b],
  ['lte', '≤', (a: number, b: number) => a <= b],
  ['gt', '>', (a: number, b: number) => a > b],
  ['gte', '≥', (a: number, b: number) => a >= b],
] as const;

/**
 * Checks `actual` against every condition of the matcher. Returns undefined
 * when all hold, else one sentence naming what differed, e.g.
 * `expected 200, got 404` or `expected a value containing "ok", got "fail"`.
 */
export function matchValue(m: MatcherSpec, actual: unknown): string | undefined {
  const problems: string[] = [];
  if (m.exists !== undefined) {
    const exists = actual !== undefined;
    if (m.exists && !exists) problems.push('expected a value, got nothing');
    if (!m.exists && exists) problems.push(`expected nothing, got ${show(actual)}`);
  }
  // The bounds read by name: through COMPARISONS' keys every read is a megamorphic lookup, at every check of every step.
  const compared = m.lt !== undefined || m.lte !== undefined || m.gt !== undefined || m.gte !== undefined;
  const valueChecks = m.equals !== undefined || m.contains !== undefined || m.notContains !== undefined || m.matches !== undefined || m.oneOf !== undefined || compared;
  if (!valueChecks) return problems.length ? problems.join('; ') : undefined;
  if (actual === undefined) {
    // Every other condition needs a value; one sentence says why they all fail.
    if (m.exists !== false) problems.push(`expected ${describeMatcher(m)}, got nothing`);
    return problems.join('; ');
  }
  if (m.equals !== undefined && !deepEqual(actual, m.equals)) problems.push(`expected ${show(m.equals)}, got ${show(actual)}`);
  if (m.contains !== undefined && !contains(actual, m.contains)) problems.push(`expected a value containing ${show(m.contains)}, got ${show(actual)}`);
  if (m.notContains !== undefined && contains(actual, m.notContains)) problems.push(`expected a value not containing ${show(m.notContains)}, got ${show(actual)}`);
  if (m.matches !== undefined && !m.matches.test(asText(actual))) problems.push(`expected a value matching ${m.matches}, got ${show(actual)}`);
  if (m.oneOf !== undefined && !m.oneOf.some((o) => deepEqual(actual, o))) problems.push(`expected one of ${show(m.oneOf)}, got ${show(actual)}`);
  if (compared)
    for (const [key, symbol, holds] of COMPARISONS) {
      const bound = m[key];
      if (bound === undefined) continue;
      const n = asNumber(actual);
      if (n === undefined) problems.push(`expected a number ${symbol} ${bound}, got ${show(actual)}`);
      else if (!holds(n, bound)) problems.push(`expected a number ${symbol} ${bound}, got ${show(actual)}`);
    }
  return problems.length ? problems.join('; ') : undefined;
}

/** Arrays contain an element equal to the needle; everything else contains it as text. */
function contains(actual: unknown, needle: string): boolean {
  if (Array.isArray(actual)) return actual.some((x) => deepEqual(x, needle));
  return asText(actual).includes(needle);
}

/** The matcher as a phrase: `200`, `a value containing "ok"`, `a number < 5`. */
export function describeMatcher(m: MatcherSpec): string {
  const parts: string[] = [];
  if (m.equals !== undefined) parts.push(show(m.equals));
  if (m.contains !== undefined) parts.push(`a value containing ${show(m.contains)}`);
  if (m.notContains !== undefined) parts.push(`a value not containing ${show(m.notContains)}`);
  if (m.matches !== undefined) parts.push(`a value matching ${m.matches}`);
  if (m.oneOf !== undefined) parts.push(`one of ${show(m.oneOf)}`);
  for (const [key, symbol] of COMPARISONS) if (m[key] !== undefined) parts.push(`a number ${symbol} ${m[key]}`);
  if (m.exists === true && parts.length === 0) parts.push('a value');
  return parts.join(' and ') || 'anything';
}

// ---------------------------------------------------------------- JSON path

type Segment = string | number;
const pathCache = new Map<string, Segment[]>();

/**
 * Parses the JSON path syntax planrun supports:
 *   `$.a.b[0].c`, `a.b.0.c`, `$['key with.dot'].x`, `items[-1]` (last element), `items.length`, `$` (the whole value).
 * Dots separate keys, `[n]` indexes arrays (negative counts from the end), `['k']` / `["k"]` quote a key.
 */
export function parseJsonPath(path: string): Segment[] {
  const cached = pathCache.get(path);
  if (cached) return cached;
  const segments: Segment[] = [];
  let i = path.startsWith('$') ? 1 : 0;
  while (i < path.length) {
    const ch = path[i]!;
    if (ch === '.') {
      i++;
      continue;
    }
    if (ch === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) throw new Error(`JSON path ${show(path)}: "[" at ${i + 1} is never closed`);
      const inner = path.slice(i + 1, close).trim();
      const quoted = /^(['"])(.*)\1$/.exec(inner);
      if (quoted) segments.push(quoted[2]!);
      else if (/^-?\d+$/.test(inner)) segments.push(Number(inner));
      else throw new Error(`JSON path ${show(path)}: [${inner}] is neither an index nor a quoted key`);
      i = close + 1;
      continue;
    }
    let end = i;
    while (end < path.length && path[end] !== '.' && path[end] !== '[') end++;
    const key = path.slice(i, end);
    // `a.0` indexes too, so plain paths can reach array elements.
    segments.push(/^\d+$/.test(key) ? Number(key) : key);
    i = end;
  }
  if (pathCache.size > 1000) pathCache.clear();
  pathCache.set(path, segments);
  return segments;
}

/** The value at `path` inside `value`, or undefined when any part is missing. */
export function jsonPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const seg of parseJsonPath(path)) {
    if (current === null || typeof current !== 'object') return undefined;
    if (typeof seg === 'number') {
      if (Array.isArray(current)) {
        current = current[seg < 0 ? current.length + seg : seg];
      } else {
        current = Object.hasOwn(current, String(seg)) ? (current as Record<string, unknown>)[String(seg)] : undefined;
      }
    } else {
      current = Object.hasOwn(current, seg) ? (current as Record<string, unknown>)[seg] : undefined;
    }
  }
  return current;
}

// ---------------------------------------------------------------- responses

/** What parseJson gives for text that is not JSON. */
export const NOT_JSON = Symbol('not json');

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

/** Every JSON path check the parsed value fails, as `json PATH: why` sentences. */
export function checkJsonPaths(checks: ReadonlyArray<{ path: string; matcher: MatcherSpec }>, json: unknown): string[] {
  const failures: string[] = [];
  for (const { path, matcher } of checks) {
    let why: string | undefined;
    try {
      why = matchValue(matcher, jsonPath(json, path));
    } catch (err) {
      why = (err as Error).message; // a malformed path: say so instead of throwing out of a check
    }
    if (why) failures.push(`json ${path}: ${why}`);
  }
  return failures;
}

const parsedBodies = new WeakMap<HttpResponseData, unknown>();

/** The response body parsed as JSON once per response (captures and checks share it); NOT_JSON when it is not JSON. */
function responseJson(r: HttpResponseData): unknown {
  if (parsedBodies.has(r)) return parsedBodies.get(r);
  const value = parseJson(r.body);
  parsedBodies.set(r, value);
  return value;
}

/**
 * What statuses a predicate accepts, as text (`2xx or 3xx`, `200 or 204`),
 * found by asking it about every status, since compiled plans keep only the predicate.
 */
export function describeStatus(accepts: (s: number) => boolean): string {
  const parts: string[] = [];
  for (let cls = 1; cls <= 5; cls++) {
    const codes: number[] = [];
    for (let s = cls * 100; s < cls * 100 + 100; s++) if (accepts(s)) codes.push(s);
    if (codes.length === 100) parts.push(`${cls}xx`);
    else parts.push(...codes.map(String));
  }
  if (parts.length === 0) return 'no status at all';
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/**
 * Why a check that reads the body cannot trust it: undefined when the body is
 * whole, else a sentence saying it was cut. A prefix proves nothing about the
 * rest (a regex or JSON can change meaning past the cut), so every body
 * check and body capture fails on a cut body rather than guess.
 */
export function bodyCut(r: HttpResponseData): string | undefined {
  if (r.cutAt === undefined) return undefined;
  return `the body was cut at ${formatSize(r.cutAt)} (of ${formatSize(r.bytes)} received); raise http.maxBodySize or the request's maxBodySize`;
}

const defaultStatus = (s: number) => s >= 200 && s < 400;

/** Every expectation the response does not meet, as sentences; empty when it meets them all. */
export function checkHttpExpect(e: HttpExpectSpec, r: HttpResponseData): string[] {
  const failures: string[] = [];
  const accepts = e.status ?? defaultStatus;
  if (!accepts(r.status)) {
    const wanted = e.statusText ?? (e.status ? describeStatus(e.status) : '2xx or 3xx');
    failures.push(`expected status ${wanted}, got ${r.status} (body: ${excerpt(r.body)})`);
  }
  for (const { name, matcher } of e.headers) {
    const why = matchValue(matcher, r.headers[name]);
    if (why) failures.push(`header ${name}: ${why}`);
  }
  const cut = bodyCut(r);
  if (e.body) {
    // The body can be long: say what was wanted and show its start, not all of it.
    if (cut) failures.push(`body: expected ${describeMatcher(e.body)}, but ${cut}`);
    else if (matchValue(e.body, r.body)) failures.push(`body: expected ${describeMatcher(e.body)}, got ${excerpt(r.body)}`);
  }
  if (e.json.length > 0 && cut) {
    failures.push(`json: cannot read ${e.json.map((j) => j.path).join(', ')}: ${cut}`);
  } else if (e.json.length > 0) {
    const json = responseJson(r);
    if (json === NOT_JSON) failures.push(`json: the response body is not JSON (body: ${excerpt(r.body)})`);
    else failures.push(...checkJsonPaths(e.json, json));
  }
  if (e.maxDurationMs !== undefined && r.durationMs > e.maxDurationMs) {
    failures.push(`expected a response within ${e.maxDurationMs}ms, took ${Math.round(r.durationMs)}ms`);
  }
  return failures;
}

/** Captures that read the body, which a cut body cannot answer. */
const FROM_BODY = new Set<CaptureSpec['from']>(['json', 'regex', 'body']);

/** The captured value, or undefined when the response has nothing there (see captureMissing for why). */
export function captureFromResponse(c: CaptureSpec, r: HttpResponseData): unknown {
  if (r.cutAt !== undefined && FROM_BODY.has(c.from)) return undefined;
  switch (c.from) {
    case 'header':
      return r.headers[c.header];
    case 'status':
      return r.status;
    case 'json':
    case 'regex':
    case 'body':
      return captureFromText(c, r.body, () => responseJson(r));
    default:
      throw new Error(`capture "${c.name}" reads the page (${c.from}), not an HTTP response: only the browser engine can capture it`);
  }
}

/**
 * A capture that reads text (a response body, a WebSocket message): json, regex or body.
 * `json` gives the text parsed (NOT_JSON when it is not JSON), so callers can parse once.
 */
export function captureFromText(c: CaptureSpec, text: string, json: () => unknown): unknown {
  switch (c.from) {
    case 'json': {
      const value = json();
      return value === NOT_JSON ? undefined : jsonPath(value, c.path);
    }
    case 'regex': {
      const m = c.regex.exec(text);
      return m ? m[c.group] : undefined;
    }
    case 'body':
      return text;
    default:
      throw new Error(`capture "${c.name}" reads ${c.from}, which text does not have: only json, regex and body read text`);
  }
}

/** Why captureFromResponse found nothing, as a sentence for the step's failure. */
export function captureMissing(c: CaptureSpec, r: HttpResponseData): string {
  const head = `capture "${c.name}"`;
  const cut = FROM_BODY.has(c.from) ? bodyCut(r) : undefined;
  if (cut) return `${head}: ${cut}`;
  switch (c.from) {
    case 'json':
      return responseJson(r) === NOT_JSON
        ? `${head}: the response body of ${r.url} is not JSON (body: ${excerpt(r.body)})`
        : `${head}: nothing at ${c.path} in the JSON body of ${r.url} (body: ${excerpt(r.body)})`;
    case 'header':
      return `${head}: ${r.url} sent no "${c.header}" header`;
    case 'regex':
      return `${head}: ${c.regex} ${c.regex.exec(r.body) ? `has no group ${c.group} in its match` : 'does not match the body'} of ${r.url} (body: ${excerpt(r.body)})`;
    default:
      return `${head}: the response has no ${c.from}`;
  }
}
