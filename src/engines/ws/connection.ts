// One worker's WebSocket, opened by a `connect` step and kept across steps and
// rounds. Messages that arrive while no expect waits are buffered in arrival
// order, at most BUFFER_CAP: past that the oldest is dropped and counted, so a
// connection nobody reads cannot grow without bound. An expect takes messages
// off the buffer (then the wire) in order, skipping those its test rejects.
// Sends are written at the end of the event loop's turn, every connection's
// together (see Outbox).
import type { Duplex } from 'node:stream';
import { type Agent, type CloseEvent, type Dispatcher, type MessageEvent, WebSocket } from 'undici';
import { parseJson } from '../matchers.js';

/** Messages kept per connection while no expect reads them. */
export const BUFFER_CAP = 1000;
/** Messages remembered for failure messages ("last messages: …"). */
const LAST_SEEN = 3;

export class Message {
  private parsed: unknown;
  constructor(
    readonly text: string,
    /** Payload size of a binary frame; text frames count theirs on demand (most are never reported). */
    private size = -1,
  ) {}

  get bytes(): number {
    if (this.size < 0) this.size = Buffer.byteLength(this.text);
    return this.size;
  }

  /** The text parsed as JSON once (checks and captures share it); NOT_JSON when it is not JSON. */
  json(): unknown {
    return (this.parsed ??= parseJson(this.text));
  }
}

export interface Closed {
  code: number;
  reason: string;
  /** True when this side started the closing handshake. */
  byUs: boolean;
}

/** What the handshake request met on the wire, for a failed connect's message. */
export interface Handshake {
  status?: number;
  error?: Error;
  socket?: Duplex;
}

/** Why an expect stopped waiting without a match. */
export type WaitEnd = 'closed' | 'timeout' | 'signal';

/**
 * Passes every callback through to undici's handler and notes the status, the
 * error and the upgraded socket: undici's WebSocket reports a failed handshake
 * as a bare close 1006, without saying whether nothing listened or the server said 404.
 */
class HandshakeObserver implements Dispatcher.DispatchHandler {
  constructor(
    private readonly inner: Dispatcher.DispatchHandler,
    private readonly seen: Handshake,
  ) {}
  onRequestStart(c: Dispatcher.DispatchController, context: unknown): void {
    this.inner.onRequestStart?.(c, context);
  }
  onRequestUpgrade(c: Dispatcher.DispatchController, status: number, headers: Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestUpgrade']>>[2], socket: Duplex): void {
    this.seen.status = status;
    this.seen.socket = socket;
    this.inner.onRequestUpgrade?.(c, status, headers, socket);
  }
  onResponseStart(c: Dispatcher.DispatchController, status: number, headers: Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[2], message?: string): void {
    this.seen.status = status;
    this.inner.onResponseStart?.(c, status, headers, message);
  }
  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.inner.onResponseData?.(c, chunk);
  }
  onResponseEnd(c: Dispatcher.DispatchController, trailers: Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseEnd']>>[1]): void {
    this.inner.onResponseEnd?.(c, trailers);
  }
  onResponseError(c: Dispatcher.DispatchController, error: Error): void {
    this.seen.error = error;
    this.inner.onResponseError?.(c, error);
  }
}

/** An expect in progress: the test each new message is offered to, and how it ends. */
interface Waiter {
  test(m: Message): boolean;
  settle(result: Message | WaitEnd): void;
  skipped: number;
}

export interface OpenOptions {
  agent: Agent;
  headers: Record<string, string>;
  protocols: string[];
  signal: AbortSignal;
}

/** How open() settles: the open connection, or what the handshake met. */
export type OpenResult = { connection: WsConnection } | { failed: Handshake; aborted: boolean };

export class WsConnection {
  closed: Closed | undefined;
  /** Messages dropped because the buffer was full, not yet reported by a step. */
  dropped = 0;
  private readonly buffer: Message[] = [];
  private head = 0;
  private readonly lastSeen: Message[] = [];
  private seenCount = 0;
  private waiter: Waiter | undefined;
  private watched: AbortSignal | undefined;
  /** Frames sent this turn, written at its end. */
  private unsent: string[] = [];
  private readonly whenClosed: Promise<Closed>;

  private constructor(
    readonly url: string,
    private readonly ws: WebSocket,
    private readonly handshake: Handshake,
  ) {
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (e: MessageEvent) => this.receive(e.data as string | ArrayBuffer);
    this.whenClosed = new Promise<Closed>((resolve) => {
      ws.onclose = (e: CloseEvent) => {
        this.closed ??= { code: e.code, reason: e.reason, byUs: false };
        this.waiter?.settle('closed');
        resolve(this.closed);
      };
    });
    // Failures arrive as a close event too; without a listener an error event is only noise.
    ws.onerror = () => undefined;
  }

  /**
   * Opens `url` and settles once the handshake is done: with the connection, or
   * with what the handshake met (`failed`) when it did not open or `signal` aborted it.
   */
  static open(url: string, o: OpenOptions): Promise<OpenResult> {
    const seen: Handshake = {};
    const dispatcher = o.agent.compose((dispatch) => (opts, handler) => dispatch(opts, new HandshakeObserver(handler, seen)));
    const ws = new WebSocket(url, { dispatcher, headers: o.headers, protocols: o.protocols });
    const connection = new WsConnection(url, ws, seen);
    return new Promise((resolve) => {
      const onAbort = () => ws.close();
      o.signal.addEventListener('abort', onAbort, { once: true });
      ws.onopen = () => {
        o.signal.removeEventListener('abort', onAbort);
        resolve({ connection });
      };
      void connection.whenClosed.then(() => {
        o.signal.removeEventListener('abort', onAbort);
        resolve({ failed: seen, aborted: o.signal.aborted });
      });
      if (o.signal.aborted) onAbort();
    });
  }

  /** Queues a text frame for the end of this turn (see Outbox); returns its size in bytes. */
  send(text: string): number {
    if (this.unsent.length === 0) outbox.add(this);
    this.unsent.push(text);
    return Buffer.byteLength(text);
  }

  /**
   * Writes the queued frames in order. undici's send throws only before the
   * handshake (no WsConnection exists then) and drops a frame once the
   * connection is closing, as a send made at once would have.
   */
  flush(): void {
    if (this.unsent.length === 0) return;
    const texts = this.unsent;
    this.unsent = [];
    for (const text of texts) this.ws.send(text);
  }

  /** Buffered messages, oldest first (what an expect reads before the wire). */
  get pending(): number {
    return this.buffer.length - this.head;
  }

  /** The last few messages received, oldest first. */
  recent(): Message[] {
    const n = Math.min(this.seenCount, LAST_SEEN);
    return Array.from({ length: n }, (_, i) => this.lastSeen[(this.seenCount - n + i) % LAST_SEEN]!);
  }

  /**
   * Takes messages off in arrival order until `test` accepts one, skipping the
   * rest. Ends without a match when the connection closes, after `withinMs`, or
   * when `signal` aborts. Returns what `done` makes of the outcome and of how
   * many messages were skipped: directly when the buffer or the connection's
   * state answers at once, else as a promise (rejected when `done` throws).
   */
  next<T>(test: (m: Message) => boolean, signal: AbortSignal, withinMs: number | undefined, done: (got: Message | WaitEnd, skipped: number) => T): T | Promise<T> {
    let skipped = 0;
    while (this.head < this.buffer.length) {
      const m = this.shift();
      if (test(m)) return done(m, skipped);
      skipped++;
    }
    if (this.closed) return done('closed', skipped);
    if (signal.aborted) return done('signal', skipped);
    this.watch(signal);
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        test,
        skipped,
        settle: (result) => {
          if (this.waiter !== waiter) return;
          this.waiter = undefined;
          if (timer) clearTimeout(timer);
          // `done` runs here, not in a then() of the promise: one promise per wait, not two.
          try {
            resolve(done(result, waiter.skipped));
          } catch (error) {
            reject(error);
          }
        },
      };
      this.waiter = waiter;
      if (withinMs !== undefined) timer = setTimeout(() => waiter.settle('timeout'), withinMs);
    });
  }

  /**
   * Ends the waiting expect when `signal` aborts. A worker reuses its step
   * signal until one aborts, so one listener per signal serves every expect
   * of a message loop (an add/remove per expect costs more than the rest of it).
   */
  private watch(signal: AbortSignal): void {
    if (this.watched === signal) return;
    this.watched = signal;
    signal.addEventListener('abort', () => this.waiter?.settle('signal'), { once: true });
  }

  /**
   * Closes with 1000 and waits for the server's close frame until `signal`
   * aborts or `graceMs` passes; then drops the socket. Returns how it closed,
   * whether the server answered in time, and how many buffered messages were never read.
   */
  async close(graceMs: number, signal?: AbortSignal): Promise<{ closed: Closed; answered: boolean; unread: number }> {
    const unread = this.pending;
    this.buffer.length = this.head = 0;
    // What was sent before the close goes out before it.
    this.flush();
    if (!this.closed) {
      this.closed = { code: 1000, reason: '', byUs: true };
      this.ws.close(1000);
    }
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const late = new Promise<'late'>((resolve) => {
      if (signal?.aborted) return resolve('late');
      timer = setTimeout(() => resolve('late'), graceMs);
      onAbort = () => resolve('late');
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    const done = await Promise.race([this.whenClosed, late]);
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    if (done === 'late') this.handshake.socket?.destroy();
    return { closed: this.closed, answered: done !== 'late', unread };
  }

  private receive(data: string | ArrayBuffer): void {
    const m = typeof data === 'string' ? new Message(data) : new Message(Buffer.from(data).toString('utf8'), data.byteLength);
    this.lastSeen[this.seenCount++ % LAST_SEEN] = m;
    const w = this.waiter;
    if (w) {
      if (w.test(m)) w.settle(m);
      else w.skipped++;
      return;
    }
    this.buffer.push(m);
    if (this.buffer.length - this.head > BUFFER_CAP) {
      this.buffer[this.head++] = undefined as unknown as Message;
      this.dropped++;
    }
    this.compact();
  }

  private shift(): Message {
    const m = this.buffer[this.head]!;
    this.buffer[this.head++] = undefined as unknown as Message;
    this.compact();
    return m;
  }

  /** Drops the consumed front of the array once it is half of it, so shifting stays O(1) amortised. */
  private compact(): void {
    if (this.head === this.buffer.length) this.buffer.length = this.head = 0;
    else if (this.head > 64 && this.head * 2 > this.buffer.length) {
      this.buffer.splice(0, this.head);
      this.head = 0;
    }
  }
}

/**
 * Writes every connection's sends of a turn together, at its end (a
 * setImmediate): a worker's send returns at once, as undici's own send does
 * (it only queues on the socket), and the frames of many workers reach the
 * server in one burst. Written one by one, amid each worker's step
 * bookkeeping, each frame found the server asleep and woke it again: with 50
 * workers echoing, that cost the client about 10% more CPU per message. A
 * frame waits at most for the rest of the turn; one connection's frames keep
 * their order, and a close writes them before closing.
 */
class Outbox {
  private waiting: WsConnection[] = [];

  add(conn: WsConnection): void {
    if (this.waiting.length === 0) setImmediate(this.flush);
    this.waiting.push(conn);
  }

  private readonly flush = (): void => {
    const conns = this.waiting;
    this.waiting = [];
    for (const conn of conns) conn.flush();
  };
}

const outbox = new Outbox();
