// Events from the agents to the controller, through one Redis stream per run.
// An agent buffers its events and appends them as one entry per batch (every
// BATCH_MS, or at once past BATCH_EVENTS): a step costs a few bytes of an XADD,
// not a round trip. Batches go out one after the other, so the controller reads
// each agent's events in the order they were emitted, which the compact form of
// the frequent ones relies on (event-codec.ts). The controller, the
// stream's only reader, trims what it has read: the stream holds what is on its
// way, not the run's history (an hour at 16,000 requests/s is some 115 million
// step events, tens of GB).
import type { RedisConnection } from '../coordination/redis/connect.js';
import { DEFAULT_TTL_MS } from '../coordination/redis/keys.js';
import type { RunEvent } from '../contract/events.js';
import { DEFAULT_TIMELINE_CAP } from '../reporting/metrics/metrics-collector.js';
import { EventDecoder, EventEncoder, type WireEvent } from './event-codec.js';
import type { ShareEnd } from './protocol.js';
import { StepFolder } from './step-folder.js';

export const BATCH_MS = 50;
/**
 * A batch's size at high rates. Each append wakes redis-server, which on a machine as busy as its cores takes
 * the agent's core for a while: 1,000 rather than 200 gave 9-24% more requests/s with one agent (four
 * interleaved pairs), 5,000 no more than 1,000.
 */
export const BATCH_EVENTS = 1_000;
/** Entries per read: at BATCH_EVENTS each, a controller that fell behind still reads a bounded amount at a time. */
const READ_ENTRIES = 100;
/**
 * Entries the controller reads between two trims. A stream's nodes hold 100 entries (Redis's default
 * stream-node-max-entries) and an approximate trim drops whole nodes: trimming more often drops nothing more, and
 * each command wakes redis-server (a trim after every read cost a read's worth of round trips).
 */
const TRIM_AFTER = 100;

export class EventBatcher {
  private buffer: WireEvent[] = [];
  private readonly encoder = new EventEncoder();
  private readonly folder: StepFolder;
  /** What the folder lets out of one event, reused. */
  private readonly out: RunEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The chain of appends: each waits for the previous one. */
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    private readonly client: RedisConnection,
    private readonly key: string,
    private readonly agent: string,
    o: { ttlMs?: number; timelineCap?: number } = {},
  ) {
    this.ttlMs = o.ttlMs ?? DEFAULT_TTL_MS;
    this.folder = new StepFolder(agent, o.timelineCap ?? DEFAULT_TIMELINE_CAP);
  }

  private readonly ttlMs: number;

  push(event: RunEvent): void {
    this.folder.add(event, this.out);
    this.encodeOut();
    if (this.buffer.length + this.folder.heldResults >= BATCH_EVENTS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  /** Buffers what the folder let out. */
  private encodeOut(): void {
    for (const e of this.out) this.buffer.push(this.encoder.encode(e));
    this.out.length = 0;
  }

  /** Sends what is buffered; resolves once it (and everything before it) is in Redis. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.folder.releaseHeld(Date.now(), this.out);
    this.encodeOut();
    const tally = this.folder.take();
    if (tally) this.buffer.push(this.encoder.encode(tally));
    if (this.buffer.length > 0) {
      const batch = JSON.stringify(this.buffer);
      this.buffer = [];
      this.append({ a: this.agent, b: batch });
    }
    // A round still held is looked at again (and released once it is held too long).
    if (this.folder.holding) this.timer = setTimeout(() => this.flush(), BATCH_MS);
    return this.writing;
  }

  /** Sends the rest, then the end of this agent's share. Rejects if any batch could not be written. */
  async end(share: ShareEnd): Promise<void> {
    this.folder.drain(this.out);
    this.encodeOut();
    this.flush();
    this.append({ a: this.agent, d: JSON.stringify(share) });
    await this.writing;
    if (this.failure) throw this.failure;
  }

  private append(fields: Record<string, string>): void {
    this.writing = this.writing.then(async () => {
      if (this.failure) return;
      try {
        await this.client.multi().xAdd(this.key, '*', fields).pExpire(this.key, this.ttlMs).exec();
      } catch (e) {
        this.failure = e as Error;
      }
    });
  }
}

export interface StreamItem {
  agent: string;
  events?: RunEvent[];
  end?: ShareEnd;
}

/**
 * The controller's side: reads the stream after `from` (default: from its start), a blocking XREAD at a time, and
 * trims the entries it has read (approximately: Redis drops whole nodes of the stream, never an entry after the
 * last one read).
 */
export class EventReader {
  /** Entries read since the last trim. */
  private untrimmed = 0;
  /** Per agent: its batches' compact events are rebuilt in the order they were sent. */
  private readonly decoders = new Map<string, EventDecoder>();

  constructor(
    private readonly reader: RedisConnection,
    private readonly key: string,
    private last = '0-0',
  ) {}

  /** The next entries; waits at most `blockMs` for some (then returns none). */
  async next(blockMs: number): Promise<StreamItem[]> {
    const reply = (await this.reader.xRead({ key: this.key, id: this.last }, { COUNT: READ_ENTRIES, BLOCK: blockMs })) as Array<{
      messages: Array<{ id: string; message: Record<string, string> }>;
    }> | null;
    const out: StreamItem[] = [];
    for (const { id, message } of reply?.[0]?.messages ?? []) {
      this.last = id;
      const agent = message.a ?? '?';
      out.push({
        agent,
        ...(message.b ? { events: this.decode(agent, JSON.parse(message.b) as WireEvent[]) } : {}),
        ...(message.d ? { end: JSON.parse(message.d) as ShareEnd } : {}),
      });
    }
    this.untrimmed += out.length;
    if (this.untrimmed >= TRIM_AFTER) {
      this.untrimmed = 0;
      await this.reader.xTrim(this.key, 'MINID', this.last, { strategyModifier: '~' });
    }
    return out;
  }

  private decode(agent: string, batch: WireEvent[]): RunEvent[] {
    let decoder = this.decoders.get(agent);
    if (!decoder) this.decoders.set(agent, (decoder = new EventDecoder()));
    const events = new Array<RunEvent>(batch.length);
    for (let i = 0; i < batch.length; i++) events[i] = decoder.decode(batch[i]!);
    return events;
  }
}

/** The id of the stream's last entry ('0-0' when empty): a phase reads only what its agents send after it. */
export async function lastEventId(client: RedisConnection, key: string): Promise<string> {
  const last = await client.xRevRange(key, '+', '-', { COUNT: 1 });
  return last?.[0]?.id ?? '0-0';
}
