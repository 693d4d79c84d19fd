// Browser mode of the crawler (`crawl.browser: true`), for sites built by
// JavaScript. The HTTP side stays the crawler's: the document is fetched by
// the Fetcher (retries, redirects, rate limit, robots, status rules all
// unchanged) and handed to Chromium through a route, so the page is requested
// once and rendered at its real URL. Its scripts and XHRs then run against the
// live server; once the page settles, links are read from the DOM and go into
// the same frontier as HTTP-parsed links. The browser is the one browser
// steps use (findBrowser, launchArgs), loaded only when browser mode is on.
// The crawl's headers go with the page's requests to in-scope origins only,
// as with the fetcher: cookies through the browser's cookie jar, the others
// added per request by the route (see serve).
import type { APIResponse, Browser, BrowserContext, Page, Route } from 'playwright-core';
import type { CrawlBrowserOptions } from '../../contract/plan.js';
import { parseSrcset, type PageData, type RawLink } from './extract.js';
import { TextFingerprinter } from './fingerprint.js';
import type { LinkSelector } from '../../contract/plan.js';

export interface RenderOptions {
  follow: LinkSelector[];
  check: LinkSelector[];
  collectIds: boolean;
  fingerprint?: 'exact' | 'near';
  collectText: boolean;
  /** The crawl's headers (auth, cookies), sent to the in-scope origins only. */
  headers: Record<string, string>;
  /** The in-scope origins: the crawl's cookies are set for them, its other headers sent to them. */
  origins: ReadonlySet<string>;
  timeoutMs: number;
}

/** A rendered document: what the fetcher received. */
export interface RenderInput {
  url: string;
  status: number;
  contentType: string;
  body: Buffer;
}

/** After `load`, how long a page may keep the network busy before its DOM is read anyway. */
const SETTLE_MS = 2000;
const MAX_LINK_TEXT = 80;

/** Splits a Cookie header into cookies set on each origin, so the page's own requests send them too (to any port of those hosts, as browsers do). */
function cookiesFor(header: string | undefined, origins: Iterable<string>): Array<{ name: string; value: string; url: string }> {
  if (!header) return [];
  const pairs = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p.includes('='))
    .map((p) => [p.slice(0, p.indexOf('=')).trim(), p.slice(p.indexOf('=') + 1).trim()] as const);
  return [...origins].flatMap((url) => pairs.map(([name, value]) => ({ name, value, url })));
}

interface DomLink {
  value: string;
  selector: number;
  text?: string;
}

interface DomData {
  base?: string;
  title: string;
  links: DomLink[];
  ids: string[];
  text: string;
}

export class PageRenderer {
  private browser?: Promise<Browser>;
  private context?: Promise<BrowserContext>;
  private readonly idle: Page[] = [];
  /** Documents waiting to be served to the page navigating to them, by URL. */
  private readonly documents = new Map<string, RenderInput>();
  private closed = false;
  private readonly selectors: Array<{ sel: LinkSelector; follow: boolean }>;
  /** The crawl's headers but the cookie (a jar cookie) and the user agent (the context's, for every origin); undefined when none is left. */
  private readonly scopeHeaders?: Record<string, string>;

  constructor(
    private readonly launch: CrawlBrowserOptions,
    private readonly opts: RenderOptions,
  ) {
    this.selectors = [...opts.follow.map((sel) => ({ sel, follow: true })), ...opts.check.map((sel) => ({ sel, follow: false }))];
    const { cookie: _cookie, 'user-agent': _userAgent, ...scopeHeaders } = opts.headers;
    if (Object.keys(scopeHeaders).length > 0) this.scopeHeaders = scopeHeaders;
  }

  /** Launches the browser now, so a missing or broken one fails the crawl before it starts. */
  async start(): Promise<void> {
    await this.openContext();
  }

  /** Renders the document at its URL and reads its links, title, ids and text from the DOM. */
  async render(doc: RenderInput): Promise<PageData> {
    const context = await this.openContext();
    const page = this.idle.pop() ?? (await context.newPage());
    this.documents.set(doc.url, doc);
    try {
      await page.goto(doc.url, { waitUntil: 'load', timeout: this.opts.timeoutMs });
      // Scripts that fetch data before adding links: wait for the network to calm down, bounded.
      await page.waitForLoadState('networkidle', { timeout: Math.min(SETTLE_MS, this.opts.timeoutMs) }).catch(() => undefined);
      const selectors = this.selectors.map(({ sel }) => ({ tag: sel.tag, attr: sel.attr, rel: sel.rel ?? null }));
      const dom = (await page.evaluate(`(${READ_DOM})(${JSON.stringify(selectors)})`)) as DomData;
      if (!this.closed) this.idle.push(page);
      return this.pageData(dom);
    } catch (e) {
      await page.close().catch(() => undefined);
      throw e;
    } finally {
      this.documents.delete(doc.url);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const browser = this.browser;
    this.browser = undefined;
    this.context = undefined;
    if (browser) await (await browser.catch(() => undefined))?.close().catch(() => undefined);
  }

  private openContext(): Promise<BrowserContext> {
    if (this.closed) return Promise.reject(new Error('crawl aborted'));
    this.context ??= (async () => {
      const [{ chromium }, { findBrowser, launchArgs }] = await Promise.all([import('playwright-core'), import('../browser/browser-engine.js')]);
      this.browser = chromium.launch({
        executablePath: findBrowser(this.launch).path,
        headless: this.launch.headless,
        args: launchArgs(this.launch.args),
      });
      const browser = await this.browser;
      // No extraHTTPHeaders: Chromium would send them to every origin the page loads from.
      const userAgent = this.opts.headers['user-agent'];
      const context = await browser.newContext(userAgent !== undefined ? { userAgent } : {});
      const cookies = cookiesFor(this.opts.headers.cookie, this.opts.origins);
      if (cookies.length) await context.addCookies(cookies);
      await context.route('**/*', (route) => this.serve(route));
      return context;
    })();
    return this.context;
  }

  /**
   * Serves the fetched document to its navigation; every other request goes
   * to the network, with the crawl's headers when its origin is in scope.
   */
  private async serve(route: Route): Promise<void> {
    const req = route.request();
    const doc = req.isNavigationRequest() ? this.documents.get(req.url()) : undefined;
    try {
      if (doc) await route.fulfill({ status: doc.status, contentType: doc.contentType, body: doc.body });
      else if (this.scopeHeaders && this.opts.origins.has(new URL(req.url()).origin)) await this.sendWithHeaders(route, this.scopeHeaders);
      else await route.continue();
    } catch {
      // The page closed while the request was pending: nothing to serve.
    }
  }

  /**
   * Sends an in-scope request with the crawl's headers from here, without
   * following a redirect: Chromium follows the 3xx itself and its next hop
   * goes without them (to any origin: the route does not see redirects; the
   * jar's cookies still go where they belong). route.continue({ headers })
   * would carry them through redirects to any origin.
   */
  private async sendWithHeaders(route: Route, headers: Record<string, string>): Promise<void> {
    let response: APIResponse;
    try {
      response = await route.fetch({ headers: { ...route.request().headers(), ...headers }, maxRedirects: 0, timeout: this.opts.timeoutMs });
    } catch {
      await route.abort(); // as the network would fail it
      return;
    }
    await route.fulfill({ response });
  }

  private pageData(dom: DomData): PageData {
    const links: RawLink[] = [];
    for (const l of dom.links) {
      const { sel, follow } = this.selectors[l.selector]!;
      const hrefs = sel.attr === 'srcset' ? parseSrcset(l.value) : [l.value.trim()];
      for (const href of hrefs) links.push(l.text ? { href, element: sel.label, follow, text: l.text.slice(0, MAX_LINK_TEXT) } : { href, element: sel.label, follow });
    }
    const data: PageData = { links };
    if (dom.base !== undefined) data.base = dom.base;
    if (dom.title) data.title = dom.title;
    if (this.opts.collectIds) data.ids = new Set(dom.ids);
    if (this.opts.fingerprint) {
      const fp = new TextFingerprinter(this.opts.fingerprint === 'exact');
      fp.feed(`${dom.text} `);
      data.fingerprint = fp.digest();
    }
    if (this.opts.collectText) data.text = dom.text;
    return data;
  }
}

/**
 * Runs in the page: raw attribute values (resolved later like HTTP-parsed
 * links), link text, ids and visible text. Kept as source text because build
 * tools (tsx/esbuild) wrap compiled functions in helpers the page lacks.
 */
const READ_DOM = `(selectors) => {
  const squash = (s) => (s || '').replace(/\\s+/g, ' ').trim();
  const links = [];
  selectors.forEach((s, selector) => {
    for (const el of document.querySelectorAll(s.tag + '[' + s.attr + ']')) {
      if (s.tag === 'link') {
        const rel = (el.getAttribute('rel') || '').toLowerCase();
        if (/\\b(preconnect|dns-prefetch)\\b/.test(rel) || (s.rel && !rel.split(/\\s+/).includes(s.rel))) continue;
      }
      const text = s.tag === 'a' ? squash(el.textContent) : squash(el.getAttribute('alt') || el.getAttribute('title'));
      const link = { value: el.getAttribute(s.attr), selector };
      if (text) link.text = text;
      links.push(link);
    }
  });
  const ids = Array.from(document.querySelectorAll('[id]'), (el) => el.id);
  for (const a of document.querySelectorAll('a[name]')) ids.push(a.getAttribute('name'));
  const base = document.querySelector('base[href]');
  const data = { title: squash(document.title), links, ids, text: document.body ? document.body.innerText : '' };
  if (base) data.base = base.getAttribute('href');
  return data;
}`;
