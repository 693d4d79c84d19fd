// `planrun run` as a user runs it: exit codes, the JSON report on every
// outcome, Ctrl-C writing the partial report, and signals while the reports
// are written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CliRun, planrun as run, type Watch } from '../helpers/cli-helpers.js';
import { readReport as readReportFile } from '../helpers/report-helpers.js';
import { startPad, type Pad } from '../helpers/run-helpers.js';

let pad: Pad;
let dir: string;
before(async () => {
  pad = await startPad();
  dir = await mkdtemp(join(tmpdir(), 'planrun-cli-'));
});
after(() => pad.stop());

/** `planrun ARGS…` as in CI (the plain live output), bounded by the longest test's timeout. */
const planrun = (args: string[], o: { onStdout?: Watch; onStderr?: Watch } = {}): Promise<CliRun> => run(args, { env: { CI: 'true' }, timeoutMs: 120_000, ...o });

/** A stdout watcher that sends SIGINT once the plain output shows round 3 (the run got going); `sent()` tells whether it did. */
function interruptAtRound3(): { onStdout: Watch; sent(): boolean } {
  let sent = false;
  return {
    onStdout: (text, child) => {
      if (!sent && /round 3\/1000/.test(text)) {
        sent = true;
        child.kill('SIGINT');
      }
    },
    sent: () => sent,
  };
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
  const file = await planFile(
    'threshold',
    `name: slow\ntarget: ${pad.url}\nworkers: 1\nrounds: 2\nscenario:\n  - name: slow\n    request: GET /health?delay=60\nthresholds:\n  step.slow: ["p95 < 20ms"]\n`,
  );
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
  assert.match(r.stderr, /bad\.yml:2:10/);
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
  const interrupt = interruptAtRound3();
  const r = await planrun(['run', file, '--out', out, '--reporter', 'plain,json'], interrupt);
  assert.ok(interrupt.sent(), 'the run got going');
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /SIGINT received/);
  const report = await readReport(out);
  assert.equal(report.outcome, 'aborted');
  assert.equal(report.exitCode, 130);
  const tick = report.steps.find((s) => s.name === 'tick')!;
  assert.ok(tick.ok >= 6 && tick.ok < 3000, `ticks that ran are reported: ${tick.ok}`);
  assert.deepEqual(new Set(report.workers.map((w) => w.outcome)), new Set(['aborted']));
  // Ctrl-C flushed the last, partial bucket too: the stream holds every bucket of the report's series.
  const streamed = (await readFile(join(out, 'metrics.ndjson'), 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
  assert.deepEqual(streamed, report.series!.buckets);
  assert.equal(
    report.series!.buckets.reduce((n, b) => n + b.requests, 0),
    tick.count,
  );
});

test('a run killed hard (SIGKILL) leaves metrics.ndjson: a parseable line per second it ran', { timeout: 30_000 }, async () => {
  const file = await planFile('killed', `name: killed\ntarget: ${pad.url}\nworkers: 2\nduration: 20s\nscenario:\n  - name: tick\n    request: GET /health?delay=5\n`);
  const out = join(dir, 'killed-out');
  const stream = join(out, 'metrics.ndjson');
  let killed = false;
  const r = await planrun(['run', file, '--out', out, '--reporter', 'plain,json'], {
    // Checked on each line the plain reporter prints: it prints a line per step.
    onStdout: (_text, child) => {
      if (!killed && existsSync(stream) && readFileSync(stream, 'utf8').split('\n').length > 3) {
        killed = true;
        child.kill('SIGKILL');
      }
    },
  });
  assert.ok(killed, 'the run got three seconds in');
  assert.equal(r.code, null);
  assert.deepEqual(await readdir(out), ['metrics.ndjson'], 'no report: the process had no chance to write one');
  const lines = (await readFile(stream, 'utf8')).split('\n');
  assert.equal(lines.pop(), '', 'every line is whole');
  const buckets = lines.map((l) => JSON.parse(l) as { t: number; requests: number; activeWorkers: number });
  assert.ok(buckets.length >= 3, `${buckets.length} lines`);
  assert.deepEqual(
    buckets.map((b) => b.t),
    buckets.map((_, i) => i * 1000),
  );
  assert.ok(
    buckets.every((b) => b.requests > 0 && b.activeWorkers === 2),
    JSON.stringify(buckets),
  );
});

/** 100,000 step results without a network: the reports take seconds to write (25 MB of report.json). */
const BIG_PLAN = `name: big\nworkers: 10\nrounds: 100\nscenario:\n  - loop: { times: 100, as: i, steps: [ { set: { a: 1 } } ] }\n`;
// metrics.ndjson streams during the run; the others are written at its end.
const ALL_FILES = ['junit.xml', 'metrics.ndjson', 'report.html', 'report.json', 'summary.md'];

/** Runs the big plan with every file reporter; SIGINT once the report phase begins, and again once planrun said it got the first if `twice`. */
async function interruptReports(name: string, twice: boolean): Promise<{ r: CliRun; out: string; sent: number }> {
  const file = await planFile(name, BIG_PLAN);
  const out = join(dir, `${name}-out`);
  let sent = 0;
  const r = await planrun(['run', file, '--out', out, '--reporter', 'plain,json,junit,html,markdown'], {
    onStdout: (text, child) => {
      if (sent === 0 && text.includes('▶ reports')) {
        sent++;
        child.kill('SIGINT');
      }
    },
    onStderr: (text, child) => {
      if (twice && sent === 1 && text.includes('finishing the reports')) {
        sent++;
        child.kill('SIGINT');
      }
    },
  });
  return { r, out, sent };
}

test('Ctrl-C while the reports are written lets them finish whole, then exits 130', { timeout: 120_000 }, async () => {
  const { r, out, sent } = await interruptReports('reports-sigint', false);
  assert.equal(sent, 1, 'the report phase began');
  assert.equal(r.code, 130, r.stderr);
  assert.equal(r.stderr.match(/planrun: SIGINT received: finishing the reports, then exiting with 130 \(press Ctrl-C again to quit at once\)\n/g)?.length, 1, r.stderr);
  // Every report is there and complete; no temporary file is left.
  assert.deepEqual((await readdir(out)).sort(), ALL_FILES);
  const report = await readReport(out);
  assert.equal(report.outcome, 'passed', 'the run itself was over');
  assert.equal(report.steps[0]?.count, 100_000);
  const lint = spawnSync('xmllint', ['--noout', join(out, 'junit.xml')], { encoding: 'utf8' });
  assert.equal(lint.status, 0, lint.stderr);
  assert.match(await readFile(join(out, 'report.html'), 'utf8'), /<\/html>\n?$/);
  assert.match(await readFile(join(out, 'summary.md'), 'utf8'), /^## planrun: big — ✅ passed\n/);
  assert.match(r.stdout, /Reports\n(.*\n){4}/, 'the summary still lists the files');
  await rm(out, { recursive: true });
});

test('a second Ctrl-C while the reports are written exits at once, leaving no truncated or temporary file', { timeout: 120_000 }, async () => {
  const { r, out, sent } = await interruptReports('reports-twice', true);
  assert.equal(sent, 2, 'the report phase began and planrun took the first signal');
  assert.equal(r.code, 130, r.stderr);
  assert.doesNotMatch(r.stdout, /PASSED/, 'left before the summary');
  // Whatever was written is whole; whatever was being written is gone, temporary file included.
  const files = (await readdir(out)).sort();
  assert.ok(
    files.every((f) => ALL_FILES.includes(f)),
    `only report files: ${files.join(', ')}`,
  );
  if (files.includes('report.json')) assert.equal((await readReport(out)).steps[0]?.count, 100_000);
  if (files.includes('junit.xml')) assert.equal(spawnSync('xmllint', ['--noout', join(out, 'junit.xml')]).status, 0);
  if (files.includes('report.html')) assert.match(await readFile(join(out, 'report.html'), 'utf8'), /<\/html>\n?$/);
  await rm(out, { recursive: true });
});

test('--seed N replays the generated values and overrides the plan seed; a bad --seed exits 2', { timeout: 90_000 }, async () => {
  const file = await planFile(
    'seeded',
    `name: seeded\ntarget: ${pad.url}\nseed: 1\nworkers: 2\nrounds: 2\nscenario:\n  - request:\n      method: POST\n      url: /pads/{{ run.id }}-w{{ worker.id }}/lines\n      json: { text: "{{ uuid() }} {{ randomInt(0, 1000000000) }} {{ randomString(16) }}" }\n`,
  );
  const lines = async (runId: string) => {
    const texts = await Promise.all(
      [0, 1].map(async (w) => ((await (await fetch(`${pad.url}/pads/${runId}-w${w}`)).json()) as { lines: Array<{ text: string }> }).lines.map((l) => l.text)),
    );
    return texts.flat();
  };
  for (const runId of ['seed-a', 'seed-b']) {
    const r = await planrun(['run', file, '--seed', '7', '--run-id', runId, '--out', join(dir, `${runId}-out`), '--reporter', 'json']);
    assert.equal(r.code, 0, r.stderr);
  }
  const a = await lines('seed-a');
  assert.equal(a.length, 4);
  assert.deepEqual(await lines('seed-b'), a);
  const planSeed = await planrun(['run', file, '--run-id', 'seed-plan', '--out', join(dir, 'seed-plan-out'), '--reporter', 'json']);
  assert.equal(planSeed.code, 0, planSeed.stderr);
  assert.notDeepEqual(await lines('seed-plan'), a, 'seed: 1 from the plan is not seed 7');

  const bad = await planrun(['run', file, '--seed=-3']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'planrun run: --seed takes a whole number from 0 to 9007199254740991, not `-3`\n');
});

const SETUP_AND_TEARDOWN = `setup:
  - name: create pad
    request: { method: POST, url: /pads, expect: { status: 201 }, capture: { id: { json: id } } }
  - share: { pad: "{{ captures.id }}" }
teardown:
  - name: delete pad
    request: { method: DELETE, url: "/pads/{{ shared.pad }}", expect: { status: 204 } }
`;

test('a failing setup exits 1 before any worker runs, with the setup step and its message as the reason', { timeout: 30_000 }, async () => {
  const file = await planFile(
    'setup-fails',
    `name: setup-fails\ntarget: ${pad.url}\nworkers: 2\nsetup:\n  - name: log in\n    request: { url: /pads/nobody/lines/1, expect: { status: 200 } }\nscenario:\n  - name: tick\n    request: GET /health\n`,
  );
  const out = join(dir, 'setup-fails-out');
  const r = await planrun(['run', file, '--out', out, '--reporter', 'plain,json']);
  assert.equal(r.code, 1, r.stderr);
  const reason = `setup failed: log in: GET ${pad.url}/pads/nobody/lines/1: expected status 200, got 404 (body: "{\\"error\\":\\"line 1 of pad nobody is not written yet\\"}")`;
  assert.ok(r.stdout.includes(reason), r.stdout);
  assert.match(r.stdout, /▶ setup\n/);
  assert.doesNotMatch(r.stdout, /▶ workers/);
  const report = await readReport(out);
  assert.equal(report.outcome, 'failed');
  assert.equal(report.reason, reason);
  assert.deepEqual(report.workers, []);
  assert.deepEqual(
    report.steps.map((s) => [s.role, s.name, s.count, s.ok, s.failed]),
    [
      ['setup', 'log in', 1, 0, 1],
      ['worker', 'tick', 0, 0, 0],
    ],
  );
});

test('Ctrl-C mid-run still runs the teardown: the server saw the delete, exit 130', { timeout: 30_000 }, async () => {
  const before = ((await (await fetch(`${pad.url}/requests`)).json()) as string[]).length;
  const file = await planFile(
    'teardown-on-ctrl-c',
    `name: teardown-on-ctrl-c\ntarget: ${pad.url}\nworkers: 2\nrounds: 1000\n${SETUP_AND_TEARDOWN}scenario:\n  - name: read\n    request: GET /pads/{{ shared.pad }}?delay=20\n`,
  );
  const out = join(dir, 'teardown-on-ctrl-c-out');
  const interrupt = interruptAtRound3();
  const r = await planrun(['run', file, '--out', out, '--reporter', 'plain,json'], interrupt);
  assert.ok(interrupt.sent(), 'the run got going');
  assert.equal(r.code, 130, r.stderr);
  const requests = ((await (await fetch(`${pad.url}/requests`)).json()) as string[]).slice(before);
  assert.equal(requests[0], 'POST /pads');
  const id = requests.at(-1)!.replace('DELETE /pads/', '');
  assert.match(id, /^pad-\d+$/);
  assert.ok(requests.slice(1, -1).length >= 4 && requests.slice(1, -1).every((q) => q === `GET /pads/${id}`), requests.join(', '));
  assert.match(r.stdout, /▶ teardown\n[\s\S]*✔ teardown done/);
  const report = await readReport(out);
  assert.equal(report.outcome, 'aborted');
  assert.deepEqual(
    report.steps.filter((s) => s.role === 'teardown').map((s) => [s.name, s.ok]),
    [['delete pad', 1]],
  );
});
