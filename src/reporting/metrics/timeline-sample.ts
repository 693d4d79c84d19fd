// The coordination timeline with a bounded size. A small run keeps every step
// result. Past `cap`, the ok/skipped results are a reservoir sample (each
// result of the run equally likely to stay, so the kept ones spread over the
// whole run rather than covering its first seconds), and failures and barrier
// waits, what a reader looks for, are all kept up to `cap` more. Results an
// agent tallied (StepTally) arrive already sampled by the agent's own
// reservoir; each is kept here with the chance that makes its whole chance the
// same as any other result's.
import type { StepResult, StepTally } from '../../contract/events.js';

/** The chance a reservoir of `cap` keeps the `nth` result it sees (1-based). */
export function keepChance(nth: number, cap: number): number {
  return nth <= cap ? 1 : cap / nth;
}

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
      // Kept with chance cap/seen, in a slot chosen at random: one draw does both.
      const slot = Math.floor(this.random() * this.seen);
      if (slot < this.cap) this.sample[slot] = r;
    }
  }

  /**
   * `count` ok results of a tally, of which the tallying agent kept `sampled` whole. A result the agent kept with
   * chance q is kept here with chance p/q, p being this sample's own chance for it (cap/seen as it arrives), so
   * its chance overall is p, as if it had come alone (p ≤ q: the agent saw no more results than this sample).
   */
  addTallied(count: number, sampled: StepTally['sampled']): void {
    let counted = 0;
    for (const s of sampled) {
      this.seen += s.at + 1 - counted;
      this.total += s.at + 1 - counted;
      counted = s.at + 1;
      if (this.sample.length < this.cap) this.sample.push(s.result);
      else if (this.random() * s.keptWith < keepChance(this.seen, this.cap)) this.sample[Math.floor(this.random() * this.cap)] = s.result;
    }
    this.seen += count - counted;
    this.total += count - counted;
  }

  get kept(): number {
    return this.sample.length + this.notable.length;
  }

  /** What is kept, in start order (results arrive in end order). */
  entries(): StepResult[] {
    return [...this.notable, ...this.sample].sort((a, b) => a.start - b.start);
  }
}
