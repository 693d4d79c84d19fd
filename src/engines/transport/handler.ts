// The base of every undici dispatch handler the engines write (the HTTP
// steps' buffered exchange, the crawl's streamed response). It keeps the
// callback-order rules in one place: the controller is captured at each
// request start (a redirect hop starts again) and aborted there if the
// request was already aborted; 1xx answers are skipped (the real answer
// follows); the handler settles once, by its end or its first failure, and
// leaves the in-flight registry at that moment; chunks after a failure are
// dropped. Subclasses only say what a head, a chunk, an end and a failure
// mean to them. Dispatching straight to the Agent with such a handler, rather
// than through undici's request(), spares each response a Readable, an
// AsyncResource and an abort listener (see docs/performance.md).
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { InFlight } from './in-flight.js';

export type Controller = Dispatcher.DispatchController;

export abstract class TransportHandler implements Dispatcher.DispatchHandler {
  protected controller: Controller | undefined;
  /** The response ended well; set once, and never together with `failed`. */
  protected ended = false;
  /** The request failed (or was aborted) with `failure`; set once. */
  protected failed = false;
  protected failure: unknown;
  private readonly slot: number = -1;

  /** Sits in `inFlight` (when given) from now until it settles, so it can be aborted with the others. */
  constructor(private readonly inFlight: InFlight<TransportHandler> | undefined) {
    if (inFlight) this.slot = inFlight.add(this);
  }

  /** The status (2xx and up) and headers of the response. */
  protected abstract onHead(statusCode: number, headers: IncomingHttpHeaders): void;
  /** One chunk of the body, while the request has not failed. */
  protected abstract onChunk(controller: Controller, chunk: Buffer): void;
  /** The body ended; called once, not after a failure. */
  protected abstract onEnd(): void;
  /** The request failed; called once, not after the end. */
  protected abstract onFailure(error: unknown): void;

  /** Ends the request with `reason` now, whatever state it is in (queued, waiting for headers, reading the body). */
  abort(reason: unknown): void {
    if (this.ended || this.failed) return;
    this.controller?.abort(reason as Error);
    this.fail(reason);
  }

  onRequestStart(controller: Controller, _context?: unknown): void {
    this.controller = controller;
    // Aborted before undici started it (or between two redirect hops).
    if (this.failed) controller.abort(this.failure as Error);
  }

  onResponseStart(_c: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode >= 200) this.onHead(statusCode, headers);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (!this.failed) this.onChunk(controller, chunk);
  }

  onResponseEnd(_c?: Controller, _trailers?: IncomingHttpHeaders): void {
    if (this.ended || this.failed) return;
    this.ended = true;
    this.inFlight?.delete(this.slot, this);
    this.onEnd();
  }

  onResponseError(_c: Controller | undefined, error: Error): void {
    this.fail(error);
  }

  private fail(error: unknown): void {
    if (this.ended || this.failed) return;
    this.failed = true;
    this.failure = error;
    this.inFlight?.delete(this.slot, this);
    this.onFailure(error);
  }
}
