// Compiles the check-like parts of steps: matchers, HTTP expectations, page
// expectations, WebSocket message expectations and captures.
import { formatPath } from './issue-collector.js';
import type { CompileContext } from './compile-context.js';
import { parseDuration } from './duration.js';
import {
  PAGE_CAPTURE_SOURCES,
  type CaptureSpec,
  type ExpectSpec,
  type HttpExpectSpec,
  type MatcherSpec,
  type MatcherTemplate,
  type PageExpectSpec,
  type WsExpectSpec,
} from '../contract/plan.js';
import type * as Raw from './raw-plan.js';
import type { YamlPath } from './source.js';

export function compileRegex(cx: CompileContext, path: YamlPath, source: string, flags?: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    cx.issues.error(path, `${formatPath(path)}: bad regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
    return /(?:)/;
  }
}

/** `contains` is what a plain string means for bodies; elsewhere it means `equals`. */
export function compileMatcher(cx: CompileContext, path: YamlPath, m: Raw.Matcher, plainString: 'equals' | 'contains' = 'equals'): MatcherSpec {
  if (m === null || typeof m !== 'object') {
    return typeof m === 'string' && plainString === 'contains' ? { contains: m } : { equals: m };
  }
  const { matches, ...rest } = m;
  return { ...rest, ...(matches !== undefined ? { matches: compileRegex(cx, [...path, 'matches'], matches) } : {}) };
}

const TEMPLATED_KEYS = ['equals', 'contains', 'notContains', 'matches'] as const;
const hasTemplate = (v: unknown): v is string => typeof v === 'string' && v.includes('{{');

/**
 * compileMatcher for matchers whose strings may be templates (equals, contains,
 * notContains, matches): the static part is compiled once, the templated keys
 * render when the step runs. A matcher without templates renders one constant spec.
 */
export function compileMatcherTemplate(cx: CompileContext, path: YamlPath, m: Raw.Matcher, plainString: 'equals' | 'contains' = 'equals'): MatcherTemplate {
  if (hasTemplate(m)) {
    const t = cx.template(path, m);
    return plainString === 'contains'
      ? { isStatic: false, render: (scope) => ({ contains: t.renderString(scope) }) }
      : { isStatic: false, render: (scope) => ({ equals: t.render(scope) }) };
  }
  const templated = m !== null && typeof m === 'object' ? TEMPLATED_KEYS.filter((k) => hasTemplate(m[k])) : [];
  if (templated.length === 0) {
    const spec = compileMatcher(cx, path, m, plainString);
    return { isStatic: true, render: () => spec };
  }
  const object = m as Raw.MatcherObject;
  const rest: Raw.MatcherObject = { ...object };
  for (const k of templated) delete rest[k];
  const base = compileMatcher(cx, path, rest, plainString);
  const templates = templated.map((k) => [k, cx.template([...path, k], object[k] as string)] as const);
  return {
    isStatic: false,
    render(scope) {
      const spec: MatcherSpec = { ...base };
      for (const [k, t] of templates) {
        if (k === 'equals') spec.equals = t.render(scope);
        else if (k === 'matches') spec.matches = new RegExp(t.renderString(scope));
        else spec[k] = t.renderString(scope);
      }
      return spec;
    },
  };
}

/** `text` and `matches` check the message text, `json` paths the message parsed as JSON. */
export function compileWsExpect(cx: CompileContext, path: YamlPath, e: Raw.WsExpect): WsExpectSpec {
  const text: MatcherTemplate[] = [];
  if (e.text !== undefined) text.push(compileMatcherTemplate(cx, [...path, 'text'], e.text));
  if (e.matches !== undefined) text.push(compileMatcherTemplate(cx, path, { matches: e.matches }));
  const json = Object.entries(e.json ?? {}).map(([p, m]) => ({ path: p, matcher: compileMatcherTemplate(cx, [...path, 'json', p], m) }));
  return { text, json };
}

export function statusPredicate(status: Raw.Status): (s: number) => boolean {
  if (typeof status === 'number') return (s) => s === status;
  if (typeof status === 'string') {
    const cls = Number(status[0]);
    return (s) => Math.floor(s / 100) === cls;
  }
  const set = new Set(status);
  return (s) => set.has(s);
}

export function compileHttpExpect(cx: CompileContext, path: YamlPath, e: Raw.HttpExpect | undefined): HttpExpectSpec {
  const spec: HttpExpectSpec = { headers: [], json: [] };
  if (!e) return spec;
  if (e.status !== undefined) spec.status = statusPredicate(e.status);
  for (const [name, m] of Object.entries(e.headers ?? {})) spec.headers.push({ name: name.toLowerCase(), matcher: compileMatcher(cx, [...path, 'headers', name], m) });
  if (e.body !== undefined) spec.body = compileMatcher(cx, [...path, 'body'], e.body, 'contains');
  for (const [p, m] of Object.entries(e.json ?? {})) spec.json.push({ path: p, matcher: compileMatcher(cx, [...path, 'json', p], m) });
  if (e.duration !== undefined) spec.maxDurationMs = parseDuration(e.duration);
  return spec;
}

const HTTP_KEYS = ['status', 'headers', 'body', 'json', 'duration'] as const;
const PAGE_KEYS = ['text', 'in', 'visible', 'hidden', 'count', 'url', 'title', 'within'] as const;
const VALUE_KEYS = ['value', 'is'] as const;

export function compileExpect(cx: CompileContext, path: YamlPath, e: Raw.Expect): ExpectSpec {
  const has = (keys: readonly string[]) => keys.filter((k) => (e as Record<string, unknown>)[k] !== undefined);
  const groups = [has(HTTP_KEYS), has(PAGE_KEYS), has(VALUE_KEYS)].filter((g) => g.length > 0);
  if (groups.length > 1) {
    const second = groups[1]![0]!;
    cx.issues.error(
      [...path, second],
      `${formatPath(path)}: one expect checks the last response (${HTTP_KEYS.join(', ')}), the page (${PAGE_KEYS.join(', ')}) or a value (value + is), not several: found \`${groups[0]![0]}\` and \`${second}\``,
      {
        at: 'key',
        hint: 'split it into two expect steps',
      },
    );
  }
  if (has(VALUE_KEYS).length > 0) {
    if (e.is === undefined) cx.issues.error([...path, 'value'], `${formatPath(path)}: \`value\` needs \`is\` (the matcher to check it with)`, { at: 'key' });
    if (!('value' in e)) cx.issues.error([...path, 'is'], `${formatPath(path)}: \`is\` needs \`value\``, { at: 'key' });
    return { on: 'value', value: cx.value([...path, 'value'], e.value), matcher: compileMatcher(cx, [...path, 'is'], e.is ?? null) };
  }
  if (has(PAGE_KEYS).length > 0) {
    const checks: PageExpectSpec[] = [];
    if (e.in !== undefined && e.text === undefined) cx.issues.error([...path, 'in'], `${formatPath(path)}: \`in\` goes with \`text\``, { at: 'key' });
    if (e.within !== undefined && has(PAGE_KEYS).length === 1)
      cx.issues.error([...path, 'within'], `${formatPath(path)}: \`within\` needs a page check (text, visible, hidden, count, url, title)`, { at: 'key' });
    if (e.text !== undefined) {
      checks.push({ check: 'text', text: cx.template([...path, 'text'], e.text), ...(e.in !== undefined ? { in: cx.template([...path, 'in'], e.in) } : {}) });
    }
    if (e.visible !== undefined) checks.push({ check: 'visible', selector: cx.template([...path, 'visible'], e.visible) });
    if (e.hidden !== undefined) checks.push({ check: 'hidden', selector: cx.template([...path, 'hidden'], e.hidden) });
    if (e.count !== undefined) checks.push({ check: 'count', selector: cx.template([...path, 'count', 'selector'], e.count.selector), equals: e.count.equals });
    if (e.url !== undefined) checks.push({ check: 'url', matcher: compileMatcher(cx, [...path, 'url'], e.url) });
    if (e.title !== undefined) checks.push({ check: 'title', matcher: compileMatcher(cx, [...path, 'title'], e.title) });
    const withinMs = e.within === undefined ? undefined : parseDuration(e.within);
    return { on: 'page', checks, ...(withinMs !== undefined ? { withinMs } : {}) };
  }
  return { on: 'response', expect: compileHttpExpect(cx, path, e) };
}

const RESPONSE_SOURCES = ['json', 'header', 'regex', 'status', 'body'] as const;
const MESSAGE_SOURCES = ['json', 'regex', 'body'] as const;
const SOURCES = [...RESPONSE_SOURCES, ...PAGE_CAPTURE_SOURCES];

/**
 * `only: 'response'` inside a request step, where page sources make no sense;
 * `only: 'message'` inside a ws expect, where neither page nor header/status sources do.
 */
export function compileCaptures(cx: CompileContext, path: YamlPath, captures: Record<string, Raw.Capture>, only?: 'response' | 'message'): CaptureSpec[] {
  const out: CaptureSpec[] = [];
  for (const [name, c] of Object.entries(captures)) {
    const p = [...path, name];
    const sources = SOURCES.filter((s) => c[s] !== undefined);
    if (sources.length !== 1) {
      cx.issues.error(p, `${formatPath(p)}: a capture needs exactly one source: ${SOURCES.join(', ')}${sources.length > 1 ? ` (found ${sources.join(' and ')})` : ''}`);
      continue;
    }
    const source = sources[0]!;
    if (only === 'response' && !(RESPONSE_SOURCES as readonly string[]).includes(source)) {
      cx.issues.error([...p, source], `${formatPath(p)}: a request captures from its response (${RESPONSE_SOURCES.join(', ')}); \`${source}\` reads the page`, {
        at: 'key',
        hint: 'use a separate `capture:` step after a browser step',
      });
      continue;
    }
    if (only === 'message' && !(MESSAGE_SOURCES as readonly string[]).includes(source)) {
      cx.issues.error(
        [...p, source],
        `${formatPath(p)}: a ws expect captures from the message it matched (${MESSAGE_SOURCES.join(', ')}); \`${source}\` is not part of a message`,
        {
          at: 'key',
          hint: '`body: true` captures the whole message',
        },
      );
      continue;
    }
    if (c.group !== undefined && source !== 'regex') cx.issues.error([...p, 'group'], `${formatPath(p)}: \`group\` goes with \`regex\``, { at: 'key' });
    if (c.of !== undefined && source !== 'attribute') cx.issues.error([...p, 'of'], `${formatPath(p)}: \`of\` goes with \`attribute\``, { at: 'key' });
    switch (source) {
      case 'json':
        out.push({ name, from: 'json', path: c.json! });
        break;
      case 'header':
        out.push({ name, from: 'header', header: c.header!.toLowerCase() });
        break;
      case 'regex': {
        const regex = compileRegex(cx, [...p, 'regex'], c.regex!);
        const groups = (new RegExp(`${regex.source}|`).exec('')?.length ?? 1) - 1;
        const group = c.group ?? (groups > 0 ? 1 : 0);
        if (group > groups) cx.issues.error([...p, 'group'], `${formatPath([...p, 'group'])}: the regex has ${groups} group${groups === 1 ? '' : 's'}, not ${group}`);
        out.push({ name, from: 'regex', regex, group });
        break;
      }
      case 'attribute':
        if (c.of === undefined) cx.issues.error(p, `${formatPath(p)}: \`attribute\` needs \`of\` (the element's selector)`);
        out.push({ name, from: 'attribute', attribute: c.attribute!, selector: cx.template([...p, 'of'], c.of ?? '') });
        break;
      case 'text':
        out.push({ name, from: 'text', selector: cx.template([...p, 'text'], c.text!) });
        break;
      default:
        out.push({ name, from: source });
    }
  }
  return out;
}
