// The Redis frontier against a real redis-server: two agents crawling one
// synthetic link graph fetch every URL exactly once and both stop exactly when
// nothing is queued or in flight; a killed agent's lease expires into the other
// agent's hands; a run id re-opened later resumes its queue; keys expire.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { Frontier, FrontierEntry } from '../../src/contract/frontier.js';
import { MemoryFrontier } from '../../src/coordination/memory-frontier.js';
import { connectRedis } from '../../src/coordination/redis/connect.js';
import { RedisFrontier, type RedisFrontierOptions } from '../../src/coordination/redis/frontier.js';
import { startRedisServer } from '../../src/coordination/redis/server.js';
import { crawlGraph, entry, page } from '../helpers/frontier-helpers.js';
import { redisForFile } from '../helpers/redis-file.js';

const frontiers: RedisFrontier[] = [];
const redis = redisForFile(() => Promise.all(frontiers.map((f) => f.close())));

async function agent(runId: string, options: Partial<RedisFrontierOptions> = {}): Promise<RedisFrontier> {
  const client = await redis.connect();
  const f = await RedisFrontier.open({ client, runId, ...options });
  frontiers.push(f);
  return f;
}

/** Polls `done` (every 10 ms, up to 5 s): for what a frontier does in the background. */
async function waitFor(done: () => Promise<boolean>, message: string): Promise<void> {
  for (let i = 0; !(await done()); i++) {
    assert.ok(i < 500, message);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const N = 1_500;

for (const [name, open] of [
  [
    'memory (one frontier, two crawlers)',
    async () => {
      const f = new MemoryFrontier();
      return [f, f];
    },
  ],
  [
    'redis (two agents)',
    async () => {
      const runId = randomUUID();
      return [await agent(runId), await agent(runId)];
    },
  ],
  [
    'redis (two agents leasing 8 entries ahead)',
    async () => {
      const runId = randomUUID();
      return [await agent(runId, { prefetch: 8 }), await agent(runId, { prefetch: 8 })];
    },
  ],
] as Array<[string, () => Promise<Frontier[]>]>) {
  test(`${name}: every URL of the graph is fetched exactly once and every worker ends exactly at termination`, { timeout: 30_000 }, async () => {
    const agents = await open();
    // Now and then a worker pauses, as a fetch would, so the agents interleave.
    const { fetched, endedAfter } = await crawlGraph(agents, N, 4, () => (Math.random() < 0.2 ? new Promise((r) => setTimeout(r, 1)) : Promise.resolve()));
    assert.equal(fetched.length, N);
    assert.equal(new Set(fetched).size, N);
    assert.deepEqual(endedAfter, Array(8).fill(N), 'no worker ends before the last URL was taken');
    for (const f of agents) assert.deepEqual(f.stats(), { queued: 0, inFlight: 0, done: N, seen: N });
  });
}

test("a killed agent's in-flight URL goes to another agent when its lease expires; its late completion does not count", { timeout: 10_000 }, async () => {
  const runId = randomUUID();
  const killed = await agent(runId, { agentId: 'killed', leaseMs: 300 });
  const survivor = await agent(runId, { agentId: 'survivor', leaseMs: 300 });
  await killed.addAll([entry(page(1))]);
  const lost = await killed.take();
  assert.deepEqual(lost, entry(page(1)));
  await killed.close(); // no complete(), no more renewals: as if the process died
  const started = Date.now();
  const handedOver = await survivor.take();
  const waited = Date.now() - started;
  assert.deepEqual(handedOver, entry(page(1)));
  assert.ok(waited >= 200 && waited < 2_000, `handed over after ${waited} ms`);
  assert.deepEqual(survivor.stats(), { queued: 0, inFlight: 1, done: 0, seen: 1 });
  await killed.complete(lost!); // the zombie finishes after all: its lease is gone, so it counts nowhere
  assert.deepEqual(killed.stats(), { queued: 0, inFlight: 1, done: 0, seen: 1 }, "the survivor's lease is untouched");
  await survivor.complete(handedOver!);
  assert.equal(await survivor.take(), undefined);
  assert.deepEqual(survivor.stats(), { queued: 0, inFlight: 0, done: 1, seen: 1 });
});

test('seed documents are entries of their own kind: another agent takes them as they were added, and they count in flight', { timeout: 10_000 }, async () => {
  const runId = randomUUID();
  const reader = await agent(runId);
  const other = await agent(runId);
  const entries: FrontierEntry[] = [
    { url: 'http://a.test/robots.txt', depth: 0, checkOnly: true, seed: 'robots' },
    { url: 'http://a.test/sitemap-2.xml', depth: 2, checkOnly: true, seed: 'sitemap' },
    { url: 'http://a.test/page', depth: 3, checkOnly: false },
    { url: 'http://a.test/image.png', depth: 1, checkOnly: true },
  ];
  assert.deepEqual(await reader.addAll(entries), [true, true, true, true]);
  const robots = await reader.take();
  assert.deepEqual(robots, entries[0]);
  assert.deepEqual([await other.take(), await other.take(), await other.take()], entries.slice(1));
  for (const e of entries.slice(1)) await other.complete(e);
  // The robots.txt being read is in flight: the other agent waits for it instead of ending.
  let ended = false;
  const otherEnd = other.take().then((e) => (ended = e === undefined));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(ended, false);
  await reader.complete(robots!);
  await otherEnd;
  assert.equal(ended, true);
  assert.deepEqual(other.stats(), { queued: 0, inFlight: 0, done: 4, seen: 4 });
});

test('a live agent renews its leases: a fetch longer than the lease is not handed over', { timeout: 10_000 }, async () => {
  const runId = randomUUID();
  const slow = await agent(runId, { leaseMs: 200 });
  const other = await agent(runId, { leaseMs: 200 });
  await slow.addAll([entry(page(1))]);
  const e = await slow.take();
  let otherGot: FrontierEntry | undefined | 'pending' = 'pending';
  const otherTake = other.take().then((x) => (otherGot = x));
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(otherGot, 'pending');
  await slow.complete(e!);
  await otherTake;
  assert.equal(otherGot, undefined);
});

test('re-opening a run id resumes its frontier: seen URLs stay seen, reclaimed leases are fetched first', { timeout: 10_000 }, async () => {
  const runId = randomUUID();
  const first = await agent(runId);
  assert.deepEqual(await first.addAll([entry(page(0)), entry(page(1), 1), entry(page(2), 1)]), [true, true, true]);
  assert.deepEqual(await first.markSeen([page(9), page(0)]), [true, false]);
  assert.deepEqual(await first.take(), entry(page(0)));
  await first.close();
  const resumed = await agent(runId);
  assert.deepEqual(resumed.stats(), { queued: 2, inFlight: 1, done: 0, seen: 4 });
  await resumed.reclaimLeases();
  assert.deepEqual(await resumed.addAll([entry(page(0)), entry(page(9)), entry(page(3), 2)]), [false, false, true]);
  const order: string[] = [];
  for (let e = await resumed.take(); e; e = await resumed.take()) {
    order.push(e.url);
    await resumed.complete(e);
  }
  assert.deepEqual(order, [page(0), page(1), page(2), page(3)]);
  assert.deepEqual(resumed.stats(), { queued: 0, inFlight: 0, done: 4, seen: 5 });
});

test('entries leased by a take() that stop() answered go back to the queue at once', { timeout: 5_000 }, async () => {
  const runId = randomUUID();
  const a = await agent(runId, { leaseMs: 60_000 });
  const b = await agent(runId, { leaseMs: 60_000 });
  await a.addAll([entry(page(0))]);
  const taking = a.take();
  a.stop();
  assert.equal(await taking, undefined);
  assert.deepEqual(await b.take(), entry(page(0)));
});

test('entries leased ahead (prefetch) are in flight while held, and stop() gives them back to the queue head at once', { timeout: 10_000 }, async () => {
  const runId = randomUUID();
  const a = await agent(runId, { leaseMs: 60_000, prefetch: 4 });
  const b = await agent(runId, { leaseMs: 60_000 });
  await a.addAll(Array.from({ length: 12 }, (_, i) => entry(page(i))));
  assert.deepEqual(await a.take(), entry(page(0)));
  // The stock is topped up in the background: wait until a holds the one it handed out and 4 ahead.
  await waitFor(async () => (await b.refreshStats()).inFlight === 5, 'a never leased 4 entries ahead');
  assert.deepEqual(await b.refreshStats(), { queued: 7, inFlight: 5, done: 0, seen: 12 });
  assert.deepEqual(await a.take(), entry(page(1)), 'answered from the stock, oldest first');
  a.stop();
  // Without the release, pages 2 to 4 would stay leased for 60 s: b's takes below would time the test out.
  await waitFor(async () => (await b.refreshStats()).queued === 10, 'the stock never went back to the queue');
  assert.deepEqual(await b.refreshStats(), { queued: 10, inFlight: 2, done: 0, seen: 12 });
  const got = [];
  for (let i = 0; i < 10; i++) {
    const e = (await b.take())!;
    got.push(e.url);
    await b.complete(e);
  }
  assert.deepEqual(
    got,
    Array.from({ length: 10 }, (_, i) => page(i + 2)),
  );
  // a's completions still count after its stop; the last one ends b's crawl.
  await a.complete(entry(page(0)));
  const ending = b.take();
  await a.complete(entry(page(1)));
  assert.equal(await ending, undefined);
  assert.deepEqual(await b.refreshStats(), { queued: 0, inFlight: 0, done: 12, seen: 12 });
});

test('a shallow queue is not leased ahead: the entries two agents could share go to whichever asks', { timeout: 10_000 }, async () => {
  const runId = randomUUID();
  const a = await agent(runId, { leaseMs: 60_000, prefetch: 4 });
  const b = await agent(runId, { leaseMs: 60_000 });
  await a.addAll([0, 1, 2, 3].map((i) => entry(page(i))));
  assert.deepEqual(await a.take(), entry(page(0)));
  // Asked for 4 ahead, a takes only from what the queue holds beyond as many again: 1 of the 3 left, then none of 2.
  await waitFor(async () => (await b.refreshStats()).inFlight === 2, 'a never leased 1 entry ahead');
  assert.deepEqual(await b.take(), entry(page(2)));
  assert.deepEqual(await b.take(), entry(page(3)));
  assert.deepEqual(await a.take(), entry(page(1)), 'from its stock');
  assert.deepEqual(await b.refreshStats(), { queued: 0, inFlight: 4, done: 0, seen: 4 });
  a.stop();
  b.stop();
});

test('addAll and markSeen calls sharing one ADD: a URL given twice is new once, and each new entry is queued once, in order', { timeout: 10_000 }, async () => {
  const a = await agent(randomUUID());
  const first = a.addAll([entry(page(0))]); // sent at once; the next two share the call after it
  const second = a.addAll([entry(page(1)), entry(page(2))]);
  const third = a.markSeen([page(2), page(3)]);
  assert.deepEqual(await first, [true]);
  assert.deepEqual(await second, [true, true]);
  assert.deepEqual(await third, [false, true]);
  // page 3 was only marked seen: not new, and never queued.
  assert.deepEqual(await a.addAll([entry(page(3)), entry(page(4)), entry(page(4))]), [false, true, false]);
  const taken: string[] = [];
  for (let i = 0; i < 4; i++) taken.push((await a.take())!.url);
  assert.deepEqual(taken, [page(0), page(1), page(2), page(4)]);
  assert.deepEqual(a.stats(), { queued: 0, inFlight: 4, done: 0, seen: 5 });
  for (const e of taken) await a.complete(entry(e));
  assert.equal(await a.take(), undefined);
  assert.deepEqual(a.stats(), { queued: 0, inFlight: 0, done: 4, seen: 5 });
});

test("stop() ends only this agent's takes; the frontier's keys are namespaced by run id and expire", { timeout: 10_000 }, async () => {
  const runId = randomUUID();
  const a = await agent(runId, { ttlMs: 60_000 });
  const b = await agent(runId, { ttlMs: 60_000 });
  await a.addAll([entry(page(0)), entry(page(1))]);
  const held = await a.take();
  const parked = a.take();
  const x = await parked; // page 1 was still queued
  assert.deepEqual(x, entry(page(1)));
  const waiting = a.take();
  a.stop();
  assert.equal(await waiting, undefined);
  assert.equal(await a.take(), undefined);
  await a.complete(held!);
  await a.complete(x!);
  assert.equal(await b.take(), undefined);
  const client = redis.connections.at(-1)!;
  for (const key of ['seen', 'done']) {
    const ttl = await client.pTTL(`planrun:{${runId}}:frontier:${key}`);
    assert.ok(ttl > 50_000 && ttl <= 60_000, `${key}: ttl ${ttl}`);
  }
});

test('a lost subscription is re-established and wakes the parked takers; a Redis that is gone for good fails them', { timeout: 15_000 }, async () => {
  const own = await startRedisServer();
  const client = await connectRedis(own.url, { reconnectAttempts: 2 });
  const [a, b] = [await RedisFrontier.open({ client, runId: 'r' }), await RedisFrontier.open({ client: await connectRedis(own.url), runId: 'r' })];
  try {
    await a.addAll([entry(page(0))]);
    const held = await a.take();
    const parked = b.take();
    const admin = await connectRedis(own.url);
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    admin.destroy();
    await new Promise((r) => setTimeout(r, 100));
    await a.addAll([entry(page(1))]);
    assert.deepEqual(await parked, entry(page(1)));
    // Writes paused: the take's script is still unanswered when the server goes, so its own failure reaches the taker.
    const pauser = await connectRedis(own.url);
    await pauser.sendCommand(['CLIENT', 'PAUSE', '10000', 'WRITE']);
    pauser.destroy();
    const waiting = assert.rejects(a.take(), /^Error: Redis frontier failed: /);
    const started = Date.now();
    await own.stop();
    await waiting;
    assert.ok(Date.now() - started < 5_000);
    void held;
  } finally {
    await Promise.all([a.close(), b.close()]);
    client.destroy();
  }
});
