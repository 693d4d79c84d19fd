// The HTTP engine against a real node:http server on 127.0.0.1: requests,
// templates, redirects, captures, expectations, failures and keep-alive.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { createHttpEngine } from '../../src/engines/http/index.js';
import { StepFailure, type Engine } from '../../src/contract/engine.js';
import { makeRun, makeStep, makeWorker, readBody, runStep, startServer, stepNamed, type TestRun, type TestServer } from '../helpers/http-helpers.js';

const USER_JSON = JSON.stringify({ user: { id: 42, name: 'Ada', tags: ['admin', 'ops'] }, items: [{ sku: 'a1' }, { sku: 'b2' }] });

async function handler(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  if (path === '/echo' || path.startsWith('/api/')) {
    const body = await readBody(req);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, path, query: Object.fromEntries(url.searchParams), headers: req.headers, body }));
    return;
  }
  const hop = /^\/hop\/(\d+)$/.exec(path);
  if (hop) {
    const n = Number(hop[1]);
    if (n === 0) res.end('arrived');
    else {
      res.writeHead(302, { location: `/hop/${n - 1}` });
      res.end('moving on');
    }
    return;
  }
  const status = /^\/status\/(\d+)$/.exec(path);
  if (status) {
    res.writeHead(Number(status[1]), { 'content-type': 'text/plain' });
    res.end('Internal   failure:\n database is down and this body goes on for a while so the excerpt must cut it somewhere before the end of all of this text');
    return;
  }
  if (path === '/user') {
    res.writeHead(200, { 'content-type': 'application/json', 'x-token': 'tok-123' });
    res.end(USER_JSON);
    return;
  }
  if (path === '/html') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><input name="csrf" value="c-789"></html>');
    return;
  }
  if (path === '/slow') return; // never answers: the step's timeout or the run's abort ends it
  res.end('home');
}

const PLAN_HEAD = (target: string) => `
name: http engine test
target: ${target}
vars: { tenant: acme }
http:
  headers: { x-run: "{{ run.id }}", x-who: plan }
  maxRedirects: 3
`;

describe('http engine', () => {
  let server: TestServer;
  let t: TestRun;
  let engine: Engine;

  before(async () => {
    server = await startServer((req, res) => void handler(req, res));
    t = makeRun(`${PLAN_HEAD(server.origin)}
scenario:
  - request: GET /
  - name: echo get
    request:
      url: /echo
      headers: { x-who: "worker {{ worker.id }}", x-tenant: "{{ vars.tenant }}" }
      query: { round: "{{ round }}", q: "a b&c" }
  - name: post json
    request: { method: POST, url: "/api/items", json: { name: "item {{ round }}", count: 3, tags: [a, "{{ vars.tenant }}"] } }
  - name: post form
    request: { method: POST, url: /api/form, form: { user: "w{{ worker.id }}", note: "x=1&y" } }
  - name: post raw
    request: { method: PUT, url: /api/raw, body: "plain {{ round }}", headers: { content-type: text/csv } }
  - name: absolute
    request: GET ${server.origin}/echo
  - name: redirects
    request: GET /hop/3
  - name: too many redirects
    request: GET /hop/4
  - name: step redirect limit
    request: { url: /hop/2, maxRedirects: 1 }
  - name: no redirects
    request: { url: /hop/2, maxRedirects: 0 }
  - name: captures
    request:
      url: /user
      capture:
        id: { json: $.user.id }
        second: { json: items.1.sku }
        token: { header: X-Token }
        status: { status: true }
  - name: regex capture
    request: { url: /html, capture: { csrf: { regex: 'name="csrf" value="([^"]+)"' } } }
  - name: bad capture path
    request: { url: /user, capture: { bad: { json: "$.user[" } } }
  - name: missing capture
    request: { url: /user, capture: { nope: { json: $.user.email } } }
  - name: server error
    request: GET /status/500
  - name: wrong status
    request: { url: /user, expect: { status: [201, 204] } }
  - name: many expectations
    request:
      url: /user
      expect:
        status: 2xx
        headers: { content-type: { contains: json }, x-token: tok-999 }
        json: { "$.user.id": { gt: 50 }, "$.user.tags": { contains: admin }, "$.user.name": { matches: "^A" } }
        body: { notContains: Ada }
  - name: all good
    request:
      url: /user
      expect: { status: 200, headers: { x-token: tok-123 }, json: { "$.user.id": 42, "$.items[-1].sku": b2 }, body: Ada, duration: 5s }
  - name: slow
    timeout: 200ms
    request: GET /slow
`);
    engine = createHttpEngine(t.run);
  });

  after(async () => {
    await engine?.close();
    await server?.close();
  });

  async function run(name: string, workerId = 0, round = 1) {
    const worker = makeWorker(t.plan, workerId);
    return { details: await runStep(engine, t, name, { worker, round }), worker };
  }

  async function failure(name: string): Promise<StepFailure> {
    try {
      await run(name);
    } catch (e) {
      assert.ok(e instanceof StepFailure, `expected a StepFailure, got ${String(e)}`);
      return e;
    }
    assert.fail(`step "${name}" should have failed`);
  }

  test('GET relative to the target; details and last response', { timeout: 5000 }, async () => {
    const { details, worker } = await run('GET /');
    assert.deepEqual(details, { http: { method: 'GET', url: `${server.origin}/`, status: 200, bytes: 4 } });
    assert.equal(worker.lastResponse?.body, 'home');
    assert.equal(worker.lastResponse?.url, `${server.origin}/`);
    assert.ok((worker.lastResponse?.durationMs ?? -1) >= 0);
  });

  test('headers and query rendered from templates; plan headers first, step headers win', { timeout: 5000 }, async () => {
    const { worker } = await run('echo get', 0, 7);
    const echo = JSON.parse(worker.lastResponse!.body);
    assert.equal(echo.headers['x-run'], 'run-1');
    assert.equal(echo.headers['x-who'], 'worker 0');
    assert.equal(echo.headers['x-tenant'], 'acme');
    assert.deepEqual(echo.query, { round: '7', q: 'a b&c' });
    // Another worker and round render differently through the same compiled step.
    const other = JSON.parse((await run('echo get', 0, 8)).worker.lastResponse!.body);
    assert.equal(other.query.round, '8');
  });

  test('POST json, form and raw bodies with their content types', { timeout: 5000 }, async () => {
    const json = JSON.parse((await run('post json', 0, 2)).worker.lastResponse!.body);
    assert.equal(json.method, 'POST');
    assert.equal(json.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(json.body), { name: 'item 2', count: 3, tags: ['a', 'acme'] });

    const form = JSON.parse((await run('post form')).worker.lastResponse!.body);
    assert.equal(form.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(form.body)), { user: 'w0', note: 'x=1&y' });

    const raw = JSON.parse((await run('post raw', 0, 5)).worker.lastResponse!.body);
    assert.equal(raw.method, 'PUT');
    assert.equal(raw.headers['content-type'], 'text/csv');
    assert.equal(raw.body, 'plain 5');
  });

  test('absolute URLs are used as they are', { timeout: 5000 }, async () => {
    const { details } = await run('absolute');
    assert.equal(details?.http?.url, `${server.origin}/echo`);
  });

  test('redirects are followed up to the limit, then fail', { timeout: 5000 }, async () => {
    const { worker, details } = await run('redirects');
    assert.equal(worker.lastResponse?.body, 'arrived');
    assert.equal(worker.lastResponse?.url, `${server.origin}/hop/0`);
    assert.equal(details?.http?.url, `${server.origin}/hop/3`);

    const tooMany = await failure('too many redirects');
    assert.equal(tooMany.code, 'http');
    assert.equal(tooMany.message, `too many redirects: stopped after 3 (maxRedirects: 3); ${server.origin}/hop/1 answered 302 → /hop/0`);

    const stepLimit = await failure('step redirect limit');
    assert.equal(stepLimit.message, `too many redirects: stopped after 1 (maxRedirects: 1); ${server.origin}/hop/1 answered 302 → /hop/0`);

    // maxRedirects: 0 makes the redirect itself the response (a 3xx passes the default expectation).
    const none = await run('no redirects');
    assert.equal(none.details?.http?.status, 302);
    assert.equal(none.worker.lastResponse?.headers.location, '/hop/1');
  });

  test('captures from JSON paths, headers, status and regex groups', { timeout: 5000 }, async () => {
    const { worker } = await run('captures');
    assert.deepEqual(worker.captures, { id: 42, second: 'b2', token: 'tok-123', status: 200 });
    const html = await run('regex capture');
    assert.deepEqual(html.worker.captures, { csrf: 'c-789' });
  });

  test('a capture with nothing at its path fails with code capture', { timeout: 5000 }, async () => {
    const f = await failure('missing capture');
    assert.equal(f.code, 'capture');
    assert.match(f.message, /^capture "nope": nothing at \$\.user\.email in the JSON body of http:\/\/127\.0\.0\.1:\d+\/user \(body: "\{\\"user\\":/);
    assert.deepEqual(f.extra.http, { method: 'GET', url: `${server.origin}/user`, status: 200, bytes: Buffer.byteLength(USER_JSON) });
  });

  test('a malformed capture path fails the step with code capture', { timeout: 5000 }, async () => {
    const f = await failure('bad capture path');
    assert.equal(f.code, 'capture');
    assert.equal(f.message, 'capture "bad": JSON path "$.user[": "[" at 7 is never closed');
  });

  test('expectation failures say what was expected and what came', { timeout: 5000 }, async () => {
    const f = await failure('server error');
    assert.equal(f.code, 'expectation');
    assert.equal(
      f.message,
      `GET ${server.origin}/status/500: expected status 2xx or 3xx, got 500 (body: "Internal failure: database is down and this body goes on for a while so the excerpt must cut it somewhere before the…")`,
    );
    assert.equal(f.extra.http?.status, 500);

    const wrong = await failure('wrong status');
    assert.match(wrong.message, /: expected status 201 or 204, got 200 \(body: /);

    const many = await failure('many expectations');
    assert.equal(
      many.message,
      [
        `GET ${server.origin}/user: header x-token: expected "tok-999", got "tok-123"`,
        `body: expected a value not containing "Ada", got "{\\"user\\":{\\"id\\":42,\\"name\\":\\"Ada\\",\\"tags\\":[\\"admin\\",\\"ops\\"]},\\"items\\":[{\\"sku\\":\\"a1\\"},{\\"sku\\":\\"b2\\"}]}"`,
        'json $.user.id: expected a number > 50, got 42',
      ].join('; '),
    );
    await run('all good');
  });

  test('a step that outlives its timeout fails with code timeout, not a crash', { timeout: 5000 }, async () => {
    const started = performance.now();
    const f = await failure('slow');
    assert.equal(f.code, 'timeout');
    assert.equal(f.message.replace(/waited \d+ms/, 'waited Nms'), `timed out after 200ms waiting for GET ${server.origin}/slow (step timeout; waited Nms)`);
    assert.ok(performance.now() - started < 2000);
  });
});

describe('http engine failures and connections', () => {
  test('a step times out at its limit even when its signal never fires', { timeout: 5000 }, async () => {
    const server = await startServer(() => {});
    const t = makeRun(`name: lost timer\ntarget: ${server.origin}\nscenario:\n  - name: hangs\n    timeout: 300ms\n    request: GET /hang\n`);
    const engine = createHttpEngine(t.run);
    const ctx = makeStep(t, makeWorker(t.plan), stepNamed(t.plan, 'hangs'));
    // A signal that never aborts, as when the runtime's timeout signal was collected too early.
    const silent = { ...ctx, signal: new AbortController().signal };
    const started = performance.now();
    try {
      await assert.rejects(engine.execute(silent), (e: StepFailure) => {
        assert.equal(e.code, 'timeout');
        assert.match(e.message, new RegExp(`^timed out after 300ms waiting for GET ${server.origin}/hang \\(step timeout; waited \\d+ms\\)$`));
        return true;
      });
      assert.ok(performance.now() - started < 2000);
    } finally {
      ctx.dispose();
      await engine.close();
      await server.close();
    }
  });

  test('connection refused names the host and the code', { timeout: 5000 }, async () => {
    const t = makeRun('name: refused\ntarget: http://127.0.0.1:9\nscenario:\n  - request: GET /health\n');
    const engine = createHttpEngine(t.run);
    try {
      await assert.rejects(runStep(engine, t, 'GET /health'), (e: StepFailure) => {
        assert.equal(e.code, 'connect');
        assert.equal(e.message, 'cannot connect to 127.0.0.1:9 (ECONNREFUSED) for GET http://127.0.0.1:9/health: is the server running and the target right?');
        assert.deepEqual(e.extra.http, { method: 'GET', url: 'http://127.0.0.1:9/health', bytes: 0 });
        return true;
      });
    } finally {
      await engine.close();
    }
  });

  test('stopping the run aborts a request in flight with code aborted', { timeout: 5000 }, async () => {
    const server = await startServer(() => {});
    const t = makeRun(`name: abort\ntarget: ${server.origin}\nscenario:\n  - request: GET /hang\n`);
    const engine = createHttpEngine(t.run);
    try {
      setTimeout(() => t.abort(), 100);
      await assert.rejects(runStep(engine, t, 'GET /hang'), (e: StepFailure) => {
        assert.equal(e.code, 'aborted');
        assert.equal(e.message, `stopped: the run was aborted during GET ${server.origin}/hang`);
        return true;
      });
    } finally {
      await engine.close();
      await server.close();
    }
  });

  async function sequential(connections: number): Promise<number> {
    const server = await startServer((_req, res) => res.end('ok'));
    const t = makeRun(`name: keep-alive\ntarget: ${server.origin}\nworkers: 4\nhttp: { connections: ${connections} }\nscenario:\n  - request: GET /\n`);
    const engine = createHttpEngine(t.run);
    const worker = makeWorker(t.plan);
    try {
      for (let i = 0; i < 200; i++) assert.equal((await runStep(engine, t, 'GET /', { worker, round: i + 1 }))?.http?.status, 200);
      return server.connections();
    } finally {
      await engine.close();
      await server.close();
    }
  }

  test('one worker doing 200 sequential requests keeps its connection alive', { timeout: 15000 }, async () => {
    assert.equal(await sequential(1), 1);
    // With spare connections, undici parks a socket for one event-loop turn after
    // each response before reusing it (client-h1.js: "wait a full event loop
    // cycle"), so a loop with no pause in between alternates between two sockets.
    // Still keep-alive: 2 connections for 200 requests, not 200.
    assert.ok((await sequential(4)) <= 2);
  });

  test('a relative URL without a target is a clear step failure', { timeout: 5000 }, async () => {
    // The loader refuses a literal relative URL without a target; a rendered one is only known at run time.
    const t = makeRun('name: no target\nvars: { path: /x }\nscenario:\n  - name: templated\n    request: GET {{ vars.path }}\n');
    const engine = createHttpEngine(t.run);
    try {
      await assert.rejects(runStep(engine, t, 'templated'), {
        code: 'http',
        message: 'the URL "/x" is relative but the plan has no `target:`; set one or write an absolute http:// URL',
      });
    } finally {
      await engine.close();
    }
  });
});
