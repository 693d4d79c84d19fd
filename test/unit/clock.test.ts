// The origin of step times: EPOCH_ORIGIN + performance.now() is the wall clock
// of this machine, measured at a tick of Date.now().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EPOCH_ORIGIN } from '../../src/runtime/clock.js';

test('a step time read just after Date.now() ticks is that tick, to within a millisecond', () => {
  for (let k = 0; k < 3; k++) {
    const before = Date.now();
    let tick = before;
    while (tick === before) tick = Date.now();
    const stepTime = EPOCH_ORIGIN + performance.now();
    assert.ok(stepTime >= tick - 1 && stepTime < tick + 1, `step time ${stepTime} against the tick ${tick}`);
  }
});
