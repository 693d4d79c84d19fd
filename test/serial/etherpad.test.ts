// The flagship end to end: plans/etherpad.yml (and the mixed-engine plan) against a REAL
// Etherpad started through the plan's services block, real Chromium. Orderings are
// asserted from the step:end events of every round. `npm test` runs test/serial/ after
// the other files and alone: five browsers need the two cores to themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parsePlan } from '../../src/plan/load.js';
import type { RunEvent, StepResult } from '../../src/contract/events.js';
import { runPlan } from '../../src/runtime/run.js';
import { freePort } from '../helpers/free-port.js';

const base = process.env.PLANRUN_ETHERPAD_DIR ?? resolve('.planrun/etherpad');
const installed = existsSync(join(base, '.planrun-installed-1.8.14'));
const skip = installed ? false : `Etherpad is not installed in ${base}: run scripts/setup-etherpad.sh (CI does)`;

/**
 * Runs a plan file on a free port (the plans say 9001) and checks what both tests need: no step failed, the run
 * passed, and Etherpad was started and stopped by the plan's services block. Returns the step results.
 */
async function runEtherpadPlan(file: string) {
  const port = await freePort();
  // More room than the plan's 60 s: five browsers loading a cold pad is the slowest thing in the suite (15–30 s
  // on two quiet cores, over 60 s when another test file used the CPU beside it; this folder now runs alone).
  const text = readFileSync(file, 'utf8')
    .replaceAll('9001', String(port))
    .replace(/^timeout: 60s$/m, 'timeout: 90s');
  const plan = parsePlan(text, resolve(file));
  const reportDir = await mkdtemp(join(tmpdir(), 'planrun-etherpad-'));
  const events: RunEvent[] = [];
  try {
    const result = await runPlan(plan, { reportDir, emit: (e) => events.push(e) });
    const steps = events.flatMap((e) => (e.type === 'step:end' ? [e.result] : []));
    assert.deepEqual(
      steps.filter((s) => s.outcome === 'failed').map((s) => `w${s.worker} r${s.round} ${s.name}: ${s.error?.message}`),
      [],
    );
    assert.equal(result.outcome, 'passed');
    assert.deepEqual(
      events.flatMap((e) => (e.type === 'service' ? [e.status] : [])),
      ['starting', 'ready', 'stopped'],
    );
    return { steps, port };
  } finally {
    await rm(reportDir, { recursive: true, force: true });
  }
}

const end = (s: StepResult) => s.start + s.durationMs;
const find = (steps: StepResult[], name: string, round: number) => steps.filter((s) => s.name === name && s.round === round);

test('flagship: one writer, four readers on a real Etherpad, orderings per round', { skip, timeout: 360_000 }, async () => {
  const { steps, port } = await runEtherpadPlan('plans/etherpad.yml');
  for (let round = 1; round <= 3; round++) {
    const [write] = find(steps, 'write round', round);
    assert.ok(write && write.worker === 4 && write.outcome === 'ok', `round ${round}: the writer wrote`);
    const reads = find(steps, 'see round', round);
    assert.deepEqual(reads.map((r) => r.worker).sort(), [0, 1, 2, 3], `round ${round}: every reader checked`);
    for (const read of reads) {
      assert.equal(read.outcome, 'ok');
      assert.ok(read.start >= end(write), `round ${round}: reader ${read.worker} checked after the write`);
    }
    const [next] = find(steps, 'write round', round + 1);
    if (next) for (const read of reads) assert.ok(next.start >= end(read), `round ${round + 1}'s write after reader ${read.worker}'s read`);
  }
  // Nothing of Etherpad is left: its port is closed.
  await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
});

test('mixed engines: writer through the HTTP API, readers in the browser', { skip, timeout: 360_000 }, async () => {
  const { steps } = await runEtherpadPlan('plans/etherpad-mixed.yml');
  for (let round = 1; round <= 3; round++) {
    const [set] = find(steps, 'set text', round);
    assert.ok(set?.http?.status === 200);
    const reads = find(steps, 'see round', round);
    assert.equal(reads.length, 2);
    for (const read of reads) assert.ok(read.start >= end(set!), `round ${round}: reader ${read.worker} after the API write`);
    assert.equal(find(steps, 'exactly this round', round)[0]?.outcome, 'ok');
  }
});
