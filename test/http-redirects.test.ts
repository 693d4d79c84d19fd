// Redirect rules and aborts of the HTTP engine's exchange: a plain response
// goes straight to the Agent, a redirecting one hands over to undici's
// RedirectHandler, so methods, bodies and headers must still change per hop
// as undici's redirect interceptor changes them; and a step signal must end a
// request still queued for a socket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { createHttpEngine } from '../src/engines/http/index.js';
import { StepFailure, type Engine } from '../src/runtime/context.js';
import { makeRun, makeStep, makeWorker, readBody, startServer, stepNamed, type TestRun, type TestServer } from './http-helpers.js';

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
        else if (path === '/hang') return; // never answers
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
    const ctx = makeStep(t, worker, stepNamed(t.plan, name));
    try {
      const details = await engine.execute(ctx);
      return { details: details || {}, response: worker.lastResponse! };
    } finally {
      ctx.dispose();
    }
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
