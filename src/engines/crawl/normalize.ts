// URL normalisation: two links that name the same resource must compare equal.
// WHATWG URL already lowercases scheme and host, drops default ports, resolves
// `../` and percent-encodes; we add the rest (unreserved decoding, query rules,
// trailing slash) and set the fragment aside for fragment checks.

import type { NormalizeRules } from '../../contract/plan.js';

export type { NormalizeRules };

export interface NormalizedUrl {
  /** Normalised URL without fragment. */
  url: string;
  /** The fragment without `#`, '' when none. */
  fragment: string;
  parsed: URL;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Decodes %XX of unreserved characters and uppercases the hex of the others. */
export function normalizePercent(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

function paramName(pair: string): string {
  const eq = pair.indexOf('=');
  const raw = eq < 0 ? pair : pair.slice(0, eq);
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

function normalizeQuery(search: string, rules: NormalizeRules): string {
  if (rules.query === 'strip' || search.length <= 1) return '';
  // Work on the raw pairs: URLSearchParams would re-encode values (`%20` → `+`).
  let pairs = normalizePercent(search.slice(1))
    .split('&')
    .filter((p) => p !== '');
  if (rules.stripParams.size > 0) pairs = pairs.filter((p) => !rules.stripParams.has(paramName(p)));
  if (rules.query === 'sort') {
    pairs = pairs
      .map((p, i) => ({ p, k: paramName(p), i }))
      .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i))
      .map((x) => x.p);
  }
  return pairs.length ? `?${pairs.join('&')}` : '';
}

function normalizePath(path: string, rule: NormalizeRules['trailingSlash']): string {
  path = normalizePercent(path);
  if (rule === 'strip' && path.length > 1 && path.endsWith('/')) return path.replace(/\/+$/, '') || '/';
  if (rule === 'add' && !path.endsWith('/')) {
    const last = path.slice(path.lastIndexOf('/') + 1);
    // `/file.html/` would name another resource: only directory-like paths get a slash.
    if (!last.includes('.')) return `${path}/`;
  }
  return path;
}

/**
 * The URL a page's relative links resolve against: its `<base href>` resolved
 * against the page URL exactly as written. Never normalised: with
 * `trailingSlash: strip`, `/docs/s5/` would become `/docs/s5` and `35` would
 * resolve to `/docs/35`. As in browsers, a base that does not parse, or is a
 * data: or javascript: URL, leaves the page URL as the base.
 */
export function pageBase(base: string | undefined, pageUrl: string): URL | string {
  if (base === undefined) return pageUrl;
  let u: URL;
  try {
    u = new URL(base, pageUrl);
  } catch {
    return pageUrl;
  }
  return u.protocol === 'data:' || u.protocol === 'javascript:' ? pageUrl : u;
}

/** Resolves `href` against `base` and normalises it; undefined when it is not a valid URL. */
export function normalizeUrl(href: string, base: string | URL | undefined, rules: NormalizeRules): NormalizedUrl | undefined {
  let u: URL;
  try {
    u = new URL(href, base);
  } catch {
    return undefined;
  }
  const fragment = u.hash.length > 1 ? decodeFragment(u.hash.slice(1)) : '';
  u.hash = '';
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    u.pathname = normalizePath(u.pathname, rules.trailingSlash);
    u.search = normalizeQuery(u.search, rules);
  }
  let url = u.href;
  // `http://h/p?` — an empty query names the same page.
  if (url.endsWith('?')) url = url.slice(0, -1);
  return { url, fragment, parsed: u };
}

function decodeFragment(f: string): string {
  try {
    return decodeURIComponent(f);
  } catch {
    return f;
  }
}
