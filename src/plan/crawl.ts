// Compiles the `crawl:` block with the rest of the plan, so its errors come out
// at load (`planrun validate` included), each at its own line: start URLs
// resolved against the target, patterns and selectors compiled, durations and
// statuses read by the plan's shared parsers, defaults applied.
import { compileRegex, statusPredicate } from './checks.js';
import { formatPath } from './issue-collector.js';
import type { CompileContext } from './compile-context.js';
import { parseDuration } from './duration.js';
import type { BrowserSpec, CrawlSpec, LinkSelector, PathMatcher, SitemapLimits, Template } from '../contract/plan.js';
import { compileStart } from './crawl-start.js';
import { compilePathPattern, compilePathTemplate } from './path-patterns.js';
import type * as Raw from './raw-plan.js';
import type { YamlPath } from './source.js';

export const DEFAULT_FOLLOW = ['a[href]', 'area[href]', 'iframe[src]', 'frame[src]'];
export const DEFAULT_CHECK = ['img[src]', 'img[srcset]', 'source[srcset]', 'script[src]', 'link[href]'];

/** What the crawl takes from the rest of the plan. */
export interface CrawlDefaults {
  /** Base of relative start URLs (the plan's target). */
  target?: URL;
  /** Default concurrency (the plan's workers) and timeout (the plan's step timeout). */
  workers: number;
  stepTimeoutMs: number;
  /** The plan's `http.headers`, sent before the crawl's own. */
  httpHeaders: Record<string, Template>;
  /** The plan's `http.redirectHeaders`. */
  redirectHeaders: Raw.RedirectHeaders;
  /** The plan's `browser:` options, used when `crawl.browser` is true. */
  browser: BrowserSpec;
  /** Absolute path of the plan file: URL files are relative to it. */
  planFile: string;
}

/** The sitemap protocol's limits (50 MB uncompressed, 50,000 entries), three nested indexes, 1,000 sitemaps a crawl. */
export const SITEMAP_LIMITS: SitemapLimits = { maxBytes: 50 * 1024 * 1024, maxEntries: 50_000, maxNesting: 3, maxSitemaps: 1000 };

export function compileCrawl(cx: CompileContext, raw: Raw.Crawl, defaults: CrawlDefaults): CrawlSpec {
  const at = (...path: Array<string | number>): YamlPath => ['crawl', ...path];
  const fail = (path: YamlPath, message: string, hint: string) => cx.issues.error(path, `${formatPath(path)}: ${message}`, { hint });

  const { start, seeds } = compileStart(cx, raw.start, defaults.target, defaults.planFile);

  const origins = new Set<string>();
  (raw.scope?.origins ?? []).forEach((o, i) => {
    const url = parseUrl(o);
    if (url) origins.add(url.origin);
    else fail(at('scope', 'origins', i), `\`${o}\` is not a URL`, 'write an origin like http://127.0.0.1:8080');
  });
  if (origins.size === 0) for (const s of start.concat(seeds.flatMap((seed) => (seed.kind === 'urls' ? seed.urls : [seed.url])))) origins.add(new URL(s).origin);

  const patterns = (list: string[] | undefined, key: 'include' | 'exclude'): PathMatcher[] =>
    (list ?? []).flatMap((p, i) => {
      try {
        return [compilePathPattern(p)];
      } catch (e) {
        fail(
          at('scope', key, i),
          `invalid pattern \`${p}\`: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`,
          'use a glob like /docs/** or a regex like /^\\/p\\/\\d+$/',
        );
        return [];
      }
    });

  // Listed selectors replace the defaults, which need no checking.
  const selectors = (list: string[] | undefined, fallback: string[], key: 'follow' | 'check'): LinkSelector[] =>
    (list ?? fallback).flatMap((s, i) => {
      const sel = parseSelector(s);
      if (!sel) fail(at(key, i), `\`${s}\` is not of the form element[attribute]`, 'e.g. a[href], img[srcset], link[rel=stylesheet]');
      return sel ? [sel] : [];
    });

  const headers: Record<string, Template> = {};
  for (const [name, t] of Object.entries(defaults.httpHeaders)) headers[name.toLowerCase()] = t;
  for (const [name, v] of Object.entries(raw.headers ?? {})) headers[name.toLowerCase()] = cx.template(at('headers', name), String(v));

  const spec: CrawlSpec = {
    start,
    seeds,
    sitemapLimits: SITEMAP_LIMITS,
    origins,
    include: patterns(raw.scope?.include, 'include'),
    exclude: patterns(raw.scope?.exclude, 'exclude'),
    outOfScope: raw.scope?.outOfScope ?? 'check',
    maxDepth: raw.maxDepth ?? Infinity,
    maxPages: raw.maxPages ?? Infinity,
    concurrency: raw.concurrency ?? defaults.workers,
    timeoutMs: parseDuration(raw.timeout) ?? defaults.stepTimeoutMs,
    retries: raw.retries ?? 2,
    maxRetryAfterMs: 30_000,
    backoffMs: 100,
    rateLimit: raw.rateLimit ?? Infinity,
    robots: raw.robots ?? 'respect',
    userAgent: 'planrun',
    headers,
    redirectHeaders: defaults.redirectHeaders,
    follow: selectors(raw.follow, DEFAULT_FOLLOW, 'follow'),
    check: selectors(raw.check, DEFAULT_CHECK, 'check'),
    fragments: raw.fragments ?? false,
    normalize: {
      query: raw.normalize?.query ?? 'sort',
      stripParams: new Set(raw.normalize?.stripParams ?? []),
      trailingSlash: raw.normalize?.trailingSlash ?? 'keep',
    },
    templates: (raw.sample?.templates ?? []).map((t) => ({ pattern: t.pattern, match: compilePathTemplate(t.pattern), keep: t.keep })),
    contentSampling: raw.sample?.content ?? false,
    similarityBits: similarityToBits(raw.sample?.similarity ?? 0.95),
    expect: {
      status: statusPredicate(raw.expect?.status ?? '2xx'),
      ...(raw.expect?.contentType !== undefined ? { contentType: compileRegex(cx, at('expect', 'contentType'), raw.expect.contentType, 'i') } : {}),
      ...(raw.expect?.duration !== undefined ? { maxDurationMs: parseDuration(raw.expect.duration) } : {}),
      text: raw.expect?.text ?? [],
      notText: raw.expect?.notText ?? [],
      title: raw.expect?.title ?? false,
    },
    maxRedirects: raw.maxRedirects ?? 5,
    maxReportedUrls: 10_000,
    loc: cx.issues.loc(['crawl'], 'key'),
  };
  if (raw.browser) {
    const b = defaults.browser;
    spec.browser = { headless: b.headless, args: b.args, ...(b.executablePath !== undefined ? { executablePath: b.executablePath } : {}) };
  }
  return spec;
}

function parseUrl(text: string, base?: URL): URL | undefined {
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

export function parseSelector(s: string): LinkSelector | undefined {
  const m = /^\s*([a-zA-Z][a-zA-Z0-9-]*)\[([a-zA-Z-]+)(?:=["']?([^\]"']+)["']?)?\]\s*$/.exec(s);
  if (!m) return undefined;
  const tag = m[1]!.toLowerCase();
  const attr = m[2]!.toLowerCase();
  // link[rel=stylesheet] means "link[href] whose rel is stylesheet".
  if (attr === 'rel' && tag === 'link') return { tag, attr: 'href', ...(m[3] !== undefined ? { rel: m[3].toLowerCase() } : {}), label: s.trim() };
  return { tag, attr, label: s.trim() };
}

/**
 * Simhash theory: two texts whose shingle vectors have cosine similarity s differ
 * in about 64·acos(s)/π of the 64 bits. 1 → 0 bits (identical text only), 0.95 → 6.
 */
export function similarityToBits(similarity: number): number {
  if (similarity >= 1) return 0;
  return Math.floor((64 * Math.acos(similarity)) / Math.PI + 1e-9);
}
