// Streaming sitemap reader: the body's chunks go, as they arrive, through
// zlib's gunzip when the body starts with the gzip magic number (which covers
// `.xml.gz` files, `content-encoding: gzip` and `application/gzip` alike, as
// the crawler's requests never decompress), then into sax in strict mode.
// Nothing keeps the document: only the `<loc>` being read. A `<urlset>`'s
// entries are pages, a `<sitemapindex>`'s are sitemaps. Reading stops at the
// first problem (invalid XML or gzip, not a sitemap, over a limit), which is
// kept in `error`; the entries before it were already handed out.
import { createGunzip, type Gunzip } from 'node:zlib';
import { finished } from 'node:stream/promises';
import sax from 'sax';
import type { SitemapLimits } from '../../contract/plan.js';

export type SitemapKind = 'urlset' | 'sitemapindex';

/** The sitemap protocol allows 2,048 characters a URL; a longer `<loc>` is cut past this and is no URL. */
export const MAX_LOC_CHARS = 4096;
const MB = 1024 * 1024;
/** The child element of each root whose `<loc>` is an entry. */
const ENTRY: Record<SitemapKind, string> = { urlset: 'url', sitemapindex: 'sitemap' };

/** Stops the read; its message says why, for the report. */
export class SitemapError extends Error {}

export class SitemapReader {
  kind?: SitemapKind;
  /** Entries read. */
  entries = 0;
  /** The problem that stopped the read. */
  error?: string;

  private readonly xml = sax.parser(true, { position: true });
  private readonly decoder = new TextDecoder();
  private gunzip?: Gunzip;
  /** Whether the first bytes were read (and told gzip from XML). */
  private started = false;
  /** The first bytes, until two tell whether the body is gzipped. */
  private head?: Buffer;
  private bodyBytes = 0;
  private xmlBytes = 0;
  /** Open elements, by local name. */
  private readonly open: string[] = [];
  private loc?: string;

  constructor(
    private readonly limits: Pick<SitemapLimits, 'maxBytes' | 'maxEntries'>,
    /** Each entry's `<loc>`, trimmed (the caller checks it is a URL: the crawler parses it once). */
    private readonly onEntry: (loc: string) => void,
  ) {
    const xml = this.xml;
    xml.onerror = (e) => {
      throw this.fail(`not valid XML (line ${xml.line + 1}, column ${xml.column}): ${e.message.split('\n')[0]}`);
    };
    xml.onopentag = (tag) => this.openTag(localName(tag.name));
    xml.onclosetag = () => this.closeTag();
    xml.ontext = xml.oncdata = (text) => {
      if (this.loc !== undefined && this.loc.length <= MAX_LOC_CHARS) this.loc += text;
    };
  }

  /** One chunk of the body; throws a SitemapError once the read must stop. */
  write(chunk: Buffer): void {
    if (this.error) throw new SitemapError(this.error);
    this.bodyBytes += chunk.length;
    if (this.bodyBytes > this.limits.maxBytes) throw this.tooLarge();
    if (this.gunzip) {
      this.gunzip.write(chunk);
      return;
    }
    if (this.started) {
      this.feed(chunk);
      return;
    }
    this.head = this.head ? Buffer.concat([this.head, chunk]) : chunk;
    if (this.head.length >= 2) this.start();
  }

  /** The body ended: resolves once every byte was parsed; throws a SitemapError when the document is not a whole sitemap. */
  async end(): Promise<void> {
    if (this.head) this.start();
    if (this.gunzip) {
      this.gunzip.end();
      await finished(this.gunzip).catch(() => {}); // a gunzip error was kept in `error`
    }
    if (this.error) throw new SitemapError(this.error);
    this.xml.write(this.decoder.decode());
    this.xml.close();
    if (!this.kind) throw this.fail('empty document: not a sitemap');
  }

  /** The first bytes tell gzip from XML. */
  private start(): void {
    const head = this.head!;
    this.head = undefined;
    this.started = true;
    if (head[0] !== 0x1f || head[1] !== 0x8b) {
      this.feed(head);
      return;
    }
    const gunzip = createGunzip();
    this.gunzip = gunzip;
    gunzip.on('data', (data: Buffer) => {
      try {
        this.feed(data);
      } catch {
        gunzip.destroy(); // the reason is in `error`
      }
    });
    gunzip.on('error', (e) => {
      if (!this.error) this.fail(`not valid gzip: ${e.message}`);
    });
    gunzip.write(head);
  }

  private feed(data: Buffer): void {
    if (this.error) throw new SitemapError(this.error);
    this.xmlBytes += data.length;
    if (this.xmlBytes > this.limits.maxBytes) throw this.tooLarge();
    this.xml.write(this.decoder.decode(data, { stream: true }));
  }

  private openTag(name: string): void {
    this.open.push(name);
    const depth = this.open.length;
    if (depth === 1) {
      if (this.kind) throw this.fail(`not valid XML (line ${this.xml.line + 1}, column ${this.xml.column}): a second root element <${name}>`);
      if (name !== 'urlset' && name !== 'sitemapindex') throw this.fail(`not a sitemap: the root element is <${name}>, expected <urlset> or <sitemapindex>`);
      this.kind = name;
    } else if (depth === 3 && name === 'loc' && this.open[1] === ENTRY[this.kind!]) this.loc = '';
  }

  private closeTag(): void {
    this.open.pop();
    if (this.loc === undefined || this.open.length !== 2) return;
    const text = this.loc.trim();
    this.loc = undefined;
    if (++this.entries > this.limits.maxEntries) {
      throw this.fail(`more than ${this.limits.maxEntries} entries (the sitemap protocol's limit): the rest were not read`);
    }
    this.onEntry(text);
  }

  private tooLarge(): SitemapError {
    return this.fail(`larger than ${this.limits.maxBytes / MB} MB uncompressed (the sitemap protocol's limit): the rest was not read`);
  }

  private fail(message: string): SitemapError {
    this.error ??= message;
    return new SitemapError(this.error);
  }
}

/** `sm:loc` → `loc`: sitemaps may use a namespace prefix. */
function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1).toLowerCase();
}
