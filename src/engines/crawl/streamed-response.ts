// One crawl request on the transport base handler (transport/handler.ts).
// The response resolves at its headers; the body then goes chunk by chunk to
// whatever sink the crawler picks (the link extractor, a robots.txt reader,
// or nothing). undici's request() wraps every response in a Readable stream,
// an AsyncResource and an abort listener; at thousands of pages a second
// nearly all of that outlived young-generation GCs and piled up in old space
// (about 3 KB per page), so the crawl's peak RSS was mostly garbage waiting
// for a full GC.
import type { IncomingHttpHeaders } from 'node:http';
import type { InFlight } from '../transport/in-flight.js';
import { TransportHandler, type Controller } from '../transport/handler.js';

/** Chunks kept while no sink is attached yet; past this the socket is paused. */
const BUFFERED_BEFORE_PAUSE = 64 * 1024;

export type ChunkSink = (chunk: Buffer) => void;

export class StreamedResponse extends TransportHandler {
  status = 0;
  headers: IncomingHttpHeaders = {};
  private sink?: ChunkSink;
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private settleHead?: { resolve: (r: StreamedResponse) => void; reject: (e: unknown) => void };
  private settleBody?: { resolve: () => void; reject: (e: unknown) => void };

  /** Resolves at the response headers, rejects when the request fails before them. */
  readonly head: Promise<StreamedResponse>;

  /**
   * Sits in `inFlight` from now until the response ends or fails. `leave` (a rate-limited origin's, see
   * Fetcher.throttle) hears when undici writes the request, or that it failed before.
   */
  constructor(
    inFlight: InFlight<TransportHandler>,
    private readonly leave?: (left: boolean) => void,
  ) {
    super(inFlight);
    this.head = new Promise((resolve, reject) => (this.settleHead = { resolve, reject }));
  }

  override onRequestStart(controller: Controller, context?: unknown): void {
    super.onRequestStart(controller, context);
    this.leave?.(true);
  }

  /**
   * Streams the body into `sink` and resolves when it ended. A sink that
   * throws aborts the request with its error.
   */
  pipe(sink: ChunkSink): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.settleBody = { resolve, reject };
      this.sink = sink;
      const early = this.early;
      this.early = [];
      for (const chunk of early) if (!this.deliver(chunk)) return;
      if (this.failed) reject(this.failure);
      else if (this.ended) resolve();
      else this.controller?.resume();
    });
  }

  protected onHead(statusCode: number, headers: IncomingHttpHeaders): void {
    this.status = statusCode;
    this.headers = headers;
    this.settleHead?.resolve(this);
    this.settleHead = undefined;
  }

  protected onChunk(controller: Controller, chunk: Buffer): void {
    if (this.sink) {
      this.deliver(chunk);
      return;
    }
    this.early.push(chunk);
    this.earlyBytes += chunk.length;
    if (this.earlyBytes > BUFFERED_BEFORE_PAUSE) controller.pause();
  }

  protected onEnd(): void {
    if (this.sink) this.settleBody?.resolve();
  }

  protected onFailure(error: unknown): void {
    this.leave?.(false);
    if (this.settleHead) this.settleHead.reject(error);
    else if (this.sink) this.settleBody?.reject(error);
    this.settleHead = undefined;
  }

  private deliver(chunk: Buffer): boolean {
    try {
      this.sink!(chunk);
      return true;
    } catch (e) {
      // A response that already ended (its chunks were waiting for the sink) cannot be aborted: its body fails here.
      if (this.ended) this.settleBody?.reject(e);
      else this.abort(e);
      return false;
    }
  }
}
