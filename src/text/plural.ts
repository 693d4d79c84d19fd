// Counted nouns: `1 worker`, `3 workers`, `1 match`/`2 matches` via `many`.

/** The noun alone, singular for exactly 1. */
export function nounFor(count: number, one: string, many = `${one}s`): string {
  return count === 1 ? one : many;
}

/** The count and its noun: `plural(3, 'round')` → `3 rounds`. */
export function plural(count: number, one: string, many?: string): string {
  return `${count} ${nounFor(count, one, many)}`;
}
