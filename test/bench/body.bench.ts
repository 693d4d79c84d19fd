// Body-size bench: peak RSS of planrun when every worker downloads a 1 KB,
// a 50 MB and a 200 MB response. Only the first http.maxBodySize (1 MiB by
// default) of a body is kept, so memory must not grow with what the server
// sends: the 200 MB peak stays at the 50 MB one. Each client runs in its own process
// (compiled JS, see child-bundle.ts) so VmHWM is its own; the server streams
// one shared buffer from this process.
//   npm run bench -- body          (BODY_BENCH_MB, BODY_BENCH_WORKERS override)
import { spawn } from 'node:child_process';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { buildChildBundle } from './child-bundle.js';

const BIG_MB = Number(process.env.BODY_BENCH_MB ?? 200);
const WORKERS = Number(process.env.BODY_BENCH_WORKERS ?? 4);
const SELF = fileURLToPath(import.meta.url);

interface ClientResult {
  bytes: number;
  failed: number;
  wallMs: number;
  peakRssMb: number;
}

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1048576;
}

/** `/bytes/N`: N bytes of `x`, written as the socket drains. */
function serve(): Promise<http.Server> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const server = http.createServer(async (req, res) => {
    const total = Number(/^\/bytes\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': total });
    for (let left = total; left > 0 && !res.destroyed; ) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The child: runPlan with WORKERS workers, one GET of `size` bytes each. */
async function client(origin: string, size: number): Promise<ClientResult> {
  const { parsePlan } = await import('../../src/plan/load.js');
  const { runPlan } = await import('../../src/runtime/run.js');
  const plan = parsePlan(`name: body bench\ntarget: ${origin}\nworkers: ${WORKERS}\ntimeout: 120s\nscenario:\n  - request: GET /bytes/${size}\n`, '/tmp/body-bench.yml');
  let bytes = 0;
  let failed = 0;
  const started = performance.now();
  await runPlan(plan, {
    reportDir: tmpdir(),
    emit: (e) => {
      if (e.type !== 'step:end') return;
      bytes += e.result.http?.bytes ?? 0;
      if (e.result.outcome !== 'ok') failed++;
    },
  });
  return { bytes, failed, wallMs: performance.now() - started, peakRssMb: peakRssMb() };
}

async function main(): Promise<void> {
  const script = await buildChildBundle(SELF);
  const server = await serve();
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    console.log(`${WORKERS} workers, one GET each, default http.maxBodySize (client in its own process, compiled JS)`);
    const results: Record<string, ClientResult> = {};
    for (const [label, size] of [
      ['1 KB', 1024],
      [`${BIG_MB / 4} MB`, (BIG_MB / 4) * 1048576],
      [`${BIG_MB} MB`, BIG_MB * 1048576],
    ] as const) {
      // Spawned asynchronously: this process serves the body meanwhile.
      const r = await new Promise<ClientResult>((resolve, reject) => {
        const proc = spawn(process.execPath, [script, '--client', origin, String(size)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        proc.stdout.on('data', (d) => (out += d));
        proc.on('exit', (code) => {
          const line = out.split('\n').find((l) => l.startsWith('RESULT '));
          if (line) resolve(JSON.parse(line.slice('RESULT '.length)) as ClientResult);
          else reject(new Error(`client exited with ${code}`));
        });
      });
      results[label] = r;
      console.log(
        `${label.padStart(7)} bodies: ${(r.bytes / 1048576).toFixed(0).padStart(5)} MB received in ${(r.wallMs / 1000).toFixed(2)} s, ${r.failed} failed, peak RSS ${r.peakRssMb.toFixed(0)} MB`,
      );
    }
    const [small, quarter, big] = Object.values(results) as [ClientResult, ClientResult, ClientResult];
    // Dropped chunks wait for a GC: a fixed overhead over 1 KB bodies, but none that grows with the body.
    const growth = big.peakRssMb - quarter.peakRssMb;
    console.log(
      `peak RSS over 1 KB bodies: +${(quarter.peakRssMb - small.peakRssMb).toFixed(0)} MB at ${BIG_MB / 4} MB, +${(big.peakRssMb - small.peakRssMb).toFixed(0)} MB at ${BIG_MB} MB`,
    );
    console.log(`growth ${BIG_MB / 4} MB → ${BIG_MB} MB bodies: ${growth >= 0 ? '+' : ''}${growth.toFixed(0)} MB (target < 16 MB: memory bounded whatever the server sends)`);
    if (growth >= 16) console.log('!!! body memory target missed');
  } finally {
    server.close();
  }
}

const args = process.argv.slice(2);
if (args[0] === '--client') {
  process.stdout.write(`RESULT ${JSON.stringify(await client(args[1]!, Number(args[2])))}\n`);
  process.exit(0);
} else await main();
