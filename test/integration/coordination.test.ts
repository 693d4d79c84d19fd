// The coordinator conformance suite, run against the in-process coordinator and
// against the Redis one: counts per round and scope, breaks that fire exactly
// when the remaining signallers can no longer reach the count, timeouts, aborts
// and close. Each test gets two handles on one run: the same object in memory,
// two RedisCoordinators on two connections for Redis (as two agents), so every
// wait on `a` is released, broken or counted by what happens on `b`.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { BarrierTimeoutError, BrokenBarrierError, type BreakCause, type Coordinator } from '../../src/contract/coordinator.js';
import { InMemoryCoordinator } from '../../src/coordination/memory.js';
import { connectRedis } from '../../src/coordination/redis/connect.js';
import { RedisCoordinator } from '../../src/coordination/redis/coordinator.js';
import { startRedisServer } from '../../src/coordination/redis/server.js';
import { redisForFile } from '../helpers/redis-file.js';

const root: BreakCause = { worker: 9, role: 'writer', round: 1, step: 'write', reason: 'expected status 201, got 500' };
const wait = (c: Coordinator, round: number, o: { scope?: 'round' | 'previous-round' | 'run'; count: number; possible?: number; timeoutMs?: number; signal?: AbortSignal }) =>
  c.waitFor('read', round, {
    scope: o.scope ?? 'round',
    count: o.count,
    possible: o.possible ?? o.count,
    timeoutMs: o.timeoutMs ?? 5_000,
    ...(o.signal ? { signal: o.signal } : {}),
  });
const settledSoon = async (p: Promise<unknown>) => {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  // Long enough for a Redis round trip to come back, had the wait been (wrongly) released.
  await new Promise((r) => setTimeout(r, 30));
  return settled;
};

const coordinators: Coordinator[] = [];
const redis = redisForFile(() => Promise.all(coordinators.map((c) => c.close())));

async function redisAgent(runId: string, ttlMs?: number, agent?: string): Promise<RedisCoordinator> {
  const client = await redis.connect();
  const c = await RedisCoordinator.open({ client, runId, ...(ttlMs ? { ttlMs } : {}), ...(agent ? { agent, tellEveryMs: 20 } : {}) });
  coordinators.push(c);
  return c;
}

const implementations: Array<{ name: string; pair(): Promise<[Coordinator, Coordinator]> }> = [
  {
    name: 'in-memory',
    async pair() {
      const c = new InMemoryCoordinator();
      return [c, c];
    },
  },
  {
    name: 'redis, two agents',
    async pair() {
      const runId = randomUUID();
      return [await redisAgent(runId), await redisAgent(runId)];
    },
  },
];

for (const impl of implementations) {
  describe(impl.name, () => {
    test('a wait resolves on the count-th signal of its round, not on signals of other rounds', { timeout: 5_000 }, async () => {
      const [a, b] = await impl.pair();
      let done = false;
      const w = wait(a, 2, { count: 2, possible: 3 }).then(() => (done = true));
      await b.signal('read', 1, 0);
      await b.signal('read', 1, 1);
      await b.signal('read', 2, 0);
      assert.equal(await settledSoon(w), false);
      assert.equal(done, false);
      await b.signal('read', 2, 2);
      await w;
      assert.equal(done, true);
    });

    test('previous-round waits read the round before, and pass at once in round 1; run scope counts every round', { timeout: 5_000 }, async () => {
      const [a, b] = await impl.pair();
      await wait(a, 1, { scope: 'previous-round', count: 4 });
      await b.signal('read', 1, 0);
      await wait(a, 2, { scope: 'previous-round', count: 1 });
      await b.signal('read', 3, 1);
      await wait(a, 7, { scope: 'run', count: 2 });
    });

    test('with count below the signallers, the wait breaks only when too few of them are left', { timeout: 5_000 }, async () => {
      const [a, b] = await impl.pair();
      // 2 of 4 readers must read. Readers 0 and 1 give up (inheriting the writer's failure), reader 2 signals.
      const w = wait(a, 1, { count: 2, possible: 4 });
      b.abandon('read', 1, 0, root);
      b.abandon('read', 1, 1, root);
      await b.signal('read', 1, 2);
      assert.equal(await settledSoon(w), false, 'reader 3 can still make it 2');
      b.abandon('read', 1, 3, root);
      await assert.rejects(w, (e: unknown) => {
        assert.ok(e instanceof BrokenBarrierError);
        assert.equal(e.message, 'barrier "read" broken in round 1: worker 9 (writer) failed at step "write" in round 1: expected status 201, got 500');
        assert.deepEqual(e.breakCause, root);
        return true;
      });
    });

    test('a give-up for all later rounds breaks future waits too, but not rounds already signalled', { timeout: 5_000 }, async () => {
      const [a, b] = await impl.pair();
      await b.signal('read', 1, 0);
      b.abandon('read', 2, 0, { ...root, worker: 0, role: 'reader', round: 2 }, true);
      await wait(a, 1, { count: 1 });
      await assert.rejects(wait(a, 3, { count: 1 }), (e: unknown) => {
        assert.ok(e instanceof BrokenBarrierError);
        assert.equal(e.message, 'barrier "read" broken in round 3: worker 0 (reader) failed at step "write" in round 2: expected status 201, got 500');
        return true;
      });
    });

    test('meeting barriers release all parties together and break when a party gives up', { timeout: 5_000 }, async () => {
      const [a, b] = await impl.pair();
      const order: string[] = [];
      const first = a.arrive('sync', 1, 0, 3, 5_000).then(() => order.push('a'));
      const second = b.arrive('sync', 1, 1, 3, 5_000).then(() => order.push('b'));
      assert.equal(await settledSoon(Promise.all([first, second])), false);
      assert.deepEqual(order, []);
      await a.arrive('sync', 1, 2, 3, 5_000);
      await Promise.all([first, second]);
      assert.deepEqual(order.sort(), ['a', 'b']);
      const d = a.arrive('sync', 2, 0, 3, 5_000);
      b.abandon('sync', 2, 2, root);
      await assert.rejects(d, (e: unknown) => e instanceof BrokenBarrierError && e.breakCause.worker === 9);
    });

    test('timeouts say how many arrived; aborts and close reject parked waiters', { timeout: 5_000 }, async () => {
      const [a, b] = await impl.pair();
      await b.signal('read', 1, 0);
      // One signal before the wait, one while it waits (which cannot release it, so does not evaluate it).
      const timedOut = wait(a, 1, { count: 3, timeoutMs: 300 });
      await b.signal('read', 1, 1);
      await assert.rejects(timedOut, (e: unknown) => {
        assert.ok(e instanceof BarrierTimeoutError);
        assert.equal(e.message, 'timed out after 300ms waiting for "read" in round 1 (2 of 3 arrived)');
        return true;
      });
      const meeting = a.arrive('sync', 1, 0, 3, 300);
      const other = b.arrive('sync', 1, 1, 3, 300);
      for (const m of [meeting, other]) await assert.rejects(m, { message: 'timed out after 300ms waiting for "sync" in round 1 (2 of 3 arrived)' });
      const stop = new AbortController();
      const aborted = wait(a, 5, { count: 1, signal: stop.signal });
      stop.abort(new Error('interrupted'));
      await assert.rejects(aborted, /interrupted/);
      const parked = wait(a, 6, { count: 1 });
      await a.close();
      await assert.rejects(parked, /the run ended while waiting for "read"/);
    });

    test('forgotten rounds: a wait naming one is refused; later rounds and run totals still count; their counts are not kept', { timeout: 5_000 }, async () => {
      const [a, b] = await impl.pair();
      await b.signal('read', 1, 0);
      a.forgetRoundsBefore(3);
      await b.signal('read', 2, 0);
      await b.signal('read', 3, 0);
      await b.signal('read', 3, 1);
      await assert.rejects(wait(a, 2, { count: 1 }), { message: 'round 2 of "read" was forgotten already (every worker was past it)' });
      await assert.rejects(wait(a, 3, { scope: 'previous-round', count: 1 }), /^Error: round 2 of "read" was forgotten/);
      await wait(a, 3, { count: 2 });
      await wait(a, 4, { scope: 'previous-round', count: 2 });
      await wait(a, 9, { scope: 'run', count: 4 });
      // Raising the floor again drops what it passed; lowering it is a no-op.
      await b.arrive('sync', 3, 0, 1, 5_000);
      if (a instanceof RedisCoordinator) await a.sync();
      a.forgetRoundsBefore(2);
      assert.equal((a as InMemoryCoordinator | RedisCoordinator).heldRounds(), 2, 'round 3 of "read" and of "sync"');
      a.forgetRoundsBefore(4);
      assert.equal((a as InMemoryCoordinator | RedisCoordinator).heldRounds(), 0);
    });

    test('shared values: the writer reads its own write at once, the other agent as soon as it arrives', { timeout: 5_000 }, async () => {
      const [a, b] = await impl.pair();
      const before = a.sharedSnapshot();
      await b.setShared('token', { id: 7, name: 'x' });
      assert.deepEqual(b.sharedSnapshot(), { token: { id: 7, name: 'x' } });
      // The snapshot is cached until the next change: a new object once the value arrived.
      await b.signal('seen', 1, 0);
      await a.waitFor('seen', 1, { scope: 'round', count: 1, timeoutMs: 5_000 });
      assert.notEqual(a.sharedSnapshot(), before);
      assert.deepEqual(a.sharedSnapshot(), { token: { id: 7, name: 'x' } });
      assert.equal(a.sharedSnapshot(), a.sharedSnapshot());
    });
  });
}

describe('redis only', () => {
  test('an agent that joins (or resumes) a run later replays its counts, give-ups and shared values', { timeout: 5_000 }, async () => {
    const runId = randomUUID();
    const first = await redisAgent(runId);
    await first.signal('read', 1, 0);
    await first.setShared('user', 'ann');
    first.abandon('read', 2, 1, root, true);
    await first.close();
    const late = await redisAgent(runId);
    assert.deepEqual(late.sharedSnapshot(), { user: 'ann' });
    await wait(late, 1, { count: 1 });
    await assert.rejects(wait(late, 2, { count: 1 }), (e: unknown) => e instanceof BrokenBarrierError && e.breakCause.step === 'write');
  });

  test('sync() applies every entry other agents appended before it, even when its own write awaits the same entry', { timeout: 5_000 }, async () => {
    const runId = randomUUID();
    const [a, b] = [await redisAgent(runId), await redisAgent(runId)];
    for (let i = 1; i <= 200; i++) await a.setShared('n', i);
    // An own write in flight and a sync on the same last entry both come back.
    await Promise.all([b.sync(), b.setShared('mine', true), b.sync()]);
    assert.deepEqual(b.sharedSnapshot(), { n: 200, mine: true });
    await b.sync();
  });

  test('the log is trimmed up to what every agent applied, not while one has not told; shared values outlive it', { timeout: 10_000 }, async () => {
    const runId = randomUUID();
    const log = `planrun:{${runId}}:log`;
    const admin = redis.connections.at(-1)!;
    const controller = await redisAgent(runId, 60_000);
    await controller.setShared('token', 'from setup');
    const a = await redisAgent(runId, 60_000, 'a');
    await a.setShared('token', 'from a');
    await a.signal('read', 1, 0);
    await controller.sync();
    // b was dealt workers but has not opened the log yet: it may replay it from the start.
    assert.equal(await controller.trimApplied(['a', 'b']), 0);
    const b = await redisAgent(runId, 60_000, 'b');
    await b.signal('read', 1, 1);
    await Promise.all([controller.sync(), a.sync()]);
    // The agents tell every 20 ms: trimmed in one go or a few, never past what one of them applied.
    let trimmed = 0;
    for (const until = Date.now() + 5_000; trimmed < 3 && Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
      trimmed += await controller.trimApplied(['a', 'b']);
    }
    // Four entries, the last one kept.
    assert.equal(trimmed, 3);
    assert.equal(await admin.xLen(log), 1);
    const late = await redisAgent(runId);
    assert.deepEqual(late.sharedSnapshot(), { token: 'from a' });
    await a.signal('read', 2, 0);
    await wait(late, 2, { count: 1 });
    for (const key of ['shared', 'log-applied']) {
      const ttl = await admin.pTTL(`planrun:{${runId}}:${key}`);
      assert.ok(ttl > 50_000 && ttl <= 60_000, `${key} ttl ${ttl}`);
    }
  });

  test('the run log is namespaced by run id and expires', { timeout: 5_000 }, async () => {
    const runId = randomUUID();
    const c = await redisAgent(runId, 60_000);
    await c.signal('read', 1, 0);
    const ttl = await redis.connections.at(-1)!.pTTL(`planrun:{${runId}}:log`);
    assert.ok(ttl > 50_000 && ttl <= 60_000, `ttl ${ttl}`);
  });

  test('dropped connections are re-established: a wait parked across the drop is still released', { timeout: 10_000 }, async () => {
    const runId = randomUUID();
    const [a, b] = [await redisAgent(runId), await redisAgent(runId)];
    const parked = wait(a, 1, { count: 2 });
    await b.signal('read', 1, 0);
    const admin = await connectRedis(redis.url);
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
    admin.destroy();
    await b.signal('read', 1, 1);
    await parked;
  });

  test('a parked wait fails soon, naming Redis, when Redis goes away', { timeout: 10_000 }, async () => {
    const own = await startRedisServer();
    const client = await connectRedis(own.url, { reconnectAttempts: 2 });
    const c = await RedisCoordinator.open({ client, runId: 'lost' });
    const started = Date.now();
    const parked = assert.rejects(wait(c, 1, { count: 1, timeoutMs: 8_000 }), /^Error: Redis coordinator failed: .* while waiting for "read"$/);
    await own.stop();
    await parked;
    assert.ok(Date.now() - started < 5_000, `${Date.now() - started} ms`);
    await c.close();
    client.destroy();
  });
});
