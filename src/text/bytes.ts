// Byte counts → text for messages and reports. Binary units, as the plan's
// sizes (plan/size.ts parses `512KB`, `1MiB`…: 1 KB = 1 KiB = 1024 bytes).

/** `512 B`, `1.5 KiB`, `1 MiB`, `2.3 GiB`: one decimal at most, none when it is 0. */
export function formatSize(n: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (n >= size) return `${(n / size).toFixed(1).replace(/\.0$/, '')} ${unit}`;
  }
  return `${n} B`;
}
