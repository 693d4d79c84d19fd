// The coordination timeline with a bounded size. A small run keeps every step
// result. Past `cap`, the ok/skipped results are a reservoir sample (each
// result of the run equally likely to stay, so the kept ones spread over the
// whole run rather than covering its first seconds), and failures and barrier
// waits, what a reader looks for, are all kept up to `cap` more.
import type { StepResult } from '../../contract/events.js';

export class TimelineSample {
  private readonly sample: StepResult[] = [];
  private readonly notable: StepResult[] = [];
  /** Ok/skipped results seen, the reservoir's denominator. */
  private seen = 0;
  total = 0;

  constructor(
    readonly cap: number,
    private readonly random: () => number = Math.random,
  ) {}

  add(r: StepResult): void {
    this.total++;
    if (r.outcome === 'failed' || r.wait) {
      if (this.notable.length < this.cap) this.notable.push(r);
      return;
    }
    this.seen++;
    if (this.sample.length < this.cap) this.sample.push(r);
    else {
      const slot = Math.floor(this.random() * this.seen);
      if (slot < this.cap) this.sample[slot] = r;
    }
  }

  get kept(): number {
    return this.sample.length + this.notable.length;
  }

  /** What is kept, in start order (results arrive in end order). */
  entries(): StepResult[] {
    return [...this.notable, ...this.sample].sort((a, b) => a.start - b.start);
  }
}
