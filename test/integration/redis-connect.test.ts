// Connecting to Redis and starting a private redis-server: AUTH and ACL users
// in the URL, unix sockets, bounded failures with the password redacted, and a
// clear error when no redis-server is installed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectionFailure, connectRedis, redactRedisUrl, type RedisConnection } from '../../src/coordination/redis/connect.js';
import { findRedisServer, startRedisServer } from '../../src/coordination/redis/server.js';
import { freePort } from '../helpers/free-port.js';

const PASSWORD = 's3cr:et@pw';

test('a password-protected server: the URL password and an ACL user:password work, a wrong password fails without being quoted', { timeout: 20_000 }, async () => {
  const server = await startRedisServer({ password: PASSWORD });
  try {
    assert.match(server.url, /^redis:\/\/:s3cr%3Aet%40pw@127\.0\.0\.1:\d+$/);
    const admin = await connectRedis(server.url);
    assert.equal(await admin.ping(), 'PONG');
    await admin.sendCommand(['ACL', 'SETUSER', 'agent', 'on', '>agent-pw', '~planrun:*', '&*', '+@all']);
    const port = new URL(server.url).port;
    const agent = await connectRedis(`redis://agent:agent-pw@127.0.0.1:${port}/0`);
    assert.equal(await agent.set('planrun:{x}:k', 'v'), 'OK');
    agent.destroy();
    admin.destroy();
    const wrong = `redis://agent:Wr0ngPassw0rd@127.0.0.1:${port}`;
    await assert.rejects(connectRedis(wrong), (e: unknown) => {
      assert.equal((e as Error).message, `cannot connect to Redis at redis://agent:***@127.0.0.1:${port}: WRONGPASS invalid username-password pair or user is disabled.`);
      return true;
    });
    await assert.rejects(
      connectRedis(`redis://127.0.0.1:${port}`).then((c) => c.ping()),
      /NOAUTH/,
    );
  } finally {
    await server.stop();
  }
});

test('a private server on a unix socket', { timeout: 20_000 }, async () => {
  const server = await startRedisServer({ unixSocket: true });
  try {
    assert.match(server.url, /^unix:\/\/\/.*\/redis\.sock$/);
    const c = await connectRedis(server.url);
    assert.equal(await c.ping(), 'PONG');
    c.destroy();
  } finally {
    await server.stop();
  }
});

test('the server gone: a command pending while the client reconnects and one sent after it gave up fail for the same reason', { timeout: 30_000 }, async () => {
  const server = await startRedisServer();
  const port = new URL(server.url).port;
  const c = await connectRedis(server.url, { reconnectAttempts: 3 });
  const reader = c.duplicate();
  reader.on('error', () => {});
  await reader.connect();
  try {
    await server.stop();
    // Queued while the duplicate reconnects: node-redis rejects it with the socket's error once it gives up.
    const pending = await reader.get('k').then(
      () => assert.fail('answered'),
      (e: unknown) => e,
    );
    // Sent after the client gave up: node-redis says only that the client is closed.
    while (c.isOpen) await new Promise((r) => setTimeout(r, 50));
    const late = await c.get('k').then(
      () => assert.fail('answered'),
      (e: unknown) => e,
    );
    assert.equal((late as Error).message, 'The client is closed');
    assert.equal(connectionFailure(c, pending), `connect ECONNREFUSED 127.0.0.1:${port}`);
    assert.equal(connectionFailure(c, late), `connect ECONNREFUSED 127.0.0.1:${port}`);
  } finally {
    reader.destroy();
    c.destroy();
  }
});

test('nothing listening: fails at once, naming the server', { timeout: 10_000 }, async () => {
  const port = await freePort();
  const started = Date.now();
  await assert.rejects(connectRedis(`redis://user:pw@127.0.0.1:${port}`), (e: unknown) => {
    assert.equal((e as Error).message, `cannot connect to Redis at redis://user:***@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
    return true;
  });
  assert.ok(Date.now() - started < 3_000);
});

test('a server that accepts but never answers: fails after the connect timeout, password redacted', { timeout: 10_000 }, async () => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  try {
    const started = Date.now();
    await assert.rejects(connectRedis(`redis://:hunter2@127.0.0.1:${port}`, { connectTimeoutMs: 300 }), (e: unknown) => {
      assert.equal((e as Error).message, `cannot connect to Redis at redis://:***@127.0.0.1:${port}: timed out after 300ms`);
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 2_000, `${took} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('URLs: passwords are redacted, other schemes are refused', () => {
  assert.equal(redactRedisUrl('rediss://u:p%40ss@redis.example:6380/2'), 'rediss://u:***@redis.example:6380/2');
  assert.equal(redactRedisUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  assert.equal(redactRedisUrl('not a url :secret@'), '<unparsable Redis URL>');
  return assert.rejects(connectRedis('http://u:secret@127.0.0.1:1'), /^Error: unsupported Redis URL http:\/\/u:\*\*\*@127\.0\.0\.1:1\/: use redis:\/\/, rediss:\/\/ or unix:\/\/$/);
});

test('no redis-server installed: the error names the Debian package; PLANRUN_REDIS_SERVER must be executable', () => {
  assert.throws(() => findRedisServer({ PATH: '/nonexistent:/also-not' }), {
    message: 'redis-server not found on PATH: install the Debian package redis-server (apt-get install redis-server) or set PLANRUN_REDIS_SERVER to its path',
  });
  const dir = mkdtempSync(join(tmpdir(), 'planrun-test-'));
  const notExecutable = join(dir, 'redis-server');
  writeFileSync(notExecutable, '', { mode: 0o644 });
  try {
    assert.throws(() => findRedisServer({ PATH: dir }), /^Error: redis-server not found on PATH/);
    assert.throws(() => findRedisServer({ PATH: '', PLANRUN_REDIS_SERVER: notExecutable }), { message: `PLANRUN_REDIS_SERVER=${notExecutable} is not an executable file` });
    assert.throws(() => findRedisServer({ PATH: '', PLANRUN_REDIS_SERVER: dir }), { message: `PLANRUN_REDIS_SERVER=${dir} is not an executable file` });
  } finally {
    rmSync(dir, { recursive: true });
  }
  assert.equal(findRedisServer({ PATH: '', PLANRUN_REDIS_SERVER: '/usr/bin/redis-server' }), '/usr/bin/redis-server');
});

test('rediss:// speaks TLS: a server certificate from a trusted CA is accepted, an untrusted one refused', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'planrun-tls-'));
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  assert.equal(made.status, 0, made.stderr.toString());
  const port = await freePort();
  const server = spawn(
    findRedisServer(),
    [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--tls-cert-file',
      cert,
      '--tls-key-file',
      key,
      '--tls-auth-clients',
      'no',
      '--requirepass',
      PASSWORD,
      '--save',
      '',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  const url = `rediss://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`;
  try {
    const ca = readFileSync(cert, 'utf8');
    let client: RedisConnection | undefined;
    for (let tries = 0; !client; tries++) {
      try {
        client = await connectRedis(url, { ca });
      } catch (e) {
        if (tries > 100) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.equal(await client.ping(), 'PONG');
    client.destroy();
    await assert.rejects(connectRedis(url), (e: unknown) => {
      // Node 24 appends a hint ("…; if the root CA is installed locally, try --use-system-ca"); Node 20 does not.
      assert.match((e as Error).message, new RegExp(`^cannot connect to Redis at rediss://:\\*\\*\\*@127\\.0\\.0\\.1:${port}: self-signed certificate($|;)`));
      assert.ok(!(e as Error).message.includes(PASSWORD));
      return true;
    });
  } finally {
    server.kill();
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true });
  }
});
