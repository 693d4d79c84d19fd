// Where generated values get their randomness. Without a seed: Math.random and
// crypto UUIDs. With a seed (`seed:` / --seed), a small PRNG per stream, the
// stream named by numbers (worker, round, …): each worker's round replays the
// same values whatever the other workers do concurrently.
import { randomUUID } from 'node:crypto';

import type { RandomSource } from '../contract/plan.js';

export type { RandomSource };

export const systemRandom: RandomSource = { next: Math.random, uuid: () => randomUUID() };

/** The stream of `seed` (a safe integer ≥ 0) named by `stream` (e.g. worker id, round): same numbers → same values. */
export function seededRandom(seed: number, ...stream: number[]): RandomSource {
  // Four different foldings of (seed, stream) give sfc32 its 128-bit state.
  const words = [0x9e3779b9, 0x243f6a88, 0xb7e15162, 0x85a308d3].map((salt) => {
    let h = mix(salt, seed >>> 0);
    h = mix(h, Math.floor(seed / 2 ** 32) >>> 0);
    for (const n of stream) h = mix(h, n >>> 0);
    return h;
  });
  let [a, b, c, d] = words as [number, number, number, number];
  const next32 = (): number => {
    // sfc32: small, fast, passes PractRand for the short streams a test needs.
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Discard the first outputs: neighbouring stream numbers start less alike.
  for (let i = 0; i < 12; i++) next32();
  return {
    next: () => next32() / 2 ** 32,
    uuid: () => {
      const bytes = new Uint8Array(16);
      for (let i = 0; i < 16; i += 4) new DataView(bytes.buffer).setUint32(i, next32());
      bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
      bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
      const hex = Buffer.from(bytes).toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
  };
}

// murmur3's finaliser over h ^ v: every input bit flips about half the output bits.
function mix(h: number, v: number): number {
  let x = Math.imul(h ^ v, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return Math.imul(x ^ (x >>> 15), 0x27d4eb2d) >>> 0;
}
