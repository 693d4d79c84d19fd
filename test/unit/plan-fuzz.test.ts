// Property test (fast-check): mutations of every plan we have, with adversarial
// values spliced in (huge numbers, deep nesting, aliases, prototype names, long
// strings, odd template expressions). The loader, then the deadlock check on
// the plan's graph, either return a plan or throw a PlanError whose positions
// are inside the file, with short messages: never another exception, never a hang. A smaller sample goes through the real CLI.
// The seed is fixed and printed; PLANRUN_FUZZ_SEED=<n> replays another one.
import { CLI_NODE_ARGS } from '../helpers/cli-entry.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkGraph } from '../../src/graph/check.js';
import { compileGraph } from '../../src/graph/graph.js';
import { PlanError } from '../../src/plan/issues.js';
import { parsePlan } from '../../src/plan/load.js';

const SEED = Number(process.env.PLANRUN_FUZZ_SEED ?? 20261201);
const RUNS = 1200;
const CLI_RUNS = 30;

const sources = [
  ...readdirSync('plans')
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join('plans', f)),
  ...['good', 'bad'].flatMap((d) =>
    readdirSync(join('test/fixtures/plan', d))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => join('test/fixtures/plan', d, f)),
  ),
].map((file) => ({ file, text: readFileSync(file, 'utf8') }));

const rep = (n: number, s: string) => s.repeat(n);

/** Values a plan should never crash on, as YAML text for the right-hand side of `key:`. */
const adversarialValue: fc.Arbitrary<string> = fc.oneof(
  // numbers past every limit, and what YAML makes of them
  fc.constantFrom('1e9', '1e8', '1e309', '-1e309', '.inf', '-.inf', '.nan', '9007199254740993', '2147483648', '-1', '0', '-0', '1.5', '0x7fffffff', '1e-400'),
  fc.double().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  // durations around the timer limit
  fc.constantFrom('600h', '596h', '0s', '0.0ms', '99999999999999999999h', '1m30s', '"0"', '2147483647'),
  // names on Object.prototype, as keys, values and calls
  fc.constantFrom('__proto__', 'constructor', 'toString', 'prototype', 'hasOwnProperty', 'valueOf'),
  fc
    .constantFrom('toString()', 'valueOf()', 'constructor("x")', '__proto__()', 'hasOwnProperty("a")', '__defineGetter__("a", 1)', 'round > 1 && toString()')
    .map((e) => `"{{ ${e} }}"`),
  fc.constantFrom('vars.__proto__', 'vars.constructor.name', 'captures["__proto__"]', 'env.toString', 'length(constructor)', 'upper.call(1)').map((e) => `"{{ ${e} }}"`),
  // aliases
  fc.constantFrom('&a [*a]', '&a { b: *a }', '*nope', '&x 1', '[&y [1, 2], *y, *y]'),
  fc
    .integer({ min: 2, max: 6 })
    .map((n) => `&b0 [x, x, x, x, x, x, x, x, x, x]${Array.from({ length: n }, (_, i) => `, &b${i + 1} [${rep(10, `*b${i}, `)}]`).join('')}`)
    .map((v) => `[${v}]`),
  // deep nesting, flow and block
  fc.integer({ min: 50, max: 3000 }).map((n) => `${rep(n, '[')}${rep(n, ']')}`),
  fc.integer({ min: 50, max: 1500 }).map((n) => `${rep(n, '{a: ')}1${rep(n, '}')}`),
  fc.integer({ min: 90, max: 400 }).map((n) => `\n${Array.from({ length: n }, (_, i) => `${rep(i + 2, '  ')}k${i}:`).join('\n')} 1`),
  // long strings and long templates
  fc.integer({ min: 1000, max: 100_000 }).map((n) => rep(n, 'x')),
  fc.integer({ min: 100, max: 6000 }).map((n) => `"{{ ${Array.from({ length: n }, () => '1').join(' + ')} }}"`),
  fc.integer({ min: 1000, max: 100_000 }).map((n) => `"{{ vars.${rep(n, 'a')} }}"`),
  fc.integer({ min: 50, max: 2000 }).map((n) => `"{{ ${rep(n, '(')}1${rep(n, ')')} }}"`),
  fc.integer({ min: 50, max: 2000 }).map((n) => `"{{ ${rep(n, '!')}round }}"`),
  // odd expressions and odd text
  fc.string({ maxLength: 40 }).map((s) => JSON.stringify(`{{ ${s} }}`)),
  fc.string({ maxLength: 40, unit: 'binary' }).map((s) => JSON.stringify(s)),
  fc.constantFrom('"{{ round +"', '"{{ }}"', '"}}{{"', '"{{ {{ }} }}"', '"{{ a ? b }}"', '"{{ this }}"', '"{{ [1,2][0] }}"', '"{{ -x }}"', '"{{ 1, 2 }}"'),
  fc.constantFrom('true', 'null', '~', '[]', '{}', '|', '>-', '[1, 2', '{ a: 1 }', '- x', '"🙂"', 'all', '"GET /"', '!!binary x', '!tag x', '? x'),
);

const INSERTS = [':', '-', '"', "'", '{', '[', '#', '\t', '{{', '}}', ' ', '\n', '  ', ': x', '\n- ', '&', '*', '!', '%', '@', '`', '\\'];

type Lines = string[];
const at = (lines: Lines, i: number) => i % Math.max(1, lines.length);
const valued = (lines: Lines) => lines.map((line, i) => [line, i] as const).filter(([line]) => /:\s*\S/.test(line));

/** One edit of a plan's lines; indexes are taken modulo the length so any number fits. */
const mutation: fc.Arbitrary<{ name: string; apply: (lines: Lines) => Lines }> = fc.oneof(
  fc.nat().map((i) => ({ name: 'deleteLine', apply: (l: Lines) => l.toSpliced(at(l, i), 1) })),
  fc.nat().map((i) => ({ name: 'duplicateLine', apply: (l: Lines) => l.toSpliced(at(l, i), 0, l[at(l, i)] ?? '') })),
  fc.nat().map((i) => ({ name: 'insertTab', apply: (l: Lines) => l.with(at(l, i), `\t${l[at(l, i)] ?? ''}`) })),
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]) => ({
    name: 'swapLines',
    apply: (l: Lines) => {
      const out = [...l];
      [out[at(l, i)], out[at(l, j)]] = [l[at(l, j)] ?? '', l[at(l, i)] ?? ''];
      return out;
    },
  })),
  fc.tuple(fc.nat(), adversarialValue).map(([i, value]) => ({
    name: `changeValue(${value.length > 30 ? `${value.slice(0, 30)}…` : value})`,
    apply: (l: Lines) => {
      const candidates = valued(l);
      if (candidates.length === 0) return l;
      const [line, k] = candidates[i % candidates.length]!;
      return l.with(
        k,
        line.replace(/(:\s*)(.*)$/, (_, colon: string) => `${colon}${value}`),
      );
    },
  })),
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom(
        'workers',
        'rounds',
        'count',
        'times',
        'timeout',
        'waitTimeout',
        'sleep',
        'duration',
        'maxPages',
        'concurrency',
        'maxDepth',
        'connections',
        '__proto__',
        'constructor',
      ),
      adversarialValue,
    )
    .map(([i, key, value]) => ({
      name: `insertKey(${key})`,
      apply: (l: Lines) => {
        const k = at(l, i);
        const indent = /^\s*(- )?/.exec(l[k] ?? '')![0].replace('- ', '  ');
        return l.toSpliced(k + 1, 0, `${indent}${key}: ${value}`);
      },
    })),
  fc.nat().map((i) => ({
    name: 'deleteKey',
    apply: (l: Lines) => {
      const k = at(l, i);
      const indent = /^\s*/.exec(l[k] ?? '')![0].length;
      let end = k + 1;
      while (end < l.length && (l[end]!.trim() === '' || /^\s*/.exec(l[end]!)![0].length > indent)) end++;
      return l.toSpliced(k, end - k);
    },
  })),
  fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(...INSERTS)).map(([i, c, insert]) => ({
    name: `insertChars(${JSON.stringify(insert)})`,
    apply: (l: Lines) => {
      const line = l[at(l, i)] ?? '';
      const col = c % (line.length + 1);
      return l.with(at(l, i), line.slice(0, col) + insert + line.slice(col));
    },
  })),
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]) => ({
    name: 'swapValues',
    apply: (l: Lines) => {
      const v = valued(l);
      if (v.length < 2) return l;
      const [a, x] = v[i % v.length]!;
      const [b, y] = v[j % v.length]!;
      const va = /:\s*(.*)$/.exec(a)![1]!;
      const vb = /:\s*(.*)$/.exec(b)![1]!;
      return l
        .with(
          x,
          a.replace(/(:\s*).*$/, (_, colon: string) => colon + vb),
        )
        .with(
          y,
          b.replace(/(:\s*).*$/, (_, colon: string) => colon + va),
        );
    },
  })),
  fc.tuple(fc.nat(), fc.nat({ max: 6 })).map(([i, n]) => ({ name: 'reindent', apply: (l: Lines) => l.with(at(l, i), `${' '.repeat(n)}${(l[at(l, i)] ?? '').trimStart()}`) })),
);

interface Case {
  file: string;
  applied: string[];
  text: string;
}

const fuzzCase: fc.Arbitrary<Case> = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .tuple(fc.constantFrom(...sources), fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([s, ms]) => ({ file: s.file, applied: ms.map((m) => m.name), text: ms.reduce((lines, m) => m.apply(lines).join('\n').split('\n'), s.text.split('\n')).join('\n') })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...sources), fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([s, f]) => ({ file: s.file, applied: ['truncate'], text: s.text.slice(0, Math.floor(f * s.text.length)) })),
  },
);

/** What a plan may end as: loaded, or a PlanError located inside the file with bounded messages. */
function checkOutcome(c: Case): 'loaded' | 'planError' {
  const where = `${c.file}: ${c.applied.join(', ')}`;
  try {
    checkGraph(compileGraph(parsePlan(c.text, 'fuzz.yml', { env: {} })));
    return 'loaded';
  } catch (err) {
    if (!(err instanceof PlanError)) assert.fail(`${where}: threw ${err instanceof Error ? err.stack : String(err)}`);
    assert.ok(err.issues.length > 0, `${where}: PlanError without issues`);
    const lines = c.text.split('\n');
    for (const issue of err.issues) {
      assert.equal(issue.file, 'fuzz.yml');
      assert.ok(issue.line >= 1 && issue.line <= lines.length, `${where}: line ${issue.line} outside 1..${lines.length}: ${issue.message}`);
      const length = lines[issue.line - 1]!.length;
      assert.ok(issue.col >= 1 && issue.col <= length + 1, `${where}: col ${issue.col} outside line ${issue.line} (${length} chars): ${issue.message}`);
      assert.ok(issue.message.length > 0 && issue.message.length <= 1000, `${where}: message of ${issue.message.length} characters: ${issue.message.slice(0, 200)}`);
      assert.ok((issue.hint?.length ?? 0) <= 1000, `${where}: hint of ${issue.hint?.length} characters`);
    }
    return 'planError';
  }
}

test(`${RUNS} mutated and adversarial plans: a plan or a located PlanError, nothing else`, (t) => {
  assert.ok(sources.length >= 30);
  t.diagnostic(`seed ${SEED} (replay: PLANRUN_FUZZ_SEED=${SEED})`);
  const outcomes = { loaded: 0, planError: 0 };
  const started = Date.now();
  fc.assert(
    fc.property(fuzzCase, (c) => {
      outcomes[checkOutcome(c)]++;
    }),
    { seed: SEED, numRuns: RUNS },
  );
  const seconds = (Date.now() - started) / 1000;
  t.diagnostic(`${RUNS} plans in ${seconds.toFixed(1)} s: ${outcomes.loaded} loaded, ${outcomes.planError} PlanErrors`);
  assert.ok(seconds < 60, `fuzzing took ${seconds} s`);
  // Both outcomes happen: the mutations are neither all fatal nor all harmless.
  assert.ok(outcomes.loaded > 10 && outcomes.planError > 300, JSON.stringify(outcomes));
});

/** `planrun validate` in a child process; resolves with its exit code and stderr. */
function validate(file: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_NODE_ARGS, 'validate', file], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

test(`${CLI_RUNS} of them and the example plans through \`planrun validate\`: exit 0 or 2, no stack trace, bounded stderr`, async (t) => {
  // The example plans as they are, so valid plans (exit 0) go through the CLI too.
  const examples = sources.filter((s) => s.file.startsWith('plans/')).map((s) => ({ file: s.file, applied: [], text: s.text }));
  const cases = [...examples, ...fc.sample(fuzzCase, { seed: SEED, numRuns: CLI_RUNS })];
  const dir = mkdtempSync(join(tmpdir(), 'planrun-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let next = 0;
  const codes: number[] = [];
  // Two at a time: each child is a whole planrun process, and the machine is shared.
  const runner = async () => {
    for (let i = next++; i < cases.length; i = next++) {
      const c = cases[i]!;
      const file = join(dir, `case-${i}.yml`);
      writeFileSync(file, c.text);
      const r = await validate(file);
      const where = `case ${i} (${c.file}: ${c.applied.join(', ')})`;
      assert.ok(r.code === 0 || r.code === 2, `${where}: exit ${r.code ?? r.signal}\n${r.stderr.slice(0, 2000)}`);
      assert.doesNotMatch(r.stderr, /^ {4}at /m, `${where}: stack trace on stderr\n${r.stderr.slice(0, 2000)}`);
      assert.ok(r.stderr.length < 64 * 1024, `${where}: ${r.stderr.length} bytes on stderr`);
      codes.push(r.code);
    }
  };
  await Promise.all([runner(), runner()]);
  t.diagnostic(`exit codes: ${codes.filter((c) => c === 0).length}× 0, ${codes.filter((c) => c === 2).length}× 2`);
  assert.equal(codes.length, cases.length);
});
