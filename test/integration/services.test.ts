// startServices against real child processes: readiness by URL and by log line,
// early exits and timeouts with the tail of the log, and nothing left running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceSpec } from '../../src/contract/plan.js';
import type { RunEvent } from '../../src/contract/events.js';
import { groupMembers, startServices } from '../../src/services/start-services.js';
import { freePort } from '../helpers/free-port.js';

const loc = { file: 'test.yml', line: 1, col: 1 };

function spec(over: Partial<ServiceSpec> & { name: string; command: string }): ServiceSpec {
  return { cwd: process.cwd(), env: {}, timeoutMs: 10_000, loc, ...over };
}

/** Alive = has a /proc entry that is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

async function withDir<T>(fn: (dir: string, events: RunEvent[]) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'planrun-services-'));
  try {
    return await fn(dir, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const HTTP_SERVER = `node -e "require('http').createServer((q,s)=>s.end('ok')).listen(+process.env.PORT,'127.0.0.1',()=>console.log('listening'))"`;

test('ready when its URL answers; output in services/<name>.log; stop ends it', { timeout: 30_000 }, () =>
  withDir(async (dir, events) => {
    const port = await freePort();
    const services = await startServices([spec({ name: 'web', command: `echo booting; ${HTTP_SERVER}`, env: { PORT: String(port) }, readyUrl: `http://127.0.0.1:${port}/` })], {
      reportDir: dir,
      emit: (e) => events.push(e),
    });
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), 'ok');
    await services.stop();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
    const statuses = events.flatMap((e) => (e.type === 'service' ? [`${e.name}:${e.status}`] : []));
    assert.deepEqual(statuses, ['web:starting', 'web:ready', 'web:stopped']);
    // Its end by planrun's SIGTERM is no failure: the message says who stopped it.
    const last = events.at(-1);
    assert.equal(last?.type === 'service' ? last.message : undefined, 'stopped by planrun');
    const log = await readFile(join(dir, 'services', 'web.log'), 'utf8');
    assert.match(log, /booting/);
    assert.match(log, /listening/);
  }),
);

test('ready on a line of its output matching readyLog (stderr counts too)', { timeout: 30_000 }, () =>
  withDir(async (dir, events) => {
    const t0 = Date.now();
    const services = await startServices(
      [spec({ name: 'worker', command: 'echo warming up; sleep 0.3; echo "server is READY on 1234" >&2; sleep 60', readyLog: /READY on \d+/ })],
      { reportDir: dir, emit: (e) => events.push(e) },
    );
    assert.ok(Date.now() - t0 >= 250, 'not ready before the line');
    await services.stop();
    assert.equal(events.filter((e) => e.type === 'service' && e.status === 'ready').length, 1);
  }),
);

test('a service that exits early fails with its exit code and the tail of its log', { timeout: 30_000 }, () =>
  withDir(async (dir, events) => {
    const lines = Array.from({ length: 30 }, (_, i) => `echo line-${i + 1}`).join('; ');
    await assert.rejects(
      startServices([spec({ name: 'broken', command: `${lines}; echo "fatal: no config" >&2; exit 3`, readyUrl: 'http://127.0.0.1:9/' })], {
        reportDir: dir,
        emit: (e) => events.push(e),
      }),
      (e: Error) => {
        assert.match(e.message, /Service "broken" exited with code 3 before it was ready/);
        assert.match(e.message, /fatal: no config/);
        assert.match(e.message, /line-30/);
        assert.doesNotMatch(e.message, /line-5\b/, 'only the tail');
        assert.match(e.message, /services\/broken\.log/);
        return true;
      },
    );
    const failed = events.find((e) => e.type === 'service' && e.status === 'failed');
    assert.ok(failed && failed.type === 'service' && /exited with code 3/.test(failed.message ?? ''));
    // Reported failed once: its stop afterwards only says how it ended.
    assert.deepEqual(
      events.map((e) => (e.type === 'service' ? [e.status, e.status === 'starting' || e.status === 'failed' ? '…' : e.message] : [])),
      [
        ['starting', '…'],
        ['failed', '…'],
        ['stopped', 'exited with code 3'],
      ],
    );
  }),
);

test('never ready: a timeout error with the tail of its log, and its whole group killed', { timeout: 30_000 }, () =>
  withDir(async (dir, events) => {
    const pidFile = join(dir, 'pids');
    // The shell starts two background sleepers (same process group) and records every pid.
    const command = `sleep 120 & echo $! >> ${pidFile}; sleep 120 & echo $! >> ${pidFile}; echo $$ >> ${pidFile}; echo "still loading"; wait`;
    const t0 = Date.now();
    await assert.rejects(
      startServices([spec({ name: 'slow', command, readyLog: /never printed/, timeoutMs: 800 })], { reportDir: dir, emit: (e) => events.push(e) }),
      (e: Error) => {
        assert.match(e.message, /Service "slow" was not ready within 0\.8 s/);
        assert.match(e.message, /a line matching \/never printed\//);
        assert.match(e.message, /still loading/);
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 8000);
    const pids = (await readFile(pidFile, 'utf8')).trim().split('\n').map(Number);
    assert.equal(pids.length, 3);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} is gone`);
    assert.deepEqual(
      events.filter((e) => e.type === 'service').map((e) => (e.type === 'service' ? e.status : '')),
      ['starting', 'failed', 'stopped'],
    );
  }),
);

test('stop() kills the whole process group, SIGKILL for processes that ignore SIGTERM', { timeout: 30_000 }, () =>
  withDir(async (dir) => {
    const pidFile = join(dir, 'pids');
    const command = `sh -c 'trap "" TERM; echo $$ >> ${pidFile}; while true; do sleep 0.1; done' & ` + `sleep 300 & echo $! >> ${pidFile}; echo $$ >> ${pidFile}; echo up; wait`;
    const events: RunEvent[] = [];
    const services = await startServices([spec({ name: 'stubborn', command, readyLog: /^up$/ })], { reportDir: dir, emit: (e) => events.push(e) });
    let pids: number[] = [];
    let took = 0;
    try {
      // The background shell writes its pid on its own schedule: wait for all three.
      for (let i = 0; i < 100 && pids.length < 3; i++) {
        await new Promise((r) => setTimeout(r, 50));
        pids = (await readFile(pidFile, 'utf8')).trim().split('\n').map(Number);
      }
    } finally {
      const t0 = Date.now();
      await services.stop();
      took = Date.now() - t0;
    }
    assert.equal(pids.length, 3);
    const pgid = pids[2]!;
    assert.ok(took >= 4000, `waited for SIGTERM before SIGKILL (${took} ms)`);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} is gone`);
    assert.deepEqual(groupMembers(pgid), []);
    const last = events.at(-1);
    assert.deepEqual(last?.type === 'service' ? [last.status, last.message] : [], ['stopped', 'stopped by planrun (SIGKILL: still running 5 s after SIGTERM)']);
  }),
);

test('an aborted signal stops the services that were started', { timeout: 30_000 }, () =>
  withDir(async (dir, events) => {
    const ac = new AbortController();
    const pidFile = join(dir, 'pids');
    const started = startServices(
      [spec({ name: 'a', command: `echo $$ > ${pidFile}; echo ok; sleep 300`, readyLog: /ok/ }), spec({ name: 'b', command: 'sleep 300', readyLog: /never/ })],
      { reportDir: dir, emit: (e) => events.push(e), signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 500);
    await assert.rejects(started, /the run was stopped/);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    assert.equal(alive(pid), false);
    assert.deepEqual(groupMembers(pid), []);
  }),
);

test('a service that dies during the run, on its own or killed by someone else, is a failure with its exit and the tail of its log', { timeout: 30_000 }, () =>
  withDir(async (dir, events) => {
    const pidFile = join(dir, 'pid');
    const services = await startServices(
      [
        spec({ name: 'crashes', command: 'echo up; sleep 0.3; echo "panic: out of memory" >&2; exit 3', readyLog: /^up$/ }),
        spec({ name: 'victim', command: `echo $$ > ${pidFile}; echo up; exec sleep 300`, readyLog: /^up$/ }),
      ],
      { reportDir: dir, emit: (e) => events.push(e) },
    );
    process.kill(-Number((await readFile(pidFile, 'utf8')).trim()), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 800));
    await services.stop();
    const ends = events.flatMap((e) => (e.type === 'service' && (e.status === 'failed' || e.status === 'stopped') ? [e] : []));
    assert.deepEqual(
      ends.map((e) => [e.name, e.status, e.logFile]),
      [
        ['victim', 'failed', join('services', 'victim.log')],
        ['crashes', 'failed', join('services', 'crashes.log')],
      ],
    );
    assert.equal(
      ends[0]!.message,
      `Service "victim" was killed by SIGKILL during the run, before planrun stopped it. Last lines of its output (${join(dir, 'services', 'victim.log')}):\n  | up`,
    );
    assert.equal(
      ends[1]!.message,
      `Service "crashes" exited with code 3 during the run, before planrun stopped it. Last lines of its output (${join(dir, 'services', 'crashes.log')}):\n  | up\n  | panic: out of memory`,
    );
  }),
);

test('a service that ends cleanly on its own (exit 0, e.g. a launcher) is stopped, not failed', { timeout: 30_000 }, () =>
  withDir(async (dir, events) => {
    const services = await startServices([spec({ name: 'launcher', command: 'echo started in the background; sleep 0.2', readyLog: /started/ })], {
      reportDir: dir,
      emit: (e) => events.push(e),
    });
    await new Promise((r) => setTimeout(r, 600));
    await services.stop();
    const last = events.at(-1);
    assert.deepEqual(last?.type === 'service' ? [last.status, last.message] : [], ['stopped', 'exited with code 0 on its own']);
  }),
);

test('a missing working folder is a clear error before anything starts', { timeout: 10_000 }, () =>
  withDir(async (dir, events) => {
    await assert.rejects(
      startServices([spec({ name: 'nowhere', command: 'true', cwd: join(dir, 'missing') })], { reportDir: dir, emit: (e) => events.push(e) }),
      /Service "nowhere" cannot start: its working folder .*missing does not exist/,
    );
    assert.equal(events.length, 0);
  }),
);
