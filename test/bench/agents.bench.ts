// Agents bench: what sharing a run through a local Redis costs against the
// in-process coordinator and frontier.
//  - barrier release latency: a signal on one coordinator until the waiter,
//    parked on another coordinator (its own connection), resumes; p50/p99 over
//    AGENTS_BENCH_RELEASES (2,000) releases. Target p99 ≤ 5 ms.
//  - frontier throughput: a synthetic AGENTS_BENCH_URLS-page (20,000) link graph
//    through addAll/take/complete, 2 Redis frontiers × 8 workers vs one memory
//    frontier × 16, and Redis memory per visited URL (INFO memory).
//   npm run bench -- agents
import { randomUUID } from 'node:crypto';
import type { Coordinator } from '../../src/contract/coordinator.js';
import type { Frontier } from '../../src/contract/frontier.js';
import { MemoryFrontier } from '../../src/coordination/memory-frontier.js';
import { InMemoryCoordinator } from '../../src/coordination/memory.js';
import { connectRedis, type RedisConnection } from '../../src/coordination/redis/connect.js';
import { RedisCoordinator } from '../../src/coordination/redis/coordinator.js';
import { RedisFrontier } from '../../src/coordination/redis/frontier.js';
import { startRedisServer } from '../../src/coordination/redis/server.js';
import { crawlGraph } from '../helpers/frontier-helpers.js';

const RELEASES = Number(process.env.AGENTS_BENCH_RELEASES ?? 2_000);
const URLS = Number(process.env.AGENTS_BENCH_URLS ?? 20_000);
const WORKERS = 16;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function releaseLatencies(waiter: Coordinator, signaller: Coordinator): Promise<number[]> {
  const out: number[] = [];
  for (let round = 1; round <= RELEASES; round++) {
    const resumed = waiter.waitFor('go', round, { scope: 'round', count: 1, timeoutMs: 10_000 }).then(() => performance.now());
    const sent = performance.now();
    await signaller.signal('go', round, 0);
    out.push((await resumed) - sent);
  }
  return out.sort((a, b) => a - b);
}

const fmtLatency = (name: string, l: number[]) =>
  `${name.padEnd(28)} p50 ${percentile(l, 50).toFixed(3).padStart(7)} ms  p99 ${percentile(l, 99).toFixed(3).padStart(7)} ms  max ${l.at(-1)!.toFixed(3).padStart(7)} ms`;

async function throughput(agents: Frontier[], perAgent: number): Promise<number> {
  const started = performance.now();
  const { fetched } = await crawlGraph(agents, URLS, perAgent);
  if (new Set(fetched).size !== URLS || fetched.length !== URLS) throw new Error(`fetched ${fetched.length} URLs (${new Set(fetched).size} distinct) of ${URLS}`);
  return URLS / ((performance.now() - started) / 1000);
}

async function usedMemory(client: RedisConnection): Promise<number> {
  const info = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

async function main(): Promise<void> {
  const server = await startRedisServer();
  const clients: RedisConnection[] = [];
  const client = async () => {
    const c = await connectRedis(server.url);
    clients.push(c);
    return c;
  };
  try {
    console.log(`agents: local redis-server, ${RELEASES} barrier releases, ${URLS}-URL synthetic graph, ${WORKERS} workers`);
    const memory = new InMemoryCoordinator();
    const inProcess = await releaseLatencies(memory, memory);
    const runId = randomUUID();
    const [a, b] = [await RedisCoordinator.open({ client: await client(), runId }), await RedisCoordinator.open({ client: await client(), runId })];
    const overRedis = await releaseLatencies(a, b);
    await Promise.all([a.close(), b.close(), memory.close()]);
    // The floor: one bare round trip, measured the same way (a loaded machine shows in both).
    const ping = await client();
    const pings: number[] = [];
    for (let i = 0; i < RELEASES; i++) {
      const sent = performance.now();
      await ping.ping();
      pings.push(performance.now() - sent);
    }
    console.log(
      fmtLatency(
        'Redis PING round trip',
        pings.sort((x, y) => x - y),
      ),
    );
    console.log(fmtLatency('release, in-process', inProcess));
    console.log(fmtLatency('release, Redis (2 agents)', overRedis));
    if (percentile(overRedis, 99) > 5) console.log('!!! release p99 target (≤ 5 ms) missed');

    const memoryRate = await throughput([new MemoryFrontier()], WORKERS);
    const admin = await client();
    const before = await usedMemory(admin);
    const crawlId = randomUUID();
    const frontiers = [await RedisFrontier.open({ client: await client(), runId: crawlId }), await RedisFrontier.open({ client: await client(), runId: crawlId })];
    const redisRate = await throughput(frontiers, WORKERS / 2);
    const perUrl = ((await usedMemory(admin)) - before) / URLS;
    await Promise.all(frontiers.map((f) => f.close()));
    console.log(`frontier, memory             ${memoryRate.toFixed(0).padStart(8)} URLs/s`);
    console.log(
      `frontier, Redis (2 agents)   ${redisRate.toFixed(0).padStart(8)} URLs/s  (${(redisRate / memoryRate).toFixed(3)}× memory)  Redis memory ${perUrl.toFixed(0)} bytes/visited URL`,
    );
  } finally {
    for (const c of clients) c.destroy();
    await server.stop();
  }
}

await main();
