// Compiles `crawl.start`: plain URLs, and the sources of more start URLs —
// sitemaps and robots.txt files (read when the crawl starts, by the crawl
// engine) and files of URLs (read here, so a missing file or a bad line is
// reported when the plan loads, at its own file, line and column).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CrawlSeed } from '../contract/plan.js';
import type { CompileContext } from './compile-context.js';
import { formatPath } from './issue-collector.js';
import type * as Raw from './raw-plan.js';
import type { YamlPath } from './source.js';

/** Bad lines of one URL file reported before the rest are summed up in one issue. */
const MAX_LINE_ISSUES = 10;

export interface CompiledStart {
  start: string[];
  seeds: CrawlSeed[];
}

export function compileStart(cx: CompileContext, raw: Raw.CrawlStart[], target: URL | undefined, planFile: string): CompiledStart {
  const out: CompiledStart = { start: [], seeds: [] };
  const fail = (path: YamlPath, message: string, hint: string) => cx.issues.error(path, `${formatPath(path)}: ${message}`, { hint });
  const notHttp = (text: string) => `\`${text}\` is not an http(s) URL${URL.canParse(text) || target ? '' : ' and the plan has no target to resolve it against'}`;
  const hint = 'write an absolute URL like http://127.0.0.1:8080/ or set `target:`';
  raw.forEach((s, i) => {
    const at: YamlPath = ['crawl', 'start', i];
    if (typeof s === 'string') {
      const url = parseHttpUrl(s, target);
      if (url) out.start.push(url);
      else fail(at, notHttp(s), hint);
    } else if (s.urls !== undefined) {
      const seed = readUrlFile(cx, [...at, 'urls'], s.urls, planFile, target);
      if (seed) out.seeds.push(seed);
    } else {
      const kind = s.sitemap !== undefined ? 'sitemap' : 'robots';
      const text = s.sitemap ?? s.robots ?? '';
      const url = parseHttpUrl(text, target);
      if (url) out.seeds.push({ kind, url });
      else fail([...at, kind], notHttp(text), hint);
    }
  });
  return out;
}

/** The absolute http(s) URL `text` names, or undefined. */
export function parseHttpUrl(text: string, base?: URL): string | undefined {
  try {
    const url = new URL(text, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a URL file: one URL a line, `#` comments and blank lines skipped; every bad line is an issue at its line and column. */
function readUrlFile(cx: CompileContext, path: YamlPath, name: string, planFile: string, target: URL | undefined): CrawlSeed | undefined {
  const file = resolve(dirname(planFile), name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `no such file (${file})` : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    cx.issues.error(path, `${formatPath(path)}: cannot read ${name}: ${why}`, { hint: 'the path is relative to the plan file; the file lists one URL a line' });
    return undefined;
  }
  const urls: string[] = [];
  let bad = 0;
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const entry = line.trim();
    if (entry === '' || entry.startsWith('#')) return;
    const url = parseHttpUrl(entry, target);
    if (url) {
      urls.push(url);
      return;
    }
    if (++bad > MAX_LINE_ISSUES) return;
    cx.issues.push({
      file,
      line: i + 1,
      col: line.indexOf(entry) + 1,
      severity: 'error',
      message: `\`${entry}\` is not an http(s) URL${target ? '' : ' (a relative URL needs the plan to have a target)'}`,
      hint: `one absolute URL a line, like http://127.0.0.1:8080/page (read through ${formatPath(path)})`,
    });
  });
  if (bad > MAX_LINE_ISSUES) {
    cx.issues.error(path, `${formatPath(path)}: ${name} has ${bad} lines that are not http(s) URLs (the first ${MAX_LINE_ISSUES} are listed)`, {
      hint: 'one URL a line; blank lines and lines starting with # are skipped',
    });
  }
  if (urls.length === 0 && bad === 0) {
    cx.issues.error(path, `${formatPath(path)}: ${name} lists no URL`, { hint: 'one URL a line; blank lines and lines starting with # are skipped' });
    return undefined;
  }
  return { kind: 'urls', file: name, urls };
}
