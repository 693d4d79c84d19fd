// `planrun run` as a user runs it: exit codes, the JSON report on every
// outcome, and Ctrl-C writing the partial report.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { readReport as readReportFile } from './report-helpers.js';
import { startPad, type Pad } from './run-helpers.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
let pad: Pad;
let dir: string;
before(async () => {
  pad = await startPad();
  dir = await mkdtemp(join(tmpdir(), 'planrun-cli-'));
});
after(() => pad.stop());

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function planrun(args: string[], o: { onStdout?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Ran> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    o.onStdout?.(stdout, child);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function planFile(name: string, yaml: string): Promise<string> {
  const file = join(dir, `${name}.yml`);
  await writeFile(file, yaml);
  return file;
}

const readReport = (out: string) => readReportFile(join(out, 'report.json'));

test('a passing run exits 0 and writes report.json', { timeout: 30_000 }, async () => {
  const file = await planFile('ok', `name: ok\ntarget: ${pad.url}\nworkers: 2\nrounds: 2\nscenario:\n  - request: GET /health\n`);
  const out = join(dir, 'ok-out');
  const r = await planrun(['run', file, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /PASSED/);
  const report = await readReport(out);
  assert.equal(report.outcome, 'passed');
  assert.equal(report.exitCode, 0);
  assert.equal(report.steps[0]?.count, 4);
});

test('a failed threshold exits 1 and names it', { timeout: 30_000 }, async () => {
  const file = await planFile('threshold', `name: slow\ntarget: ${pad.url}\nworkers: 1\nrounds: 2\nscenario:\n  - name: slow\n    request: GET /health?delay=60\nthresholds:\n  step.slow: ["p95 < 20ms"]\n`);
  const out = join(dir, 'threshold-out');
  const r = await planrun([file, '--out', out]);
  assert.equal(r.code, 1);
  const report = await readReport(out);
  assert.equal(report.outcome, 'failed');
  assert.equal(report.thresholds[0]?.passed, false);
  assert.ok((report.thresholds[0]?.actual ?? 0) >= 60);
});

test('an invalid plan exits 2 with file:line:col and writes no report', { timeout: 30_000 }, async () => {
  const file = await planFile('bad', `name: bad\nworkers: two\n`);
  const r = await planrun(['run', file, '--out', join(dir, 'bad-out')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`bad\\.yml:2:10`));
  await assert.rejects(readFile(join(dir, 'bad-out', 'report.json')), { code: 'ENOENT' });
});

test('a plan that may hang is run and validated, with the warning printed first (file:line:col)', { timeout: 30_000 }, async () => {
  const file = 'test/fixtures/plan/good/maybe-hang.yml';
  const warning = /maybe-hang\.yml:13:7: warning: may fail in round 1: r waits for "x" \(line 13\), which w signals only under a condition \(line 10\)/;
  const out = join(dir, 'maybe-out');
  const ran = await planrun(['run', file, '--out', out, '--reporter', 'json']);
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stderr, warning);
  assert.equal((await readReport(out)).outcome, 'passed');
  const validated = await planrun(['validate', file]);
  assert.equal(validated.code, 0, validated.stderr);
  assert.match(validated.stderr, warning);
  assert.match(validated.stdout, /maybe hang/);
});

test('Ctrl-C stops the run, writes the partial report and exits 130', { timeout: 30_000 }, async () => {
  const file = await planFile('long', `name: long\ntarget: ${pad.url}\nworkers: 3\nrounds: 1000\nscenario:\n  - name: tick\n    request: GET /health?delay=20\n`);
  const out = join(dir, 'long-out');
  let sent = false;
  const r = await planrun(['run', file, '--out', out, '--reporter', 'plain,json'], {
    onStdout: (text, child) => {
      if (!sent && /round 3\/1000/.test(text)) {
        sent = true;
        child.kill('SIGINT');
      }
    },
  });
  assert.ok(sent, 'the run got going');
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /SIGINT received/);
  const report = await readReport(out);
  assert.equal(report.outcome, 'aborted');
  assert.equal(report.exitCode, 130);
  const tick = report.steps.find((s) => s.name === 'tick')!;
  assert.ok(tick.ok >= 6 && tick.ok < 3000, `ticks that ran are reported: ${tick.ok}`);
  assert.deepEqual(new Set(report.workers.map((w) => w.outcome)), new Set(['aborted']));
});
