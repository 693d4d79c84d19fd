// Connections to the Redis that agents share: `redis://user:password@host:port/db`,
// `rediss://` (TLS) or `unix:///path/to/socket`. Connecting is bounded (a dead or
// unreachable Redis fails with a clear message, never hangs) and every message
// that names the server has the password replaced by `***`.
import { ClientClosedError, createClient, ReconnectStrategyError, type RedisClientType } from 'redis';

export type RedisConnection = RedisClientType;

export interface ConnectOptions {
  /** Bound on the whole initial connect (TCP, TLS, AUTH, SELECT). Default 5 s. */
  connectTimeoutMs?: number;
  /** Reconnect attempts after a lost connection before commands fail. Default 10 (about 5 s). */
  reconnectAttempts?: number;
  /** PEM certificate(s) to trust for `rediss://` besides the system CAs (a private CA or a self-signed server). */
  ca?: string;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_RECONNECT_ATTEMPTS = 10;

/** The URL with its password (if any) replaced by `***`: the form every message uses. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable Redis URL>';
  }
}

/** Each connection's URL and the last error its socket reported (shared with its duplicates: same options, same closure). */
const families = new WeakMap<RedisConnection, { url: string; lastError(): Error | undefined }>();

/**
 * Why a command of a connection from connectRedis failed with `e`, password removed. A client that closed or gave up
 * reconnecting says only that; the last error of its socket (`connect ECONNREFUSED …`) says why.
 */
export function connectionFailure(client: RedisConnection, e: unknown): string {
  const family = families.get(client);
  const cause = e instanceof ClientClosedError || e instanceof ReconnectStrategyError ? (family?.lastError() ?? e) : e;
  const message = cause instanceof Error ? cause.message || cause.name : String(cause);
  return family ? scrub(message, family.url) : message;
}

/** Removes the password, raw or URL-decoded, from a message that may quote it. */
function scrub(message: string, url: string): string {
  let password = '';
  try {
    password = new URL(url).password;
  } catch {
    return message;
  }
  if (!password) return message;
  for (const p of new Set([password, decodeURIComponent(password)])) message = message.split(p).join('***');
  return message;
}

/**
 * No per-command timeout (node-redis defaults to 5 s): a script over a big batch may take longer on a busy server, and
 * silence is judged once per process by the heartbeats (agents/liveness.ts), which destroy the connections. The
 * default also cost every command an AbortSignal timer that fired 5 s later, about 4% of an agent's CPU in a crawl.
 */
const commandOptions = { timeout: 0 };

function clientOptions(url: string, ca: string | undefined, connectTimeout: number, reconnectStrategy: (retries: number, cause: Error) => number | Error) {
  const u = new URL(url);
  if (u.protocol === 'unix:') return { commandOptions, socket: { path: decodeURIComponent(u.pathname), tls: false as const, connectTimeout, reconnectStrategy } };
  if (u.protocol === 'rediss:') return { url, commandOptions, socket: { tls: true as const, ...(ca ? { ca } : {}), connectTimeout, reconnectStrategy } };
  if (u.protocol !== 'redis:') throw new Error(`unsupported Redis URL ${redactRedisUrl(url)}: use redis://, rediss:// or unix://`);
  return { url, commandOptions, socket: { connectTimeout, reconnectStrategy } };
}

/**
 * Connects and answers once Redis accepted the connection (and AUTH). Rejects within
 * `connectTimeoutMs` when it cannot: refused, unreachable, TLS or authentication failure.
 * The client reconnects a few times after a lost connection, then fails its commands.
 */
export async function connectRedis(url: string, options: ConnectOptions = {}): Promise<RedisConnection> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const attempts = options.reconnectAttempts ?? DEFAULT_RECONNECT_ATTEMPTS;
  const where = redactRedisUrl(url);
  let connected = false;
  let lastError: Error | undefined;
  const client: RedisConnection = createClient(
    clientOptions(url, options.ca, timeoutMs, (retries, cause) => {
      lastError = cause;
      // Never retry the first connect: the caller gets the reason at once.
      if (!connected) return cause;
      if (retries >= attempts) return new Error(`lost the connection to Redis at ${where}: ${scrub(cause.message, url)}`);
      return Math.min(50 * 2 ** retries, 1_000);
    }),
  );
  // Without a listener, node-redis would throw connection errors as uncaught; the reason reaches the caller through its rejected command instead.
  client.on('error', (e: Error) => (lastError = e));
  families.set(client, { url, lastError: () => lastError });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs}ms`)), timeoutMs);
      }),
    ]);
    connected = true;
    return client;
  } catch (e) {
    client.destroy();
    const reason = lastError && lastError.message !== (e as Error).message ? `${(e as Error).message} (${lastError.message})` : (e as Error).message;
    throw new Error(`cannot connect to Redis at ${where}: ${scrub(reason, url)}`);
  } finally {
    clearTimeout(timer);
  }
}
