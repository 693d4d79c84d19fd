// The in-flight registry the HTTP and crawl engines abort requests through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InFlight } from '../../src/engines/transport/in-flight.js';

test('InFlight: items come and go, slots are reused, a stale delete removes nothing', () => {
  const f = new InFlight<string>();
  const a = f.add('a');
  const b = f.add('b');
  assert.deepEqual(f.items(), ['a', 'b']);
  f.delete(a, 'a');
  assert.deepEqual(f.items(), ['b']);
  const c = f.add('c');
  assert.equal(c, a, 'the freed slot is reused');
  f.delete(a, 'a'); // 'a' already left: its old slot now holds 'c'
  assert.deepEqual(f.items(), ['c', 'b']);
  f.delete(b, 'b');
  f.delete(b, 'b');
  assert.equal(f.add('d'), b);
  assert.equal(f.add('e'), 2, 'the free list held slot b once only');
});

test('InFlight: items() is a copy, so aborting while iterating reaches every item', () => {
  const f = new InFlight<{ slot: number; name: string }>();
  for (const name of ['x', 'y', 'z']) {
    const item = { slot: -1, name };
    item.slot = f.add(item);
  }
  const aborted: string[] = [];
  for (const item of f.items()) {
    f.delete(item.slot, item);
    aborted.push(item.name);
  }
  assert.deepEqual(aborted, ['x', 'y', 'z']);
  assert.deepEqual(f.items(), []);
});
