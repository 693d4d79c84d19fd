// One request/response over the Agent, on the transport base handler
// (transport/handler.ts): the body is collected as the chunks undici hands
// over, up to a bound past which it is only counted, so memory stays bounded
// whatever the server sends. Redirects are followed here rather than by
// undici's RedirectHandler, whose cross-origin rule forwards custom headers
// (x-api-key, …) and whose loop error names no URL; a plain 200 pays only a
// status check for it.
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { RedirectHeaders } from '../../contract/plan.js';
import type { InFlight } from '../transport/in-flight.js';
import { TransportHandler, type Controller } from '../transport/handler.js';
import { redirectHeaders } from '../transport/redirect-headers.js';

export const REDIRECT_STATUSES = new Set([300, 301, 302, 303, 307, 308]);

export interface Exchanged {
  status: number;
  headers: IncomingHttpHeaders;
  /** The first `maxBody` bytes of the body as received, before decoding. */
  chunks: Buffer[];
  /** Body bytes received, kept or not. */
  bytes: number;
  /** Body bytes kept at most; the rest is counted in `bytes` and dropped. */
  maxBody: number;
  /** The URLs visited when a redirect was followed, the first one requested; else undefined. */
  history?: URL[];
}

type Handler = Dispatcher.DispatchHandler;

/** Collects one response and settles a promise with it. */
class Collector extends TransportHandler {
  constructor(
    readonly result: Exchanged,
    private readonly resolve: (r: Exchanged) => void,
    private readonly reject: (e: unknown) => void,
    inFlight: InFlight<TransportHandler> | undefined,
  ) {
    super(inFlight);
  }

  protected onHead(statusCode: number, headers: IncomingHttpHeaders): void {
    this.result.status = statusCode;
    this.result.headers = headers;
  }

  protected onChunk(_c: Controller, chunk: Buffer): void {
    const r = this.result;
    const room = r.maxBody - r.bytes;
    if (room > 0) r.chunks.push(room >= chunk.length ? chunk : chunk.subarray(0, room));
    r.bytes += chunk.length;
  }

  protected onEnd(): void {
    this.resolve(this.result);
  }

  protected onFailure(error: unknown): void {
    this.reject(error);
  }
}

/** A redirect chain that comes back to a URL it already visited. */
export class RedirectLoop extends Error {
  constructor(readonly urls: URL[]) {
    // The first URL in full, the next ones as paths while they stay on its origin.
    const first = urls[0]!;
    super(`redirect loop: ${urls.map((u, i) => (i > 0 && u.origin === first.origin ? u.pathname + u.search : u.href)).join(' → ')}`);
  }
}

/** A request to dispatch; its headers as one object, so a redirect can filter them by name. */
export type ExchangeOptions = Dispatcher.DispatchOptions & { headers: Record<string, string> };

/** How redirects are followed: at most `max` of them, carrying headers across origins per `headers`. */
export interface RedirectPolicy {
  max: number;
  headers: RedirectHeaders;
}

/**
 * Follows redirects itself, so that which headers go on to another origin is
 * the plan's rule (transport/redirect-headers.ts), not undici's, and a loop is named by
 * its URLs. A 3xx that is followed is never shown to the collector: its body
 * is read and dropped (the socket stays reusable), then the next hop goes out
 * through this same handler. A plain response costs only the status check.
 */
class Hops implements Handler {
  private opts: ExchangeOptions;
  /** Every URL visited, the first one requested; undefined until a redirect is followed. */
  private history: URL[] | undefined;
  /** The next hop while the current 3xx is being drained. */
  private next: ExchangeOptions | undefined;

  constructor(
    private readonly collector: Collector,
    private readonly dispatch: Dispatcher.Dispatch,
    opts: ExchangeOptions,
    private readonly policy: RedirectPolicy,
  ) {
    this.opts = opts;
  }

  onRequestStart(controller: Controller): void {
    // Each hop starts again, with a new controller; the exchange shows the history so far.
    if (this.history) this.collector.result.history = this.history;
    this.collector.onRequestStart(controller);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    const location = headers.location;
    const followed = this.history ? this.history.length - 1 : 0;
    if (followed >= this.policy.max || !REDIRECT_STATUSES.has(statusCode) || location === undefined) {
      this.collector.onResponseStart(controller, statusCode, headers);
      return;
    }
    this.history ??= [new URL(this.opts.path, this.opts.origin as string)];
    const from = this.history[this.history.length - 1]!;
    let to: URL;
    try {
      to = new URL(location, from);
    } catch {
      this.collector.abort(new Error(`redirect to an invalid URL: ${location}`));
      return;
    }
    to.hash = '';
    if (to.protocol !== 'http:' && to.protocol !== 'https:') {
      this.collector.abort(new Error(`redirect to ${to.href}, not an http(s) URL`));
      return;
    }
    if (this.history.some((u) => u.href === to.href)) {
      this.collector.abort(new RedirectLoop([...this.history, to]));
      return;
    }
    this.history.push(to);
    this.next = this.nextHop(statusCode, from, to);
  }

  /** What the next hop sends: 303 (and 301/302 after a POST) turn into a GET without the body, as browsers do. */
  private nextHop(statusCode: number, from: URL, to: URL): ExchangeOptions {
    const { method, body } = this.opts;
    const toGet = (statusCode === 303 && method !== 'HEAD') || ((statusCode === 301 || statusCode === 302) && method === 'POST');
    const bodyKept = !toGet && body != null;
    return {
      ...this.opts,
      origin: to.origin,
      path: to.pathname + to.search,
      method: toGet ? 'GET' : method,
      body: toGet ? null : body,
      headers: redirectHeaders(this.opts.headers, to.origin !== from.origin, bodyKept, this.policy.headers),
    };
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (!this.next) this.collector.onResponseData(controller, chunk);
  }

  onResponseEnd(controller: Controller): void {
    const next = this.next;
    if (!next) {
      this.collector.onResponseEnd();
      return;
    }
    this.next = undefined;
    this.opts = next;
    try {
      this.dispatch(next, this);
    } catch (err) {
      this.collector.onResponseError(controller, err as Error);
    }
  }

  onResponseError(controller: Controller, error: Error): void {
    this.collector.onResponseError(controller, error);
  }
}

/** An exchange to fill, keeping at most `maxBody` bytes of the body. */
export const emptyExchange = (maxBody = Infinity): Exchanged => ({ status: 0, headers: {}, chunks: [], bytes: 0, maxBody });

/**
 * Sends `opts` through `dispatch` (an Agent's), following redirects per
 * `redirects`, and fills `into` as the response comes (a failed exchange leaves
 * there what had arrived). The exchange sits in `inFlight` until it settles, so the caller can abort it.
 */
export function exchange(
  dispatch: Dispatcher.Dispatch,
  opts: ExchangeOptions,
  redirects: RedirectPolicy,
  inFlight?: InFlight<TransportHandler>,
  into: Exchanged = emptyExchange(),
): Promise<Exchanged> {
  return new Promise<Exchanged>((resolve, reject) => {
    const collector = new Collector(into, resolve, reject, inFlight);
    try {
      dispatch(opts, new Hops(collector, dispatch, opts, redirects));
    } catch (err) {
      collector.abort(err);
    }
  });
}

/** The kept body as text: one chunk decodes as it is, several are joined first (a UTF-8 character may straddle two). */
export function bodyText(r: Exchanged): string {
  const { chunks } = r;
  if (chunks.length === 0) return '';
  if (chunks.length === 1) return chunks[0]!.toString('utf8');
  return Buffer.concat(chunks, Math.min(r.bytes, r.maxBody)).toString('utf8');
}
