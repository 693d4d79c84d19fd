// One real redis-server per test file, on a free port: started before the
// file's tests, stopped after them with every connection the tests opened
// through it.
import { after, before } from 'node:test';
import { connectRedis, type RedisConnection } from '../../src/coordination/redis/connect.js';
import { startRedisServer, type RedisServer } from '../../src/coordination/redis/server.js';

export interface FileRedis {
  /** The server's URL (once the file's `before` ran). */
  readonly url: string;
  /** Every connection opened through connect(), oldest first. */
  readonly connections: RedisConnection[];
  /** A new connection, destroyed after the file. */
  connect(): Promise<RedisConnection>;
}

/** `closeFirst` runs before the connections go (coordinators, frontiers: what must close over a live connection). */
export function redisForFile(closeFirst?: () => Promise<unknown>): FileRedis {
  let server: RedisServer | undefined;
  const connections: RedisConnection[] = [];
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await closeFirst?.();
    for (const c of connections) c.destroy();
    await server?.stop();
  });
  return {
    get url() {
      if (!server) throw new Error('the redis-server starts in the test file’s before hook');
      return server.url;
    },
    connections,
    async connect() {
      const client = await connectRedis(this.url);
      connections.push(client);
      return client;
    },
  };
}
