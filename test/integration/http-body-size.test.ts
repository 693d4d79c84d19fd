// Bounded response bodies: the HTTP engine keeps at most maxBodySize of a body
// (plan default, per-request override), counts the rest, and fails captures and
// body checks that would need the cut part with a message saying so. The server
// streams generated chunks (one shared buffer), so 200 MB costs the test no memory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { createHttpEngine } from '../../src/engines/http/index.js';
import { StepFailure, type Engine } from '../../src/contract/engine.js';
import { parsePlan } from '../../src/plan/load.js';
import { parseSize } from '../../src/plan/size.js';
import { formatSize } from '../../src/text/bytes.js';
import { makeRun, makeWorker, runStep, startServer, type TestRun, type TestServer } from '../helpers/http-helpers.js';

const MiB = 1024 * 1024;
const PAD = Buffer.alloc(64 * 1024, 'x');
const HEAD = Buffer.from('{"token":"t-1","pad":"');
const TAIL = Buffer.from('"}');

/** `/json/N`: a JSON object of exactly N bytes, `{"token":"t-1","pad":"xxx…"}`, written as the socket drains. */
async function handler(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const total = Number(/^\/json\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': total });
  res.write(HEAD);
  for (let left = total - HEAD.length - TAIL.length; left > 0 && !res.destroyed; ) {
    const n = Math.min(left, PAD.length);
    left -= n;
    if (!res.write(n === PAD.length ? PAD : PAD.subarray(0, n))) await drained(res);
  }
  res.end(TAIL);
}

/** Resolves when the response can take more, or is gone. */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

const TOKEN = `'"token":"([^"]+)"'`;

describe('response bodies past maxBodySize', () => {
  let server: TestServer;
  let t: TestRun;
  let small: TestRun;
  let engines: Engine[];

  before(async () => {
    server = await startServer((req, res) => void handler(req, res));
    t = makeRun(`
name: body size
target: ${server.origin}
scenario:
  - name: huge
    request: { url: /json/${200 * MiB}, expect: { status: 200, headers: { content-type: { contains: json } } } }
  - name: capture cut
    request: { url: /json/${2 * MiB}, capture: { token: { regex: ${TOKEN} }, whole: { body: true }, id: { json: $.token }, status: { status: true } } }
  - name: expect cut
    request: { url: /json/${2 * MiB}, expect: { status: 200, body: { contains: t-1 }, json: { $.token: t-1, $.pad: { exists: true } } } }
  - name: raised
    request: { url: /json/${2 * MiB}, maxBodySize: 2MiB, capture: { id: { json: $.token } }, expect: { body: t-1 } }
`);
    small = makeRun(`
name: small bodies
target: ${server.origin}
http: { maxBodySize: 10KB }
scenario:
  - name: plan limit
    request: { url: /json/20480, capture: { token: { regex: ${TOKEN} } } }
  - name: keep nothing
    request: { url: /json/20480, maxBodySize: 0 }
`);
    engines = [createHttpEngine(t.run), createHttpEngine(small.run)];
  });

  after(async () => {
    for (const e of engines ?? []) await e.close();
    await server?.close();
  });

  async function run(r: TestRun, name: string) {
    const engine = engines[r === t ? 0 : 1]!;
    const worker = makeWorker(r.plan);
    try {
      return { details: await runStep(engine, r, name, { worker }), worker, error: undefined };
    } catch (error) {
      assert.ok(error instanceof StepFailure, `expected a StepFailure, got ${String(error)}`);
      return { details: undefined, worker, error };
    }
  }

  const cut = (at: string, of: string) => `the body was cut at ${at} (of ${of} received); raise http.maxBodySize or the request's maxBodySize`;

  test('a 200 MB body: the step passes, reports every byte, keeps the first 1 MiB (the default)', { timeout: 60_000 }, async () => {
    const { details, worker, error } = await run(t, 'huge');
    assert.equal(error, undefined);
    assert.deepEqual(details, { http: { method: 'GET', url: `${server.origin}/json/${200 * MiB}`, status: 200, bytes: 200 * MiB } });
    const last = worker.lastResponse!;
    assert.equal(last.bytes, 200 * MiB);
    assert.equal(last.cutAt, MiB);
    assert.equal(last.body.length, MiB);
    assert.ok(last.body.startsWith('{"token":"t-1","pad":"xxx'));
  });

  test('captures that read a cut body fail and say why; the others are kept', { timeout: 10_000 }, async () => {
    const { worker, error } = await run(t, 'capture cut');
    assert.equal(error?.code, 'capture');
    const note = cut('1 MiB', '2 MiB');
    assert.equal(error?.message, [`capture "token": ${note}`, `capture "whole": ${note}`, `capture "id": ${note}`].join('; '));
    assert.deepEqual(worker.captures, { status: 200 });
    assert.deepEqual(error?.extra, { http: { method: 'GET', url: `${server.origin}/json/${2 * MiB}`, status: 200, bytes: 2 * MiB } });
  });

  test('body and json expectations on a cut body fail and say why; status and headers are still checked', { timeout: 10_000 }, async () => {
    const { error } = await run(t, 'expect cut');
    assert.equal(error?.code, 'expectation');
    const note = cut('1 MiB', '2 MiB');
    assert.equal(error?.message, `GET ${server.origin}/json/${2 * MiB}: body: expected a value containing "t-1", but ${note}; json: cannot read $.token, $.pad: ${note}`);
  });

  test("a request's maxBodySize overrides the plan's: a whole body is captured and checked", { timeout: 10_000 }, async () => {
    const { worker, error } = await run(t, 'raised');
    assert.equal(error, undefined);
    assert.equal(worker.captures.id, 't-1');
    assert.equal(worker.lastResponse?.cutAt, undefined);
    assert.equal(worker.lastResponse?.body.length, 2 * MiB);
  });

  test('http.maxBodySize sets the plan default; 0 keeps nothing and still counts every byte', { timeout: 10_000 }, async () => {
    const limited = await run(small, 'plan limit');
    assert.equal(limited.error?.message, `capture "token": ${cut('10 KiB', '20 KiB')}`);
    assert.equal(limited.worker.lastResponse?.body.length, 10 * 1024);
    const none = await run(small, 'keep nothing');
    assert.equal(none.error, undefined);
    assert.equal(none.details?.http?.bytes, 20480);
    assert.equal(none.worker.lastResponse?.body, '');
    assert.equal(none.worker.lastResponse?.cutAt, 0);
  });
});

test('sizes: bytes or binary units, case-insensitive; the schema rejects anything else', () => {
  assert.deepEqual([0, 1500, '512KB', '1MB', '1mib', '1.5 MiB', '2GB', '10 B', '3kb'].map(parseSize), [0, 1500, 512 * 1024, MiB, MiB, 1.5 * MiB, 2 * 1024 * MiB, 10, 3072]);
  assert.deepEqual([1.5, -1, '1TB', '1 M', 'MB', ''].map(parseSize), [undefined, undefined, undefined, undefined, undefined, undefined]);
  assert.deepEqual([0, 512, 1024, 1536, MiB, 200 * MiB, 1.25 * 1024 * MiB].map(formatSize), ['0 B', '512 B', '1 KiB', '1.5 KiB', '1 MiB', '200 MiB', '1.3 GiB']);
  assert.equal(parsePlan('name: x\nhttp: { maxBodySize: 4MB }\n', '/tmp/x.yml').http.maxBodySize, 4 * MiB);
  assert.equal(parsePlan('name: x\n', '/tmp/x.yml').http.maxBodySize, MiB);
  assert.throws(() => parsePlan('name: x\nhttp: { maxBodySize: 4TB }\n', '/tmp/x.yml'), /maxBodySize/);
});
