// The in-process coordinator on its own: counts per round and scope, breaks
// that fire exactly when the remaining signallers can no longer reach the
// count, timeouts, aborts and close.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BarrierTimeoutError, BrokenBarrierError, type BreakCause } from '../src/coordination/coordinator.js';
import { InMemoryCoordinator } from '../src/coordination/memory.js';

const root: BreakCause = { worker: 9, role: 'writer', round: 1, step: 'write', reason: 'expected status 201, got 500' };
const wait = (c: InMemoryCoordinator, round: number, o: { scope?: 'round' | 'previous-round' | 'run'; count: number; possible?: number; timeoutMs?: number; signal?: AbortSignal }) =>
  c.waitFor('read', round, { scope: o.scope ?? 'round', count: o.count, possible: o.possible ?? o.count, timeoutMs: o.timeoutMs ?? 5_000, ...(o.signal ? { signal: o.signal } : {}) });

test('a wait resolves on the count-th signal of its round, not on signals of other rounds', { timeout: 5_000 }, async () => {
  const c = new InMemoryCoordinator();
  let done = false;
  const w = wait(c, 2, { count: 2, possible: 3 }).then(() => (done = true));
  await c.signal('read', 1, 0);
  await c.signal('read', 1, 1);
  await c.signal('read', 2, 0);
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  await c.signal('read', 2, 2);
  await w;
  assert.equal(done, true);
});

test('previous-round waits read the round before, and pass at once in round 1; run scope counts every round', { timeout: 5_000 }, async () => {
  const c = new InMemoryCoordinator();
  await wait(c, 1, { scope: 'previous-round', count: 4 });
  await c.signal('read', 1, 0);
  await wait(c, 2, { scope: 'previous-round', count: 1 });
  await c.signal('read', 3, 1);
  await wait(c, 7, { scope: 'run', count: 2 });
});

test('with count below the signallers, the wait breaks only when too few of them are left', { timeout: 5_000 }, async () => {
  const c = new InMemoryCoordinator();
  // 2 of 4 readers must read. Readers 0 and 1 give up (inheriting the writer's failure), reader 2 signals.
  const w = wait(c, 1, { count: 2, possible: 4 });
  c.abandon('read', 1, 0, root);
  c.abandon('read', 1, 1, root);
  await c.signal('read', 1, 2);
  let settled = false;
  void w.then(() => (settled = true), () => (settled = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'reader 3 can still make it 2');
  c.abandon('read', 1, 3, root);
  await assert.rejects(w, (e: unknown) => {
    assert.ok(e instanceof BrokenBarrierError);
    assert.equal(e.message, 'barrier "read" broken in round 1: worker 9 (writer) failed at step "write" in round 1: expected status 201, got 500');
    return true;
  });
});

test('a give-up for all later rounds breaks future waits too, but not rounds already signalled', { timeout: 5_000 }, async () => {
  const c = new InMemoryCoordinator();
  await c.signal('read', 1, 0);
  c.abandon('read', 2, 0, { ...root, worker: 0, role: 'reader', round: 2 }, true);
  await wait(c, 1, { count: 1 });
  await assert.rejects(wait(c, 3, { count: 1 }), BrokenBarrierError);
});

test('meeting barriers release all parties together and break when a party gives up', { timeout: 5_000 }, async () => {
  const c = new InMemoryCoordinator();
  const order: string[] = [];
  const a = c.arrive('sync', 1, 0, 3, 5_000).then(() => order.push('a'));
  const b = c.arrive('sync', 1, 1, 3, 5_000).then(() => order.push('b'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, []);
  await c.arrive('sync', 1, 2, 3, 5_000);
  await Promise.all([a, b]);
  assert.equal(order.length, 2);
  const d = c.arrive('sync', 2, 0, 3, 5_000);
  c.abandon('sync', 2, 2, root);
  await assert.rejects(d, BrokenBarrierError);
});

test('timeouts say how many arrived; aborts and close reject parked waiters', { timeout: 5_000 }, async () => {
  const c = new InMemoryCoordinator();
  await c.signal('read', 1, 0);
  await assert.rejects(wait(c, 1, { count: 3, timeoutMs: 50 }), (e: unknown) => {
    assert.ok(e instanceof BarrierTimeoutError);
    assert.equal(e.message, 'timed out after 50ms waiting for "read" in round 1 (1 of 3 arrived)');
    return true;
  });
  const stop = new AbortController();
  const aborted = wait(c, 5, { count: 1, signal: stop.signal });
  stop.abort(new Error('interrupted'));
  await assert.rejects(aborted, /interrupted/);
  const parked = wait(c, 6, { count: 1 });
  await c.close();
  await assert.rejects(parked, /the run ended while waiting for "read"/);
});
