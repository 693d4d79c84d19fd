// Batching of round trips: calls made while one is in flight share the next.
// The frontier's completions and the crawl store's visits go through it.

/** Runs `send` for every item pushed: the first at once, the ones pushed meanwhile together in the next call. */
export class Batcher<T> {
  private queued: Array<{ item: T; resolve(): void; reject(e: unknown): void }> = [];
  private running = false;
  constructor(private readonly send: (items: T[]) => Promise<void>) {}

  push(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ item, resolve, reject });
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running) return;
    this.running = true;
    while (this.queued.length > 0) {
      const batch = this.queued.splice(0);
      try {
        await this.send(batch.map((b) => b.item));
        for (const b of batch) b.resolve();
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.running = false;
  }
}
