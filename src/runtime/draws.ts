// What a run draws: the random source of each worker's round and the rows of
// the plan's data sets. One per run, shared by its workers: the sequence
// cursors live here, the rows themselves in the plan's tables.
import type { CompiledPlan, DataSetSpec } from '../contract/plan.js';
import { seededRandom, systemRandom, type RandomSource } from '../plan/random.js';

export class RunDraws {
  /** Next row index of each data set picked in sequence, across all workers. */
  private readonly cursors: number[];

  constructor(
    private readonly plan: CompiledPlan,
    /** --seed, else the plan's `seed:`; undefined: unseeded. */
    readonly seed: number | undefined = plan.seed,
  ) {
    this.cursors = plan.data.map(() => 0);
  }

  /**
   * The random source of a worker's round; round 0 is the worker's start (its
   * plan vars and `every: worker` rows). Seeded, each (worker, round) has its
   * own stream, so values do not depend on what other workers or earlier rounds did.
   */
  random(worker: number, round: number): RandomSource {
    return this.seed === undefined ? systemRandom : seededRandom(this.seed, worker, round, 0);
  }

  /**
   * Puts in `rows` the next row of every data set drawn `every` round or once per
   * worker. Returns the first sequence that ran out with atEnd other than wrap
   * (its row is then not drawn), or undefined.
   */
  draw(every: DataSetSpec['every'], worker: number, round: number, rows: Record<string, unknown>): DataSetSpec | undefined {
    for (let s = 0; s < this.plan.data.length; s++) {
      const set = this.plan.data[s]!;
      if (set.every !== every) continue;
      const { size } = set.table;
      let i: number;
      if (set.pick === 'random') {
        // A stream per data set: adding a set does not shift the values of uuid() & co.
        const random = this.seed === undefined ? systemRandom : seededRandom(this.seed, worker, round, s + 1);
        i = Math.floor(random.next() * size);
      } else {
        i = this.cursors[s]!++;
        if (i >= size) {
          if (set.atEnd !== 'wrap') return set;
          i %= size;
        }
      }
      rows[set.name] = set.table.row(i);
    }
    return undefined;
  }
}
