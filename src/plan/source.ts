// The plan file as YAML: its parsed Document and the offsets where lines start,
// so any value (found by its path of keys and indexes) gets a line and column.
// (yaml's LineCounter misses lines inside tokens skipped during error recovery,
// so line starts are taken from the text itself.)
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node, type Pair } from 'yaml';

export type YamlPath = ReadonlyArray<string | number>;

export interface Position {
  line: number;
  col: number;
}

export class PlanSource {
  readonly doc: Document.Parsed;
  private readonly lineStarts: number[] = [0];

  constructor(
    /** The file name used in messages (as the user gave it). */
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
    // Duplicate keys are found by yaml-errors.ts with a set per map: yaml's own
    // uniqueKeys compares every key with every earlier one (quadratic in big maps).
    this.doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false });
  }

  positionOf(offset: number): Position {
    const at = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    // An offset at the very end, after a final newline, belongs to the last real line.
    if (lo > 0 && this.lineStarts[lo] === this.text.length && at === this.text.length) {
      lo--;
      return { line: lo + 1, col: at - this.lineStarts[lo]! };
    }
    return { line: lo + 1, col: at - this.lineStarts[lo]! + 1 };
  }

  /**
   * Line and column of the value (or key) at `path`. When the path does not fully
   * exist (a missing key), the deepest existing node is used.
   */
  position(path: YamlPath, at: 'key' | 'value' = 'value', offsetInValue?: number): Position {
    const { node, pair, complete } = this.find(path);
    if (at === 'key' && complete && pair?.key && hasRange(pair.key)) return this.positionOf(pair.key.range[0]);
    const target = node && hasRange(node) ? node : pair?.key && hasRange(pair.key) ? pair.key : undefined;
    if (!target) return { line: 1, col: 1 };
    let offset = target.range[0];
    if (complete && offsetInValue !== undefined && isScalar(target) && typeof target.value === 'string') {
      offset = this.offsetInScalar(target.range[0], target.range[1], target.value, offsetInValue);
    }
    return this.positionOf(offset);
  }

  // Maps an offset in a parsed string back to the source, which may have quotes,
  // escapes or folded lines: find the text that follows the offset in the raw scalar.
  private offsetInScalar(start: number, end: number, value: string, offset: number): number {
    const raw = this.text.slice(start, end);
    const needle = (value.slice(offset).split('\n')[0] ?? '').slice(0, 24);
    if (needle) {
      const i = raw.indexOf(needle, Math.min(offset, raw.length));
      if (i >= 0) return start + i;
      const j = raw.indexOf(needle);
      if (j >= 0) return start + j;
    }
    return start + (raw.startsWith('"') || raw.startsWith("'") ? 1 : 0) + Math.min(offset, raw.length);
  }

  // Pairs of each map by key text, built on first use: every issue and every
  // step's location looks a key up, and a map can have thousands of keys.
  private readonly keyIndex = new WeakMap<object, Map<string, Pair<unknown, unknown>>>();

  private keysOf(map: { items: unknown[] }): Map<string, Pair<unknown, unknown>> {
    let keys = this.keyIndex.get(map);
    if (!keys) {
      keys = new Map();
      for (const p of map.items) {
        const text = isPair(p) ? keyText(p.key) : undefined;
        if (text !== undefined && !keys.has(text)) keys.set(text, p as Pair<unknown, unknown>);
      }
      this.keyIndex.set(map, keys);
    }
    return keys;
  }

  find(path: YamlPath): { node?: Node; pair?: Pair<unknown, unknown>; complete: boolean } {
    let node: unknown = this.doc.contents;
    let pair: Pair<unknown, unknown> | undefined;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const found = this.keysOf(node).get(String(seg));
        if (!found) return { node: node as Node, pair, complete: false };
        pair = found;
        node = found.value ?? undefined;
        if (node === undefined) return { node: undefined, pair, complete: true };
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) return { node: node as Node, pair, complete: false };
        pair = undefined;
        node = item;
      } else {
        return { node: node as Node | undefined, pair, complete: false };
      }
    }
    if (isAlias(node)) node = node.resolve(this.doc);
    return { node: node as Node | undefined, pair, complete: true };
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function hasRange(n: unknown): n is Node & { range: [number, number, number] } {
  return typeof n === 'object' && n !== null && Array.isArray((n as { range?: unknown }).range);
}
