// Keeps secrets out of everything planrun writes: one Redactor per run, applied
// where events and the final report reach the reporters (runtime/run.ts) and
// where the CLI prints errors. It never touches what is sent to the server.
//
// It knows secret *values* (secret vars, and what it learns at run time from
// secret-named headers and query parameters) and secret *query names*, so a
// URL like `/api?token=…` is redacted even before its value was ever learned.

import type { RunEvent, RunEventOf, StepOutcome, StepResult, StepTally } from '../contract/events.js';
import type { RedactSpec, StepKind } from '../contract/plan.js';

export const REDACTED = '[redacted]';

/** Headers whose values are secret unless the plan says otherwise (it can only add). */
export const DEFAULT_SECRET_HEADERS = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization', 'x-api-key'] as const;
/** Query parameters whose name contains one of these (case-insensitive) have secret values. */
export const DEFAULT_SECRET_QUERY = ['token', 'key', 'password', 'secret'] as const;
/**
 * Shorter values are not searched for in free text: `1` or `abc` would blank out
 * unrelated words and numbers. A short value is still redacted when it appears
 * as a secret-named query parameter.
 */
export const MIN_SECRET_LENGTH = 4;

// `?name=value` / `&name=value` inside any text (a URL alone, or a URL inside a message).
const QUERY_PAIR = /([?&;])([^=&#\s"'<>?]+)=([^&#\s"'<>]*)/g;
// `name=value` pairs of a cookie header, and the leading pair of each set-cookie (several are joined with `, `).
const COOKIE_PAIR = /(?:^|;)\s*[^=;\s]+=([^;]*)/g;
const SET_COOKIE_PAIR = /(?:^|,)\s*[^=;,\s]+=([^;,\s]*)/g;
// An auth scheme in front of a credential: `Bearer abc`, `Basic dXNlcjpwdw==`.
const SCHEME = /^([A-Za-z][\w-]*) +(\S+)$/;

/**
 * Where the fields of the step events (two per step, the bulk of a run's
 * events) get their values: `plan` texts are names from the plan and words
 * of the event's vocabulary, the same few strings in every event, so each is
 * redacted once until the next secret is learned; `free` values (URLs,
 * messages, attachments) are redacted every time; `none` are numbers.
 * redactEvent() reads each field by name (a loop over field names made every
 * read a megamorphic lookup); these maps, typed over every field, make a field
 * added to the events fail to compile until it is classed here, and the unit
 * tests check that redactEvent() redacts every field classed `plan` or `free`.
 */
export type FieldSource = 'plan' | 'free' | 'none';
export const STEP_RESULT_FIELDS: { readonly [K in keyof Required<StepResult>]: FieldSource } = {
  worker: 'none',
  role: 'plan',
  round: 'none',
  stepId: 'plan',
  name: 'plan',
  kind: 'plan',
  start: 'none',
  durationMs: 'none',
  outcome: 'plan',
  error: 'free',
  http: 'free',
  wait: 'free',
  signal: 'free',
  ws: 'free',
  pageUrl: 'free',
  attachments: 'free',
  scheduledStart: 'none',
  lagMs: 'none',
};
export const STEP_BEGIN_FIELDS: { readonly [K in keyof RunEventOf<'step:begin'>]: FieldSource } = {
  type: 'plan',
  time: 'none',
  worker: 'none',
  role: 'plan',
  round: 'none',
  stepId: 'plan',
  name: 'plan',
  kind: 'plan',
};

/** Plan texts remembered at most (a run has a few per step); past that the memory starts over. */
const PLAN_TEXTS_CAP = 10_000;

export class Redactor {
  /**
   * Known secrets (and their encodings) by their first MIN_SECRET_LENGTH
   * characters, longest first: one map lookup per text position finds them
   * all, and learning a value costs no rebuild however many a run learns.
   */
  private readonly byPrefix = new Map<string, string[]>();
  /** prefixHash() of every key of byPrefix: scanning a text allocates nothing until a hash matches. */
  private readonly prefixHashes = new Set<number>();
  /** Any of the query name fragments, to skip texts that cannot hold a secret-named parameter. */
  private readonly queryNameTest: RegExp;
  /** Values add() has seen: a header sent on every request is encoded once, not once per request. */
  private readonly seen = new Set<string>();
  private readonly headerNames: readonly string[];
  private readonly queryNames: readonly string[];
  /** Plan texts (see Source) and what redactText made of them, while no new secret was learned. */
  private readonly planTexts = new Map<string, string>();

  constructor(spec: RedactSpec) {
    this.headerNames = [...new Set([...DEFAULT_SECRET_HEADERS, ...spec.headers].map((h) => h.toLowerCase()))];
    this.queryNames = [...new Set([...DEFAULT_SECRET_QUERY, ...spec.query].map((q) => q.toLowerCase()))];
    this.queryNameTest = new RegExp(this.queryNames.map(escapeRegExp).join('|'), 'i');
    for (const s of spec.secrets) this.add(s);
  }

  /** A query parameter name whose value is secret. */
  isSecretQuery(name: string): boolean {
    const n = name.toLowerCase();
    return this.queryNames.some((q) => n.includes(q));
  }

  /**
   * Learns the values of secret-named headers (lower-case names, as the HTTP
   * engine sends and receives them). A few lookups per request: cheap enough
   * for the hot path.
   */
  learnHeaders(headers: Readonly<Record<string, string | undefined>>): void {
    for (const name of this.headerNames) {
      const value = headers[name];
      if (value === undefined) continue;
      this.add(value);
      // The credential alone may be echoed without its scheme.
      const scheme = SCHEME.exec(value);
      if (scheme) this.add(scheme[2]!);
      // Cookie values on their own: every pair of a cookie header, the first pair of each
      // set-cookie (the others are attributes like Max-Age=3600, not secrets).
      const pairs = name === 'cookie' ? COOKIE_PAIR : name === 'set-cookie' ? SET_COOKIE_PAIR : undefined;
      if (pairs) for (const m of value.matchAll(pairs)) this.add(m[1]!);
    }
  }

  /** Learns the values of secret-named query parameters of a URL that is about to be requested. */
  learnUrl(url: URL): void {
    if (url.search === '') return;
    for (const [name, value] of url.searchParams) if (this.isSecretQuery(name)) this.add(value);
  }

  /** The text with every known secret and every secret-named query value replaced by [redacted]. */
  redactText(text: string): string {
    let out = this.replaceKnown(text);
    if (out.includes('=') && this.queryNameTest.test(out)) {
      out = out.replace(QUERY_PAIR, (whole, sep: string, name: string, value: string) =>
        value !== '' && value !== REDACTED && this.isSecretQuery(safeDecode(name)) ? `${sep}${name}=${REDACTED}` : whole,
      );
    }
    return out;
  }

  /**
   * A run event, redacted as redact() does. The step events take a shorter
   * way: their plan texts come from a memory (see Source) and only their free
   * values are walked, so a step's events cost a few lookups, not a scan of
   * every string in them against every known secret.
   */
  redactEvent(event: RunEvent): RunEvent {
    if (event.type === 'step:begin') return this.redactBegin(event);
    if (event.type === 'step:end') {
      const result = this.redactResult(event.result);
      const type = this.planText(event.type);
      return result === event.result && type === event.type ? event : { ...event, type: type as 'step:end', result };
    }
    if (event.type === 'steps:tally') return { type: 'steps:tally', time: event.time, tally: this.redactTally(event.tally) };
    return this.redact(event);
  }

  /** A tally: its names are plan texts, its sampled results are redacted as results are; the rest is numbers. */
  private redactTally(t: StepTally): StepTally {
    return {
      source: this.redactText(t.source),
      roles: t.roles.map((r) => this.planText(r)),
      steps: t.steps.map((s) => ({ role: this.planText(s.role), stepId: this.planText(s.stepId), name: this.planText(s.name), kind: this.planText(s.kind) as StepKind })),
      rounds: t.rounds,
      results: t.results,
      sampled: t.sampled.map((s) => ({ at: s.at, keptWith: s.keptWith, result: this.redactResult(s.result) })),
      busy: t.busy,
    };
  }

  /** A step:begin event: every string in it is plan text (see STEP_BEGIN_FIELDS). */
  private redactBegin(e: RunEventOf<'step:begin'>): RunEventOf<'step:begin'> {
    const type = this.planText(e.type);
    const role = this.planText(e.role);
    const stepId = this.planText(e.stepId);
    const name = this.planText(e.name);
    const kind = this.planText(e.kind);
    if (type === e.type && role === e.role && stepId === e.stepId && name === e.name && kind === e.kind) return e;
    return { ...e, type: type as 'step:begin', role, stepId, name, kind: kind as StepKind };
  }

  /** A step's result: plan texts from the memory, free fields walked (see STEP_RESULT_FIELDS); the same object when nothing changed. */
  private redactResult(r: StepResult): StepResult {
    const role = this.planText(r.role);
    const stepId = this.planText(r.stepId);
    const name = this.planText(r.name);
    const kind = this.planText(r.kind);
    const outcome = this.planText(r.outcome);
    const error = r.error && this.redact(r.error);
    const http = r.http && this.redact(r.http);
    const wait = r.wait && this.redact(r.wait);
    const signal = r.signal && this.redact(r.signal);
    const ws = r.ws && this.redact(r.ws);
    const pageUrl = r.pageUrl && this.redact(r.pageUrl);
    const attachments = r.attachments && this.redact(r.attachments);
    if (role === r.role && stepId === r.stepId && name === r.name && kind === r.kind && outcome === r.outcome) {
      if (error === r.error && http === r.http && wait === r.wait && signal === r.signal && ws === r.ws && pageUrl === r.pageUrl && attachments === r.attachments) return r;
    }
    // A field absent from the result stays absent: only what changed is set.
    const out: StepResult = { ...r, role, stepId, name, kind: kind as StepResult['kind'], outcome: outcome as StepOutcome };
    if (error !== r.error) out.error = error;
    if (http !== r.http) out.http = http;
    if (wait !== r.wait) out.wait = wait;
    if (signal !== r.signal) out.signal = signal;
    if (ws !== r.ws) out.ws = ws;
    if (pageUrl !== r.pageUrl) out.pageUrl = pageUrl;
    if (attachments !== r.attachments) out.attachments = attachments;
    return out;
  }

  /**
   * The value with every string inside redacted (object keys are field names or
   * status codes and stay as they are). Returns the same object when nothing
   * changed: an event without secrets costs one walk (about a microsecond) and
   * no copy.
   */
  redact<T>(value: T): T {
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.redactText(value);
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const r = this.walk(item);
        if (r !== item) (copy ??= value.slice())[i] = r;
      }
      return copy ?? value;
    }
    if (value !== null && typeof value === 'object' && isPlain(value)) {
      // Copied on the first change only: an object with nothing to hide is returned as is.
      let copy: Record<string, unknown> | undefined;
      for (const k in value) {
        const v = (value as Record<string, unknown>)[k];
        if (typeof v !== 'string' && (typeof v !== 'object' || v === null)) continue;
        const r = this.walk(v);
        if (r !== v) (copy ??= { ...value })[k] = r;
      }
      return copy ?? value;
    }
    return value;
  }

  /** redactText of a plan text, remembered until add() learns a new secret (which empties the memory). */
  private planText(text: string): string {
    let out = this.planTexts.get(text);
    if (out === undefined) {
      if (this.planTexts.size >= PLAN_TEXTS_CAP) this.planTexts.clear();
      out = this.redactText(text);
      this.planTexts.set(text, out);
    }
    return out;
  }

  private add(value: string): void {
    if (value.length < MIN_SECRET_LENGTH || value === REDACTED || this.seen.has(value)) return;
    this.seen.add(value);
    // How the same value shows up once it went through a URL, a form or a JSON string.
    for (const v of new Set([value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2), JSON.stringify(value).slice(1, -1)])) {
      if (v.length < MIN_SECRET_LENGTH) continue;
      const prefix = v.slice(0, MIN_SECRET_LENGTH);
      const list = this.byPrefix.get(prefix);
      // What the memory of plan texts holds was redacted without this value.
      if (!list?.includes(v)) this.planTexts.clear();
      if (!list) {
        this.byPrefix.set(prefix, [v]);
        this.prefixHashes.add(prefixHash(v, 0));
      } else if (!list.includes(v)) {
        list.push(v);
        // Longest first, so a secret that contains another is replaced whole.
        list.sort((a, b) => b.length - a.length);
      }
    }
  }

  private replaceKnown(text: string): string {
    if (this.byPrefix.size === 0) return text;
    let out = '';
    let copied = 0;
    for (let i = 0; i <= text.length - MIN_SECRET_LENGTH; ) {
      const candidates = this.prefixHashes.has(prefixHash(text, i)) ? this.byPrefix.get(text.slice(i, i + MIN_SECRET_LENGTH)) : undefined;
      const length = candidates ? matchLength(text, i, candidates) : 0;
      if (length === 0) {
        i++;
        continue;
      }
      out += text.slice(copied, i) + REDACTED;
      i += length;
      copied = i;
    }
    return copied === 0 ? text : out + text.slice(copied);
  }
}

/** A number for the MIN_SECRET_LENGTH characters at `at` (collisions only cost a map lookup). */
function prefixHash(text: string, at: number): number {
  let h = 0;
  for (let i = at; i < at + MIN_SECRET_LENGTH; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * How many characters of `text` at `at` are a secret: a whole one, or the start
 * of one cut short by an excerpt (`tok-12…`), which would otherwise leak its head.
 */
function matchLength(text: string, at: number, candidates: readonly string[]): number {
  const whole = candidates.find((s) => text.startsWith(s, at));
  if (whole !== undefined) return whole.length;
  const cut = text.indexOf('…', at);
  if (cut < 0) return 0;
  const head = text.slice(at, cut);
  return candidates.some((s) => s.startsWith(head)) ? head.length : 0;
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
