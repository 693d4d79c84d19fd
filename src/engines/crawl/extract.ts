// Streaming link extraction: bytes go into htmlparser2's Parser as they
// arrive; out come the raw links (resolved later against the final <base>),
// the title, element ids (for fragment checks) and the visible text fed to a
// fingerprinter / text expectations. Nothing keeps the whole body.
import { Parser } from 'htmlparser2';
import type { LinkSelector } from '../../contract/plan.js';
import { TextFingerprinter } from './fingerprint.js';

export interface RawLink {
  href: string;
  /** Selector label, e.g. `a[href]`. */
  element: string;
  follow: boolean;
  text?: string;
}

export interface PageData {
  /** `<base href>` as written, if any (the first one counts). */
  base?: string;
  links: RawLink[];
  title?: string;
  ids?: Set<string>;
  fingerprint?: string;
  /** Visible text, only collected when text expectations exist (bounded). */
  text?: string;
}

export interface ExtractOptions {
  follow: LinkSelector[];
  check: LinkSelector[];
  collectIds: boolean;
  fingerprint?: 'exact' | 'near';
  collectText: boolean;
}

const MAX_LINK_TEXT = 80;
const MAX_TEXT = 1 << 20;
const HIDDEN = new Set(['script', 'style', 'template', 'noscript']);
// Resource hints name origins, not resources: fetching them says nothing.
const HINT_RELS = /\b(preconnect|dns-prefetch)\b/;

/** Splits a srcset into its candidate URLs (commas inside URLs survive, descriptors dropped). */
export function parseSrcset(srcset: string): string[] {
  const urls: string[] = [];
  const n = srcset.length;
  let i = 0;
  while (i < n) {
    while (i < n && /[\s,]/.test(srcset[i]!)) i++;
    const start = i;
    while (i < n && !/\s/.test(srcset[i]!)) i++;
    const url = srcset.slice(start, i);
    if (url.endsWith(',')) {
      // `a.png,b.png`: a candidate without descriptor ends at its trailing comma.
      if (url.replace(/,+$/, '')) urls.push(url.replace(/,+$/, ''));
      continue;
    }
    if (url) urls.push(url);
    // Skip the descriptor up to the next comma outside parentheses.
    let depth = 0;
    for (; i < n; i++) {
      const ch = srcset[i]!;
      if (ch === '(') depth++;
      else if (ch === ')') depth = Math.max(0, depth - 1);
      else if (ch === ',' && depth === 0) break;
    }
  }
  return urls;
}

function squash(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * One page at a time; reusable for the next page after end() (the crawler
 * keeps one per worker). Reuse matters at 100k pages: a streaming TextDecoder
 * holds a native ICU converter freed only when a full GC finds it dead, and a
 * fresh htmlparser2 parser per page is ~3 KB of objects that outlive
 * young-generation GCs.
 */
export class LinkExtractor {
  private readonly parser: Parser;
  private readonly decoder = new TextDecoder();
  private readonly byTag = new Map<string, Array<{ sel: LinkSelector; follow: boolean }>>();
  private data: PageData = { links: [] };
  private fp?: TextFingerprinter;
  private hiddenDepth = 0;
  private inTitle = false;
  private title = '';
  private text = '';
  /** Links of the <a>/<area> being read, waiting for their text. */
  private openAnchor: RawLink[] = [];
  private anchorText = '';

  constructor(private readonly opts: ExtractOptions) {
    for (const [list, follow] of [
      [opts.follow, true],
      [opts.check, false],
    ] as const) {
      for (const sel of list) {
        const l = this.byTag.get(sel.tag) ?? [];
        l.push({ sel, follow });
        this.byTag.set(sel.tag, l);
      }
    }
    this.start();
    this.parser = new Parser(
      {
        onopentag: (name, attribs) => this.open(name, attribs),
        onclosetag: (name) => this.close(name),
        ontext: (t) => this.onText(t),
      },
      { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
    );
  }

  /** Fresh per-page state; the parser and decoder are reset by end(). */
  private start(): void {
    this.data = { links: [] };
    if (this.opts.collectIds) this.data.ids = new Set();
    this.fp = this.opts.fingerprint ? new TextFingerprinter(this.opts.fingerprint === 'exact') : undefined;
    this.hiddenDepth = 0;
    this.inTitle = false;
    this.title = '';
    this.text = '';
    this.openAnchor = [];
    this.anchorText = '';
  }

  write(chunk: Uint8Array): void {
    this.parser.write(this.decoder.decode(chunk, { stream: true }));
  }

  /** Finishes the page and returns what it held; the extractor is then ready for another page. */
  end(): PageData {
    this.parser.end(this.decoder.decode());
    this.closeAnchor();
    const data = this.data;
    if (this.title) data.title = squash(this.title);
    if (this.fp) data.fingerprint = this.fp.digest();
    if (this.opts.collectText) data.text = this.text;
    this.parser.reset();
    this.start();
    return data;
  }

  /** Drops a page abandoned mid-way (its body failed) so the extractor can take another. */
  abandon(): void {
    this.decoder.decode();
    this.parser.reset();
    this.start();
  }

  private open(name: string, attribs: Record<string, string>): void {
    if (HIDDEN.has(name)) this.hiddenDepth++;
    if (name === 'title') this.inTitle = true;
    if (this.data.ids) {
      if (attribs.id) this.data.ids.add(attribs.id);
      if (name === 'a' && attribs.name) this.data.ids.add(attribs.name);
    }
    if (name === 'base' && attribs.href !== undefined && this.data.base === undefined) this.data.base = attribs.href.trim();
    if (name === 'a' || name === 'area') this.closeAnchor();
    const sels = this.byTag.get(name);
    if (!sels) return;
    for (const { sel, follow } of sels) {
      const value = attribs[sel.attr];
      if (value === undefined) continue;
      if (name === 'link') {
        const rel = (attribs.rel ?? '').toLowerCase();
        if (HINT_RELS.test(rel) || (sel.rel && !rel.split(/\s+/).includes(sel.rel))) continue;
      }
      const hrefs = sel.attr === 'srcset' ? parseSrcset(value) : [value.trim()];
      for (const href of hrefs) {
        const link: RawLink = { href, element: sel.label, follow };
        const alt = attribs.alt ?? attribs.title;
        if (name === 'a') this.openAnchor.push(link);
        else if (alt) link.text = squash(alt).slice(0, MAX_LINK_TEXT);
        this.data.links.push(link);
      }
    }
  }

  private close(name: string): void {
    if (HIDDEN.has(name) && this.hiddenDepth > 0) this.hiddenDepth--;
    if (name === 'title') this.inTitle = false;
    if (name === 'a') this.closeAnchor();
  }

  private closeAnchor(): void {
    if (this.openAnchor.length === 0) return;
    const text = squash(this.anchorText).slice(0, MAX_LINK_TEXT);
    for (const l of this.openAnchor) if (text) l.text = text;
    this.openAnchor = [];
    this.anchorText = '';
  }

  private onText(t: string): void {
    if (this.inTitle) {
      if (this.title.length < 1000) this.title += t;
      return;
    }
    if (this.hiddenDepth > 0) return;
    if (this.openAnchor.length && this.anchorText.length < MAX_LINK_TEXT * 2) this.anchorText += t;
    this.fp?.feed(` ${t}`);
    if (this.opts.collectText && this.text.length < MAX_TEXT) this.text += t;
  }
}
