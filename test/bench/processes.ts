// What the benchmarks that run in several processes share: a peak RSS reading,
// a minimal keep-alive HTTP server answering `ok`, the raw undici loop planrun
// is measured against, and a child process whose stdout lines are awaited by
// prefix (`PORT `, `RESULT `).
import { spawn } from 'node:child_process';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';

/** This process's peak RSS (VmHWM), in MB. */
export function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1048576;
}

/** Serves `ok` on 127.0.0.1, prints `PORT n`, and exits when its parent closes stdin. */
export function serveOk(): void {
  const body = Buffer.from('ok\n');
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    process.stdout.write(`PORT ${port}\n`);
  });
  process.on('disconnect', () => process.exit(0));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

export interface LoopResult {
  requests: number;
  failed: number;
  wallMs: number;
  /** User + system CPU, µs. */
  cpuUs: number;
  peakRssMb: number;
}

/**
 * The baseline: `workers` loops of GET / on an undici Agent with the HTTP
 * engine's options, for `seconds`: what undici alone does at planrun's load.
 */
export async function rawUndiciLoop(origin: string, workers: number, seconds: number): Promise<LoopResult> {
  const agent = new Agent({ connections: workers, pipelining: 1, keepAliveTimeout: 30_000 });
  let requests = 0;
  let failed = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        try {
          const res = await agent.request({ origin, path: '/', method: 'GET' });
          await res.body.text();
          if (res.statusCode >= 400) failed++;
        } catch {
          failed++;
        }
        requests++;
      }
    }),
  );
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  await agent.close();
  return { requests, failed, wallMs, cpuUs: cpu.user + cpu.system, peakRssMb: peakRssMb() };
}

export interface BenchChild {
  proc: ReturnType<typeof spawn>;
  /** The rest of the first stdout line starting with `prefix`. */
  line(prefix: string): Promise<string>;
}

/** Runs `script` (a compiled bench file, see child-bundle.ts) with `args` in a process of its own. */
export function benchChild(script: string, args: string[]): BenchChild {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const waiters: Array<() => void> = [];
  proc.stdout!.on('data', (d) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  const line = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = out.split('\n').find((l) => l.startsWith(prefix));
        if (found) return resolve(found.slice(prefix.length));
        waiters.push(check);
      };
      proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before printing ${prefix.trim()}`)));
      check();
    });
  return { proc, line };
}
