// Sizes as the plan writes them (`512KB`, `1MB`, `1.5MiB`, or a number of
// bytes) → bytes (text/bytes.ts writes bytes back as text). Units are binary
// whether or not they say so (1 KB = 1 KiB = 1024 bytes), case-insensitive.
/** `http.maxBodySize` when the plan says nothing: 1 MiB. */
export const DEFAULT_MAX_BODY_SIZE = 1024 ** 2;

const UNIT_BYTES: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b\s*$/i;

/** Bytes (whole), or undefined when the value is not a size. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = SIZE.exec(value);
  return m ? Math.floor(Number(m[1]) * UNIT_BYTES[m[2]!.toLowerCase()]!) : undefined;
}
