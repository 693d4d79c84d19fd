// The round floor against a plain model: for any order in which workers move
// up their rounds and leave, the floor is the lowest round a worker is in
// (Infinity once none is left), and it is told every time it rises, never twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RoundFloor } from '../../src/runtime/round-floor.js';

test('the floor is the lowest round any worker is in, told once per rise, Infinity once all left', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 80 }), (workers, moves) => {
      const rounds = new Map<number, number>();
      for (let id = 0; id < workers; id++) rounds.set(id, 1);
      const told: number[] = [];
      const floor = new RoundFloor(rounds.keys(), (f) => told.push(f));
      const lowest = () => (rounds.size === 0 ? Infinity : Math.min(...rounds.values()));
      const expected = [1];
      for (const [pick, leave] of moves) {
        const ids = [...rounds.keys()];
        if (ids.length === 0) break;
        const id = ids[pick % ids.length]!;
        if (leave) {
          rounds.delete(id);
          floor.leave(id);
        } else {
          rounds.set(id, rounds.get(id)! + 1);
          floor.enter(id, rounds.get(id)!);
        }
        if (lowest() !== expected.at(-1)) expected.push(lowest());
        assert.equal(floor.floor, lowest());
      }
      assert.deepEqual(told, expected.slice(1));
    }),
  );
});

test('no workers: the floor is Infinity at once; a worker going back or unknown is refused', () => {
  const told: number[] = [];
  assert.equal(new RoundFloor([], (f) => told.push(f)).floor, Infinity);
  assert.deepEqual(told, [Infinity]);
  const floor = new RoundFloor([3], () => {});
  floor.enter(3, 2);
  assert.throws(() => floor.enter(3, 1), { message: 'worker 3 went back from round 2 to 1' });
  assert.throws(() => floor.enter(4, 1), { message: 'worker 4 is not one this floor follows, or it left already' });
  floor.leave(3);
  assert.equal(floor.floor, Infinity);
  assert.throws(() => floor.enter(3, 3), /worker 3 is not one this floor follows/);
});
