// Redirect rules and aborts of the HTTP engine's exchange, which follows
// redirects itself: methods and bodies change per hop as browsers change them,
// only the safe headers (or those `redirectHeaders` names) reach another
// origin, a loop is named by its URLs; and a step signal must end a request
// still queued for a socket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { createHttpEngine } from '../../src/engines/http/index.js';
import { StepFailure, type Engine } from '../../src/contract/engine.js';
import { makeRun, makeWorker, readBody, runStep, startServer, type TestRun, type TestServer } from '../helpers/http-helpers.js';

describe('http engine redirects and aborts', () => {
  let server: TestServer;
  let other: TestServer;
  let t: TestRun;
  let engine: Engine;

  before(async () => {
    // A second origin, to see which headers survive a cross-origin hop.
    other = await startServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url, authorization: req.headers.authorization ?? null }));
    });
    server = await startServer((req, res) => {
      void (async () => {
        const body = await readBody(req);
        const path = req.url ?? '/';
        if (path === '/see-other') res.writeHead(303, { location: '/echo' }).end();
        else if (path === '/temporary') res.writeHead(307, { location: '/echo' }).end('moved, body ignored');
        else if (path === '/away') res.writeHead(302, { location: `${other.origin}/there` }).end();
        else if (path === '/hang')
          return; // never answers
        else {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ method: req.method, path, body, authorization: req.headers.authorization ?? null }));
        }
      })();
    });
    t = makeRun(`
name: redirect rules
target: ${server.origin}
http: { connections: 1 }
scenario:
  - name: post see other
    request: { method: POST, url: /see-other, json: { a: 1 } }
  - name: post temporary
    request: { method: POST, url: /temporary, body: keep me }
  - name: cross origin
    request: { url: /away, headers: { authorization: Bearer secret } }
  - name: hang
    timeout: 2s
    request: GET /hang
  - name: queued
    timeout: 200ms
    request: GET /echo
`);
    engine = createHttpEngine(t.run);
  });

  after(async () => {
    await engine?.close();
    await server?.close();
    await other?.close();
  });

  async function run(name: string) {
    const worker = makeWorker(t.plan, 0);
    const details = await runStep(engine, t, name, { worker });
    return { details: details || {}, response: worker.lastResponse! };
  }

  test('a 303 turns a POST into a GET without its body', { timeout: 5000 }, async () => {
    const { details, response } = await run('post see other');
    assert.deepEqual(JSON.parse(response.body), { method: 'GET', path: '/echo', body: '', authorization: null });
    assert.equal(response.url, `${server.origin}/echo`);
    assert.equal(details.http?.status, 200);
    assert.equal(details.http?.url, `${server.origin}/see-other`);
  });

  test('a 307 keeps the method and the body; the 3xx body is not the response', { timeout: 5000 }, async () => {
    const { response } = await run('post temporary');
    assert.deepEqual(JSON.parse(response.body), { method: 'POST', path: '/echo', body: 'keep me', authorization: null });
    assert.equal(response.bytes, Buffer.byteLength(response.body));
  });

  test('a cross-origin hop drops the authorization header', { timeout: 5000 }, async () => {
    const { response } = await run('cross origin');
    assert.deepEqual(JSON.parse(response.body), { path: '/there', authorization: null });
    assert.equal(response.url, `${other.origin}/there`);
  });

  test('a request queued behind a busy socket still ends at its step timeout', { timeout: 5000 }, async () => {
    // One socket: "hang" holds it, so "queued" waits in undici's queue until its own 200 ms run out.
    const hanging = run('hang').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    const err = await run('queued').catch((e: unknown) => e);
    const waited = performance.now() - started;
    assert.ok(err instanceof StepFailure, `expected a StepFailure, got ${String(err)}`);
    assert.equal(err.code, 'timeout');
    assert.match(err.message, new RegExp(`^timed out after 200ms waiting for GET ${server.origin}/echo`));
    assert.ok(waited < 1500, `the queued request ended after ${waited.toFixed(0)} ms, not at its 200 ms timeout`);
    const hung = await hanging;
    assert.ok(hung instanceof StepFailure && hung.code === 'timeout');
  });
});

describe('http engine: which headers a redirect carries', () => {
  let server: TestServer;
  let other: TestServer;

  before(async () => {
    // Both origins answer /headers with what they received, so the test sees exactly what arrived.
    const echo = async (req: http.IncomingMessage, res: http.ServerResponse) => {
      const body = await readBody(req);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, body, headers: req.headers }));
    };
    other = await startServer((req, res) => {
      if (req.url === '/back') res.writeHead(302, { location: `${server.origin}/bounce` }).end();
      else void echo(req, res);
    });
    server = await startServer((req, res) => {
      const path = req.url ?? '/';
      const away = /^\/to-other\/(\d+)$/.exec(path);
      const same = /^\/same\/(\d+)$/.exec(path);
      if (away) res.writeHead(Number(away[1]), { location: `${other.origin}/headers` }).end();
      else if (same) res.writeHead(Number(same[1]), { location: '/headers' }).end();
      else if (path === '/loop/a') res.writeHead(302, { location: '/loop/b' }).end();
      else if (path === '/loop/b') res.writeHead(301, { location: '/loop/a' }).end();
      else if (path === '/bounce') res.writeHead(302, { location: `${other.origin}/back` }).end();
      else void echo(req, res);
    });
  });

  after(async () => {
    await server?.close();
    await other?.close();
  });

  const STEP_HEADERS = '{ accept: application/json, user-agent: planrun-test, cookie: session=s1, x-trace: t1 }';
  const plan = (http: string, steps: string) =>
    makeRun(`
name: redirect headers
target: ${server.origin}
http: { connections: 1, headers: { authorization: Bearer plan-token, x-api-key: plan-key, accept-language: fr }${http} }
scenario:
${steps}
`);

  async function run(t: TestRun, name: string) {
    const engine = createHttpEngine(t.run);
    const worker = makeWorker(t.plan, 0);
    try {
      await runStep(engine, t, name, { worker });
      return { response: worker.lastResponse!, received: JSON.parse(worker.lastResponse!.body) as { method: string; body: string; headers: http.IncomingHttpHeaders } };
    } finally {
      await engine.close();
    }
  }

  /** What undici itself adds to every request (not the plan's). */
  const transport = (origin: TestServer, bodyBytes?: number) => ({
    host: `127.0.0.1:${origin.port}`,
    connection: 'keep-alive',
    ...(bodyBytes !== undefined ? { 'content-length': String(bodyBytes) } : {}),
  });

  test('to another origin only accept, accept-language, user-agent (and content-type with a 307 body) arrive', { timeout: 5000 }, async () => {
    const t = plan(
      '',
      `  - name: post 307
    request: { method: POST, url: /to-other/307, body: payload, headers: ${STEP_HEADERS} }
  - name: post 302
    request: { method: POST, url: /to-other/302, body: payload, headers: ${STEP_HEADERS} }`,
    );
    const kept = await run(t, 'post 307');
    assert.equal(kept.response.url, `${other.origin}/headers`);
    assert.deepEqual(kept.received, {
      method: 'POST',
      body: 'payload',
      headers: { ...transport(other, 7), accept: 'application/json', 'accept-language': 'fr', 'user-agent': 'planrun-test', 'content-type': 'text/plain; charset=utf-8' },
    });
    // A 302 turns the POST into a GET: the body is gone, and its content-type with it.
    const dropped = await run(t, 'post 302');
    assert.deepEqual(dropped.received, {
      method: 'GET',
      body: '',
      headers: { ...transport(other), accept: 'application/json', 'accept-language': 'fr', 'user-agent': 'planrun-test' },
    });
  });

  test('redirectHeaders: keep carries every header; a list carries those too', { timeout: 5000 }, async () => {
    const t = plan(
      '',
      `  - name: keep
    request: { url: /to-other/302, headers: ${STEP_HEADERS}, redirectHeaders: keep }
  - name: list
    request: { url: /to-other/302, headers: ${STEP_HEADERS}, redirectHeaders: [X-Trace, Cookie] }`,
    );
    const all = { accept: 'application/json', 'accept-language': 'fr', 'user-agent': 'planrun-test' };
    assert.deepEqual((await run(t, 'keep')).received.headers, {
      ...transport(other),
      ...all,
      authorization: 'Bearer plan-token',
      'x-api-key': 'plan-key',
      cookie: 'session=s1',
      'x-trace': 't1',
    });
    assert.deepEqual((await run(t, 'list')).received.headers, { ...transport(other), ...all, cookie: 'session=s1', 'x-trace': 't1' });
  });

  test("http.redirectHeaders is the default of every step; a step's own list wins", { timeout: 5000 }, async () => {
    const t = plan(
      ', redirectHeaders: [x-api-key]',
      `  - name: plan default
    request: { url: /to-other/302 }
  - name: step says none
    request: { url: /to-other/302, redirectHeaders: [] }`,
    );
    assert.deepEqual((await run(t, 'plan default')).received.headers, { ...transport(other), 'accept-language': 'fr', 'x-api-key': 'plan-key' });
    assert.deepEqual((await run(t, 'step says none')).received.headers, { ...transport(other), 'accept-language': 'fr' });
  });

  test('a redirect within the origin carries every header', { timeout: 5000 }, async () => {
    const t = plan(
      '',
      `  - name: same origin
    request: { method: POST, url: /same/307, body: payload, headers: ${STEP_HEADERS} }`,
    );
    const { response, received } = await run(t, 'same origin');
    assert.equal(response.url, `${server.origin}/headers`);
    assert.deepEqual(received, {
      method: 'POST',
      body: 'payload',
      headers: {
        ...transport(server, 7),
        accept: 'application/json',
        'accept-language': 'fr',
        'user-agent': 'planrun-test',
        'content-type': 'text/plain; charset=utf-8',
        authorization: 'Bearer plan-token',
        'x-api-key': 'plan-key',
        cookie: 'session=s1',
        'x-trace': 't1',
      },
    });
  });

  test("a redirect loop fails the step with the loop's URLs", { timeout: 5000 }, async () => {
    const t = plan(
      '',
      `  - name: loop
    request: GET /loop/a
  - name: loop across origins
    request: GET /bounce`,
    );
    await assert.rejects(run(t, 'loop'), (err: unknown) => {
      assert.ok(err instanceof StepFailure, String(err));
      assert.equal(err.code, 'http');
      assert.equal(err.message, `redirect loop: ${server.origin}/loop/a → /loop/b → /loop/a`);
      return true;
    });
    await assert.rejects(run(t, 'loop across origins'), {
      message: `redirect loop: ${server.origin}/bounce → ${other.origin}/back → /bounce`,
    });
  });
});
