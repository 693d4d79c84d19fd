// A sleep step lasts at least its duration by performance.now(), the clock
// step durations are measured with. Node's timers alone fire early now and then
// (libuv counts whole milliseconds): after a timer callback and a little over a
// millisecond of work, a plain 5 ms timer came back in under 5 ms in about one
// try in six when this test was written.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sleepAtLeast } from '../../src/runtime/steps.js';

it('a sleep never ends before its duration', async () => {
  const short: number[] = [];
  for (let k = 0; k < 60; k++) {
    await sleep(1);
    const busy = performance.now();
    while (performance.now() - busy < 1.5);
    const began = performance.now();
    await sleepAtLeast(5);
    const took = performance.now() - began;
    if (took < 5) short.push(took);
  }
  assert.deepEqual(short, []);
});

it('an aborted sleep rejects with the abort', async () => {
  const controller = new AbortController();
  const sleeping = sleepAtLeast(10_000, controller.signal);
  controller.abort(new Error('stop'));
  await assert.rejects(sleeping, { name: 'AbortError' });
});
