// Network partitions between agents, controller and Redis, with real network
// namespaces (test/helpers/netns.ts): the process on the far side of a veth
// link keeps its connection open while the link is down, so nothing fails by
// itself; heartbeats must tell. An agent cut off mid-run is counted lost by the
// controller (waits on its workers break at once naming it, exit 1, complete
// report), stops its own share and waits again once the link is back; a
// controller cut off from Redis ends with a clear message and writes what it
// received. Skipped only without root or `ip`.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connectRedis } from '../../src/coordination/redis/connect.js';
import { runKey } from '../../src/coordination/redis/keys.js';
import { startRedisServer, type RedisServer } from '../../src/coordination/redis/server.js';
import { createNetnsLink, netnsSkipReason, removeNetnsLinks, type NetnsLink } from '../helpers/netns.js';
import { killProcesses, planrun } from '../helpers/planrun-process.js';
import { readReport } from '../helpers/report-helpers.js';
import { startPad, type Pad } from '../helpers/run-helpers.js';

const skip = netnsSkipReason();
let pad: Pad;
let dir: string;
before(async () => {
  if (skip) return;
  pad = await startPad();
  dir = await mkdtemp(join(tmpdir(), 'planrun-partition-'));
});
after(async () => {
  killProcesses();
  removeNetnsLinks();
  await pad?.stop();
});

/** A namespace linked to this one and a redis-server listening on loopback and on the link's host end. */
async function setUp(): Promise<{ link: NetnsLink; redis: RedisServer; local: string; remote: string }> {
  const link = createNetnsLink();
  try {
    const redis = await startRedisServer({ password: 'partition-test', alsoBind: [link.hostAddress] });
    const remote = new URL(redis.url);
    remote.hostname = link.hostAddress;
    return { link, redis, local: redis.url, remote: remote.toString() };
  } catch (e) {
    link.remove();
    throw e;
  }
}

/** Polls `ok` every 100 ms until it holds; fails after `ms`. */
async function until(ok: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms}ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function planFile(name: string, yaml: string): Promise<string> {
  const file = join(dir, `${name}.yml`);
  await writeFile(file, yaml);
  return file;
}

test('an agent cut off from Redis mid-run: lost to the controller, waits on it break, exit 1; it stops its share and waits again once the link is back', {
  skip,
  timeout: 180_000,
}, async () => {
  const { link, redis, local, remote } = await setUp();
  try {
    const plan = await planFile(
      'cut-agent',
      `
name: cut agent
target: ${pad.url}
workers: 2
rounds: 1
waitTimeout: 120s
roles: { writer: { workers: [0] }, reader: { workers: [1] } }
barriers:
  started: { signal: writer, wait: reader }
  written: { signal: writer, wait: reader }
scenario:
  writer:
    - signal: started
    - sleep: 120s
    - signal: written
  reader:
    - wait: started
    - wait: written
`,
    );
    // part-a (first in name order: the writer) runs in the namespace, part-b and the controller here.
    const a = planrun(['agent', '--redis', remote, '--id', 'part-a'], link.wrap);
    const b = planrun(['agent', '--redis', local, '--id', 'part-b']);
    await Promise.all([a.until(/agent part-a waiting for runs/, 60_000), b.until(/agent part-b waiting for runs/, 60_000)]);
    const out = join(dir, 'cut-agent-out');
    const run = planrun(['run', plan, '--redis', local, '--agents', '2', '--out', out, '--reporter', 'json', '--run-id', 'cut-agent']);
    // The writer runs once its signal is in the run's log (cutting earlier would fail the agent's start, not its run).
    const probe = await connectRedis(local);
    try {
      await until(async () => (await probe.xLen(runKey('cut-agent', 'log'))) > 0, 60_000);
    } finally {
      probe.destroy();
    }
    const cutAt = Date.now();
    link.cut();
    assert.equal(await run.exit, 1, run.stderr());
    const controllerTook = Date.now() - cutAt;
    const report = await readReport(join(out, 'report.json'));
    assert.equal(report.outcome, 'failed');
    assert.match(report.reason ?? '', /agent part-a lost: no heartbeat for 5s/);
    assert.deepEqual(
      report.workers.map((w) => [w.id, w.outcome, w.agent]),
      [
        [0, 'aborted', 'part-a'],
        [1, 'done', 'part-b'],
      ],
    );
    const wait = report.timeline.find((r) => r.worker === 1 && r.name === 'wait written');
    assert.equal(wait?.outcome, 'failed');
    assert.equal(wait?.error?.message, 'barrier "written" broken in round 1: worker 0 (writer) failed at step "(agent lost)" in round 1: agent part-a lost: no heartbeat for 5s');
    // The heartbeat key expires 5 s after the last beat; checks run every second: well within 30 s even when busy.
    assert.ok(controllerTook < 30_000, `the controller ended ${controllerTook}ms after the cut`);

    // The agent cannot hear from Redis either: it stops its share on its own (its sleep would last 120 s).
    await a.until(/agent part-a: run \S+ aborted; waiting for runs\n/, 30_000);
    await a.until(/agent part-a: lost the connection to Redis at redis:\/\/:\*\*\*@10\.200\.\d+\.\d+:\d+\/?: no answer from Redis for 5s; retrying every 1s\n/, 30_000);
    const agentTook = Date.now() - cutAt;
    assert.ok(agentTook < 30_000, `the agent stopped its share ${agentTook}ms after the cut`);
    assert.doesNotMatch(a.stderr() + run.stderr(), /partition-test/, 'the password is never printed');
    assert.equal(a.stderr().match(/waiting for runs at/g)?.length, 1);

    link.restore();
    await a.until(/(agent part-a waiting for runs at [^\n]*\n[\s\S]*){2}/, 30_000);
    // Back in service: it takes the next run.
    const again = planrun([
      'run',
      await planFile('after-cut', `name: after\nworkers: 1\nrounds: 1\nscenario:\n  - sleep: 10ms\n`),
      '--redis',
      local,
      '--agents',
      '1',
      '--out',
      join(dir, 'after-out'),
      '--reporter',
      'json',
    ]);
    assert.equal(await again.exit, 0, again.stderr());
    assert.deepEqual(
      (await readReport(join(dir, 'after-out', 'report.json'))).workers.map((w) => w.agent),
      ['part-a'],
    );
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all([a.exit, b.exit]), [0, 0]);
  } finally {
    killProcesses();
    link.remove();
    await redis.stop();
  }
});

test('the controller cut off from Redis: a clear message within bounded time, exit 1, the report of what it received', { skip, timeout: 180_000 }, async () => {
  const { link, redis, local, remote } = await setUp();
  try {
    const plan = await planFile(
      'cut-controller',
      `
name: cut controller
target: ${pad.url}
workers: 1
duration: 5m
scenario:
  - request: GET /health
  - sleep: 100ms
`,
    );
    const a = planrun(['agent', '--redis', local, '--id', 'part-c']);
    await a.until(/agent part-c waiting for runs/, 60_000);
    const out = join(dir, 'cut-controller-out');
    // The controller runs in the namespace; the agent and the pad server are here.
    const run = planrun(['run', plan, '--redis', remote, '--agents', '1', '--out', out, '--reporter', 'json,plain'], link.wrap);
    await run.until(/worker 0 \(worker\) round 2\b/, 60_000);
    const cutAt = Date.now();
    link.cut();
    assert.equal(await run.exit, 1, run.stderr());
    const took = Date.now() - cutAt;
    assert.ok(took < 30_000, `the controller ended ${took}ms after the cut`);
    const report = await readReport(join(out, 'report.json'));
    assert.equal(report.outcome, 'failed');
    assert.match(
      report.reason ?? '',
      /^lost the connection to the agents' Redis at redis:\/\/:\*\*\*@10\.200\.\d+\.\d+:\d+\/? \(no answer from Redis for 5s\): the run stopped, and the report keeps what the agents had sent before$/,
    );
    // What arrived before the cut is in the report: the rounds the plain reporter printed, at least.
    const health = report.steps.find((s) => s.name === 'GET /health')!;
    assert.ok(health.count >= 2, `${health.count} requests reported`);
    assert.equal(health.failed, 0);
    assert.deepEqual(
      report.workers.map((w) => w.agent),
      ['part-c'],
    );
    // The agent hears the controller no more (its heartbeat expired): it stops that run and waits for the next.
    await a.until(/agent part-c: the controller of run \S+ is gone \(no heartbeat for 5s\): stopping its workers\n[\s\S]*run \S+ aborted; waiting for runs/, 30_000);
    a.child.kill('SIGTERM');
    assert.equal(await a.exit, 0);
  } finally {
    killProcesses();
    link.remove();
    await redis.stop();
  }
});
