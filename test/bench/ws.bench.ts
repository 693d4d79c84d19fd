// WebSocket bench, against the fixture server (test/fixtures/ws/server.mjs) in
// its own process; each client runs in its own child process, compiled to
// plain JS (see child-bundle.ts).
//  1. Memory per connection: WS_BENCH_CONNECTIONS workers each holding one
//     open /echo connection (they meet at a barrier, so all are open at once),
//     RSS and heap after a GC minus before the run, per connection; beside it
//     the same number of raw undici WebSockets.
//  2. Messages per second: WS_BENCH_WORKERS workers each sending
//     WS_BENCH_MESSAGES messages in a send/expect echo loop (a planrun plan:
//     connect, meet at a barrier, then a `loop` of send + expect) against the
//     same number of raw undici WebSocket loops doing send → await the echo,
//     both timed from the first send to the last echo with every connection
//     open before the first send. WS_BENCH_TRIALS (5) pairs of trials, the
//     two clients back to back, in turn first and second: the median of the
//     pairs' ratios planrun/undici is the figure to keep ≥ 0.8 (this machine's
//     speed drifts by half within minutes: runs seconds apart compare, the
//     best of each client need not); the best of each is printed beside it.
//     CPU per message is printed too: on a shared machine it moves less than messages/s.
//     So is the time the client's main thread spent waiting in the event loop
//     (event-loop utilization's idle time) per message: near 0 when the client
//     is the bottleneck, larger when it waits for the server (a CPU profile's
//     "(idle)" is no measure of it: it also counts libuv's socket reads).
//     Both are also printed for the second half of the messages alone: the
//     first half carries the JIT compiling the hot paths (on background
//     threads, counted in the process's CPU), more code in planrun than in the
//     raw loop, which a longer run spreads over more messages.
//   npm run bench -- ws
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'undici';
import { startWsServer } from '../helpers/run-helpers.js';
import { buildChildBundle } from './child-bundle.js';
import { median } from './pairs.js';

const CONNECTIONS = Number(process.env.WS_BENCH_CONNECTIONS ?? 1000);
const WORKERS = Number(process.env.WS_BENCH_WORKERS ?? 50);
const MESSAGES = Number(process.env.WS_BENCH_MESSAGES ?? 1000);
const TRIALS = Number(process.env.WS_BENCH_TRIALS ?? 5);
const SELF = fileURLToPath(import.meta.url);

interface Memory {
  client: string;
  connections: number;
  rssPerConnKb: number;
  heapPerConnKb: number;
}

interface Throughput {
  client: string;
  messages: number;
  failed: number;
  wallMs: number;
  cpuUs: number;
  /** Event-loop idle time of the client's main thread over the run (µs). */
  idleUs: number;
  /** Time and CPU from the first send to the half of the messages: the second half is what is left. */
  halfWallMs: number;
  halfCpuUs: number;
}

const cpuUs = (u: NodeJS.CpuUsage) => u.user + u.system;

type EventLoopUtilization = ReturnType<typeof performance.eventLoopUtilization>;
/** How long the main thread waited in the event loop since `from` (µs). */
const idleUs = (from: EventLoopUtilization) => performance.eventLoopUtilization(from).idle * 1000;

const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** RSS and heap after a full GC, in bytes. */
function settled(): { rss: number; heap: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

function perConnection(client: string, before: { rss: number; heap: number }, during: { rss: number; heap: number }): Memory {
  return { client, connections: CONNECTIONS, rssPerConnKb: (during.rss - before.rss) / CONNECTIONS / 1024, heapPerConnKb: (during.heap - before.heap) / CONNECTIONS / 1024 };
}

/** Writes a plan to a temporary folder and runs it through loadPlan + runPlan, as `planrun run` does. */
async function runPlanText(yaml: string, onEvent: (e: import('../../src/contract/events.js').RunEvent) => void): Promise<string> {
  const { loadPlan } = await import('../../src/plan/load.js');
  const { runPlan } = await import('../../src/runtime/run.js');
  const dir = mkdtempSync(join(tmpdir(), 'planrun-ws-bench-'));
  try {
    writeFileSync(join(dir, 'bench.yml'), yaml);
    const result = await runPlan(await loadPlan(join(dir, 'bench.yml')), { reportDir: dir, emit: onEvent });
    return result.outcome === 'passed' ? 'passed' : `${result.outcome}: ${result.reason}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- children

async function memoryPlanrun(origin: string): Promise<Memory> {
  await import('../../src/runtime/run.js');
  await import('undici');
  const before = settled();
  let during: { rss: number; heap: number } | undefined;
  const outcome = await runPlanText(
    `name: ws memory\ntarget: ${origin}\nworkers: ${CONNECTIONS}\nwaitTimeout: 60s\nbarriers:\n  open: { parties: all }\n  measured: { parties: all }\nscenario:\n  - ws: { connect: /echo }\n  - barrier: open\n  - name: hold\n    sleep: 10ms\n  - barrier: measured\n`,
    (e) => {
      // Every connection is open once the first worker has passed `open`: measure there, once.
      if (e.type === 'step:end' && e.result.name === 'hold' && !during) during = settled();
    },
  );
  if (outcome !== 'passed' || !during) throw new Error(`memory run ${outcome}`);
  return perConnection('planrun', before, during);
}

async function memoryRaw(origin: string): Promise<Memory> {
  const url = `${origin.replace('http:', 'ws:')}/echo`;
  const before = settled();
  const sockets = await Promise.all(
    Array.from({ length: CONNECTIONS }, () => {
      const ws = new WebSocket(url);
      return new Promise<WebSocket>((resolve, reject) => {
        ws.onopen = () => resolve(ws);
        ws.onclose = () => reject(new Error('closed before open'));
      });
    }),
  );
  const during = settled();
  for (const ws of sockets) ws.close();
  return perConnection('undici', before, during);
}

async function throughputPlanrun(origin: string): Promise<Throughput> {
  let messages = 0;
  let failed = 0;
  let started = 0;
  let ended = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  let elu0: EventLoopUtilization | undefined;
  let cpu = 0;
  let idle = 0;
  let half = { wallMs: 0, cpuUs: 0 };
  await runPlanText(
    // Every worker connected before the first send, as the raw loop opens all its sockets before it starts the clock.
    `name: ws echo\ntarget: ${origin}\nworkers: ${WORKERS}\nbarriers:\n  connected: { parties: all }\nscenario:\n  - ws: { connect: /echo }\n  - barrier: connected\n  - loop:\n      times: ${MESSAGES}\n      steps:\n        - name: send\n          ws: { send: ping }\n        - name: echo\n          ws: { expect: { text: ping } }\n`,
    (e) => {
      if (e.type === 'step:begin' && e.name === 'send' && !cpu0) {
        cpu0 = process.cpuUsage();
        elu0 = performance.eventLoopUtilization();
        started = performance.now();
      }
      if (e.type !== 'step:end' || e.result.name !== 'echo') return;
      if (e.result.outcome === 'ok') messages++;
      else failed++;
      if (messages + failed === (WORKERS * MESSAGES) / 2) half = { wallMs: performance.now() - started, cpuUs: cpuUs(process.cpuUsage(cpu0)) };
      if (messages + failed === WORKERS * MESSAGES) {
        ended = performance.now();
        cpu = cpuUs(process.cpuUsage(cpu0));
        idle = idleUs(elu0!);
      }
    },
  );
  return { client: 'planrun', messages, failed, wallMs: ended - started, cpuUs: cpu, idleUs: idle, halfWallMs: half.wallMs, halfCpuUs: half.cpuUs };
}

async function throughputRaw(origin: string): Promise<Throughput> {
  const url = `${origin.replace('http:', 'ws:')}/echo`;
  let messages = 0;
  let failed = 0;
  const sockets = await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      const ws = new WebSocket(url);
      await new Promise((resolve) => (ws.onopen = resolve));
      return ws;
    }),
  );
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const started = performance.now();
  let half = { wallMs: 0, cpuUs: 0 };
  await Promise.all(
    sockets.map(async (ws) => {
      let onMessage: (text: string) => void = () => undefined;
      ws.onmessage = (e) => onMessage(e.data as string);
      for (let i = 0; i < MESSAGES; i++) {
        const echoed = new Promise<string>((resolve) => (onMessage = resolve));
        ws.send('ping');
        if ((await echoed) === 'ping') messages++;
        else failed++;
        if (messages + failed === (WORKERS * MESSAGES) / 2) half = { wallMs: performance.now() - started, cpuUs: cpuUs(process.cpuUsage(cpu0)) };
      }
    }),
  );
  const wallMs = performance.now() - started;
  const cpu = cpuUs(process.cpuUsage(cpu0));
  const idle = idleUs(elu0);
  for (const ws of sockets) ws.close();
  return { client: 'undici', messages, failed, wallMs, cpuUs: cpu, idleUs: idle, halfWallMs: half.wallMs, halfCpuUs: half.cpuUs };
}

// ---------------------------------------------------------------- parent

let childScript = SELF;

function runChild<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', childScript, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) resolve(JSON.parse(line.slice(7)) as T);
      else reject(new Error(`${args.join(' ')} exited with ${code} without a result`));
    });
  });
}

async function main(): Promise<void> {
  childScript = await buildChildBundle(SELF);
  const server = await startWsServer();
  try {
    console.log(`memory: ${CONNECTIONS} open connections to ${server.url}/echo (server and each client in its own process)`);
    for (const kind of ['raw-memory', 'memory']) {
      const m = await runChild<Memory>(['--client', kind, server.url]);
      console.log(`${m.client.padEnd(8)} ${m.rssPerConnKb.toFixed(1).padStart(6)} KB RSS/connection  ${m.heapPerConnKb.toFixed(1).padStart(6)} KB heap/connection`);
    }
    console.log(`\nthroughput: ${WORKERS} workers × ${MESSAGES} messages, send → expect the echo (${(await import('node:os')).availableParallelism()} CPUs)`);
    const trials: Record<string, Throughput[]> = { undici: [], planrun: [] };
    for (let t = 0; t < TRIALS; t++) {
      for (const kind of t % 2 ? ['planrun', 'raw'] : ['raw', 'planrun']) {
        const r = await runChild<Throughput>(['--client', kind, server.url]);
        trials[r.client]!.push(r);
      }
    }
    const rate = (r: Throughput) => r.messages / (r.wallMs / 1000);
    const best = (kind: string) => Math.max(...trials[kind]!.map(rate));
    // CPU per message does not depend on what else the machine runs, unlike messages/s.
    const medianOf = (kind: string, of: (r: Throughput) => number) => median(trials[kind]!.map(of));
    const medianCpu = (kind: string) => medianOf(kind, (r) => r.cpuUs / Math.max(1, r.messages));
    for (const kind of ['undici', 'planrun']) {
      console.log(
        `${kind.padEnd(8)} ${best(kind).toFixed(0).padStart(7)} messages/s (best of ${TRIALS}: ${trials[kind]!.map((r) => rate(r).toFixed(0)).join(', ')})  ${trials[kind]!.reduce((n, r) => n + r.failed, 0)} failed  ${medianCpu(kind).toFixed(1)} µs CPU/message (median)  main thread idle ${medianOf(kind, (r) => r.idleUs / Math.max(1, r.messages)).toFixed(1)} µs/message, ${medianOf(kind, (r) => r.idleUs / 10 / r.wallMs).toFixed(0)}% of the time (median)`,
      );
    }
    /** Each pair's planrun/undici ratio of `of`, and their median. */
    const paired = (of: (r: Throughput) => number) => {
      const ratios = trials.planrun!.map((r, t) => of(r) / of(trials.undici![t]!));
      return { ratios: ratios.map((x) => x.toFixed(2)).join(', '), median: median(ratios) };
    };
    const pairs = paired(rate);
    console.log(
      `throughput planrun/undici: ${pairs.median.toFixed(2)}, the median of ${TRIALS} back-to-back pairs (${pairs.ratios}) (target ≥ 0.80) ${pairs.median >= 0.8 ? 'ok' : 'BELOW TARGET'}; best against best ${(best('planrun') / best('undici')).toFixed(2)}`,
    );
    console.log(`CPU per message planrun/undici: ${(medianCpu('planrun') / medianCpu('undici')).toFixed(2)}`);
    const lateRate = (r: Throughput) => r.messages / 2 / ((r.wallMs - r.halfWallMs) / 1000);
    const lateCpu = (kind: string) => medianOf(kind, (r) => (r.cpuUs - r.halfCpuUs) / Math.max(1, r.messages / 2));
    const lateBest = (kind: string) => Math.max(...trials[kind]!.map(lateRate));
    console.log('\nsecond half of the messages (the JIT warmed up):');
    for (const kind of ['undici', 'planrun']) {
      console.log(`${kind.padEnd(8)} ${lateBest(kind).toFixed(0).padStart(7)} messages/s (best of ${TRIALS})  ${lateCpu(kind).toFixed(1)} µs CPU/message (median)`);
    }
    const latePairs = paired(lateRate);
    console.log(
      `second half planrun/undici: throughput ${latePairs.median.toFixed(2)}, the median of the pairs (${latePairs.ratios}); best against best ${(lateBest('planrun') / lateBest('undici')).toFixed(2)}; CPU per message ${(lateCpu('planrun') / lateCpu('undici')).toFixed(2)}`,
    );
  } finally {
    await server.stop();
  }
}

const args = process.argv.slice(2);
if (args[0] === '--client') {
  const clients: Record<string, (origin: string) => Promise<unknown>> = { memory: memoryPlanrun, 'raw-memory': memoryRaw, planrun: throughputPlanrun, raw: throughputRaw };
  const result = await clients[args[1]!]!(args[2]!);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
} else await main();
