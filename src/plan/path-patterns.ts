// Path patterns of crawl scopes and sampling templates, compiled with the plan.
//  - glob: `*` matches within one path segment, `**` across segments: `/docs/**`, `/p/*.html`
//  - regex: written between slashes with optional flags, `/^\/p\/\d+$/i`; a string counts as a
//    regex when its body uses a regex metacharacter (^ $ \ ( ) [ ] { } | + ?), so a plain
//    glob like `/docs/` stays a glob.
//  - template: `/product/:id` — `:name` matches exactly one non-empty segment.

import type { PathMatcher } from '../contract/plan.js';

const REGEX_FORM = /^\/(.+)\/([dgimsuy]*)$/;
const REGEX_META = /[\^$\\()[\]{}|+?]/;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function isRegexPattern(pattern: string): boolean {
  const m = REGEX_FORM.exec(pattern);
  return !!m && REGEX_META.test(m[1]!);
}

/** Compiles a glob or /regex/; throws a SyntaxError naming the pattern when the regex is invalid. */
export function compilePathPattern(pattern: string): PathMatcher {
  if (isRegexPattern(pattern)) {
    const [, body, flags] = REGEX_FORM.exec(pattern)!;
    const re = new RegExp(body!, flags!.replace('g', ''));
    return (path) => re.test(path);
  }
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*' && pattern[i + 1] === '*') {
      // `/**/` also matches a single `/`, so `/docs/**/x` matches `/docs/x`.
      if (pattern[i + 2] === '/') {
        src += '(?:.*/)?';
        i += 2;
      } else {
        src += '.*';
        i += 1;
      }
    } else if (ch === '*') src += '[^/]*';
    else src += escapeRegex(ch);
  }
  const re = new RegExp(`^${src}$`);
  return (path) => re.test(path);
}

/** `/product/:id` → matcher of paths with that shape. */
export function compilePathTemplate(pattern: string): PathMatcher {
  const src = pattern
    .split('/')
    .map((seg) => (seg.startsWith(':') && seg.length > 1 ? '[^/]+' : escapeRegex(seg).replace(/\\\*/g, '[^/]*')))
    .join('/');
  const re = new RegExp(`^${src}/?$`);
  return (path) => re.test(path);
}
