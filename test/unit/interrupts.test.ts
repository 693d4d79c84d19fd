// The signal states of `planrun run` without a child process: what the first
// and the second signal do in the run phase and in the report phase.
// (test/run-cli.test.ts sends real signals to a real planrun.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Interrupts } from '../../src/runtime/interrupts.js';

function interrupts(): { i: Interrupts; lines: string[]; exits: number[] } {
  const lines: string[] = [];
  const exits: number[] = [];
  const i = new Interrupts({ write: (t) => lines.push(t.trim()), exit: (code) => exits.push(code) });
  return { i, lines, exits };
}

test('run phase: the first signal stops the run, the second exits 130 at once', () => {
  const { i, lines, exits } = interrupts();
  try {
    process.emit('SIGTERM', 'SIGTERM');
    assert.equal(i.signal.aborted, true);
    assert.equal(i.interrupted, 'SIGTERM');
    assert.deepEqual(lines, ['planrun: SIGTERM received: stopping the run and writing the report (press Ctrl-C again to quit at once)']);
    assert.deepEqual(exits, []);
    i.reporting();
    process.emit('SIGINT', 'SIGINT');
    assert.deepEqual(exits, [130]);
    assert.equal(lines.length, 1);
  } finally {
    i.dispose();
  }
});

test('report phase: the first signal lets the reports finish (run not aborted), the second exits 130', () => {
  const { i, lines, exits } = interrupts();
  try {
    i.reporting();
    process.emit('SIGINT', 'SIGINT');
    assert.equal(i.signal.aborted, false);
    assert.equal(i.interrupted, 'SIGINT');
    assert.deepEqual(lines, ['planrun: SIGINT received: finishing the reports, then exiting with 130 (press Ctrl-C again to quit at once)']);
    assert.deepEqual(exits, []);
    process.emit('SIGINT', 'SIGINT');
    assert.deepEqual(exits, [130]);
  } finally {
    i.dispose();
  }
});

test('dispose removes the handlers', () => {
  const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
  const { i } = interrupts();
  assert.deepEqual([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')], [before[0]! + 1, before[1]! + 1]);
  i.dispose();
  assert.deepEqual([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')], before);
});
