// Compiles the raw `crawl:` block once into typed rules: URLs resolved,
// durations in ms, patterns compiled, defaults applied. Bad rules throw a
// PlanError positioned at the crawl block.
import type { BrowserSpec, CompiledPlan, SourceLoc } from '../../plan/model.js';
import type { CrawlBrowserOptions } from './browser-fetch.js';
import type * as Raw from '../../plan/raw-plan.js';
import { PlanError, type PlanIssue } from '../../plan/issues.js';
import { compilePathPattern, compileTemplate, type PathMatcher } from './patterns.js';
import type { NormalizeRules } from './normalize.js';
import { normalizeUrl } from './normalize.js';

/** An element/attribute pair links are read from, e.g. `img[srcset]`; `link[rel=stylesheet]` narrows by rel. */
export interface LinkSelector {
  tag: string;
  attr: string;
  rel?: string;
  /** Shown in referrers, e.g. `a[href]`. */
  label: string;
}

export interface CrawlRules {
  start: string[];
  origins: Set<string>;
  include: PathMatcher[];
  exclude: PathMatcher[];
  outOfScope: 'check' | 'ignore';
  maxDepth: number;
  maxPages: number;
  concurrency: number;
  timeoutMs: number;
  retries: number;
  /** Longest Retry-After honoured; longer ones are cut to this. */
  maxRetryAfterMs: number;
  /** First backoff after a network error; doubles each retry. */
  backoffMs: number;
  /** Requests per second per origin; Infinity = no limit. */
  rateLimit: number;
  robots: 'respect' | 'ignore';
  userAgent: string;
  /** Sent to the in-scope origins only; out-of-scope checks send just the user agent. */
  headers: Record<string, string>;
  /** Which headers a redirect to another in-scope origin keeps (the plan's `http.redirectHeaders`). */
  redirectHeaders: Raw.RedirectHeaders;
  follow: LinkSelector[];
  check: LinkSelector[];
  fragments: boolean;
  normalize: NormalizeRules;
  templates: Array<{ pattern: string; match: PathMatcher; keep: number }>;
  contentSampling: boolean;
  /** Max Hamming distance between 64-bit simhashes counted as near-identical; 0 = identical text only (see similarityToBits). */
  similarityBits: number;
  expect: {
    status: (status: number) => boolean;
    statusText: string;
    contentType?: RegExp;
    maxDurationMs?: number;
    text: string[];
    notText: string[];
    title: boolean;
  };
  maxRedirects: number;
  /** Browser mode: crawled pages are rendered by Chromium and their links read from the DOM. */
  browser?: CrawlBrowserOptions;
  /** Keep at most this many URLs in the report's `urls` (broken ones are always all kept). */
  maxReportedUrls: number;
}

export const DEFAULT_FOLLOW = ['a[href]', 'area[href]', 'iframe[src]', 'frame[src]'];
export const DEFAULT_CHECK = ['img[src]', 'img[srcset]', 'source[srcset]', 'script[src]', 'link[href]'];

const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function durationMs(d: Raw.Duration): number {
  if (typeof d === 'number') return d;
  let total = 0;
  for (const m of d.matchAll(DURATION_PART)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

export function parseSelector(s: string): LinkSelector | undefined {
  const m = /^\s*([a-zA-Z][a-zA-Z0-9-]*)\[([a-zA-Z-]+)(?:=["']?([^\]"']+)["']?)?\]\s*$/.exec(s);
  if (!m) return undefined;
  const tag = m[1]!.toLowerCase();
  const attr = m[2]!.toLowerCase();
  // link[rel=stylesheet] means "link[href] whose rel is stylesheet".
  if (attr === 'rel' && tag === 'link') return { tag, attr: 'href', rel: m[3]?.toLowerCase(), label: s.trim() };
  return { tag, attr, label: s.trim() };
}

export function statusMatcher(status: Raw.Status | undefined): { test: (s: number) => boolean; text: string } {
  if (status === undefined) return { test: (s) => s >= 200 && s < 300, text: '2xx' };
  if (typeof status === 'number') return { test: (s) => s === status, text: String(status) };
  if (Array.isArray(status)) return { test: (s) => status.includes(s), text: status.join(' or ') };
  const cls = Number(status[0]);
  return { test: (s) => Math.floor(s / 100) === cls, text: status };
}

/**
 * Simhash theory: two texts whose shingle vectors have cosine similarity s differ
 * in about 64·acos(s)/π of the 64 bits. 1 → 0 bits (identical text only), 0.95 → 6.
 */
export function similarityToBits(similarity: number): number {
  if (similarity >= 1) return 0;
  return Math.floor((64 * Math.acos(similarity)) / Math.PI + 1e-9);
}

export interface CompileOptions {
  /** Base of relative start URLs (the plan's target). */
  target?: URL;
  /** Default concurrency (the plan's workers) and timeout (the plan's step timeout). */
  workers: number;
  stepTimeoutMs: number;
  /** Headers already rendered (templates resolved by the caller). */
  headers?: Record<string, string>;
  /** The plan's `http.redirectHeaders`; default: the safe headers only. */
  redirectHeaders?: Raw.RedirectHeaders;
  loc?: SourceLoc;
  /** The plan's `browser:` options, used when `crawl.browser` is true. */
  browser?: BrowserSpec;
}

export function compileCrawlRules(raw: Raw.Crawl, opts: CompileOptions): CrawlRules {
  const issues: PlanIssue[] = [];
  const loc = opts.loc ?? { file: '<crawl>', line: 1, col: 1 };
  const fail = (message: string, hint?: string) => issues.push({ ...loc, message, hint, severity: 'error' });

  const normalize: NormalizeRules = {
    query: raw.normalize?.query ?? 'sort',
    stripParams: new Set(raw.normalize?.stripParams ?? []),
    trailingSlash: raw.normalize?.trailingSlash ?? 'keep',
  };

  const start: string[] = [];
  for (const s of raw.start) {
    const n = normalizeUrl(s, opts.target, normalize);
    if (!n || !/^https?:$/.test(n.parsed.protocol)) {
      fail(`crawl.start: "${s}" is not an http(s) URL${opts.target ? '' : ' and the plan has no target to resolve it against'}`, 'write an absolute URL like http://127.0.0.1:8080/ or set `target:`');
    } else start.push(n.url);
  }

  const origins = new Set<string>();
  for (const o of raw.scope?.origins ?? []) {
    try {
      origins.add(new URL(o).origin);
    } catch {
      fail(`crawl.scope.origins: "${o}" is not a URL`, 'write an origin like http://127.0.0.1:8080');
    }
  }
  if (origins.size === 0) for (const s of start) origins.add(new URL(s).origin);

  const patterns = (list: string[] | undefined, where: string): PathMatcher[] =>
    (list ?? []).flatMap((p) => {
      try {
        return [compilePathPattern(p)];
      } catch (e) {
        fail(`crawl.scope.${where}: invalid pattern "${p}": ${(e as Error).message}`, 'use a glob like /docs/** or a regex like /^\\/p\\/\\d+$/');
        return [];
      }
    });

  const selectors = (list: string[] | undefined, defaults: string[], where: string): LinkSelector[] =>
    (list ?? defaults).flatMap((s) => {
      const sel = parseSelector(s);
      if (!sel) fail(`crawl.${where}: "${s}" is not of the form element[attribute]`, 'e.g. a[href], img[srcset], link[rel=stylesheet]');
      return sel ? [sel] : [];
    });

  let contentType: RegExp | undefined;
  if (raw.expect?.contentType !== undefined) {
    try {
      contentType = new RegExp(raw.expect.contentType, 'i');
    } catch (e) {
      fail(`crawl.expect.contentType: invalid regex: ${(e as Error).message}`);
    }
  }

  const similarity = raw.sample?.similarity ?? 0.95;
  const status = statusMatcher(raw.expect?.status);
  const rules: CrawlRules = {
    start,
    origins,
    include: patterns(raw.scope?.include, 'include'),
    exclude: patterns(raw.scope?.exclude, 'exclude'),
    outOfScope: raw.scope?.outOfScope ?? 'check',
    maxDepth: raw.maxDepth ?? Infinity,
    maxPages: raw.maxPages ?? Infinity,
    concurrency: raw.concurrency ?? opts.workers,
    timeoutMs: raw.timeout !== undefined ? durationMs(raw.timeout) : opts.stepTimeoutMs,
    retries: raw.retries ?? 2,
    maxRetryAfterMs: 30_000,
    backoffMs: 100,
    rateLimit: raw.rateLimit ?? Infinity,
    robots: raw.robots ?? 'respect',
    userAgent: 'planrun',
    headers: opts.headers ?? {},
    redirectHeaders: opts.redirectHeaders ?? [],
    follow: selectors(raw.follow, DEFAULT_FOLLOW, 'follow'),
    check: selectors(raw.check, DEFAULT_CHECK, 'check'),
    fragments: raw.fragments ?? false,
    normalize,
    templates: (raw.sample?.templates ?? []).map((t) => ({ pattern: t.pattern, match: compileTemplate(t.pattern), keep: t.keep })),
    contentSampling: raw.sample?.content ?? false,
    similarityBits: similarityToBits(similarity),
    expect: {
      status: status.test,
      statusText: status.text,
      contentType,
      maxDurationMs: raw.expect?.duration !== undefined ? durationMs(raw.expect.duration) : undefined,
      text: raw.expect?.text ?? [],
      notText: raw.expect?.notText ?? [],
      title: raw.expect?.title ?? false,
    },
    maxRedirects: raw.maxRedirects ?? 5,
    maxReportedUrls: 10_000,
  };
  if (raw.browser) {
    const b = opts.browser;
    rules.browser = { headless: b?.headless ?? true, args: b?.args ?? [], ...(b?.executablePath !== undefined ? { executablePath: b.executablePath } : {}) };
  }
  if (issues.length) throw new PlanError(issues);
  return rules;
}

/** Rules of the plan's crawl block, or a PlanError. */
export function rulesFromPlan(plan: CompiledPlan, headers: Record<string, string>): CrawlRules {
  if (!plan.crawl) throw new Error('the plan has no crawl block');
  return compileCrawlRules(plan.crawl, {
    target: plan.target,
    workers: plan.workers,
    stepTimeoutMs: plan.stepTimeoutMs,
    headers,
    redirectHeaders: plan.http.redirectHeaders,
    loc: plan.crawl.loc,
    browser: plan.browser,
  });
}
