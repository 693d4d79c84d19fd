// One crawl request as a bare undici dispatch handler. The response resolves
// at its headers; the body then goes chunk by chunk to whatever sink the
// crawler picks (the link extractor, a robots.txt reader, or nothing).
// undici's request() wraps every response in a Readable stream, an
// AsyncResource and an abort listener; at thousands of pages a second nearly
// all of that outlived young-generation GCs and piled up in old space (about
// 3 KB per page), so the crawl's peak RSS was mostly garbage waiting for a
// full GC.
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { InFlight } from '../transport/in-flight.js';

type Controller = Dispatcher.DispatchController;

/** Chunks kept while no sink is attached yet; past this the socket is paused. */
const BUFFERED_BEFORE_PAUSE = 64 * 1024;

export type ChunkSink = (chunk: Buffer) => void;

export class StreamedResponse implements Dispatcher.DispatchHandler {
  status = 0;
  headers: IncomingHttpHeaders = {};
  private controller?: Controller;
  private sink?: ChunkSink;
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private ended = false;
  private error?: unknown;
  private settleHead?: { resolve: (r: StreamedResponse) => void; reject: (e: unknown) => void };
  private settleBody?: { resolve: () => void; reject: (e: unknown) => void };

  /** Resolves at the response headers, rejects when the request fails before them. */
  readonly head: Promise<StreamedResponse>;
  private readonly slot: number;

  /** Sits in `inFlight` from now until the response ends or fails. */
  constructor(private readonly inFlight: InFlight<StreamedResponse>) {
    this.head = new Promise((resolve, reject) => (this.settleHead = { resolve, reject }));
    this.slot = inFlight.add(this);
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
      if (this.error !== undefined) reject(this.error);
      else if (this.ended) resolve();
      else this.controller?.resume();
    });
  }

  /** Ends the request now with `reason`, whatever state it is in. */
  abort(reason: Error): void {
    if (this.ended || this.error !== undefined) return;
    this.controller?.abort(reason);
    this.fail(reason);
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.error !== undefined) controller.abort(this.error as Error);
  }

  onResponseStart(_c: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: informational, the real answer follows
    this.status = statusCode;
    this.headers = headers;
    this.settleHead?.resolve(this);
    this.settleHead = undefined;
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.error !== undefined) return;
    if (this.sink) {
      this.deliver(chunk);
      return;
    }
    this.early.push(chunk);
    this.earlyBytes += chunk.length;
    if (this.earlyBytes > BUFFERED_BEFORE_PAUSE) controller.pause();
  }

  onResponseEnd(): void {
    if (this.error !== undefined) return;
    this.ended = true;
    this.inFlight.delete(this.slot, this);
    if (this.sink) this.settleBody?.resolve();
  }

  onResponseError(_c: Controller, error: Error): void {
    this.fail(error);
  }

  private deliver(chunk: Buffer): boolean {
    try {
      this.sink!(chunk);
      return true;
    } catch (e) {
      this.abort(e as Error);
      return false;
    }
  }

  private fail(error: unknown): void {
    if (this.ended || this.error !== undefined) return;
    this.error = error;
    this.inFlight.delete(this.slot, this);
    if (this.settleHead) this.settleHead.reject(error);
    else if (this.sink) this.settleBody?.reject(error);
    this.settleHead = undefined;
  }
}
