// In-process frontier: a FIFO queue (breadth-first, so depths stay minimal),
// a Set of seen URLs and an in-flight counter. take() parks callers on
// promises that are resolved by addAll() (work arrived) or by the completion
// that leaves nothing queued and nothing in flight (crawl over): the end of the
// crawl is an event, never something polled for.
import type { Frontier, FrontierEntry, FrontierStats } from '../contract/frontier.js';

export class MemoryFrontier implements Frontier {
  private readonly seen = new Set<string>();
  private queue: FrontierEntry[] = [];
  private head = 0;
  private inFlight = 0;
  private done = 0;
  private stopped = false;
  private readonly waiters: Array<(entry: FrontierEntry | undefined) => void> = [];

  async addAll(entries: FrontierEntry[]): Promise<boolean[]> {
    const added = entries.map((e) => {
      if (this.stopped || this.seen.has(e.url)) return false;
      this.seen.add(e.url);
      this.queue.push(e);
      return true;
    });
    this.hand();
    return added;
  }

  async markSeen(urls: string[]): Promise<boolean[]> {
    return urls.map((u) => {
      if (this.seen.has(u)) return false;
      this.seen.add(u);
      return true;
    });
  }

  take(): Promise<FrontierEntry | undefined> {
    if (this.stopped || this.isOver()) return Promise.resolve(undefined);
    const entry = this.next();
    if (entry) return Promise.resolve(entry);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async complete(_entry: FrontierEntry): Promise<void> {
    this.inFlight--;
    this.done++;
    if (this.isOver()) this.finish();
  }

  stop(): void {
    this.stopped = true;
    this.finish();
  }

  stats(): FrontierStats {
    return { queued: this.queue.length - this.head, inFlight: this.inFlight, done: this.done, seen: this.seen.size };
  }

  private isOver(): boolean {
    return this.inFlight === 0 && this.head === this.queue.length;
  }

  private next(): FrontierEntry | undefined {
    if (this.head === this.queue.length) return undefined;
    const entry = this.queue[this.head]!;
    this.head++;
    // Drop the consumed prefix now and then so the array does not grow forever.
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.inFlight++;
    return entry;
  }

  /** Gives queued entries to parked takers. */
  private hand(): void {
    while (this.waiters.length > 0 && !this.stopped) {
      const entry = this.next();
      if (!entry) return;
      this.waiters.shift()!(entry);
    }
  }

  private finish(): void {
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
