// Agents crawl bench: the generated site (AGENTS_CRAWL_PAGES pages, 100,000)
// crawled by `planrun run` as a user runs it: in one process, then with
// --redis and 1 and 2 `planrun agent` processes (a redis-server started here).
// Prints pages/s over the crawl phase (the report's crawl.durationMs: start-up
// and the report's assembly are left out) and the whole `planrun run` (start
// to exit) beside it. One process and --agents 1 run in AGENTS_CRAWL_PAIRS (5)
// back-to-back pairs, in turn first and second: this machine's speed drifts by
// half within minutes, so each pair's ratio compares runs a few seconds apart,
// and the median of the pairs is the figure (target with 1 agent: ≥ 0.7×). Five
// pairs, not three: single pairs at 100,000 pages spread from 0.53 to 1.03 in one
// afternoon, and the median of three moved 0.62–0.78 from one run to the next.
// --agents 2 runs once, against the median one-process rate. It
// checks every run finds exactly the site's ground truth, and gives
// the Redis memory per visited URL (INFO memory after the run, frontier and
// stored visits, against an empty server) and the CPU per URL of the agent
// processes (/proc, Linux) and of redis-server (INFO cpu), with the Redis
// commands per URL (INFO commandstats: calls and µs per URL of each).
// AGENTS_CRAWL_NAV (0) gives every page that many menu links (to /page/0 …), as
// real sites' pages have: links that all point to a few URLs.
// redis-server runs at the niceness planrun gives its private server during a
// crawl (CRAWL_REDIS_NICE); AGENTS_CRAWL_REDIS_NICE=0 measures it without.
//   npm run bench -- agents-crawl     (AGENTS_CRAWL_PAGES, AGENTS_CRAWL_CONCURRENCY, AGENTS_CRAWL_PAIRS, AGENTS_CRAWL_NAV, AGENTS_CRAWL_REDIS_NICE override)
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRAWL_REDIS_NICE } from '../../src/agents/controller.js';
import type { RedisConnection } from '../../src/coordination/redis/connect.js';
import { connectRedis } from '../../src/coordination/redis/connect.js';
import { startRedisServer } from '../../src/coordination/redis/server.js';
import type { RunReport } from '../../src/contract/report.js';
import { startSite } from '../fixtures/site/site.js';
import { brokenOf, normalizeTruth } from '../helpers/crawl-helpers.js';
import { killProcesses, planrun } from '../helpers/planrun-process.js';
import { type AgentsRun, describeRatios, pairOrder, pairRatios, printAgentsRatios } from './pairs.js';

const PAGES = Number(process.env.AGENTS_CRAWL_PAGES ?? 100_000);
const CONCURRENCY = Number(process.env.AGENTS_CRAWL_CONCURRENCY ?? 16);
const PAIRS = Number(process.env.AGENTS_CRAWL_PAIRS ?? 5);
const NAV = Number(process.env.AGENTS_CRAWL_NAV ?? 0);
const REDIS_NICE = Number(process.env.AGENTS_CRAWL_REDIS_NICE ?? CRAWL_REDIS_NICE);

/** CPU seconds (user + system) a process used so far, from /proc; 0 where there is none. */
function procCpu(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of this process's children that ended (and were waited for) so far: cutime + cstime. */
function childrenCpu(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Write system calls a process made so far (sockets included), from /proc; 0 where there is none. */
function procWrites(pid: number | undefined): number {
  try {
    return Number(/syscw: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
  } catch {
    return 0;
  }
}

/** Bytes redis-server received and sent so far (INFO stats). */
async function redisNet(admin: RedisConnection): Promise<[number, number]> {
  const info = await admin.info('stats');
  return [Number(/total_net_input_bytes:(\d+)/.exec(info)![1]), Number(/total_net_output_bytes:(\d+)/.exec(info)![1])];
}

async function redisCpu(admin: RedisConnection): Promise<number> {
  const info = await admin.info('cpu');
  return Number(/used_cpu_user:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]);
}

interface Run extends AgentsRun {
  wholeS: number;
}

/** The pairs' ratios over the crawl phase and, beside them, over the whole command (its time: one process's over the agent's). */
function summarize(runs: Run[]): void {
  const whole = pairRatios(
    runs.filter((r) => r.agents < 2),
    (r) => r.agents === 0,
    (r) => 1 / r.wholeS,
  );
  printAgentsRatios(runs, 0.7, 'crawl ', `; whole planrun run ${describeRatios(whole)}`);
}

async function main(): Promise<void> {
  const [site, redis] = await Promise.all([startSite({ pages: PAGES, nav: NAV, log: false }), startRedisServer()]);
  redis.renice(REDIS_NICE);
  const admin = await connectRedis(redis.url);
  const dir = mkdtempSync(join(tmpdir(), 'planrun-agents-crawl-bench-'));
  try {
    const plan = join(dir, 'plan.yml');
    writeFileSync(
      plan,
      `name: agents crawl bench\ntarget: ${site.origin}\ncrawl:\n  start: [/]\n  concurrency: ${CONCURRENCY}\n  retries: 0\n  timeout: 30s\n  normalize: { stripParams: [utm_source] }\n`,
    );
    const truth = normalizeTruth(site.truth());
    console.log(
      `agents crawl: generated site of ${PAGES} pages${NAV ? ` with ${NAV} menu links each` : ''}, concurrency ${CONCURRENCY} per process, redis-server at nice ${REDIS_NICE}, planrun from dist/ (npm run build)`,
    );
    // Pairs of one process and one agent, in turn first and second, then two agents.
    const order = [...pairOrder(PAIRS, 0, 1), 2];
    const runs: Run[] = [];
    for (const agents of order) {
      await admin.flushAll();
      await admin.configResetStat();
      const redisCpuBefore = await redisCpu(admin);
      const netBefore = await redisNet(admin);
      const usedBefore = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
      const ids = Array.from({ length: agents }, (_, i) => `bench-${agents}-${i}`);
      const procs = ids.map((id) => planrun(['agent', '--redis', redis.url, '--id', id]));
      await Promise.all(procs.map((p) => p.until(/waiting for runs/)));
      const out = join(dir, `out-${agents}`);
      const childrenBefore = childrenCpu();
      const startedAt = performance.now();
      const run = planrun(['run', plan, '--out', out, '--reporter', 'json', ...(agents ? ['--redis', redis.url, '--agents', String(agents)] : [])]);
      const code = await run.exit;
      const wholeS = (performance.now() - startedAt) / 1000;
      if (code !== 1) throw new Error(`planrun exited with ${code} (1 expected: the site has broken links): ${run.stderr()}`);
      const crawl = (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport).crawl!;
      assert.deepEqual(brokenOf(crawl), truth, `${agents} agents: not the ground truth`);
      const urls = crawl.crawled + crawl.checked;
      // The `planrun run` process from start to exit: the whole crawl in one process, the controller with agents.
      const runUs = ((childrenCpu() - childrenBefore) / urls) * 1e6;
      const rate = urls / (crawl.durationMs / 1000);
      runs.push({ agents, rate, wholeS });
      const perUrl = agents ? ` Redis ${((Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]) - usedBefore) / urls).toFixed(0)} bytes/visited URL` : '';
      const name = agents ? `--agents ${agents}` : 'one process';
      console.log(
        `${name.padEnd(12)} ${urls} URLs in ${(crawl.durationMs / 1000).toFixed(1)} s  ${rate.toFixed(0).padStart(6)} URLs/s; whole planrun run ${wholeS.toFixed(1)} s; ground truth: same, planrun run ${runUs.toFixed(0)} µs CPU/URL${perUrl}`,
      );
      if (agents) {
        // The agents' CPU over their whole life (start-up included: a few hundred ms, under 30 µs/URL at 10,000 URLs).
        const agentUs = (procs.reduce((sum, p) => sum + procCpu(p.child.pid), 0) / urls) * 1e6;
        const writes = procs.reduce((sum, p) => sum + procWrites(p.child.pid), 0) / urls;
        const redisUs = (((await redisCpu(admin)) - redisCpuBefore) / urls) * 1e6;
        const net = await redisNet(admin);
        const bytes = `${((net[0] - netBefore[0]) / urls).toFixed(0)} bytes to Redis, ${((net[1] - netBefore[1]) / urls).toFixed(0)} back`;
        const stats = [...(await admin.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g)]
          .filter(([, name, calls]) => Number(calls) / urls >= 0.01 && !['info', 'config'].includes(name!))
          .map(([, name, calls, usec]) => `${name} ${(Number(calls) / urls).toFixed(2)} calls ${(Number(usec) / urls).toFixed(1)} µs`);
        console.log(
          `             CPU per URL: agents ${agentUs.toFixed(0)} µs (${writes.toFixed(2)} write calls, ${bytes}), redis-server ${redisUs.toFixed(0)} µs; per URL: ${stats.join(', ')}`,
        );
      }
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exit));
    }
    summarize(runs);
  } finally {
    killProcesses();
    admin.destroy();
    await Promise.all([site.close(), redis.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
