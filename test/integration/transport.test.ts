// The transport base both engines' dispatch handlers build on, driven by a
// real undici Agent against real servers: the callback-order rules (1xx
// skipped, settle once, abort before start or mid-body, the in-flight slot
// freed as it settles) and which wire error is which.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, errors } from 'undici';
import { TransportHandler, type Controller } from '../../src/engines/transport/handler.js';
import { InFlight } from '../../src/engines/transport/in-flight.js';
import { codeOf, wireFailure } from '../../src/engines/transport/errors.js';
import { startServer } from '../helpers/http-helpers.js';
import { freePort } from '../helpers/free-port.js';

/** Writes down what the base hands on, and settles `done` at the end or the failure. */
class Recorder extends TransportHandler {
  readonly log: string[] = [];
  /** What it failed with. */
  error: unknown;
  readonly done: Promise<void>;
  private settle!: () => void;
  /** Aborts with this reason at the first chunk, when set. */
  abortAtFirstChunk: Error | undefined;
  constructor(inFlight: InFlight<TransportHandler>) {
    super(inFlight);
    this.done = new Promise((resolve) => (this.settle = resolve));
  }
  protected onHead(statusCode: number, headers: IncomingHttpHeaders): void {
    this.log.push(`head ${statusCode} ${headers['x-final'] ?? ''}`);
  }
  protected onChunk(_c: Controller, chunk: Buffer): void {
    this.log.push(`chunk ${chunk.toString()}`);
    if (this.abortAtFirstChunk) this.abort(this.abortAtFirstChunk);
  }
  protected onEnd(): void {
    this.log.push('end');
    this.settle();
  }
  protected onFailure(error: unknown): void {
    this.log.push(`failure ${(error as Error).message}`);
    this.error = error;
    this.settle();
  }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('TransportHandler: a 103 before the answer is skipped; the answer settles once and leaves its slot', async () => {
  const server = await startServer((_req, res) => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
    res.writeHead(200, { 'x-final': 'yes' });
    res.end('body');
  });
  const agent = new Agent();
  try {
    const inFlight = new InFlight<TransportHandler>();
    const h = new Recorder(inFlight);
    assert.equal(inFlight.items().length, 1);
    agent.dispatch({ origin: server.origin, path: '/', method: 'GET' }, h);
    await h.done;
    assert.deepEqual(inFlight.items(), [], 'the slot is freed at the end');
    h.abort(new Error('too late'));
    h.onResponseError(undefined, new Error('late error'));
    assert.deepEqual(h.log, ['head 200 yes', 'chunk body', 'end']);
  } finally {
    await agent.close();
    await server.close();
  }
});

test('TransportHandler: aborted before undici starts it, the request is aborted at its start and fails once', async () => {
  let requests = 0;
  const server = await startServer((_req, res) => {
    requests++;
    res.end('never read');
  });
  const agent = new Agent();
  try {
    const inFlight = new InFlight<TransportHandler>();
    const h = new Recorder(inFlight);
    h.abort(new Error('stopped early'));
    assert.deepEqual(inFlight.items(), []);
    agent.dispatch({ origin: server.origin, path: '/', method: 'GET' }, h);
    await h.done;
    await wait(50);
    assert.deepEqual(h.log, ['failure stopped early'], 'undici reporting the abort back does not fail it twice');
    assert.equal(requests, 0, 'nothing reached the server');
  } finally {
    await agent.close();
    await server.close();
  }
});

test('TransportHandler: aborted mid-body, no chunk follows, it fails once with the reason and leaves its slot', async () => {
  const server = await startServer((_req, res) => {
    res.writeHead(200);
    res.write('one');
    setTimeout(() => res.end('two'), 50);
  });
  const agent = new Agent();
  try {
    const inFlight = new InFlight<TransportHandler>();
    const h = new Recorder(inFlight);
    h.abortAtFirstChunk = new Error('enough');
    agent.dispatch({ origin: server.origin, path: '/', method: 'GET' }, h);
    await h.done;
    await wait(100);
    assert.deepEqual(h.log, ['head 200 ', 'chunk one', 'failure enough']);
    assert.deepEqual(inFlight.items(), []);
  } finally {
    await agent.close();
    await server.close();
  }
});

test('TransportHandler: a connection cut mid-body fails once (no end); a later abort or chunk changes nothing', async () => {
  const server = await startServer((_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('half');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  const agent = new Agent();
  try {
    const inFlight = new InFlight<TransportHandler>();
    const h = new Recorder(inFlight);
    agent.dispatch({ origin: server.origin, path: '/', method: 'GET' }, h);
    await h.done;
    h.abort(new Error('after the failure'));
    h.onResponseData(undefined as never, Buffer.from('late'));
    assert.deepEqual(h.log, ['head 200 ', 'chunk half', 'failure other side closed'], 'no chunk is handed on after the failure');
    assert.deepEqual(inFlight.items(), []);
    assert.deepEqual(wireFailure(h.error), { kind: 'other', code: 'UND_ERR_SOCKET' });
  } finally {
    await agent.close();
    await server.close();
  }
});

/** The error a real dispatch fails with. */
async function failureOf(agent: Agent, opts: Parameters<Agent['dispatch']>[0]): Promise<unknown> {
  const h = new Recorder(new InFlight());
  agent.dispatch(opts, h);
  await h.done;
  return h.error;
}

test('wireFailure: nobody listening is unreachable, a silent server a response timeout', async () => {
  const silent = await startServer(() => {});
  const agent = new Agent();
  try {
    const refused = await failureOf(agent, { origin: `http://127.0.0.1:${await freePort()}`, path: '/', method: 'GET' });
    assert.deepEqual(wireFailure(refused), { kind: 'unreachable', code: 'ECONNREFUSED' });
    const timedOut = await failureOf(agent, { origin: silent.origin, path: '/', method: 'GET', headersTimeout: 100 });
    assert.deepEqual(wireFailure(timedOut), { kind: 'response-timeout', code: 'UND_ERR_HEADERS_TIMEOUT' });
  } finally {
    await agent.close();
    await silent.close();
  }
});

test('wireFailure: undici connect timeouts, codes inside an AggregateError or a cause, and errors without a code', () => {
  assert.deepEqual(wireFailure(new errors.ConnectTimeoutError()), { kind: 'connect-timeout', code: 'UND_ERR_CONNECT_TIMEOUT' });
  assert.deepEqual(wireFailure(new errors.BodyTimeoutError()), { kind: 'response-timeout', code: 'UND_ERR_BODY_TIMEOUT' });
  const perAddress = (code: string) => Object.assign(new Error(`connect ${code}`), { code });
  assert.deepEqual(wireFailure(new AggregateError([new Error('no code'), perAddress('EHOSTUNREACH')])), { kind: 'unreachable', code: 'EHOSTUNREACH' });
  assert.equal(codeOf(new Error('wrapped', { cause: perAddress('ENOTFOUND') })), 'ENOTFOUND');
  assert.deepEqual(wireFailure(new Error('redirect to an invalid URL: http://[')), { kind: 'other', code: undefined });
  assert.deepEqual(wireFailure('a string reason'), { kind: 'other', code: undefined });
  assert.deepEqual(wireFailure(undefined), { kind: 'other', code: undefined });
});
