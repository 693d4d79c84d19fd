// One request/response over the Agent, as a bare dispatch handler: the body
// is collected as the chunks undici hands over (no Readable stream, no
// per-request abort listener), up to a bound past which it is only counted,
// so memory stays bounded whatever the server sends. undici's RedirectHandler only comes in
// when a response actually redirects, so a plain 200 pays nothing for the
// redirect support. Redirect rules (303 → GET, cross-origin header removal,
// loop detection) stay undici's.
import { RedirectHandler, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { InFlight } from '../in-flight.js';

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

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;

/** Collects one response and settles a promise with it. */
class Collector implements Handler {
  private controller: Controller | undefined;
  private abortReason: unknown;
  private settled = false;
  private readonly slot: number = -1;
  constructor(
    private readonly result: Exchanged,
    private readonly resolve: (r: Exchanged) => void,
    private readonly reject: (e: unknown) => void,
    private readonly inFlight: InFlight<ExchangeSlot> | undefined,
  ) {
    if (inFlight) this.slot = inFlight.add(this);
  }

  /** Ends the exchange with `reason` now, whatever state it is in (queued, waiting for headers, reading the body). */
  abort(reason: unknown): void {
    if (this.settled) return;
    this.abortReason = reason;
    this.controller?.abort(reason as Error);
    this.fail(reason);
  }

  onRequestStart(controller: Controller, context: unknown): void {
    // Each redirect hop starts again, with a new controller and the history so far.
    this.controller = controller;
    const history = (context as { history?: URL[] } | undefined)?.history;
    if (history) this.result.history = history;
    if (this.abortReason !== undefined) controller.abort(this.abortReason as Error);
  }

  onResponseStart(_c: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return;
    this.result.status = statusCode;
    this.result.headers = headers;
  }

  onResponseData(_c: Controller, chunk: Buffer): void {
    const r = this.result;
    const room = r.maxBody - r.bytes;
    if (room > 0) r.chunks.push(room >= chunk.length ? chunk : chunk.subarray(0, room));
    r.bytes += chunk.length;
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    this.inFlight?.delete(this.slot, this);
    this.resolve(this.result);
  }

  onResponseError(_c: Controller, error: Error): void {
    this.fail(error);
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.inFlight?.delete(this.slot, this);
    this.reject(error);
  }
}

/**
 * The first hop goes straight to the Agent. Only when its response redirects
 * (and redirects are allowed) does it hand this response to a RedirectHandler,
 * which then follows the rest of the chain as undici's redirect interceptor would.
 */
class FirstHop implements Handler {
  private next: Handler;

  constructor(
    private readonly collector: Collector,
    private readonly dispatch: Dispatcher.Dispatch,
    private readonly opts: Dispatcher.DispatchOptions,
    private readonly maxRedirects: number,
  ) {
    this.next = collector;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.next.onRequestStart!(controller, context);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (this.maxRedirects > 0 && REDIRECT_STATUSES.has(statusCode) && headers.location !== undefined) {
      this.next = new RedirectHandler(this.dispatch, this.maxRedirects, this.opts, this.collector);
    }
    this.next.onResponseStart!(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.next.onResponseData!(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    this.next.onResponseEnd!(controller, trailers);
  }

  onResponseError(controller: Controller, error: Error): void {
    this.next.onResponseError!(controller, error);
  }
}

/** Where a caller can abort an exchange in flight. */
export interface ExchangeSlot {
  abort(reason: unknown): void;
}

/** An exchange to fill, keeping at most `maxBody` bytes of the body. */
export const emptyExchange = (maxBody = Infinity): Exchanged => ({ status: 0, headers: {}, chunks: [], bytes: 0, maxBody });

/**
 * Sends `opts` through `dispatch` (an Agent's), following up to `maxRedirects`
 * redirects, and fills `into` as the response comes (a failed exchange leaves
 * there what had arrived). The exchange sits in `inFlight` until it settles, so the caller can abort it.
 */
export function exchange(
  dispatch: Dispatcher.Dispatch,
  opts: Dispatcher.DispatchOptions,
  maxRedirects: number,
  inFlight?: InFlight<ExchangeSlot>,
  into: Exchanged = emptyExchange(),
): Promise<Exchanged> {
  return new Promise<Exchanged>((resolve, reject) => {
    const collector = new Collector(into, resolve, reject, inFlight);
    try {
      dispatch(opts, new FirstHop(collector, dispatch, opts, maxRedirects));
    } catch (err) {
      collector.onResponseError(undefined as never, err as Error);
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
