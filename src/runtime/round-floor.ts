// The lowest round a closed-model worker of this process may still be in.
// Rounds are how those workers meet: a wait or meeting names its round (or,
// with `scope: previous-round`, the one before), and no worker goes back. So
// once every such worker is past a round, no wait here will ask about it again
// and the coordinator can drop its counts: a run of any length keeps only the
// rounds between its slowest and its fastest worker.
// Roles on a schedule (rate, stages) take no part: their round numbers mean
// nothing to other workers, so they may only signal and wait `scope: run`.

export class RoundFloor {
  /** The round each worker is in; a worker not started yet is in round 1 (its first). */
  private readonly roundOf = new Map<number, number>();
  /** How many workers are in each round. */
  private readonly inRound = new Map<number, number>();
  private lowest = 1;

  /** `raised(floor)` is told each new floor, and Infinity once no worker is left. */
  constructor(
    workers: Iterable<number>,
    private readonly raised: (floor: number) => void,
  ) {
    for (const id of workers) this.place(id, 1);
    this.settle();
  }

  /** The lowest round a worker may still be in: Infinity when none is left. */
  get floor(): number {
    return this.lowest;
  }

  /** `worker` begins `round` (rounds only go up). */
  enter(worker: number, round: number): void {
    const at = this.roundOf.get(worker);
    if (at === undefined) throw new Error(`worker ${worker} is not one this floor follows, or it left already`);
    if (at === round) return;
    if (round < at) throw new Error(`worker ${worker} went back from round ${at} to ${round}`);
    this.unplace(at);
    this.place(worker, round);
    this.settle();
  }

  /** `worker` ran its last round. */
  leave(worker: number): void {
    const at = this.roundOf.get(worker);
    if (at === undefined) return;
    this.roundOf.delete(worker);
    this.unplace(at);
    this.settle();
  }

  private place(worker: number, round: number): void {
    this.roundOf.set(worker, round);
    this.inRound.set(round, (this.inRound.get(round) ?? 0) + 1);
  }

  private unplace(round: number): void {
    const left = this.inRound.get(round)! - 1;
    if (left === 0) this.inRound.delete(round);
    else this.inRound.set(round, left);
  }

  /** Moves the floor up to the lowest round held; workers move one round at a time, so this steps only a few rounds. */
  private settle(): void {
    const before = this.lowest;
    if (this.inRound.size === 0) this.lowest = Infinity;
    else while (!this.inRound.has(this.lowest)) this.lowest++;
    if (this.lowest !== before) this.raised(this.lowest);
  }
}
