// A private redis-server for one run: no persistence, its own temp dir, on a
// free 127.0.0.1 port or a unix socket, stopped with the run. Found on PATH or
// at $PLANRUN_REDIS_SERVER.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { setPriority, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { connectRedis } from './connect.js';

export interface RedisServerOptions {
  /** Listen on a unix socket in the temp dir instead of a TCP port. */
  unixSocket?: boolean;
  /** Require this password (`--requirepass`): the URL then carries it. */
  password?: string;
  /** Bound on start-up until the server answers PING. Default 10 s. */
  startTimeoutMs?: number;
  /** Addresses to listen on besides 127.0.0.1 (the URL keeps 127.0.0.1), e.g. a test network namespace's link. */
  alsoBind?: string[];
}

export interface RedisServer {
  /** `redis://127.0.0.1:PORT`, `redis://:PASSWORD@127.0.0.1:PORT` or `unix:///…/redis.sock`. */
  url: string;
  /** SIGTERM, SIGKILL after 5 s; resolves once the process is gone and its temp dir removed. */
  stop(): Promise<void>;
  /**
   * Raises the server's niceness (0 to 19) for the rest of its life: where every core is busy, the processes it
   * serves run first. An unprivileged process cannot lower it again. Best effort: a server already gone is left alone.
   */
  renice(nice: number): void;
}

const KILL_AFTER_MS = 5_000;
const OUTPUT_TAIL = 2_000;

/** The redis-server binary: $PLANRUN_REDIS_SERVER, else the first on PATH. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.PLANRUN_REDIS_SERVER;
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`PLANRUN_REDIS_SERVER=${explicit} is not an executable file`);
    return explicit;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'redis-server'))) return join(dir, 'redis-server');
  }
  throw new Error('redis-server not found on PATH: install the Debian package redis-server (apt-get install redis-server) or set PLANRUN_REDIS_SERVER to its path');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Servers still running in this process: killed on exit so none outlives planrun. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = findRedisServer();
  const dir = mkdtempSync(join(tmpdir(), 'planrun-redis-'));
  const socket = join(dir, 'redis.sock');
  const port = options.unixSocket ? 0 : await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', ...(options.alsoBind ?? []), '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', ''];
  if (options.unixSocket) args.push('--unixsocket', socket, '--unixsocketperm', '700');
  if (options.password) args.push('--requirepass', options.password);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-OUTPUT_TAIL));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(
    () => live.delete(child),
    () => {},
  );
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const url = options.unixSocket ? `unix://${socket}` : `redis://${auth}127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const renice = (nice: number) => {
    try {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) setPriority(child.pid, nice);
    } catch {
      // Exited meanwhile, or a platform that refuses: the server runs as it was.
    }
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  const early = exited.then(() => {
    throw new Error(`redis-server (${binary}) exited during start-up: ${output.trim().split('\n').slice(-5).join(' | ')}`);
  });
  early.catch(() => {});
  try {
    // The server needs a moment to listen: retry the connection (each try bounded) until it answers PING.
    for (;;) {
      try {
        const client = await Promise.race([connectRedis(url, { connectTimeoutMs: 1_000 }), early]);
        await client.ping();
        client.destroy();
        return { url, stop, renice };
      } catch (e) {
        if (child.exitCode !== null || child.signalCode !== null) await early;
        if (Date.now() >= deadline) throw new Error(`redis-server (${binary}) did not answer within ${options.startTimeoutMs ?? 10_000}ms: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }
}
