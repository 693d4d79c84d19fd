// Back-to-back pairs for benches that compare planrun with agents against one
// process on a machine whose speed drifts by half within minutes: each pair
// runs the two a few seconds apart, in turn first and second, and the median of
// the pairs' ratios is the figure (the best or the first run of each need not
// have met the same machine).

/** The median (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The run order of `pairs` pairs of a baseline and a candidate, in turn first: base, cand, cand, base, base, cand… */
export function pairOrder<T>(pairs: number, base: T, candidate: T): T[] {
  return Array.from({ length: pairs }, (_, k) => (k % 2 ? [candidate, base] : [base, candidate])).flat();
}

/** Each pair's candidate/baseline ratio of `of`, for runs made in pairOrder (two by two). */
export function pairRatios<R>(runs: R[], isBase: (r: R) => boolean, of: (r: R) => number): number[] {
  const ratios: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const [a, b] = [runs[i]!, runs[i + 1]!];
    if (isBase(a) === isBase(b)) continue;
    const [base, candidate] = isBase(a) ? [a, b] : [b, a];
    ratios.push(of(candidate) / of(base));
  }
  return ratios;
}

/** `0.65×, 0.68×, 0.74×, median 0.68×`. */
export function describeRatios(ratios: number[]): string {
  return `${ratios.map((x) => `${x.toFixed(2)}×`).join(', ')}, median ${median(ratios).toFixed(2)}×`;
}

/** One run of an agents bench: 0 agents is one process. */
export interface AgentsRun {
  agents: number;
  /** URLs or requests per second. */
  rate: number;
}

/**
 * Prints the ratios of one agent to one process over the back-to-back pairs of `runs` (made in pairOrder, then any
 * run with 2 agents), their median against `target`, and two agents against the median one process. `what` names
 * the figure (`crawl `, or '' for the run's rate); `extra` adds to the pairs' line.
 */
export function printAgentsRatios(runs: AgentsRun[], target: number, what = '', extra = ''): void {
  const isBase = (r: AgentsRun) => r.agents === 0;
  const ratios = pairRatios(
    runs.filter((r) => r.agents < 2),
    isBase,
    (r) => r.rate,
  );
  console.log(`\n--agents 1 / one process, ${ratios.length} back-to-back pairs: ${what}${describeRatios(ratios)} (target ≥ ${target}×)${extra}`);
  if (median(ratios) < target) console.log(`!!! target with 1 agent (≥ ${target}× one process) missed`);
  const two = runs.find((r) => r.agents === 2);
  if (two) console.log(`--agents 2 / the median one process: ${what}${(two.rate / median(runs.filter(isBase).map((r) => r.rate))).toFixed(2)}×`);
}
