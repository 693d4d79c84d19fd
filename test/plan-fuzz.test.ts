// Property test: seeded random mutations of every plan we have. The loader
// either returns a plan or throws a PlanError whose positions are inside the
// file — never any other exception.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PlanError } from '../src/plan/issues.js';
import { parsePlan } from '../src/plan/load.js';

const CASES = 600;
const SEED = 20260422;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sources = [
  ...readdirSync('plans').filter((f) => /\.ya?ml$/.test(f)).map((f) => join('plans', f)),
  ...['good', 'bad'].flatMap((d) => readdirSync(join('test/fixtures/plan', d)).filter((f) => f.endsWith('.yml')).map((f) => join('test/fixtures/plan', d, f))),
].map((file) => ({ file, text: readFileSync(file, 'utf8') }));

const VALUES = ['-1', '0', 'true', '[]', '{}', '"x"', '1.5', 'null', '~', '"{{ foo }}"', '"{{ round +"', '*nope', '&a 1', '|', '>-', '[1, 2', '{ a: 1 }', '"1e999"', '- x', '"🙂"', 'all', 'writer', '10s', '"GET /"'];
const INSERTS = [':', '-', '"', "'", '{', '[', '#', '\t', '{{', '}}', ' ', '\n', '  ', ': x', '\n- ', '&', '*', '!', '%', '@', '`', '\\'];

type Mutation = (lines: string[], r: () => number) => string[];
const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)]!;
const idx = (lines: string[], r: () => number) => Math.floor(r() * lines.length);

const mutations: Record<string, Mutation> = {
  deleteLine: (l, r) => l.toSpliced(idx(l, r), 1),
  duplicateLine: (l, r) => {
    const i = idx(l, r);
    return l.toSpliced(i, 0, l[i] ?? '');
  },
  insertTab: (l, r) => {
    const i = idx(l, r);
    return l.with(i, `\t${l[i] ?? ''}`);
  },
  swapLines: (l, r) => {
    const i = idx(l, r);
    const j = idx(l, r);
    const out = [...l];
    [out[i], out[j]] = [l[j] ?? '', l[i] ?? ''];
    return out;
  },
  changeValue: (l, r) => {
    const candidates = l.map((line, i) => [line, i] as const).filter(([line]) => /:\s*\S/.test(line));
    if (candidates.length === 0) return l;
    const [line, i] = pick(candidates, r);
    return l.with(i, line.replace(/(:\s*)(.*)$/, `$1${pick(VALUES, r)}`));
  },
  deleteKey: (l, r) => {
    const i = idx(l, r);
    const indent = /^\s*/.exec(l[i] ?? '')![0].length;
    let end = i + 1;
    while (end < l.length && (l[end]!.trim() === '' || /^\s*/.exec(l[end]!)![0].length > indent)) end++;
    return l.toSpliced(i, end - i);
  },
  insertChars: (l, r) => {
    const i = idx(l, r);
    const line = l[i] ?? '';
    const at = Math.floor(r() * (line.length + 1));
    return l.with(i, line.slice(0, at) + pick(INSERTS, r) + line.slice(at));
  },
  swapValues: (l, r) => {
    const withValues = l.map((line, i) => [line, i] as const).filter(([line]) => /:\s*\S/.test(line));
    if (withValues.length < 2) return l;
    const [a, i] = pick(withValues, r);
    const [b, j] = pick(withValues, r);
    const va = /:\s*(.*)$/.exec(a)![1]!;
    const vb = /:\s*(.*)$/.exec(b)![1]!;
    return l.with(i, a.replace(/(:\s*).*$/, `$1${vb}`)).with(j, b.replace(/(:\s*).*$/, `$1${va}`));
  },
  reindent: (l, r) => {
    const i = idx(l, r);
    return l.with(i, `${' '.repeat(Math.floor(r() * 5))}${(l[i] ?? '').trimStart()}`);
  },
};

function truncate(text: string, r: () => number): string {
  return text.slice(0, Math.floor(r() * text.length));
}

test(`${CASES} seeded mutations of ${sources.length} plans: a plan or a positioned PlanError, nothing else`, () => {
  assert.ok(sources.length >= 30);
  const r = rng(SEED);
  const names = Object.keys(mutations);
  const outcomes = { loaded: 0, planError: 0 };
  const started = Date.now();
  for (let n = 0; n < CASES; n++) {
    const { file, text } = pick(sources, r);
    let mutated: string;
    let applied: string[];
    if (r() < 0.1) {
      mutated = truncate(text, r);
      applied = ['truncate'];
    } else {
      let lines = text.split('\n');
      applied = [];
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
        const name = pick(names, r);
        applied.push(name);
        lines = mutations[name]!(lines, r).join('\n').split('\n');
      }
      mutated = lines.join('\n');
    }
    const where = `case ${n} (${file}: ${applied.join(', ')})`;
    try {
      parsePlan(mutated, 'fuzz.yml', { env: {} });
      outcomes.loaded++;
    } catch (err) {
      if (!(err instanceof PlanError)) {
        assert.fail(`${where}: threw ${err instanceof Error ? err.stack : String(err)}\n--- input ---\n${mutated}`);
      }
      outcomes.planError++;
      assert.ok(err.issues.length > 0, `${where}: PlanError without issues`);
      const fileLines = mutated.split('\n');
      for (const issue of err.issues) {
        assert.equal(issue.file, 'fuzz.yml');
        assert.ok(issue.line >= 1 && issue.line <= fileLines.length, `${where}: line ${issue.line} outside 1..${fileLines.length}\n${issue.message}\n${mutated}`);
        const lineLength = fileLines[issue.line - 1]!.length;
        assert.ok(issue.col >= 1 && issue.col <= lineLength + 1, `${where}: col ${issue.col} outside line ${issue.line} (${lineLength} chars): ${issue.message}\n${mutated}`);
        assert.ok(issue.message.length > 0);
      }
    }
    assert.ok(Date.now() - started < 30_000, 'fuzzing took too long');
  }
  // Both outcomes happen: the mutations are neither all fatal nor all harmless.
  assert.ok(outcomes.loaded > 20 && outcomes.planError > 100, JSON.stringify(outcomes));
});
