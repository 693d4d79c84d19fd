// Content fingerprints of pages, fed the visible text as it streams in.
//  - exact mode (similarity 1): SHA-1 of the normalised words;
//  - near mode: a 64-bit simhash over 3-word shingles, looked up through
//    banded buckets (pigeonhole: two hashes within k differing bits share at
//    least one of k+1 bands exactly), so lookups stay O(1)-ish at 100k pages.
import { createHash, type Hash } from 'node:crypto';

const WORD = /[\p{L}\p{N}]+/gu;

/** FNV-1a 32-bit with a chosen offset basis (two bases give two independent halves). */
function fnv1a(s: string, basis: number): number {
  let h = basis;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (murmur3 fmix) so nearby strings differ in many bits.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class TextFingerprinter {
  private readonly counters = new Int32Array(64);
  private readonly sha?: Hash;
  private prev1 = '';
  private prev2 = '';
  private partial = '';
  words = 0;

  constructor(readonly exact: boolean) {
    if (exact) this.sha = createHash('sha1');
  }

  /** Feeds a piece of visible text; words cut across pieces are glued back. */
  feed(text: string): void {
    const s = this.partial + text.toLowerCase();
    for (const m of s.matchAll(WORD)) {
      const end = m.index + m[0].length;
      if (end === s.length) {
        // Might continue in the next piece.
        this.partial = m[0];
        return;
      }
      this.word(m[0]);
    }
    this.partial = '';
  }

  private word(w: string): void {
    this.words++;
    if (this.sha) {
      this.sha.update(w);
      this.sha.update(' ');
      return;
    }
    if (this.prev2) this.shingle(`${this.prev2} ${this.prev1} ${w}`);
    this.prev2 = this.prev1;
    this.prev1 = w;
  }

  private shingle(s: string): void {
    const halves = [fnv1a(s, 0x811c9dc5), fnv1a(s, 0x3b9aca07)];
    for (let half = 0; half < 2; half++) {
      const h = halves[half]!;
      for (let b = 0; b < 32; b++) this.counters[half * 32 + b]! += (h >>> b) & 1 ? 1 : -1;
    }
  }

  /** The fingerprint: a hex SHA-1 in exact mode, a 64-char bit string of the simhash otherwise. */
  digest(): string {
    if (this.partial) this.word(this.partial);
    this.partial = '';
    if (this.sha) return this.sha.digest('hex');
    // Pages shorter than one shingle hash their few words as one.
    if (this.words > 0 && this.words < 3) this.shingle(`${this.prev2} ${this.prev1}`);
    let bits = '';
    for (let i = 0; i < 64; i++) bits += this.counters[i]! > 0 ? '1' : '0';
    return bits;
  }
}

function hamming(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) d++;
  return d;
}

/** Remembers fingerprints seen; tells whether a new one is (nearly) the same as an earlier one. */
export class FingerprintIndex {
  private readonly exact = new Set<string>();
  private readonly buckets = new Map<string, string[]>();
  private readonly bands: number;

  /** maxBits: Hamming distance still counted as the same page (0 = identical). */
  constructor(private readonly maxBits: number) {
    this.bands = Math.min(maxBits + 1, 16);
  }

  /** True when a (near-)duplicate was seen before; otherwise records the fingerprint. */
  seenBefore(fp: string): boolean {
    if (this.exact.has(fp)) return true;
    if (fp.length === 64 && this.maxBits > 0) {
      const keys = this.bandKeys(fp);
      for (const k of keys) for (const other of this.buckets.get(k) ?? []) if (hamming(fp, other) <= this.maxBits) return true;
      for (const k of keys) {
        const list = this.buckets.get(k);
        if (list) list.push(fp);
        else this.buckets.set(k, [fp]);
      }
    }
    this.exact.add(fp);
    return false;
  }

  private bandKeys(fp: string): string[] {
    const size = Math.ceil(64 / this.bands);
    const keys: string[] = [];
    for (let i = 0; i * size < 64; i++) keys.push(`${i}:${fp.slice(i * size, (i + 1) * size)}`);
    return keys;
  }
}
