// Batching of round trips: calls made while one is in flight share the next.
// The frontier's addAll/markSeen and the crawl store's visits go through it.

/**
 * Runs `send` for every item pushed: the first at once, the ones pushed meanwhile together in the next call, in the
 * order pushed. `send` resolves one result per item, in the same order.
 */
export class Batcher<T, R = void> {
  private queued: Array<{ item: T; resolve(r: R): void; reject(e: unknown): void }> = [];
  private running = false;
  constructor(private readonly send: (items: T[]) => Promise<R[]>) {}

  push(item: T): Promise<R> {
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
        const results = await this.send(batch.map((b) => b.item));
        for (const [i, b] of batch.entries()) b.resolve(results[i]!);
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.running = false;
  }
}
