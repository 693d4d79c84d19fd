// HTTP for the crawler: one keep-alive undici Agent, a per-request timeout,
// retries with backoff on network errors, 429 and 503 (Retry-After honoured,
// bounded), and a per-origin rate limit. Redirects are NOT followed here: the
// crawler walks chains itself to detect loops and scope exits, and asks
// headersFor / afterRedirect which headers each hop sends: the crawl's
// headers (auth, cookies) go to its in-scope origins only.
import { Agent } from 'undici';
import { setTimeout as delay } from 'node:timers/promises';
import type { CrawlRules } from './rules.js';
import { wireFailure } from '../transport/errors.js';
import type { TransportHandler } from '../transport/handler.js';
import { InFlight } from '../transport/in-flight.js';
import { redirectHeaders } from '../transport/redirect-headers.js';
import { StreamedResponse, type ChunkSink } from './streamed-response.js';

export type FetchErrorKind = 'network' | 'timeout' | 'aborted';

export class FetchError extends Error {
  constructor(
    readonly kind: FetchErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface Hop {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Read it with Fetcher.consume (which enforces the total timeout) or drop it with Fetcher.discard. */
  body: StreamedResponse;
  startedAt: number;
}

/** Splits an absolute URL into what undici's dispatch takes, without parsing it again. */
function target(url: string): { origin: string; path: string } {
  const slash = url.indexOf('/', url.indexOf('//') + 2);
  return slash < 0 ? { origin: url, path: '/' } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

/** Bodies dropped unread are read up to this size; past it the connection is closed instead. */
const DISCARD_LIMIT = 256 * 1024;

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export class Fetcher {
  readonly agent: Agent;
  /** Per origin, when its latest request left (resolves to that time once it did): each request waits for the one before it. */
  private readonly departures = new Map<string, Promise<number>>();
  /** Retries done, by reason, for the report. */
  readonly retries = { network: 0, status: 0 };
  requests = 0;

  /** Built once. To in-scope origins: the user agent and the crawl's headers. */
  private readonly scopeHeaders: Record<string, string>;
  /** Anywhere else (out-of-scope checks): the user agent only. */
  private readonly outsideHeaders: Record<string, string>;
  /** Requests not settled yet: one listener on the run signal aborts them all. */
  private readonly inFlight = new InFlight<TransportHandler>();
  private readonly abortAll = (): void => {
    for (const r of this.inFlight.items()) r.abort(new FetchError('aborted', 'crawl aborted'));
  };

  constructor(
    private readonly rules: CrawlRules,
    private readonly runSignal: AbortSignal,
  ) {
    this.agent = new Agent({ connections: rules.concurrency, keepAliveTimeout: 10_000, pipelining: 1, connect: { timeout: rules.timeoutMs } });
    this.scopeHeaders = { 'user-agent': rules.userAgent, ...rules.headers };
    this.outsideHeaders = { 'user-agent': this.scopeHeaders['user-agent']! };
    runSignal.addEventListener('abort', this.abortAll, { once: true });
  }

  /** The headers a request to `url` sends when it is not a redirect's next hop. */
  headersFor(url: string): Record<string, string> {
    return this.rules.origins.has(target(url).origin) ? this.scopeHeaders : this.outsideHeaders;
  }

  /**
   * The headers of the hop a redirect leads to, from those of the hop before:
   * the request steps' rule (only the safe headers and `http.redirectHeaders`
   * cross to another origin), and never more than the user agent out of scope.
   */
  afterRedirect(headers: Record<string, string>, from: string, to: string): Record<string, string> {
    const next = target(to).origin;
    if (!this.rules.origins.has(next)) return this.outsideHeaders;
    return redirectHeaders(headers, next !== target(from).origin, false, this.rules.redirectHeaders);
  }

  /** One request with retries; resolves a response (any status) or throws FetchError. */
  async fetch(url: string, method: 'GET' | 'HEAD', headers = this.headersFor(url)): Promise<Hop> {
    for (let attempt = 0; ; attempt++) {
      let hop: Hop;
      try {
        hop = await this.once(url, method, headers);
      } catch (e) {
        const err = e as FetchError;
        if (err.kind !== 'network' || attempt >= this.rules.retries) throw err;
        this.retries.network++;
        await this.wait(this.rules.backoffMs * 2 ** attempt);
        continue;
      }
      if ((hop.status === 429 || hop.status === 503) && attempt < this.rules.retries) {
        const after = retryAfterMs(hop.headers['retry-after']);
        await this.discard(hop);
        this.retries.status++;
        await this.wait(Math.min(after ?? this.rules.backoffMs * 2 ** attempt, this.rules.maxRetryAfterMs));
        continue;
      }
      return hop;
    }
  }

  /** Reads and drops a body without keeping it, so the connection can be reused. */
  async discard(hop: Hop): Promise<void> {
    let size = 0;
    try {
      await hop.body.pipe((chunk) => {
        size += chunk.length;
        if (size > DISCARD_LIMIT) throw new FetchError('network', 'body too large to drain');
      });
    } catch {
      // A body that fails (or is cut) while being dropped changes nothing.
    }
  }

  /**
   * Streams the body chunk by chunk into onChunk. The whole request (headers
   * and body) must fit in the crawl timeout: undici's header and body timers
   * catch a silent server, the deadline checked at each chunk catches one that
   * trickles. Rejects with a FetchError.
   */
  consume(hop: Hop, onChunk: ChunkSink): Promise<void> {
    const deadline = hop.startedAt + this.rules.timeoutMs;
    return hop.body
      .pipe((chunk) => {
        if (performance.now() > deadline) throw new FetchError('timeout', `timed out after ${this.rules.timeoutMs}ms`);
        onChunk(chunk);
      })
      .catch((e: unknown) => {
        throw this.classify(e);
      });
  }

  async close(): Promise<void> {
    this.runSignal.removeEventListener('abort', this.abortAll);
    await this.agent.close();
  }

  private async wait(ms: number): Promise<void> {
    if (ms <= 0) return;
    try {
      await delay(ms, undefined, { signal: this.runSignal });
    } catch {
      throw new FetchError('aborted', 'crawl aborted');
    }
  }

  /**
   * Waits until this origin's previous request left at least 1000/rateLimit ms
   * ago. Resolves `leave`, which the request calls once: as undici writes it
   * (`true`: the next one counts from now) or as it fails before that (`false`:
   * the next one counts from the request before). Requests queue behind each
   * other's actual departure, not behind slots computed in advance: after a
   * stall of the event loop, overdue slots would all fire at once and burst the
   * origin. Counted from the end of the wait instead, a gap came out 2 ms short
   * of a 10 ms interval: the promise hops to the dispatch let other work run (a
   * page being parsed), and undici's pool may hand the request to a connection
   * later still. A timer can also fire up to a millisecond early against
   * performance.now() (it counts from the event loop's cached clock), so the
   * gap is checked again after each wait.
   */
  private async throttle(origin: string): Promise<(left: boolean) => void> {
    const interval = 1000 / this.rules.rateLimit;
    const previous = this.departures.get(origin);
    let settle!: (at: number) => void;
    this.departures.set(origin, new Promise<number>((resolve) => (settle = resolve)));
    let last = -Infinity;
    // Only its first call counts: a promise settles once (a failure after the write changes nothing).
    const leave = (left: boolean) => settle(left ? performance.now() : last);
    try {
      last = previous ? await previous : -Infinity;
      for (let ms = last + interval - performance.now(); ms > 0; ms = last + interval - performance.now()) await this.wait(ms);
    } catch (e) {
      leave(false); // aborted while waiting
      throw e;
    }
    return leave;
  }

  /**
   * One request, dispatched straight to the Agent (see transport/handler.ts).
   * No AbortController, timer or listener of its own: the run signal aborts
   * every request in flight at once; undici's connect, header and body
   * timeouts bound it (see consume for the total).
   */
  private async once(url: string, method: 'GET' | 'HEAD', headers: Record<string, string>): Promise<Hop> {
    if (this.runSignal.aborted) throw new FetchError('aborted', 'crawl aborted');
    const leave = Number.isFinite(this.rules.rateLimit) ? await this.throttle(new URL(url).origin) : undefined;
    this.requests++;
    const startedAt = performance.now();
    const response = new StreamedResponse(this.inFlight, leave);
    const { origin, path } = target(url);
    try {
      this.agent.dispatch({ origin, path, method, headers, headersTimeout: this.rules.timeoutMs, bodyTimeout: this.rules.timeoutMs }, response);
    } catch (e) {
      response.abort(e as Error); // rejects response.head, awaited just below
    }
    try {
      await response.head;
    } catch (e) {
      throw this.classify(e);
    }
    return { status: response.status, headers: response.headers, body: response, startedAt };
  }

  /** A failed request as the crawl reports it: any undici timer that ran out is a timeout; everything else but a stop is a network error. */
  classify(e: unknown): FetchError {
    if (e instanceof FetchError) return e;
    const { kind } = wireFailure(e);
    if (kind === 'response-timeout' || kind === 'connect-timeout') return new FetchError('timeout', `timed out after ${this.rules.timeoutMs}ms`);
    if (this.runSignal.aborted) return new FetchError('aborted', 'crawl aborted');
    const err = e as { message?: string; cause?: { message?: string } } | null | undefined;
    return new FetchError('network', err?.cause?.message ?? err?.message ?? String(e));
  }
}
